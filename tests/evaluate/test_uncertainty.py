# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Uncertainty, selective prediction, MC dropout and test-time augmentation.

References: wave2_methods.md §4 test vectors; plain Python loops written here
from the definitions (Gal 2016, Houlsby et al. 2011, Geifman et al. 2019);
numpy-built augmented views; the models' eager forward. Float64 against
float64 agrees within a few ulps of the largest term: atol 1e-12.
"""

import functools
import math

import jax
import numpy as np
import pytest

from xaijax import models
from xaijax.evaluate import uncertainty
from xaijax.testing import random_images

ATOL = 1e-12  # float64 vs float64 over <= 10^3 terms of size <= log K.


def reference_entropies(p):
  """(PE, EH, MI) per image by loops, 0·log 0 = 0."""

  def entropy(q):
    return -sum(x * math.log(x) for x in q if x > 0)

  m, n, k = p.shape
  out = []
  for i in range(n):
    mean = [sum(p[s, i, c] for s in range(m)) / m for c in range(k)]
    pe = entropy(mean)
    eh = sum(entropy(p[s, i]) for s in range(m)) / m
    out.append((pe, eh, pe - eh))
  return np.array(out).T


def test_wave2_entropy_vector():
  p = np.array([[[0.7, 0.2, 0.1]], [[0.1, 0.8, 0.1]]])
  assert uncertainty.predictive_entropy(p)[0] == pytest.approx(
    0.943348, abs=1e-6
  )
  assert uncertainty.expected_entropy(p)[0] == pytest.approx(0.720425, abs=1e-6)
  assert uncertainty.mutual_information(p)[0] == pytest.approx(
    0.222923, abs=1e-6
  )


def test_entropies_match_loops_with_zeros():
  rng = np.random.default_rng(0)
  p = rng.dirichlet(np.full(4, 0.3), (5, 30))
  p[0, :5] = [1, 0, 0, 0]  # Certain members: 0·log 0 terms.
  pe, eh, mi = reference_entropies(p)
  np.testing.assert_allclose(uncertainty.predictive_entropy(p), pe, atol=ATOL)
  np.testing.assert_allclose(uncertainty.expected_entropy(p), eh, atol=ATOL)
  np.testing.assert_allclose(uncertainty.mutual_information(p), mi, atol=ATOL)
  assert (uncertainty.mutual_information(p) >= 0).all()


def test_entropy_extremes():
  k = 5
  uniform = np.full((3, 2, k), 1 / k)
  np.testing.assert_allclose(
    uncertainty.predictive_entropy(uniform), math.log(k), rtol=1e-15
  )
  # Members that agree carry no epistemic uncertainty (exactly 0 after the
  # clamp, or a round-off of a few ulps of log K).
  p = np.random.default_rng(1).dirichlet(np.ones(k), 4)
  agree = np.stack([p, p, p])
  assert uncertainty.mutual_information(agree).max() <= 10 * np.finfo(float).eps
  # Members certain of different classes: PE = log 2, EH = 0, MI = log 2.
  split = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
  assert uncertainty.mutual_information(split)[0] == pytest.approx(math.log(2))
  assert uncertainty.expected_entropy(split)[0] == 0


def test_bad_member_probs():
  with pytest.raises(ValueError, match=r"\(M, N, K\)"):
    uncertainty.predictive_entropy(np.full((4, 3), 1 / 3))
  with pytest.raises(ValueError, match="sum to 1"):
    uncertainty.mutual_information(np.full((2, 4, 3), 0.5))


KAPPA = np.array([0.95, 0.9, 0.8, 0.7, 0.6])
CORRECT = np.array([1, 0, 1, 1, 0])


def test_wave2_selective_vector():
  coverage, risk = uncertainty.risk_coverage_curve(KAPPA, CORRECT)
  np.testing.assert_allclose(coverage, [0.2, 0.4, 0.6, 0.8, 1.0])
  np.testing.assert_allclose(risk, [0, 1 / 2, 1 / 3, 1 / 4, 2 / 5])
  assert uncertainty.aurc(KAPPA, CORRECT) == pytest.approx(0.296667, abs=1e-6)
  assert uncertainty.e_aurc(KAPPA, CORRECT) == pytest.approx(0.166667, abs=1e-6)
  # Closed-form oracle r + (1 - r) ln(1 - r) at r = 0.4 is 0.093505.
  assert uncertainty.e_aurc(
    KAPPA, CORRECT, oracle="closed_form"
  ) == pytest.approx(0.296667 - 0.093505, abs=1e-6)


def reference_risks(kappa, correct, group):
  order = sorted(range(len(kappa)), key=lambda i: -kappa[i])  # Stable.
  risks = []
  for m in range(1, len(kappa) + 1):
    end = m
    while (
      group and end < len(kappa) and kappa[order[end]] == kappa[order[m - 1]]
    ):
      end += 1
    risks.append(sum(1 - correct[order[j]] for j in range(end)) / end)
  return np.array(risks)


@pytest.mark.parametrize("ties", ["stable", "group"])
def test_risk_matches_loop_with_ties(ties):
  rng = np.random.default_rng(2)
  kappa = np.round(rng.random(60), 1)  # ~6 images per confidence value.
  correct = rng.random(60) < 0.7
  _, risk = uncertainty.risk_coverage_curve(kappa, correct, ties=ties)
  np.testing.assert_allclose(
    risk, reference_risks(kappa, correct, ties == "group"), atol=ATOL
  )
  assert uncertainty.aurc(kappa, correct, ties=ties) == pytest.approx(
    risk.mean(), abs=ATOL
  )


def test_tie_handling():
  kappa = np.array([0.9, 0.9])
  assert uncertainty.aurc(kappa, [0, 1]) == 0.75  # r = [1, 1/2].
  assert uncertainty.aurc(kappa, [1, 0]) == 0.25  # r = [0, 1/2].
  for correct in ([0, 1], [1, 0]):  # Accepted together: r = [1/2, 1/2].
    assert uncertainty.aurc(kappa, correct, ties="group") == 0.5


def test_perfect_ranking_and_no_errors():
  correct = np.array([1, 1, 0, 1, 0])
  kappa = correct + 0.1 * np.arange(5)  # Every right answer ranked first.
  assert uncertainty.e_aurc(kappa, correct) == 0
  assert uncertainty.aurc(kappa, np.ones(5, bool)) == 0


@pytest.mark.parametrize(
  "kwargs, message",
  [
    ({"confidence": [0.1, 0.2], "correct": [1]}, r"\(N,\)"),
    ({"confidence": [np.nan], "correct": [1]}, "finite"),
    ({"confidence": [0.5], "correct": [2]}, "0/1"),
    ({"confidence": [0.5], "correct": [1], "ties": "mean"}, "ties"),
    ({"confidence": [0.5], "correct": [1], "oracle": "x"}, "oracle"),
  ],
)
def test_bad_selective_input(kwargs, message):
  with pytest.raises(ValueError, match=message):
    uncertainty.e_aurc(**kwargs)


SIZE, K = 32, 3


@functools.cache
def tiny(name):
  """A tiny model, its initial variables and two images, built once: dropout
  has no parameters, so `module.clone(dropout=...)` shares the variables."""
  module = models.create(name, K, tiny=True)
  images = random_images(2, SIZE, seed=3)
  variables = module.init(jax.random.key(0), images)
  return module, variables, images


def with_random_biases(variables):
  """Every bias drawn from N(0, 0.5²): at init the tiny EfficientNet's
  activations decay to ~1e-12 before the classifier, so dropout there would
  change nothing; random biases give the classifier a non-zero input."""
  rng = np.random.default_rng(5)

  def perturb(path, leaf):
    if getattr(path[-1], "key", None) == "bias":
      return leaf + rng.normal(0, 0.5, leaf.shape).astype(leaf.dtype)
    return leaf

  return jax.tree_util.tree_map_with_path(perturb, variables)


@pytest.mark.parametrize("name", ["vgg16", "efficientnet_b0"])
def test_mc_dropout_flag_flips_only_dropout(name):
  # Dropout rate 0: the MC forward must be the eval forward bit for bit, so
  # BatchNorm keeps its running statistics and (EfficientNet) stochastic
  # depth, 0.2 in this module, stays off. Both run eagerly, same ops.
  module, variables, images = tiny(name)
  module = module.clone(dropout=0.0)
  mc = module.apply(
    variables,
    images,
    train=False,
    mc_dropout=True,
    rngs={"dropout": jax.random.key(1)},
  )
  np.testing.assert_array_equal(
    mc, module.apply(variables, images, train=False)
  )


@pytest.mark.parametrize("name", ["vgg16", "efficientnet_b0"])
def test_mc_dropout_samples(name):
  module, variables, images = tiny(name)
  variables = with_random_biases(variables)
  key = jax.random.key(7)
  probs = np.asarray(
    uncertainty.mc_dropout_probs(module, variables, images, key, num_samples=4)
  )
  assert probs.shape == (4, 2, K)
  # float32 softmax of K terms sums to 1 within K·2^-24.
  np.testing.assert_allclose(probs.sum(-1), 1, atol=K * 2**-24 * 4)
  again = uncertainty.mc_dropout_probs(
    module, variables, images, key, num_samples=4
  )
  np.testing.assert_array_equal(probs, again)
  other = uncertainty.mc_dropout_probs(
    module, variables, images, jax.random.key(8), num_samples=4
  )
  assert np.abs(probs - other).max() > 1e-3
  assert np.abs(probs[0] - probs[1]).max() > 1e-3  # Masks differ per pass.
  # Pass m is the eager forward with dropout key split(key, M)[m]. Jitted vs
  # eager float32 differ by reassociation only: the models' parity tolerance
  # (1e-4 relative); another mask would move p by O(1e-2) here.
  keys = jax.random.split(key, 4)
  for m in range(4):
    logits = module.apply(
      variables, images, train=False, mc_dropout=True, rngs={"dropout": keys[m]}
    )
    np.testing.assert_allclose(
      probs[m], jax.nn.softmax(logits), rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize(
  "name, kw, message",
  [
    ("resnet50", {}, "has none"),
    ("densenet121", {}, "has none"),
    ("vgg16", {"dropout": 0.0}, "dropout rate of 0"),
  ],
)
def test_mc_dropout_needs_dropout(name, kw, message):
  module = models.create(name, K, tiny=True, **kw)
  with pytest.raises(ValueError, match=message):
    uncertainty.mc_dropout_probs(module, {}, np.zeros((1, SIZE, SIZE, 3)), None)


def shifted(x, rows, cols):
  """numpy reference: content moved, uncovered border = repeated edge."""
  h, w = x.shape[1:3]
  i = np.clip(np.arange(h) - rows, 0, h - 1)
  j = np.clip(np.arange(w) - cols, 0, w - 1)
  return x[:, i][:, :, j]


def test_tta_views_match_numpy():
  x = random_images(2, 16, seed=4)
  names = tuple(uncertainty.TTA_VIEWS)
  views = np.asarray(uncertainty.tta_views(x, names, shift=3))
  expected = {
    "identity": x,
    "hflip": x[:, :, ::-1],
    "vflip": x[:, ::-1],
    "shift_left": shifted(x, 0, -3),
    "shift_right": shifted(x, 0, 3),
    "shift_up": shifted(x, -3, 0),
    "shift_down": shifted(x, 3, 0),
  }
  for view, name in zip(views, names, strict=True):
    np.testing.assert_array_equal(view, expected[name], err_msg=name)


def test_tta_probs():
  module, variables, images = tiny("vgg16")
  probs = np.asarray(
    uncertainty.tta_probs(module, variables, images, ("identity", "hflip"))
  )
  assert probs.shape == (2, 2, K)
  # Jitted vs eager forward: the models' parity tolerance, as above.
  for view, x in zip(probs, (images, images[:, :, ::-1]), strict=True):
    expected = jax.nn.softmax(module.apply(variables, x, train=False))
    np.testing.assert_allclose(view, expected, rtol=1e-4, atol=1e-6)
  assert uncertainty.tta_probs(module, variables, images).shape == (6, 2, K)


def test_bad_tta():
  x = np.zeros((1, 8, 8, 3), np.float32)
  with pytest.raises(ValueError, match="Unknown or no TTA views"):
    uncertainty.tta_views(x, ("rotate",))
  with pytest.raises(ValueError, match="shift must be in"):
    uncertainty.tta_views(x, shift=8)
