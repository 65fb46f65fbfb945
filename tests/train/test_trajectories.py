# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""xaijax's optimizers follow torch.optim's trajectories.

From the same weights and batches, 20 steps of each optimizer and schedule
of the configs: `xaijax.train.optim.make_optimizer` (optax) against the
PyTorch baseline's `make_optimizer` (torch.optim, configured from the same
config). A small MLP checks every optimizer option; a tiny ResNet-50 checks
one whole train step (BatchNorm, weight decay, clipping, warmup) in both
trainers. Parameters after the last step must be as close to torch's
float64 trajectory as torch's float32 one is, within 10x
(tests/float64_reference.py): a convention difference (coupled vs
decoupled decay, Nesterov's form, the step a schedule is evaluated at)
moves them far more (`test_a_convention_difference_fails`).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import worker

from tests import float64_reference as reference
from xaijax import models
from xaijax.train import optim, steps

STEPS = 20
BATCH = 8
FEATURES, HIDDEN, CLASSES = 12, 16, 3

CASES = {
  "sgd": {"optimizer.name": "sgd", "optimizer.momentum": 0.0},
  "sgd_momentum": {"optimizer.name": "sgd"},
  "sgd_nesterov_weight_decay": {
    "optimizer.name": "sgd",
    "optimizer.nesterov": True,
    "optimizer.weight_decay": 0.05,
  },
  "adam": {},
  "adam_l2": {"optimizer.weight_decay": 0.1},
  "adamw": {"optimizer.name": "adamw", "optimizer.weight_decay": 0.1},
  # Clipped on most steps: the MLP's gradient norms are ~1.
  "sgd_clipped": {"optimizer.name": "sgd", "optimizer.grad_clip_norm": 0.3},
  "adam_warmup_cosine": {
    "schedule.warmup_steps": 5,
    "schedule.end_factor": 0.1,
  },
  "sgd_warmup_constant": {
    "optimizer.name": "sgd",
    "schedule.name": "constant",
    "schedule.warmup_steps": 5,
  },
}


def _config(overrides: dict):
  # The learning rates are large enough for 20 steps to move the weights
  # well beyond rounding: a wrong convention then shows.
  rate = 0.05 if overrides.get("optimizer.name") == "sgd" else 0.01
  return worker.tiny_config({"optimizer.learning_rate": rate, **overrides})


def _batches(seed: int = 0):
  rng = np.random.default_rng(seed)
  return [
    (
      rng.standard_normal((BATCH, FEATURES)).astype(np.float32),
      rng.integers(0, CLASSES, BATCH),
    )
    for _ in range(STEPS)
  ]


def _mlp(torch):
  """torch's Linear-Tanh-Linear and xaijax's params of the same weights."""
  torch.manual_seed(0)
  model = torch.nn.Sequential(
    torch.nn.Linear(FEATURES, HIDDEN),
    torch.nn.Tanh(),
    torch.nn.Linear(HIDDEN, CLASSES),
  )
  params = {
    str(i): {
      "kernel": jnp.asarray(model[i].weight.detach().numpy().T),
      "bias": jnp.asarray(model[i].bias.detach().numpy()),
    }
    for i in (0, 2)
  }
  return model, params


def _mlp_loss(params, images, labels):
  hidden = jnp.tanh(images @ params["0"]["kernel"] + params["0"]["bias"])
  logits = hidden @ params["2"]["kernel"] + params["2"]["bias"]
  return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def _torch_trajectory(config, model, batches, dtype) -> dict:
  """Final {state_dict key: float64 array} of torch in `dtype`."""
  from baselines import torch_trainer

  torch = torch_trainer.torch
  model = model.to(dtype)
  optimizer, scheduler = torch_trainer.make_optimizer(config, model, STEPS)
  for images, labels in batches:
    if images.ndim == 4:  # NHWC -> NCHW
      images = images.transpose(0, 3, 1, 2)
    torch_trainer.train_step(
      model,
      optimizer,
      scheduler,
      torch.from_numpy(images).to(dtype),
      torch.from_numpy(np.asarray(labels, np.int64)),
      torch.nn.functional.cross_entropy,
      config.optimizer.grad_clip_norm,
    )
  return {
    k: v.detach().double().numpy().copy()
    for k, v in model.state_dict().items()
    if v.is_floating_point()
  }


def _assert_follows_torch(config, torch_model, xaijax_final, batches):
  """xaijax's final {torch key: array} against torch's two trajectories."""
  import torch

  torch64 = torch_trajectory(config, torch_model, batches, torch.float64)
  torch32 = reference.realisations(
    lambda weights, b: torch_trajectory(
      config, torch_model, b, torch.float32, weights
    ),
    torch_model.state_dict(),
    batches,
  )
  reference.assert_within(
    xaijax_final,
    torch64,
    reference.allowed_errors(torch32, torch64),
    "final parameter",
  )


def _mlp_final(config, params, batches) -> dict:
  tx, _ = optim.make_optimizer(config, params, STEPS)

  @jax.jit
  def step(params, opt_state, images, labels):
    grads = jax.grad(_mlp_loss)(params, images, labels)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  opt_state = tx.init(params)
  for images, labels in batches:
    params, opt_state = step(params, opt_state, images, labels)
  return {
    f"{i}.{torch_leaf}": np.asarray(params[i][leaf], np.float64).T
    for i in ("0", "2")
    for leaf, torch_leaf in (("kernel", "weight"), ("bias", "bias"))
  }


@pytest.mark.parametrize("case", list(CASES))
def test_optimizer_follows_torch(case, torchvision):
  import torch

  config = _config(CASES[case])
  model, params = _mlp(torch)
  batches = _batches()
  _assert_follows_torch(
    config, model, _mlp_final(config, params, batches), batches
  )


@pytest.mark.parametrize(
  "ours, theirs",
  [
    # Coupled L2 (torch.optim.Adam's weight_decay) vs decoupled (AdamW).
    ("adam_l2", {"optimizer.name": "adamw", "optimizer.weight_decay": 0.1}),
    # Nesterov's form vs plain momentum (with the same decay).
    ("sgd_nesterov_weight_decay", {"optimizer.nesterov": False}),
    # The schedule one step later (rate(k + 1) at step k; here a warmup of 6).
    ("adam_warmup_cosine", {"schedule.warmup_steps": 6}),
  ],
)
def test_a_convention_difference_fails(ours, theirs, torchvision):
  """The check can fail: xaijax trained with one convention against torch
  with another (each difference the docs list) is far outside the bound."""
  import torch

  model, params = _mlp(torch)
  batches = _batches()
  final = _mlp_final(_config(CASES[ours]), params, batches)
  with pytest.raises(AssertionError, match="final parameter"):
    _assert_follows_torch(
      _config({**CASES[ours], **theirs}), model, final, batches
    )


# SGD with Nesterov momentum, weight decay, clipping and warmup + cosine.
RESNET50_RUN = {
  "optimizer.name": "sgd",
  "optimizer.nesterov": True,
  "optimizer.weight_decay": 1e-3,
  "optimizer.grad_clip_norm": 2.0,
  "schedule.warmup_steps": 4,
}


def tiny_resnet50():
  """(torchvision's tiny ResNet-50, the same weights as xaijax variables)."""
  import torch

  from baselines import torch_models

  torch.manual_seed(0)
  torch_model = torch_models.build("resnet50", CLASSES, tiny=True)
  variables = models.from_torchvision(
    "resnet50",
    torch_model.state_dict(),
    CLASSES,
    **models.MODELS["resnet50"].tiny,
  )
  return torch_model, variables


def image_batches(size: int = 32) -> list[tuple[np.ndarray, np.ndarray]]:
  """STEPS (images (B, size, size, 3), labels (B,)) batches."""
  rng = np.random.default_rng(0)
  return [
    (
      rng.standard_normal((BATCH, size, size, 3)).astype(np.float32),
      rng.integers(0, CLASSES, BATCH),
    )
    for _ in range(STEPS)
  ]


def resnet50_final(config, variables, batches, devices) -> dict:
  """{torch key: array} after `steps.train_step` on each batch, jitted as
  the trainer jits it: state replicated, batch split over `devices`."""
  mesh = jax.sharding.Mesh(np.asarray(devices), ("data",))
  replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  split = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
  module = models.create("resnet50", CLASSES, tiny=True)
  tx, schedule = optim.make_optimizer(config, variables["params"], STEPS)
  state = jax.device_put(
    steps.create_state(variables, jax.random.key(0), tx), replicated
  )
  train_step = jax.jit(
    functools.partial(
      steps.train_step,
      module=module,
      tx=tx,
      loss_fn=steps.make_loss_fn(0.0, None),
      schedule=schedule,
    ),
    in_shardings=(replicated, split),
    out_shardings=(replicated, replicated),
  )
  for images, labels in batches:
    batch = jax.device_put({"image": images, "label": labels}, split)
    state, _ = train_step(state, batch)
  return {
    **reference.torch_keyed("params", state.params),
    **reference.torch_keyed("batch_stats", state.batch_stats),
  }


def torch_trajectory(
  config, torch_model, batches, dtype, state_dict=None
) -> dict:
  """`_torch_trajectory` on a copy of `torch_model` (with `state_dict`'s
  weights when given)."""
  import copy

  model = copy.deepcopy(torch_model)
  if state_dict is not None:
    model.load_state_dict(state_dict)
  return _torch_trajectory(config, model, batches, dtype)


def test_resnet50_train_steps_follow_torch(torchvision):
  """Tiny ResNet-50, 32 px: the trainer's `steps.train_step` with the run's
  optimizer against the baseline's `train_step`; parameters and BatchNorm
  statistics after 20 steps."""
  config = _config(RESNET50_RUN)
  torch_model, variables = tiny_resnet50()
  batches = image_batches()
  final = resnet50_final(config, variables, batches, jax.devices()[:1])
  _assert_follows_torch(config, torch_model, final, batches)
