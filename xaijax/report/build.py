# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The paper's tables from saved records, and the report that holds them.

Everything here reads CSV records and writes files; nothing is recomputed,
so a report regenerates from a workdir at any time (`write_report`).

* Table 1, models × datasets: accuracy and F1, mean and 95% t-interval over
  the runs (seeds or folds), with paired t-tests between every pair of models
  on the same runs, Holm-corrected per metric over all datasets.
* Table 2, CAM methods × classes: the per-image confidence change (and the
  other per-image scores), mean per true class and over all images, with
  paired t-tests between every pair of methods on the same images,
  Holm-corrected over the whole grid (every class and 'all').
"""

import math
import os
from collections.abc import Mapping, Sequence

import numpy as np

from xaijax import stats
from xaijax.report.tables import (
  Table,
  fmt,
  fmt_p,
  read_records,
  to_markdown,
  unique,
  write_table,
)

# Workdir layout.
RUNS_CSV = "runs.csv"
MODEL_IMAGES_CSV = "per_image_models.csv"
PER_IMAGE_CSV = os.path.join("xai", "per_image.csv")
FIGURES_DIR = os.path.join("xai", "figures")
REPORT_DIR = "report"

# Per-image columns turned into CAM tables when present: (column, what).
CAM_VALUES = (
  ("delta", "confidence change Δ = p_c(x⊙M) − p_c(x)"),
  ("increase", "fraction of images with Δ > 0"),
  ("avg_drop_pct", "Average Drop % (relative)"),
  ("road_combined", "ROAD combined (higher is better)"),
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


def tests_table(rows: Sequence[Mapping], title: str, group: str) -> Table:
  """The rows of `stats.compare_grid` as a table."""
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
      "t",
      "p",
      "p (Holm)",
      "significant",
      "d_z",
      "n",
    ),
    cells,
    "Paired t-tests (scipy.stats.ttest_rel); Holm–Bonferroni over all rows "
    "of this table at α = 0.05."
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
  per_image: Sequence[Mapping], value: str, what: str
) -> dict[str, Table]:
  """Table 2: CAM methods × true classes for one per-image score.

  Args:
    per_image: records with 'id', 'class', 'method' and `value`; rows whose
      value is NaN (e.g. images without a lesion) are left out.
    value: the per-image column.
    what: its description for the caption.

  Returns:
    {f'cam_{value}': summary, f'cam_{value}_tests': tests}.
  """
  records = [r for r in per_image if not math.isnan(float(r[value]))]
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
  aligned = stats.align(
    records, unit="id", arm="method", value=value, group="class",
    pooled=True,
  )  # fmt: skip
  return {
    f"cam_{value}": Table(
      f"CAM methods × classes: mean {what} (n images)",
      ("method", *map(str, classes), "all"),
      tuple(rows),
      "Classes are the images' true classes; maps and scores use each "
      "image's predicted class.",
    ),
    f"cam_{value}_tests": tests_table(
      stats.compare_grid(aligned),
      f"Paired t-tests between CAM methods: {what}",
      "class",
    ),
  }


def write_report(workdir: str) -> dict[str, str]:
  """(Re)writes workdir/report/ from workdir's saved records.

  Reads `runs.csv` (model runs), `per_image_models.csv` (models' per-image
  test results) and `xai/per_image.csv` (explanation scores) when present and writes every table as .md/.csv/.tex plus
  `report.md` holding all tables and the figure grids.

  Returns:
    {table name or 'report': path of its markdown}.
  """
  out_dir = os.path.join(workdir, REPORT_DIR)
  tables: dict[str, Table] = {}
  runs_path = os.path.join(workdir, RUNS_CSV)
  if os.path.exists(runs_path):
    runs = read_records(runs_path)
    # Runs pair up across models by fold when folds vary, else by seed.
    folds = {r.get("fold") for r in runs}
    unit = "fold" if len(folds) > 1 else "seed"
    tables |= model_tables(runs, unit=unit)
  model_images_path = os.path.join(workdir, MODEL_IMAGES_CSV)
  if os.path.exists(model_images_path):
    tables |= model_image_tables(read_records(model_images_path))
  per_image_path = os.path.join(workdir, PER_IMAGE_CSV)
  if os.path.exists(per_image_path):
    per_image = read_records(per_image_path)
    columns = set(per_image[0]) if per_image else set()
    for value, what in CAM_VALUES:
      if value in columns:
        tables |= cam_tables(per_image, value, what)
  paths = {
    name: write_table(table, out_dir, name)["md"]
    for name, table in tables.items()
  }
  figures_dir = os.path.join(workdir, FIGURES_DIR)
  figures = (
    sorted(f for f in os.listdir(figures_dir) if f.endswith(".png"))
    if os.path.isdir(figures_dir)
    else []
  )
  # Runs of a repeat (one folder each) keep their own reports: link them.
  run_reports = sorted(
    os.path.join(entry, REPORT_DIR, "report.md")
    for entry in os.listdir(workdir)
    if os.path.isfile(os.path.join(workdir, entry, REPORT_DIR, "report.md"))
  )
  parts = ["# Report", ""]
  if not (tables or run_reports):
    parts.append("No results yet (no runs.csv or xai/per_image.csv).\n")
  parts += [to_markdown(t) for t in tables.values()]
  if run_reports:
    parts.append("**Reports of the individual runs** (explanations, scores):\n")
    parts += [f"* [{path}](../{path})" for path in run_reports]
    parts.append("")
  for f in figures:
    rel = os.path.join("..", FIGURES_DIR, f)
    parts.append(f"![{f}]({rel})\n")
  report = os.path.join(out_dir, "report.md")
  os.makedirs(out_dir, exist_ok=True)
  with open(report, "w") as f:
    f.write("\n".join(parts))
  paths["report"] = report
  return paths
