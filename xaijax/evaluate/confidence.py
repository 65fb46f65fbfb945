# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Confidence change of an image multiplied by its explanation map.

pytorch-grad-cam's `CamMultImageConfidenceChange` with a
`ClassifierOutputSoftmaxTarget(c)`: for a normalised image x (so 0 is the
dataset-mean colour, not black) and a map M in [0, 1],

  Δ = p_c(x ⊙ M) − p_c(x),  p = softmax(f(·)),

with c the target class (default: the clean image's predicted class). The
family computed from the same two forwards, per image:

* `delta`: Δ (the paper's "confidence increase"; an absolute change);
* `increase`: 1[Δ > 0] (strict), upstream's IncreaseInConfidence;
* `drop`: max(0, −Δ), upstream's (absolute) DropInConfidence;
* `avg_drop_pct`: 100 · max(0, p_c(x) − p_c(x ⊙ M)) / p_c(x), Chattopadhyay
  et al.'s Average Drop (relative; its mean over images is the paper's %);
* `increase_pct`: 100 · 1[p_c(x ⊙ M) > p_c(x)], Chattopadhyay's Increase in
  Confidence (its mean over images is the % of images);
* `logit_delta`: f_c(x ⊙ M) − f_c(x);
* `target`, `p_clean`, `p_masked` for the record.

All methods share ONE clean forward, then one forward of B masked images per
method. `xaijax.explain.cams_by_layer` returns the CAM capture's logits:
passed on (`logits=`), they are that clean forward, the floor of 1 + M
forwards for maps and scores together.
"""

from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from xaijax.evaluate import _model

Array = jax.Array


def scores_from_logits(clean, masked, targets) -> dict[str, np.ndarray]:
  """The confidence family from clean (B, K) and perturbed (..., B, K) logits.

  Args:
    clean: (B, K) logits of the clean images.
    masked: (..., B, K) logits of the perturbed images.
    targets: (B,) int target classes.

  Returns:
    {metric: (..., B) float32 numpy}, metrics as in the module docstring.
  """
  targets = jnp.asarray(targets)
  p = _model.class_probability(clean, targets)
  q = _model.class_probability(masked, targets)
  delta = q - p
  increase = (delta > 0).astype(jnp.float32)
  z = jnp.take_along_axis(clean, targets[:, None], -1)[:, 0]
  zq = jnp.take_along_axis(
    masked, jnp.broadcast_to(targets[:, None], (*masked.shape[:-1], 1)), -1
  )[..., 0]
  out = {
    "delta": delta,
    "increase": increase,
    "drop": jnp.maximum(0.0, -delta),
    # p > 0 always for a finite softmax; the guard only avoids 0/0 on
    # underflow to an exact 0.
    "avg_drop_pct": 100 * jnp.maximum(0.0, -delta) / jnp.maximum(p, 1e-30),
    "increase_pct": 100 * increase,
    "logit_delta": zq - z,
    "target": jnp.broadcast_to(targets, delta.shape).astype(jnp.float32),
    "p_clean": jnp.broadcast_to(p, delta.shape),
    "p_masked": q,
  }
  return {k: np.asarray(v, np.float32) for k, v in out.items()}


def confidence_scores(
  module: nn.Module,
  variables: Mapping,
  images,
  maps: Mapping[str, Array],
  targets=None,
  *,
  logits=None,
  batch_size: int | None = None,
) -> dict[str, dict[str, np.ndarray]]:
  """The confidence-change family for several methods' maps at once.

  Args:
    module: a Flax classifier (`module.apply(variables, x, train=False)`).
    variables: its variables.
    images: (B, H, W, C) normalised images.
    maps: {method: (B, H, W) map in [0, 1]}.
    targets: (B,) classes, or None for each clean image's predicted class.
    logits: (B, K) clean logits if already computed (e.g. by the CAM pass);
      skips the clean forward.
    batch_size: forward chunk size (default B: each method's masked batch
      is one forward reusing the clean forward's compilation; on CPU one
      batch of M·B images is slower per image).

  Returns:
    {method: {metric: (B,) float32}}; metrics as in the module docstring.
  """
  images = jnp.asarray(images)
  _model.check_maps(images, maps)
  batch_size = batch_size or images.shape[0]
  clean, targets = _model.clean_forward(
    module, variables, images, logits, targets, batch_size
  )
  names = list(maps)
  stacked = jnp.stack([jnp.asarray(maps[m], images.dtype) for m in names])
  # Every method's masked images, forwarded in chunks of batch_size.
  masked = _model.stacked_logits(
    module, variables, images[None] * stacked[..., None], batch_size
  )
  scores = scores_from_logits(clean, masked, targets)
  return {m: {k: v[i] for k, v in scores.items()} for i, m in enumerate(names)}


def confidence_change(
  module: nn.Module, variables: Mapping, images, maps, targets=None
) -> np.ndarray:
  """p_c(x ⊙ map) − p_c(x) per image, as CamMultImageConfidenceChange.

  Args:
    module, variables: the classifier.
    images: (B, H, W, C) normalised images.
    maps: (B, H, W) maps in [0, 1].
    targets: (B,) classes, or None for each image's predicted class.

  Returns:
    (B,) float32 softmax-probability changes.
  """
  scores = confidence_scores(module, variables, images, {"map": maps}, targets)
  return scores["map"]["delta"]
