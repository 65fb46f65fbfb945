# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Explanations as pure JAX functions: CAMs and input attributions.

`cams` returns any of pytorch-grad-cam's CAM methods from one capture of the
activations and gradients at named layers; `attributions` returns input-
space attributions (saliency, gradient x input, SmoothGrad, integrated
gradients, GradientSHAP, LRP). See docs/explain.md.
"""

from xaijax.explain.activations import Capture, capture
from xaijax.explain.attribute import METHODS as ATTRIBUTION_METHODS
from xaijax.explain.attribute import attributions
from xaijax.explain.cam import cams
from xaijax.explain.registry import ALL as CAM_METHODS
from xaijax.explain.registry import PAPER as PAPER_METHODS
from xaijax.explain.targets import predicted_classes, scores

__all__ = [
  "ATTRIBUTION_METHODS",
  "CAM_METHODS",
  "PAPER_METHODS",
  "Capture",
  "attributions",
  "cams",
  "capture",
  "predicted_classes",
  "scores",
]
