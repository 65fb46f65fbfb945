# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The PyTorch baseline writes an xaijax run's files, on the same split."""

import csv
import json

import pytest

from configs import base
from xaijax import train

# The files a study reads from a training run, and results.json's keys.
CONTRACT = ("config.json", "data_splits.json", "predictions_test.csv")
RESULT_KEYS = {
  "framework",
  "model",
  "dataset",
  "class_names",
  "seed",
  "fold",
  "steps",
  "max_steps",
  "best_step",
  "stopped_early",
  "train_seconds",
  "val",
  "test",
}


def _rows(workdir) -> list[dict]:
  with open(workdir / "predictions_test.csv", newline="") as f:
    return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def runs(tmp_path_factory, torchvision):
  """The tiny synthetic config trained by xaijax and by the baseline."""
  from baselines import torch_trainer

  config = base.get_config("tiny")
  config.progress = False
  root = tmp_path_factory.mktemp("runs")
  train.run(config, str(root / "jax"))
  torch_trainer.run(config, str(root / "torch"))
  return root / "jax", root / "torch"


def test_same_contract_and_test_images(runs):
  jax_dir, torch_dir = runs
  for name in CONTRACT:
    assert (torch_dir / name).exists(), name
  assert (torch_dir / "data_splits.json").read_text() == (
    jax_dir / "data_splits.json"
  ).read_text()
  ours, theirs = _rows(jax_dir), _rows(torch_dir)
  assert list(theirs[0]) == list(ours[0])  # id, label, pred, prob_<class>...
  assert [(r["id"], r["label"]) for r in theirs] == [
    (r["id"], r["label"]) for r in ours
  ]
  for row in theirs:
    probs = [float(v) for k, v in row.items() if k.startswith("prob_")]
    assert sum(probs) == pytest.approx(1.0, abs=1e-4)  # 6 printed digits
    assert int(row["pred"]) == probs.index(max(probs))


def test_results_as_xaijax(runs):
  jax_dir, torch_dir = runs
  ours = json.loads((jax_dir / "results.json").read_text())
  theirs = json.loads((torch_dir / "results.json").read_text())
  assert set(theirs) == RESULT_KEYS
  assert theirs["framework"] == "torch" and ours["framework"] == "jax"
  for key in ("model", "dataset", "class_names", "seed", "fold", "max_steps"):
    assert theirs[key] == ours[key], key
  assert set(theirs["test"]) == set(ours["test"])
  assert sum(map(sum, theirs["test"]["confusion_matrix"])) == len(
    _rows(torch_dir)
  )


def test_finished_run_is_not_redone(runs, torchvision):
  from baselines import torch_trainer

  _, torch_dir = runs
  before = (torch_dir / "metrics.jsonl").read_text()
  config = base.get_config("tiny")
  results = torch_trainer.run(config, str(torch_dir))
  assert results["framework"] == "torch"
  assert (torch_dir / "metrics.jsonl").read_text() == before


def test_saved_model_gives_the_predictions(runs):
  """model.pth, ported with `from_torchvision`, predicts in xaijax what the
  baseline predicted: eval mode is the same computation in both."""
  import numpy as np

  from xaijax import data, models

  _, torch_dir = runs
  config = base.get_config("tiny")
  dataset = data.load(config.data)
  k = dataset.num_classes
  variables = models.from_torchvision(
    "resnet50", str(torch_dir / "model.pth"), k, tiny=True
  )
  module = models.create("resnet50", k, tiny=True)
  logits = np.concatenate(
    [
      np.asarray(module.apply(variables, batch["image"]))[batch["valid"]]
      for batch in data.eval_batches(
        dataset.test, batch_size=16, process_index=0, process_count=1
      )
    ]
  )
  probs = np.exp(logits - logits.max(-1, keepdims=True))
  probs /= probs.sum(-1, keepdims=True)
  saved = np.array(
    [
      [float(v) for c, v in row.items() if c.startswith("prob_")]
      for row in _rows(torch_dir)
    ]
  )
  # The CSV's 6 significant digits of values < 1 (5e-7), plus the logits'
  # eval-mode parity bound (1e-4 of the largest, test_torchvision_parity.py)
  # through softmax, whose Jacobian rows sum to 2 p (1 - p) <= 1/2.
  bound = 5e-7 + 0.5 * 1e-4 * np.abs(logits).max()
  np.testing.assert_allclose(probs, saved, rtol=0, atol=bound)
