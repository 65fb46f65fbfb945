# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The optax optimizer of a run, built from `config.optimizer`/`schedule`.

Chain: gradient clipping -> (coupled) weight decay on kernels -> optimizer
with a learning-rate schedule; frozen parameters get `optax.set_to_zero`
through `optax.multi_transform`, so their optimizer state is empty and they
never move. Every choice follows torch.optim, so a config trains the same
trajectory in xaijax and in the PyTorch baseline (baselines/torch_trainer.py;
the conventions are listed in docs/training.md, "Equivalence with PyTorch",
and tested in tests/train/test_trajectories.py).
"""

import math
import re
from collections.abc import Callable

import flax
import jax
import jax.numpy as jnp
import ml_collections
import optax

from xaijax.models import registry

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")


# torch.nn.utils.clip_grad_norm_ divides by (norm + 1e-6).
_CLIP_EPSILON = 1e-6


def make_schedule(
  config: ml_collections.ConfigDict, total_steps: int
) -> optax.Schedule:
  """Learning rate per step: linear warmup, then constant or cosine decay.

  Step k (0-based: the k-th update) uses rate(k), as a torch scheduler
  stepped after each optimizer step: warmup k / W * peak for k < W (from 0,
  as transformers' get_cosine_schedule_with_warmup; torch's LinearLR cannot
  start at 0), then the cosine peak * (end + (1 - end) * (1 + cos(pi * (k -
  W) / (T - W))) / 2), torch's CosineAnnealingLR(T_max=T - W,
  eta_min=end * peak).

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


def clip_by_global_norm(max_norm: float) -> optax.GradientTransformation:
  """torch.nn.utils.clip_grad_norm_: gradients * min(1, max_norm / (norm +
  1e-6)), the norm over all of them. (optax's clip_by_global_norm scales by
  max_norm / norm: 1e-6 / norm relative apart.)"""

  def clip(updates, params=None):
    del params
    norm = optax.global_norm(updates)
    scale = jnp.minimum(1.0, max_norm / (norm + _CLIP_EPSILON))
    return jax.tree.map(lambda g: g * scale.astype(g.dtype), updates)

  return optax.stateless(clip)


def scale_by_adam(
  b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> optax.GradientTransformation:
  """optax.scale_by_adam (same state) with a float32-accurate bias correction.

  optax divides the moments by 1 - b**t computed in float32, where
  1 - 0.999 keeps only 1.3e-5 relative accuracy; torch computes it in Python
  floats. Measured over 20 Adam steps of a small MLP that made the float32
  weights 10x less accurate than torch's (tests/train/test_trajectories.py).
  Here it is -expm1(t * log(b)), a few float32 ulps off the exact value.
  The update is m_hat / (sqrt(v_hat) + eps), eps outside the square root,
  as torch.optim.Adam.
  """

  def init(params):
    return optax.ScaleByAdamState(
      count=jnp.zeros([], jnp.int32),
      mu=optax.tree.zeros_like(params),
      nu=optax.tree.zeros_like(params),
    )

  def update(updates, state, params=None):
    del params
    mu = optax.tree.update_moment(updates, state.mu, b1, 1)
    nu = optax.tree.update_moment_per_elem_norm(updates, state.nu, b2, 2)
    count = optax.safe_increment(state.count)
    correction1 = -jnp.expm1(count * math.log(b1))
    correction2 = -jnp.expm1(count * math.log(b2))
    updates = jax.tree.map(
      lambda m, v: (
        (m / correction1.astype(m.dtype))
        / (jnp.sqrt(v / correction2.astype(v.dtype)) + eps)
      ),
      mu,
      nu,
    )
    return updates, optax.ScaleByAdamState(count=count, mu=mu, nu=nu)

  return optax.GradientTransformation(init, update)


def make_optimizer(
  config: ml_collections.ConfigDict, params, total_steps: int
) -> tuple[optax.GradientTransformation, Callable[[int], float]]:
  """The optimizer of `config` for `params` (a pytree or its shapes).

  Args:
    config: the run config; `config.optimizer` has name ('adam' | 'adamw' |
      'sgd'), learning_rate, weight_decay, momentum, nesterov, grad_clip_norm.
      Each means what it means in torch.optim: adam/sgd decay is L2 added
      to the gradient (torch's `weight_decay`), adamw's is decoupled
      (torch.optim.AdamW); SGD momentum without dampening, Nesterov as
      torch's; Adam betas (0.9, 0.999) and eps 1e-8 outside the square
      root, as torch's defaults.
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
  if opt.name == "sgd" and opt.nesterov and opt.momentum <= 0:
    raise ValueError(  # torch.optim.SGD refuses it too
      "config.optimizer.nesterov=True needs config.optimizer.momentum > 0."
    )
  schedule = make_schedule(config, total_steps)
  chain = []
  if opt.grad_clip_norm > 0:
    chain.append(clip_by_global_norm(opt.grad_clip_norm))
  if opt.name == "adamw":
    # Decoupled, as torch.optim.AdamW: p -= lr * (adam direction + wd * p),
    # optax.adamw's chain with the accurate bias correction.
    chain += [
      scale_by_adam(),
      optax.add_decayed_weights(opt.weight_decay, _decay_mask),
      optax.scale_by_learning_rate(schedule),
    ]
  else:
    # Adam and SGD decay as torch's `weight_decay` does: L2 added to the
    # gradient before the update rule (coupled).
    if opt.weight_decay > 0:
      chain.append(optax.add_decayed_weights(opt.weight_decay, _decay_mask))
    if opt.name == "adam":
      chain += [scale_by_adam(), optax.scale_by_learning_rate(schedule)]
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
