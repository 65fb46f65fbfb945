# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The corruption suite: range, seeding, severity order, references.

References are independent float64 computations: scipy.ndimage's Gaussian
filter, a block DCT with scipy.fft, bilinear sampling and the bias field
written here in numpy from the documented definitions. Tolerances are
bounds on float32 rounding stated beside each comparison (u = 2^-24).
"""

import itertools
import math

import jax
import numpy as np
import pytest
import scipy.fft
import scipy.ndimage

from xaijax.data import corruptions
from xaijax.data.corruptions import CORRUPTIONS

U = 2.0**-24  # float32 unit round-off.
NAMES = list(CORRUPTIONS)


def uniform_images(shape=(2, 32, 32, 3), seed=0):
  return np.random.default_rng(seed).random(shape).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_range_shape_and_seeding(name):
  x = uniform_images()
  key = jax.random.key(1)
  out = np.asarray(corruptions.corrupt(x, name, 3, key))
  assert out.shape == x.shape and out.dtype == np.float32
  assert out.min() >= 0 and out.max() <= 1
  again = np.asarray(corruptions.corrupt(x, name, 3, jax.random.key(1)))
  np.testing.assert_array_equal(out, again)
  other = np.asarray(corruptions.corrupt(x, name, 3, jax.random.key(2)))
  if CORRUPTIONS[name].random:
    assert np.abs(out - other).max() > 1e-3
  else:
    np.testing.assert_array_equal(out, other)
    np.testing.assert_array_equal(out, corruptions.corrupt(x, name, 3, None))


@pytest.mark.parametrize("name", [n for n in NAMES if CORRUPTIONS[n].random])
def test_per_image_keys_do_not_depend_on_the_batch(name):
  x = uniform_images((3, 16, 16, 3))
  keys = jax.random.split(jax.random.key(1), 3)
  out = np.asarray(corruptions.corrupt(x, name, 3, keys))
  # Image i alone with key i draws the same numbers. Under vmap XLA may fuse
  # the rotation's cos/sin coordinate arithmetic differently: source
  # coordinates of size up to H/2 px move by a few ulps, i.e. below
  # 4·H·U px, and a bilinear sample of values in [0, 1] moves by at most
  # that (its slope is at most 1 per pixel).
  for i in range(3):
    alone = corruptions.corrupt(x[i : i + 1], name, 3, keys[i])
    np.testing.assert_allclose(
      out[i], np.asarray(alone)[0], rtol=0, atol=4 * x.shape[1] * U
    )
  with pytest.raises(ValueError, match=r"one key or \(B,\) = \(3,\) keys"):
    corruptions.corrupt(x, name, 3, keys[:2])


def smooth_images(shape=(2, 32, 32, 3), seed=0):
  """Random cosines of at most 3 cycles per side, in [0.1, 0.9]: like real
  images, smooth at the scale of the shifts (a period >= 10 px exceeds twice
  the largest displacement, 3.9 px), where white noise would decorrelate
  after one pixel and make larger moves look no worse."""
  rng = np.random.default_rng(seed)
  n, h, w, c = shape
  rows, cols = np.meshgrid(np.arange(h) / h, np.arange(w) / w, indexing="ij")
  x = np.zeros(shape)
  for _ in range(4):
    fr, fc = rng.uniform(-3, 3, (2, n, 1, 1, c))
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1, c))
    x += np.cos(
      2 * np.pi * (fr * rows[..., None] + fc * cols[..., None]) + phase
    )
  return (0.5 + 0.1 * x).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_severity_increases_the_change(name):
  # Same key at every severity: the mean absolute change must grow.
  x = smooth_images()
  key = jax.random.key(3)
  change = [
    float(np.abs(corruptions.corrupt(x, name, s, key) - x).mean())
    for s in range(1, 6)
  ]
  assert all(a < b for a, b in itertools.pairwise(change)), change


# Parameters that leave the image as it is, and how far float32 may move it.
NEUTRAL = {
  "gaussian_noise": (0.0, 0.0),
  "gaussian_blur": (0.0, 0.0),  # Radius 0: no filtering at all.
  "contrast_down": (1.0, 2 * U),  # m + (x - m): two roundings of values <= 1.
  "contrast_up": (1.0, 2 * U),
  "brightness_down": (1.0, 0.0),
  "brightness_up": (1.0, 0.0),
  "gamma_down": (1.0, 16 * U),  # pow as exp(log): a few ulps of 1.
  "gamma_up": (1.0, 16 * U),
  "resolution": (1.0, 0.0),  # Linear kernel at integer offsets: 1 and 0.
  "bias_field": (0.0, 0.0),  # exp(0) = 1.
  "rotation": (0.0, 0.0),  # Integer source coordinates.
  "shift": (0.0, 0.0),
  # Poisson with 1e7 photons: sd <= sqrt(1 / 1e7); 6 sd.
  "shot_noise": (1e7, 6 / math.sqrt(1e7)),
  # Quality 100 (all steps 1) on grey images: each coefficient moves <= 0.5,
  # a pixel <= 0.5 (Σ_k |D_kn|)² = 4 levels, + 0.5 for each 8-bit rounding.
  "jpeg": (100, 5 / 255),
}


@pytest.mark.parametrize("name", NAMES)
def test_neutral_parameter_is_identity(name):
  x = uniform_images()
  if name == "jpeg":
    x = np.repeat(x[..., :1], 3, axis=-1)
  param, atol = NEUTRAL[name]
  out = CORRUPTIONS[name].fn(x, jax.random.key(4), param)
  np.testing.assert_allclose(out, x, rtol=0, atol=atol)


def test_gaussian_blur_matches_scipy():
  x = uniform_images((1, 64, 48, 3))
  for severity in range(1, 6):
    sigma = CORRUPTIONS["gaussian_blur"].params[severity - 1] * 48 / 224
    expected = scipy.ndimage.gaussian_filter(
      x.astype(np.float64), (0, sigma, sigma, 0), mode="nearest", truncate=4.0
    )
    radius = int(4 * sigma + 0.5)
    # Two passes, each a sum of 2r + 1 weighted terms <= 1: (2r + 3) u each.
    atol = 2 * (2 * radius + 3) * U
    np.testing.assert_allclose(
      corruptions.corrupt(x, "gaussian_blur", severity, None),
      np.clip(expected, 0, 1),
      rtol=0,
      atol=atol,
    )


def test_jpeg_tables():
  # Quality 50 is the Annex K table itself; IJG scaling elsewhere.
  tables = corruptions.jpeg_tables(50)
  np.testing.assert_array_equal(tables[0, 0], [16, 11, 10, 16, 24, 40, 51, 61])
  np.testing.assert_array_equal(tables[1, 0], [17, 18, 24, 47, 99, 99, 99, 99])
  assert corruptions.jpeg_tables(10)[0, 0, 0] == 80  # 16 · 5000/10 / 100.
  assert corruptions.jpeg_tables(90)[0, 0, 0] == 3  # floor((16·20+50)/100).
  assert corruptions.jpeg_tables(100).max() == 1
  assert corruptions.jpeg_tables(1).max() == 255


def reference_jpeg(x, quality):
  """float64 JPEG round trip per 8x8 block; also the per-pixel slack for
  coefficients whose quantisation float32 may round the other way."""
  rgb = np.round(x.astype(np.float64) * 255)
  r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
  ycc = np.stack(
    [
      0.299 * r + 0.587 * g + 0.114 * b - 128,
      -0.168736 * r - 0.331264 * g + 0.5 * b,
      0.5 * r - 0.418688 * g - 0.081312 * b,
    ],
    -1,
  )
  n, h, w, _ = ycc.shape
  padded = np.pad(ycc, ((0, 0), (0, -h % 8), (0, -w % 8), (0, 0)), "edge")
  tables = corruptions.jpeg_tables(quality)
  out = np.empty_like(padded)
  slack = np.zeros(padded.shape[:3])
  for i in range(n):
    for top in range(0, padded.shape[1], 8):
      for left in range(0, padded.shape[2], 8):
        for c in range(3):
          block = padded[i, top : top + 8, left : left + 8, c]
          ratio = scipy.fft.dctn(block, norm="ortho") / tables[c]
          out[i, top : top + 8, left : left + 8, c] = scipy.fft.idctn(
            np.round(ratio) * tables[c], norm="ortho"
          )
          # float32 coefficients (sums of <= 19 roundings of terms <= 1024)
          # are within 2e-3 of these; a ratio that close to .5 may flip,
          # moving a pixel by <= Q·max|D|² = Q/4 in this channel, <= 1.772×
          # that in RGB.
          near = np.abs(np.abs(ratio) % 1 - 0.5) < 2e-3
          slack[i, top : top + 8, left : left + 8] += (
            1.772 * tables[c][near].sum() / 4
          )
  y, cb, cr = np.moveaxis(out[:, :h, :w], -1, 0)
  y = y + 128
  back = np.stack(
    [y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], -1
  )
  return np.clip(np.round(back), 0, 255) / 255, slack[:, :h, :w, None]


@pytest.mark.parametrize("severity", [1, 5])
def test_jpeg_matches_block_dct_reference(severity):
  # 8-bit images (as decoded files are): 255·x rounds to the same level in
  # float32 and float64. 20x28 is not a multiple of 8: the edge padding.
  levels = np.random.default_rng(5).integers(0, 256, (2, 20, 28, 3))
  x = (levels / 255).astype(np.float32)
  quality = CORRUPTIONS["jpeg"].params[severity - 1]
  expected, slack = reference_jpeg(x, quality)
  out = np.asarray(corruptions.corrupt(x, "jpeg", severity, None))
  # One level for the decoder's final rounding, plus the flip slack.
  assert (np.abs(out - expected) <= (1 + 1e-3 + slack) / 255).all()
  assert np.abs(out - expected).mean() < 0.1 / 255  # Almost all agree.


def test_bias_field_matches_its_definition():
  x = uniform_images((3, 24, 20, 3))
  key = jax.random.key(6)
  alpha = CORRUPTIONS["bias_field"].params[4]
  # The documented draw: U(-alpha, alpha), monomials y^i x^j, i outer.
  coeffs = np.asarray(
    jax.random.uniform(key, (3, 10), minval=-alpha, maxval=alpha), np.float64
  )
  yy, xx = np.meshgrid(
    np.linspace(-1, 1, 24), np.linspace(-1, 1, 20), indexing="ij"
  )
  terms = [yy**i * xx**j for i in range(4) for j in range(4 - i)]
  field = np.exp(np.einsum("bp,phw->bhw", coeffs, terms))
  expected = np.clip(x * field[..., None], 0, 1)
  # log-field: 10 terms <= 0.5 (~10 u each), exp and the product: 64 u
  # relative, of values <= e^5 before the clip to 1.
  np.testing.assert_allclose(
    corruptions.corrupt(x, "bias_field", 5, key),
    expected,
    rtol=64 * U,
    atol=64 * U,
  )


def bilinear(image, src_r, src_c):
  """float64 bilinear sampling of (H, W, C), 0 outside the pixel grid."""
  h, w = image.shape[:2]
  r0, c0 = np.floor(src_r).astype(int), np.floor(src_c).astype(int)
  out = np.zeros(src_r.shape + image.shape[2:])
  for dr in (0, 1):
    for dc in (0, 1):
      rr, cc = r0 + dr, c0 + dc
      weight = (1 - np.abs(src_r - rr)) * (1 - np.abs(src_c - cc))
      inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
      value = image[np.clip(rr, 0, h - 1), np.clip(cc, 0, w - 1)]
      out += np.where(inside, weight, 0)[..., None] * value
  return out


def reference_warp(x, angles, offsets):
  """Output (r, c) reads centre + R(θ)((r, c) − centre) − offset."""
  n, h, w, _ = x.shape
  rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
  dr, dc = rows - (h - 1) / 2, cols - (w - 1) / 2
  out = []
  for i in range(n):
    cos, sin = np.cos(angles[i]), np.sin(angles[i])
    src_r = (h - 1) / 2 + cos * dr + sin * dc - offsets[i][0]
    src_c = (w - 1) / 2 - sin * dr + cos * dc - offsets[i][1]
    out.append(bilinear(x[i].astype(np.float64), src_r, src_c))
  return np.stack(out)


def test_rotation_direction_is_counter_clockwise():
  # 90° as displayed is np.rot90 (content turns counter-clockwise). The
  # float32 cos(π/2) is 4e-8, not 0: source coordinates are off by < 2H u.
  x = uniform_images((1, 16, 16, 3))
  out = CORRUPTIONS["rotation"].fn(x, jax.random.key(0), 90.0)
  signs = np.where(jax.random.bernoulli(jax.random.key(0), 0.5, (1,)), 1, -1)
  expected = np.rot90(x, k=int(signs[0]), axes=(1, 2))
  np.testing.assert_allclose(out, expected, rtol=0, atol=2 * 16 * U * 4)


@pytest.mark.parametrize("name", ["rotation", "shift"])
def test_geometric_corruptions_match_bilinear_reference(name):
  x = uniform_images((4, 24, 28, 3))
  key = jax.random.key(7)
  param = CORRUPTIONS[name].params[4]
  if name == "rotation":  # The documented draws: fair random signs.
    signs = np.where(jax.random.bernoulli(key, 0.5, (4,)), 1.0, -1.0)
    angles, offsets = signs * math.radians(param), np.zeros((4, 2))
  else:
    signs = np.where(jax.random.bernoulli(key, 0.5, (4, 2)), 1.0, -1.0)
    angles, offsets = np.zeros(4), signs * param * np.array([24, 28])
  expected = reference_warp(x, angles, offsets)
  # Source coordinates (|·| < 2·28) carry < 8·28 u of float32 error, which
  # moves a bilinear sample by at most that times a pixel step (<= 1).
  np.testing.assert_allclose(
    corruptions.corrupt(x, name, 5, key), expected, rtol=0, atol=8 * 28 * U
  )


def test_resolution_keeps_flat_images_and_removes_detail():
  flat = np.full((1, 32, 32, 3), 0.3, np.float32)
  # Resampling weights sum to 1 (a few u) on a constant image.
  np.testing.assert_allclose(
    corruptions.corrupt(flat, "resolution", 5, None), flat, atol=8 * U
  )
  checker = (np.indices((32, 32)).sum(0) % 2).astype(np.float32)
  x = np.repeat(checker[None, ..., None], 3, -1)
  out = np.asarray(corruptions.corrupt(x, "resolution", 1, None))
  assert out.std() < 0.1 * x.std()  # A one-pixel pattern does not survive.


def test_adapters_round_trip():
  mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
  x = uniform_images()
  normalised = corruptions.to_normalized(x, mean, std)
  np.testing.assert_allclose(
    normalised, (x - np.array(mean)) / np.array(std), rtol=4 * U, atol=4 * U
  )
  # (x − m)/s·s + m: four roundings of values <= 1/0.224.
  np.testing.assert_allclose(
    corruptions.to_unit(normalised, mean, std), x, rtol=0, atol=20 * U
  )
  assert corruptions.to_unit(np.full((1, 1, 1, 3), 9.0), mean, std).max() == 1


def test_one_compile_per_name_severity_and_shape():
  x = uniform_images((1, 24, 24, 3))
  for name in ("gaussian_noise", "rotation", "jpeg"):
    corruptions.corrupt(x, name, 2, jax.random.key(0))
    compiled = corruptions._corrupt._cache_size()
    corruptions.corrupt(1 - x, name, 2, jax.random.key(1))
    assert corruptions._corrupt._cache_size() == compiled, name


@pytest.mark.parametrize(
  "args, message",
  [
    (("fog", 1, None), "Unknown corruption 'fog'"),
    (("jpeg", 0, None), r"severity must be an integer in 1\.\.5"),
    (("jpeg", 6, None), r"severity must be an integer in 1\.\.5"),
    (("jpeg", 2.0, None), r"severity must be an integer in 1\.\.5"),
    (("jpeg", True, None), r"severity must be an integer in 1\.\.5"),
    (("gaussian_noise", 1, None), "is random: pass a key"),
  ],
)
def test_bad_arguments(args, message):
  with pytest.raises(ValueError, match=message):
    corruptions.corrupt(uniform_images((1, 8, 8, 3)), *args)


def test_bad_images():
  normalised = np.full((1, 8, 8, 3), -1.5, np.float32)
  with pytest.raises(ValueError, match="to_unit"):
    corruptions.corrupt(normalised, "jpeg", 1, None)
  with pytest.raises(ValueError, match=r"\(B, H, W, C\)"):
    corruptions.corrupt(np.zeros((8, 8, 3)), "jpeg", 1, None)
