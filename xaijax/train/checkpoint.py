# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Orbax checkpoints: the latest N train states plus the best model.

Two managers under the workdir: `checkpoints/` keeps the last `keep` full
train states for exact resume; `best/` keeps the variables (params and
batch_stats) with the best validation metric. Saves are asynchronous and
atomic (orbax writes to a temporary folder and renames it), so a process
killed mid-save leaves the previous checkpoint intact.

Several processes save asynchronously too. Each manager's background
thread meets the other processes at a coordination-service barrier named
after the step's folder (`async_write_complete.<step>`, orbax 0.12.8), so
two managers saving the same step, as `checkpoints/` and `best/` do at every
validation that improves, would ask for one barrier twice: the second
fails ("Barrier ... is already ongoing") and the other processes wait until
the timeout, which looked like a hang at the final step. Each manager's
barriers therefore carry its own prefix. And orbax's first barrier is a
device collective: on CPU it opens the gloo context, which waits only 30 s
for the other processes ("GetKeyValue() timed out with key: cpu:gloo/..."),
less than a loaded host may need to start, load its data and compile; the
processes first meet at a coordination-service barrier that waits longer.
"""

import itertools
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


# Seconds the processes of a run may take to all reach its checkpoints.
ARRIVAL_TIMEOUT_S = 600
# Every process creates the same `Checkpoints` in the same order, so the
# n-th creation has the same barrier name on all of them.
_arrivals = itertools.count()


def _wait_for_every_process() -> None:
  """Returns when every process has reached this point (no-op alone)."""
  if jax.process_count() == 1:
    return
  sync = ocp.multihost.get_barrier_sync_fn()
  sync(
    key=f"xaijax_checkpoints_{next(_arrivals)}",
    timeout_ms=ARRIVAL_TIMEOUT_S * 1000,
  )


def _barriers(prefix: str) -> ocp.options.MultiprocessingOptions:
  """Orbax's defaults (process 0 is the primary host), with barrier names
  that start with `prefix`, one per manager (see the module docstring)."""
  return ocp.options.MultiprocessingOptions(barrier_sync_key_prefix=prefix)


class Checkpoints:
  """The checkpoints of one run.

  Args:
    directory: the run's workdir.
    config: `config.checkpoint` (keep, async_save, best_metric, best_mode).
  """

  def __init__(self, directory: str, config: ml_collections.ConfigDict):
    root = pathlib.Path(directory).absolute()
    self._metric = config.best_metric
    _wait_for_every_process()
    self._latest = ocp.CheckpointManager(
      root / "checkpoints",
      options=ocp.CheckpointManagerOptions(
        max_to_keep=config.keep,
        enable_async_checkpointing=config.async_save,
        multiprocessing_options=_barriers("checkpoints"),
      ),
    )
    self._best = ocp.CheckpointManager(
      root / "best",
      options=ocp.CheckpointManagerOptions(
        max_to_keep=1,
        best_fn=lambda metrics: metrics[self._metric],
        best_mode=config.best_mode,
        keep_checkpoints_without_metrics=False,
        enable_async_checkpointing=config.async_save,
        multiprocessing_options=_barriers("best"),
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
