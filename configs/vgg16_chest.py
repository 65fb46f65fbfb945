# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""vgg16 on the Kermany pediatric chest X-ray set (normal/pneumonia).

  python launch.py --config configs/vgg16_chest.py \
    --config.data.root=/path/to/chest_xray/ --workdir runs/vgg16_chest

Add `--config.init.torchvision=vgg16.pth` for ImageNet initialisation and
`:tiny` after the file name for a smoke run. Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="vgg16", dataset="chest")
