# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Classification metrics against hand-worked cases and brute force."""

# Both sides compute in float64 on at most a few dozen values: they agree to
# ~n * 1.1e-16 (n <= 60), and a hand-worked fraction to its last bit. The
# default tolerances (assert_allclose's rtol 1e-7, pytest.approx's 1e-6) sit
# far above that rounding and far below any real error (>= 1 / 60 here).

import itertools

import numpy as np
import pytest
import scipy.stats

from xaijax.evaluate.classification import binary_auc, classification_metrics


def test_hand_worked_three_classes():
  labels = np.array([0, 0, 0, 1, 1, 2])
  preds = np.array([0, 0, 1, 1, 2, 2])
  probs = np.eye(3)[preds] * 0.8 + 0.2 / 3
  m = classification_metrics(labels, probs)
  np.testing.assert_array_equal(
    m["confusion_matrix"], [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
  )
  assert m["accuracy"] == pytest.approx(4 / 6)
  np.testing.assert_allclose(m["recall"], [2 / 3, 1 / 2, 1])
  np.testing.assert_allclose(m["precision"], [1, 1 / 2, 1 / 2])
  f1 = [0.8, 0.5, 2 / 3]
  np.testing.assert_allclose(m["f1"], f1)
  assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
  assert m["macro_f1"] == pytest.approx(np.mean(f1))
  assert m["num_examples"] == 6


def _pairwise_auc(positive, scores):
  """P(score_pos > score_neg) + P(tie) / 2 over all pairs: the definition."""
  pos, neg = scores[positive], scores[~positive]
  wins = [(p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg)]
  return np.mean(wins)


def test_auc_matches_the_pairwise_definition_with_ties():
  rng = np.random.default_rng(0)
  scores = rng.integers(0, 5, 40).astype(float)  # many ties
  positive = rng.random(40) < 0.4
  assert binary_auc(positive, scores) == pytest.approx(
    _pairwise_auc(positive, scores)
  )
  u = scipy.stats.mannwhitneyu(scores[positive], scores[~positive]).statistic
  assert binary_auc(positive, scores) == pytest.approx(
    u / (positive.sum() * (~positive).sum())
  )


def test_binary_auc_uses_class_one():
  labels = np.array([0, 0, 1, 1])
  probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.65, 0.35], [0.2, 0.8]])
  # Pairs (pos, neg): (0.35 > 0.1), (0.35 < 0.6), (0.8 > 0.1), (0.8 > 0.6).
  assert classification_metrics(labels, probs)["roc_auc"] == pytest.approx(0.75)


def test_multiclass_auc_is_the_ovr_macro_mean():
  rng = np.random.default_rng(1)
  labels = rng.integers(0, 4, 60)
  probs = rng.dirichlet(np.ones(4), 60)
  expected = np.mean(
    [_pairwise_auc(labels == k, probs[:, k]) for k in range(4)]
  )
  m = classification_metrics(labels, probs)
  assert m["roc_auc"] == pytest.approx(expected)


def test_absent_class_is_left_out_of_the_means():
  labels = np.array([0, 0, 1, 1])
  probs = np.array([[0.9, 0.1, 0], [0.8, 0.2, 0], [0.1, 0.9, 0], [0, 0, 1]])
  m = classification_metrics(labels, probs)
  # Class 2 never occurs: recall averages classes 0 and 1; F1 also
  # includes class 2, which was predicted once (F1 0).
  assert m["balanced_accuracy"] == pytest.approx((1 + 0.5) / 2)
  assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
  # Only classes 0 and 1 have positives: AUC 1 for class 0; for class 1,
  # positive scores (0.9, 0) against negatives (0.1, 0.2) win 2 of 4 pairs.
  assert m["roc_auc"] == pytest.approx((1 + 0.5) / 2)


def test_bad_input_is_named():
  with pytest.raises(ValueError, match=r"labels \(N,\) and probs \(N, K\)"):
    classification_metrics(np.zeros(3, int), np.zeros((4, 2)))
  with pytest.raises(ValueError, match=r"Labels must lie in \[0, 2\)"):
    classification_metrics(np.array([0, 2]), np.zeros((2, 2)))
  with pytest.raises(ValueError, match="empty"):
    classification_metrics(np.zeros(0, int), np.zeros((0, 2)))
