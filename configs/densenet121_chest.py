# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""densenet121 on the Kermany pediatric chest X-ray set (normal/pneumonia).

  python launch.py --config configs/densenet121_chest.py \
    --config.data.root=/path/to/chest_xray/ --workdir runs/densenet121_chest

Add `--config.init.torchvision=densenet121.pth` for ImageNet initialisation and
`:tiny` after the file name for a smoke run. Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="densenet121", dataset="chest")
