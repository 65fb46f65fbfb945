# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Stain tools against numpy references of their published formulas, on
synthetic tissue of known stains and on the real H&E tiles."""

import glob
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from xaijax.data import stain

EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(scope="module")
def tiles(shared_data):
  """Every real H&E tile (Kather 2016 and NCT-CRC-HE-100K), uint8 RGB."""
  paths = sorted(glob.glob(str(shared_data / "pathology" / "*" / "*" / "*")))
  assert len(paths) == 33
  return {
    os.path.basename(os.path.dirname(p)) + "/" + os.path.basename(p)[:12]: (
      np.asarray(Image.open(p).convert("RGB"))
    )
    for p in paths
  }


def _tissue(img, io=240.0, beta=0.15):
  """Pixels with optical density >= beta in every channel."""
  od = -np.log((img.reshape(-1, 3).astype(np.float64) + 1) / io)
  return int((~np.any(od < beta, axis=1)).sum())


def _stained(tiles):
  """The tiles the reference can process (it fails on fewer than 2 tissue
  pixels: the NCT background tile has none)."""
  return {k: v for k, v in tiles.items() if _tissue(v) >= 2}


def _macenko_reference(img, io=240.0, alpha=1.0, beta=0.15):
  """torchstain's numpy Macenko (from schaugf/HEnorm_python), float64."""
  h, w, _ = img.shape
  od = -np.log((img.reshape(-1, 3).astype(np.float64) + 1) / io)
  od_hat = od[~np.any(od < beta, axis=1)]
  _, vecs = np.linalg.eigh(np.cov(od_hat.T))
  t = od_hat @ vecs[:, 1:3]
  phi = np.arctan2(t[:, 1], t[:, 0])
  lo, hi = np.percentile(phi, alpha), np.percentile(phi, 100 - alpha)
  v_lo = vecs[:, 1:3] @ np.array([np.cos(lo), np.sin(lo)])
  v_hi = vecs[:, 1:3] @ np.array([np.cos(hi), np.sin(hi)])
  he = np.stack([v_lo, v_hi] if v_lo[0] > v_hi[0] else [v_hi, v_lo], axis=1)
  conc = np.linalg.lstsq(he, od.T, rcond=None)[0]
  max_c = np.percentile(conc, 99, axis=1)
  conc = conc / (max_c / stain.MAX_C_REF)[:, None]
  out = np.minimum(io * np.exp(-stain.HE_REF @ conc), 255)
  return he, max_c, out.T.reshape(h, w, 3)


# ---------------------------------------------------------------------------
# Macenko.
# ---------------------------------------------------------------------------


def test_macenko_recovers_a_known_stain_matrix():
  """Tissue made from known stains: 10 % pure haematoxylin, 10 % pure
  eosin, the rest mixtures. Its optical densities span exactly the plane of
  the two stains, and more than alpha = 1 % of the pixels sit at each
  extreme angle, so the 1st and 99th angle percentiles ARE the stains."""
  true = np.array([[0.30, 0.85], [0.80, 0.20], [0.52, 0.49]])
  true /= np.linalg.norm(true, axis=0)
  rng = np.random.default_rng(0)
  n = 4000
  conc = rng.uniform(0.5, 1.5, (2, n))
  conc[1, : n // 10] = 0.0  # pure haematoxylin
  conc[0, n // 10 : n // 5] = 0.0  # pure eosin
  # Every channel's OD >= 0.5 * min(stain entries) > beta = 0.15: all
  # pixels are tissue. RGB from OD = -log((I + 1) / Io), kept in float.
  img = (240.0 * np.exp(-(true @ conc)) - 1.0).T.reshape(40, 100, 3)
  he, max_c = stain.macenko_stains(img.astype(np.float32))
  # Column order: haematoxylin first = larger red OD; true[:, 1] has it.
  # Tolerance: float32 rounding of the OD (~eps * |log|, <= 6 eps) moves
  # the eigenvectors by ~eps * lambda_1 / (lambda_2 - lambda_3) (the third
  # eigenvalue is 0: rank-2 data; lambda_2 / lambda_1 >= 0.05 here), and
  # the angle percentiles by as much: 200 * 6 * eps ~ 1.4e-4.
  np.testing.assert_allclose(he, true[:, ::-1], atol=200 * 6 * EPS32)
  assert np.all(np.isfinite(max_c))


def test_macenko_equals_the_reference_on_real_tiles(tiles):
  """Same algorithm: float64 (x64) against the float64 reference, on the
  Kather 2016 tiles (one shape: one compilation). Bound:
  255 (output scale) x |log 241| (largest OD) x 1e4 (a generous condition
  number of the eigen problem) x eps64 ~ 3e-9 grey levels."""
  bound = 255 * np.log(241) * 1e4 * np.finfo(np.float64).eps
  kather = {k: v for k, v in _stained(tiles).items() if k[:2].isdigit()}
  assert len(kather) == 24
  with jax.enable_x64(True):
    for name, img in kather.items():
      he_ref, max_c_ref, out_ref = _macenko_reference(img)
      he, max_c = stain.macenko_stains(img)
      np.testing.assert_allclose(he, he_ref, atol=1e-12, err_msg=name)
      np.testing.assert_allclose(max_c, max_c_ref, rtol=1e-9, err_msg=name)
      out = stain.macenko_normalize(img)
      assert out.dtype == jnp.float64
      np.testing.assert_allclose(out, out_ref, atol=bound, err_msg=name)


def test_macenko_float32_is_within_half_a_grey_level(tiles):
  """In float32 every stage is continuous in its inputs (the percentiles
  interpolate), so the result moves by float32 rounding amplified as above
  (~255 * 5.5 * 1e4 * eps32 ~ 1.7 in the worst case, ~1e-2 measured);
  what matters is that the uint8 image it is made for agrees to within its
  own rounding unit: half a grey level. On the NCT tiles (the other size
  and source)."""
  nct = {k: v for k, v in _stained(tiles).items() if not k[:2].isdigit()}
  assert len(nct) == 8
  for name, img in nct.items():
    _, _, out_ref = _macenko_reference(img)
    out = stain.macenko_normalize(img)
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, out_ref, atol=0.5, err_msg=name)


def test_macenko_leaves_an_image_without_tissue_unchanged(tiles):
  white = np.full((8, 8, 3), 250, np.uint8)  # OD < beta everywhere
  np.testing.assert_array_equal(stain.macenko_normalize(white), white)
  empty = [v for v in tiles.values() if _tissue(v) < 2]
  assert len(empty) == 1  # the NCT background tile
  np.testing.assert_array_equal(stain.macenko_normalize(empty[0]), empty[0])


def test_macenko_to_a_target_image(tiles):
  names = sorted(tiles)
  target = tiles[names[0]]
  he_t, max_t = stain.macenko_stains(target)
  out = stain.macenko_normalize(tiles[names[5]], he_t, max_t)
  # Normalised to the target, the image's own stains become the target's.
  he_out, _ = stain.macenko_stains(out)
  np.testing.assert_allclose(he_out, he_t, atol=0.05)


# ---------------------------------------------------------------------------
# Reinhard (CIE LAB).
# ---------------------------------------------------------------------------


def _lab_reference(rgb):
  """The standard sRGB (D65, 2 degrees) -> CIE LAB formulas, float64."""
  c = rgb.astype(np.float64) / 255.0
  lin = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
  m = np.array(
    [
      [0.412453, 0.357580, 0.180423],
      [0.212671, 0.715160, 0.072169],
      [0.019334, 0.119193, 0.950227],
    ]
  )
  xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
  f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
  return np.stack(
    [
      116 * f[..., 1] - 16,
      500 * (f[..., 0] - f[..., 1]),
      200 * (f[..., 1] - f[..., 2]),
    ],
    axis=-1,
  )


def test_rgb_lab_against_the_standard_formulas(tiles):
  grid = np.stack(np.meshgrid(*[np.arange(0, 256, 15)] * 3), -1)
  for img in [grid.reshape(-1, 1, 3).astype(np.uint8), *tiles.values()]:
    lab = stain.rgb_to_lab(img)
    # float32: |L|, |a|, |b| <= ~130; a handful of roundings (power,
    # cube root, a 3-term dot product) of ~eps each: 130 * 16 eps ~ 2.5e-4.
    np.testing.assert_allclose(lab, _lab_reference(img), atol=130 * 16 * EPS32)
    back = stain.lab_to_rgb(lab)
    # Round trip on 0..255. Worst near 0, where the inverse matrix sums
    # terms of size ~1 into a small value (||inv||_inf ~ 5.3 times ~8 eps
    # on XYZ <= 1.09) and sRGB's linear segment multiplies by 12.92:
    # 255 * 12.92 * 5.3 * 1.09 * 8 eps ~ 0.018 grey levels.
    bound = 255 * 12.92 * 5.3 * 1.09 * 8 * EPS32
    np.testing.assert_allclose(back, img, atol=bound)


def test_reinhard_output_has_the_target_lab_statistics(tiles):
  names = sorted(tiles)
  mean_t, std_t = stain.lab_stats(tiles[names[3]])
  for name in names[10:16]:
    out = stain.reinhard_normalize(tiles[name], mean_t, std_t, clip=False)
    mean, std = stain.lab_stats(out)
    # The exact inverse up to float32 rounding of two LAB conversions
    # (~2.5e-4 each, above) over values <= 130, and of the affine map.
    np.testing.assert_allclose(mean, mean_t, atol=1e-3, err_msg=name)
    np.testing.assert_allclose(std, std_t, atol=1e-3, err_msg=name)
    clipped = stain.reinhard_normalize(tiles[name], mean_t, std_t)
    assert float(clipped.min()) >= 0.0 and float(clipped.max()) <= 255.0


def test_reinhard_constant_channel_takes_the_target_mean():
  gray = np.full((4, 4, 3), 128, np.uint8)  # a = b = 0 everywhere, std 0
  mean_t = jnp.array([60.0, 10.0, -5.0])
  out = stain.reinhard_normalize(gray, mean_t, jnp.array([5.0, 3.0, 2.0]))
  mean, std = stain.lab_stats(out)
  np.testing.assert_allclose(mean, mean_t, atol=1e-3)
  np.testing.assert_allclose(std, 0.0, atol=1e-3)


# ---------------------------------------------------------------------------
# HED augmentation.
# ---------------------------------------------------------------------------


def _hed_reference(img, alpha, beta):
  """scikit-image's rgb2hed / hed2rgb formulas (without rgb2hed's clamp at
  0, see stain.rgb_to_hed), float64."""
  rgb = np.maximum(img.astype(np.float64) / 255.0, 1e-6)
  hed = (np.log(rgb) / np.log(1e-6)) @ stain.HED_FROM_RGB
  hed = hed * alpha + beta
  out = np.exp((hed * np.log(1e-6)) @ stain.RGB_FROM_HED)
  return 255.0 * np.clip(out, 0.0, 1.0)


def _hed_bound(alpha):
  """Float32 error of the HED round trip on 0..255: the log of x <= 1 is
  at most |log 1e-6| = 13.8; the two 3x3 products add ~3 eps times the
  matrices' infinity norms each (and |alpha| scales the first); log, exp
  and the scalings ~4 eps more; exp turns an absolute error d in log x
  into a relative one, d * x <= d on 0..1. Pixels at 0 come back as the
  1e-6 floor: + 255e-6."""
  norms = (
    np.abs(stain.HED_FROM_RGB).sum(1).max()
    * np.abs(stain.RGB_FROM_HED).sum(1).max()
  )
  d = 13.8 * (6 * norms * max(1.0, abs(alpha)) + 4) * EPS32
  return 255 * (d + 1e-6)


def test_hed_identity(tiles):
  bound = _hed_bound(1.0)
  assert bound < 0.05  # a derived bound, far below one grey level
  for name, img in tiles.items():
    out = stain.hed_perturb(img, jnp.ones(3), jnp.zeros(3))
    np.testing.assert_allclose(out, img, atol=bound, err_msg=name)


def test_hed_against_the_reference(tiles):
  alpha = np.array([1.04, 0.97, 1.01])
  beta = np.array([0.02, -0.03, 0.01])
  for name, img in list(tiles.items())[::5]:
    out = stain.hed_perturb(img, alpha, beta)
    np.testing.assert_allclose(
      out, _hed_reference(img, alpha, beta), atol=_hed_bound(1.04), err_msg=name
    )


def test_hed_augment_is_deterministic_per_key_and_batched(tiles):
  img = next(iter(tiles.values()))
  key = jax.random.key(3)
  a = stain.hed_augment(key, img)
  np.testing.assert_array_equal(a, stain.hed_augment(key, img))
  b = stain.hed_augment(jax.random.key(4), img)
  assert float(jnp.abs(a - b).max()) > 1.0
  # The draw is the documented one: alpha ~ U(1 +- s), beta ~ U(+- s).
  ka, kb = jax.random.split(key)
  alpha = jax.random.uniform(ka, (3,), minval=0.95, maxval=1.05)
  beta = jax.random.uniform(kb, (3,), minval=-0.05, maxval=0.05)
  np.testing.assert_array_equal(a, stain.hed_perturb(img, alpha, beta))
  # A batch: one key per image.
  batch = jnp.stack([img, img])
  keys = jax.random.split(key, 2)
  out = jax.vmap(stain.hed_augment)(keys, batch)
  np.testing.assert_allclose(out[0], stain.hed_augment(keys[0], img), atol=1e-4)
  assert not np.allclose(out[0], out[1])
