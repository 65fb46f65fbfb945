# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Exact resume after SIGKILL, finished runs, and the non-finite loss stop."""

import re
import signal
import time

import fake_data
import numpy as np
import pytest
import worker
from conftest import RUN, finish, start_worker, train_losses

from xaijax import train


def _saved_steps(workdir) -> list[int]:
  folder = workdir / "checkpoints"
  if not folder.exists():
    return []
  return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())


def test_killed_run_resumes_exactly(tmp_path, worker_env, reference_run):
  workdir = tmp_path / "run"
  # Slow batches make the kill land mid-run, after the first checkpoint.
  slow = start_worker(workdir, {**RUN, "data.delay": 0.5}, worker_env)
  deadline = time.monotonic() + 300
  while not _saved_steps(workdir) and time.monotonic() < deadline:
    assert slow.poll() is None, slow.communicate()[0][-4000:]
    time.sleep(0.2)
  slow.send_signal(signal.SIGKILL)
  slow.wait()
  assert _saved_steps(workdir), "no checkpoint was written before the kill"
  assert not (workdir / "results.json").exists()

  finish(start_worker(workdir, RUN, worker_env))
  reference = np.load(reference_run / "final.npz")
  resumed = np.load(workdir / "final.npz")
  assert sorted(resumed) == sorted(reference)
  for key in reference:
    np.testing.assert_array_equal(resumed[key], reference[key], err_msg=key)
  # Steps logged before the kill are logged again after the resume.
  np.testing.assert_array_equal(
    np.unique(train_losses(workdir)), np.unique(train_losses(reference_run))
  )


def test_finished_run_is_not_redone(reference_run):
  metrics = (reference_run / "metrics.jsonl").read_text()
  config = worker.tiny_config(RUN)
  results = train.train_and_evaluate(config, str(reference_run), data=fake_data)
  assert results["steps"] == RUN["total_steps"]
  assert (reference_run / "metrics.jsonl").read_text() == metrics


def test_non_finite_loss_stops_with_the_step(tmp_path):
  # Stream index 4 is the batch of step 5; checkpoints every 2 steps.
  # ResNet50 here: the BatchNorm statistics path of the trainer.
  config = worker.tiny_config(
    {**RUN, "model.name": "resnet50", "data.image_size": 16, "data.nan_at": 4}
  )
  message = "Non-finite training loss (nan) at step 5; training stopped and "
  message += "the last good checkpoint is step 4"
  with pytest.raises(FloatingPointError, match=re.escape(message)):
    train.run(config, str(tmp_path), data=fake_data)
  assert _saved_steps(tmp_path) == [2, 4]
