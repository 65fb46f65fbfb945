# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by the whole test suite."""

import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def torchvision():
  """torchvision, importable on the CPU torch build (see torch_interop)."""
  from xaijax.models.torch_interop import import_torchvision

  return import_torchvision()


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
  """The real medical image samples beside the repo, or a skip."""
  if not SHARED_DATA.is_dir():
    pytest.skip(
      f"Real data samples not found at {SHARED_DATA}: they live in the "
      "shared/ folder beside the repository (see shared/data/MANIFEST.md)."
    )
  return SHARED_DATA


@pytest.fixture(scope="session")
def run_on_cpu_devices():
  """run(code, devices=4): runs Python `code` in a subprocess with that many
  simulated CPU devices (the count is fixed when jax starts) and fails with
  its stderr unless it exits 0 and prints 'ok'."""

  def run(code: str, devices: int = 4, timeout: int = 600) -> None:
    env = {
      **os.environ,
      "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
      "JAX_PLATFORMS": "cpu",
    }
    out = subprocess.run(
      [sys.executable, "-c", code],
      env=env,
      capture_output=True,
      text=True,
      timeout=timeout,
    )
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]

  return run
