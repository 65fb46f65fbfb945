# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fixtures shared by the whole test suite."""

import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

# XLA's persistent compilation cache, shared by the xdist workers and the
# subprocesses the tests start (they inherit the environment): the suite
# builds the same tiny models' programs in many tests and processes, and a
# cache hit is the same executable, so results do not change. Entries are
# keyed by the program, the jax version and the flags; a user's own
# JAX_COMPILATION_CACHE_DIR wins.
os.environ.setdefault(
  "JAX_COMPILATION_CACHE_DIR",
  os.path.join(tempfile.gettempdir(), f"xaijax-tests-jax-cache-{os.getuid()}"),
)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

REPO = pathlib.Path(__file__).resolve().parents[1]
# The real samples sit beside the repository (../shared/data, see its
# MANIFEST.md); XAIJAX_SHARED_DATA points elsewhere.
SHARED_DATA = pathlib.Path(
  os.environ.get("XAIJAX_SHARED_DATA", REPO.parent / "shared" / "data")
)


def in_ci() -> bool:
  """Whether the suite runs in CI (CI=true or CI=1, as CI services set it)."""
  return os.environ.get("CI", "").strip().lower() in ("true", "1")


@pytest.fixture(scope="session")
def torchvision():
  """torchvision, importable on the CPU torch build (see torch_interop)."""
  from xaijax.models.torch_interop import import_torchvision

  return import_torchvision()


def missing_shared_data(path: pathlib.Path) -> None:
  """Skips the test for want of the real samples at `path`, or fails it in
  CI (CI=true): CI must not pass by skipping the real-data tests."""
  message = (
    f"Real data samples not found at {path}: they live in the shared/ "
    "folder beside the repository (see shared/data/MANIFEST.md), or set "
    "XAIJAX_SHARED_DATA to their location."
  )
  if in_ci():
    pytest.fail(f"{message} CI is set, so this is a failure, not a skip.")
  pytest.skip(message)


@pytest.fixture(scope="session")
def shared_data() -> pathlib.Path:
  """The real medical image samples beside the repo (see
  `missing_shared_data` for when they are absent)."""
  if not SHARED_DATA.is_dir():
    missing_shared_data(SHARED_DATA)
  return SHARED_DATA


@pytest.fixture(scope="session")
def run_on_cpu_devices():
  """run(code, devices=4): runs Python `code` in a subprocess with that many
  simulated CPU devices (the count is fixed when jax starts) and fails with
  its stderr unless it exits 0 and prints 'ok'. The repository is on its
  path, so `code` may import the test helpers (`from tests import ...`)."""

  def run(code: str, devices: int = 4, timeout: int = 600) -> None:
    env = {
      **os.environ,
      "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
      "JAX_PLATFORMS": "cpu",
      # `from tests import rounding` (and the other test helpers) there too.
      "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]
      ),
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


def pytest_collection_modifyitems(items):
  """Long tests first (stable order otherwise): xdist hands tests out in
  collection order, and a long test collected last keeps one worker busy
  while the other idles."""
  items.sort(key=lambda item: item.get_closest_marker("long") is None)
