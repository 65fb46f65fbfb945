# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""resnet50 on colorectal H&E tiles, NCT-CRC-HE-100K (train) and CRC-VAL-HE-7K
(test), nine tissue classes.

  python launch.py --config configs/resnet50_pathology.py \
    --config.data.root=/path/to/nct_crc --workdir runs/resnet50_pathology

data.root holds NCT-CRC-HE-100K/ and CRC-VAL-HE-7K/ (or only the class
folders ADI/ ... TUM/, then split by seed). Other pathology layouts:
--config.data.name=kather_texture_2016, breakhis, pcam or pathmnist
(docs/data.md). Keys: configs/base.py.
"""

from configs import base


def get_config(arg=None):
  return base.get_config(arg, model="resnet50", dataset="pathology")
