# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Train / validation / test: stratified, grouped, seeded; k-fold; weights.

A "group" is what must never be split across train/validation/test: a
patient (chest X-ray file names, BreakHis folders), a lesion (HAM10000
`lesion_id`), or a set of byte-identical files. Groups are assigned whole,
class by class, to the part that is furthest below its target, so every
part keeps the class proportions as closely as whole groups allow. The
random streams (keys) are named in streams.py.
"""

from collections.abc import Sequence

import numpy as np

from xaijax.data import streams
from xaijax.data.errors import DataError

SPLIT_NAMES = ("train", "val", "test")


def group_label(labels: np.ndarray, group_ids: np.ndarray) -> np.ndarray:
  """Majority label of each group (ties: the smaller label)."""
  n_groups = int(group_ids.max()) + 1 if len(group_ids) else 0
  k = int(labels.max()) + 1 if len(labels) else 0
  counts = np.zeros((n_groups, max(k, 1)), np.int64)
  np.add.at(counts, (group_ids, labels), 1)
  return counts.argmax(axis=1)


def assign(
  labels: np.ndarray,
  group_ids: np.ndarray,
  fractions,
  seed: int,
  stream: int,
) -> np.ndarray:
  """Part index (0..len(fractions)-1) of every example.

  Args:
    labels: (N,) int class of each example.
    group_ids: (N,) int, 0..G-1; examples of a group land in the same part.
    fractions: target share of each part (sums to 1).
    seed: the split seed.
    stream: which partition this is (streams.TEST, VAL, FOLD or LIMIT), so
      that partitions made from one seed are independent.
  """
  labels = np.asarray(labels, np.int64)
  group_ids = np.asarray(group_ids, np.int64)
  fractions = np.asarray(fractions, np.float64)
  fractions = fractions / fractions.sum()
  parts = np.zeros(len(labels), np.int64)
  if not len(labels):
    return parts
  sizes = np.bincount(group_ids)
  glabel = group_label(labels, group_ids)
  rng = np.random.default_rng([seed, streams.PARTITION, stream])
  order = rng.permutation(len(sizes))
  group_part = np.zeros(len(sizes), np.int64)
  for c in np.unique(glabel):
    gs = order[glabel[order] == c]
    gs = gs[sizes[gs] > 0]
    # Largest groups first (stable w.r.t. the seeded order) so the small
    # ones can even out the counts at the end.
    gs = gs[np.argsort(-sizes[gs], kind="stable")]
    target = fractions * sizes[gs].sum()
    have = np.zeros(len(fractions))
    for g in gs:
      deficit = target - have
      p = int(np.argmax(deficit + 1e-9 * fractions))
      group_part[g] = p
      have[p] += sizes[g]
  parts[:] = group_part[group_ids]
  return parts


def kfold(
  labels: np.ndarray, group_ids: np.ndarray, k: int, seed: int
) -> np.ndarray:
  """Fold index (0..k-1) of every example, stratified and grouped."""
  return assign(labels, group_ids, np.full(k, 1.0 / k), seed, streams.FOLD)


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
  """Balanced weights n / (K * n_k) (sklearn's "balanced"); 0 if n_k = 0.

  Multiplying each example's loss by its class weight makes every class
  contribute equally in expectation.
  """
  counts = np.bincount(np.asarray(labels), minlength=num_classes).astype(
    np.float64
  )
  n = counts.sum()
  with np.errstate(divide="ignore"):
    w = np.where(counts > 0, n / (num_classes * counts), 0.0)
  return w.astype(np.float32)


def dense(keys: np.ndarray) -> np.ndarray:
  """Keys -> 0..G-1 in sorted key order (what `assign` numbers groups by)."""
  return np.unique(keys, return_inverse=True)[1].astype(np.int64)


def group_ids(
  ids: Sequence[str], group_keys: Sequence, hashes: Sequence
) -> np.ndarray:
  """(N,) group of every example: examples sharing a group key OR a content
  hash are one group, so duplicates never straddle a split that we make.

  Groups are numbered in the order of their smallest example id, so the
  partition does not depend on the order in which examples were listed
  (the folder and the TFDS paths list them differently).

  Args:
    ids: (N,) example ids.
    group_keys: (N,) hashable keys (patient, lesion, or the id).
    hashes: (N,) content hashes, None where unknown; or empty.
  """
  n = len(group_keys)
  parent = list(range(n))

  def find(a):
    while parent[a] != a:
      parent[a] = parent[parent[a]]
      a = parent[a]
    return a

  for keys in (group_keys, hashes if len(hashes) else [None] * n):
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
  return dense(np.asarray([name[find(i)] for i in range(n)]))


def hold_out(
  pool: np.ndarray,
  labels: np.ndarray,
  groups: np.ndarray,
  fraction: float,
  seed: int,
  stream: int,
) -> np.ndarray:
  """Indices of a stratified, grouped, seeded `fraction` of `pool` (N,)."""
  idx = np.flatnonzero(pool)
  parts = assign(
    labels[idx], dense(groups[idx]), [1 - fraction, fraction], seed, stream
  )
  return idx[parts == 1]


def _limit(indices, labels, limit, seed):
  """At most `limit` of `indices`, stratified and seeded."""
  if limit <= 0 or len(indices) <= limit:
    return indices
  parts = assign(
    labels[indices],
    np.arange(len(indices)),
    [limit / len(indices), 1 - limit / len(indices)],
    seed,
    streams.LIMIT,
  )
  return indices[parts == 0][:limit]


def partition(
  ids: Sequence[str],
  labels: np.ndarray,
  groups: np.ndarray,
  official: np.ndarray,
  cfg,
  *,
  official_val: bool = False,
  test_only: bool = False,
) -> tuple[dict[str, np.ndarray], list[str]]:
  """Which examples are train, val and test.

  The layout's own split is used where it has one; what it lacks is made
  from the training pool by seed: the test split (`cfg.test_fraction`),
  then validation (`cfg.val_fraction`, or fold `cfg.fold` of
  `cfg.num_folds`). A layout that has only a test (or only a val) folder
  is one pool.

  Args:
    ids: (N,) example ids; each split is listed in id order, so membership,
      order and the record's hash do not depend on how the layout was
      listed.
    labels: (N,) class of each example.
    groups: (N,) group of each example (`group_ids`).
    official: (N,) the layout's split of each example: "train", "val",
      "test" or "" (none).
    cfg: the data config (seed, fractions, folds, limit).
    official_val: keep the layout's own "val" as the validation split
      (MedMNIST); otherwise it joins the training pool (Kermany's val/ has
      16 images, too few to select models on).
    test_only: an external evaluation set: every example is a test example.

  Returns:
    ({split name: indices}, notes on how the splits were made).
  """
  official = np.asarray(official)
  n = len(labels)
  order = np.argsort(np.asarray(ids, dtype=object), kind="stable")
  if test_only:
    empty = np.zeros(0, np.int64)
    notes = ["an external evaluation set: every image is in the test split"]
    return {"train": empty, "val": empty, "test": order}, notes
  seed = int(cfg.seed)
  notes = []
  if len(official) and not (official == "train").any() and official.any():
    # e.g. only the Kaggle brain MRI Testing/ folder: it becomes the pool
    # from which train/val/test are made.
    notes.append(
      "no training split in the layout (only "
      f"{', '.join(sorted({str(o) for o in official if o}))}): all its "
      "images are split by seed"
    )
    official = np.full(n, "")
  test = official == "test"
  val = np.zeros(n, bool)
  if official_val and (official == "val").any():
    val = official == "val"
  pool = ~test & ~val
  if not test.any():
    held = hold_out(pool, labels, groups, cfg.test_fraction, seed, streams.TEST)
    test[held] = True
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
    folds = kfold(labels[idx], dense(groups[idx]), cfg.num_folds, seed)
    val[idx[folds == cfg.fold]] = True
    pool[idx[folds == cfg.fold]] = False
    notes.append(
      f"validation is fold {cfg.fold} of {cfg.num_folds} (stratified, "
      f"grouped, seed={seed}) of the training pool"
    )
  elif not val.any() and cfg.val_fraction > 0:
    held = hold_out(pool, labels, groups, cfg.val_fraction, seed, streams.VAL)
    val[held] = True
    pool[held] = False
  chosen = {
    "train": order[pool[order]],
    "val": order[val[order]],
    "test": order[test[order]],
  }
  if cfg.limit:
    chosen = {k: _limit(v, labels, cfg.limit, seed) for k, v in chosen.items()}
    notes.append(f"each split limited to {cfg.limit} images (data.limit)")
  return chosen, notes
