# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""resnet50 on the Kaggle brain tumour MRI set (4 classes).

  python launch.py --config configs/resnet50_brain.py \
    --config.data.root=/path/to/Brain-Tumor-MRI/ --workdir runs/resnet50_brain

Add `--config.init.torchvision=resnet50.pth` for ImageNet initialisation and
`:tiny` after the file name for a smoke run. Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="resnet50", dataset="brain")
