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
from conftest import (
  BN_RUN,
  RUN,
  finish,
  start_worker,
  train_losses,
  train_records,
)

from xaijax import train


def _saved_steps(workdir) -> list[int]:
  folder = workdir / "checkpoints"
  if not folder.exists():
    return []
  return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())


@pytest.mark.long
@pytest.mark.parametrize(
  "overrides, reference",
  [
    # VGG16 + SGD (no BatchNorm) in -m slow: ResNet50 + Adam resumes more
    # state (BatchNorm statistics, two moments) along the same path.
    pytest.param(RUN, "reference_run", marks=pytest.mark.slow),
    (BN_RUN, "bn_reference_run"),
  ],
  ids=["vgg16_sgd", "resnet50_adam"],
)
def test_killed_run_resumes_exactly(
  overrides, reference, request, tmp_path, worker_env
):
  """SIGKILL after the first checkpoint, then the same command: the run
  resumes (it says so, at a step past 0 and before the end), logs every step
  once, and ends with the state of an uninterrupted run, bit for bit:
  parameters, BatchNorm statistics, optimizer moments, step and key.

  A run that restarted from step 0 would end with the same state too (the
  stream and the keys are functions of the step): the log line and the
  metrics are what tell a resume from a restart."""
  reference = request.getfixturevalue(reference)
  workdir = tmp_path / "run"
  total = overrides["total_steps"]
  # Slow batches make the kill land mid-run, after the first checkpoint.
  slow = start_worker(workdir, {**overrides, "data.delay": 0.5}, worker_env)
  deadline = time.monotonic() + 300
  while not _saved_steps(workdir) and time.monotonic() < deadline:
    assert slow.poll() is None, slow.communicate()[0][-4000:]
    time.sleep(0.2)
  slow.send_signal(signal.SIGKILL)
  slow.wait()
  assert _saved_steps(workdir), "no checkpoint was written before the kill"
  assert not (workdir / "results.json").exists()

  output = finish(start_worker(workdir, overrides, worker_env))
  resumed = re.findall(
    rf"Resumed {re.escape(str(workdir))} at step (\d+) of {total}\.", output
  )
  assert len(resumed) == 1, f"no 'Resumed' line in:\n{output[-3000:]}"
  assert 0 < int(resumed[0]) < total, resumed

  logged = [r["step"] for r in train_records(workdir)]
  assert logged == list(range(1, total + 1)), logged
  np.testing.assert_array_equal(train_losses(workdir), train_losses(reference))
  expected = np.load(reference / "final.npz")
  final = np.load(workdir / "final.npz")
  assert sorted(final) == sorted(expected)
  for key in expected:
    np.testing.assert_array_equal(final[key], expected[key], err_msg=key)


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
