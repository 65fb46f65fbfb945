# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Data parallelism: 4 devices and 2 processes train as 1 device does."""

import json
import pathlib
import socket

import numpy as np
import pytest
from conftest import RUN, finish, start_worker, train_losses

REPO = pathlib.Path(__file__).resolve().parents[2]


def _results(workdir, process_id=0) -> dict:
  return json.loads((workdir / f"result_{process_id}.json").read_text())


def test_four_devices_match_one(tmp_path, worker_env, reference_run):
  workdir = tmp_path / "run"
  finish(start_worker(workdir, RUN, worker_env, devices=4))
  info = json.loads((workdir / "run_info.json").read_text())
  assert info["device_count"] == 4
  # Same global batch, split 2 images per device: only the summation order
  # of the gradient reductions differs.
  np.testing.assert_allclose(
    train_losses(workdir), train_losses(reference_run), rtol=1e-5
  )
  assert (
    _results(workdir)["test"]["accuracy"]
    == _results(reference_run)["test"]["accuracy"]
  )


@pytest.mark.long
def test_two_processes_train_together(tmp_path, worker_env, reference_run):
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  workdir = tmp_path / "run"
  overrides = {
    **RUN,
    "distributed.coordinator_address": f"127.0.0.1:{port}",
    "distributed.num_processes": 2,
  }
  workers = [start_worker(workdir, overrides, worker_env, i) for i in (0, 1)]
  for worker in workers:
    finish(worker)
  info = json.loads((workdir / "run_info.json").read_text())
  assert (info["process_count"], info["device_count"]) == (2, 2)
  # Both processes hold the same replicated model: their test metrics agree,
  # and the 2-process run follows the single-device run.
  first, second = _results(workdir, 0), _results(workdir, 1)
  assert first["test"] == second["test"]
  np.testing.assert_allclose(
    train_losses(workdir), train_losses(reference_run), rtol=1e-5
  )


@pytest.mark.long
def test_four_devices_match_one_with_batch_norm(run_on_cpu_devices):
  """Tiny ResNet-50 (BatchNorm statistics over the global batch, split 2
  images per device) on 4 simulated devices and on 1: the trainer's
  `steps.train_step` for 20 steps, SGD with Nesterov momentum, decay,
  clipping and warmup. Only summation orders differ, so the 4-device
  parameters and statistics must be as close to torch's float64 trajectory
  as the 1-device ones are (the largest error of 3 rounding draws), within
  10x (tests/float64_reference.py)."""
  run_on_cpu_devices(
    f"""
import sys
sys.path[:0] = [{str(REPO)!r}, {str(REPO / "tests" / "train")!r}]
import jax
import torch
import test_trajectories as t
from tests import float64_reference as reference

assert jax.device_count() == 4
config = t._config(t.RESNET50_RUN)
torch_model, variables = t.tiny_resnet50()
batches = t.image_batches()
one = reference.realisations(
  lambda v, b: t.resnet50_final(config, v, b, jax.devices()[:1]),
  variables,
  batches,
)
four = t.resnet50_final(config, variables, batches, jax.devices())
exact = t.torch_trajectory(config, torch_model, batches, torch.float64)
reference.assert_within(
  four, exact, reference.allowed_errors(one, exact), "4-device"
)
print("ok")
""",
    devices=4,
  )
