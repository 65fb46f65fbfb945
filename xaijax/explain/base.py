# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What a CAM weighting sees, and how a method is registered.

A CAM method is its weighting: a function of `CamInputs` that returns the
per-channel contributions (B, h, w, C). The shared code sums them over the
channels (or projects them on their first principal component for the eigen
methods and `eigen_smooth`) and post-processes the map.
"""

import dataclasses
from collections.abc import Callable

import jax

Array = jax.Array


@dataclasses.dataclass(frozen=True)
class CamInputs:
  """Everything a weighting may use, for one layer.

  Attributes:
    acts: (B, h, w, C) float32 activations A.
    grads: (B, h, w, C) float32 gradients G of the summed target scores, or
      None for gradient-free methods.
    images: (B, H, W, 3) the normalised input images.
    scores: (B,) float32 clean target scores.
    score_images: (B, k, H, W, 3) k variants of each image -> (B, k) target
      scores of that image's class (a full forward pass of B * k images,
      image-major so that a batch sharded over devices stays sharded).
    score_layer: (B, h, w, C) activation of this layer -> (B,) target scores
      (the head only).
    key: PRNG key for random methods, or None.
    chunk_size: channels evaluated per vmapped step (ScoreCAM, AblationCAM).
    ablation_value: AblationCAM's replacement rule.
  """

  acts: Array
  grads: Array | None
  images: Array
  scores: Array
  score_images: Callable[[Array], Array]
  score_layer: Callable[[Array], Array]
  key: Array | None
  chunk_size: int
  ablation_value: str


@dataclasses.dataclass(frozen=True)
class Method:
  """A registered CAM method.

  Attributes:
    weighting: CamInputs -> (B, h, w, C) channel contributions.
    gradients: whether it needs G (a backward pass).
    projects: sum contributions over channels (False) or project them on
      the first principal component (True: EigenCAM, EigenGradCAM).
  """

  weighting: Callable[[CamInputs], Array]
  gradients: bool
  projects: bool = False


def channel_weighted(weights: Array, acts: Array) -> Array:
  """(B, C) channel weights and (B, h, w, C) A -> contributions w_k A^k."""
  return weights[:, None, None, :] * acts
