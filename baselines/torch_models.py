# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""torchvision's models under xaijax's names, at full or tiny widths.

Built from torchvision's own classes (Bottleneck, DenseNet, EfficientNet,
VGG's `make_layers`) with torchvision's initialisation, so that
`xaijax.models.from_torchvision(name, model.state_dict(), K, **tiny)` loads
them into `xaijax.models.create(name, K, tiny=...)`; the tiny widths are
`xaijax.models.MODELS[name].tiny`.
"""

import itertools

from xaijax.models import MODELS
from xaijax.models.torch_interop import import_torchvision

tv = import_torchvision()
import torch  # noqa: E402

NAMES = ("resnet50", "densenet121", "vgg16", "efficientnet_b0")


def _narrow_resnet50(width: int, num_classes: int) -> torch.nn.Module:
  """torchvision's ResNet-50 with a `width`-channel stem (64 in torchvision),
  the stages' widths scaling with it; initialised as ResNet.__init__ does."""
  resnet = tv.models.resnet

  class NarrowResNet(resnet.ResNet):
    def __init__(self):
      torch.nn.Module.__init__(self)
      self._norm_layer = torch.nn.BatchNorm2d
      self.inplanes, self.dilation, self.groups = width, 1, 1
      self.base_width = 64
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
      self.fc = torch.nn.Linear(32 * width, num_classes)
      for m in self.modules():
        if isinstance(m, torch.nn.Conv2d):
          torch.nn.init.kaiming_normal_(
            m.weight, mode="fan_out", nonlinearity="relu"
          )
        elif isinstance(m, torch.nn.BatchNorm2d):
          torch.nn.init.constant_(m.weight, 1)
          torch.nn.init.constant_(m.bias, 0)

  return NarrowResNet()


def _narrow_vgg16(
  width_divisor: int, hidden: int, num_classes: int
) -> torch.nn.Module:
  """VGG-16 with channels / `width_divisor` and `hidden` classifier units;
  the classifier initialised as VGG.__init__ does (N(0, 0.01), zero bias)."""
  vgg = tv.models.vgg
  cfg = [v if v == "M" else v // width_divisor for v in vgg.cfgs["D"]]
  model = vgg.VGG(vgg.make_layers(cfg), num_classes=num_classes)
  sizes = (512 // width_divisor * 49, hidden, hidden, num_classes)
  for index, (fan_in, fan_out) in zip(
    (0, 3, 6), itertools.pairwise(sizes), strict=True
  ):
    linear = torch.nn.Linear(fan_in, fan_out)
    torch.nn.init.normal_(linear.weight, 0, 0.01)
    torch.nn.init.constant_(linear.bias, 0)
    model.classifier[index] = linear
  return model


def build(name: str, num_classes: int, *, tiny: bool = False):
  """The torchvision model of xaijax's `name`, in train mode.

  Args:
    name: resnet50, densenet121, vgg16 or efficientnet_b0.
    num_classes: size of the class layer.
    tiny: the narrow variant of `xaijax.models.create(name, K, tiny=True)`.

  Returns:
    A torch.nn.Module, randomly initialised as torchvision initialises it
    (seed it with torch.manual_seed).
  """
  if name not in NAMES:
    raise ValueError(
      f"No torchvision baseline for model '{name}'; use one of "
      f"{', '.join(NAMES)}."
    )
  if not tiny:
    return getattr(tv.models, name)(num_classes=num_classes)
  widths = MODELS[name].tiny
  if name == "resnet50":
    return _narrow_resnet50(widths["width"], num_classes)
  if name == "densenet121":
    return tv.models.DenseNet(num_classes=num_classes, **widths)
  if name == "vgg16":
    return _narrow_vgg16(widths["width_divisor"], widths["hidden"], num_classes)
  effnet = tv.models.efficientnet
  setting, last = effnet._efficientnet_conf(
    "efficientnet_b0", width_mult=widths["width_mult"], depth_mult=1.0
  )
  return effnet.EfficientNet(
    setting, 0.2, last_channel=last, num_classes=num_classes
  )
