# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Deletion/insertion curves and the cascading randomisation check."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from xaijax import evaluate


class MLP(nn.Module):
  @nn.compact
  def __call__(self, x, train=False):
    del train
    h = nn.relu(nn.Dense(8)(x.reshape(x.shape[0], -1)))
    return nn.Dense(3)(h)


def _setup():
  module = MLP()
  x = np.asarray(jax.random.normal(jax.random.key(0), (2, 6, 6, 3)))
  return module, module.init(jax.random.key(1), x), x


def test_curves_endpoints_and_auc():
  module, variables, x = _setup()
  maps = np.random.default_rng(0).uniform(size=(2, 6, 6)).astype(np.float32)
  steps = 4
  out = evaluate.deletion_insertion(
    module, variables, x, {"m": maps}, steps=steps
  )["m"]
  z = module.apply(variables, x)
  c = jnp.argmax(z, -1)
  p = np.asarray(jnp.take_along_axis(jax.nn.softmax(z), c[:, None], 1)[:, 0])
  z0 = module.apply(variables, jnp.zeros_like(x))
  p0 = np.asarray(jnp.take_along_axis(jax.nn.softmax(z0), c[:, None], 1))
  assert out["deletion"].shape == (2, steps + 1)
  # Step 0 is the clean image (deletion) or the baseline (insertion).
  np.testing.assert_allclose(out["deletion"][:, 0], p, rtol=1e-5)
  np.testing.assert_allclose(out["deletion"][:, -1], p0[:, 0], rtol=1e-5)
  np.testing.assert_allclose(out["insertion"][:, 0], p0[:, 0], rtol=1e-5)
  np.testing.assert_allclose(out["insertion"][:, -1], p, rtol=1e-5)
  np.testing.assert_allclose(
    out["deletion_auc"],
    np.trapezoid(out["deletion"], dx=1 / steps, axis=-1),
    rtol=1e-6,
  )
  # Half way, deletion removed exactly the top half of the pixels.
  top = maps.reshape(2, -1) >= np.median(maps.reshape(2, -1), 1)[:, None]
  half = np.where(top.reshape(2, 6, 6, 1), 0, x)
  zh = module.apply(variables, half)
  ph = jnp.take_along_axis(jax.nn.softmax(zh), c[:, None], 1)[:, 0]
  np.testing.assert_allclose(out["deletion"][:, 2], ph, rtol=1e-5)


def test_cascading_randomization():
  module, variables, x = _setup()

  def saliency(v):
    def score(images):
      return module.apply(v, images)[:, 0].sum()

    return jnp.abs(jax.grad(score)(jnp.asarray(x))).sum(-1)

  steps = evaluate.cascading_randomization(
    module, variables, x, saliency, jax.random.key(7)
  )
  assert [name for name, _ in steps] == ["Dense_1", "Dense_0"]
  final = steps[-1][1]
  assert final.shape == (2,)
  assert np.all(final < 0.9)  # Fully random weights: unrelated maps.
  same = evaluate.rank_correlation(saliency(variables), saliency(variables))
  np.testing.assert_allclose(same, 1)
