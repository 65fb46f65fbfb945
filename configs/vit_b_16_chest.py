# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""vit_b_16 (torchvision's ViT-B/16) on the Kermany pediatric chest X-ray set (normal/pneumonia).

  python launch.py --config configs/vit_b_16_chest.py \
    --config.data.root=/path/to/chest_xray/ --workdir runs/vit_b_16_chest

Add `--config.init.torchvision=vit_b_16.pth` for ImageNet initialisation
(the position embedding is interpolated to `data.image_size`, which must be
a multiple of 16) and `:tiny` after the file name for a smoke run (4-pixel
patches at 32 px). Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="vit_b_16", dataset="chest")
