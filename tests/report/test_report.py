# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tables render, the report regenerates from records, and the downstream
stage runs end to end on a tiny model and a tiny fake dataset."""

import os
import pathlib

import jax
import ml_collections
import numpy as np
import pytest

from xaijax import models, report
from xaijax.report import build, pipeline

METHODS = ("gradcam", "xgradcam", "layercam")
SIZE = 32


class FakeSplit:
  """The Split contract: 6 random images with square 'lesions'."""

  class_names = ("glioma", "meningioma", "none")

  def __init__(self, n=6):
    rng = np.random.default_rng(0)
    self._images = rng.standard_normal((n, SIZE, SIZE, 3)).astype(np.float32)
    self._labels = np.arange(n, dtype=np.int32) % 3
    self._masks = np.zeros((n, SIZE, SIZE), np.float32)
    for i in range(n):
      self._masks[i, 4 * i : 4 * i + 8, 8:20] = 1
    self.ids = [f"img_{i}" for i in range(n)]

  def __len__(self):
    return len(self._labels)

  @property
  def labels(self):
    return self._labels

  def example(self, i):
    return {
      "image": self._images[i],
      "label": int(self._labels[i]),
      "lesion_mask": self._masks[i],
    }


class FakeDataset:
  test = FakeSplit()
  class_names = FakeSplit.class_names
  num_classes = 3


def _config():
  config = ml_collections.ConfigDict()
  config.seed = 0
  config.data = ml_collections.ConfigDict()
  config.data.mean = (0.485, 0.456, 0.406)
  config.data.std = (0.229, 0.224, 0.225)
  config.xai = ml_collections.ConfigDict()
  config.xai.methods = METHODS
  config.xai.layer = ""
  config.xai.max_images = 5  # two batches, the second one padded
  config.xai.batch_size = 4
  config.xai.road_percentiles = (50,)
  config.xai.figure_images = 3
  return config


@pytest.fixture(scope="module")
def tiny_model():
  module = models.create("resnet50", 3, tiny=True)
  x = np.zeros((1, SIZE, SIZE, 3), np.float32)
  return module, jax.jit(module.init)(jax.random.key(0), x)


def test_pipeline_end_to_end(tmp_path, tiny_model):
  from xaijax.explain import cams

  module, variables = tiny_model
  calls = []

  def explain(*args, **kwargs):
    calls.append(1)
    return cams(*args, **kwargs)

  workdir = str(tmp_path)
  out = pipeline.run(
    _config(), workdir, module, variables, FakeDataset(), explain_fn=explain
  )
  assert out["num_images"] == 5 and len(calls) == 2
  rows = report.read_records(out["per_image"])
  assert len(rows) == 5 * len(METHODS)
  assert {r["method"] for r in rows} == set(METHODS)
  for column in ("delta", "road_combined", "road_morf_p50", "pointing", "iou"):
    assert all(np.isfinite(r[column]) for r in rows), column
  assert os.path.exists(os.path.join(workdir, build.FIGURES_DIR, "grid.png"))
  for name in ("cam_delta", "cam_delta_tests", "cam_pointing", "cam_increase"):
    for ext in ("md", "csv", "tex"):
      assert os.path.exists(os.path.join(workdir, "report", f"{name}.{ext}"))
  text = pathlib.Path(out["report"]).read_text()
  assert "CAM methods × classes" in text and "p (Holm)" in text
  assert "gradcam − xgradcam" in text and "grid.png" in text
  # Pairs of 3 methods, per class present (3) and 'all'.
  tests = report.read_records(
    os.path.join(workdir, "report", "cam_delta_tests.csv")
  )
  assert len(tests) == 3 * 4
  # A finished run is not redone; the report regenerates from the CSV.
  os.remove(out["report"])
  again = pipeline.run(
    _config(), workdir, module, variables, FakeDataset(), explain_fn=explain
  )
  assert len(calls) == 2 and pathlib.Path(again["report"]).read_text() == text
  assert again["summary"] == out["summary"]


def test_pipeline_passes_the_cam_options_and_rejects_unknown_ones(
  tmp_path, tiny_model
):
  from xaijax.explain import cams

  module, variables = tiny_model
  seen = []

  def explain(*args, **kwargs):
    seen.append({k: kwargs[k] for k in ("chunk_size", "eigen_sign")})
    return cams(*args, **kwargs)

  config = _config()
  config.xai.methods = ("scorecam", "eigencam")
  config.xai.max_images = 2
  config.xai.batch_size = 2
  config.xai.cam = ml_collections.ConfigDict(
    {"chunk_size": 3, "eigen_sign": "max_abs"}
  )
  pipeline.run(
    config, str(tmp_path), module, variables, FakeDataset(), explain_fn=explain
  )
  assert seen == [{"chunk_size": 3, "eigen_sign": "max_abs"}]
  config.xai.cam.chunk = 3
  with pytest.raises(
    ValueError, match=r"option\(s\) chunk; valid: .*chunk_size"
  ):
    pipeline.run(
      config, str(tmp_path / "bad"), module, variables, FakeDataset()
    )


def test_model_tables_from_runs(tmp_path):
  rng = np.random.default_rng(0)
  runs = [
    {"model": m, "dataset": d, "seed": s, "accuracy": a, "macro_f1": a - 0.02}
    for d in ("brain", "skin")
    for m, base in (("resnet50", 0.86), ("vgg16", 0.80))
    for s in range(3)
    for a in [base + 0.01 * rng.standard_normal()]
  ]
  report.append_records(os.path.join(tmp_path, build.RUNS_CSV), runs)
  paths = report.write_report(str(tmp_path))
  assert {"models", "models_tests_accuracy", "models_tests_macro_f1"} <= set(
    paths
  )
  summary = report.read_records(os.path.join(tmp_path, "report", "models.csv"))
  assert [r["model"] for r in summary] == ["resnet50", "vgg16"]
  assert list(summary[0]) == [
    "model", "brain accuracy", "brain macro_f1", "skin accuracy", "skin macro_f1",
  ]  # fmt: skip
  tests = report.read_records(
    os.path.join(tmp_path, "report", "models_tests_accuracy.csv")
  )
  assert [r["dataset"] for r in tests] == ["brain", "skin"]
  assert all(r["n"] == 3 for r in tests)
  latex = (tmp_path / "report" / "models.tex").read_text()
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


def test_report_links_the_reports_of_individual_runs(tmp_path):
  run_report = tmp_path / "resnet50_seed_0" / "report" / "report.md"
  run_report.parent.mkdir(parents=True)
  run_report.write_text("# Report\n")
  paths = report.write_report(str(tmp_path))
  text = pathlib.Path(paths["report"]).read_text()
  assert "(../resnet50_seed_0/report/report.md)" in text
  assert "No results yet" not in text


def test_explained_images_are_a_class_balanced_seeded_sample():
  labels = np.repeat([0, 1, 2], [50, 30, 2])  # stored class by class
  chosen = pipeline.select_images(labels, 12, seed=0)
  assert len(set(chosen.tolist())) == 12
  np.testing.assert_array_equal(np.bincount(labels[chosen]), [5, 5, 2])
  np.testing.assert_array_equal(chosen, pipeline.select_images(labels, 12, 0))
  assert not np.array_equal(chosen, pipeline.select_images(labels, 12, 1))
