# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""H&E stain tools as jitted JAX functions.

* Macenko stain normalisation (Macenko et al., ISBI 2009; as torchstain's
  numpy normaliser, itself from schaugf/HEnorm_python): optical density,
  the plane of its two main eigenvectors, the stain vectors at the
  `alpha` and 100 - `alpha` percentiles of the angle in that plane,
  concentrations by least squares, rescaled so that their 99th
  percentiles match a reference's, and the image rebuilt with the
  reference stains.
* Reinhard colour normalisation (Reinhard et al. 2001, in CIE LAB as
  torchstain and StainTools do): each LAB channel shifted and scaled to a
  target's mean and standard deviation.
* HED stain augmentation (Tellez et al. 2018, 2019): each channel of
  scikit-image's haematoxylin-eosin-DAB colour deconvolution (Ruifrok &
  Johnston 2001) perturbed as h * alpha + beta, alpha ~ U(1 - s, 1 + s),
  beta ~ U(-s, s), and recombined.

Images are RGB (H, W, 3) with values in 0..255 (uint8 or float); results
are float32 (float64 under jax_enable_x64) in 0..255, to round or cast as
the caller needs. Every function is pure; randomness comes from an
explicit key. Batches: `jax.vmap` (with `jax.random.split` keys).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np

# Macenko defaults (torchstain): transmitted light, the angle percentile,
# and the optical density below which (in any channel) a pixel counts as
# background; the reference stains and 99th-percentile concentrations.
IO = 240.0
ALPHA = 1.0
BETA = 0.15
HE_REF = np.array([[0.5626, 0.2159], [0.7201, 0.8012], [0.4062, 0.5581]])
MAX_C_REF = np.array([1.9705, 1.0308])


def _float(img):
  """RGB values as the default float type (float64 under x64)."""
  return jnp.asarray(img, dtype=jnp.result_type(float))


def _macenko(img, io, alpha, beta):
  """(stains (3, 2), concentrations (2, N), their 99th percentiles (2,),
  number of tissue pixels) of one image."""
  od = -jnp.log((_float(img).reshape(-1, 3) + 1.0) / io)
  tissue = jnp.all(od >= beta, axis=1)
  n = tissue.sum()
  w = tissue.astype(od.dtype)[:, None]
  mean = (w * od).sum(0) / n
  centred = (od - mean) * w
  cov = centred.T @ centred / (n - 1)  # np.cov: unbiased
  _, vecs = jnp.linalg.eigh(cov)  # ascending eigenvalues
  plane = vecs[:, 1:3]
  t = od @ plane
  phi = jnp.where(tissue, jnp.arctan2(t[:, 1], t[:, 0]), jnp.nan)
  lo = jnp.nanpercentile(phi, alpha)
  hi = jnp.nanpercentile(phi, 100.0 - alpha)
  v_lo = plane @ jnp.stack([jnp.cos(lo), jnp.sin(lo)])
  v_hi = plane @ jnp.stack([jnp.cos(hi), jnp.sin(hi)])
  # Haematoxylin first: the vector with the larger red OD component.
  he = jnp.where(
    v_lo[0] > v_hi[0],
    jnp.stack([v_lo, v_hi], axis=1),
    jnp.stack([v_hi, v_lo], axis=1),
  )
  # Least squares (he has full column rank): the pseudo-inverse.
  conc = jnp.linalg.pinv(he) @ od.T
  max_c = jnp.percentile(conc, 99.0, axis=1)
  return he, conc, max_c, n


@jax.jit
def macenko_stains(img, io=IO, alpha=ALPHA, beta=BETA):
  """The stain matrix of an H&E image, to normalise others to it.

  Args:
    img: RGB (H, W, 3), values 0..255.
    io: transmitted light intensity.
    alpha: percentile (of 100) of the angle that picks each stain vector.
    beta: a pixel with optical density below this in any channel is
      background and left out of the estimate.

  Returns:
    (stains, max_c): (3, 2) unit stain vectors in optical density,
    haematoxylin first; (2,) the 99th percentile of each stain's
    concentration. NaN where the image has fewer than 2 tissue pixels.
  """
  he, _, max_c, _ = _macenko(img, io, alpha, beta)
  return he, max_c


@jax.jit
def macenko_normalize(
  img,
  target_stains=HE_REF,
  target_max_c=MAX_C_REF,
  io=IO,
  alpha=ALPHA,
  beta=BETA,
):
  """Macenko stain normalisation of one image.

  Args:
    img: RGB (H, W, 3), values 0..255.
    target_stains: (3, 2) stains to rebuild with (default torchstain's
      reference; or `macenko_stains(target)[0]`).
    target_max_c: (2,) their 99th-percentile concentrations.
    io, alpha, beta: as `macenko_stains`.

  Returns:
    (H, W, 3) float RGB in (0, 255] (torchstain then truncates to uint8).
    An image with fewer than 2 tissue pixels has no stains to estimate and
    is returned unchanged.
  """
  he, conc, max_c, n = _macenko(img, io, alpha, beta)
  del he
  target_stains = _float(target_stains)
  conc = conc / (max_c / _float(target_max_c))[:, None]
  out = jnp.minimum(io * jnp.exp(-target_stains @ conc), 255.0)
  out = out.T.reshape(jnp.shape(img))
  return jnp.where(n >= 2, out, _float(img))


# CIE LAB, observer 2 degrees, illuminant D65 (scikit-image's rgb2lab).
_XYZ_FROM_RGB = np.array(
  [
    [0.412453, 0.357580, 0.180423],
    [0.212671, 0.715160, 0.072169],
    [0.019334, 0.119193, 0.950227],
  ]
)
_RGB_FROM_XYZ = np.linalg.inv(_XYZ_FROM_RGB)
_D65 = np.array([0.95047, 1.0, 1.08883])


@jax.jit
def rgb_to_lab(img):
  """RGB (..., 3) in 0..255 -> CIE LAB (..., 3): L in 0..100, a, b.

  sRGB companding (linear below 0.04045), XYZ, D65 white, the cube root
  (linear below (6/29)^3); values outside 0..255 follow the same formulas,
  so `lab_to_rgb` inverts this everywhere.
  """
  c = _float(img) / 255.0
  lin = jnp.where(
    c > 0.04045,
    ((jnp.maximum(c, 0.04045) + 0.055) / 1.055) ** 2.4,
    c / 12.92,
  )
  xyz = lin @ _float(_XYZ_FROM_RGB).T / _float(_D65)
  f = jnp.where(xyz > 0.008856, jnp.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
  fx, fy, fz = f[..., 0], f[..., 1], f[..., 2]
  return jnp.stack(
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], axis=-1
  )


@jax.jit
def lab_to_rgb(lab):
  """CIE LAB (..., 3) -> RGB (..., 3) in 0..255 (not clipped)."""
  lab = _float(lab)
  fy = (lab[..., 0] + 16.0) / 116.0
  f = jnp.stack([fy + lab[..., 1] / 500.0, fy, fy - lab[..., 2] / 200.0], -1)
  xyz = jnp.where(f > 0.2068966, f**3, (f - 16.0 / 116.0) / 7.787)
  lin = (xyz * _float(_D65)) @ _float(_RGB_FROM_XYZ).T
  c = jnp.where(
    lin > 0.0031308,
    1.055 * jnp.maximum(lin, 0.0031308) ** (1.0 / 2.4) - 0.055,
    12.92 * lin,
  )
  return 255.0 * c


@jax.jit
def lab_stats(img):
  """(mean (3,), standard deviation (3,)) of an RGB image's LAB channels
  (population standard deviation, as torchstain's Reinhard)."""
  lab = rgb_to_lab(img).reshape(-1, 3)
  return lab.mean(0), lab.std(0)


@functools.partial(jax.jit, static_argnames="clip")
def reinhard_normalize(img, target_mean, target_std, clip=True):
  """Reinhard colour normalisation of one image to a target's LAB stats.

  Args:
    img: RGB (H, W, 3), values 0..255.
    target_mean, target_std: (3,) LAB statistics (`lab_stats(target)`).
    clip: clip the result to 0..255 (off: the exact LAB match, possibly
      out of gamut).

  Returns:
    (H, W, 3) float RGB. A LAB channel that is constant in `img` becomes
    the target's mean.
  """
  lab = rgb_to_lab(img)
  mean, std = lab_stats(img)
  scale = jnp.where(std > 0, _float(target_std) / jnp.where(std > 0, std, 1), 0)
  out = lab_to_rgb((lab - mean) * scale + _float(target_mean))
  return jnp.clip(out, 0.0, 255.0) if clip else out


# scikit-image's colour deconvolution (Ruifrok & Johnston 2001): rows are
# the optical densities of haematoxylin, eosin and DAB; its rgb2hed takes
# log(max(rgb / 255, 1e-6)) / log(1e-6) (optical density scaled to 0..1).
RGB_FROM_HED = np.array(
  [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]]
)
HED_FROM_RGB = np.linalg.inv(RGB_FROM_HED)
_LOG_FLOOR = float(np.log(1e-6))

# HED augmentation strength s: Tellez et al. 2019 (Med. Image Anal. 58)
# report "HED-light" and "HED-strong" at about s = 0.05 and 0.2 (values as
# recalled in the project's method notes, not re-read from the paper);
# the stainlib port of their augmenter uses 0.1 and 1.0. Default: light.
HED_SIGMA = 0.05


@jax.jit
def rgb_to_hed(img):
  """RGB (..., 3) in 0..255 -> H, E, D stain channels (..., 3).

  scikit-image's rgb2hed without its final clamp at 0: unclamped, the
  round trip through `hed_to_rgb` is the identity (up to the 1e-6 floor),
  whereas the clamp would move every pixel with a negative channel (in H&E
  images most have a negative DAB channel).
  """
  rgb = jnp.maximum(_float(img) / 255.0, 1e-6)
  return (jnp.log(rgb) / _LOG_FLOOR) @ _float(HED_FROM_RGB)


@jax.jit
def hed_to_rgb(hed):
  """H, E, D (..., 3) -> RGB (..., 3) in 0..255 (scikit-image's hed2rgb)."""
  rgb = jnp.exp((_float(hed) * _LOG_FLOOR) @ _float(RGB_FROM_HED))
  return 255.0 * jnp.clip(rgb, 0.0, 1.0)


@jax.jit
def hed_perturb(img, alpha, beta):
  """Each stain channel h -> h * alpha + beta.

  Args:
    img: RGB (H, W, 3), values 0..255.
    alpha, beta: (3,) per H, E, D channel.

  Returns:
    (H, W, 3) float RGB in 0..255.
  """
  return hed_to_rgb(rgb_to_hed(img) * _float(alpha) + _float(beta))


@jax.jit
def hed_augment(key, img, sigma_alpha=HED_SIGMA, sigma_beta=HED_SIGMA):
  """HED stain augmentation of one image (Tellez et al.).

  Args:
    key: a PRNG key; the same key gives the same augmentation.
    img: RGB (H, W, 3), values 0..255.
    sigma_alpha: alpha ~ U(1 - sigma_alpha, 1 + sigma_alpha) per channel.
    sigma_beta: beta ~ U(-sigma_beta, sigma_beta) per channel.

  Returns:
    (H, W, 3) float RGB in 0..255.
  """
  ka, kb = jax.random.split(key)
  dtype = jnp.result_type(float)
  alpha = jax.random.uniform(
    ka, (3,), dtype, 1.0 - sigma_alpha, 1.0 + sigma_alpha
  )
  beta = jax.random.uniform(kb, (3,), dtype, -sigma_beta, sigma_beta)
  return hed_perturb(img, alpha, beta)
