# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""EfficientNet-B0 as torchvision builds it.

Layer names: `features.0` (stem conv-BN-SiLU), `features.1`..`features.7`
(stages of MBConv blocks, `features.6.3` one block, `features.6.3.block.2` its
squeeze-excitation), `features.8` (1x1 conv-BN-SiLU to 1280 channels, the
default CAM layer, post-SiLU so slightly negative values occur), `avgpool`,
`classifier.0` (dropout) and `classifier.1` (linear).
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax.models import layers
from xaijax.models.layers import Dtype

# (expand ratio, kernel, stride, in channels, out channels, blocks): B0.
STAGES = (
  (1, 3, 1, 32, 16, 1),
  (6, 3, 2, 16, 24, 2),
  (6, 5, 2, 24, 40, 2),
  (6, 3, 2, 40, 80, 3),
  (6, 5, 1, 80, 112, 3),
  (6, 5, 2, 112, 192, 4),
  (6, 3, 1, 192, 320, 1),
)


def make_divisible(value: float, divisor: int = 8) -> int:
  """torchvision's `_make_divisible`: round to a multiple, lose <= 10%."""
  rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
  return rounded + divisor if rounded < 0.9 * value else rounded


class SqueezeExcitation(nn.Module):
  """x * sigmoid(fc2(silu(fc1(mean(x))))), fc1/fc2 being 1x1 convs."""

  squeeze_channels: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    scale = jnp.mean(x, axis=(1, 2), keepdims=True)
    scale = layers.conv(
      self.squeeze_channels, 1, use_bias=True, dtype=self.dtype, name="fc1"
    )(scale)
    scale = nn.silu(scale)
    scale = layers.conv(
      x.shape[-1], 1, use_bias=True, dtype=self.dtype, name="fc2"
    )(scale)
    return x * nn.sigmoid(scale)


class Block(nn.Module):
  """MBConv's `block` Sequential: [expand], depthwise, SE, project."""

  expand_ratio: int
  kernel: int
  stride: int
  out_channels: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    in_channels = x.shape[-1]
    expanded = make_divisible(in_channels * self.expand_ratio)
    index = 0
    if expanded != in_channels:
      x = layers.ConvNormAct(
        expanded, 1, activation=layers.SiLU, dtype=self.dtype, name="0"
      )(x, train)
      index = 1
    x = layers.ConvNormAct(
      expanded,
      self.kernel,
      self.stride,
      groups=expanded,
      activation=layers.SiLU,
      dtype=self.dtype,
      name=str(index),
    )(x, train)
    x = SqueezeExcitation(
      max(1, in_channels // 4), self.dtype, name=str(index + 1)
    )(x)
    return layers.ConvNormAct(
      self.out_channels, 1, dtype=self.dtype, name=str(index + 2)
    )(x, train)


class MBConv(nn.Module):
  """Inverted residual block with row-wise stochastic depth in training."""

  expand_ratio: int
  kernel: int
  stride: int
  out_channels: int
  drop_prob: float
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    out = Block(
      self.expand_ratio,
      self.kernel,
      self.stride,
      self.out_channels,
      self.dtype,
      name="block",
    )(x, train)
    if self.stride != 1 or x.shape[-1] != self.out_channels:
      return out
    if train and self.drop_prob > 0:
      keep = 1.0 - self.drop_prob
      key = self.make_rng("dropout")
      survive = jax.random.bernoulli(key, keep, (x.shape[0], 1, 1, 1))
      out = out * survive.astype(out.dtype) / keep
    return out + x


class EfficientNet(nn.Module):
  """EfficientNet; defaults give torchvision's efficientnet_b0 (5,288,548).

  Attributes:
    num_classes: size of `classifier.1`.
    width_mult: channel multiplier (1.0 for B0; small values for tests).
    depth_mult: block-count multiplier (1.0 for B0).
    dropout: classifier dropout in training (0.2).
    stochastic_depth_prob: the last block's drop probability (0.2).
    dtype: compute dtype; parameters stay float32.
  """

  num_classes: int = 1000
  width_mult: float = 1.0
  depth_mult: float = 1.0
  dropout: float = 0.2
  stochastic_depth_prob: float = 0.2
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(
    self, x: jax.Array, train: bool = False, mc_dropout: bool = False
  ) -> jax.Array:
    """(B, H, W, 3) normalised images -> (B, num_classes) float32 logits.

    `mc_dropout=True` keeps the classifier's dropout active with
    `train=False` (Monte Carlo dropout; pass `rngs={"dropout": key}`);
    BatchNorm keeps its running statistics and stochastic depth stays off.
    """
    layers.check_images(x)
    x = Features(
      self.width_mult,
      self.depth_mult,
      self.stochastic_depth_prob,
      self.dtype,
      name="features",
    )(x.astype(self.dtype), train)
    x = layers.GlobalAvgPool(name="avgpool")(x)
    x = Classifier(
      self.num_classes, self.dropout, self.dtype, name="classifier"
    )(x, train, mc_dropout)
    return x.astype(jnp.float32)


class Features(nn.Module):
  width_mult: float
  depth_mult: float
  stochastic_depth_prob: float
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    def channels(c):
      return make_divisible(c * self.width_mult)

    x = layers.ConvNormAct(
      channels(STAGES[0][3]),
      3,
      2,
      activation=layers.SiLU,
      dtype=self.dtype,
      name="0",
    )(x, train)
    depths = [math.ceil(stage[5] * self.depth_mult) for stage in STAGES]
    block_id = 0
    for s, (expand, kernel, stride, _, out, _) in enumerate(STAGES):
      x = Stage(
        expand,
        kernel,
        stride,
        channels(out),
        depths[s],
        first_block_id=block_id,
        total_blocks=sum(depths),
        stochastic_depth_prob=self.stochastic_depth_prob,
        dtype=self.dtype,
        name=str(s + 1),
      )(x, train)
      block_id += depths[s]
    return layers.ConvNormAct(
      4 * channels(STAGES[-1][4]),
      1,
      activation=layers.SiLU,
      dtype=self.dtype,
      name=str(len(STAGES) + 1),
    )(x, train)


class Stage(nn.Module):
  expand_ratio: int
  kernel: int
  stride: int
  out_channels: int
  num_blocks: int
  first_block_id: int
  total_blocks: int
  stochastic_depth_prob: float
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    for i in range(self.num_blocks):
      block_id = self.first_block_id + i
      x = MBConv(
        self.expand_ratio,
        self.kernel,
        self.stride if i == 0 else 1,
        self.out_channels,
        self.stochastic_depth_prob * block_id / self.total_blocks,
        self.dtype,
        name=str(i),
      )(x, train)
    return x


class Classifier(nn.Module):
  num_classes: int
  dropout: float
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(
    self, x: jax.Array, train: bool = False, mc_dropout: bool = False
  ) -> jax.Array:
    x = nn.Dropout(
      self.dropout, deterministic=not (train or mc_dropout), name="0"
    )(x)
    return layers.dense(
      self.num_classes, x.shape[-1], dtype=self.dtype, name="1"
    )(x)
