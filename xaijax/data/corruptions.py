# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A medical image corruption suite: 14 corruptions at 5 severities each.

    from xaijax.data import corruptions
    x = corruptions.to_unit(images, cfg.mean, cfg.std)          # [0, 1]
    y = corruptions.corrupt(x, "gaussian_blur", 3, jax.random.key(0))
    model_input = corruptions.to_normalized(y, cfg.mean, cfg.std)

Every corruption is a pure JAX function of a batch (B, H, W, C) of float
images **in [0, 1]** (what the model sees before the (x − mean)/std
normalisation; `to_unit` / `to_normalized` convert) and returns a batch in
[0, 1]. Severity 1..5 picks a parameter from a table in the style of
ImageNet-C (Hendrycks & Dietterich 2019, `make_imagenet_c.py`) and
MedMNIST-C (Di Salvo et al. 2024, `medmnistc/corruptions/registry.py`,
its chest X-ray tables where it has one); each entry of `CORRUPTIONS` names
its source. Spatial parameters in pixels are given at 224 px and scaled by
min(H, W) / 224. The random ones draw from an explicit key: the same key and
batch give the same output. `corrupt` compiles once per (name, severity,
shape). Details: docs/data.md, "Corruptions".
"""

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

# Parameters in pixels are defined for this image side.
_REFERENCE_SIZE = 224


def _scale(images: Array) -> float:
  return min(images.shape[1:3]) / _REFERENCE_SIZE


def _gaussian_noise(images: Array, key: Array, sigma: float) -> Array:
  return images + sigma * jax.random.normal(key, images.shape, images.dtype)


def _shot_noise(images: Array, key: Array, photons: float) -> Array:
  # Poisson photon counts at `photons` per unit intensity, rescaled.
  counts = jax.random.poisson(key, images * photons, images.shape)
  return counts.astype(images.dtype) / photons


def _blur_axis(images: Array, weights: np.ndarray, axis: int) -> Array:
  radius = len(weights) // 2
  pad = [(0, 0)] * images.ndim
  pad[axis] = (radius, radius)
  padded = jnp.pad(images, pad, mode="edge")
  n = images.shape[axis]
  return sum(
    w * jax.lax.slice_in_dim(padded, t, t + n, axis=axis)
    for t, w in enumerate(weights)
  )


def _gaussian_blur(images: Array, key: Array, sigma: float) -> Array:
  del key
  s = sigma * _scale(images)
  # scipy.ndimage / skimage: truncate at 4 sigma, edges repeated ('nearest').
  radius = int(4.0 * s + 0.5)
  if radius == 0:
    return images
  t = np.arange(-radius, radius + 1)
  weights = np.exp(-0.5 * (t / s) ** 2)
  weights = (weights / weights.sum()).astype(np.float32)
  return _blur_axis(_blur_axis(images, weights, 1), weights, 2)


def _luma_mean(images: Array) -> Array:
  # PIL's ImageEnhance.Contrast blends with the mean grey level (ITU-R 601
  # luma); for grey images (R = G = B) it is the plain mean.
  luma = images @ jnp.array([0.299, 0.587, 0.114], images.dtype)
  return luma.mean(axis=(1, 2))[:, None, None, None]


def _contrast(images: Array, key: Array, factor: float) -> Array:
  del key
  mean = _luma_mean(images)
  return mean + factor * (images - mean)


def _brightness(images: Array, key: Array, factor: float) -> Array:
  del key
  return images * factor  # PIL ImageEnhance.Brightness: blend with black.


def _gamma(images: Array, key: Array, gamma: float) -> Array:
  del key
  return images**gamma  # torchvision adjust_gamma with gain 1.


# ITU-T T.81 Annex K.1: the example luminance and chrominance tables.
_LUMA_TABLE = np.array([
  [16, 11, 10, 16, 24, 40, 51, 61],
  [12, 12, 14, 19, 26, 58, 60, 55],
  [14, 13, 16, 24, 40, 57, 69, 56],
  [14, 17, 22, 29, 51, 87, 80, 62],
  [18, 22, 37, 56, 68, 109, 103, 77],
  [24, 35, 55, 64, 81, 104, 113, 92],
  [49, 64, 78, 87, 103, 121, 120, 101],
  [72, 92, 95, 98, 112, 100, 103, 99],
])  # fmt: skip
_CHROMA_TABLE = np.full((8, 8), 99)
_CHROMA_TABLE[:4, :4] = [
  [17, 18, 24, 47],
  [18, 21, 26, 66],
  [24, 26, 56, 99],
  [47, 66, 99, 99],
]
# JFIF full-range RGB -> YCbCr (the offset 128 of Cb, Cr is added apart).
_YCBCR = np.array([
  [0.299, 0.587, 0.114],
  [-0.168736, -0.331264, 0.5],
  [0.5, -0.418688, -0.081312],
])  # fmt: skip


def jpeg_tables(quality: float) -> np.ndarray:
  """(3, 8, 8) quantisation tables (Y, Cb, Cr) at an IJG quality 1..100.

  libjpeg's `jpeg_quality_scaling`: scale = 5000 / q below 50, else
  200 − 2q; entries floor((T · scale + 50) / 100) clamped to [1, 255].
  """
  q = min(max(quality, 1), 100)
  scale = 5000 / q if q < 50 else 200 - 2 * q
  tables = np.stack([_LUMA_TABLE, _CHROMA_TABLE, _CHROMA_TABLE])
  return np.clip(np.floor((tables * scale + 50) / 100), 1, 255)


def _dct_matrix() -> np.ndarray:
  """Orthonormal 8-point DCT-II: D[k, n] = c_k cos((2n + 1) k π / 16)."""
  k, n = np.meshgrid(np.arange(8), np.arange(8), indexing="ij")
  d = np.cos((2 * n + 1) * k * np.pi / 16) / 2
  d[0] = math.sqrt(1 / 8)
  return d


def _jpeg(images: Array, key: Array, quality: float) -> Array:
  del key
  b, h, w, _ = images.shape
  pixels = jnp.round(images * 255)  # The encoder sees 8-bit samples.
  ycc = pixels @ jnp.asarray(_YCBCR.T, images.dtype) - jnp.array(
    [128, 0, 0], images.dtype
  )  # Level shift: Y − 128; Cb, Cr are already centred on 0.
  # Edge replication up to whole 8x8 blocks, as encoders pad.
  ycc = jnp.pad(ycc, ((0, 0), (0, -h % 8), (0, -w % 8), (0, 0)), mode="edge")
  hb, wb = ycc.shape[1] // 8, ycc.shape[2] // 8
  blocks = ycc.reshape(b, hb, 8, wb, 8, 3)
  d = jnp.asarray(_dct_matrix(), images.dtype)
  coeffs = jnp.einsum("ku,bhuwvc,lv->bhwckl", d, blocks, d)
  table = jnp.asarray(jpeg_tables(quality), images.dtype)
  coeffs = jnp.round(coeffs / table) * table
  blocks = jnp.einsum("ku,bhwckl,lv->bhuwvc", d, coeffs, d)
  ycc = blocks.reshape(b, hb * 8, wb * 8, 3)[:, :h, :w]
  ycc = ycc + jnp.array([128, 0, 0], images.dtype)
  rgb = ycc @ jnp.asarray(np.linalg.inv(_YCBCR).T, images.dtype)
  return jnp.clip(jnp.round(rgb), 0, 255) / 255  # The decoder's 8 bits.


def _resolution(images: Array, key: Array, factor: float) -> Array:
  del key
  b, h, w, c = images.shape
  small = (b, max(1, round(h * factor)), max(1, round(w * factor)), c)
  low = jax.image.resize(images, small, "linear", antialias=True)
  return jax.image.resize(low, images.shape, "linear")


def bias_field_monomials(h: int, w: int, order: int = 3) -> np.ndarray:
  """(P, H, W) monomials y^i x^j, i + j <= order, i outer, j inner.

  Coordinates are pixel centres scaled to [−1, 1] (TorchIO's
  `RandomBiasField`). P = 10 for order 3.
  """
  y, x = np.meshgrid(
    np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij"
  )
  return np.stack(
    [y**i * x**j for i in range(order + 1) for j in range(order + 1 - i)]
  )


def _bias_field(images: Array, key: Array, magnitude: float) -> Array:
  monomials = jnp.asarray(bias_field_monomials(*images.shape[1:3]))
  coeffs = jax.random.uniform(
    key, (images.shape[0], len(monomials)), minval=-magnitude, maxval=magnitude
  )
  log_field = jnp.einsum("bp,phw->bhw", coeffs, monomials)
  return images * jnp.exp(log_field)[..., None].astype(images.dtype)


def warp(images: Array, angle: Array, offset: Array) -> Array:
  """Rotates each image about its centre, then moves it; bilinear, 0 fill.

  Output pixel (r, c) reads the input at centre + R·((r, c) − centre) −
  offset with R rotating content counter-clockwise by `angle` as displayed
  (rows downwards): 90° is `np.rot90`. Samples outside the image read 0
  (black), interpolated up to one pixel beyond the edge.

  Args:
    images: (B, H, W, C).
    angle: (B,) radians.
    offset: (B, 2) content displacement in pixels (rows, columns).
  """
  h, w = images.shape[1:3]
  rows, cols = jnp.meshgrid(
    jnp.arange(h, dtype=jnp.float32),
    jnp.arange(w, dtype=jnp.float32),
    indexing="ij",
  )
  dr, dc = rows - (h - 1) / 2, cols - (w - 1) / 2

  def one(image, theta, shift):
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    src_r = (h - 1) / 2 + cos * dr + sin * dc - shift[0]
    src_c = (w - 1) / 2 - sin * dr + cos * dc - shift[1]
    channel = functools.partial(
      jax.scipy.ndimage.map_coordinates,
      coordinates=[src_r, src_c],
      order=1,
      mode="constant",
      cval=0.0,
    )
    return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

  return jax.vmap(one)(images, angle, offset)


def _signs(key: Array, shape: tuple[int, ...]) -> Array:
  return jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0)


def _rotation(images: Array, key: Array, degrees: float) -> Array:
  angle = _signs(key, images.shape[:1]) * math.radians(degrees)
  return warp(images, angle, jnp.zeros((images.shape[0], 2)))


def _shift(images: Array, key: Array, fraction: float) -> Array:
  size = jnp.array(images.shape[1:3], jnp.float32)
  offset = _signs(key, (images.shape[0], 2)) * fraction * size
  return warp(images, jnp.zeros(images.shape[0]), offset)


@dataclasses.dataclass(frozen=True)
class Corruption:
  """One corruption of images in [0, 1] (before the final clip to [0, 1]).

  Attributes:
    fn: (images (B, H, W, C), key, parameter) -> images.
    params: the parameter at severities 1..5.
    random: whether it draws from the key (deterministic ones ignore it).
    source: where the definition and the table come from.
  """

  fn: Callable[[Array, Array, float], Array]
  params: tuple[float, ...]
  random: bool
  source: str


_MEDMNIST_C = "MedMNIST-C chestmnist"
CORRUPTIONS: dict[str, Corruption] = {
  "gaussian_noise": Corruption(
    _gaussian_noise, (0.04, 0.08, 0.12, 0.18, 0.26), True, _MEDMNIST_C
  ),
  "shot_noise": Corruption(_shot_noise, (60, 25, 18, 10, 5), True, _MEDMNIST_C),
  "gaussian_blur": Corruption(
    _gaussian_blur, (1, 2, 3, 4, 6), False, "ImageNet-C (sigma at 224 px)"
  ),
  "contrast_down": Corruption(
    _contrast, (0.9, 0.8, 0.7, 0.6, 0.4), False, _MEDMNIST_C
  ),
  "contrast_up": Corruption(
    _contrast, (1.1, 1.2, 1.3, 1.4, 1.6), False, _MEDMNIST_C
  ),
  "brightness_down": Corruption(
    _brightness, (0.9, 0.8, 0.7, 0.6, 0.5), False, _MEDMNIST_C
  ),
  "brightness_up": Corruption(
    _brightness, (1.1, 1.2, 1.3, 1.4, 1.5), False, _MEDMNIST_C
  ),
  "gamma_down": Corruption(
    _gamma, (0.9, 0.8, 0.7, 0.6, 0.4), False, _MEDMNIST_C
  ),
  "gamma_up": Corruption(_gamma, (1.1, 1.2, 1.3, 1.4, 1.6), False, _MEDMNIST_C),
  "jpeg": Corruption(
    _jpeg, (50, 30, 15, 10, 7), False, _MEDMNIST_C + " (quality)"
  ),
  "resolution": Corruption(
    _resolution,
    (0.6, 0.5, 0.4, 0.3, 0.25),
    False,
    "ImageNet-C pixelate factors",
  ),
  "bias_field": Corruption(
    _bias_field,
    (0.1, 0.2, 0.3, 0.4, 0.5),
    True,
    "TorchIO RandomBiasField (order 3; 0.5 is its default)",
  ),
  "rotation": Corruption(
    _rotation, (2, 4, 6, 8, 10), True, "xaijax (degrees, random sign)"
  ),
  "shift": Corruption(
    _shift,
    (0.02, 0.04, 0.06, 0.08, 0.10),
    True,
    "xaijax (fraction of the side, random signs)",
  ),
}


@functools.partial(jax.jit, static_argnames=("name", "param"))
def _corrupt(images: Array, key: Array, name: str, param: float) -> Array:
  out = CORRUPTIONS[name].fn(images.astype(jnp.float32), key, param)
  return jnp.clip(out, 0.0, 1.0)


@functools.partial(jax.jit, static_argnames=("name", "param"))
def _corrupt_each(images: Array, keys: Array, name: str, param: float) -> Array:
  # Each image as a batch of one with its own key.
  return jax.vmap(lambda x, k: _corrupt(x[None], k, name, param)[0])(
    images, keys
  )


def corrupt(images, name: str, severity: int, key: Array | None) -> Array:
  """`images` (B, H, W, C) in [0, 1] corrupted by `name` at `severity`.

  Args:
    images: float images in [0, 1] (use `to_unit` on normalised images).
    name: a key of `CORRUPTIONS`.
    severity: 1 (mild) .. 5 (strong).
    key: PRNG key; required by the random corruptions, ignored (may be
      None) by the others. One key draws for the whole batch; (B,) keys,
      one per image, draw each image from its own key (an image's
      corruption then does not depend on its batch).

  Returns:
    float32 (B, H, W, C) in [0, 1].

  Raises:
    ValueError: an unknown name, a severity outside 1..5, a missing key,
      or images that are not (B, H, W, C) in [0, 1].
  """
  if name not in CORRUPTIONS:
    raise ValueError(
      f"Unknown corruption '{name}'; choose from {', '.join(CORRUPTIONS)}."
    )
  spec = CORRUPTIONS[name]
  if (
    isinstance(severity, bool)
    or not isinstance(severity, int | np.integer)
    or not 1 <= severity <= 5
  ):
    raise ValueError(f"severity must be an integer in 1..5; got {severity!r}.")
  if spec.random and key is None:
    raise ValueError(f"'{name}' is random: pass a key, e.g. jax.random.key(0).")
  images = jnp.asarray(images)
  if images.ndim != 4:
    raise ValueError(f"images must be (B, H, W, C); got shape {images.shape}.")
  lo, hi = float(images.min()), float(images.max())
  if lo < 0 or hi > 1:
    raise ValueError(
      f"images must lie in [0, 1]; got [{lo:.3g}, {hi:.3g}]. Convert "
      "normalised images with to_unit(images, mean, std)."
    )
  if key is None:
    key = jax.random.key(0)  # Unused; one signature for the jitted call.
  param = float(spec.params[severity - 1])
  typed = jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
  if not typed or key.ndim == 0:  # one key (typed, or a raw uint32 pair)
    return _corrupt(images, key, name, param)
  if jnp.shape(key) != images.shape[:1]:
    raise ValueError(
      f"key must be one key or (B,) = ({images.shape[0]},) keys; got shape "
      f"{jnp.shape(key)}."
    )
  return _corrupt_each(images, key, name, param)


def _channel_stats(mean: Sequence[float], std: Sequence[float]):
  return jnp.asarray(mean, jnp.float32), jnp.asarray(std, jnp.float32)


def to_unit(images, mean: Sequence[float], std: Sequence[float]) -> Array:
  """Normalised (x − mean) / std images -> [0, 1] (clipped: undoes the
  round-off of the normalisation)."""
  m, s = _channel_stats(mean, std)
  return jnp.clip(jnp.asarray(images, jnp.float32) * s + m, 0.0, 1.0)


def to_normalized(images, mean: Sequence[float], std: Sequence[float]) -> Array:
  """[0, 1] images -> (x − mean) / std, the models' input."""
  m, s = _channel_stats(mean, std)
  return (jnp.asarray(images, jnp.float32) - m) / s
