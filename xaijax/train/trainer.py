# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The run: train -> validate -> test -> downstream explain/score/report.

`run(config, workdir)` is what `launch.py` calls. A run resumes from the
latest checkpoint in `workdir`; a finished run (one with `results.json`) is
not redone. `config.repeats` runs the same config over several seeds and/or
folds into `workdir/seed_S[_fold_F]/` and collects their test metrics.
"""

import functools
import itertools
import json
import math
import pathlib
import time

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import tqdm
from absl import logging

import xaijax.data
from xaijax import models, report
from xaijax.evaluate.classification import classification_metrics
from xaijax.report import pipeline
from xaijax.train import logs, optim, sharding, steps
from xaijax.train.checkpoint import Checkpoints

RESULTS = "results.json"
SCALARS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc")
PREDICTIONS = "predictions_test.csv"


def num_train_steps(config: ml_collections.ConfigDict, num_train: int) -> int:
  """`config.total_steps` if set, else `num_epochs` over `num_train` images."""
  if config.total_steps > 0:
    return config.total_steps
  return max(1, math.ceil(config.num_epochs * num_train / config.batch_size))


def _check_batch_size(name: str, batch_size: int) -> None:
  devices, processes = jax.device_count(), jax.process_count()
  if batch_size % devices or batch_size % processes:
    raise ValueError(
      f"config.{name}={batch_size} must be divisible by the number of "
      f"devices ({devices}) and processes ({processes}); pick a multiple."
    )


def _create_module(config: ml_collections.ConfigDict, num_classes: int, dtype):
  return models.create(
    config.model.name, num_classes, tiny=config.model.tiny, dtype=dtype
  )


def init_state(config, module, num_classes, mesh, total_steps):
  """The step-0 train state, born sharded, and its optimizer.

  Args:
    config: the run config.
    module: the model.
    num_classes: K.
    mesh: the device mesh.
    total_steps: the run's length (for the schedule).

  Returns:
    (state, state_shardings, schedule, tx).
  """
  size = config.data.image_size
  dummy = jnp.zeros((1, size, size, 3), jnp.float32)
  # Keys are made inside the jitted functions from the int seed: every
  # process then builds the same replicated values without host transfers.
  seed = config.seed

  def variables_fn():
    return module.init(jax.random.PRNGKey(seed), dummy, train=False)

  abstract_vars = jax.eval_shape(variables_fn)
  tx, schedule = optim.make_optimizer(
    config, abstract_vars["params"], total_steps
  )

  def state_fn(variables):
    rng = jax.random.fold_in(jax.random.PRNGKey(seed), 1)
    return steps.create_state(variables, rng, tx)

  abstract_state = jax.eval_shape(state_fn, abstract_vars)
  shardings = sharding.state_shardings(
    abstract_state,
    mesh,
    config.sharding.params,
    config.sharding.min_shard_size,
  )
  if config.init.torchvision:
    host = models.from_torchvision(
      config.model.name,
      config.init.torchvision,
      num_classes,
      key=jax.random.PRNGKey(seed),
      tiny=config.model.tiny,
    )
    var_shardings = {k: getattr(shardings, k) for k in host}
    variables = sharding.put_global(host, var_shardings)
    state = jax.jit(state_fn, out_shardings=shardings)(variables)
  else:
    state = jax.jit(lambda: state_fn(variables_fn()), out_shardings=shardings)()
  return state, shardings, schedule, tx


def evaluate(
  eval_fn, variables, split, config, data, mesh
) -> tuple[np.ndarray, np.ndarray]:
  """Probabilities for every image of `split`, in split order.

  Args:
    eval_fn: jitted `steps.eval_step` with the module bound.
    variables: {'params', 'batch_stats'} (global arrays).
    split: a data split.
    config: the run config (`eval_batch_size`).
    data: the data module.
    mesh: the device mesh the batches are sharded over.

  Returns:
    labels (N,) int32 and probs (N, K) float32.
  """
  probs, labels = None, np.asarray(split.labels)
  seen = np.zeros(len(split), bool)
  for batch in data.eval_batches(
    split,
    batch_size=config.eval_batch_size,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  ):
    keys = ("image", "label", "valid", "index")
    batch = data.to_global({k: batch[k] for k in keys}, mesh)
    out = jax.device_get(eval_fn(variables, batch))
    valid = out["valid"]
    if probs is None:
      probs = np.zeros((len(split), out["probs"].shape[1]), np.float32)
    probs[out["index"][valid]] = out["probs"][valid]
    seen[out["index"][valid]] = True
  if not seen.all():
    raise RuntimeError(
      f"eval_batches skipped {int((~seen).sum())} of {len(split)} images."
    )
  return labels, probs


def _finite_or_raise(records, ckpts: Checkpoints, workdir) -> None:
  """Raises at the first non-finite loss in [(step, metrics), ...]."""
  for step, metrics in records:
    loss = float(metrics["loss"])
    if math.isfinite(loss):
      continue
    ckpts.wait()  # the last good checkpoint must be on disk before we stop
    last_good = ckpts.latest_step()
    where = (
      f"the last good checkpoint is step {last_good} in {workdir}/checkpoints"
      if last_good is not None
      else "no checkpoint was saved yet"
    )
    raise FloatingPointError(
      f"Non-finite training loss ({loss}) at step {step}; training stopped "
      f"and {where}. Lower config.optimizer.learning_rate or set "
      "config.optimizer.grad_clip_norm, then rerun on the same workdir."
    )


def train_and_evaluate(
  config: ml_collections.ConfigDict, workdir: str, *, data=None
) -> dict:
  """One run (one seed, one fold): train, validate, test, downstream.

  Args:
    config: the run config (see configs/base.py).
    workdir: the run's folder; it receives config.json, run_info.json,
      metrics.jsonl, tb/, checkpoints/, best/, predictions_test.csv and
      results.json (written last: its presence marks the run finished).
    data: the data module (default `xaijax.data`); tests pass a fake that
      follows the same contract.

  Returns:
    The contents of results.json: {'steps', 'seed', 'fold', 'val', 'test',
    'train_seconds'}.
  """
  data = data or xaijax.data
  workdir = pathlib.Path(workdir)
  if (workdir / RESULTS).exists():
    logging.info("%s is finished (%s exists): not redone.", workdir, RESULTS)
    return json.loads((workdir / RESULTS).read_text())
  is_main = jax.process_index() == 0
  if is_main:
    workdir.mkdir(parents=True, exist_ok=True)
    logs.write_run_info(workdir, config)
  _check_batch_size("batch_size", config.batch_size)
  _check_batch_size("eval_batch_size", config.eval_batch_size)

  dataset = data.load(config.data, workdir=str(workdir) if is_main else None)
  mesh = sharding.make_mesh()
  batch_sharding = sharding.batch_sharding(mesh)
  replicated = sharding.replicated(mesh)
  dtype = jnp.dtype(config.model.dtype)
  module = _create_module(config, dataset.num_classes, dtype)
  total = num_train_steps(config, len(dataset.train))
  state, shardings, schedule, tx = init_state(
    config, module, dataset.num_classes, mesh, total
  )

  class_weights = (
    jnp.asarray(dataset.class_weights()) if config.loss.class_weights else None
  )
  loss_fn = steps.make_loss_fn(config.loss.label_smoothing, class_weights)
  train_fn = jax.jit(
    functools.partial(
      steps.train_step,
      module=module,
      tx=tx,
      loss_fn=loss_fn,
      schedule=schedule,
    ),
    in_shardings=(shardings, batch_sharding),
    out_shardings=(shardings, replicated),
    donate_argnums=0,
  )
  eval_module = _create_module(config, dataset.num_classes, jnp.float32)
  eval_fn = jax.jit(
    functools.partial(steps.eval_step, module=eval_module),
    out_shardings=replicated,
  )
  evaluate_split = functools.partial(
    evaluate, eval_fn, config=config, data=data, mesh=mesh
  )

  ckpts = Checkpoints(str(workdir), config.checkpoint)
  start = ckpts.latest_step() or 0
  if start:
    state = ckpts.restore(state, shardings)
    logging.info("Resumed %s at step %d of %d.", workdir, start, total)
  writer = logs.MetricWriter(workdir, is_main)
  val_metrics = {}
  batches = data.train_batches(
    dataset.train,
    batch_size=config.batch_size,
    seed=config.seed,
    start_step=start,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )
  bar = tqdm.tqdm(
    total=total,
    initial=start,
    unit="step",
    disable=not (is_main and config.progress),
    dynamic_ncols=True,
  )
  pending, tick, tick_step = [], time.perf_counter(), start
  train_start = time.perf_counter()
  for step in range(start + 1, total + 1):
    batch = next(batches)
    batch = data.to_global({k: batch[k] for k in ("image", "label")}, mesh)
    state, metrics = train_fn(state, batch)
    pending.append((step, metrics))
    is_last = step == total
    validate = len(dataset.val) > 0 and (
      step % config.eval_every_steps == 0 or is_last
    )
    save = step % config.checkpoint.every_steps == 0 or is_last
    if step % config.log_every_steps == 0 or validate or save:
      records = jax.device_get(pending)
      _finite_or_raise(records, ckpts, workdir)
      pending = []
      now = time.perf_counter()
      images_per_s = (step - tick_step) * config.batch_size / (now - tick)
      tick, tick_step = now, step
      for s, m in records:
        writer.write(s, "train", m)
      writer.write(step, "train", {"images_per_second": images_per_s})
      bar.set_postfix(
        loss=f"{float(records[-1][1]['loss']):.4f}",
        img_s=f"{images_per_s:.1f}",
      )
    bar.update(1)
    if validate:
      labels, probs = evaluate_split(state.variables, dataset.val)
      val_metrics = classification_metrics(labels, probs)
      writer.write(step, "val", {k: val_metrics[k] for k in SCALARS})
      ckpts.save_best(step, state.variables, val_metrics)
      logging.info(
        "step %d: val %s",
        step,
        {k: round(val_metrics[k], 4) for k in SCALARS},
      )
    if save:
      ckpts.save(step, state)
  bar.close()
  train_seconds = time.perf_counter() - train_start
  ckpts.wait()

  var_shardings = steps.TrainState.variables.fget(shardings)
  variables = ckpts.restore_best(state.variables, var_shardings)
  variables = variables or state.variables
  ckpts.close()
  results = {
    "steps": total,
    "seed": config.seed,
    "fold": config.data.fold,
    "train_seconds": train_seconds,
    "val": val_metrics,
  }
  if len(dataset.test):
    labels, probs = evaluate_split(variables, dataset.test)
    results["test"] = classification_metrics(labels, probs)
    writer.write(total, "test", {k: results["test"][k] for k in SCALARS})
    logging.info("test: %s", {k: round(results["test"][k], 4) for k in SCALARS})
    if is_main:
      logs.write_predictions(
        workdir / PREDICTIONS,
        dataset.test.ids,
        labels,
        probs,
        dataset.class_names,
      )
  writer.close()
  if config.xai.enabled:
    pipeline.run(config, str(workdir), eval_module, variables, dataset)
  if is_main:
    logs.write_json(workdir / RESULTS, results)
  return logs.jsonable(results)


def repeat_configs(config) -> list[tuple[str, ml_collections.ConfigDict]]:
  """(subfolder, config) for each model x seed x fold of `config.repeats`."""
  rep = config.repeats
  runs = []
  for model, seed, fold in itertools.product(
    rep.models or (config.model.name,),
    rep.seeds or (config.seed,),
    rep.folds or (config.data.fold,),
  ):
    parts = (
      ([model] if rep.models else [])
      + ([f"seed_{seed}"] if rep.seeds else [])
      + ([f"fold_{fold}"] if rep.folds else [])
    )
    sub = config.copy_and_resolve_references()
    with sub.unlocked():
      sub.model.name = model
      sub.seed = seed
      sub.data.fold = fold
      sub.repeats.models = ()
      sub.repeats.seeds = ()
      sub.repeats.folds = ()
    runs.append(("_".join(parts), sub))
  return runs


def run(config: ml_collections.ConfigDict, workdir: str, *, data=None) -> dict:
  """Everything `launch.py` does for a config: one run or its repeats.

  With `config.repeats.models`, `.seeds` and/or `.folds` set, each
  combination runs in its own subfolder (`seed_S`, `vgg16_seed_S_fold_F`,
  ...), `workdir/repeats.json` and `runs.csv` collect one row of test
  metrics per run (model, dataset, seed, fold, ...), and `report/` gets the
  models table with paired t-tests over the runs.

  Args:
    config: the run config.
    workdir: output folder.
    data: the data module (default `xaijax.data`).

  Returns:
    The single run's results, or {'runs': [row, ...]} for repeats.
  """
  sharding.initialize_distributed(config)
  rep = config.repeats
  if not (rep.models or rep.seeds or rep.folds):
    return train_and_evaluate(config, workdir, data=data)
  workdir = pathlib.Path(workdir)
  rows, per_image = [], []
  for name, sub in repeat_configs(config):
    results = train_and_evaluate(sub, str(workdir / name), data=data)
    test = results.get("test", {})
    row = {
      "run": name,
      "model": sub.model.name,
      "dataset": sub.data.name,
      "seed": sub.seed,
      "fold": sub.data.fold,
      **{k: test.get(k, float("nan")) for k in SCALARS},
    }
    rows.append(row)
    per_image += report.build.model_image_records(
      str(workdir / name / PREDICTIONS), row
    )
  if jax.process_index() == 0:
    logs.write_json(workdir / "repeats.json", {"runs": rows})
    # Rewritten whole on every call: `rows` and `per_image` hold every run.
    for filename, records in (
      (report.build.RUNS_CSV, rows),
      (report.build.MODEL_IMAGES_CSV, per_image),
    ):
      (workdir / filename).unlink(missing_ok=True)
      report.append_records(str(workdir / filename), records)
    report.write_report(str(workdir))
  return {"runs": rows}
