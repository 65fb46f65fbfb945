# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The training run: train -> validate -> test, ending at the model.

`run(config, workdir)` is what `launch.py` calls for a training config. A run
resumes from the latest checkpoint in `workdir`; a finished run (one with
`results.json`) is not redone. `config.repeats` runs the same config over
several models, seeds and/or folds into `workdir/<model>_seed_S_fold_F/`.
What the models are asked afterwards (explanations, scores, paired tests,
reports) is a study over the saved runs: `xaijax.study`.

A run's folder is its contract with the studies (and with the PyTorch
baseline, which writes the same files): `config.json`, `run_info.json`,
`metrics.jsonl`, `checkpoints/` (latest states), `best/` (the variables with
the best validation metric), `predictions_test.csv` and `results.json`
(written last; see `train_and_evaluate`).
"""

import functools
import itertools
import json
import math
import pathlib
import time
from collections.abc import Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import xaijax.data
from xaijax import console, models
from xaijax.evaluate.classification import classification_metrics
from xaijax.train import logs, optim, sharding, steps
from xaijax.train.checkpoint import Checkpoints

RESULTS = "results.json"
REPEATS = "repeats.json"
SCALARS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc")
PREDICTIONS = "predictions_test.csv"
TRAIN_TIME = "train_time.json"


def num_train_steps(config: ml_collections.ConfigDict, num_train: int) -> int:
  """`config.total_steps` if set, else `num_epochs` over `num_train` images."""
  if config.total_steps > 0:
    return config.total_steps
  return max(1, math.ceil(config.num_epochs * num_train / config.batch_size))


def create_module(config: ml_collections.ConfigDict, num_classes: int, dtype):
  """The run's model with a `num_classes` head, computing in `dtype`."""
  return models.create(
    config.model.name, num_classes, tiny=config.model.tiny, dtype=dtype
  )


def init_path(config: ml_collections.ConfigDict) -> str:
  """`config.init.torchvision` with `{model}` replaced by the model name, so
  one template (`/weights/{model}.pth`) serves a repeat over models."""
  return config.init.torchvision.replace("{model}", config.model.name)


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
      init_path(config),
      num_classes,
      key=jax.random.PRNGKey(seed),
      image_size=size,  # a ViT's position embedding is sized by it
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


class _TrainClock:
  """Training seconds summed over the sessions of a run (resumes included).

  Process 0 records the running total at every checkpoint in
  `workdir/train_time.json` ({step: seconds}); a resumed session starts from
  the total of the step it resumes at.
  """

  def __init__(self, workdir: pathlib.Path, start: int, enabled: bool):
    self._path = workdir / TRAIN_TIME
    self._enabled = enabled
    recorded = json.loads(self._path.read_text()) if self._path.exists() else {}
    self._recorded = {int(k): v for k, v in recorded.items() if int(k) <= start}
    self._base = self._recorded.get(start, 0.0)
    self._since = time.perf_counter()

  def seconds(self) -> float:
    return self._base + time.perf_counter() - self._since

  def record(self, step: int) -> None:
    if self._enabled:
      self._recorded[step] = self.seconds()
      logs.write_json(self._path, self._recorded)


def _val_history(workdir: pathlib.Path, metric: str, upto: int) -> list:
  """[(step, value)] of `metric` on validation up to step `upto`, from
  metrics.jsonl (what a resumed run has already measured)."""
  path = workdir / "metrics.jsonl"
  if not path.exists():
    return []
  history = []
  for line in path.read_text().splitlines():
    record = json.loads(line) if line.strip() else {}
    if record.get("split") == "val" and record["step"] <= upto:
      history.append((record["step"], record[metric]))
  return history


def _last_improvement(config, history) -> int | None:
  """The step of the first evaluation reaching the best value: a later tie
  is not an improvement."""
  best_step, best = None, None
  sign = 1.0 if config.checkpoint.best_mode == "max" else -1.0
  for step, value in history:
    if best is None or sign * value > sign * best:
      best_step, best = step, value
  return best_step


def _stops_early(config, step: int, history) -> bool:
  """Whether validation (`checkpoint.best_metric`) has not improved for
  `early_stopping.patience` evaluations."""
  patience = config.early_stopping.patience
  last = _last_improvement(config, history)
  if patience <= 0 or last is None:
    return False
  return step - last >= patience * config.eval_every_steps


def _metrics_line(split: str, step: int, metrics: Mapping) -> str:
  values = ", ".join(f"{k} {metrics[k]:.4f}" for k in SCALARS)
  return f"{split} (step {step}): {values}"


def train_and_evaluate(
  config: ml_collections.ConfigDict, workdir: str, *, data=None
) -> dict:
  """One run (one model, seed and fold): train, validate, test.

  Training runs to `total_steps` (or `num_epochs`), or stops early when the
  validation metric `checkpoint.best_metric` has not improved for
  `early_stopping.patience` evaluations. The model tested is the best one on
  validation (the last one when there is no validation split).

  Args:
    config: the run config (see configs/base.py).
    workdir: the run's folder; it receives config.json, run_info.json,
      metrics.jsonl, tb/, checkpoints/, best/, train_time.json,
      predictions_test.csv and results.json (written last: its presence marks
      the run finished).
    data: the data module (default `xaijax.data`); tests pass a fake that
      follows the same contract.

  Returns:
    The contents of results.json: framework, model, dataset, class_names,
    seed, fold, steps (trained), max_steps, best_step, stopped_early,
    train_seconds, val and test (`classification_metrics` of the tested
    model).
  """
  data = data or xaijax.data
  workdir = pathlib.Path(workdir)
  if (workdir / RESULTS).exists():
    console.say(f"{workdir} is finished ({RESULTS} exists): not retrained.")
    return json.loads((workdir / RESULTS).read_text())
  is_main = jax.process_index() == 0
  if is_main:
    workdir.mkdir(parents=True, exist_ok=True)
    logs.write_run_info(workdir, config)

  dataset = data.load(config.data, workdir=str(workdir) if is_main else None)
  mesh = sharding.make_mesh()
  batch_sharding = sharding.batch_sharding(mesh)
  replicated = sharding.replicated(mesh)
  dtype = jnp.dtype(config.model.dtype)
  module = create_module(config, dataset.num_classes, dtype)
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
  eval_module = create_module(config, dataset.num_classes, jnp.float32)
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
    console.say(f"Resumed {workdir} at step {start} of {total}.")
  clock = _TrainClock(workdir, start, is_main)
  writer = logs.MetricWriter(workdir, is_main, resume_step=start)
  metric = config.checkpoint.best_metric
  # Every process reads it: a multi-host workdir is on shared storage.
  history = _val_history(workdir, metric, start)
  stopped_early = _stops_early(config, start, history)
  last = start
  batches = data.train_batches(
    dataset.train,
    batch_size=config.batch_size,
    seed=config.seed,
    start_step=start,
    process_index=jax.process_index(),
    process_count=jax.process_count(),
  )
  bar = console.progress(
    total, start, unit="step", enabled=config.progress and not stopped_early
  )
  pending, tick, tick_step = [], time.perf_counter(), start
  for step in range(start + 1, total + 1):
    if stopped_early:
      break
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
    last = step
    if validate:
      labels, probs = evaluate_split(state.variables, dataset.val)
      val_metrics = classification_metrics(labels, probs)
      writer.write(step, "val", {k: val_metrics[k] for k in SCALARS})
      ckpts.save_best(step, state.variables, val_metrics)
      console.say(_metrics_line("val", step, val_metrics))
      history.append((step, val_metrics[metric]))
      stopped_early = _stops_early(config, step, history)
      if stopped_early:
        console.say(
          f"Early stop at step {step}: validation {metric} has not improved "
          f"since step {_last_improvement(config, history)}."
        )
    if save or stopped_early:
      clock.record(step)
      ckpts.save(step, state)
  bar.close()
  ckpts.wait()
  train_seconds = clock.seconds()

  var_shardings = steps.TrainState.variables.fget(shardings)
  best = ckpts.restore_best(state.variables, var_shardings)
  variables = state.variables if best is None else best
  ckpts.close()
  results = {
    "framework": "jax",
    "model": config.model.name,
    "dataset": config.data.name,
    "class_names": list(dataset.class_names),
    "seed": config.seed,
    "fold": config.data.fold,
    "steps": last,
    "max_steps": total,
    "best_step": ckpts.best_step(),
    "stopped_early": stopped_early,
    "train_seconds": train_seconds,
  }
  for split, name in ((dataset.val, "val"), (dataset.test, "test")):
    if not len(split):
      continue
    labels, probs = evaluate_split(variables, split)
    results[name] = classification_metrics(labels, probs)
    writer.write(last, name, {k: results[name][k] for k in SCALARS})
    tested = f"best model of step {results['best_step']}" if best else "last"
    console.say(f"{_metrics_line(name, last, results[name])} ({tested})")
    if name == "test" and is_main:
      logs.write_predictions(
        workdir / PREDICTIONS,
        dataset.test.ids,
        labels,
        probs,
        dataset.class_names,
      )
  writer.close()
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
  """Everything `launch.py` does for a training config: one run or repeats.

  With `config.repeats.models`, `.seeds` and/or `.folds` set, each
  combination trains in its own subfolder (`seed_S`, `vgg16_seed_S_fold_F`,
  ...) and `workdir/repeats.json` lists them with their test metrics; a
  study pointed at `workdir` reads every one of them.

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
  rows = []
  for name, sub in repeat_configs(config):
    console.say(f"Run {name}:")
    results = train_and_evaluate(sub, str(workdir / name), data=data)
    test = results.get("test", {})
    rows.append(
      {
        "run": name,
        "model": sub.model.name,
        "dataset": sub.data.name,
        "seed": sub.seed,
        "fold": sub.data.fold,
        **{k: test.get(k, float("nan")) for k in SCALARS},
      }
    )
  if jax.process_index() == 0:
    logs.write_json(workdir / REPEATS, {"runs": rows})
  return {"runs": rows}
