# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""launch.py: command-line errors are short, clear and non-zero."""

import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _launch(*args):
  return subprocess.run(
    [sys.executable, str(ROOT / "launch.py"), *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=120,
  )


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


def test_missing_dataset_root_is_a_data_error(tmp_path):
  result = _launch(
    "--config", "configs/resnet50_chest.py:tiny", "--workdir", str(tmp_path)
  )
  assert result.returncode != 0
  assert "Data error: data.root is not set" in result.stderr
  assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_tiny_demo_runs_end_to_end(tmp_path):
  result = _launch(
    "--config", "configs/demo.py:tiny", "--workdir", str(tmp_path)
  )
  assert result.returncode == 0, result.stderr[-4000:]
  assert "Total time:" in result.stdout
  rows = (tmp_path / "runs.csv").read_text().splitlines()
  assert rows[0].startswith("run,model,dataset,seed,fold,accuracy")
  assert len(rows) == 3
  for model in ("resnet50", "efficientnet_b0"):
    assert (tmp_path / model / "predictions_test.csv").exists()
