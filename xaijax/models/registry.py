# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The one registry of models: name -> constructor, default CAM layer, head."""

import dataclasses
from collections.abc import Callable
from typing import Any

import flax.linen as nn

from xaijax.models import densenet, efficientnet, resnet, vgg, vit


@dataclasses.dataclass(frozen=True)
class Tokens:
  """How a transformer's token layers relate to the image.

  Attributes:
    prefix: tokens before the patch tokens in every (B, T, D) layer (ViT's
      class token); the P = T - prefix patches follow, row-major on the
      image's patch grid.
    attention: suffix of the layer names whose outputs are a block's
      post-softmax attention (B, heads, T, T), one layer per block.
  """

  prefix: int
  attention: str


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """What the rest of xaijax needs to know about one architecture.

  Attributes:
    constructor: the Flax module class.
    default_layer: pytorch-grad-cam's recommended target layer, as a
      torchvision module path.
    head: module path of the final class layer (re-initialised when a
      checkpoint's class count differs).
    tiny: constructor overrides for a narrow variant used in fast tests and
      tiny configs; the topology (depth, layer names) is unchanged.
    tokens: the token layout of a transformer; None for CNNs, whose layers
      are (B, h, w, C) maps.
  """

  constructor: Callable[..., nn.Module]
  default_layer: str
  head: str
  tiny: dict[str, Any]
  tokens: Tokens | None = None


MODELS: dict[str, ModelSpec] = {
  # layer4[-1]: the last Bottleneck's output, after the residual ReLU.
  "resnet50": ModelSpec(resnet.ResNet, "layer4.2", "fc", {"width": 8}),
  # features[-1] is norm5, the BatchNorm output BEFORE the final ReLU that
  # torchvision applies in forward(); `relu` names the post-ReLU map.
  "densenet121": ModelSpec(
    densenet.DenseNet,
    "features.norm5",
    "classifier",
    {"growth_rate": 4, "num_init_features": 8, "bn_size": 2},
  ),
  # features[-1] is the last max-pool (7x7 at 224 px), not the last ReLU.
  "vgg16": ModelSpec(
    vgg.VGG, "features.30", "classifier.6", {"width_divisor": 16, "hidden": 32}
  ),
  # features[-1]: the 1x1 conv-BN-SiLU to 1280 channels (post-SiLU).
  "efficientnet_b0": ModelSpec(
    efficientnet.EfficientNet,
    "features.8",
    "classifier.1",
    {"width_mult": 0.25},
  ),
  # pytorch-grad-cam's ViT recipe: the last block's first LayerNorm
  # (timm `blocks[-1].norm1`); the last block's output reaches the logits
  # only through the class token, so its patch tokens have zero gradient.
  # Tiny: 4-pixel patches (an 8x8 grid at 32 px), 2 heads, D = 32.
  "vit_b_16": ModelSpec(
    vit.VisionTransformer,
    "encoder.layers.encoder_layer_11.ln_1",
    "heads.head",
    {"patch_size": 4, "num_heads": 2, "hidden_dim": 32, "mlp_dim": 64},
    Tokens(prefix=vit.CLASS_TOKENS, attention=vit.ATTENTION),
  ),
}


def spec(name: str) -> ModelSpec:
  if name not in MODELS:
    raise ValueError(
      f"Unknown model '{name}'; available models: {', '.join(MODELS)}."
    )
  return MODELS[name]


def create(name: str, num_classes: int, *, tiny: bool = False, **kwargs):
  """A Flax module for `name` with a `num_classes` head.

  Args:
    name: one of `MODELS` (resnet50, densenet121, vgg16, efficientnet_b0,
      vit_b_16).
    num_classes: size of the class layer.
    tiny: use the narrow test variant (same layers and names, few channels).
    **kwargs: constructor fields, e.g. `dtype=jnp.bfloat16`.
  """
  model = spec(name)
  if num_classes < 1:
    raise ValueError(f"num_classes must be positive, got {num_classes}.")
  fields = {**(model.tiny if tiny else {}), **kwargs}
  return model.constructor(num_classes=num_classes, **fields)


def default_layer(name: str) -> str:
  """pytorch-grad-cam's recommended CAM layer for `name` (module path)."""
  return spec(name).default_layer
