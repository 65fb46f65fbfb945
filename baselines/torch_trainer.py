# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The PyTorch baseline: torchvision's model trained as xaijax trains it.

  python launch.py --config configs/resnet50_brain.py --workdir runs/t \\
    --config.framework=torch

reads the same config keys as `xaijax.train` (model, data, batch_size,
num_epochs/total_steps, optimizer, schedule, loss, init, freeze, seed,
eval_every_steps, checkpoint.best_metric/best_mode, early_stopping, repeats)
and the same data: `xaijax.data.load` recomputes the split and checks it
against the workdir's data_splits.json, and `xaijax.data.train_batches`
yields the same shuffled, preprocessed and augmented batches (NHWC, moved to
NCHW here). The optimizer and schedule are torch.optim's, configured as
xaijax's optax chain so that both follow the same trajectory
(docs/training.md, "Equivalence with PyTorch"). It writes what an xaijax run
writes for the studies to compare: config.json, run_info.json,
data_splits.json, metrics.jsonl, predictions_test.csv and results.json
(`framework: "torch"`), and model.pth, the tested model's state_dict. Not supported: resuming (a killed run starts again),
several processes, `model.dtype` other than float32, `sharding`.
"""

import copy
import datetime
import json
import math
import pathlib
import platform
import sys
import time

import flax
import ml_collections
import numpy as np

import xaijax.data
from baselines import torch_models
from xaijax import console
from xaijax.evaluate.classification import classification_metrics
from xaijax.models import registry, torchvision_port
from xaijax.train import logs, optim, trainer

torch = torch_models.torch
tv = torch_models.tv

FRAMEWORK = "torch"
MODEL_FILE = "model.pth"  # state_dict of the model tested


def _flax_path(name: str, param) -> str:
  """A torchvision parameter name as xaijax's '/'-joined parameter path."""
  module, leaf = name.rsplit(".", 1)
  if leaf != "bias":
    leaf = "kernel" if param.ndim > 1 else "scale"
  return f"{module.replace('.', '/')}/{leaf}"


def param_groups(model, config: ml_collections.ConfigDict) -> list[dict]:
  """torch.optim parameter groups with xaijax's rules.

  Frozen parameters (`config.freeze`, matched on xaijax's parameter paths
  by `xaijax.train.optim.frozen_mask`) get requires_grad=False and no group;
  `optimizer.weight_decay` applies to convolution and linear weights only
  (ndim > 1, xaijax's kernels), not to biases and BatchNorm scales.
  """
  named = dict(model.named_parameters())
  paths = {_flax_path(n, p): n for n, p in named.items()}
  if config.freeze:
    mask = flax.traverse_util.flatten_dict(
      optim.frozen_mask(
        config,
        flax.traverse_util.unflatten_dict(
          {p: named[n] for p, n in paths.items()}, sep="/"
        ),
      ),
      sep="/",
    )
    for path, name in paths.items():
      named[name].requires_grad_(not mask[path])
  trained = [p for p in named.values() if p.requires_grad]
  decay = config.optimizer.weight_decay
  return [
    {"params": [p for p in trained if p.ndim > 1], "weight_decay": decay},
    {"params": [p for p in trained if p.ndim <= 1], "weight_decay": 0.0},
  ]


def make_optimizer(config: ml_collections.ConfigDict, model, total_steps: int):
  """(torch optimizer, LR scheduler) equal to `optim.make_optimizer`.

  adam -> Adam (weight_decay: L2 added to the gradient, coupled), adamw ->
  AdamW (decoupled), sgd -> SGD(momentum, nesterov, dampening 0). The
  scheduler is stepped once after every optimizer step, so step k uses
  rate(k) as optax evaluates schedule(count): warmup LambdaLR(k / W) (torch's
  LinearLR cannot start at 0), then CosineAnnealingLR(T_max=T - W,
  eta_min=end_factor * peak) or a constant, joined by SequentialLR.
  """
  opt = config.optimizer
  if opt.name not in optim.OPTIMIZERS:
    raise ValueError(
      f"Unknown optimizer '{opt.name}'; use one of "
      f"{', '.join(optim.OPTIMIZERS)}."
    )
  groups = param_groups(model, config)
  peak = opt.learning_rate
  if opt.name == "sgd":
    optimizer = torch.optim.SGD(
      groups, lr=peak, momentum=opt.momentum, nesterov=opt.nesterov
    )
  else:
    kind = torch.optim.Adam if opt.name == "adam" else torch.optim.AdamW
    optimizer = kind(groups, lr=peak)

  sched = config.schedule
  if sched.name not in optim.SCHEDULES:
    raise ValueError(
      f"Unknown schedule '{sched.name}'; use one of "
      f"{', '.join(optim.SCHEDULES)}."
    )
  warmup = min(sched.warmup_steps, total_steps)
  lr_scheduler = torch.optim.lr_scheduler
  if sched.name == "constant":
    decay = lr_scheduler.ConstantLR(optimizer, factor=1.0, total_iters=0)
  else:
    decay = lr_scheduler.CosineAnnealingLR(
      optimizer,
      T_max=max(total_steps - warmup, 1),
      eta_min=sched.end_factor * peak,
    )
  if warmup == 0:
    return optimizer, decay
  ramp = lr_scheduler.LambdaLR(optimizer, lambda k: k / warmup)
  return optimizer, lr_scheduler.SequentialLR(
    optimizer, [ramp, decay], milestones=[warmup]
  )


def train_step(
  model, optimizer, scheduler, images, labels, loss_fn, grad_clip_norm
) -> dict[str, float]:
  """One step, as `xaijax.train.steps.train_step`.

  Args:
    model: the torch model (put in train mode here).
    optimizer, scheduler: from `make_optimizer`.
    images: (B, 3, H, W) float tensor; labels: (B,) int64 tensor.
    loss_fn: (logits, labels) -> loss tensor.
    grad_clip_norm: > 0 clips with torch.nn.utils.clip_grad_norm_.

  Returns:
    {loss, accuracy, grad_norm (before clipping), learning_rate (used)}.
  """
  model.train()
  optimizer.zero_grad()
  logits = model(images)
  loss = loss_fn(logits, labels)
  loss.backward()
  grads = [p.grad for p in model.parameters() if p.grad is not None]
  if grad_clip_norm > 0:
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip_norm)
  else:
    norm = torch.nn.utils.get_total_norm(grads)
  learning_rate = scheduler.get_last_lr()[0]
  optimizer.step()
  scheduler.step()
  return {
    "loss": loss.item(),
    "accuracy": (logits.argmax(-1) == labels).float().mean().item(),
    "grad_norm": norm.item(),
    "learning_rate": learning_rate,
  }


def _to_torch(images: np.ndarray, device) -> "torch.Tensor":
  """(B, H, W, 3) numpy -> (B, 3, H, W) float32 tensor on `device`."""
  return (
    torch.from_numpy(np.ascontiguousarray(images))
    .permute(0, 3, 1, 2)
    .to(device)
  )


@torch.no_grad()
def evaluate(
  model, split, num_classes: int, config, device
) -> tuple[np.ndarray, np.ndarray]:
  """labels (N,) and eval-mode softmax probabilities (N, K), split order,
  over `xaijax.data.eval_batches` (padded batches; `valid` masks them)."""
  model.eval()
  probs = np.zeros((len(split), num_classes), np.float32)
  for batch in xaijax.data.eval_batches(
    split,
    batch_size=config.eval_batch_size,
    process_index=0,
    process_count=1,
  ):
    valid = np.asarray(batch["valid"])
    logits = model(_to_torch(batch["image"], device))
    out = torch.softmax(logits.float(), -1).cpu().numpy()
    probs[np.asarray(batch["index"])[valid]] = out[valid]
  return np.asarray(split.labels), probs


def build_model(config: ml_collections.ConfigDict, num_classes: int):
  """The torchvision model, from `config.init.torchvision` when given (the
  head re-initialised when its class count differs, as xaijax does)."""
  torch.manual_seed(config.seed)
  model = torch_models.build(
    config.model.name, num_classes, tiny=config.model.tiny
  )
  path = trainer.init_path(config)
  if not path:
    return model
  weights = torchvision_port.load_state_dict(path)
  head = registry.spec(config.model.name).head
  own = model.state_dict()
  if weights[f"{head}.weight"].shape != tuple(own[f"{head}.weight"].shape):
    weights = {k: v for k, v in weights.items() if not k.startswith(head)}
  missing, unexpected = model.load_state_dict(
    {k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()},
    strict=False,
  )
  missing = [k for k in missing if not k.startswith(head)]
  if missing or unexpected:
    raise KeyError(
      f"{path} does not match torchvision {config.model.name}: missing "
      f"{missing}; unexpected {unexpected}."
    )
  return model


def _write_run_info(workdir: pathlib.Path, config, device) -> None:
  (workdir / "config.json").write_text(config.to_json_best_effort(indent=2))
  logs.write_json(
    workdir / "run_info.json",
    {
      "framework": FRAMEWORK,
      "seed": config.seed,
      "fold": config.data.fold,
      "started": datetime.datetime.now(datetime.UTC).isoformat(),
      "command": sys.argv,
      "host": platform.node(),
      "python": platform.python_version(),
      "versions": {
        "torch": torch.__version__,
        "torchvision": tv.__version__,
        "numpy": np.__version__,
      },
      "device": str(device),
      "threads": torch.get_num_threads(),
    },
  )


def _check_supported(config: ml_collections.ConfigDict) -> None:
  if config.model.dtype != "float32":
    raise ValueError(
      f"The torch baseline trains in float32; config.model.dtype="
      f"'{config.model.dtype}' is not supported."
    )
  if config.distributed.num_processes > 1 or config.distributed.auto:
    raise ValueError("The torch baseline runs in one process.")


def train_and_evaluate(
  config: ml_collections.ConfigDict, workdir: str, *, data=None
) -> dict:
  """One run: train, validate, test; the files of an xaijax run.

  Args:
    config: the run config (configs/base.py).
    workdir: the run's folder.
    data: the data module (default `xaijax.data`).

  Returns:
    results.json's contents: framework ("torch"), model, dataset,
    class_names, seed, fold, steps, max_steps, best_step, stopped_early,
    train_seconds, val and test (`classification_metrics` of the model
    with the best validation metric).
  """
  data = data or xaijax.data
  workdir = pathlib.Path(workdir)
  if (workdir / trainer.RESULTS).exists():
    console.say(f"{workdir} is finished ({trainer.RESULTS} exists).")
    return json.loads((workdir / trainer.RESULTS).read_text())
  _check_supported(config)
  workdir.mkdir(parents=True, exist_ok=True)
  device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
  _write_run_info(workdir, config, device)
  dataset = data.load(config.data, workdir=str(workdir))
  total = trainer.num_train_steps(config, len(dataset.train))
  model = build_model(config, dataset.num_classes).to(device)
  optimizer, scheduler = make_optimizer(config, model, total)
  weight = (
    torch.from_numpy(np.asarray(dataset.class_weights(), np.float32)).to(device)
    if config.loss.class_weights
    else None
  )

  def loss_fn(logits, labels):
    return torch.nn.functional.cross_entropy(
      logits,
      labels,
      weight=weight,
      label_smoothing=config.loss.label_smoothing,
    )

  writer = logs.MetricWriter(workdir, True)
  best_metric, best_mode = (
    config.checkpoint.best_metric,
    config.checkpoint.best_mode,
  )
  best = {"step": None, "value": None, "state": None}
  patience = config.early_stopping.patience
  stopped_early, last = False, 0
  batches = data.train_batches(
    dataset.train,
    batch_size=config.batch_size,
    seed=config.seed,
    process_index=0,
    process_count=1,
  )
  bar = console.progress(total, unit="step", enabled=config.progress)
  start = time.perf_counter()
  for step in range(1, total + 1):
    batch = next(batches)
    metrics = train_step(
      model,
      optimizer,
      scheduler,
      _to_torch(batch["image"], device),
      torch.from_numpy(np.asarray(batch["label"], np.int64)).to(device),
      loss_fn,
      config.optimizer.grad_clip_norm,
    )
    if not math.isfinite(metrics["loss"]):
      raise FloatingPointError(
        f"Non-finite training loss ({metrics['loss']}) at step {step}. Lower "
        "config.optimizer.learning_rate or set config.optimizer."
        "grad_clip_norm."
      )
    writer.write(step, "train", metrics)
    bar.set_postfix(loss=f"{metrics['loss']:.4f}")
    bar.update(1)
    last = step
    if len(dataset.val) and (
      step % config.eval_every_steps == 0 or step == total
    ):
      labels, probs = evaluate(
        model, dataset.val, dataset.num_classes, config, device
      )
      val = classification_metrics(labels, probs)
      writer.write(step, "val", {k: val[k] for k in trainer.SCALARS})
      console.say(trainer._metrics_line("val", step, val))
      value = val[best_metric]
      sign = 1 if best_mode == "max" else -1
      if best["value"] is None or sign * (value - best["value"]) > 0:
        best.update(
          step=step, value=value, state=copy.deepcopy(model.state_dict())
        )
      if (
        patience > 0
        and step - best["step"] >= patience * config.eval_every_steps
      ):
        stopped_early = True
        console.say(
          f"Early stop at step {step}: validation {best_metric} has not "
          f"improved since step {best['step']}."
        )
        break
  bar.close()
  train_seconds = time.perf_counter() - start
  if best["state"] is not None:
    model.load_state_dict(best["state"])
  # The tested model, loadable by `xaijax.models.from_torchvision`.
  torch.save(model.state_dict(), workdir / MODEL_FILE)

  results = {
    "framework": FRAMEWORK,
    "model": config.model.name,
    "dataset": config.data.name,
    "class_names": list(dataset.class_names),
    "seed": config.seed,
    "fold": config.data.fold,
    "steps": last,
    "max_steps": total,
    "best_step": best["step"],
    "stopped_early": stopped_early,
    "train_seconds": train_seconds,
  }
  for split, name in ((dataset.val, "val"), (dataset.test, "test")):
    if not len(split):
      continue
    labels, probs = evaluate(model, split, dataset.num_classes, config, device)
    results[name] = classification_metrics(labels, probs)
    writer.write(last, name, {k: results[name][k] for k in trainer.SCALARS})
    tested = f"best model of step {best['step']}" if best["state"] else "last"
    console.say(
      f"{trainer._metrics_line(name, last, results[name])} ({tested})"
    )
    if name == "test":
      logs.write_predictions(
        workdir / trainer.PREDICTIONS,
        dataset.test.ids,
        labels,
        probs,
        dataset.class_names,
      )
  writer.close()
  logs.write_json(workdir / trainer.RESULTS, results)
  return logs.jsonable(results)


def run(config: ml_collections.ConfigDict, workdir: str, *, data=None) -> dict:
  """`launch.py --config.framework=torch`: one run, or `config.repeats`
  (each combination in its own subfolder, listed in repeats.json), as
  `xaijax.train.run`."""
  rep = config.repeats
  if not (rep.models or rep.seeds or rep.folds):
    return train_and_evaluate(config, workdir, data=data)
  rows = []
  for name, sub in trainer.repeat_configs(config):
    console.say(f"Run {name}:")
    test = train_and_evaluate(
      sub, str(pathlib.Path(workdir) / name), data=data
    ).get("test", {})
    rows.append(
      {
        "run": name,
        "model": sub.model.name,
        "dataset": sub.data.name,
        "seed": sub.seed,
        "fold": sub.data.fold,
        **{k: test.get(k, float("nan")) for k in trainer.SCALARS},
      }
    )
  logs.write_json(pathlib.Path(workdir) / trainer.REPEATS, {"runs": rows})
  return {"runs": rows}
