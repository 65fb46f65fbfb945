# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What a finished run records: results of the tested model, early stopping,
training time over resumed sessions."""

import json
import types

import worker

from xaijax import train
from xaijax.train import trainer


def _tiny(**overrides):
  return worker.tiny_config({"model.name": "vgg16", "data.image_size": 32,
                             **overrides})  # fmt: skip


def test_results_describe_the_tested_model(tmp_path, monkeypatch):
  import fake_data

  results = train.run(_tiny(total_steps=4), str(tmp_path), data=fake_data)
  assert results["framework"] == "jax" and results["model"] == "vgg16"
  assert results["class_names"] == ["c0", "c1", "c2"]
  assert results["steps"] == results["max_steps"] == 4
  assert not results["stopped_early"]
  # Validation ran at steps 3 (eval_every_steps) and 4: 'val' is the tested
  # (best) model's, so it equals the best checkpoint's validation record.
  records = [
    json.loads(line)
    for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
  ]
  val = {r["step"]: r for r in records if r["split"] == "val"}
  best = results["best_step"]
  assert best in (3, 4)
  assert results["val"]["accuracy"] == val[best]["accuracy"]
  # A run interrupted after its last step (results.json not yet written)
  # resumes there: same validation, and the training time of the first
  # session as recorded with its last checkpoint plus the second's. The
  # second session's clock is stopped, so its own time is 0: the result is
  # exactly the recorded time (0 if the first session's were dropped).
  (tmp_path / "results.json").unlink()
  recorded = json.loads((tmp_path / "train_time.json").read_text())["4"]
  assert 0 < recorded <= results["train_seconds"]
  monkeypatch.setattr(
    trainer, "time", types.SimpleNamespace(perf_counter=lambda: 0.0)
  )
  again = train.run(_tiny(total_steps=4), str(tmp_path), data=fake_data)
  assert again["val"] == results["val"] and again["test"] == results["test"]
  assert again["train_seconds"] == recorded


def test_early_stopping_keeps_the_best_model(tmp_path):
  import fake_data

  # A zero learning rate never improves validation (a tie is not an
  # improvement): training stops `patience` evaluations after the first.
  config = _tiny(total_steps=40, eval_every_steps=2, **{
    "early_stopping.patience": 2,
    "optimizer.learning_rate": 0.0,
    "checkpoint.every_steps": 2,
  })  # fmt: skip
  results = train.run(config, str(tmp_path), data=fake_data)
  assert results["stopped_early"]
  assert results["best_step"] in (2, 4, 6)  # tied models: orbax keeps one
  assert results["steps"] == 6  # 2 evaluations after the best at step 2
  assert results["max_steps"] == 40
  # Rerunning the stopped run does not train on.
  (tmp_path / "results.json").unlink()
  again = train.run(config, str(tmp_path), data=fake_data)
  assert again["steps"] == 6 and again["stopped_early"]
