# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What a run writes besides checkpoints: metrics, run facts, predictions.

Only process 0 writes; the other processes of a multi-host run hold a
disabled writer so that every process runs the same code.
"""

import csv
import datetime
import json
import os
import pathlib
import platform
import sys
from collections.abc import Mapping, Sequence

import flax
import jax
import ml_collections
import numpy as np
import optax
import orbax.checkpoint as ocp
from absl import logging


def jsonable(value):
  """Numpy/JAX scalars and arrays -> plain Python for `json.dump`."""
  if isinstance(value, Mapping):
    return {str(k): jsonable(v) for k, v in value.items()}
  if isinstance(value, list | tuple):
    return [jsonable(v) for v in value]
  if isinstance(value, np.ndarray | jax.Array):
    return np.asarray(value).tolist()
  if isinstance(value, np.generic):
    return value.item()
  return value


def write_json(path: pathlib.Path, value) -> None:
  """Writes atomically (temp file + rename): readers never see half a file."""
  tmp = path.with_suffix(path.suffix + ".tmp")
  tmp.write_text(json.dumps(jsonable(value), indent=2) + "\n")
  tmp.replace(path)


class MetricWriter:
  """Scalars to `metrics.jsonl` (one JSON object per line) and TensorBoard.

  Args:
    workdir: the run's folder.
    enabled: False on processes other than 0.
    resume_step: the step a resumed run restarts from: records of later
      steps (logged before a kill, after the last checkpoint) are dropped,
      since the resumed run logs those steps again; each step is then
      logged once. None keeps every record.
  """

  def __init__(
    self,
    workdir: pathlib.Path,
    enabled: bool,
    resume_step: int | None = None,
  ):
    self._jsonl = None
    self._tensorboard = None
    if not enabled:
      return
    path = workdir / "metrics.jsonl"
    if resume_step is not None and path.exists():
      # A line without its newline is one a kill cut short.
      kept = [
        line
        for line in path.read_text().splitlines(keepends=True)
        if line.endswith("\n") and json.loads(line)["step"] <= resume_step
      ]
      path.write_text("".join(kept))
    self._jsonl = open(path, "a")  # noqa: SIM115
    try:
      import tensorboardX
    except ImportError:
      logging.info("tensorboardX is not installed: no TensorBoard events.")
    else:
      self._tensorboard = tensorboardX.SummaryWriter(str(workdir / "tb"))

  def write(self, step: int, split: str, scalars: Mapping[str, float]):
    """Logs `scalars` of `split` ('train', 'val', 'test') at `step`."""
    if self._jsonl is None:
      return
    record = {"step": step, "split": split, **jsonable(dict(scalars))}
    self._jsonl.write(json.dumps(record) + "\n")
    self._jsonl.flush()
    if self._tensorboard is not None:
      for name, value in scalars.items():
        self._tensorboard.add_scalar(f"{split}/{name}", value, step)

  def close(self) -> None:
    if self._jsonl is not None:
      self._jsonl.close()
    if self._tensorboard is not None:
      self._tensorboard.close()


def write_run_info(
  workdir: pathlib.Path, config: ml_collections.ConfigDict
) -> None:
  """`config.json` and `run_info.json` (seed, versions, devices, host)."""
  (workdir / "config.json").write_text(config.to_json_best_effort(indent=2))
  devices = jax.devices()
  write_json(
    workdir / "run_info.json",
    {
      "seed": config.seed,
      "fold": config.data.fold,
      "started": datetime.datetime.now(datetime.UTC).isoformat(),
      "command": sys.argv,
      "host": platform.node(),
      "python": platform.python_version(),
      "versions": {
        "jax": jax.__version__,
        "flax": flax.__version__,
        "optax": optax.__version__,
        "orbax": getattr(ocp, "__version__", "unknown"),
        "numpy": np.__version__,
      },
      "backend": jax.default_backend(),
      "process_count": jax.process_count(),
      "device_count": jax.device_count(),
      "devices": [str(d) for d in devices],
      "device_kind": devices[0].device_kind,
      "xla_flags": os.environ.get("XLA_FLAGS", ""),
    },
  )


def write_predictions(
  path: pathlib.Path,
  ids: Sequence[str],
  labels: np.ndarray,
  probs: np.ndarray,
  class_names: Sequence[str],
) -> None:
  """Per-image CSV: id, label, pred, then one probability column per class.

  Args:
    path: the CSV file.
    ids: N image ids (file paths or synthetic ids).
    labels: (N,) true classes.
    probs: (N, K) predicted probabilities.
    class_names: K names, used in the column headers `prob_<name>`.
  """
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(
      ["id", "label", "pred", *(f"prob_{c}" for c in class_names)]
    )
    for i, label, p in zip(ids, labels, probs, strict=True):
      writer.writerow(
        [i, int(label), int(p.argmax()), *(f"{v:.6g}" for v in p)]
      )
