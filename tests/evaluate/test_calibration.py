# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Calibration metrics and temperature scaling against independent references.

References: plain loops over bins written here from gpleiss/temperature_
scaling `_ECELoss` and focal_calibration's losses; hand-computed cases with
dyadic numbers (exact in binary, so bin-edge ties are real ties); the test
vectors of wave2_methods.md §3.7; a fine grid and a sampling experiment for
the temperature. Both sides compute in float64: sums of N <= 1000 terms
in [0, 1] agree within N·2^-53 < 1e-12, the tolerance used.
"""

import itertools

import matplotlib.image
import numpy as np
import pytest
import scipy.special

from xaijax import evaluate
from xaijax.evaluate import calibration

ATOL = 1e-12  # float64 vs float64, <= 1000 terms in [0, 1]: N·2^-53.

# wave2_methods.md §3.7.
P = np.array(
  [[0.9, 0.1, 0], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.4, 0.35, 0.25]]
)
Y = np.array([0, 1, 1, 2])


def reference_ece(scores, hits, edges):
  """gpleiss `_ECELoss` as a loop: bins (lo, hi], empty bins skipped."""
  ece = 0.0
  for lo, hi in itertools.pairwise(edges):
    in_bin = (scores > lo) & (scores <= hi)
    share = in_bin.mean()
    if share > 0:
      ece += abs(scores[in_bin].mean() - hits[in_bin].mean()) * share
  return ece


def top_label(p, y):
  return p.max(1), (p.argmax(1) == y).astype(float)


def random_case(seed, n=400, k=4, snap=None):
  """Dirichlet probabilities; with `snap`, rounded to multiples of it."""
  rng = np.random.default_rng(seed)
  p = rng.dirichlet(np.full(k, 0.7), n)
  if snap is not None:  # Put many confidences exactly on bin edges.
    p[:, 0] = np.round(p[:, 0] / snap) * snap
    p[:, 1] = 1 - p[:, 0]
    p[:, 2:] = 0
  return p, rng.integers(0, k, n)


def test_wave2_vectors():
  assert evaluate.expected_calibration_error(P, Y) == pytest.approx(0.35)
  assert calibration.adaptive_ece(P, Y, n_bins=2) == pytest.approx(0.1)
  assert calibration.adaptive_ece(P, Y) == pytest.approx(0.25)
  assert calibration.classwise_ece(P, Y) == pytest.approx(0.308333, abs=1e-6)
  assert calibration.brier_score(P, Y) == pytest.approx(0.46625)
  assert calibration.brier_score(
    P, Y, reduction="mean_classes"
  ) == pytest.approx(0.155417, abs=1e-6)
  assert calibration.negative_log_likelihood(P, Y) == pytest.approx(
    0.763076, abs=1e-6
  )


def test_hand_made_edges_empty_bins_and_certainty():
  # 4 bins with edges 0, .25, .5, .75, 1, confidences ON the edges and 1.0.
  probs = np.array(
    [[0.5, 0.5], [0.75, 0.25], [0.0, 1.0], [1.0, 0.0], [0.625, 0.375]]
  )
  labels = np.array([1, 0, 1, 1, 0])
  # (0, .25]: empty. (.25, .5]: 0.5 (argmax tie -> class 0, wrong): gap .5.
  # (.5, .75]: .75 right, .625 right: |1.375 - 2| = .625.
  # (.75, 1]: 1.0 right, 1.0 wrong: |2 - 1| = 1. ECE = 2.125 / 5.
  assert evaluate.expected_calibration_error(probs, labels, 4) == 0.425
  assert calibration.maximum_calibration_error(probs, labels, 4) == 0.5
  diagram = calibration.reliability_diagram(probs, labels, 4)
  np.testing.assert_array_equal(diagram.count, [0, 1, 2, 2])
  np.testing.assert_array_equal(diagram.confidence, [np.nan, 0.5, 0.6875, 1])
  np.testing.assert_array_equal(diagram.accuracy, [np.nan, 0, 1, 0.5])
  # Brier: .5 + .125 + 0 + 2 + 2 * .375**2 = 2.90625.
  assert calibration.brier_score(probs, labels) == 2.90625 / 5
  # p_y = 0 for the fourth image: clipped at eps = 1e-12.
  expected = -np.log([0.5, 0.75, 1.0, 1e-12, 0.625]).mean()
  assert calibration.negative_log_likelihood(probs, labels) == pytest.approx(
    expected, rel=1e-15
  )


@pytest.mark.parametrize("n_bins", [1, 2, 7, 8, 15, 100])
@pytest.mark.parametrize("snap", [None, 1 / 16])
def test_binned_metrics_match_reference_loops(n_bins, snap):
  p, y = random_case(n_bins, snap=snap)
  conf, hits = top_label(p, y)
  edges = np.linspace(0, 1, n_bins + 1)
  assert evaluate.expected_calibration_error(p, y, n_bins) == pytest.approx(
    reference_ece(conf, hits, edges), abs=ATOL
  )
  n = len(conf)
  adaptive = np.interp(
    np.linspace(0, n, n_bins + 1), np.arange(n), np.sort(conf)
  )
  assert calibration.adaptive_ece(p, y, n_bins) == pytest.approx(
    reference_ece(conf, hits, adaptive), abs=ATOL
  )
  classwise = np.mean(
    [
      reference_ece(p[:, k], (y == k).astype(float), edges)
      for k in range(p.shape[1])
    ]
  )
  assert calibration.classwise_ece(p, y, n_bins) == pytest.approx(
    classwise, abs=ATOL
  )
  diagram = calibration.reliability_diagram(p, y, n_bins)
  for b, (lo, hi) in enumerate(itertools.pairwise(edges)):
    in_bin = (conf > lo) & (conf <= hi)
    assert diagram.count[b] == in_bin.sum()
    if in_bin.any():
      assert diagram.accuracy[b] == pytest.approx(hits[in_bin].mean(), abs=ATOL)
      gap = abs(conf[in_bin].mean() - hits[in_bin].mean())
      assert calibration.maximum_calibration_error(p, y, n_bins) >= gap - ATOL


def test_brier_and_nll_reference():
  p, y = random_case(3)
  onehot = np.eye(p.shape[1])[y]
  assert calibration.brier_score(p, y) == pytest.approx(
    np.mean([((pi - oi) ** 2).sum() for pi, oi in zip(p, onehot, strict=True)]),
    abs=ATOL,
  )
  assert calibration.negative_log_likelihood(p, y) == pytest.approx(
    -np.mean([np.log(pi[yi]) for pi, yi in zip(p, y, strict=True)]), rel=1e-12
  )
  metrics = calibration.calibration_metrics(p, y)
  assert set(metrics) == {
    "ece",
    "mce",
    "adaptive_ece",
    "classwise_ece",
    "brier",
    "nll",
  }
  assert metrics["ece"] == evaluate.expected_calibration_error(p, y)


def test_float32_probs_are_accepted():
  z = np.random.default_rng(0).normal(size=(50, 10)).astype(np.float32)
  p32 = np.asarray(scipy.special.softmax(z, axis=1), np.float32)
  y = np.arange(50) % 10
  conf, hits = top_label(p32.astype(np.float64), y)
  assert evaluate.expected_calibration_error(p32, y) == pytest.approx(
    reference_ece(conf, hits, np.linspace(0, 1, 16)), abs=ATOL
  )


def test_reliability_png(tmp_path):
  p, y = random_case(4)
  path = tmp_path / "figs" / "reliability.png"
  calibration.save_reliability_diagram(
    path, calibration.reliability_diagram(p, y), title="ECE"
  )
  image = matplotlib.image.imread(path)
  assert image.shape == (520, 400, 4)  # 4 x 5.2 inches at 100 dpi, RGBA.
  assert image[..., :3].std() > 0  # Something was drawn.


@pytest.mark.parametrize(
  "probs, labels, message",
  [
    (np.array([[0.5, 0.4]]), [0], "sum to 1"),
    (np.array([[1.5, -0.5]]), [0], r"in \[0, 1\]"),
    (np.array([[2.0, -1.0, 3.0]]), [0], "not logits"),
    (np.array([[0.5, 0.5]]), [2], r"labels must lie in \[0, 2\)"),
    (np.array([[0.5, 0.5]]), [-1], r"labels must lie in \[0, 2\)"),
    (np.array([[0.5, 0.5]]), [0.0], "integer class indices"),
    (np.array([[0.5, 0.5]]), [0, 1], "labels must be"),
    (np.array([0.5, 0.5]), [0], r"\(N, K\)"),
    (np.array([[np.nan, 0.5]]), [0], "finite"),
  ],
)
def test_bad_input(probs, labels, message):
  with pytest.raises(ValueError, match=message):
    evaluate.expected_calibration_error(probs, np.asarray(labels))


@pytest.mark.parametrize("n_bins", [0, -3, 1.5, True])
def test_bad_n_bins(n_bins):
  with pytest.raises(ValueError, match="n_bins must be an integer >= 1"):
    evaluate.expected_calibration_error(P, Y, n_bins)


def test_bad_reduction_and_temperature():
  with pytest.raises(ValueError, match="reduction"):
    calibration.brier_score(P, Y, reduction="mean")
  with pytest.raises(ValueError, match="temperature must be > 0"):
    calibration.apply_temperature(np.zeros((2, 2)), 0.0)
  with pytest.raises(ValueError, match="bounds"):
    calibration.fit_temperature(np.zeros((2, 2)), [0, 1], bounds=(2, 1))


def nll(z, y, t):
  s = z / t
  return np.mean(scipy.special.logsumexp(s, 1) - s[np.arange(len(y)), y])


def test_temperature_wave2_vector_and_grid():
  z = np.array([[2, 0, -1], [0.5, 1.5, 0], [3, 0, 0], [0, 0.2, 0.1]])
  assert nll(z, Y, 1.0) == pytest.approx(1.207770, abs=1e-6)
  assert nll(z, Y, 1.5) == pytest.approx(1.076827, abs=1e-6)
  t = calibration.fit_temperature(z, Y)
  assert t == pytest.approx(2.7944, abs=5e-5)  # The vector has 4 decimals.
  assert nll(z, Y, t) == pytest.approx(1.031007, abs=1e-6)
  # A 1e-5 grid around the optimum: Brent's answer is within one step of
  # the grid's best and no grid point has a lower NLL (beyond round-off).
  grid = np.arange(2.7, 2.9, 1e-5)
  values = np.array([nll(z, Y, g) for g in grid])
  assert abs(t - grid[values.argmin()]) <= 1e-5
  assert nll(z, Y, t) <= values.min() + 1e-12


def test_temperature_recovers_the_generating_temperature():
  # Labels drawn from softmax(z / T0): the MLE of beta = 1/T has standard
  # error 1/sqrt(Σ_i Var_{p_i}(z_i)) (Fisher information of a softmax in its
  # scale); 5 standard errors bound a false failure by 6e-7.
  rng = np.random.default_rng(0)
  n, k, t0 = 4000, 5, 2.0
  z = rng.normal(0.0, 3.0, (n, k))
  p0 = scipy.special.softmax(z / t0, axis=1)
  y = (rng.random((n, 1)) > np.cumsum(p0, axis=1)).sum(1)
  fisher = ((p0 * z**2).sum(1) - (p0 * z).sum(1) ** 2).sum()
  beta = 1 / calibration.fit_temperature(z, y)
  assert abs(beta - 1 / t0) < 5 / np.sqrt(fisher)


def test_apply_temperature():
  z = np.random.default_rng(1).normal(size=(20, 4)).astype(np.float32)
  scaled = calibration.apply_temperature(z, 2.5)
  assert scaled.dtype == np.float32
  np.testing.assert_array_equal(scaled.argmax(1), z.argmax(1))
  np.testing.assert_allclose(scaled, z / np.float32(2.5), rtol=0)
  ints = calibration.apply_temperature(np.array([[3, 1]]), 2.0)
  np.testing.assert_array_equal(ints, [[1.5, 0.5]])


def test_optimum_outside_the_bounds_returns_the_nearer_bound():
  z = np.array([[5.0, 0.0], [0.0, 5.0]])
  separable = calibration.fit_temperature(z, [0, 1], bounds=(0.1, 10))
  assert separable == 0.1
  always_wrong = calibration.fit_temperature(z, [1, 0], bounds=(0.1, 10))
  assert always_wrong == 10
