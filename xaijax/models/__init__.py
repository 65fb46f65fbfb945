# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The four CNNs of the paper and ViT-B/16 in Flax, exact to torchvision.

`create(name, num_classes)` builds a module; `from_torchvision` ports a
torchvision state_dict; layers are addressed by torchvision module paths
(`default_layer(name)`, `layer_shapes(module)`), and `taps.forward` /
`taps.activations_and_gradients` read and edit them purely.
"""

from xaijax.models.registry import MODELS, create, default_layer, spec
from xaijax.models.taps import (
  activations_and_gradients,
  forward,
  layer_shapes,
)
from xaijax.models.torchvision_port import from_torchvision, load_state_dict

__all__ = [
  "MODELS",
  "activations_and_gradients",
  "create",
  "default_layer",
  "forward",
  "from_torchvision",
  "layer_shapes",
  "load_state_dict",
  "spec",
]
