# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Robustness of explanations: do the maps survive a change of the input?

Two questions, two families:

* Similarity of the maps of clean and corrupted images (a corruption from
  `xaijax.data.corruptions`, a new scanner, a transform): Spearman rank
  correlation (`rank_correlation`, as the sanity check uses), SSIM and the
  IoU of the top-k% pixels — higher is more robust.
* Quantus' sensitivity metrics under small random input noise:
  Max-Sensitivity, Avg-Sensitivity (Yeh et al. 2019; Bhatt et al. 2020) and
  the Local Lipschitz Estimate (Alvarez-Melis & Jaakkola 2018) with Quantus'
  definitions and defaults — lower is more robust.

The explanation is any callable `explain_fn(images, key) -> maps (B, H, W)`
on normalised (B, H, W, C) images, e.g.
`lambda x, k: explain.cams(module, variables, x, methods=["gradcam"],
targets=labels)["gradcam"]`; fix the targets inside it so that perturbed
images are explained for the same class (Quantus explains the original
label). Definitions and defaults: docs/evaluate.md, "Robustness of
explanations".
"""

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
import scipy.ndimage

from xaijax.evaluate.sanity import rank_correlation

Array = jax.Array
ExplainFn = Callable[[Array, Array], Array]


def _pair(a, b) -> tuple[np.ndarray, np.ndarray]:
  a = np.asarray(a, np.float64)
  b = np.asarray(b, np.float64)
  if a.ndim != 3 or a.shape != b.shape:
    raise ValueError(
      f"Maps must both be (B, H, W); got {a.shape} and {b.shape}."
    )
  return a, b


def _gaussian_window(size: int, sigma: float) -> np.ndarray:
  t = np.arange(size) - (size - 1) / 2
  w = np.exp(-0.5 * (t / sigma) ** 2)
  return w / w.sum()


def ssim(
  a,
  b,
  *,
  window: int = 11,
  sigma: float = 1.5,
  k1: float = 0.01,
  k2: float = 0.03,
  data_range: float = 1.0,
) -> np.ndarray:
  """(B,) mean structural similarity of maps a and b (B, H, W).

  Wang et al. 2004 with their defaults: an 11×11 Gaussian window (σ 1.5),
  C1 = (k1·L)², C2 = (k2·L)², L = `data_range` (1 for maps in [0, 1]);
  weighted (population) local means, variances and covariance; the SSIM
  map over the positions where the window fits inside the map ('valid'),
  averaged: the definition of skimage's `structural_similarity` with
  `gaussian_weights=True, use_sample_covariance=False, data_range=1` (not a
  dependency; not compared). Computed in float64 on the host: 1 for
  identical maps.
  """
  a, b = _pair(a, b)
  if window % 2 == 0 or min(a.shape[1:]) < window:
    raise ValueError(
      f"window must be odd and fit in the maps; got {window} for maps "
      f"{a.shape[1:]} (pass a smaller window for small maps)."
    )
  w = _gaussian_window(window, sigma)
  r = window // 2

  def local_mean(x):
    # Separable window; the 'valid' crop drops every position that saw the
    # zero padding.
    x = scipy.ndimage.correlate1d(x, w, axis=1, mode="constant")
    x = scipy.ndimage.correlate1d(x, w, axis=2, mode="constant")
    return x[:, r : x.shape[1] - r, r : x.shape[2] - r]

  mu_a, mu_b = local_mean(a), local_mean(b)
  var_a = local_mean(a * a) - mu_a**2
  var_b = local_mean(b * b) - mu_b**2
  cov = local_mean(a * b) - mu_a * mu_b
  c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
  index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
    (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
  )
  return index.mean(axis=(1, 2))


def top_k_iou(a, b, *, fraction: float = 0.1) -> np.ndarray:
  """(B,) IoU of the top `fraction` pixels of map a and of map b.

  k = max(1, round(fraction·H·W)) pixels each, the largest values, ties
  taken in raster order (a stable sort), so both sets have exactly k pixels:
  IoU = |A ∩ B| / (2k − |A ∩ B|). The top-k intersection of Ghorbani et al.
  2019, as an IoU.
  """
  a, b = _pair(a, b)
  if not 0 < fraction <= 1:
    raise ValueError(f"fraction must be in (0, 1]; got {fraction}.")
  n, d = a.shape[0], a[0].size
  k = max(1, round(fraction * d))

  def top(x):
    mask = np.zeros((n, d), bool)
    order = np.argsort(-x.reshape(n, d), axis=1, kind="stable")[:, :k]
    np.put_along_axis(mask, order, True, axis=1)
    return mask

  inter = (top(a) & top(b)).sum(1)
  return inter / (2 * k - inter)


def map_similarity(clean, corrupted, *, fraction: float = 0.1) -> dict:
  """{'spearman', 'ssim', 'top_k_iou'}: (B,) each, clean vs corrupted maps.

  Spearman is NaN where either map is constant (see `rank_correlation`).
  """
  return {
    "spearman": rank_correlation(clean, corrupted),
    "ssim": ssim(clean, corrupted),
    "top_k_iou": top_k_iou(clean, corrupted, fraction=fraction),
  }


@jax.jit
def _uniform(key, images, radius):
  return jax.random.uniform(
    key, images.shape, images.dtype, minval=-radius, maxval=radius
  )


@jax.jit
def _gaussian(key, images, std):
  return std * jax.random.normal(key, images.shape, images.dtype)


def _prepare(maps, normalise: bool, absolute: bool) -> Array:
  flat = jnp.asarray(maps, jnp.float32).reshape(maps.shape[0], -1)
  if normalise:
    # Quantus' normalise_by_max over ALL axes, the batch included: one
    # scalar per call, so an image's score depends on its batch.
    top = jnp.abs(flat).max()
    flat = jnp.where(top > 0, flat / jnp.where(top > 0, top, 1), flat)
  return jnp.abs(flat) if absolute else flat


@jax.jit
def _sensitivity(clean, perturbed):
  return jnp.linalg.norm(clean - perturbed, axis=1) / jnp.linalg.norm(
    clean, axis=1
  )


@jax.jit
def _lipschitz(clean, perturbed, noise):
  distance = jnp.linalg.norm(noise.reshape(noise.shape[0], -1), axis=1)
  # Quantus' lipschitz_constant adds 1e-10 to the input distance.
  return jnp.linalg.norm(clean - perturbed, axis=1) / (distance + 1e-10)


def _scores(
  explain_fn: ExplainFn,
  images,
  key: Array,
  perturbations,
  num_samples: int,
  draw: Callable[[Array, Array], Array],
  score: str,
  normalise: bool,
  absolute: bool,
) -> np.ndarray:
  """(S, B) per-sample scores s_k of Quantus' robustness metrics."""
  images = jnp.asarray(images, jnp.float32)
  if images.ndim != 4:
    raise ValueError(
      f"images must be (B, H, W, C) normalised images; got {images.shape}."
    )
  if perturbations is not None:
    perturbations = jnp.asarray(perturbations, jnp.float32)
    if perturbations.ndim != 5 or perturbations.shape[1:] != images.shape:
      raise ValueError(
        f"perturbations must be (S, *images.shape) = (S, {images.shape}); "
        f"got {perturbations.shape}."
      )
    num_samples = perturbations.shape[0]
  if num_samples < 1:
    raise ValueError(f"num_samples must be >= 1; got {num_samples}.")
  # One explainer key for every call: a stochastic explanation's own noise
  # is held fixed, so the scores measure the input perturbation only.
  explain_key, noise_key = jax.random.split(key)
  noise_keys = jax.random.split(noise_key, num_samples)

  def explain(x):
    maps = jnp.asarray(explain_fn(x, explain_key))
    if maps.shape[0] != images.shape[0]:
      raise ValueError(
        f"explain_fn returned maps of shape {maps.shape} for "
        f"{images.shape[0]} images; it must return (B, H, W)."
      )
    return _prepare(maps, normalise, absolute)

  clean = explain(images)
  out = []
  for s in range(num_samples):
    noise = (
      perturbations[s] if perturbations is not None else draw(noise_keys[s])
    )
    perturbed = explain(images + noise)
    if score == "lipschitz":
      out.append(_lipschitz(clean, perturbed, noise))
    else:
      out.append(_sensitivity(clean, perturbed))
  return np.asarray(jnp.stack(out), np.float64)


def max_sensitivity(
  explain_fn: ExplainFn,
  images,
  key: Array,
  *,
  num_samples: int = 200,
  radius: float = 0.2,
  normalise: bool = False,
  absolute: bool = False,
  perturbations=None,
) -> np.ndarray:
  """(B,) Quantus `MaxSensitivity`: max_k ||a − a'_k||₂ / ||a||₂.

  a = explain_fn(x), a'_k = explain_fn(x + ε_k), ε_k ~ U(−radius, radius)
  i.i.d. per element of the normalised images, maps flattened per image.
  Defaults are Quantus': 200 samples, radius 0.2, no normalisation, no abs.
  A map with ||a|| = 0 gives inf (or NaN), as Quantus (no eps).

  Args:
    explain_fn: (images (B, H, W, C), key) -> maps (B, H, W).
    images: (B, H, W, C) normalised images.
    key: PRNG key: split into the explainer's key (the same for every call)
      and the noise keys, `jax.random.split(noise_key, num_samples)`.
    num_samples: number of perturbations.
    radius: half-width of the uniform noise.
    normalise: divide every call's maps by their max |value| over the whole
      batch (Quantus' `normalise_by_max`).
    absolute: take |maps| (after normalising).
    perturbations: optional (S, B, H, W, C) noise to use instead of drawing
      (reproduces another implementation's draws).
  """
  images = jnp.asarray(images, jnp.float32)
  scores = _scores(
    explain_fn,
    images,
    key,
    perturbations,
    num_samples,
    lambda k: _uniform(k, images, radius),
    "sensitivity",
    normalise,
    absolute,
  )
  return np.nanmax(scores, axis=0)


def avg_sensitivity(
  explain_fn: ExplainFn,
  images,
  key: Array,
  *,
  num_samples: int = 200,
  radius: float = 0.2,
  normalise: bool = False,
  absolute: bool = False,
  perturbations=None,
) -> np.ndarray:
  """(B,) Quantus `AvgSensitivity`: the mean over k of Max-Sensitivity's
  ratios, same noise and defaults (see `max_sensitivity`)."""
  images = jnp.asarray(images, jnp.float32)
  scores = _scores(
    explain_fn,
    images,
    key,
    perturbations,
    num_samples,
    lambda k: _uniform(k, images, radius),
    "sensitivity",
    normalise,
    absolute,
  )
  return np.nanmean(scores, axis=0)


def local_lipschitz_estimate(
  explain_fn: ExplainFn,
  images,
  key: Array,
  *,
  num_samples: int = 200,
  std: float = 0.1,
  normalise: bool = True,
  absolute: bool = False,
  perturbations=None,
) -> np.ndarray:
  """(B,) Quantus `LocalLipschitzEstimate`:
  max_k ||a − a'_k||₂ / (||x − x'_k||₂ + 1e-10).

  ε_k ~ N(0, std²) i.i.d. per element; Quantus' defaults: 200 samples,
  std 0.1, **normalise=True** (maps divided by the batch's max |value|, per
  call), no abs. Arguments as `max_sensitivity`.
  """
  images = jnp.asarray(images, jnp.float32)
  scores = _scores(
    explain_fn,
    images,
    key,
    perturbations,
    num_samples,
    lambda k: _gaussian(k, images, std),
    "lipschitz",
    normalise,
    absolute,
  )
  return np.nanmax(scores, axis=0)
