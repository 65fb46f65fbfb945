# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The registry of CAM methods: name (pytorch-grad-cam's class, lower case)."""

from xaijax.explain import (
  ablationcam,
  eigencam,
  eigengradcam,
  gradcam,
  gradcam_elementwise,
  gradcampp,
  hirescam,
  layercam,
  randomcam,
  scorecam,
  xgradcam,
)
from xaijax.explain.base import Method

# Methods computed from the (A, G) of the target layer(s).
METHODS: dict[str, Method] = {
  "gradcam": gradcam.METHOD,
  "gradcampp": gradcampp.METHOD,
  "xgradcam": xgradcam.METHOD,
  "eigengradcam": eigengradcam.METHOD,
  "layercam": layercam.METHOD,
  "hirescam": hirescam.METHOD,
  "gradcam_elementwise": gradcam_elementwise.METHOD,
  "eigencam": eigencam.METHOD,
  "scorecam": scorecam.METHOD,
  "ablationcam": ablationcam.METHOD,
  "randomcam": randomcam.METHOD,
}
# Methods that ignore the target layer (fullgrad.py).
LAYERLESS = ("fullgrad",)
ALL = (*METHODS, *LAYERLESS)
# The five methods of Chaddad et al. (2025).
PAPER = ("gradcam", "gradcampp", "xgradcam", "eigengradcam", "layercam")
