# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""`load(config)`: the one entry point from a data config to a Dataset."""

import logging

import numpy as np

from xaijax.data import core, record, synthetic
from xaijax.data.config import DATASETS
from xaijax.data.errors import DataError

log = logging.getLogger(__name__)


def load(cfg, workdir: str | None = None) -> core.Dataset:
  """Loads the dataset `cfg.name` from `cfg.root` and splits it.

  Only file names are listed and (per `cfg.verify`) every file's header is
  checked; images are decoded later, batch by batch.

  Args:
    cfg: a data config (`default_config()` with overrides).
    workdir: when given, the split record is written there (or checked
      against the one already there).

  Returns:
    A `Dataset` with train/val/test splits.

  Raises:
    DataError: anything about the data the user can fix, with the path,
      the expected layout and where the dataset is published.
  """
  if cfg.name not in DATASETS:
    raise DataError(
      f"Unknown dataset '{cfg.name}'; data.name must be one of "
      f"{', '.join(DATASETS)}."
    )
  if cfg.image_size < 8:
    raise DataError(f"data.image_size must be >= 8, got {cfg.image_size}.")
  for f in ("val_fraction", "test_fraction"):
    if not 0.0 <= cfg[f] < 1.0:
      raise DataError(f"data.{f} must be in [0, 1), got {cfg[f]}.")
  if cfg.tfds_data_dir and cfg.name != "synthetic":
    from xaijax.data import tfds_builders

    ds = tfds_builders.load_prepared(cfg)
  elif cfg.name == "synthetic":
    ds = _synthetic(cfg)
  elif cfg.name == "medmnist":
    from xaijax.data import medmnist

    ds = medmnist.load(cfg)
  else:
    from xaijax.data import folders

    ds = folders.load(cfg)
  for line in ds.summary().splitlines():
    log.info("%s: %s", ds.name, line)
  if workdir:
    record.write(ds, workdir)
  return ds


def _synthetic(cfg) -> core.Dataset:
  synthetic.check(cfg)
  source = core.SyntheticSource(cfg.synthetic, cfg.image_size)
  info = {
    "layout": "synthetic",
    "root": "",
    "notes": [
      f"synthetic lesions: modality={cfg.synthetic.modality}, "
      f"difficulty={cfg.synthetic.difficulty}, seed={cfg.synthetic.seed}"
    ],
  }
  return core.build(
    "synthetic",
    source,
    np.full(len(source), ""),
    synthetic.class_names(cfg.synthetic.num_classes),
    cfg,
    info,
  )
