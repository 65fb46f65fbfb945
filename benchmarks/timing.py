# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What every benchmark shares: timing a call, the two frameworks' devices
and dtypes, and describing the machine.

A JAX/torch ratio means something only when both ran on the same kind of
device in the same precision: `Side` records where and how each framework
ran, and `refusal` says why two sides may not be compared (the scripts then
print the reason instead of the ratio). One statistic everywhere: the median
of the timed calls, with their min-max spread.
"""

import contextlib
import dataclasses
import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib import metadata

PACKAGES = ("jax", "jaxlib", "flax", "torch", "torchvision", "grad-cam")
DTYPES = ("float32", "bfloat16")
# JAX platform -> the torch device type on the same hardware. TPUs have none
# (torch_xla is not a baseline here): a TPU run has no torch ratio.
TORCH_DEVICE_OF = {"cpu": "cpu", "gpu": "cuda"}


def time_calls(fn: Callable[[], object], repeats: int) -> dict:
  """Seconds per call of `fn` (which must block until its result is ready:
  `jax.block_until_ready`, or `torch.cuda.synchronize()` for torch on a GPU).

  The first call (compilation, caches, cuDNN's algorithm search) is timed
  apart; then `repeats` calls.

  Returns:
    {first_s, median_s, min_s, max_s, runs}.
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


def spread(stats: dict, scale: float = 1e3, unit: str = "ms") -> str:
  """'12.3 ms (11.9-13.0)': the median and the min-max of `time_calls`,
  times `scale`, to 3 significant digits."""
  median, low, high = (stats[k] * scale for k in ("median_s", "min_s", "max_s"))
  return f"{median:.3g} {unit} ({low:.3g}-{high:.3g})"


@dataclasses.dataclass(frozen=True)
class Side:
  """Where and how one framework ran.

  Attributes:
    framework: 'jax' or 'torch'.
    device: the hardware kind, 'cpu', 'gpu' or 'tpu' (torch's 'cuda' is
      'gpu').
    dtype: the compute dtype: 'float32', or 'bfloat16' (JAX: the model's
      compute dtype, float32 parameters; torch: autocast to bfloat16, float32
      parameters).
  """

  framework: str
  device: str
  dtype: str


def jax_side(dtype: str) -> Side:
  import jax

  return Side("jax", jax.default_backend(), dtype)


def default_torch_device() -> str:
  """The torch device on the hardware JAX uses ('cpu' where torch has no
  counterpart, e.g. on a TPU: the ratio is then refused)."""
  import jax

  return TORCH_DEVICE_OF.get(jax.default_backend(), "cpu")


def torch_side(device: str, dtype: str) -> Side:
  kind = device.split(":")[0]
  return Side("torch", "gpu" if kind == "cuda" else kind, dtype)


def refusal(a: Side, b: Side) -> str | None:
  """Why a ratio of `a` and `b` would be unfair, or None when it is fair."""
  if a.device != b.device:
    return (
      f"no ratio: {a.framework} ran on {a.device}, {b.framework} on {b.device}"
    )
  if a.dtype != b.dtype:
    return (
      f"no ratio: {a.framework} computed in {a.dtype}, {b.framework} in "
      f"{b.dtype}"
    )
  return None


def check_torch_device(device: str):
  """The torch.device for `device`; exits with a message when torch cannot
  use it (e.g. 'cuda' with a CPU build of torch)."""
  import torch

  if device.startswith("cuda") and not torch.cuda.is_available():
    raise SystemExit(
      f"--torch_device={device}, but torch {torch.__version__} sees no CUDA "
      "device; pass --torch_device=cpu (JAX/torch ratios are then refused "
      "unless JAX also runs on the CPU)."
    )
  return torch.device(device)


def torch_sync(device) -> Callable[[], None]:
  """What a timed torch call ends with: wait for the device's queue (CUDA
  kernels run asynchronously), or nothing on the CPU."""
  import torch

  if torch.device(device).type == "cuda":
    return torch.cuda.synchronize
  return lambda: None


def torch_autocast(device, dtype: str):
  """torch's mixed precision: autocast to bfloat16 (float32 parameters,
  matmuls and convolutions in bfloat16), or nothing for float32."""
  import torch

  if dtype == "float32":
    return contextlib.nullcontext()
  return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)


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
