# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The paper's tables from per-run and per-image records.

Pure functions from records (dicts) to formatted `Table`s; the studies
(`xaijax.report.studies`) write them with their reports.

* Table 1, models × datasets: accuracy and F1, mean and 95% t-interval over
  the runs (seeds or folds), with paired t-tests between every pair of models
  on the same runs, Holm-corrected per metric over all datasets.
* Table 2, CAM methods × classes: the per-image confidence change (and the
  other per-image scores), mean per true class and over all images, with
  paired t-tests between every pair of methods on the same images,
  Holm-corrected over the whole grid (every class and 'all').
"""

import math
from collections.abc import Mapping, Sequence

import numpy as np

from xaijax import stats
from xaijax.report.tables import Table, fmt, fmt_p, read_records, unique

# Per-image columns turned into CAM tables when present: (column, what).
CAM_VALUES = (
  ("delta", "confidence change Δ = p_c(x⊙M) − p_c(x)"),
  ("increase", "fraction of images with Δ > 0"),
  ("avg_drop_pct", "Average Drop % (relative)"),
  ("road_combined", "ROAD combined (higher is better)"),
  ("deletion_auc", "deletion AUC (lower is better)"),
  ("insertion_auc", "insertion AUC (higher is better)"),
  ("pointing", "pointing game hit rate"),
  ("energy", "energy-based pointing game"),
  ("iou", "IoU of {map ≥ 0.5} with the mask"),
)


def _interval(values: np.ndarray) -> str:
  low, high = stats.t_interval(values)
  mean = fmt(float(np.mean(values)))
  if math.isnan(low):
    return mean
  return f"{mean} [{fmt(low)}, {fmt(high)}]"


# Per paired test: (statistic column, effect size column, what it is).
TEST_COLUMNS = {
  "ttest": ("t", "d_z", "Paired t-tests (scipy.stats.ttest_rel); d_z is "
            "Cohen's mean(d) / sd(d)"),
  "wilcoxon": ("W", "r_rb", "Wilcoxon signed-rank tests "
               "(scipy.stats.wilcoxon); r_rb is the matched-pairs "
               "rank-biserial correlation"),
}  # fmt: skip


def tests_table(
  rows: Sequence[Mapping], title: str, group: str, test: str = "ttest"
) -> Table:
  """The rows of `stats.compare_grid(..., test=test)` as a table."""
  statistic, effect, what = TEST_COLUMNS[test]
  cells = tuple(
    (
      str(r["group"]),
      f"{r['a']} − {r['b']}",
      fmt(r["mean_diff"]),
      f"[{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]",
      fmt(r["statistic"], 2),
      fmt_p(r["pvalue"]),
      fmt_p(r["p_holm"]),
      "yes" if r["reject"] else "no",
      fmt(r["effect_size"], 2),
      str(r["n"]),
    )
    for r in rows
  )
  notes = sorted({r["note"] for r in rows if r["note"]})
  return Table(
    title,
    (
      group,
      "pair",
      "mean diff",
      "95% CI",
      statistic,
      "p",
      "p (Holm)",
      "significant",
      effect,
      "n",
    ),
    cells,
    f"{what}; Holm–Bonferroni over all rows of this table at α = 0.05."
    + (f" Degenerate: {'; '.join(notes)}." if notes else ""),
  )


def model_tables(
  runs: Sequence[Mapping],
  *,
  metrics: Sequence[str] = ("accuracy", "macro_f1"),
  unit: str = "seed",
) -> dict[str, Table]:
  """Table 1: models × datasets, and the paired tests per metric.

  Args:
    runs: records with 'model', 'dataset', `unit` and each metric.
    metrics: metric columns.
    unit: the key pairing runs across models (seed or fold).

  Returns:
    {'models': summary table, 'models_tests_<metric>': tests table}.
  """
  datasets = unique(r["dataset"] for r in runs)
  models = unique(r["model"] for r in runs)
  columns = ["model"] + [f"{d} {m}" for d in datasets for m in metrics]
  rows = []
  for model in models:
    row = [model]
    for d in datasets:
      for m in metrics:
        values = np.array(
          [r[m] for r in runs if r["model"] == model and r["dataset"] == d]
        )
        row.append(_interval(values) if values.size else "–")
    rows.append(tuple(row))
  tables = {
    "models": Table(
      "Models × datasets: mean [95% t-interval] over runs",
      tuple(columns),
      tuple(rows),
      f"Runs paired by {unit}; n runs per cell as in the tests tables.",
    )
  }
  for m in metrics:
    aligned = stats.align(
      runs, unit=unit, arm="model", value=m, group="dataset"
    )
    tables[f"models_tests_{m}"] = tests_table(
      stats.compare_grid(aligned), f"Paired t-tests between models: {m}",
      "dataset",
    )  # fmt: skip
  return tables


def model_image_records(
  predictions_csv: str, run: Mapping[str, object]
) -> list[dict]:
  """Per-image records of one run for pairing models on the same images.

  Args:
    predictions_csv: a run's `predictions_test.csv` (id, label, pred,
      prob_<class>...).
    run: the run's 'model', 'dataset', 'seed' and 'fold'.

  Returns:
    One record per image: model, dataset, unit (seed, fold and image id:
    runs pair up image by image within a seed and fold), correct, true_prob.
  """
  rows = read_records(predictions_csv)
  if not rows:
    return []
  labels = np.array([int(r["label"]) for r in rows])
  prob_columns = [c for c in rows[0] if c.startswith("prob_")]
  probs = np.array([[float(r[c]) for c in prob_columns] for r in rows])
  correct = stats.correctness(labels, probs)
  true_prob = stats.true_class_probability(labels, probs)
  return [
    {
      "model": run["model"],
      "dataset": run["dataset"],
      "unit": f"seed{run['seed']}/fold{run['fold']}/{r['id']}",
      "correct": float(c),
      "true_prob": float(p),
    }
    for r, c, p in zip(rows, correct, true_prob, strict=True)
  ]


def model_image_tables(records: Sequence[Mapping]) -> dict[str, Table]:
  """Models paired per test image: correctness and true-class probability."""
  tables = {}
  for value, what in (
    ("correct", "per-image correctness (1 right, 0 wrong)"),
    ("true_prob", "per-image probability of the true class"),
  ):
    aligned = stats.align(
      records, unit="unit", arm="model", value=value, group="dataset"
    )
    tables[f"models_per_image_{value}"] = tests_table(
      stats.compare_grid(aligned),
      f"Paired t-tests between models on the same test images: {what}",
      "dataset",
    )
  return tables


def cam_tables(
  per_image: Sequence[Mapping],
  value: str,
  what: str,
  *,
  context: str = "",
  tests: Sequence[str] = ("ttest",),
  same: Mapping[str, str] | None = None,
) -> dict[str, Table]:
  """Table 2: CAM methods × true classes for one per-image score.

  Args:
    per_image: records with 'id', 'class', 'method' and `value`; rows whose
      value is NaN or missing (e.g. images without a lesion) are left out.
    value: the per-image column.
    what: its description for the caption.
    context: which images and explained classes (for the caption).
    tests: paired tests between methods ('ttest', 'wilcoxon'), each its
      own table, Holm-corrected over all its rows (every class and 'all').
    same: {method: earlier method} whose maps coincide on every image: such
      a method is tested once, under the earlier name, and the note says so.

  Returns:
    {f'cam_{value}': summary, f'cam_{value}_{test}': tests per test}.
  """
  same = same or {}
  records = [
    r
    for r in per_image
    if isinstance(r.get(value), float) and not math.isnan(r[value])
  ]
  classes = unique(r["class"] for r in records)
  methods = unique(r["method"] for r in records)
  rows = []
  for method in methods:
    mine = [r for r in records if r["method"] == method]
    cells = [method]
    for c in [*classes, None]:
      values = [r[value] for r in mine if c is None or r["class"] == c]
      cells.append(f"{fmt(np.mean(values))} ({len(values)})" if values else "–")
    rows.append(tuple(cells))
  coinciding = "".join(
    f" {b} coincides with {a} (equal maps on every image): tested once."
    for b, a in same.items()
  )
  tables = {
    f"cam_{value}": Table(
      f"CAM methods × classes: mean {what} (n images)",
      ("method", *map(str, classes), "all"),
      tuple(rows),
      "Classes are the images' true classes"
      + (f"; {context}" if context else "")
      + "."
      + coinciding,
    )
  }
  aligned = stats.align(
    [r for r in records if r["method"] not in same],
    unit="id", arm="method", value=value, group="class", pooled=True,
  )  # fmt: skip
  for test in tests:
    tables[f"cam_{value}_{test}"] = tests_table(
      stats.compare_grid(aligned, test=test),
      f"Paired tests between CAM methods: {what}",
      "class",
      test,
    )
  return tables
