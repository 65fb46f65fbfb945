# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Studies over a trained run: cache, added cells, resume, 2 processes.

One tiny ResNet50 is trained once on the synthetic lesions (which have
masks); every test studies it.
"""

import os
import pathlib
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
import tiny

from xaijax import evaluate, explain, report, study, train
from xaijax.study import runs as runs_lib
from xaijax.train import sharding

TINY = pathlib.Path(tiny.__file__)


@pytest.fixture(scope="module")
def run_workdir(tmp_path_factory):
  workdir = tmp_path_factory.mktemp("trained") / "run"
  train.run(tiny.train_config(), str(workdir))
  return workdir


def _per_image(workdir) -> list[dict]:
  return report.read_records(str(workdir / "studies/cams/per_image.csv"))


def _per_image_text(workdir) -> str:
  return (workdir / "studies/cams/per_image.csv").read_text()


def _values(records, method):
  rows = sorted(
    (r for r in records if r["method"] == method), key=lambda r: r["id"]
  )
  return {k: [str(r[k]) for r in rows] for k in ("id", "delta", "iou")}


def test_cache_reuses_cells_and_adds_only_new_methods(tmp_path, run_workdir):
  config = tiny.launch_config(str(run_workdir))
  first = study.run(config, str(tmp_path))["studies"]["cams"]
  # 4 images x 2 methods; 2 metrics each.
  assert (first["maps"], first["scores"]) == (8, 16)
  records = _per_image(tmp_path)
  text = _per_image_text(tmp_path)
  again = study.run(config, str(tmp_path))["studies"]["cams"]
  assert (again["maps"], again["scores"]) == (0, 0)
  assert _per_image_text(tmp_path) == text
  config.studies.cams.methods = ("gradcam", "layercam", "hirescam")
  added = study.run(config, str(tmp_path))["studies"]["cams"]
  assert (added["maps"], added["scores"]) == (4, 8)
  grown = _per_image(tmp_path)
  for m in ("gradcam", "layercam"):
    assert _values(grown, m) == _values(records, m)
  # The cells equal a direct computation with the public functions.
  trained = runs_lib.resolve(config, str(tmp_path))["tiny"][0]
  restored = runs_lib.restore(trained, sharding.make_mesh())
  hires = sorted(
    (r for r in grown if r["method"] == "hirescam"), key=lambda r: r["id"]
  )
  ids = list(map(str, restored.test.ids))
  index = [ids.index(r["id"]) for r in hires]
  examples = [restored.test.example(i) for i in index]
  images = np.stack([e["image"] for e in examples])
  masks = np.stack([e["lesion_mask"] for e in examples]).astype(np.float32)
  targets = restored.predictions[index]
  maps = explain.cams(
    restored.module, restored.variables, images, methods="hirescam",
    layer="layer3", targets=targets,
  )  # fmt: skip
  expected = evaluate.score_maps(
    restored.module, restored.variables, images, maps,
    metrics=("confidence", "localization"), targets=targets, masks=masks,
  )["hirescam"]  # fmt: skip
  # Same program on a batch of 4 (the study's batch): float32 values agree to
  # rounding of probabilities in [0, 1] (a few ulps of 1).
  np.testing.assert_allclose(
    [r["delta"] for r in hires], expected["delta"], atol=1e-6
  )
  np.testing.assert_array_equal(
    [r["pointing"] for r in hires], expected["pointing"]
  )
  text = (tmp_path / "studies/cams/report.md").read_text()
  assert "hirescam" in text and "computed 4 maps and 8 scores" in text
  index_md = (tmp_path / "report/report.md").read_text()
  assert "studies/cams/report.md" in index_md and "| tiny |" in index_md


def test_views_cover_policies_and_selections(tmp_path, run_workdir):
  config = tiny.launch_config(
    str(run_workdir),
    targets=("predicted", "true"),
    selections=("all", "correct"),
    metrics=("confidence",),
    batch_size=8,
  )
  out = study.run(config, str(tmp_path))["studies"]["cams"]
  records = _per_image(tmp_path)
  trained = runs_lib.resolve(config, str(tmp_path))["tiny"][0]
  ids, labels, probs = trained.predictions()
  predicted = probs.argmax(-1)
  n, correct = len(ids), int((labels == predicted).sum())
  names = trained.class_names
  for policy in ("predicted", "true"):
    for chosen, count in (("all", n), ("correct", correct)):
      mine = [
        r for r in records
        if r["target_policy"] == policy and r["selection"] == chosen
        and r["method"] == "gradcam"
      ]  # fmt: skip
      assert len(mine) == count
      for r in mine:
        i = ids.index(r["id"])
        want = predicted[i] if policy == "predicted" else labels[i]
        assert r["explained"] == names[want]
  # Cells are keyed by the explained class: 'true' and 'predicted' share
  # the correct images' maps.
  cells = n + (n - correct)
  assert out["maps"] == 2 * cells


def _start(workdir, run_workdir, overrides, *extra):
  env = {**os.environ, "JAX_PLATFORMS": "cpu"}
  return subprocess.Popen(
    [sys.executable, str(TINY), str(workdir), str(run_workdir), overrides,
     *map(str, extra)],
    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
  )  # fmt: skip


def _finish(process, timeout=900):
  out, _ = process.communicate(timeout=timeout)
  assert process.returncode == 0 and "ok" in out, out[-4000:]


def _maps_in_cache(workdir) -> int:
  path = workdir / study.CACHE
  if not path.exists():
    return 0
  try:
    with sqlite3.connect(path, timeout=1) as db:
      return db.execute("SELECT COUNT(*) FROM maps").fetchone()[0]
  except sqlite3.OperationalError:
    return 0  # the schema is not committed yet


def test_killed_study_resumes_with_the_same_tables(tmp_path, run_workdir):
  overrides = '{"batch_size": 1, "max_images": 6}'
  reference = tmp_path / "reference"
  _finish(_start(reference, run_workdir, overrides))
  killed = tmp_path / "killed"
  # Slow image reads (0.3 s each) leave time to kill between batches.
  process = _start(killed, run_workdir, overrides, 0, 1, 0, 0.3)
  deadline = time.time() + 600
  while _maps_in_cache(killed) == 0 and process.poll() is None:
    assert time.time() < deadline
    time.sleep(0.05)
  process.send_signal(signal.SIGKILL)
  process.wait()
  partial = _maps_in_cache(killed)
  assert 0 < partial < 12, partial  # 6 images x 2 methods in all
  _finish(_start(killed, run_workdir, overrides))
  assert _per_image_text(killed) == _per_image_text(reference)
  for name in ("cam_delta", "cam_iou"):
    tables = sorted((killed / "studies/cams/tables").glob(f"*{name}.csv"))
    assert tables
    for t in tables:
      expected = reference / "studies/cams/tables" / t.name
      assert t.read_text() == expected.read_text()


def _free_port() -> int:
  import socket

  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


def test_two_processes_give_the_one_process_tables(tmp_path, run_workdir):
  """2 processes (one CPU device each, gloo): the batches are sharded over
  both, process 0 alone writes (process 1 fails on any write under the
  study's folder), and the records and tables equal one process's."""
  overrides = '{"selections": ["all"], "metrics": ["confidence"]}'
  one = tmp_path / "one"
  _finish(_start(one, run_workdir, overrides))
  two = tmp_path / "two"
  port = _free_port()
  group = [_start(two, run_workdir, overrides, i, 2, port) for i in (0, 1)]
  for process in group:
    _finish(process)
  # Sharded vs unsharded float32 forward passes: the same per-image
  # programs, so probabilities agree to rounding (a few ulps of 1), far
  # below the 6 significant digits compared here.
  a, b = _per_image(one), _per_image(two)
  assert len(a) == len(b) > 0
  for x, y in zip(a, b, strict=True):
    assert x["id"] == y["id"] and x["method"] == y["method"]
    assert abs(x["delta"] - y["delta"]) <= 1e-5 + 1e-5 * abs(x["delta"])
    assert x["explained"] == y["explained"]
  assert sorted(p.name for p in (two / "studies/cams/tables").iterdir()) == (
    sorted(p.name for p in (one / "studies/cams/tables").iterdir())
  )


def test_training_no_longer_imports_the_report_package():
  code = (
    "import sys, xaijax.train\n"
    "bad = [m for m in sys.modules if m.startswith(('xaijax.report',"
    " 'xaijax.study'))]\n"
    "assert not bad, bad\nprint('ok')"
  )
  out = subprocess.run(
    [sys.executable, "-c", code], capture_output=True, text=True, timeout=300
  )
  assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]
