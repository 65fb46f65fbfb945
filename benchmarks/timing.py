# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What every benchmark shares: timing a call, and describing the machine."""

import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib import metadata

PACKAGES = ("jax", "jaxlib", "flax", "torch", "torchvision", "grad-cam")


def time_calls(fn: Callable[[], object], repeats: int) -> dict:
  """Seconds per call of `fn` (which must block until its result is ready).

  The first call (compilation, caches) is timed apart; then `repeats` calls.
  """
  start = time.perf_counter()
  fn()
  first = time.perf_counter() - start
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    fn()
    times.append(time.perf_counter() - start)
  return {
    "first_s": first,
    "median_s": statistics.median(times),
    "min_s": min(times),
    "max_s": max(times),
    "runs": repeats,
  }


def versions() -> dict[str, str | None]:
  found = {"python": platform.python_version()}
  for name in PACKAGES:
    try:
      found[name] = metadata.version(name)
    except metadata.PackageNotFoundError:
      found[name] = None
  return found


def machine() -> dict:
  """The machine, its load and accelerators, and the package versions."""
  import jax

  return {
    "platform": platform.platform(),
    "processor": platform.processor() or platform.machine(),
    "cpu_count": os.cpu_count(),
    "load_average": os.getloadavg(),
    "jax_backend": jax.default_backend(),
    "jax_devices": [str(d) for d in jax.devices()],
    "versions": versions(),
  }
