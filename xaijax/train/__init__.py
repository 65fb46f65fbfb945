# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Training: jitted sharded steps, orbax checkpoints, the run and repeats.

`check_config(config)` checks every name of a training config before any
work; `run(config, workdir)` trains, validates and tests, and ends at the
model (checkpoints, test metrics, per-image predictions); explanations are
studies over saved runs (`xaijax.study`). See docs/training.md.
"""

from xaijax.train.checkpoint import Checkpoints
from xaijax.train.checks import check_config
from xaijax.train.optim import frozen_mask, make_optimizer, make_schedule
from xaijax.train.sharding import (
  batch_sharding,
  initialize_distributed,
  make_mesh,
  replicated,
)
from xaijax.train.steps import (
  TrainState,
  create_state,
  eval_step,
  train_step,
  weighted_cross_entropy,
)
from xaijax.train.trainer import (
  evaluate,
  init_state,
  num_train_steps,
  repeat_configs,
  run,
  train_and_evaluate,
)

__all__ = [
  "Checkpoints",
  "TrainState",
  "batch_sharding",
  "check_config",
  "create_state",
  "eval_step",
  "evaluate",
  "frozen_mask",
  "init_state",
  "initialize_distributed",
  "make_mesh",
  "make_optimizer",
  "make_schedule",
  "num_train_steps",
  "repeat_configs",
  "replicated",
  "run",
  "train_and_evaluate",
  "train_step",
  "weighted_cross_entropy",
]
