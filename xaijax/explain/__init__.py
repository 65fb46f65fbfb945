# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Explanations as pure JAX functions: CAMs and input attributions.

`cams` returns any of pytorch-grad-cam's CAM methods from one capture of the
activations and gradients at named layers (a ViT's token layers as patch
maps), and readings of a model's own attention from the same capture: a
ViT's raw attention, attention rollout and Chefer et al.'s relevance, and
EfficientNet's squeeze-and-excitation gates (`ATTENTION_METHODS`);
`attributions` returns input-space attributions (saliency, gradient x input,
SmoothGrad, integrated gradients, GradientSHAP, LRP). See docs/explain.md.
"""

from xaijax.explain import attention, se_attention
from xaijax.explain.activations import Capture, capture
from xaijax.explain.attribute import METHODS as ATTRIBUTION_METHODS
from xaijax.explain.attribute import attributions
from xaijax.explain.cam import LayerCams, cams, cams_by_layer
from xaijax.explain.registry import ALL as CAM_METHODS
from xaijax.explain.registry import ATTENTION_METHODS
from xaijax.explain.registry import PAPER as PAPER_METHODS
from xaijax.explain.targets import predicted_classes, scores

__all__ = [
  "ATTENTION_METHODS",
  "ATTRIBUTION_METHODS",
  "CAM_METHODS",
  "PAPER_METHODS",
  "Capture",
  "LayerCams",
  "attention",
  "attributions",
  "cams",
  "cams_by_layer",
  "capture",
  "predicted_classes",
  "scores",
  "se_attention",
]
