# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The loss against torch's CrossEntropyLoss, and one train step."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from xaijax import models
from xaijax.models.torch_interop import import_torchvision
from xaijax.train import steps


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_matches_torch(smoothing, weighted):
  import_torchvision()
  import torch

  rng = np.random.default_rng(0)
  logits = rng.normal(size=(6, 4)).astype(np.float32)
  labels = np.array([0, 1, 2, 3, 3, 1])
  weights = np.array([0.5, 1.0, 2.0, 4.0], np.float32) if weighted else None
  expected = torch.nn.functional.cross_entropy(
    torch.from_numpy(logits),
    torch.from_numpy(labels),
    weight=None if weights is None else torch.from_numpy(weights),
    label_smoothing=smoothing,
  ).item()
  loss = steps.weighted_cross_entropy(
    jnp.asarray(logits),
    jnp.asarray(labels),
    label_smoothing=smoothing,
    class_weights=None if weights is None else jnp.asarray(weights),
  )
  np.testing.assert_allclose(loss, expected, rtol=1e-6)


def test_bfloat16_step_keeps_float32_params():
  module = models.create("resnet50", 3, tiny=True, dtype=jnp.bfloat16)
  images = jax.random.normal(jax.random.PRNGKey(0), (4, 16, 16, 3))
  # jit: one compile instead of one per eager op of the init.
  variables = jax.jit(module.init)(jax.random.PRNGKey(1), images)
  tx = optax.sgd(0.1)
  state = steps.create_state(variables, jax.random.PRNGKey(2), tx)
  step = functools.partial(
    steps.train_step,
    module=module,
    tx=tx,
    loss_fn=steps.make_loss_fn(0.0, None),
    schedule=optax.constant_schedule(0.1),
  )
  batch = {"image": images, "label": jnp.array([0, 1, 2, 0])}
  new, metrics = jax.jit(step)(state, batch)
  assert metrics["loss"].dtype == jnp.float32
  assert np.isfinite(metrics["loss"])
  assert int(new.step) == 1
  assert jax.tree.structure(new.batch_stats) == jax.tree.structure(
    state.batch_stats
  )
  for param in jax.tree.leaves(new.params):
    assert param.dtype == jnp.float32
  changed = jax.tree.map(
    lambda a, b: bool(jnp.any(a != b)), state.params, new.params
  )
  assert all(jax.tree.leaves(changed))
