# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every name and path of a training config, checked before any work.

`check_config` builds what the run would build, abstractly: the model (by
`jax.eval_shape`, no computation), the optimizer and schedule from the
config, the parameter shardings; then the data config and the paths. A typo
costs a second, not a training run. Each failure is a one-line ValueError
(or `xaijax.data.DataError`) naming the bad value and the valid ones.
"""

import os

import jax
import jax.numpy as jnp
import ml_collections

import xaijax.data
from xaijax import models
from xaijax.train import optim, sharding, trainer

DTYPES = ("float32", "bfloat16")
FRAMEWORKS = ("jax", "torch")
# Validation metrics `checkpoint.best_metric` may name (scalars of
# `xaijax.evaluate.classification_metrics`).
BEST_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "roc_auc")


def _one_of(key: str, value, valid) -> None:
  if value not in valid:
    raise ValueError(
      f"config.{key}='{value}' is not valid; choose one of "
      f"{', '.join(map(str, valid))}."
    )


def _positive(config, *keys) -> None:
  for key in keys:
    node = config
    for part in key.split("."):
      node = node[part]
    if node <= 0:
      raise ValueError(f"config.{key} must be positive, got {node}.")


def check_batch_size(name: str, batch_size: int) -> None:
  """The global batch must split evenly over devices and processes."""
  devices, processes = jax.device_count(), jax.process_count()
  if batch_size % devices or batch_size % processes:
    raise ValueError(
      f"config.{name}={batch_size} must be divisible by the number of "
      f"devices ({devices}) and processes ({processes}); pick a multiple."
    )


def check_config(config: ml_collections.ConfigDict) -> None:
  """Raises on the first bad name, value or path of a training config.

  Checked: framework, model name and dtype, repeats' models, optimizer and
  schedule names and their values, the freeze rule, checkpoint metric and
  mode, sharding mode, early stopping, batch sizes, the data config
  (`xaijax.data.check_config`: dataset name, layout options, that the root
  exists) and that `init.torchvision` exists for every model it serves.
  """
  _one_of("framework", config.get("framework", "jax"), FRAMEWORKS)
  _one_of("model.name", config.model.name, tuple(models.MODELS))
  _one_of("model.dtype", config.model.dtype, DTYPES)
  for name in config.repeats.models:
    _one_of("repeats.models", name, tuple(models.MODELS))
  _one_of("checkpoint.best_metric", config.checkpoint.best_metric, BEST_METRICS)
  _one_of("checkpoint.best_mode", config.checkpoint.best_mode, ("max", "min"))
  _positive(
    config, "batch_size", "eval_batch_size", "log_every_steps",
    "eval_every_steps", "checkpoint.every_steps", "checkpoint.keep",
  )  # fmt: skip
  if config.early_stopping.patience < 0:
    raise ValueError(
      "config.early_stopping.patience must be >= 0 (0: no early stopping), "
      f"got {config.early_stopping.patience}."
    )
  if config.total_steps <= 0 and config.num_epochs <= 0:
    raise ValueError("Set config.total_steps or config.num_epochs above 0.")
  check_batch_size("batch_size", config.batch_size)
  check_batch_size("eval_batch_size", config.eval_batch_size)
  per_model = []
  for name in config.repeats.models or (config.model.name,):
    with config.unlocked():
      model_config = config.copy_and_resolve_references()
      model_config.model.name = name
    _check_model(model_config)
    per_model.append(model_config)
  # Paths last: a typo in a name is reported even where data are absent.
  xaijax.data.check_config(config.data)
  for model_config in per_model:
    _check_init_path(model_config)


def _check_model(config: ml_collections.ConfigDict) -> None:
  """The model, optimizer, freeze rule and shardings of one architecture,
  abstractly."""
  size = config.data.image_size
  module = trainer.create_module(config, 2, jnp.dtype(config.model.dtype))
  abstract = jax.eval_shape(
    lambda: module.init(
      jax.random.key(0), jnp.zeros((1, size, size, 3)), train=False
    )
  )
  optim.make_optimizer(config, abstract["params"], 1)
  sharding.state_shardings(
    abstract,
    sharding.make_mesh(),
    config.sharding.params,
    config.sharding.min_shard_size,
  )


def _check_init_path(config: ml_collections.ConfigDict) -> None:
  """`init.torchvision`, with `{model}` filled in, names an existing file."""
  if config.init.torchvision:
    path = trainer.init_path(config)
    if not os.path.isfile(path):
      raise ValueError(
        f"config.init.torchvision: no file '{path}' (for {config.model.name})"
        ". Save torchvision's weights there (README: Bringing real weights) "
        "or set config.init.torchvision=''."
      )
