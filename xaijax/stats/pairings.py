# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pairing measurements and testing every pair in a grid, Holm-corrected.

Results arrive as flat records (one dict per measurement, e.g. a CSV row):
`{'model': 'resnet50', 'dataset': 'brain', 'seed': 0, 'accuracy': 0.9}` or
`{'image': 'x17', 'class': 'glioma', 'method': 'xgradcam', 'delta': 0.1}`.
`align` turns them into paired arrays, `compare_grid` runs the paired test on
every pair of arms within every group and corrects all p-values of the grid
as one family (Holm). The three pairings of the paper are all `align` calls:

* models over the same folds/seeds: unit='seed' (or 'fold'), arm='model',
  group='dataset', value='accuracy' or 'f1';
* models per test image: unit='image', arm='model', value='correct' or
  'true_prob' (see `correctness`, `true_class_probability`);
* CAM methods per image: unit='image', arm='method', group='class',
  value='delta' (confidence change).
"""

import itertools
from collections.abc import Callable, Iterable, Mapping

import numpy as np

from xaijax.stats.paired import holm, paired_ttest, wilcoxon

TESTS: dict[str, Callable] = {"ttest": paired_ttest, "wilcoxon": wilcoxon}

ALL = "all"


def correctness(labels, probs) -> np.ndarray:
  """(N,) 1.0 where argmax probs (N, K) equals labels (N,), else 0.0."""
  probs = np.asarray(probs)
  return (probs.argmax(-1) == np.asarray(labels)).astype(np.float64)


def true_class_probability(labels, probs) -> np.ndarray:
  """(N,) the probability each image's true class received, probs (N, K)."""
  probs = np.asarray(probs, np.float64)
  return np.take_along_axis(probs, np.asarray(labels)[:, None], 1)[:, 0]


def align(
  records: Iterable[Mapping],
  *,
  unit: str,
  arm: str,
  value: str,
  group: str | None = None,
  pooled: bool = False,
) -> dict[str, dict[str, np.ndarray]]:
  """Paired arrays {group: {arm: (n,)}} over the units all arms share.

  Args:
    records: dicts holding at least `unit`, `arm`, `value` (and `group`).
    unit: key of the paired unit (image id, seed, fold).
    arm: key of what is compared (model, method).
    value: key of the measurement.
    group: key that splits the comparison (dataset, class); None = one group
      named 'all'.
    pooled: also add a last group 'all' pooling every group (units are then
      (group, unit) pairs).

  Returns:
    {group: {arm: values (n,)}}, arms in first-seen order and values sorted
    by unit, keeping only units measured for every arm of the group. Units
    seen twice for one arm raise a ValueError.
  """
  table: dict[str, dict[str, dict]] = {}
  pool: dict[str, dict] = {}
  for record in records:
    g = str(record[group]) if group else ALL
    cells = [(table.setdefault(g, {}), g, record[unit])]
    if pooled and group:
      cells.append((pool, ALL, (g, record[unit])))
    for arms, g_key, u_key in cells:
      cell = arms.setdefault(str(record[arm]), {})
      if u_key in cell:
        raise ValueError(
          f"{unit}={u_key!r} appears twice for {arm}={record[arm]!r} in "
          f"group {g_key!r}; each unit must be measured once per arm."
        )
      cell[u_key] = float(record[value])
  if pool:
    table[ALL] = pool  # last, after the groups
  aligned = {}
  for g, arms in table.items():
    common = set.intersection(*(set(v) for v in arms.values()))
    units = sorted(common, key=str)
    aligned[g] = {
      a: np.array([v[u] for u in units], np.float64) for a, v in arms.items()
    }
  return aligned


def compare_grid(
  aligned: Mapping[str, Mapping[str, np.ndarray]],
  *,
  test: str = "ttest",
  alpha: float = 0.05,
) -> list[dict]:
  """Every pair of arms within every group, Holm-corrected over the grid.

  Args:
    aligned: {group: {arm: (n,)}} as from `align`.
    test: 'ttest' or 'wilcoxon'.
    alpha: family-wise error rate of the whole grid.

  Returns:
    One dict per comparison: group, a, b, the `PairedResult` fields (the
    difference is a − b), p_holm (adjusted) and reject (bool).
  """
  if test not in TESTS:
    raise ValueError(f"Unknown test '{test}'; choose one of {list(TESTS)}.")
  rows = []
  for g, arms in aligned.items():
    for a, b in itertools.combinations(arms, 2):
      result = TESTS[test](arms[a], arms[b])
      rows.append({"group": g, "a": a, "b": b, **result.as_dict()})
  adjusted, rejected = holm([r["pvalue"] for r in rows], alpha)
  for row, p, reject in zip(rows, adjusted, rejected, strict=True):
    row["p_holm"] = float(p)
    row["reject"] = bool(reject)
  return rows
