# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Capture of activations and gradients at named layers, in one pass.

`capture` runs ONE eval-mode forward pass that records the activations A of
the requested layers and, when gradients are wanted, ONE backward pass from the
target score down to those layers only (`xaijax.models.activations_and_
gradients`), never through the features below them. A and G come back in
float32 whatever the model's compute dtype, so the CAM arithmetic that follows
is float32 even for a bfloat16 model.

A transformer's token layers, (B, T, D), come back as maps (B, H/p, W/p, D):
the class token dropped and the patch tokens laid out row-major on the
image's patch grid, as pytorch-grad-cam's documented `vit_reshape_transform`
does to its activations and gradients. Every CAM then applies unchanged.
"""

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax import models
from xaijax.explain import targets as targets_lib

Array = jax.Array


def token_layout(module: nn.Module) -> models.registry.Tokens | None:
  """The token layout of a registered transformer, None for a CNN."""
  for spec in models.MODELS.values():
    if isinstance(module, spec.constructor):
      return spec.tokens
  return None


def grid_shape(patches: int, image_hw: Sequence[int]) -> tuple[int, int]:
  """(rows, columns) of `patches` square patches tiling an H x W image."""
  height, width = image_hw
  rows = math.isqrt(patches * height // width)
  if not rows or rows * (patches // rows) != patches:
    raise ValueError(
      f"{patches} patches do not tile a {height}x{width} image evenly."
    )
  return rows, patches // rows


def tokens_to_grid(tokens: Array, prefix: int, image_hw) -> Array:
  """(B, prefix + P, D) tokens -> (B, rows, columns, D) patch map."""
  patches = tokens[:, prefix:]
  rows, cols = grid_shape(patches.shape[1], image_hw)
  return patches.reshape(patches.shape[0], rows, cols, patches.shape[-1])


class Capture(NamedTuple):
  """What one capture returns.

  Attributes:
    logits: (B, K) float32 clean logits.
    classes: (B,) int32 explained class per image.
    scores: (B,) float32 target score per image (see `targets.scores`).
    acts: {layer: (B, h, w, C) float32 activation} (a transformer's token
      layer as its patch map; an attention layer as (B, heads, T, T)).
    grads: {layer: float32 d(sum_b score_b)/dA, shaped as acts}, or None
      when gradients were not requested.
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
  else:
    logits, acts = models.forward(module, variables, images, capture=layers)
    grads = None
  layout = token_layout(module)

  def as_map(x):
    x = x.astype(jnp.float32)
    if layout is None or x.ndim != 3:
      return x
    return tokens_to_grid(x, layout.prefix, images.shape[1:3])

  logits = logits.astype(jnp.float32)
  cls = _classes(logits, classes)
  return Capture(
    logits=logits,
    classes=cls,
    scores=targets_lib.scores(logits, cls, score),
    acts={k: as_map(v) for k, v in acts.items()},
    grads=None if grads is None else {k: as_map(v) for k, v in grads.items()},
  )
