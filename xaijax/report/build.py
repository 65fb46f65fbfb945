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


def interval_cell(value: float, low: float, high: float) -> str:
  """'value [low, high]', or the value alone when the interval is NaN."""
  if math.isnan(low):
    return fmt(value)
  return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def paired_tables(
  records: Sequence[Mapping],
  key: str,
  title: str,
  *,
  unit: str,
  arm: str,
  value: str,
  group: str,
  tests: Sequence[str],
  pooled: bool = False,
) -> dict[str, Table]:
  """{f'{key}_{test}': the paired tests between every two arms of each group
  on their shared units}, Holm-corrected per table (`stats.compare_grid`).

  Records without a finite `value` (an unscored unit: a constant map's
  Spearman, an image without a lesion) are left out, and with them their
  unit in every arm. `pooled` adds a group 'all' of every group's units.
  """
  scored = [r for r in records if value in r and np.isfinite(float(r[value]))]
  aligned = stats.align(
    scored, unit=unit, arm=arm, value=value, group=group, pooled=pooled
  )
  return {
    f"{key}_{test}": tests_table(
      stats.compare_grid(aligned, test=test), title, group, test
    )
    for test in tests
  }


def _mean_over(records: Sequence[Mapping], value: str) -> str:
  """Mean [95% t-interval] of the finite values; NaNs (unscored) left out,
  infinities (e.g. a zero map's sensitivity) left out and counted."""
  values = np.array([r[value] for r in records if value in r], np.float64)
  infinite = int(np.isinf(values).sum())
  values = values[np.isfinite(values)]
  text = _interval(values) if values.size else "–"
  return text + (f" ({infinite} inf)" if infinite else "")


def external_tables(
  runs: Sequence[Mapping],
  per_image: Sequence[Mapping],
  metrics: Sequence[str],
  tests: Sequence[str],
) -> dict[str, Table]:
  """The external validation study's tables.

  Args:
    runs: one record per (run, image set): run, set, kind ('test',
      'in-distribution', 'external'), comparison (model · external key),
      unit (seed/fold), images, removed, each metric and its _low/_high.
    per_image: records with unit (seed/fold/image), model, set, correct.
    metrics: the metric columns.
    tests: paired tests.
  """
  tables = {
    "external": Table(
      "Runs × image sets: metric [95% bootstrap interval]",
      ("run", "set", "images", "removed copies", *metrics),
      tuple(
        (
          r["run"],
          r["set"],
          str(r["images"]),
          str(r["removed"]),
          *(
            interval_cell(r[m], r[f"{m}_low"], r[f"{m}_high"]) for m in metrics
          ),
        )
        for r in runs
      ),
      "test: the run's test split in its own classes; test→<key>: its test "
      "images whose class has a group of external set <key>, labelled with "
      "that group; external:<key>: the external set without the copies of "
      "the run's training images (removed copies). Intervals: BCa bootstrap "
      "over images.",
    )
  }
  paired = [r for r in runs if r["kind"] in ("in-distribution", "external")]
  rows = []
  for comparison in unique(r["comparison"] for r in paired):
    mine = [r for r in paired if r["comparison"] == comparison]
    inside = [r for r in mine if r["kind"] == "in-distribution"]
    outside = [r for r in mine if r["kind"] == "external"]
    cells = [comparison, str(len(outside))]
    for m in metrics:
      drop = [
        {"d": o[m] - i[m]}
        for i in inside
        for o in outside
        if o["unit"] == i["unit"]
      ]
      cells += [_mean_over(inside, m), _mean_over(outside, m)]
      cells.append(_mean_over(drop, "d"))
    rows.append(tuple(cells))
  tables["external_drop"] = Table(
    "In-distribution vs external: mean [95% t-interval] over runs",
    (
      "model · external set",
      "runs",
      *(f"{m} {part}" for m in metrics for part in ("test→", "external", "Δ")),
    ),
    tuple(rows),
    "test→: the test images mapped to the external set's groups; Δ = "
    "external − test→ per run.",
  )
  for m in metrics:
    tables |= paired_tables(
      paired, f"external_drop_{m}",
      f"Paired tests over runs (seeds): {m}, in-distribution − external",
      unit="unit", arm="kind", value=m, group="comparison", tests=tests,
    )  # fmt: skip
  tables |= paired_tables(
    per_image, "external_models_correct",
    "Paired tests between models on the same images: per-image correctness",
    unit="unit", arm="model", value="correct", group="set", tests=tests,
  )  # fmt: skip
  return tables


# Calibration metrics as the study reports them: (column, name).
CALIBRATION_METRICS = (
  ("ece", "ECE"),
  ("adaptive_ece", "adaptive ECE"),
  ("classwise_ece", "classwise ECE"),
  ("mce", "MCE"),
  ("brier", "Brier"),
  ("nll", "NLL"),
)


def calibration_tables(
  runs: Sequence[Mapping], per_image: Sequence[Mapping], tests: Sequence[str]
) -> dict[str, Table]:
  """The calibration study's tables.

  Args:
    runs: one record per (run, set, scaling 'before'/'after'): temperature,
      images, accuracy and the `CALIBRATION_METRICS` columns.
    per_image: records with unit (run/image), set, scaling, nll, brier.
    tests: paired tests.
  """
  rows = []
  for r in runs:
    if r["scaling"] != "before":
      continue
    after = next(
      a
      for a in runs
      if a["run"] == r["run"] and a["set"] == r["set"]
      and a["scaling"] == "after"
    )  # fmt: skip
    rows.append(
      (
        r["run"],
        r["set"],
        fmt(r["temperature"], 2),
        str(r["images"]),
        fmt(r["accuracy"]),
        *(f"{fmt(r[c])} → {fmt(after[c])}" for c, _ in CALIBRATION_METRICS),
      )
    )
  tables = {
    "calibration": Table(
      "Calibration before → after temperature scaling",
      (
        "run",
        "set",
        "T",
        "images",
        "accuracy",
        *(name for _, name in CALIBRATION_METRICS),
      ),
      tuple(rows),
      "T fitted on the run's validation split; accuracy is unchanged by "
      "T > 0. Lower is better for every metric.",
    )
  }
  for value, what in (("nll", "per-image NLL"), ("brier", "per-image Brier")):
    tables |= paired_tables(
      per_image, f"calibration_{value}",
      f"Paired tests on the same images, before − after scaling: {what}",
      unit="unit", arm="scaling", value=value, group="set", tests=tests,
    )  # fmt: skip
  return tables


def uncertainty_tables(
  runs: Sequence[Mapping], paired: Sequence[Mapping], tests: Sequence[str]
) -> dict[str, Table]:
  """The uncertainty study's tables.

  Args:
    runs: one record per (group, set, predictor, run): members, images,
      accuracy, aurc, e_aurc, predictive_entropy, mutual_information.
    paired: per-image records: group (model · set), unit (image),
      predictor, correct.
    tests: paired tests.
  """
  columns = ("accuracy", "aurc", "e_aurc", "predictive_entropy",
             "mutual_information")  # fmt: skip
  tables = {
    "uncertainty": Table(
      "Predictors: accuracy, selective prediction and mean uncertainty",
      ("group", "set", "predictor", "run", "members", "images", *columns),
      tuple(
        (
          r["group"],
          r["set"],
          r["predictor"],
          r["run"],
          str(r["members"]),
          str(r["images"]),
          *(fmt(r[c]) for c in columns),
        )
        for r in runs
      ),
      "AURC: mean selective risk over all coverages (lower is better); "
      "E-AURC: AURC minus that of a perfect ranking. Entropies in nats, "
      "means over images.",
    )
  }
  tables |= paired_tables(
    paired, "uncertainty_correct",
    "Paired tests between predictors on the same images: per-image "
    "correctness (per-run predictors: mean over the group's runs)",
    unit="unit", arm="predictor", value="correct", group="group",
    tests=tests,
  )  # fmt: skip
  return tables


def corruption_tables(
  runs: Sequence[Mapping], per_image: Sequence[Mapping], tests: Sequence[str]
) -> dict[str, Table]:
  """The corruption study's tables.

  Args:
    runs: one record per (run, set, corruption, severity): model,
      accuracy, ece, nll; the clean images are corruption 'none',
      severity 0.
    per_image: records with unit (seed/fold/corruption/image), model, set,
      severity, correct.
    tests: paired tests.
  """
  severities = sorted({r["severity"] for r in runs})
  tables = {}
  for value in ("accuracy", "ece"):
    rows = []
    for model, set_name in unique((r["model"], r["set"]) for r in runs):
      mine = [r for r in runs if r["model"] == model and r["set"] == set_name]
      corruptions = [c for c in unique(r["corruption"] for r in mine)
                     if c != "none"]  # fmt: skip
      for c in [*corruptions, "mean"]:
        cells = [model, set_name, c]
        for s in severities:
          values = [
            r[value]
            for r in mine
            if r["severity"] == s and (s == 0 or c in ("mean", r["corruption"]))
          ]
          cells.append(fmt(float(np.mean(values))) if values else "–")
        rows.append(tuple(cells))
    tables[f"corruptions_{value}"] = Table(
      f"{value} against severity: mean over each model's runs",
      ("model", "set", "corruption", *(f"s{s}" for s in severities)),
      tuple(rows),
      "s0: the clean images; mean: over the corruptions (and runs).",
    )
  by_severity = [
    {**r, "group": f"{r['set']} · severity {r['severity']}"} for r in per_image
  ]
  tables |= paired_tables(
    by_severity, "corruptions_models_correct",
    "Paired tests between models on the same corrupted images (every "
    "corruption pooled; units seed × corruption × image, which are not "
    "independent: one image appears under every corruption): per-image "
    "correctness",
    unit="unit", arm="model", value="correct", group="group", tests=tests,
  )  # fmt: skip
  return tables


# The map robustness study's per-cell values: (column, what).
MAP_SIMILARITIES = (
  ("spearman", "Spearman correlation of clean and corrupted maps"),
  ("ssim", "SSIM of clean and corrupted maps"),
  ("top_k_iou", "IoU of the top-k pixels of clean and corrupted maps"),
  ("delta", "confidence change Δ of the map on the corrupted image"),
)
MAP_LOCALISATION = ("pointing", "energy", "iou")
MAP_SENSITIVITIES = ("max_sensitivity", "avg_sensitivity", "local_lipschitz")


def _mean_cell(records: Sequence[Mapping], value: str) -> str:
  values = [r[value] for r in records if value in r and r[value] == r[value]]
  return fmt(float(np.mean(values))) if values else "–"


def map_robustness_tables(
  records: Sequence[Mapping], tests: Sequence[str]
) -> dict[str, Table]:
  """The map robustness study's tables.

  Args:
    records: one per (run, layer, method, corruption, severity, image):
      the clean cells are corruption 'none', severity 0; columns as
      present: `MAP_SIMILARITIES` (corrupted cells), delta and p_target
      (the explained class's probability on the scored image),
      `MAP_LOCALISATION`, `MAP_SENSITIVITIES` (clean cells).
    tests: paired tests between methods.
  """
  tables = {}
  corrupted = [r for r in records if r["corruption"] != "none"]
  clean = [r for r in records if r["corruption"] == "none"]
  corruptions = unique(r["corruption"] for r in corrupted)
  severities = sorted({r["severity"] for r in corrupted})
  keys = unique((r["run"], r["layer"], r["method"]) for r in records)

  def mine(rows, key):
    return [r for r in rows if (r["run"], r["layer"], r["method"]) == key]

  for value, what in MAP_SIMILARITIES:
    if not any(value in r for r in corrupted):
      continue
    rows = []
    for key in keys:
      cells = mine(corrupted, key)
      rows.append(
        (
          *key,
          *(
            _mean_cell([r for r in cells if r["corruption"] == c], value)
            for c in corruptions
          ),
          *(
            _mean_cell([r for r in cells if r["severity"] == s], value)
            for s in severities
          ),
          _mean_cell(cells, value),
        )
      )
    tables[f"map_{value}"] = Table(
      f"Mean {what}: per corruption (all severities) and per severity "
      "(all corruptions)",
      ("run", "layer", "method", *corruptions,
       *(f"s{s}" for s in severities), "all"),
      tuple(rows),
      "Means over the selected images.",
    )  # fmt: skip
    for run, layer in unique((r["run"], r["layer"]) for r in corrupted):
      tag = "".join(c if c.isalnum() else "_" for c in f"{run}_{layer}")
      tables |= paired_tables(
        [r for r in corrupted if (r["run"], r["layer"]) == (run, layer)],
        f"map_{value}_{tag}",
        f"Paired tests between methods ({run}, {layer}): {what} (units: "
        "image × severity, not independent: one image appears at every "
        "severity)",
        unit="unit", arm="method", value=value, group="corruption",
        tests=tests, pooled=True,
      )  # fmt: skip
  if any("p_target" in r for r in records):
    base = {
      (r["run"], r["layer"], r["method"], r["id"]): r["p_target"]
      for r in clean
      if "p_target" in r
    }
    change = [
      {**r, "change": r["p_target"] - base[r["run"], r["layer"],
                                          r["method"], r["id"]]}
      for r in corrupted
      if "p_target" in r
    ]  # fmt: skip
    first = unique(r["method"] for r in change)[:1]
    rows = [
      (
        run,
        c,
        *(
          _mean_cell(
            [
              r
              for r in change
              if r["run"] == run
              and r["corruption"] == c
              and r["severity"] == s
              and r["method"] in first
            ],
            "change",
          )
          for s in severities
        ),
      )
      for run in unique(r["run"] for r in change)
      for c in corruptions
    ]
    tables["map_model_confidence"] = Table(
      "The model's probability of the explained class: mean change from "
      "the clean image",
      ("run", "corruption", *(f"s{s}" for s in severities)),
      tuple(rows),
      "p(corrupted) − p(clean) of the explained class, mean over images.",
    )
  if any(v in r for r in records for v in MAP_LOCALISATION):
    rows = []
    for key in keys:
      for value in MAP_LOCALISATION:
        cells = mine(records, key)
        rows.append(
          (
            *key,
            value,
            _mean_cell([r for r in cells if r["severity"] == 0], value),
            *(
              _mean_cell([r for r in cells if r["severity"] == s], value)
              for s in severities
            ),
          )
        )
    tables["map_localization"] = Table(
      "Localisation against the lesion masks, clean and corrupted",
      ("run", "layer", "method", "score", "clean",
       *(f"s{s}" for s in severities)),
      tuple(rows),
      "Means over the images with a lesion; corrupted: over the corruptions "
      "that keep the lesion in place (not rotation, shift).",
    )  # fmt: skip
    for value in MAP_LOCALISATION:
      tables |= paired_tables(
        [{**r, "group": f"{r['run']} · {r['layer']}"} for r in clean],
        f"map_localization_{value}",
        f"Paired tests between methods on the clean images: {value}",
        unit="id", arm="method", value=value, group="group", tests=tests,
      )  # fmt: skip
  present = [v for v in MAP_SENSITIVITIES if any(v in r for r in clean)]
  if present:
    tables["map_sensitivity"] = Table(
      "Sensitivity of the maps to input noise (clean images): mean [95% "
      "t-interval]",
      ("run", "layer", "method", *present),
      tuple(
        (*key, *(_mean_over(mine(clean, key), v) for v in present))
        for key in keys
      ),
      "Quantus' Max-Sensitivity, Avg-Sensitivity and Local Lipschitz "
      "Estimate: lower is more robust. '(k inf)': k images whose clean map "
      "is all zero (||a|| = 0; Quantus divides by it), left out of the "
      "mean.",
    )
    for value in present:
      tables |= paired_tables(
        [{**r, "group": f"{r['run']} · {r['layer']}"} for r in clean],
        f"map_{value}",
        f"Paired tests between methods on the same images: {value}",
        unit="id", arm="method", value=value, group="group", tests=tests,
      )  # fmt: skip
  return tables
