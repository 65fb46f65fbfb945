# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Optimizer construction: schedules, freezing and the weight-decay mask."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import worker

from xaijax.train import optim


def _params():
  return {
    "conv1": {"kernel": jnp.ones((3, 3, 3, 4))},
    "bn1": {"scale": jnp.ones(4), "bias": jnp.ones(4)},
    "fc": {"kernel": jnp.ones((4, 2)), "bias": jnp.ones(2)},
  }


def _config(**overrides):
  config = worker.tiny_config({})
  with config.unlocked():
    for key, value in overrides.items():
      *parents, leaf = key.split(".")
      node = config
      for p in parents:
        node = node[p]
      node[leaf] = value
  return config


def test_warmup_then_cosine():
  config = _config(
    **{"schedule.warmup_steps": 4, "optimizer.learning_rate": 1.0}
  )
  schedule = optim.make_schedule(config, total_steps=12)
  values = [float(schedule(s)) for s in (0, 2, 4, 8, 12)]
  np.testing.assert_allclose(values, [0.0, 0.5, 1.0, 0.5, 0.0], atol=1e-6)


def _update(config, grads_value=1.0):
  params = _params()
  tx, _ = optim.make_optimizer(config, params, total_steps=10)
  grads = jax.tree.map(lambda p: jnp.full_like(p, grads_value), params)
  updates, _ = tx.update(grads, tx.init(params), params)
  return updates


def test_backbone_freeze_moves_only_the_head():
  config = _config(freeze="backbone", **{"model.name": "resnet50"})
  updates = _update(config)
  assert not np.any(updates["conv1"]["kernel"])
  assert not np.any(updates["bn1"]["scale"])
  assert np.all(updates["fc"]["kernel"] != 0)


def test_freeze_regex_errors_name_the_fix():
  with pytest.raises(ValueError, match="matches no parameter"):
    _update(_config(freeze="^nothing"))
  with pytest.raises(ValueError, match="not a valid regular expression"):
    _update(_config(freeze="("))


def test_weight_decay_touches_kernels_only():
  config = _config(
    **{
      "optimizer.name": "sgd",
      "optimizer.weight_decay": 0.5,
      "optimizer.momentum": 0.0,
      "optimizer.learning_rate": 1.0,
    }
  )
  updates = _update(config, grads_value=0.0)
  # SGD with zero gradient: the update is -lr * wd * param on kernels only.
  np.testing.assert_allclose(updates["conv1"]["kernel"], -0.5)
  np.testing.assert_allclose(updates["bn1"]["scale"], 0.0)
  np.testing.assert_allclose(updates["fc"]["bias"], 0.0)


def test_clipping_bounds_the_global_norm():
  config = _config(
    **{
      "optimizer.name": "sgd",
      "optimizer.grad_clip_norm": 1.0,
      "optimizer.momentum": 0.0,
      "optimizer.learning_rate": 1.0,
    }
  )
  assert float(optax.global_norm(_update(config, 5.0))) == pytest.approx(1.0)


def test_nesterov_needs_momentum():
  # torch.optim.SGD refuses it too: Nesterov without momentum is plain SGD.
  config = _config(
    **{
      "optimizer.name": "sgd",
      "optimizer.nesterov": True,
      "optimizer.momentum": 0.0,
    }
  )
  with pytest.raises(ValueError, match="nesterov=True needs"):
    _update(config)


def test_unknown_names_raise():
  with pytest.raises(ValueError, match="Unknown optimizer 'lion'"):
    _update(_config(**{"optimizer.name": "lion"}))
  with pytest.raises(ValueError, match="Unknown schedule"):
    _update(_config(**{"schedule.name": "step"}))
