# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Train state, loss, and the pure train/eval step functions.

The steps are plain functions of (state, batch); `xaijax.train.trainer` jits
them with shardings and donation. BatchNorm statistics are global-batch
statistics because the step is one program over the whole mesh (no pmap).
"""

import functools
from collections.abc import Callable
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

Array = jax.Array


@flax.struct.dataclass
class TrainState:
  """Everything a run needs to continue exactly: a pytree of arrays.

  Attributes:
    step: () int32, optimizer steps taken.
    params: float32 parameters.
    batch_stats: BatchNorm running statistics ({} for VGG16).
    opt_state: the optax state.
    rng: (2,) uint32 base key; step s uses `fold_in(rng, s)`, so a resumed
      run draws the same dropout masks as an uninterrupted one.
  """

  step: Array
  params: Any
  batch_stats: Any
  opt_state: Any
  rng: Array

  @property
  def variables(self) -> dict:
    """`{'params', 'batch_stats'}` as `module.apply` expects."""
    if self.batch_stats:
      return {"params": self.params, "batch_stats": self.batch_stats}
    return {"params": self.params}


def create_state(
  variables: dict, rng: Array, tx: optax.GradientTransformation
) -> TrainState:
  """A step-0 state from model `variables` (e.g. `module.init` output)."""
  return TrainState(
    step=jnp.zeros((), jnp.int32),
    params=variables["params"],
    batch_stats=variables.get("batch_stats", {}),
    opt_state=tx.init(variables["params"]),
    rng=rng,
  )


def weighted_cross_entropy(
  logits: Array,
  labels: Array,
  *,
  label_smoothing: float = 0.0,
  class_weights: Array | None = None,
) -> Array:
  """Mean cross-entropy exactly as torch's `CrossEntropyLoss(weight, ...)`.

  Args:
    logits: (B, K) any float dtype; the loss is computed in float32.
    labels: (B,) int classes.
    label_smoothing: mass spread uniformly over the K classes.
    class_weights: (K,) per-class weights. As in torch, class c's
      log-probability is weighted by w_c (also in the smoothing term) and the
      sum is divided by the total weight of the labels, sum_i w[y_i].

  Returns:
    () float32 loss.
  """
  logits = logits.astype(jnp.float32)
  num_classes = logits.shape[-1]
  targets = optax.smooth_labels(
    jax.nn.one_hot(labels, num_classes), label_smoothing
  )
  log_probs = jax.nn.log_softmax(logits)
  if class_weights is None:
    return -(targets * log_probs).sum(-1).mean()
  weighted = -(targets * class_weights * log_probs).sum()
  return weighted / class_weights[labels].sum()


def train_step(
  state: TrainState,
  batch: dict,
  *,
  module: nn.Module,
  tx: optax.GradientTransformation,
  loss_fn: Callable[[Array, Array], Array],
  schedule: optax.Schedule,
) -> tuple[TrainState, dict]:
  """One optimizer step on a global batch.

  Args:
    state: the current state.
    batch: {'image': (B, H, W, 3) float32, 'label': (B,) int32}.
    module: the model (its `dtype` sets the compute precision).
    tx: the optimizer.
    loss_fn: (logits (B, K), labels (B,)) -> () loss.
    schedule: the learning-rate schedule, only for logging.

  Returns:
    The next state and scalar metrics {loss, accuracy, grad_norm,
    learning_rate}.
  """
  dropout_rng = jax.random.fold_in(state.rng, state.step)

  def objective(params):
    variables = {"params": params}
    if state.batch_stats:
      variables["batch_stats"] = state.batch_stats
    logits, updates = module.apply(
      variables,
      batch["image"],
      train=True,
      mutable=["batch_stats"],
      rngs={"dropout": dropout_rng},
    )
    return loss_fn(logits, batch["label"]), (logits, updates)

  grad_fn = jax.value_and_grad(objective, has_aux=True)
  (loss, (logits, updates)), grads = grad_fn(state.params)
  step_updates, opt_state = tx.update(grads, state.opt_state, state.params)
  new_state = state.replace(
    step=state.step + 1,
    params=optax.apply_updates(state.params, step_updates),
    batch_stats=updates.get("batch_stats", {}),
    opt_state=opt_state,
  )
  metrics = {
    "loss": loss,
    "accuracy": (logits.argmax(-1) == batch["label"]).mean(),
    "grad_norm": optax.global_norm(grads),
    "learning_rate": schedule(state.step),
  }
  return new_state, metrics


def eval_step(
  variables: dict, batch: dict, *, module: nn.Module
) -> dict[str, Array]:
  """Class probabilities of an eval batch, with its bookkeeping keys.

  Args:
    variables: {'params', 'batch_stats'}.
    batch: {'image': (B, H, W, 3), 'label': (B,), 'valid': (B,) bool,
      'index': (B,) int32} as `xaijax.data.eval_batches` yields.
    module: the model.

  Returns:
    {'probs': (B, K) float32, 'label', 'valid', 'index'}.
  """
  logits = module.apply(variables, batch["image"], train=False)
  probs = jax.nn.softmax(logits.astype(jnp.float32))
  return {"probs": probs, **{k: batch[k] for k in ("label", "valid", "index")}}


def make_loss_fn(
  label_smoothing: float, class_weights: Array | None
) -> Callable[[Array, Array], Array]:
  """`weighted_cross_entropy` with the run's smoothing and weights bound."""
  return functools.partial(
    weighted_cross_entropy,
    label_smoothing=label_smoothing,
    class_weights=class_weights,
  )
