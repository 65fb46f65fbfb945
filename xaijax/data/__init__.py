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
any class-folder tree; external test sets (brain MRI yes/no, COVID-19
Radiography, PH2 with lesion masks) with label maps and duplicate removal
(`load_external`). See docs/data.md.
"""

from xaijax.data.config import (
  DATASETS,
  EXTERNAL_DATASETS,
  IMAGENET_MEAN,
  IMAGENET_STD,
  check_config,
  default_config,
)
from xaijax.data.dataset import (
  Dataset,
  Findings,
  Split,
  check_num_classes,
  load,
)
from xaijax.data.errors import DataError
from xaijax.data.external import (
  ExternalSet,
  LabelMap,
  load_external,
  map_labels,
  map_probabilities,
  remove_duplicates,
)
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
  "EXTERNAL_DATASETS",
  "IMAGENET_MEAN",
  "IMAGENET_STD",
  "DataError",
  "Dataset",
  "ExternalSet",
  "Findings",
  "LabelMap",
  "Split",
  "check_config",
  "check_num_classes",
  "class_weights",
  "default_config",
  "eval_batches",
  "group_key",
  "load",
  "load_external",
  "map_labels",
  "map_probabilities",
  "num_eval_batches",
  "prefetch_to_device",
  "remove_duplicates",
  "steps_per_epoch",
  "to_global",
  "train_batches",
  "write_split_record",
]
