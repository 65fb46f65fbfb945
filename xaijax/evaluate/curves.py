# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Deletion and insertion curves (Petsiuk et al., RISE 2018) and their AUC.

Pixels are ranked by the map, most relevant first (ties in raster order).
With S steps, step s ∈ {0, …, S} affects the first round(s·HW/S) pixels:

* deletion replaces them by the baseline (a steep drop, low AUC, is good);
* insertion starts from the baseline and restores them (high AUC is good).

The curve is the target class's softmax probability; the AUC is the
trapezoid rule over the fraction of pixels in [0, 1]. The default baseline is
0 in normalised space, the dataset-mean colour, as CamMult's masking uses.
"""

import functools
from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from xaijax.evaluate import _model

Array = jax.Array


@functools.cache
def _perturbations(steps: int):
  def build(images, maps, baseline):
    b, h, w = maps.shape
    flat = maps.reshape(b, h * w)
    order = jnp.argsort(-flat, axis=-1, stable=True)
    ranks = jnp.argsort(order, axis=-1).reshape(b, h, w)
    counts = jnp.round(jnp.linspace(0, h * w, steps + 1))
    chosen = (ranks[None] < counts[:, None, None, None])[..., None]
    deletion = jnp.where(chosen, baseline[None], images[None])
    insertion = jnp.where(chosen, images[None], baseline[None])
    return deletion, insertion

  return jax.jit(build)


def deletion_insertion(
  module: nn.Module,
  variables: Mapping,
  images,
  maps: Mapping[str, Array],
  targets=None,
  *,
  steps: int = 16,
  baseline=None,
  logits=None,
  batch_size: int | None = None,
) -> dict[str, dict[str, np.ndarray]]:
  """Deletion and insertion curves and AUCs for several methods' maps.

  Args:
    module, variables: the classifier.
    images: (B, H, W, C) normalised images.
    maps: {method: (B, H, W) map}.
    targets: (B,) classes, or None for the clean prediction.
    steps: S, number of steps (the curves have S + 1 points).
    baseline: (B, H, W, C) replacement images; default zeros (mean colour).
    logits: (B, K) clean logits if already computed.
    batch_size: forward chunk size (default B, reusing the clean forward's
      compilation).

  Returns:
    {method: {'deletion', 'insertion': (B, S + 1) probabilities,
    'deletion_auc', 'insertion_auc': (B,)}} float32.
  """
  if steps < 1:
    raise ValueError(f"steps must be positive, got {steps}.")
  images = jnp.asarray(images)
  _model.check_maps(images, maps)
  batch_size = batch_size or images.shape[0]
  baseline = jnp.zeros_like(images) if baseline is None else baseline
  _, targets = _model.clean_forward(
    module, variables, images, logits, targets, batch_size
  )
  targets = jnp.asarray(targets)
  out = {}
  for name, m in maps.items():
    result = {}
    curves = _perturbations(steps)(images, jnp.asarray(m), baseline)
    for kind, perturbed in zip(("deletion", "insertion"), curves, strict=True):
      z = _model.stacked_logits(module, variables, perturbed, batch_size)
      curve = np.asarray(_model.class_probability(z, targets).T, np.float32)
      result[kind] = curve
      result[f"{kind}_auc"] = np.trapezoid(curve, dx=1 / steps, axis=-1)
    out[name] = result
  return out
