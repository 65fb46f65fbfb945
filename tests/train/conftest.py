# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures of the trainer tests: subprocess runs of `worker.py`.

Training runs in subprocesses where the device count or the process group
must differ from the test process. They share a persistent compilation
cache, so runs with the same programs (reference, killed, resumed) compile
once.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

WORKER = pathlib.Path(__file__).with_name("worker.py")
# The shared tiny run: VGG16 (with dropout), 8 steps of batch 8 over 48
# images of 32 px. Plain SGD and no BatchNorm keep rounding-level differences
# between device layouts at rounding level: Adam's m / sqrt(v) and the
# batch statistics of 1x1 feature maps would amplify them into a different
# trajectory and hide real mismatches. BatchNorm models are compared across
# device counts in-process (test_distributed.py), against a float64 bound.
RUN = {
  "model.name": "vgg16",
  "data.image_size": 32,
  "total_steps": 8,
  "checkpoint.every_steps": 2,
  "eval_every_steps": 4,
  "optimizer.name": "sgd",
  "optimizer.learning_rate": 0.02,
}
# The same schedule for a model with BatchNorm statistics and optimizer
# moments in its state: ResNet-50 (tiny, 16 px) with Adam.
BN_RUN = {
  **RUN,
  "model.name": "resnet50",
  "data.image_size": 16,
  "optimizer.name": "adam",
  "optimizer.learning_rate": 1e-3,
}


@pytest.fixture(scope="session")
def worker_env(tmp_path_factory):
  """Environment for worker subprocesses: 1 CPU device, compile cache on."""
  env = dict(os.environ)
  env.update(
    XLA_FLAGS="--xla_force_host_platform_device_count=1",
    JAX_PLATFORMS="cpu",
    JAX_COMPILATION_CACHE_DIR=str(tmp_path_factory.mktemp("jax_cache")),
    JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
    JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="0",
  )
  return env


def start_worker(workdir, overrides, env, process_id=0, devices=1):
  """Starts `worker.py` on `workdir`; returns the Popen."""
  env = {
    **env,
    "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
  }
  return subprocess.Popen(
    [
      sys.executable,
      str(WORKER),
      str(workdir),
      json.dumps(overrides),
      str(process_id),
    ],
    env=env,
    stdout=subprocess.PIPE,
    stderr=subprocess.STDOUT,
    text=True,
  )


def finish(process, timeout=600) -> str:
  """Waits for a worker, fails with its output if it failed, returns it."""
  out, _ = process.communicate(timeout=timeout)
  assert process.returncode == 0, out[-4000:]
  return out


def train_records(workdir) -> list[dict]:
  """metrics.jsonl's per-step training records (those with a loss), in
  file order."""
  lines = (pathlib.Path(workdir) / "metrics.jsonl").read_text().splitlines()
  return [r for r in map(json.loads, filter(None, lines)) if "loss" in r]


def train_losses(workdir) -> np.ndarray:
  """(steps,) training losses in step order from metrics.jsonl."""
  losses = {r["step"]: r["loss"] for r in train_records(workdir)}
  return np.asarray([losses[s] for s in sorted(losses)])


def _reference(tmp_path_factory, worker_env, overrides):
  workdir = tmp_path_factory.mktemp("reference") / "run"
  finish(start_worker(workdir, overrides, worker_env))
  return workdir


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory, worker_env):
  """The uninterrupted single-device run every other run is compared with."""
  return _reference(tmp_path_factory, worker_env, RUN)


@pytest.fixture(scope="session")
def bn_reference_run(tmp_path_factory, worker_env):
  """`reference_run` for BN_RUN (ResNet-50 with Adam)."""
  return _reference(tmp_path_factory, worker_env, BN_RUN)
