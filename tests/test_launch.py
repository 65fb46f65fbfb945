# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""launch.py: bad input is one clear line before any work; the console shows
progress and results, the log file everything."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _launch(*args, timeout=600):
  return subprocess.run(
    [sys.executable, str(ROOT / "launch.py"), *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=timeout,
    env={**os.environ, "JAX_PLATFORMS": "cpu"},
  )


def _one_line_failure(result, *expected):
  assert result.returncode == 1, result.stderr[-3000:]
  assert "Traceback" not in result.stderr, result.stderr[-3000:]
  last = result.stderr.strip().splitlines()[-1]
  for text in expected:
    assert text in last, last


@pytest.mark.parametrize(
  ("override", "expected"),
  [
    ("--config.sed=3", 'Did you mean "seed"'),
    ("--config.seed=abc", "invalid literal for int()"),
    ("--config.optimizer.nmae=sgd", "'nmae'"),
  ],
)
def test_bad_override_lists_valid_keys(tmp_path, override, expected):
  result = _launch(
    "--config",
    "configs/resnet50_chest.py:tiny",
    override,
    "--workdir",
    str(tmp_path),
  )
  assert result.returncode != 0
  assert expected in result.stderr
  assert "Valid keys:" in result.stderr
  assert "config.optimizer.learning_rate" in result.stderr
  assert "Traceback" not in result.stderr


def test_bad_config_argument_is_one_line(tmp_path):
  result = _launch(
    "--config", "configs/demo.py:fast", "--workdir", str(tmp_path)
  )
  assert result.returncode != 0
  assert "Unknown config argument 'fast'; valid: full" in result.stderr
  assert "Traceback" not in result.stderr


# Every name in a config is checked before anything is loaded or trained:
# the workdir is never created.
DEMO = ("--config", "configs/demo.py:tiny")
RESNET = ("--config", "configs/resnet50_brain.py:tiny")
SYNTHETIC = ("--config", "configs/resnet50_brain.py:tiny,dataset=synthetic")


@pytest.mark.parametrize(
  ("args", "expected"),
  [
    ((*DEMO, "--config.studies.cams.layers=('layer9',)"),
     ("config.studies.cams.layers", "Unknown layer 'layer9'", "features.8")),
    ((*DEMO, "--config.studies.cams.methods=('gradcam','nosuchcam')"),
     ("methods='nosuchcam'", "gradcampp")),
    ((*DEMO, "--config.studies.cams.targets=('predictd',)"),
     ("targets='predictd'", "predicted, true, class=<name>")),
    ((*DEMO, "--config.studies.cams.selections=('corect',)"),
     ("selections='corect'", "balanced, all, correct")),
    ((*DEMO, "--config.studies.cams.metrics=('roads',)"),
     ("metric(s) ['roads']", "confidence, road")),
    ((*DEMO, "--config.studies.cams.runs=('resnet5',)"),
     ("runs='resnet5'", "efficientnet_b0, resnet50")),
    ((*DEMO, "--config.runs.resnet50.train.optimizer.name=adamx"),
     ("Unknown optimizer 'adamx'", "adam")),
    ((*SYNTHETIC, "--config.model.name=resnet5"),
     ("model.name='resnet5'", "densenet121")),
    ((*SYNTHETIC, "--config.schedule.name=cosin"),
     ("Unknown schedule 'cosin'", "cosine")),
    ((*RESNET, "--config.data.name=brian"),
     ("Unknown dataset 'brian'", "brain_mri")),
    ((*SYNTHETIC, "--config.checkpoint.best_metric=auc"),
     ("best_metric='auc'", "balanced_accuracy")),
  ],
)  # fmt: skip
def test_bad_names_fail_before_any_work(tmp_path, args, expected):
  workdir = tmp_path / "run"
  result = _launch(*args, "--workdir", str(workdir))
  _one_line_failure(result, *expected)
  assert not workdir.exists()


def test_missing_paths_fail_before_any_work(tmp_path):
  workdir = tmp_path / "run"
  result = _launch(*RESNET, "--workdir", str(workdir))
  assert result.returncode == 1 and "Traceback" not in result.stderr
  assert "Data error: data.root is not set" in result.stderr
  weights = tmp_path / "nope" / "{model}.pth"
  result = _launch(
    "--config", "configs/resnet50_chest.py:tiny",
    f"--config.data.root={ROOT}", f"--config.init.torchvision={weights}",
    "--workdir", str(workdir),
  )  # fmt: skip
  _one_line_failure(result, f"no file '{tmp_path}/nope/resnet50.pth'")
  assert not workdir.exists()
  result = _launch(*DEMO, "--workdir", "/proc/nope/run")
  _one_line_failure(result, "Cannot create the workdir", "/proc/nope/run")


def test_non_finite_loss_is_one_line_and_keeps_the_checkpoint(tmp_path):
  result = _launch(
    "--config", "configs/resnet50_brain.py:tiny,dataset=synthetic",
    "--config.optimizer.name=sgd", "--config.optimizer.learning_rate=1e30",
    "--config.schedule.name=constant", "--config.progress=False",
    "--workdir", str(tmp_path),
  )  # fmt: skip
  _one_line_failure(result, "Training stopped: Non-finite training loss")
  assert "at step" in result.stderr and "learning_rate" in result.stderr


@pytest.mark.long
def test_tiny_demo_trains_studies_and_reports(tmp_path):
  """The README's demo command (tiny): train two models, then the studies;
  the console shows results, the log file has everything."""
  result = _launch(*DEMO, "--workdir", str(tmp_path), timeout=1200)
  assert result.returncode == 0, result.stderr[-4000:]
  out = result.stdout
  for text in ("val (step", "test (step", "Study cams: computed", "Report:",
               "Total time:"):  # fmt: skip
    assert text in out, out
  # No absl prefixes nor backend chatter on the console.
  for line in result.stderr.splitlines():
    assert not line.startswith(("I1", "I0")), line
  log = (tmp_path / "log.txt").read_text()
  assert "test (step" in log and "] " in log  # absl's prefix in the file
  for model in ("resnet50", "efficientnet_b0"):
    assert (tmp_path / model / "predictions_test.csv").exists()
    assert (tmp_path / model / "best").is_dir()
  index = (tmp_path / "report/report.md").read_text()
  assert "studies/cams/report.md" in index
  assert "studies/models/report.md" in index
  cams = (tmp_path / "studies/cams/report.md").read_text()
  assert "pointing" in cams and "CAM methods × classes" in cams
