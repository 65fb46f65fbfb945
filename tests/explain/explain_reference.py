# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Narrow torchvision models and pytorch-grad-cam runs, for parity tests.

The torch models are built from torchvision's own classes (Bottleneck,
DenseNet, EfficientNet, VGG's `make_layers`) at the widths of
`xaijax.models.create(name, K, tiny=True)`, or torchvision's full-width
models, with random weights and randomised BatchNorm statistics, so the
ported Flax variables are exactly the torch model's.

`upstream_cams` runs the model in its dtype: the parity tests convert it to
float64 (`model.double()`; pytorch-grad-cam keeps the dtype up to its final
float32 casts), which gives the exact maps of those float32 weights to
~1e-16 relative, whatever algorithms torch picks on this CPU.
"""

import types

import numpy as np

from xaijax.models.torch_interop import import_torchvision

tv = import_torchvision()
import pytorch_grad_cam as pgc  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from pytorch_grad_cam.utils import svd_on_activations  # noqa: E402
from pytorch_grad_cam.utils.model_targets import (  # noqa: E402
  ClassifierOutputTarget,
)

import xaijax.models  # noqa: E402

NUM_CLASSES = 5

UPSTREAM = {
  "gradcam": pgc.GradCAM,
  "gradcampp": pgc.GradCAMPlusPlus,
  "xgradcam": pgc.XGradCAM,
  "eigengradcam": pgc.EigenGradCAM,
  "layercam": pgc.LayerCAM,
  "hirescam": pgc.HiResCAM,
  "gradcam_elementwise": pgc.GradCAMElementWise,
  "eigencam": pgc.EigenCAM,
  "scorecam": pgc.ScoreCAM,
  "ablationcam": pgc.AblationCAM,
  "fullgrad": pgc.FullGrad,
  "randomcam": pgc.RandomCAM,
}


def _resnet(width: int):
  resnet = tv.models.resnet

  class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet-50 with a `width`-channel stem."""

    def __init__(self):
      torch.nn.Module.__init__(self)
      self._norm_layer = torch.nn.BatchNorm2d
      self.inplanes, self.dilation, self.groups, self.base_width = (
        width,
        1,
        1,
        64,
      )
      self.conv1 = torch.nn.Conv2d(3, width, 7, 2, 3, bias=False)
      self.bn1 = torch.nn.BatchNorm2d(width)
      self.relu = torch.nn.ReLU(inplace=True)
      self.maxpool = torch.nn.MaxPool2d(3, 2, 1)
      block = resnet.Bottleneck
      self.layer1 = self._make_layer(block, width, 3)
      self.layer2 = self._make_layer(block, 2 * width, 4, stride=2)
      self.layer3 = self._make_layer(block, 4 * width, 6, stride=2)
      self.layer4 = self._make_layer(block, 8 * width, 3, stride=2)
      self.avgpool = torch.nn.AdaptiveAvgPool2d(1)
      self.fc = torch.nn.Linear(32 * width, NUM_CLASSES)

  return NarrowResNet()


def _densenet_forward(self, x):
  # torchvision's forward with F.relu(inplace=True): on CPU that in-place ReLU
  # rewrites the norm5 output pytorch-grad-cam saved (xai_methods.md §8.3), so
  # the reference keeps the true pre-ReLU tensor with a non-inplace ReLU.
  features = F.relu(self.features(x))
  return self.classifier(torch.flatten(F.adaptive_avg_pool2d(features, 1), 1))


def _vgg(divisor: int, hidden: int):
  vgg = tv.models.vgg
  cfg = [v if v == "M" else v // divisor for v in vgg.cfgs["D"]]
  model = vgg.VGG(vgg.make_layers(cfg), num_classes=NUM_CLASSES)
  flat = 512 // divisor * 49
  model.classifier = torch.nn.Sequential(
    torch.nn.Linear(flat, hidden),
    torch.nn.ReLU(True),
    torch.nn.Dropout(),
    torch.nn.Linear(hidden, hidden),
    torch.nn.ReLU(True),
    torch.nn.Dropout(),
    torch.nn.Linear(hidden, NUM_CLASSES),
  )
  return model


def _efficientnet(width_mult: float):
  effnet = tv.models.efficientnet
  setting, last = effnet._efficientnet_conf(
    "efficientnet_b0", width_mult=width_mult, depth_mult=1.0
  )
  return effnet.EfficientNet(
    setting, 0.2, last_channel=last, num_classes=NUM_CLASSES
  )


def torch_model(name: str, seed: int = 0, full: bool = False):
  """(torch model in eval mode, Flax module, Flax variables), same weights.

  Args:
    name: a model name of `xaijax.models`.
    seed: torch's seed for the random weights.
    full: torchvision's model at full width (default: the narrow widths of
      `xaijax.models.create(name, K, tiny=True)`).
  """
  torch.manual_seed(seed)
  tiny = {} if full else xaijax.models.MODELS[name].tiny
  if full:
    model = getattr(tv.models, name)(num_classes=NUM_CLASSES)
  elif name == "resnet50":
    model = _resnet(tiny["width"])
  elif name == "densenet121":
    model = tv.models.DenseNet(num_classes=NUM_CLASSES, **tiny)
  elif name == "vgg16":
    model = _vgg(tiny["width_divisor"], tiny["hidden"])
  else:
    model = _efficientnet(tiny["width_mult"])
  if name == "densenet121":
    model.forward = types.MethodType(_densenet_forward, model)
  with torch.no_grad():
    for module in model.modules():
      if isinstance(module, torch.nn.BatchNorm2d):
        module.running_mean.normal_(0.0, 0.2)
        module.running_var.uniform_(0.5, 1.5)
        module.weight.uniform_(0.5, 1.5)
        module.bias.normal_(0.0, 0.2)
  model.eval()
  flax_module = xaijax.models.create(name, NUM_CLASSES, tiny=not full)
  variables = xaijax.models.from_torchvision(
    name, model.state_dict(), NUM_CLASSES, **tiny
  )
  return model, flax_module, variables


def to_torch(images: np.ndarray, model):
  """(B, H, W, 3) images -> an NCHW tensor in the dtype of `model`."""
  dtype = next(model.parameters()).dtype
  return torch.from_numpy(images.transpose(0, 3, 1, 2).copy()).to(dtype)


def torch_layer(model, path: str):
  module = model
  for part in path.split("."):
    module = module[int(part)] if part.isdigit() else getattr(module, part)
  return module


def channel_sum_projection(activation_batch):
  """Upstream's get_2d_projection with xaijax's default sign rule."""
  out = []
  for x in np.nan_to_num(np.asarray(activation_batch)):
    m = x.reshape(x.shape[0], -1).T
    m = m - m.mean(axis=0)
    _, _, vt = np.linalg.svd(m, full_matrices=True)
    v = vt[0] * (-1.0 if vt[0].sum() < 0 else 1.0)
    out.append((m @ v).reshape(x.shape[1:]))
  return np.float32(out)


def upstream_cams(
  model, method: str, layer: str, images: np.ndarray, classes, **kw
) -> np.ndarray:
  """pytorch-grad-cam's (B, H, W) maps for NHWC `images`, one class each."""
  tensor = to_torch(images, model)
  targets = [ClassifierOutputTarget(int(c)) for c in classes]
  layers = [] if method == "fullgrad" else [torch_layer(model, layer)]
  with UPSTREAM[method](model=model, target_layers=layers) as cam:
    return cam(input_tensor=tensor, targets=targets, **kw)


def patch_sign_rule(monkeypatch) -> None:
  """Makes upstream's eigen projections use the channel_sum sign rule."""
  for module in (pgc.base_cam, pgc.eigen_cam, pgc.eigen_grad_cam):
    monkeypatch.setattr(module, "get_2d_projection", channel_sum_projection)
  assert svd_on_activations  # the module patched modules import from


def patch_random(monkeypatch, weights: np.ndarray) -> None:
  """Makes upstream RandomCAM draw the given (B, C) weights."""
  monkeypatch.setattr(
    pgc.random_cam.np.random, "uniform", lambda *a, **k: weights
  )
