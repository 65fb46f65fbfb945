# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Deletion/insertion curves and the cascading randomisation check."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import scipy.stats

from tests import rounding
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

  def run(variables, x):
    return evaluate.deletion_insertion(
      module, variables, x, {"m": maps}, steps=steps
    )["m"]

  out = run(variables, x)
  # The curves against probabilities computed here, in other programs:
  # equal up to the rounding bound of tests/rounding.py (the maps, which
  # order the pixels, are exact inputs of both and are not nudged).
  nudged = rounding.sensitivity(run, variables, x)

  def check(curve, step, expected):
    rounding.assert_close(
      expected,
      out[curve][:, step],
      [n[curve][:, step] for n in nudged],
      err_msg=f"{curve} step {step}",
    )

  z = module.apply(variables, x)
  c = jnp.argmax(z, -1)
  p = np.asarray(jnp.take_along_axis(jax.nn.softmax(z), c[:, None], 1)[:, 0])
  z0 = module.apply(variables, jnp.zeros_like(x))
  p0 = np.asarray(jnp.take_along_axis(jax.nn.softmax(z0), c[:, None], 1))
  assert out["deletion"].shape == (2, steps + 1)
  # Step 0 is the clean image (deletion) or the baseline (insertion).
  check("deletion", 0, p)
  check("deletion", -1, p0[:, 0])
  check("insertion", 0, p0[:, 0])
  check("insertion", -1, p)
  # The trapezoid rule on the same float32 points in another order: both
  # within gamma_(steps + 2) of the exact sum of positive terms.
  np.testing.assert_allclose(
    out["deletion_auc"],
    np.trapezoid(out["deletion"], dx=1 / steps, axis=-1),
    rtol=2 * rounding.gamma(steps + 2),
  )
  # Half way, deletion removed exactly the top half of the pixels.
  top = maps.reshape(2, -1) >= np.median(maps.reshape(2, -1), 1)[:, None]
  half = np.where(top.reshape(2, 6, 6, 1), 0, x)
  zh = module.apply(variables, half)
  ph = jnp.take_along_axis(jax.nn.softmax(zh), c[:, None], 1)[:, 0]
  check("deletion", 2, ph)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
  """Spearman's rho by its definition: the Pearson correlation of the
  average ranks (ties share their mean rank)."""
  return np.corrcoef(scipy.stats.rankdata(a), scipy.stats.rankdata(b))[0, 1]


def test_rank_correlation_is_spearmans_rho_per_image():
  rng = np.random.default_rng(3)
  a = rng.integers(0, 4, (3, 5, 5)).astype(np.float32)  # many ties
  b = a + rng.normal(0, 1.5, a.shape).astype(np.float32)
  b[2] = 7.0  # a constant map has no ranking: NaN
  got = evaluate.rank_correlation(a, b)
  expected = [
    _spearman(x.ravel(), y.ravel()) for x, y in zip(a[:2], b[:2], strict=True)
  ]
  # Both in float64 on 25 ranks: rounding ~25 * 1.1e-16, far below 1e-12.
  np.testing.assert_allclose(got[:2], expected, rtol=1e-12)
  assert np.isnan(got[2])


def test_cascading_randomization():
  module, variables, x = _setup()
  key = jax.random.key(7)

  @jax.jit
  def saliency(v):
    def score(images):
      return module.apply(v, images)[:, 0].sum()

    return jnp.abs(jax.grad(score)(jnp.asarray(x))).sum(-1)

  steps = evaluate.cascading_randomization(module, variables, x, saliency, key)
  assert [name for name, _ in steps] == ["Dense_1", "Dense_0"]
  # The reference: the same cumulative re-initialisation (from module.init
  # with the given key), output layer first, by hand.
  fresh = module.init(key, x[:1])["params"]
  original = np.asarray(saliency(variables))
  params = dict(variables["params"])
  for name, got in steps:
    params[name] = fresh[name]
    maps = np.asarray(saliency({**variables, "params": params}))
    # Randomising a layer changes the maps (by more than rounding).
    change = np.abs(maps - original).max(axis=(1, 2))
    assert np.all(change > 0.1 * np.abs(original).max(axis=(1, 2))), name
    expected = [
      _spearman(o.ravel(), m.ravel())
      for o, m in zip(original, maps, strict=True)
    ]
    # float64 on 36 ranks both ways: rounding ~36 * 1.1e-16, far below 1e-12.
    np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=name)
  # Every layer random: maps unrelated to the trained ones. For independent
  # maps of 36 pixels rho has mean 0 and s.d. 1 / sqrt(35) = 0.17, so 0.9 is
  # over 5 s.d. away.
  assert np.all(np.abs(steps[-1][1]) < 0.9)
