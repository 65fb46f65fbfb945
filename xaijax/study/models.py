# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The models study (the paper's Table 1): trained runs compared.

Reads each run's results.json and predictions_test.csv (xaijax runs and the
PyTorch baseline write the same files) and tabulates the test metrics per
model x dataset (mean and 95% interval over seeds or folds), with paired
tests between models over the runs and per test image.
"""

import pathlib
from collections.abc import Sequence

from xaijax.report import build
from xaijax.report import studies as study_report
from xaijax.study.runs import Context, TrainedRun


def run(
  name: str,
  study,
  runs: Sequence[TrainedRun],
  out_dir: pathlib.Path,
  context: Context,
) -> dict:
  """Writes the models study's tables and report (on process 0).

  Returns:
    {'report': its path (None on other processes)}.
  """
  if not context.is_main:
    return {"report": None}
  rows, per_image = [], []
  for r in runs:
    test = r.results.get("test", {})
    row = {
      "run": r.name,
      "model": r.model,
      "dataset": r.config.data.name,
      "seed": r.results.get("seed", r.config.seed),
      "fold": r.results.get("fold", r.config.data.fold),
      "steps": r.results.get("steps", ""),
      "train_seconds": r.results.get("train_seconds", ""),
    }
    row |= {m: float(test.get(m, float("nan"))) for m in study.metrics}
    rows.append(row)
    per_image += build.model_image_records(
      str(r.workdir / "predictions_test.csv"), row
    )
  folds = {row["fold"] for row in rows}
  unit = "fold" if len(folds) > 1 else "seed"
  report = study_report.write_models_study(
    out_dir, name, study, rows, per_image, unit
  )
  return {"report": report}
