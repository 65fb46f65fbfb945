# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Sources (random access to raw images), `Split` and `Dataset`.

A source holds only what identifies its examples (paths, labels, group
keys) -- never decoded images -- and reads one example on request, so
memory stays flat however large the dataset is.
"""

import concurrent.futures
import dataclasses
import hashlib
import io
import logging
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from xaijax.data import preprocess, synthetic
from xaijax.data import splits as splits_lib
from xaijax.data.errors import DataError

log = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "val", "test")


# ---------------------------------------------------------------------------
# Sources.
# ---------------------------------------------------------------------------


class Source:
  """Random access to N raw examples.

  Attributes:
    labels: (N,) int32 class of each example.
    ids: N strings that identify each example (a path relative to the
      dataset root, `npz:<split>:<i>` or `synthetic:<i>`).
    groups: N hashable group keys (patient, lesion, or the id itself).
    has_masks: whether `read` returns ground-truth lesion masks.
  """

  has_masks = False

  def __init__(self, labels, ids, groups=None):
    self.labels = np.asarray(labels, np.int32)
    self.ids = list(ids)
    self.groups = list(ids if groups is None else groups)

  def __len__(self):
    return len(self.labels)

  def read(self, i: int, size: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Example i as uint8 (H, W, 3) and uint8 mask (H, W) or None.

    `size` is the size the pipeline will resize to (a decoding hint).
    """
    raise NotImplementedError


class FileSource(Source):
  """Image files under a root folder."""

  def __init__(self, root, relpaths, labels, groups=None, *, draft=True):
    super().__init__(labels, relpaths, groups)
    self.root = os.fspath(root)
    self.draft = draft

  def path(self, i: int) -> str:
    return os.path.join(self.root, self.ids[i])

  def read(self, i, size):
    path = self.path(i)
    try:
      with open(path, "rb") as f:
        data = f.read()
      return preprocess.decode(data, size=size, draft=self.draft), None
    except (
      OSError,
      ValueError,
      SyntaxError,
      Image.DecompressionBombError,
    ) as e:
      raise DataError(
        f"Corrupt or unreadable image: {path} ({type(e).__name__}: {e}). "
        "Run with --config.data.verify=full --config.data.skip_corrupt=True "
        "to find every such file when the dataset is loaded and leave them "
        "out."
      ) from e


class ArraySource(Source):
  """Images in an array (N, H, W[, C]), possibly a read-only memmap."""

  def __init__(self, images, labels, ids, groups=None):
    super().__init__(labels, ids, groups)
    self.images = images

  def read(self, i, size):
    return preprocess.array_to_rgb(np.asarray(self.images[i])), None


class SyntheticSource(Source):
  """Synthetic lesions made on request from (synthetic seed, index)."""

  has_masks = True

  def __init__(self, cfg_syn, size: int):
    n = cfg_syn.num_images
    super().__init__(
      synthetic.labels(n, cfg_syn.num_classes, cfg_syn.seed),
      [f"synthetic:{i}" for i in range(n)],
    )
    self.cfg_syn = cfg_syn
    self.size = size

  def read(self, i, size):
    return synthetic.generate(i, int(self.labels[i]), self.cfg_syn, self.size)


# ---------------------------------------------------------------------------
# Split and Dataset.
# ---------------------------------------------------------------------------


class Split:
  """One of train / val / test: a source and the indices it owns.

  `len(split)`, `split.labels`, `split.ids` describe it without reading any
  image; `split.example(i)` reads, decodes and preprocesses example i.
  Batching lives in `xaijax.data.train_batches` / `eval_batches`.
  """

  def __init__(self, name, source, indices, cfg, class_names):
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


@dataclasses.dataclass
class Dataset:
  """A loaded dataset: class names, the three splits and what was found.

  Attributes:
    name: the config's dataset name.
    class_names: label i is class_names[i].
    train, val, test: the splits.
    config: the data config it was loaded with.
    info: what loading found: layout, root, ignored (non-image) files,
      corrupt files skipped, duplicates across splits, notes.
  """

  name: str
  class_names: tuple[str, ...]
  train: Split
  val: Split
  test: Split
  config: object
  info: dict = dataclasses.field(default_factory=dict)

  @property
  def num_classes(self) -> int:
    return len(self.class_names)

  @property
  def splits(self) -> dict[str, Split]:
    return {"train": self.train, "val": self.val, "test": self.test}

  @property
  def has_masks(self) -> bool:
    return self.train.has_masks

  def class_weights(self) -> np.ndarray:
    """Balanced class weights (K,) from the training split's counts."""
    return splits_lib.class_weights(self.train.labels, self.num_classes)

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
    for key in ("ignored_files", "corrupt_skipped"):
      if self.info.get(key):
        lines.append(f"{key}: {self.info[key]}")
    if self.info.get("duplicates"):
      lines.append(f"duplicates across splits: {len(self.info['duplicates'])}")
    if self.info.get("label_conflicts"):
      lines.append(
        "identical files with different labels: "
        f"{len(self.info['label_conflicts'])}"
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


# ---------------------------------------------------------------------------
# Reading every file once: verification and content hashes.
# ---------------------------------------------------------------------------


def _check_file(path: str, verify: str, want_hash: bool):
  """(sha1 hex or None, error string or None) for one file."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    return None, f"{type(e).__name__}: {e}"
  digest = hashlib.sha1(data).hexdigest() if want_hash else None
  if not data:
    return digest, "empty file"
  try:
    if verify == "full":
      preprocess.decode(data, draft=False)
    elif verify == "header":
      with Image.open(io.BytesIO(data)) as img:
        img.size  # noqa: B018 (parsing the header is the check)
  except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
    return digest, f"{type(e).__name__}: {e}"
  return digest, None


def scan(source: FileSource, cfg, info: dict) -> tuple[list, np.ndarray]:
  """Reads every file once (threads): verifies it and hashes its bytes.

  Returns:
    (hashes or [] when not asked for, boolean keep mask). Corrupt files
    raise DataError unless `cfg.skip_corrupt`; then they are dropped and
    counted in `info["corrupt_skipped"]`.
  """
  n = len(source)
  want_hash = bool(cfg.check_duplicates)
  if cfg.verify not in ("none", "header", "full"):
    raise DataError(
      f"data.verify must be 'none', 'header' or 'full', got '{cfg.verify}'."
    )
  keep = np.ones(n, bool)
  if cfg.verify == "none" and not want_hash:
    return [], keep
  workers = max(1, int(cfg.num_workers)) * 2  # mostly waiting on the disk
  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    results = list(
      pool.map(
        lambda i: _check_file(source.path(i), cfg.verify, want_hash), range(n)
      )
    )
  hashes = [h for h, _ in results] if want_hash else []
  bad = [(source.ids[i], err) for i, (_, err) in enumerate(results) if err]
  if bad:
    if not cfg.skip_corrupt:
      listed = "\n".join(f"  {p}: {e}" for p, e in bad[:10])
      more = f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""
      raise DataError(
        f"{len(bad)} corrupt or unreadable image file(s) under "
        f"{source.root}:\n{listed}{more}\nFix or remove them, or set "
        "--config.data.skip_corrupt=True to leave them out (they are then "
        "counted and listed in the split record)."
      )
    for i, (_, err) in enumerate(results):
      if err:
        keep[i] = False
    info["corrupt_skipped"] = len(bad)
    info["corrupt_files"] = [p for p, _ in bad]
    log.warning(
      "Skipped %d corrupt image file(s) (data.skip_corrupt=True), e.g. %s",
      len(bad),
      bad[0][0],
    )
  return hashes, keep


# ---------------------------------------------------------------------------
# From examples with official split tags to a Dataset.
# ---------------------------------------------------------------------------


def _union_groups(ids: Sequence, group_keys: Sequence, hashes: Sequence):
  """Group ids where examples sharing a group key OR identical bytes are
  one group (so duplicates never straddle a split that we make).

  Groups are numbered in the order of their smallest example id, so the
  partition does not depend on the order in which examples were listed
  (the folder and the TFDS paths list them differently).
  """
  n = len(group_keys)
  parent = list(range(n))

  def find(a):
    while parent[a] != a:
      parent[a] = parent[parent[a]]
      a = parent[a]
    return a

  for keys in (group_keys, hashes):
    first: dict = {}
    for i, k in enumerate(keys):
      if k is None:
        continue
      j = first.setdefault(k, i)
      if j != i:
        ra, rb = find(i), find(j)
        if ra != rb:
          parent[ra] = rb
  name: dict = {}
  for i in range(n):
    r = find(i)
    name[r] = min(name.get(r, ids[i]), ids[i])
  return np.unique([name[find(i)] for i in range(n)], return_inverse=True)[
    1
  ].astype(np.int64)


def _hold_out(
  pool: np.ndarray,
  labels: np.ndarray,
  groups: np.ndarray,
  fraction: float,
  seed: int,
  salt: int,
) -> np.ndarray:
  """Indices of a stratified, grouped, seeded `fraction` of the pool (N,)."""
  idx = np.flatnonzero(pool)
  parts = splits_lib.assign(
    labels[idx], _dense(groups[idx]), [1 - fraction, fraction], seed, salt=salt
  )
  return idx[parts == 1]


def _dense(g: np.ndarray) -> np.ndarray:
  return np.unique(g, return_inverse=True)[1].astype(np.int64)


def _limit(indices, labels, limit, seed):
  if limit <= 0 or len(indices) <= limit:
    return indices
  parts = splits_lib.assign(
    labels[indices],
    np.arange(len(indices)),
    [limit / len(indices), 1 - limit / len(indices)],
    seed,
    salt=0x1171,
  )
  return indices[parts == 0][:limit]


def build(
  name: str,
  source: Source,
  official: np.ndarray,
  class_names,
  cfg,
  info: dict,
  hashes: Sequence = (),
  official_val: bool = False,
) -> Dataset:
  """Partitions a source into train/val/test and reports leakage.

  Args:
    name: dataset name.
    source: all examples.
    official: (N,) strings "train" / "val" / "test" / "" (no official
      split): the layout's own split of each example.
    class_names: label names.
    cfg: data config.
    info: filled in (duplicates) and attached to the Dataset.
    hashes: content hash of each example, or empty.
    official_val: keep the layout's own "val" as the validation split
      (MedMNIST); otherwise it joins the training pool (the Kermany val/
      split has 16 images, too few to select models on).
  """
  official = np.asarray(official)
  labels = source.labels
  n = len(source)
  groups = _union_groups(
    source.ids, source.groups, hashes if len(hashes) else [None] * n
  )
  seed = int(cfg.seed)

  notes = info.setdefault("notes", [])
  if len(official) and not (official == "train").any() and official.any():
    # e.g. only the Kaggle brain MRI Testing/ folder: it becomes the pool
    # from which train/val/test are made.
    notes.append(
      "no training split in the layout (only "
      f"{', '.join(sorted({str(o) for o in official if o}))}): all its "
      "images are split by seed"
    )
    official = np.full(n, "")
  has_test = bool((official == "test").any())
  test_mask = official == "test"
  val_mask = np.zeros(n, bool)
  if official_val and (official == "val").any():
    val_mask = official == "val"
  pool = ~test_mask & ~val_mask
  if not has_test:
    held = _hold_out(pool, labels, groups, cfg.test_fraction, seed, 0x7E57)
    test_mask[held] = True
    pool[held] = False
    notes.append(
      f"no official test split: a seeded (seed={seed}), stratified, grouped "
      f"{cfg.test_fraction:.0%} of the images is the test split"
    )
  if cfg.num_folds and cfg.num_folds > 1:
    if not 0 <= cfg.fold < cfg.num_folds:
      raise DataError(
        f"data.fold must be in 0..{cfg.num_folds - 1}, got {cfg.fold}."
      )
    idx = np.flatnonzero(pool)
    folds = splits_lib.kfold(
      labels[idx], _dense(groups[idx]), cfg.num_folds, seed
    )
    val_mask[idx[folds == cfg.fold]] = True
    pool[idx[folds == cfg.fold]] = False
    notes.append(
      f"validation is fold {cfg.fold} of {cfg.num_folds} (stratified, "
      f"grouped, seed={seed}) of the training pool"
    )
  elif not val_mask.any() and cfg.val_fraction > 0:
    held = _hold_out(pool, labels, groups, cfg.val_fraction, seed, 0x7A1)
    val_mask[held] = True
    pool[held] = False

  # Each split in the order of its example ids: membership, order and the
  # recorded hash do not depend on how the source listed its examples.
  order = np.argsort(np.asarray(source.ids, dtype=object), kind="stable")
  chosen = {
    "train": order[pool[order]],
    "val": order[val_mask[order]],
    "test": order[test_mask[order]],
  }
  if cfg.limit:
    chosen = {k: _limit(v, labels, cfg.limit, seed) for k, v in chosen.items()}
    notes.append(f"each split limited to {cfg.limit} images (data.limit)")
  made = {k: Split(k, source, v, cfg, class_names) for k, v in chosen.items()}
  if len(made["train"]) == 0:
    raise DataError(f"Dataset '{name}' has no training images.")

  if len(hashes):
    _label_conflicts(hashes, labels, source.ids, class_names, info)
    info["duplicates"] = _duplicates(chosen, hashes, source.ids)
    if info["duplicates"]:
      ex = info["duplicates"][0]
      log.warning(
        "%d image(s) appear in more than one split with identical bytes "
        "(leakage), e.g. %s (%s) = %s (%s). They are listed in the split "
        "record.",
        len(info["duplicates"]),
        ex["a"],
        ex["split_a"],
        ex["b"],
        ex["split_b"],
      )
  return Dataset(
    name,
    tuple(class_names),
    made["train"],
    made["val"],
    made["test"],
    cfg,
    info,
  )


def _duplicates(chosen: dict, hashes: Sequence, ids: Sequence) -> list[dict]:
  """Identical files that sit in two different splits."""
  where: dict = {}
  found = []
  for split in SPLIT_NAMES:
    for i in chosen[split]:
      h = hashes[i]
      if h is None:
        continue
      if h in where and where[h][0] != split:
        s0, i0 = where[h]
        found.append(
          {
            "sha1": h,
            "a": ids[i0],
            "split_a": s0,
            "b": ids[i],
            "split_b": split,
          }
        )
      else:
        where.setdefault(h, (split, i))
  return found


def _label_conflicts(hashes, labels, ids, class_names, info) -> None:
  """Identical files filed under different classes (label noise)."""
  first: dict = {}
  conflicts = []
  copies = 0
  for i, h in enumerate(hashes):
    if h is None:
      continue
    if h in first:
      copies += 1
      j = first[h]
      if labels[i] != labels[j]:
        conflicts.append(
          {
            "sha1": h,
            "a": ids[j],
            "class_a": class_names[labels[j]],
            "b": ids[i],
            "class_b": class_names[labels[i]],
          }
        )
    else:
      first[h] = i
  info["duplicate_files"] = copies
  info["label_conflicts"] = conflicts
  if conflicts:
    log.warning(
      "%d pair(s) of identical image files carry different class labels "
      "(label noise), e.g. %s (%s) = %s (%s). Each pair is kept in one "
      "split; all are listed in the split record.",
      len(conflicts),
      conflicts[0]["a"],
      conflicts[0]["class_a"],
      conflicts[0]["b"],
      conflicts[0]["class_b"],
    )
