# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Importing torchvision where only the pure-Python models are needed.

The CPU build of torch that these machines install (2.13.0+cpu) cannot load
torchvision's compiled operators, and `import torchvision` then fails with
"operator torchvision::nms does not exist" while registering fake kernels.
Declaring the two operator schemas that torchvision registers against first
lets the import succeed; the models never call those operators. Tests,
benchmarks and pytorch-grad-cam (which imports torchvision) go through here.
"""

import importlib
import types


def import_torchvision() -> types.ModuleType:
  """Returns the torchvision module, declaring its ops first if needed."""
  import torch

  try:
    return importlib.import_module("torchvision")
  except RuntimeError as error:
    if "torchvision::nms" not in str(error):
      raise
  # A failed import leaves half-initialised modules behind.
  import sys

  for name in [m for m in sys.modules if m.startswith("torchvision")]:
    del sys.modules[name]
  global _library  # Keep the Library object alive: it owns the definitions.
  _library = torch.library.Library("torchvision", "DEF")
  _library.define(
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
  )
  _library.define(
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor"
  )
  return importlib.import_module("torchvision")


_library = None
