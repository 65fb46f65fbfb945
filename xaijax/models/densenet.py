# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""DenseNet-121 as torchvision builds it.

Layer names: `features.conv0/norm0/relu0/pool0`, `features.denseblockN`
(its output is the concatenation of all its layers' features),
`features.denseblockN.denselayerM` (the new `growth_rate` channels),
`features.transitionN`, and `features.norm5`, the last module of `features`:
the BatchNorm output BEFORE the ReLU that torchvision applies in `forward()`.
That ReLU is not a torchvision module; here it is named `relu` so the post-ReLU
map can be addressed too. Then global average pooling and `classifier`.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax.models import layers
from xaijax.models.layers import Dtype


class DenseLayer(nn.Module):
  """BN-ReLU-1x1 conv to bn_size*growth, BN-ReLU-3x3 conv to growth."""

  growth_rate: int
  bn_size: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    x = layers.batch_norm(train, dtype=self.dtype, name="norm1")(x)
    x = layers.ReLU(name="relu1")(x)
    x = layers.conv(
      self.bn_size * self.growth_rate, 1, dtype=self.dtype, name="conv1"
    )(x)
    x = layers.batch_norm(train, dtype=self.dtype, name="norm2")(x)
    x = layers.ReLU(name="relu2")(x)
    return layers.conv(
      self.growth_rate, 3, 1, 1, dtype=self.dtype, name="conv2"
    )(x)


class DenseBlock(nn.Module):
  num_layers: int
  growth_rate: int
  bn_size: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    for i in range(self.num_layers):
      new = DenseLayer(
        self.growth_rate, self.bn_size, self.dtype, name=f"denselayer{i + 1}"
      )(x, train)
      x = jnp.concatenate([x, new], axis=-1)
    return x


class Transition(nn.Module):
  features: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    x = layers.batch_norm(train, dtype=self.dtype, name="norm")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.conv(self.features, 1, dtype=self.dtype, name="conv")(x)
    return layers.AvgPool(2, 2, name="pool")(x)


class Features(nn.Module):
  growth_rate: int
  block_config: Sequence[int]
  num_init_features: int
  bn_size: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    x = layers.conv(
      self.num_init_features, 7, 2, 3, dtype=self.dtype, name="conv0"
    )(x)
    x = layers.batch_norm(train, dtype=self.dtype, name="norm0")(x)
    x = layers.ReLU(name="relu0")(x)
    x = layers.MaxPool(3, 2, 1, name="pool0")(x)
    for i, num_layers in enumerate(self.block_config):
      x = DenseBlock(
        num_layers,
        self.growth_rate,
        self.bn_size,
        self.dtype,
        name=f"denseblock{i + 1}",
      )(x, train)
      if i + 1 < len(self.block_config):
        x = Transition(x.shape[-1] // 2, self.dtype, name=f"transition{i + 1}")(
          x, train
        )
    return layers.batch_norm(train, dtype=self.dtype, name="norm5")(x)


class DenseNet(nn.Module):
  """DenseNet; defaults give torchvision's densenet121 (7,978,856 params).

  Attributes:
    num_classes: size of `classifier`.
    growth_rate: channels each dense layer adds (32).
    block_config: dense layers per block ((6, 12, 24, 16) for DenseNet-121).
    num_init_features: channels of the stem (64).
    bn_size: bottleneck width factor (4).
    dtype: compute dtype; parameters stay float32.
  """

  num_classes: int = 1000
  growth_rate: int = 32
  block_config: Sequence[int] = (6, 12, 24, 16)
  num_init_features: int = 64
  bn_size: int = 4
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """(B, H, W, 3) normalised images -> (B, num_classes) float32 logits."""
    layers.check_images(x)
    x = Features(
      self.growth_rate,
      self.block_config,
      self.num_init_features,
      self.bn_size,
      self.dtype,
      name="features",
    )(x.astype(self.dtype), train)
    x = layers.ReLU(name="relu")(x)
    x = layers.GlobalAvgPool(name="avgpool")(x)
    x = layers.dense(
      self.num_classes, x.shape[-1], dtype=self.dtype, name="classifier"
    )(x)
    return x.astype(jnp.float32)
