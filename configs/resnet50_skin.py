# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""resnet50 on the ISIC 9-class skin lesion set.

  python launch.py --config configs/resnet50_skin.py \
    --config.data.root=/path/to/Skin cancer ISIC/ --workdir runs/resnet50_skin

Add `--config.init.torchvision=resnet50.pth` for ImageNet initialisation and
`:tiny` after the file name for a smoke run. Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="resnet50", dataset="skin")
