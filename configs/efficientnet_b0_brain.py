# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""efficientnet_b0 on the Kaggle brain tumour MRI set (4 classes).

  python launch.py --config configs/efficientnet_b0_brain.py \
    --config.data.root=/path/to/Brain-Tumor-MRI/ --workdir runs/efficientnet_b0_brain

Add `--config.init.torchvision=efficientnet_b0.pth` for ImageNet initialisation and
`:tiny` after the file name for a smoke run. Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="efficientnet_b0", dataset="brain")
