# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ResNet-50 (torchvision v1.5: the stride sits in the 3x3 convolution).

Layer names follow torchvision: `conv1`, `bn1`, `relu`, `maxpool`,
`layer1`..`layer4` (and each block, `layer4.2`), `avgpool`, `fc`; inside a
block `conv1..3`, `bn1..3`, `downsample.0/1`. A block's output is after the
residual sum and its ReLU, as torchvision's Bottleneck returns it.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax.models import layers
from xaijax.models.layers import Dtype


class Bottleneck(nn.Module):
  """1x1 -> 3x3 (strided) -> 1x1 with 4x expansion and a residual sum."""

  width: int
  stride: int = 1
  downsample: bool = False
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    def conv_bn(y, features, kernel, stride, index):
      y = layers.conv(
        features,
        kernel,
        stride,
        kernel // 2,
        dtype=self.dtype,
        name=f"conv{index}",
      )(y)
      return layers.batch_norm(train, dtype=self.dtype, name=f"bn{index}")(y)

    y = nn.relu(conv_bn(x, self.width, 1, 1, 1))
    y = nn.relu(conv_bn(y, self.width, 3, self.stride, 2))
    y = conv_bn(y, self.width * 4, 1, 1, 3)
    if self.downsample:
      x = layers.ConvNormAct(
        self.width * 4,
        1,
        self.stride,
        padding=0,
        dtype=self.dtype,
        name="downsample",
      )(x, train)
    return nn.relu(y + x)


class ResLayer(nn.Module):
  """torchvision's `layerN`: blocks named "0", "1", ..."""

  width: int
  num_blocks: int
  stride: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    for i in range(self.num_blocks):
      first = i == 0
      x = Bottleneck(
        self.width,
        self.stride if first else 1,
        downsample=first,
        dtype=self.dtype,
        name=str(i),
      )(x, train)
    return x


class ResNet(nn.Module):
  """ResNet with Bottleneck blocks; defaults give torchvision's resnet50.

  Attributes:
    num_classes: size of the `fc` head.
    stage_sizes: blocks per layer; (3, 4, 6, 3) is ResNet-50.
    width: channels of the stem; 64 in torchvision (small values for tests).
    dtype: compute dtype (e.g. jnp.bfloat16); parameters stay float32.
  """

  num_classes: int = 1000
  stage_sizes: Sequence[int] = (3, 4, 6, 3)
  width: int = 64
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """(B, H, W, 3) normalised images -> (B, num_classes) float32 logits."""
    layers.check_images(x)
    x = x.astype(self.dtype)
    x = layers.conv(self.width, 7, 2, 3, dtype=self.dtype, name="conv1")(x)
    x = layers.batch_norm(train, dtype=self.dtype, name="bn1")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.MaxPool(3, 2, 1, name="maxpool")(x)
    for i, num_blocks in enumerate(self.stage_sizes):
      x = ResLayer(
        self.width * 2**i,
        num_blocks,
        stride=1 if i == 0 else 2,
        dtype=self.dtype,
        name=f"layer{i + 1}",
      )(x, train)
    x = layers.GlobalAvgPool(name="avgpool")(x)
    x = layers.dense(
      self.num_classes, x.shape[-1], dtype=self.dtype, name="fc"
    )(x)
    return x.astype(jnp.float32)
