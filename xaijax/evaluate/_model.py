# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Jitted eval-mode forward passes shared by the scoring functions.

One compiled forward per module (cached on the module, which is hashable), so
every metric and every call with the same shapes reuses the same executable.
"""

import functools
from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


@functools.cache
def _apply(module: nn.Module):
  def apply(variables, images):
    return module.apply(variables, images, train=False).astype(jnp.float32)

  return jax.jit(apply)


def logits(
  module: nn.Module,
  variables: Mapping,
  images,
  *,
  batch_size: int | None = None,
) -> Array:
  """Eval-mode logits (N, K) of images (N, H, W, C), in chunks of batch_size.

  With a batch_size, the images are padded to a multiple of it so that every
  chunk, across calls too, reuses one compiled forward.
  """
  images = jnp.asarray(images)
  n = images.shape[0]
  if batch_size is None:
    return _apply(module)(variables, images)
  pad = -n % batch_size
  padded = jnp.concatenate([images, jnp.zeros((pad, *images.shape[1:]))])
  chunks = padded.reshape((-1, batch_size, *images.shape[1:]))
  out = [_apply(module)(variables, chunk) for chunk in chunks]
  return jnp.concatenate(out)[:n]


def resolve_targets(clean_logits, targets) -> np.ndarray:
  """(B,) int32 target classes: `targets`, or the clean prediction if None."""
  predicted = np.asarray(jnp.argmax(clean_logits, -1), np.int32)
  if targets is None:
    return predicted
  targets = np.asarray(targets, np.int32).reshape(-1)
  if targets.shape != predicted.shape:
    raise ValueError(
      f"targets must hold one class per image: got {targets.shape[0]} for "
      f"{predicted.shape[0]} images (pass None to use each image's "
      "predicted class)."
    )
  k = np.asarray(clean_logits).shape[-1]
  if targets.min() < 0 or targets.max() >= k:
    raise ValueError(f"targets must lie in [0, {k}); got {targets}.")
  return targets


def clean_forward(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  logits_,
  targets,
  batch_size: int,
) -> tuple[Array, np.ndarray]:
  """Clean logits (B, K) (computed unless given) and (B,) target classes."""
  clean = (
    logits(module, variables, images, batch_size=batch_size)
    if logits_ is None
    else jnp.asarray(logits_, jnp.float32)
  )
  return clean, resolve_targets(clean, targets)


def stacked_logits(
  module: nn.Module, variables: Mapping, stacked: Array, batch_size: int
) -> Array:
  """Logits (N, B, K) of N perturbed copies (N, B, H, W, C) of a batch."""
  flat = stacked.reshape((-1, *stacked.shape[2:]))
  z = logits(module, variables, flat, batch_size=batch_size)
  return z.reshape(*stacked.shape[:2], z.shape[-1])


def class_probability(logits_, targets) -> Array:
  """softmax(logits (..., B, K))[..., b, targets[b]] -> (..., B)."""
  probs = jax.nn.softmax(jnp.asarray(logits_, jnp.float32), axis=-1)
  return jnp.take_along_axis(
    probs, jnp.broadcast_to(targets[:, None], (*probs.shape[:-1], 1)), -1
  )[..., 0]


def check_maps(images, maps: Mapping[str, Array]) -> None:
  """Raises unless every map is (B, H, W) for images (B, H, W, C)."""
  if not maps:
    raise ValueError("maps is empty: pass {method: (B, H, W) array}.")
  expected = tuple(images.shape[:3])
  for name, m in maps.items():
    if tuple(np.shape(m)) != expected:
      raise ValueError(
        f"Map '{name}' has shape {tuple(np.shape(m))}; expected (B, H, W) = "
        f"{expected} to match images {tuple(images.shape)} (NHWC)."
      )
