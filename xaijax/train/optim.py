# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The optax optimizer of a run, built from `config.optimizer`/`schedule`.

Chain: gradient clipping -> (coupled) weight decay on kernels -> optimizer
with a learning-rate schedule; frozen parameters get `optax.set_to_zero`
through `optax.multi_transform`, so their optimizer state is empty and they
never move.
"""

import re
from collections.abc import Callable

import flax
import ml_collections
import optax

from xaijax.models import registry

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")


def make_schedule(
  config: ml_collections.ConfigDict, total_steps: int
) -> optax.Schedule:
  """Learning rate per step: linear warmup, then constant or cosine decay.

  Args:
    config: the run config (`optimizer.learning_rate`, `schedule.name`,
      `schedule.warmup_steps`, `schedule.end_factor`).
    total_steps: length of the run in optimizer steps.
  """
  peak = config.optimizer.learning_rate
  name = config.schedule.name
  warmup = min(config.schedule.warmup_steps, total_steps)
  if name not in SCHEDULES:
    raise ValueError(
      f"Unknown schedule '{name}'; use one of {', '.join(SCHEDULES)}."
    )
  if name == "constant":
    decay = optax.constant_schedule(peak)
  else:
    decay = optax.cosine_decay_schedule(
      peak, max(total_steps - warmup, 1), alpha=config.schedule.end_factor
    )
  if warmup == 0:
    return decay
  return optax.join_schedules(
    [optax.linear_schedule(0.0, peak, warmup), decay], [warmup]
  )


def frozen_mask(config: ml_collections.ConfigDict, params) -> dict:
  """Boolean pytree like `params`: True where the parameter is frozen.

  `config.freeze` is '' (train everything), 'backbone' (train the class
  layer only: fine-tuning a linear probe on ImageNet features) or a regular
  expression searched in the '/'-joined parameter path (e.g. '^(conv1|bn1|
  layer1)/' freezes the ResNet stem and first stage).
  """
  rule = config.freeze
  if rule == "backbone":
    head = registry.spec(config.model.name).head.replace(".", "/") + "/"
    pattern = re.compile(f"^(?!{re.escape(head)})")
  else:
    try:
      pattern = re.compile(rule) if rule else None
    except re.error as e:
      raise ValueError(
        f"config.freeze='{rule}' is not a valid regular expression ({e}); "
        "use '', 'backbone' or a regex over paths like 'layer4/2/conv1'."
      ) from None
  flat = flax.traverse_util.flatten_dict(params, sep="/")
  mask = {path: bool(pattern and pattern.search(path)) for path in flat}
  if rule and not any(mask.values()):
    raise ValueError(
      f"config.freeze='{rule}' matches no parameter; paths look like "
      f"{', '.join(list(flat)[:3])}."
    )
  return flax.traverse_util.unflatten_dict(mask, sep="/")


def _decay_mask(params) -> dict:
  # Decay conv/dense kernels only: decaying biases and BatchNorm scales
  # hurts small-data fine-tuning and is not what torchvision recipes do.
  return flax.traverse_util.path_aware_map(
    lambda path, x: path[-1] == "kernel" and x.ndim > 1, params
  )


def make_optimizer(
  config: ml_collections.ConfigDict, params, total_steps: int
) -> tuple[optax.GradientTransformation, Callable[[int], float]]:
  """The optimizer of `config` for `params` (a pytree or its shapes).

  Args:
    config: the run config; `config.optimizer` has name ('adam' | 'adamw' |
      'sgd'), learning_rate, weight_decay, momentum, nesterov, grad_clip_norm.
    params: the parameter pytree (arrays or ShapeDtypeStructs).
    total_steps: length of the run, for the schedule.

  Returns:
    (transformation, schedule) -- the schedule for logging the rate.
  """
  opt = config.optimizer
  if opt.name not in OPTIMIZERS:
    raise ValueError(
      f"Unknown optimizer '{opt.name}'; use one of {', '.join(OPTIMIZERS)}."
    )
  schedule = make_schedule(config, total_steps)
  chain = []
  if opt.grad_clip_norm > 0:
    chain.append(optax.clip_by_global_norm(opt.grad_clip_norm))
  if opt.name == "adamw":
    chain.append(
      optax.adamw(schedule, weight_decay=opt.weight_decay, mask=_decay_mask)
    )
  else:
    # Adam and SGD decay as torch's `weight_decay` does: L2 added to the
    # gradient before the update rule (coupled).
    if opt.weight_decay > 0:
      chain.append(optax.add_decayed_weights(opt.weight_decay, _decay_mask))
    if opt.name == "adam":
      chain.append(optax.adam(schedule))
    else:
      chain.append(
        optax.sgd(schedule, momentum=opt.momentum, nesterov=opt.nesterov)
      )
  tx = optax.chain(*chain)
  if config.freeze:
    labels = flax.traverse_util.path_aware_map(
      lambda _, frozen: "frozen" if frozen else "train",
      frozen_mask(config, params),
    )
    tx = optax.multi_transform(
      {"train": tx, "frozen": optax.set_to_zero()}, labels
    )
  return tx, schedule
