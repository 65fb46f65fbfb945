# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A tiny stand-in for `xaijax.data` with the same interface.

The trainer tests use it so that they check the trainer alone: images are
small, made in memory, and the class is a bright quadrant, so a tiny model
learns it in a few steps. Two test hooks: `delay` sleeps per train batch (to
kill a run mid-way reliably) and `nan_at` poisons one batch of the stream.
"""

import dataclasses
import time

import jax
import ml_collections
import numpy as np


def default_config() -> ml_collections.ConfigDict:
  c = ml_collections.ConfigDict()
  c.name = "fake"
  c.image_size = 16
  c.num_classes = 3
  c.sizes = (48, 16, 16)  # train, val, test
  c.seed = 0
  c.fold = 0
  c.delay = 0.0  # seconds slept per train batch
  c.nan_at = -1  # stream index of a batch whose images become NaN
  return c


@dataclasses.dataclass
class Split:
  images: np.ndarray  # (N, S, S, 3) float32
  labels: np.ndarray  # (N,) int32
  ids: list
  config: ml_collections.ConfigDict
  has_masks: bool = False

  def __len__(self) -> int:
    return len(self.labels)


@dataclasses.dataclass
class Dataset:
  train: Split
  val: Split
  test: Split
  class_names: tuple

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  def class_weights(self) -> np.ndarray:
    counts = np.bincount(self.train.labels, minlength=self.num_classes)
    return (len(self.train) / (self.num_classes * counts)).astype(np.float32)


def load(cfg, workdir=None) -> Dataset:
  del workdir
  rng = np.random.default_rng(cfg.seed)
  s, k = cfg.image_size, cfg.num_classes
  splits = []
  for name, n in zip(("train", "val", "test"), cfg.sizes, strict=True):
    labels = (np.arange(n) % k).astype(np.int32)
    images = rng.normal(0, 0.5, (n, s, s, 3)).astype(np.float32)
    for i, label in enumerate(labels):
      row, col = divmod(int(label), 2)
      h = s // 2
      images[i, row * h : (row + 1) * h, col * h : (col + 1) * h] += 1.5
    ids = [f"{name}:{i}" for i in range(n)]
    splits.append(Split(images, labels, ids, cfg))
  return Dataset(*splits, class_names=tuple(f"c{i}" for i in range(k)))


def _rows(batch_size, process_index, process_count):
  local = batch_size // process_count
  return process_index * local, local


def train_batches(
  split, *, batch_size, seed, start_step=0, process_index=0, process_count=1
):
  cfg = split.config
  lo, local = _rows(batch_size, process_index, process_count)
  per_epoch = len(split) // batch_size
  step = start_step
  while True:
    epoch, k = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(len(split))
    rows = perm[k * batch_size : (k + 1) * batch_size][lo : lo + local]
    images = split.images[rows].copy()
    if step == cfg.nan_at:
      images[:] = np.nan
    time.sleep(cfg.delay)
    yield {"image": images, "label": split.labels[rows], "index": rows}
    step += 1


def eval_batches(split, *, batch_size, process_index=0, process_count=1):
  lo, local = _rows(batch_size, process_index, process_count)
  n = len(split)
  for start in range(0, n, batch_size):
    index = np.arange(start + lo, start + lo + local)
    valid = index < n
    safe = np.where(valid, index, 0)
    yield {
      "image": np.where(valid[:, None, None, None], split.images[safe], 0),
      "label": np.where(valid, split.labels[safe], 0).astype(np.int32),
      "index": np.where(valid, index, -1).astype(np.int32),
      "valid": valid,
    }


def to_global(batch, mesh):
  sharding = jax.sharding.NamedSharding(
    mesh, jax.sharding.PartitionSpec("data")
  )
  return {
    k: jax.make_array_from_process_local_data(sharding, np.asarray(v))
    for k, v in batch.items()
  }
