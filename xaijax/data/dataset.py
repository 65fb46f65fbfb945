# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""`load(config)`: a data config to a `Dataset` of train / val / test
`Split`s, and what loading found (`Findings`).

    layout listing (layouts/) -> integrity scan (integrity.py)
      -> partition (splits.py) -> Dataset -> split record (record.py)
"""

import dataclasses
import logging

import numpy as np

from xaijax.data import config, integrity, layouts, preprocess, record, splits
from xaijax.data.errors import DataError
from xaijax.data.sources import Source

log = logging.getLogger(__name__)

SPLIT_NAMES = splits.SPLIT_NAMES


class Split:
  """One of train / val / test: a source and the indices it owns.

  `len(split)`, `split.labels`, `split.ids` describe it without reading any
  image; `split.example(i)` reads, decodes and preprocesses example i.
  Batching lives in `xaijax.data.train_batches` / `eval_batches`.
  """

  def __init__(self, name, source: Source, indices, cfg, class_names):
    self.name = name
    self.source = source
    self.indices = np.asarray(indices, np.int64)
    self.config = cfg
    self.class_names = tuple(class_names)

  def __len__(self):
    return len(self.indices)

  def __repr__(self):
    counts = ", ".join(
      f"{n}={c}"
      for n, c in zip(self.class_names, self.class_counts(), strict=True)
    )
    return f"Split({self.name}: {len(self)} images; {counts})"

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  @property
  def labels(self) -> np.ndarray:
    return self.source.labels[self.indices]

  @property
  def ids(self) -> list[str]:
    return [self.source.ids[i] for i in self.indices]

  @property
  def groups(self) -> list:
    return [self.source.groups[i] for i in self.indices]

  @property
  def has_masks(self) -> bool:
    return self.source.has_masks

  def class_counts(self) -> np.ndarray:
    return np.bincount(self.labels, minlength=self.num_classes)

  def raw(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Example i before resizing: uint8 (H, W, 3) and mask (or None).

    (H, W) is the file's size, or with `config.jpeg_draft` possibly a
    libjpeg 1/2, 1/4 or 1/8 reduction that is still >= `image_size`.
    """
    return self.source.read(int(self.indices[i]), self.config.image_size)

  def example(self, i: int, rng: np.random.Generator | None = None) -> dict:
    """Example i ready for the model; augmented when `rng` is given.

    Returns:
      {"image": float32 (S, S, 3), "label": int, "index": i} and, when the
      source has them, "lesion_mask": float32 (S, S) in {0, 1}.
    """
    img, mask = self.raw(i)
    x, m = preprocess.process(img, mask, self.config, rng)
    out = {"image": x, "label": int(self.labels[i]), "index": i}
    if m is not None:
      out["lesion_mask"] = m
    return out


@dataclasses.dataclass(frozen=True)
class Findings:
  """What loading found, beyond the splits (all of it goes to the record).

  Attributes:
    root: the dataset root as read.
    layout: the layout found, in words.
    notes: how the layout was read and the splits were made.
    ignored_files: non-image files skipped (README, .DS_Store, ...).
    ignored_examples: up to 10 of their paths.
    corrupt_files: unreadable files left out (`data.skip_corrupt`).
    duplicate_files: files byte-identical to an earlier one.
    duplicates: identical files in two different splits (leakage).
    label_conflicts: identical files filed under different classes.
  """

  root: str = ""
  layout: str = ""
  notes: tuple[str, ...] = ()
  ignored_files: int = 0
  ignored_examples: tuple[str, ...] = ()
  corrupt_files: tuple[str, ...] = ()
  duplicate_files: int = 0
  duplicates: tuple[integrity.Duplicate, ...] = ()
  label_conflicts: tuple[integrity.LabelConflict, ...] = ()

  @property
  def corrupt_skipped(self) -> int:
    return len(self.corrupt_files)


@dataclasses.dataclass
class Dataset:
  """A loaded dataset: class names, the three splits and what was found.

  Attributes:
    name: the dataset name.
    class_names: label i is class_names[i].
    train, val, test: the splits.
    config: the data config it was loaded with.
    findings: what loading found (layout, ignored and corrupt files,
      duplicates, notes).
  """

  name: str
  class_names: tuple[str, ...]
  train: Split
  val: Split
  test: Split
  config: object
  findings: Findings

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  @property
  def splits(self) -> dict[str, Split]:
    return {"train": self.train, "val": self.val, "test": self.test}

  @property
  def has_masks(self) -> bool:
    return self.test.has_masks

  def class_weights(self) -> np.ndarray:
    """Balanced class weights (K,) from the training split's counts."""
    return splits.class_weights(self.train.labels, self.num_classes)

  def summary(self) -> str:
    """A small table: classes x splits, plus what loading found."""
    w = max(8, *(len(c) for c in self.class_names))
    lines = [f"{'class':<{w}} " + " ".join(f"{s:>7}" for s in SPLIT_NAMES)]
    counts = [s.class_counts() for s in self.splits.values()]
    for k, name in enumerate(self.class_names):
      lines.append(f"{name:<{w}} " + " ".join(f"{c[k]:>7}" for c in counts))
    lines.append(
      f"{'total':<{w}} "
      + " ".join(f"{len(s):>7}" for s in self.splits.values())
    )
    f = self.findings
    if f.ignored_files:
      lines.append(f"ignored_files: {f.ignored_files}")
    if f.corrupt_skipped:
      lines.append(f"corrupt_skipped: {f.corrupt_skipped}")
    if f.duplicates:
      lines.append(f"duplicates across splits: {len(f.duplicates)}")
    if f.label_conflicts:
      lines.append(
        f"identical files with different labels: {len(f.label_conflicts)}"
      )
    return "\n".join(lines)


def check_num_classes(dataset, num_classes: int) -> None:
  """Raises DataError when a model head's size differs from the dataset's.

  Args:
    dataset: a `Dataset` (or anything with `class_names`).
    num_classes: the model's number of outputs.
  """
  names = tuple(dataset.class_names)
  if int(num_classes) != len(names):
    raise DataError(
      f"The model has {num_classes} outputs but the dataset "
      f"'{getattr(dataset, 'name', '?')}' has {len(names)} classes "
      f"({', '.join(names)}). Build the model with num_classes="
      f"{len(names)}, or change the data config (data.name, data.grouping)."
    )


def assemble(lst: layouts.Listing, cfg) -> Dataset:
  """Checks a listing's files and partitions it into a Dataset.

  Args:
    lst: what a layout found (after `data.grouping`).
    cfg: the data config.

  Raises:
    DataError: corrupt files (unless `cfg.skip_corrupt`), a bad fold, or no
      training images.
  """
  source = lst.source
  if lst.ignored_files:
    log.warning(
      "Ignored %d non-image file(s) under %s, e.g. %s",
      lst.ignored_files,
      lst.root,
      lst.ignored_examples[0] if lst.ignored_examples else "?",
    )
  scan = integrity.scan(source, cfg, lst.root)
  # Corrupt files that were skipped stay in the source but in no split;
  # everything below sees the kept examples only.
  kept = np.flatnonzero(scan.keep)
  ids = [source.ids[i] for i in kept]
  labels = source.labels[kept]
  hashes = [scan.hashes[i] for i in kept] if scan.hashes else []
  groups = splits.group_ids(ids, [source.groups[i] for i in kept], hashes)
  chosen, notes = splits.partition(
    ids,
    labels,
    groups,
    lst.official[kept],
    cfg,
    official_val=lst.official_val,
    test_only=lst.test_only,
  )
  chosen = {k: kept[v] for k, v in chosen.items()}
  if not lst.test_only and len(chosen["train"]) == 0:
    raise DataError(f"Dataset '{lst.name}' has no training images.")
  duplicate_files, conflicts, duplicates = 0, (), ()
  if hashes:
    duplicate_files, conflicts = integrity.label_conflicts(
      hashes, labels, ids, lst.class_names
    )
    duplicates = integrity.duplicates_across(chosen, scan.hashes, source.ids)
  made = {
    k: Split(k, source, v, cfg, lst.class_names) for k, v in chosen.items()
  }
  return Dataset(
    lst.name,
    lst.class_names,
    made["train"],
    made["val"],
    made["test"],
    cfg,
    Findings(
      root=lst.root,
      layout=lst.layout,
      notes=(*lst.notes, *notes),
      ignored_files=lst.ignored_files,
      ignored_examples=lst.ignored_examples,
      corrupt_files=scan.corrupt,
      duplicate_files=duplicate_files,
      duplicates=duplicates,
      label_conflicts=conflicts,
    ),
  )


def load(cfg, workdir: str | None = None) -> Dataset:
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
  config.check_config(cfg)
  if cfg.tfds_data_dir and cfg.name != "synthetic":
    from xaijax.data import tfds_builders

    lst = tfds_builders.listing(cfg)
  else:
    lst = layouts.listing(cfg)
  ds = assemble(layouts.apply_grouping(cfg, lst), cfg)
  for line in ds.summary().splitlines():
    log.info("%s: %s", ds.name, line)
  if workdir:
    record.write(ds, workdir)
  return ds
