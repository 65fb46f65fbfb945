# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Input checks shared by `cams` and `attributions`, run before tracing."""

from collections.abc import Sequence

import flax.linen as nn
import jax

from xaijax import models
from xaijax.models import layers as layers_lib


def model_name(module: nn.Module) -> str:
  """The registry name of a model module (for default layers, LRP)."""
  for name, spec in models.MODELS.items():
    if isinstance(module, spec.constructor):
      return name
  raise ValueError(
    f"{type(module).__name__} is not one of xaijax's models "
    f"({', '.join(models.MODELS)}); pass layer= explicitly."
  )


def num_logits(module: nn.Module, image_shape: Sequence[int]) -> int:
  """K, the size of the model's output (from cached shapes for our models)."""
  shapes = models.layer_shapes(module, image_shape)
  for spec in models.MODELS.values():
    if isinstance(module, spec.constructor):
      return shapes[spec.head].shape[-1]
  out = jax.eval_shape(
    lambda x: module.init_with_output(jax.random.key(0), x)[0],
    jax.ShapeDtypeStruct(tuple(image_shape), jax.numpy.float32),
  )
  return out.shape[-1]


def check_images(images: jax.Array) -> None:
  """Shape/layout errors for images that are not (B, H, W, 3)."""
  layers_lib.check_images(images)


def check_methods(methods: str | Sequence[str], valid: Sequence[str]):
  """Returns the methods as a tuple; unknown names list the valid ones."""
  methods = (methods,) if isinstance(methods, str) else tuple(methods)
  if not methods:
    raise ValueError(f"No methods requested; choose from {', '.join(valid)}.")
  unknown = [m for m in methods if m not in valid]
  if unknown:
    raise ValueError(
      f"Unknown method(s) {unknown}; valid methods: {', '.join(valid)}."
    )
  if len(set(methods)) != len(methods):
    raise ValueError(f"Method names repeat in {list(methods)}.")
  return methods


def raise_if_not_finite(finite: jax.Array) -> None:
  """Turns the in-graph finiteness flag of the images into an error."""
  if not bool(finite):
    raise ValueError(
      "The images contain NaN or infinite values; fix the data pipeline "
      "(e.g. a division by a zero std) or drop those images."
    )
