# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Training: jitted sharded steps, orbax checkpoints, the run and repeats.

`run(config, workdir)` trains, validates, tests and hands the model to the
downstream explain/score/report stage; see docs/training.md.
"""

from xaijax.train.checkpoint import Checkpoints
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
