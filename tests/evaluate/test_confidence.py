# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Confidence change on a linear softmax model (§10 T6) and bad input."""

import flax.linen as nn
import jax
import numpy as np
import pytest

from tests import rounding
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


def _errors(variables, x):
  """(logit, probability) error bounds (B,) of one float32 program against
  another (two jitted functions computing the same logits and softmax).

  Each logit is a sum of n = H*W*C products: within gamma_n * sum|w x| of the
  exact value in any order (Higham eq. 3.5), so two programs differ by twice
  that; softmax moves by at most 2 max|dz| (relative to p <= 1) plus its own
  rounding, exp and a sum of K = 4 terms and a division, on each side.
  """
  kernel = np.abs(np.asarray(variables["params"]["Dense_0"]["kernel"]))
  terms = np.abs(x.reshape(len(x), -1)) @ kernel  # (B, K) sum|w x|
  logit = 2 * rounding.gamma(x[0].size) * terms.max(-1)
  return logit, 2 * logit + 2 * rounding.gamma(4 + 2)


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
  dz, dp = _errors(variables, x)  # our program against this one
  # cam ≡ 0: the input is 0 (mean colour), a bias-free model is uniform:
  # exactly 1/4 on both sides, so only p_c's error remains.
  assert np.all(np.abs(s["zeros"]["delta"] - (0.25 - p_c)) <= dp)
  # cam ≡ 1/2 halves the logits (exactly: a power of two) and
  # Δ = softmax(z/2)_c − softmax(z)_c: both probabilities' errors, plus the
  # difference's rounding.
  delta = _at(jax.nn.softmax(z / 2), c) - p_c
  half = s["half"]
  dd = 2 * dp + rounding.EPS32
  assert np.all(np.abs(half["delta"] - delta) <= dd)
  assert np.all(np.abs(half["drop"] - np.maximum(0, -delta)) <= dd)
  # 100 * drop / p_c: the drop's and p_c's errors relative to each, two
  # more roundings.
  drop_pct = 100 * np.maximum(0, -delta) / p_c
  assert np.all(
    np.abs(half["avg_drop_pct"] - drop_pct)
    <= 100 * dd / p_c + drop_pct * (dp / p_c + 2 * rounding.EPS32)
  )
  assert np.all(np.abs(delta) > dd)  # so the signs below are determined
  np.testing.assert_array_equal(half["increase"], delta > 0)
  np.testing.assert_array_equal(half["increase_pct"], 100 * (delta > 0))
  # z(x / 2) - z(x) = -z / 2: both logits' errors and the difference's.
  assert np.all(
    np.abs(half["logit_delta"] + _at(z, c) / 2)
    <= 2 * dz + rounding.EPS32 * np.abs(_at(z, c))
  )
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
  _, dp = _errors(variables, x)  # two probabilities, each side (see above)
  assert np.all(np.abs(got - expected) <= 2 * dp + rounding.EPS32)


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


def test_capture_logits_score_maps_as_a_clean_forward_does():
  """cams_by_layer's logits passed to score_maps (no clean forward of its
  own) give the scores of separate cams + confidence_scores calls."""
  from xaijax import explain

  module = TinyCNN()
  x = np.asarray(jax.random.normal(jax.random.key(2), (2, 8, 8, 3)))
  variables = module.init(jax.random.key(3), x)
  methods = ("gradcam", "layercam")

  def shared(variables, x):
    swept = explain.cams_by_layer(
      module, variables, x, methods=methods, layers="conv"
    )
    maps = swept.maps["conv"]
    return maps, evaluate.score_maps(
      module, variables, x, maps, logits=swept.logits
    )

  def separate(variables, x):
    maps = explain.cams(module, variables, x, methods=methods, layer="conv")
    return maps, evaluate.confidence_scores(module, variables, x, maps)

  maps, scores = shared(variables, x)
  expected_maps, expected = separate(variables, x)
  nudged = rounding.sensitivity(separate, variables, x)
  # Other programs than the separate calls: equal up to the rounding bound
  # of tests/rounding.py; the targets (argmax of the clean logits) exactly.
  for m in methods:
    rounding.assert_close(
      maps[m], expected_maps[m], [n[0][m] for n in nudged], err_msg=m
    )
    np.testing.assert_array_equal(scores[m]["target"], expected[m]["target"])
    for key in ("delta", "logit_delta", "p_clean"):
      rounding.assert_close(
        scores[m][key],
        expected[m][key],
        [n[1][m][key] for n in nudged],
        err_msg=f"{m} {key}",
      )
