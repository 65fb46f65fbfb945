# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The split record: which image is in which split, written to the workdir.

`<workdir>/data_splits.json` lists every split's members (id and label),
each split's SHA-256 over its "id<TAB>label" lines, the duplicates found
across splits (leakage), skipped corrupt files and ignored non-image
files. A rerun on the same workdir compares hashes, so a resumed run can
never silently train or test on different images.
"""

import dataclasses
import hashlib
import json
import os

from xaijax.data.errors import DataError

FILENAME = "data_splits.json"


def split_hash(split) -> str:
  """SHA-256 over the split's "id<TAB>label" lines: membership and order."""
  h = hashlib.sha256()
  for i, y in zip(split.ids, split.labels, strict=True):
    h.update(f"{i}\t{int(y)}\n".encode())
  return h.hexdigest()


def make(dataset) -> dict:
  """The record of a `Dataset` (a JSON-ready dict)."""
  cfg = dataset.config
  f = dataset.findings
  return {
    "dataset": dataset.name,
    "root": f.root,
    "layout": f.layout,
    "class_names": list(dataset.class_names),
    "seed": int(cfg.seed),
    "val_fraction": float(cfg.val_fraction),
    "test_fraction": float(cfg.test_fraction),
    "num_folds": int(cfg.num_folds),
    "fold": int(cfg.fold),
    "grouping": cfg.grouping,
    "limit": int(cfg.limit),
    "notes": list(f.notes),
    "ignored_files": f.ignored_files,
    "corrupt_skipped": f.corrupt_skipped,
    "corrupt_files": list(f.corrupt_files),
    "duplicate_files": f.duplicate_files,
    "duplicates": [dataclasses.asdict(d) for d in f.duplicates],
    "label_conflicts": [dataclasses.asdict(c) for c in f.label_conflicts],
    "splits": {
      name: {
        "count": len(s),
        "class_counts": [int(c) for c in s.class_counts()],
        "sha256": split_hash(s),
        "members": [[i, int(y)] for i, y in zip(s.ids, s.labels, strict=True)],
      }
      for name, s in dataset.splits.items()
    },
  }


def write(dataset, workdir: str, *, check_existing: bool = True) -> str:
  """Writes (or, on a rerun, checks) `<workdir>/data_splits.json`.

  Raises:
    DataError: the workdir holds a record of different split membership
      (the data, seed or split settings changed since the run started).
  """
  os.makedirs(workdir, exist_ok=True)
  path = os.path.join(workdir, FILENAME)
  rec = make(dataset)
  if check_existing and os.path.exists(path):
    with open(path) as f:
      old = json.load(f)
    changed = [
      name
      for name, s in rec["splits"].items()
      if old.get("splits", {}).get(name, {}).get("sha256") != s["sha256"]
    ]
    if changed:
      raise DataError(
        f"{path} records different {', '.join(changed)} split membership "
        "than this run would use (the data folder, seed or split settings "
        "changed). Use a new --workdir, or delete that file to accept the "
        "new splits."
      )
    return path
  tmp = path + ".tmp"
  with open(tmp, "w") as f:
    json.dump(rec, f, indent=1)
  os.replace(tmp, path)
  return path
