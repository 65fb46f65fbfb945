# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Datasets and the input pipeline.

    from xaijax import data
    cfg = data.default_config()            # or config.data in a config file
    ds = data.load(cfg, workdir)           # Dataset: train / val / test Splits
    data.check_num_classes(ds, num_classes)
    for batch in data.train_batches(ds.train, start_step=step):
      batch = data.to_global(batch, mesh)  # {"image", "label", "index", ...}
    for batch in data.eval_batches(ds.test):  # + "valid" (padding mask)

Datasets: synthetic lesions (with masks), the Kaggle brain tumor MRI
layout, Kermany chest X-ray (2- and 3-class), skin lesions (class folders,
the 9-class ISIC set, HAM10000 with its metadata CSV), MedMNIST .npz, and
any class-folder tree. See docs/data.md.
"""

from xaijax.data.config import (
  DATASETS,
  IMAGENET_MEAN,
  IMAGENET_STD,
  default_config,
)
from xaijax.data.dataset import (
  Dataset,
  Findings,
  Split,
  check_config,
  check_num_classes,
  load,
)
from xaijax.data.errors import DataError
from xaijax.data.layouts.class_folders import group_key
from xaijax.data.pipeline import (
  eval_batches,
  num_eval_batches,
  prefetch_to_device,
  steps_per_epoch,
  to_global,
  train_batches,
)
from xaijax.data.record import write as write_split_record
from xaijax.data.splits import class_weights

__all__ = [
  "DATASETS",
  "IMAGENET_MEAN",
  "IMAGENET_STD",
  "DataError",
  "Dataset",
  "Findings",
  "Split",
  "check_config",
  "check_num_classes",
  "class_weights",
  "default_config",
  "eval_batches",
  "group_key",
  "load",
  "num_eval_batches",
  "prefetch_to_device",
  "steps_per_epoch",
  "to_global",
  "train_batches",
  "write_split_record",
]
