# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""densenet121 on the ISIC 9-class skin lesion set.

  python launch.py --config configs/densenet121_skin.py \
    --config.data.root=/path/to/Skin cancer ISIC/ --workdir runs/densenet121_skin

Add `--config.init.torchvision=densenet121.pth` for ImageNet initialisation and
`:tiny` after the file name for a smoke run. Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="densenet121", dataset="skin")
