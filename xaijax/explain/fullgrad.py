# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""FullGrad (Srinivas & Fleuret 2019), as pytorch-grad-cam computes it.

The target layer is ignored: the map sums |x * dy/dx| (each colour channel
min-max scaled separately) and, for every layer with a bias (each BatchNorm,
effective bias beta - mu * gamma / sqrt(var + eps), and each convolution with
a bias), sum_k scale(|b_k G^k|) with every channel min-max scaled and resized
separately; the total is min-max scaled, without a ReLU. Because the resize is
linear, channels are summed at their own resolution and resized once.
This needs a backward pass to the input (unlike the layer CAMs).
"""

import functools
from collections.abc import Mapping

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax import models
from xaijax.explain import postprocess
from xaijax.explain import targets as targets_lib

Array = jax.Array


@functools.cache
def bias_layers(
  module: nn.Module, image_shape: tuple[int, ...]
) -> tuple[tuple[str, float | None], ...]:
  """(layer name, BatchNorm epsilon or None for a biased conv), call order."""
  found: dict[str, float | None] = {}

  def interceptor(next_fun, args, kwargs, context):
    layer = context.module
    name = ".".join(layer.path)
    if context.method_name == "__call__":
      if isinstance(layer, nn.BatchNorm) and layer.use_bias:
        found[name] = float(layer.epsilon)
      elif isinstance(layer, nn.Conv) and layer.use_bias:
        found[name] = None
    return next_fun(*args, **kwargs)

  def run(images):
    with nn.intercept_methods(interceptor):
      return module.init(jax.random.key(0), images)

  jax.eval_shape(run, jax.ShapeDtypeStruct(image_shape, jnp.float32))
  return tuple(found.items())


def _lookup(tree: Mapping, name: str) -> Mapping:
  for part in name.split("."):
    tree = tree[part]
  return tree


def _effective_bias(variables: Mapping, name: str, eps: float | None) -> Array:
  params = _lookup(variables["params"], name)
  if eps is None:
    return params["bias"]
  stats = _lookup(variables["batch_stats"], name)
  return params["bias"] - stats["mean"] * params["scale"] / jnp.sqrt(
    stats["var"] + eps
  )


def _channel_scaled_sum(maps: Array) -> Array:
  """(B, h, w, C) -> (B, h, w): each channel min-max scaled, then summed."""
  return jnp.sum(postprocess.minmax(jnp.moveaxis(maps, -1, 1)), axis=1)


def fullgrad(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  classes: Array | None,
  score: str,
) -> Array:
  """(B, H, W, 3) images -> (B, H, W) FullGrad map in [0, 1]."""
  layers = bias_layers(module, tuple(images.shape))
  shapes = models.layer_shapes(module, images.shape)
  offsets = {n: jnp.zeros(shapes[n].shape, shapes[n].dtype) for n, _ in layers}

  def objective(x, offsets):
    logits, _ = models.forward(module, variables, x, offsets=offsets)
    cls = classes
    if cls is None:
      cls = targets_lib.predicted_classes(jax.lax.stop_gradient(logits))
    return jnp.sum(targets_lib.scores(logits, cls, score))

  grad_x, grads = jax.grad(objective, argnums=(0, 1))(images, offsets)
  size = images.shape[1:3]
  total = _channel_scaled_sum(jnp.abs(grad_x * images).astype(jnp.float32))
  by_size: dict[tuple[int, int], Array] = {}
  for name, eps in layers:
    bias = _effective_bias(variables, name, eps)
    term = jnp.abs(bias * grads[name].astype(jnp.float32))
    summed = _channel_scaled_sum(term)
    key = summed.shape[1:]
    by_size[key] = by_size.get(key, 0.0) + summed
  for part in by_size.values():
    total = total + postprocess.resize(part, size)
  return postprocess.minmax(total)
