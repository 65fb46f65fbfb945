# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Squeeze-and-excitation channel attention as a map (EfficientNet-B0).

A squeeze-and-excitation module (torchvision's `SqueezeExcitation`, e.g.
`features.6.3.block.2`) rescales each channel of the activation A it
receives by a gate computed from the image itself,
g = sigmoid(fc2(silu(fc1(mean_hw A)))) in (0, 1)^C: the model's own channel
attention. `se_attention` uses the gates as CAM channel weights on A,

  map = ReLU(sum_c g_c A_c),

which is the channel sum of the module's output g * A, then the shared
post-processing (min-max, resize). The layer is the SE module's path.

What it is: a view of the model's gating, the same for every target class
(no gradient, no class), not an attribution whose faithfulness has been
tested; read it like EigenCAM rather than like GradCAM.
"""

from collections.abc import Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax import models
from xaijax.explain.base import CamInputs, Method

Array = jax.Array


def se_layers(module: nn.Module, image_shape: Sequence[int]) -> tuple[str, ...]:
  """The squeeze-and-excitation modules (those with `fc1` and `fc2`
  children), in call order."""
  shapes = models.layer_shapes(module, image_shape)
  return tuple(
    name
    for name in shapes
    if f"{name}.fc1" in shapes and f"{name}.fc2" in shapes
  )


def check_layers(
  module: nn.Module, image_shape: Sequence[int], layers: Sequence[str]
) -> None:
  """Raises a ValueError naming the SE modules if a layer is not one."""
  known = se_layers(module, image_shape)
  wrong = [name for name in layers if name not in known]
  if not wrong:
    return
  if not known:
    raise ValueError(
      f"se_attention reads squeeze-and-excitation gates; "
      f"{type(module).__name__} has no SE modules (efficientnet_b0 has)."
    )
  raise ValueError(
    f"se_attention reads squeeze-and-excitation gates and {wrong} are not SE "
    f"modules: pass layer= one of {', '.join(known)} (the last is "
    f"'{known[-1]}')."
  )


def gates(
  module: nn.Module, variables: Mapping, images: Array, layer: str
) -> Array:
  """The gates g of the SE module `layer` for each image.

  Args:
    module, variables: the classifier.
    images: (B, H, W, 3) normalised images.
    layer: an SE module's path, e.g. "features.7.0.block.2".

  Returns:
    (B, C) float32 gates in (0, 1).
  """
  check_layers(module, images.shape, [layer])
  _, acts = models.forward(module, variables, images, capture=[f"{layer}.fc2"])
  logits = acts[f"{layer}.fc2"].astype(jnp.float32)  # (B, 1, 1, C)
  return jax.nn.sigmoid(logits.reshape(logits.shape[0], -1))


def weighting(inputs: CamInputs) -> Array:
  """(B, h, w, C) contributions g_c A_c: the SE module's own output."""
  return inputs.acts


METHOD = Method(weighting, gradients=False)
