# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ROAD: RemOve And Debias (Rong et al. 2022), as in pytorch-grad-cam.

For a map M (H, W) and percentile p, the threshold is θ = np.percentile(M, p)
(numpy's linear interpolation) and the keep-mask is 1[M < θ] (strict):

* MoRF (most relevant first) removes the pixels with M ≥ θ(M, p), about the
  top (100 − p)%;
* LeRF (least relevant first) applies the same rule to 1 − M, removing the
  least relevant (100 − p)%.

Ties follow upstream exactly: when θ equals the map's minimum (large exactly
zero regions after the CAM's ReLU), nothing is kept and the whole image is
imputed. Removed pixels are filled by the noisy linear imputer: each removed
pixel is the weighted mean of its in-image 8-neighbours (1/6 edges, 1/12
diagonals), one sparse linear system per image solved on the host with
scipy.sparse (as upstream), plus `noise · N(0, 1)` on the removed pixels only,
drawn on device from an explicit key (upstream's noise is unseeded). Images
are normalised, so imputation and noise are in normalised units.

Scores are softmax-probability changes p_c(x̃) − p_c(x) per image, as
upstream's `ROADMostRelevantFirst` / `ROADLeastRelevantFirst`; `combined`
is upstream's `ROADCombined`: (mean_p Δ_LeRF − mean_p Δ_MoRF) / 2, higher is
better.
"""

import functools
import zlib
from collections.abc import Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from xaijax.evaluate import _model

Array = jax.Array

# (row offset, column offset, weight) of the 8 neighbours.
_NEIGHBOURS = (
  (1, 1, 1 / 12),
  (0, 1, 1 / 6),
  (-1, 1, 1 / 12),
  (1, -1, 1 / 12),
  (0, -1, 1 / 6),
  (-1, -1, 1 / 12),
  (1, 0, 1 / 6),
  (-1, 0, 1 / 6),
)

ORDERS = ("morf", "lerf")


def keep_mask(cam, percentile: float, order: str) -> np.ndarray:
  """(H, W) bool, True where ROAD keeps the pixel.

  Args:
    cam: (H, W) map in [0, 1].
    percentile: p in [0, 100].
    order: 'morf' (remove the most relevant) or 'lerf' (the least).
  """
  if order not in ORDERS:
    raise ValueError(f"order must be one of {ORDERS}, got '{order}'.")
  if not 0 <= percentile <= 100:
    raise ValueError(f"percentile must lie in [0, 100], got {percentile}.")
  cam = np.asarray(cam, np.float32)
  ranked = cam if order == "morf" else np.float32(1) - cam
  # Upstream compares a float32 tensor with numpy's float32 percentile.
  return ranked < np.float32(np.percentile(ranked, percentile))


def linear_impute(image, keep) -> np.ndarray:
  """Noise-free linear imputation of the removed pixels (host, scipy).

  Solves, for every removed pixel p, Σ_q w_pq (v_q − v_p) = 0 over its
  in-image 8-neighbours q (known neighbours enter as constants), one system
  with C right-hand sides.

  Args:
    image: (H, W, C) normalised image.
    keep: (H, W) bool, False where the pixel is imputed.

  Returns:
    (H, W, C) float32 image with the removed pixels filled.
  """
  image = np.asarray(image, np.float32)
  keep = np.asarray(keep, bool)
  h, w, c = image.shape
  if keep.shape != (h, w):
    raise ValueError(f"keep mask {keep.shape} does not match image {(h, w)}.")
  flat_keep = keep.ravel()
  flat = image.reshape(h * w, c)
  missing = np.flatnonzero(~flat_keep)
  n = missing.size
  if n == 0:
    return image.copy()
  variable = np.full(h * w, -1)
  variable[missing] = np.arange(n)
  row, col = np.divmod(missing, w)
  diagonal = np.ones(n)
  rhs = np.zeros((n, c))
  rows, cols, vals = [], [], []
  for dr, dc, weight in _NEIGHBOURS:
    r, q = row + dr, col + dc
    inside = (r >= 0) & (r < h) & (q >= 0) & (q < w)
    # Missing neighbours outside the image drop out of the average.
    diagonal[~inside] -= weight
    equation = np.flatnonzero(inside)
    neighbour = r[inside] * w + q[inside]
    known = flat_keep[neighbour]
    rhs[equation[known]] -= weight * flat[neighbour[known]]
    rows.append(equation[~known])
    cols.append(variable[neighbour[~known]])
    vals.append(np.full((~known).sum(), weight))
  rows.append(np.arange(n))
  cols.append(np.arange(n))
  vals.append(-diagonal)
  system = scipy.sparse.csc_matrix(
    (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
    shape=(n, n),
  )
  solution = scipy.sparse.linalg.spsolve(system, rhs).reshape(n, c)
  out = flat.copy()
  out[missing] = solution
  return out.reshape(h, w, c)


@functools.cache
def _add_noise():
  def add(images, keep, keys, noise):
    # One draw per image from its own key: an image's noise does not depend
    # on the other images of its batch (a cached, resumed study relies on it).
    eps = jax.vmap(
      lambda k: jax.random.normal(k, images.shape[:1] + images.shape[2:]),
      out_axes=1,
    )(keys).astype(images.dtype)
    return images + noise * eps * (1 - keep[..., None].astype(images.dtype))

  return jax.jit(add)


def image_keys(key, batch: int) -> Array:
  """(B,) per-image keys from one key (split) or from (B,) keys (as given)."""
  if key is None:
    return None
  if not jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.wrap_key_data(key)  # a raw uint32 PRNGKey
  if key.shape == ():
    return jax.random.split(key, batch)
  if key.shape != (batch,):
    raise ValueError(
      f"key must be one PRNG key or one per image ({batch},); got shape "
      f"{key.shape}."
    )
  return key


def perturb(images, maps, percentiles, order: str, *, noise: float, key):
  """ROAD-perturbed images (P, B, H, W, C) and keep-masks (P, B, H, W).

  Args:
    images: (B, H, W, C) normalised images.
    maps: (B, H, W) maps.
    percentiles: (P,) percentiles.
    order: 'morf' or 'lerf'.
    noise: std of the imputation noise (normalised units); 0 disables it.
    key: PRNG key for the noise (required when noise > 0): one key (split
      over the images) or (B,) keys, one per image.
  """
  images = np.asarray(images, np.float32)
  maps = np.asarray(maps, np.float32)
  keeps = np.stack(
    [np.stack([keep_mask(m, p, order) for m in maps]) for p in percentiles]
  )
  filled = np.stack(
    [
      np.stack([linear_impute(x, k) for x, k in zip(images, ks, strict=True)])
      for ks in keeps
    ]
  )
  if noise:
    if key is None:
      raise ValueError("ROAD with noise > 0 needs an explicit PRNG key.")
    keys = image_keys(key, len(images))
    filled = _add_noise()(filled, keeps, keys, noise)
  return jnp.asarray(filled), keeps


def _method_keys(keys, method: str, order: int):
  """Per-image keys for one method and order, from the method's NAME: the
  noise of a method does not depend on which other methods are scored."""
  if keys is None:
    return None
  salt = zlib.crc32(method.encode())
  return jax.vmap(
    lambda k: jax.random.fold_in(jax.random.fold_in(k, salt), order)
  )(keys)


def road_scores(
  module: nn.Module,
  variables: Mapping,
  images,
  maps: Mapping[str, Array],
  targets=None,
  *,
  percentiles: Sequence[float] = (20, 40, 60, 80),
  noise: float = 0.01,
  key=None,
  logits=None,
  batch_size: int | None = None,
) -> dict[str, dict[str, np.ndarray]]:
  """ROAD MoRF/LeRF curves and the combined score for several methods.

  Args:
    module, variables: the classifier.
    images: (B, H, W, C) normalised images.
    maps: {method: (B, H, W) map in [0, 1]}.
    targets: (B,) classes, or None for the clean prediction.
    percentiles: (P,) ROAD percentiles (upstream's tutorial: 20, 40, 60, 80).
    noise: imputation noise std (upstream 0.01); 0 for the deterministic
      imputer.
    key: PRNG key for the noise: one key (split over the images) or (B,)
      keys, one per image; each method (by name) and order gets a fold.
    logits: (B, K) clean logits if already computed.
    batch_size: forward chunk size for the perturbed images (default B,
      reusing the clean forward's compilation).

  Returns:
    {method: {'morf': (B, P), 'lerf': (B, P), 'combined': (B,)}} float32
    probability changes.
  """
  images = jnp.asarray(images)
  _model.check_maps(images, maps)
  batch_size = batch_size or images.shape[0]
  clean, targets = _model.clean_forward(
    module, variables, images, logits, targets, batch_size
  )
  p_clean = _model.class_probability(clean, jnp.asarray(targets))
  keys = image_keys(key, images.shape[0])
  out = {}
  for name, m in maps.items():
    result = {}
    for j, order in enumerate(ORDERS):
      sub = _method_keys(keys, name, j)
      perturbed, _ = perturb(
        images, m, percentiles, order, noise=noise, key=sub
      )
      z = _model.stacked_logits(module, variables, perturbed, batch_size)
      q = _model.class_probability(z, jnp.asarray(targets))
      result[order] = np.asarray((q - p_clean).T, np.float32)
    result["combined"] = (
      result["lerf"].mean(1) - result["morf"].mean(1)
    ) / np.float32(2)
    out[name] = result
  return out
