# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Confidence change on a linear softmax model (§10 T6) and bad input."""

import flax.linen as nn
import jax
import numpy as np
import pytest

from xaijax import evaluate


class Linear(nn.Module):
  """f(x) = W · vec(x), no bias: logits in closed form."""

  @nn.compact
  def __call__(self, x, train=False):
    del train
    return nn.Dense(4, use_bias=False)(x.reshape(x.shape[0], -1))


@pytest.fixture(scope="module")
def linear():
  module = Linear()
  x = np.asarray(jax.random.normal(jax.random.key(0), (2, 4, 4, 3)))
  return module, module.init(jax.random.key(1), x), x


def _at(values, c):
  return np.take_along_axis(np.asarray(values), c[:, None], 1)[:, 0]


def test_t6_constant_maps_and_closed_form(linear):
  module, variables, x = linear
  ones = np.ones(x.shape[:3], np.float32)
  s = evaluate.confidence_scores(
    module, variables, x,
    {"ones": ones, "zeros": 0 * ones, "half": 0.5 * ones},
  )  # fmt: skip
  for key in ("delta", "drop", "increase", "logit_delta", "avg_drop_pct"):
    np.testing.assert_array_equal(s["ones"][key], 0, err_msg=key)
  z = np.asarray(module.apply(variables, x))
  c = z.argmax(-1)
  p_c = _at(jax.nn.softmax(z), c)
  # cam ≡ 0: the input is 0 (mean colour), a bias-free model is uniform.
  np.testing.assert_allclose(s["zeros"]["delta"], 0.25 - p_c, atol=1e-6)
  # cam ≡ 1/2 halves the logits: Δ = softmax(z/2)_c − softmax(z)_c.
  delta = _at(jax.nn.softmax(z / 2), c) - p_c
  half = s["half"]
  np.testing.assert_allclose(half["delta"], delta, atol=1e-6)
  np.testing.assert_allclose(half["drop"], np.maximum(0, -delta), atol=1e-6)
  np.testing.assert_allclose(
    half["avg_drop_pct"], 100 * np.maximum(0, -delta) / p_c, rtol=1e-4
  )
  np.testing.assert_array_equal(half["increase"], delta > 0)
  np.testing.assert_array_equal(half["increase_pct"], 100 * (delta > 0))
  np.testing.assert_allclose(half["logit_delta"], -_at(z, c) / 2, rtol=1e-5)
  np.testing.assert_array_equal(half["target"], c)


def test_given_targets_are_scored(linear):
  module, variables, x = linear
  maps = np.full(x.shape[:3], 0.5, np.float32)
  targets = np.array([1, 2])
  got = evaluate.confidence_change(module, variables, x, maps, targets)
  z = np.asarray(module.apply(variables, x))
  expected = _at(jax.nn.softmax(z / 2), targets) - _at(
    jax.nn.softmax(z), targets
  )
  np.testing.assert_allclose(got, expected, atol=1e-6)


def test_bad_input_is_a_clear_error(linear):
  module, variables, x = linear
  with pytest.raises(ValueError, match=r"expected \(B, H, W\)"):
    evaluate.confidence_change(module, variables, x, np.ones((2, 4, 5)))
  with pytest.raises(ValueError, match="one class per image"):
    evaluate.confidence_change(
      module, variables, x, np.ones((2, 4, 4)), targets=[1]
    )
  with pytest.raises(ValueError, match=r"lie in \[0, 4\)"):
    evaluate.confidence_change(
      module, variables, x, np.ones((2, 4, 4)), targets=[1, 9]
    )


class TinyCNN(nn.Module):
  @nn.compact
  def __call__(self, x, train=False):
    del train
    h = nn.relu(nn.Conv(4, (3, 3), name="conv")(x))
    return nn.Dense(3, name="fc")(h.mean((1, 2)))


def test_fused_cams_and_confidence_equal_separate_calls():
  from xaijax import explain

  module = TinyCNN()
  x = np.asarray(jax.random.normal(jax.random.key(2), (2, 8, 8, 3)))
  variables = module.init(jax.random.key(3), x)
  methods = ("gradcam", "layercam")
  maps, scores = evaluate.cams_and_confidence(
    module, variables, x, methods=methods, layer="conv"
  )
  expected_maps = explain.cams(
    module, variables, x, methods=methods, layer="conv"
  )
  expected = evaluate.confidence_scores(module, variables, x, expected_maps)
  for m in methods:
    np.testing.assert_allclose(maps[m], expected_maps[m], atol=1e-6)
    for key in ("delta", "logit_delta", "target", "p_clean"):
      np.testing.assert_allclose(
        scores[m][key], expected[m][key], atol=1e-6, err_msg=key
      )
