# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Capture of activations and gradients at named layers, in one pass.

`capture` runs ONE eval-mode forward pass that records the activations A of
the requested layers and, when gradients are wanted, ONE backward pass from the
target score down to those layers only (`xaijax.models.activations_and_
gradients`), never through the features below them. A and G come back in
float32 whatever the model's compute dtype, so the CAM arithmetic that follows
is float32 even for a bfloat16 model.
"""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax import models
from xaijax.explain import targets as targets_lib

Array = jax.Array


class Capture(NamedTuple):
  """What one capture returns.

  Attributes:
    logits: (B, K) float32 clean logits.
    classes: (B,) int32 explained class per image.
    scores: (B,) float32 target score per image (see `targets.scores`).
    acts: {layer: (B, h, w, C) float32 activation}.
    grads: {layer: (B, h, w, C) float32 d(sum_b score_b)/dA}, or None when
      gradients were not requested.
  """

  logits: Array
  classes: Array
  scores: Array
  acts: dict[str, Array]
  grads: dict[str, Array] | None


def _classes(logits: Array, classes: Array | None) -> Array:
  if classes is None:
    return targets_lib.predicted_classes(jax.lax.stop_gradient(logits))
  return classes


def capture(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  layers: Sequence[str],
  classes: Array | None = None,
  *,
  score: str = "logit",
  gradients: bool = True,
) -> Capture:
  """Activations (and gradients) of `layers` for per-image targets.

  Args:
    module: a model from `xaijax.models.create`.
    variables: its variables.
    images: (B, H, W, 3) normalised images.
    layers: layer names (torchvision module paths).
    classes: (B,) int class per image; None explains the predicted class.
    score: "logit" (CAM default) or "softmax".
    gradients: False skips the backward pass (EigenCAM, ScoreCAM, ...).

  Returns:
    A `Capture`.
  """
  layers = tuple(layers)

  def objective(logits):
    cls = _classes(logits, classes)
    return jnp.sum(targets_lib.scores(logits, cls, score))

  if gradients:
    logits, acts, grads = models.activations_and_gradients(
      module, variables, images, layers, objective
    )
    grads = {k: v.astype(jnp.float32) for k, v in grads.items()}
  else:
    logits, acts = models.forward(module, variables, images, capture=layers)
    grads = None
  logits = logits.astype(jnp.float32)
  cls = _classes(logits, classes)
  return Capture(
    logits=logits,
    classes=cls,
    scores=targets_lib.scores(logits, cls, score),
    acts={k: v.astype(jnp.float32) for k, v in acts.items()},
    grads=grads,
  )
