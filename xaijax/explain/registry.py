# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The registry of explanation methods that `cams` computes, by name.

pytorch-grad-cam's CAM methods are named after its classes in lower case;
the readings of a model's own attention have names of their own.
"""

from xaijax.explain import (
  ablationcam,
  attention,
  eigencam,
  eigengradcam,
  gradcam,
  gradcam_elementwise,
  gradcampp,
  hirescam,
  layercam,
  randomcam,
  scorecam,
  se_attention,
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
# pytorch-grad-cam's methods (each compared with upstream).
ALL = (*METHODS, *LAYERLESS)
# The five methods of Chaddad et al. (2025).
PAPER = ("gradcam", "gradcampp", "xgradcam", "eigengradcam", "layercam")

# Readings of a model's own attention, not pytorch-grad-cam's: the channel
# gates of a squeeze-and-excitation module (a layer method; the layer must
# be an SE module) and a transformer's attention over all blocks (which
# ignore the layer).
CHANNEL_ATTENTION: dict[str, Method] = {"se_attention": se_attention.METHOD}
ATTENTION: dict[str, attention.AttentionMethod] = attention.METHODS
# Everything computed from the capture at the target layer(s).
LAYER_METHODS: dict[str, Method] = {**METHODS, **CHANNEL_ATTENTION}
ATTENTION_METHODS = (*CHANNEL_ATTENTION, *ATTENTION)
# Every name `cams` accepts.
VALID = (*ALL, *ATTENTION_METHODS)
