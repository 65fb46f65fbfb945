# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""VGG-16 without batch norm (torchvision `vgg16`, configuration "D").

`features.N` is the N-th module of torchvision's `features` Sequential
(convolutions, ReLUs and max-pools alike), so `features.28` is the last
convolution, `features.29` its ReLU (14x14 at 224 px) and `features.30` the
last max-pool (7x7), the default CAM layer. `avgpool` is adaptive to 7x7, so
any input of at least 32 px works; `classifier.0/3/6` are the linear layers.
"""

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax.models import layers
from xaijax.models.layers import Dtype

# Channels per convolution, "M" for a max-pool (torchvision's cfgs["D"]).
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
         512, 512, 512, "M", 512, 512, 512, "M")  # fmt: skip


class Features(nn.Module):
  plan: Sequence[int | str]
  width_divisor: int = 1
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    index = 0
    for item in self.plan:
      if item == "M":
        x = layers.MaxPool(2, 2, name=str(index))(x)
        index += 1
        continue
      features = int(item) // self.width_divisor
      x = layers.conv(
        features, 3, 1, 1, use_bias=True, dtype=self.dtype, name=str(index)
      )(x)
      x = layers.ReLU(name=str(index + 1))(x)
      index += 2
    return x


class Classifier(nn.Module):
  """Linear-ReLU-Dropout twice, then the class layer: indices 0..6."""

  num_classes: int
  hidden: int = 4096
  dropout: float = 0.5
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(
    self, x: jax.Array, train: bool = False, mc_dropout: bool = False
  ) -> jax.Array:
    for index in (0, 3):
      x = layers.dense(
        self.hidden, x.shape[-1], dtype=self.dtype, name=str(index)
      )(x)
      x = layers.ReLU(name=str(index + 1))(x)
      x = nn.Dropout(
        self.dropout,
        deterministic=not (train or mc_dropout),
        name=str(index + 2),
      )(x)
    return layers.dense(
      self.num_classes, x.shape[-1], dtype=self.dtype, name="6"
    )(x)


class VGG(nn.Module):
  """VGG; defaults give torchvision's vgg16 (138,357,544 parameters).

  Attributes:
    num_classes: size of `classifier.6`.
    width_divisor: divides every convolution's channels (1 in torchvision;
      larger values make tiny test models).
    hidden: width of the two hidden linear layers (4096 in torchvision).
    dropout: dropout rate in the classifier during training.
    dtype: compute dtype; parameters stay float32.
  """

  num_classes: int = 1000
  width_divisor: int = 1
  hidden: int = 4096
  dropout: float = 0.5
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(
    self, x: jax.Array, train: bool = False, mc_dropout: bool = False
  ) -> jax.Array:
    """(B, H, W, 3) normalised images -> (B, num_classes) float32 logits.

    `mc_dropout=True` keeps the classifier's dropout active with
    `train=False` (Monte Carlo dropout; pass `rngs={"dropout": key}`).
    """
    layers.check_images(x)
    x = x.astype(self.dtype)
    x = Features(VGG16, self.width_divisor, self.dtype, name="features")(x)
    x = layers.AdaptiveAvgPool((7, 7), name="avgpool")(x)
    # torch flattens (C, H, W); matching that order keeps the linear weights
    # of a torchvision checkpoint usable as they are.
    x = x.transpose(0, 3, 1, 2).reshape(x.shape[0], -1)
    x = Classifier(
      self.num_classes, self.hidden, self.dropout, self.dtype, name="classifier"
    )(x, train, mc_dropout)
    return x.astype(jnp.float32)
