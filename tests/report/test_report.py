# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tables render and hold the numbers of their records: the paper's Table 1
(models × datasets) and Table 2 (CAM methods × classes) with their tests."""

import os
import pathlib

import numpy as np
import pytest
import scipy.stats

from xaijax import report
from xaijax.report import build, studies


def _records(seed=0):
  """Per-image records of 3 methods on 12 images of 3 classes; 'copy' is
  gradcam's values (coinciding maps)."""
  rng = np.random.default_rng(seed)
  out = []
  for i in range(12):
    base = rng.normal()
    for method, shift in (("gradcam", 0.0), ("layercam", 0.5), ("copy", 0.0)):
      value = base + shift + (0.1 * rng.normal() if method == "layercam" else 0)
      out.append({
        "id": f"img{i}", "class": f"c{i % 3}", "method": method,
        "delta": float(value), "increase": float(value > 0),
      })  # fmt: skip
  return out


def _cell(table, method, column):
  row = next(r for r in table.rows if r[0] == method)
  return row[table.columns.index(column)]


def test_cam_tables_hold_the_means_and_scipy_tests():
  records = _records()
  tables = build.cam_tables(
    records, "delta", "Δ", context="all images", tests=("ttest", "wilcoxon"),
    same={"copy": "gradcam"},
  )  # fmt: skip
  summary = tables["cam_delta"]
  for method in ("gradcam", "layercam"):
    for c in ("c0", "c1", "c2", None):
      values = [
        r["delta"] for r in records
        if r["method"] == method and (c is None or r["class"] == c)
      ]  # fmt: skip
      column = c or "all"
      assert _cell(summary, method, column) == (
        f"{np.mean(values):.3f} ({len(values)})"
      )
  assert "copy coincides with gradcam" in summary.note
  assert "all images" in summary.note
  # The coinciding method is tested once (as gradcam): one pair per group.
  for test, scipy_test in (
    ("ttest", scipy.stats.ttest_rel),
    ("wilcoxon", scipy.stats.wilcoxon),
  ):
    rows = tables[f"cam_delta_{test}"].rows
    assert [r[1] for r in rows] == ["gradcam − layercam"] * 4
    a = [r["delta"] for r in records if r["method"] == "gradcam"]
    b = [r["delta"] for r in records if r["method"] == "layercam"]
    expected = scipy_test(a, b).pvalue
    pooled = rows[-1]
    assert pooled[0] == "all" and pooled[-1] == "12"
    assert pooled[5] == report.tables.fmt_p(expected)
  assert tables["cam_delta_wilcoxon"].columns[4] == "W"


def test_cam_tables_leave_out_missing_and_nan_values():
  records = _records()
  for r in records[:6]:
    r["delta"] = float("nan")
  del records[6]["delta"]
  tables = build.cam_tables(records, "delta", "Δ")
  total = sum(
    int(_cell(tables["cam_delta"], m, "all").split("(")[1][:-1])
    for m in ("gradcam", "layercam", "copy")
  )
  assert total == len(records) - 7


def test_model_tables_from_runs(tmp_path):
  rng = np.random.default_rng(0)
  runs = [
    {"model": m, "dataset": d, "seed": s, "accuracy": a, "macro_f1": a - 0.02}
    for d in ("brain", "skin")
    for m, base in (("resnet50", 0.86), ("vgg16", 0.80))
    for s in range(3)
    for a in [base + 0.01 * rng.standard_normal()]
  ]
  tables = build.model_tables(runs)
  assert set(tables) == {
    "models",
    "models_tests_accuracy",
    "models_tests_macro_f1",
  }
  summary = tables["models"]
  assert [r[0] for r in summary.rows] == ["resnet50", "vgg16"]
  assert summary.columns == (
    "model", "brain accuracy", "brain macro_f1", "skin accuracy", "skin macro_f1",
  )  # fmt: skip
  values = [r["accuracy"] for r in runs if r["model"] == "vgg16"][:3]
  low, high = scipy.stats.t.interval(
    0.95, 2, loc=np.mean(values), scale=scipy.stats.sem(values)
  )
  assert summary.rows[1][1] == f"{np.mean(values):.3f} [{low:.3f}, {high:.3f}]"
  tests = tables["models_tests_accuracy"].rows
  assert [r[0] for r in tests] == ["brain", "skin"]
  assert all(r[-1] == "3" for r in tests)
  paths = report.write_table(summary, str(tmp_path), "models")
  latex = pathlib.Path(paths["tex"]).read_text()
  assert r"\toprule" in latex and "resnet50" in latex


def test_table_formats_and_record_checks(tmp_path):
  table = report.Table("T_1 & co", ("a", "b%"), (("x_1", "1.0"),), "note")
  assert report.to_markdown(table).splitlines()[2] == "| a | b% |"
  assert "T\\_1 \\& co" in report.to_latex(table)
  assert report.to_csv(table) == "a,b%\nx_1,1.0\n"
  path = os.path.join(tmp_path, "r.csv")
  report.append_records(path, [{"a": 1, "b": "x"}])
  report.append_records(path, [{"a": 2.5, "b": "y"}])
  assert report.read_records(path) == [
    {"a": 1.0, "b": "x"},
    {"a": 2.5, "b": "y"},
  ]
  with pytest.raises(ValueError, match="differ from"):
    report.append_records(path, [{"a": 1}])
  # Records of different metrics in one file: the union of the columns.
  mixed = os.path.join(tmp_path, "m.csv")
  studies.write_records(mixed, [{"a": 1, "b": 2}, {"a": 3, "c": 4}])
  assert pathlib.Path(mixed).read_text() == "a,b,c\n1,2,\n3,,4\n"
