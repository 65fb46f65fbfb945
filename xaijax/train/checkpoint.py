# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Orbax checkpoints: the latest N train states plus the best model.

Two managers under the workdir: `checkpoints/` keeps the last `keep` full
train states for exact resume; `best/` keeps the variables (params and
batch_stats) with the best validation metric. Saves are asynchronous and
atomic (orbax writes to a temporary folder and renames it), so a process
killed mid-save leaves the previous checkpoint intact.
"""

import pathlib

import jax
import ml_collections
import orbax.checkpoint as ocp


def _abstract(tree, shardings):
  return jax.tree.map(
    lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
    tree,
    shardings,
  )


class Checkpoints:
  """The checkpoints of one run.

  Args:
    directory: the run's workdir.
    config: `config.checkpoint` (keep, async_save, best_metric, best_mode).
  """

  def __init__(self, directory: str, config: ml_collections.ConfigDict):
    root = pathlib.Path(directory).absolute()
    self._metric = config.best_metric
    # Asynchronous saves hung at the final step of 2-process CPU runs (gloo,
    # orbax 0.12.8): multi-process runs save synchronously.
    async_save = config.async_save and jax.process_count() == 1
    self._latest = ocp.CheckpointManager(
      root / "checkpoints",
      options=ocp.CheckpointManagerOptions(
        max_to_keep=config.keep,
        enable_async_checkpointing=async_save,
      ),
    )
    self._best = ocp.CheckpointManager(
      root / "best",
      options=ocp.CheckpointManagerOptions(
        max_to_keep=1,
        best_fn=lambda metrics: metrics[self._metric],
        best_mode=config.best_mode,
        keep_checkpoints_without_metrics=False,
        enable_async_checkpointing=async_save,
      ),
    )

  def latest_step(self) -> int | None:
    return self._latest.latest_step()

  def best_step(self) -> int | None:
    """The step of the best variables saved so far (pending saves count)."""
    return self._best.best_step()

  def save(self, step: int, state) -> None:
    self._latest.save(step, args=ocp.args.StandardSave(state))

  def save_best(self, step: int, variables: dict, metrics: dict) -> None:
    """Keeps `variables` if `metrics[best_metric]` beats the best so far."""
    if self._metric not in metrics:
      raise ValueError(
        f"config.checkpoint.best_metric='{self._metric}' is not a validation "
        f"metric; choose one of {', '.join(sorted(metrics))}."
      )
    scalars = {k: v for k, v in metrics.items() if isinstance(v, float | int)}
    self._best.save(
      step, args=ocp.args.StandardSave(variables), metrics=scalars
    )

  def restore(self, state, shardings):
    """The latest state, restored into `shardings` (structure of `state`)."""
    step = self._latest.latest_step()
    target = _abstract(state, shardings)
    return self._latest.restore(step, args=ocp.args.StandardRestore(target))

  def restore_best(self, variables: dict, shardings) -> dict | None:
    """The best variables, or None when no validation ran."""
    step = self._best.best_step()
    if step is None:
      return None
    target = _abstract(variables, shardings)
    return self._best.restore(step, args=ocp.args.StandardRestore(target))

  def restore_latest_variables(self, variables: dict, shardings) -> dict:
    """{'params', 'batch_stats'} of the latest train state (for runs that
    never validated, hence have no best variables)."""
    state = self._latest.restore(
      self._latest.latest_step(), args=ocp.args.StandardRestore()
    )
    kept = {k: state[k] for k in variables}
    return jax.tree.map(jax.device_put, kept, shardings)

  def wait(self) -> None:
    """Blocks until pending asynchronous saves are on disk."""
    self._latest.wait_until_finished()
    self._best.wait_until_finished()

  def close(self) -> None:
    self._latest.close()
    self._best.close()
