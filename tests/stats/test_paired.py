# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Paired tests equal scipy; Holm on a hand-worked case; pairings."""

# Both sides compute in float64 on at most 40 values (scipy's t and normal
# distribution functions are accurate to ~1e-14 relative): they agree to far
# better than assert_allclose's default rtol 1e-7, which is still far below
# any real difference (another formula changes a statistic or p-value in its
# leading digits).

import math

import numpy as np
import pytest
import scipy.stats

from xaijax import stats


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_ttest_equals_scipy(seed):
  rng = np.random.default_rng(seed)
  n = int(rng.integers(5, 40))
  a = rng.normal(size=n)
  b = a + rng.normal(0.3, 1.0, size=n)
  r = stats.paired_ttest(a, b)
  ref = scipy.stats.ttest_rel(a, b)
  np.testing.assert_allclose(
    [r.statistic, r.pvalue], [ref.statistic, ref.pvalue]
  )
  d = a - b
  half = scipy.stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)
  np.testing.assert_allclose(
    [r.mean_diff, r.ci_low, r.ci_high],
    [d.mean(), d.mean() - half, d.mean() + half],
  )
  np.testing.assert_allclose(r.effect_size, d.mean() / d.std(ddof=1))
  assert r.n == n and r.note == ""


@pytest.mark.parametrize("seed", [0, 1])
def test_wilcoxon_equals_scipy(seed):
  rng = np.random.default_rng(seed)
  a, b = rng.normal(size=(2, 25))
  r = stats.wilcoxon(a, b)
  ref = scipy.stats.wilcoxon(a, b)
  np.testing.assert_allclose(
    [r.statistic, r.pvalue], [ref.statistic, ref.pvalue]
  )
  d = a - b
  ranks = scipy.stats.rankdata(np.abs(d))
  expected = (ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum()
  np.testing.assert_allclose(r.effect_size, expected)


def test_degenerate_inputs_are_explained():
  one = stats.paired_ttest([1.0], [0.0])
  assert math.isnan(one.pvalue) and "n=1 < 2" in one.note
  shift = stats.paired_ttest([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
  assert shift.statistic == math.inf and shift.pvalue == 0
  assert shift.effect_size == math.inf and "zero variance" in shift.note
  same = stats.paired_ttest([1.0, 2.0], [1.0, 2.0])
  assert math.isnan(same.pvalue) and "zero variance" in same.note
  assert math.isnan(stats.wilcoxon([1.0, 2.0], [1.0, 2.0]).pvalue)
  with pytest.raises(ValueError, match="equal length"):
    stats.paired_ttest([1.0, 2.0], [1.0])
  with pytest.raises(ValueError, match="NaN"):
    stats.paired_ttest([1.0, np.nan], [1.0, 2.0])


def test_holm_hand_worked():
  # Sorted: .01 (x4 = .04), .02 (x3 = .06), .03 (x2 = .06), .04 (x1 = .04
  # -> monotone max .06). Rejected at .05: only the first.
  adjusted, rejected = stats.holm([0.03, 0.01, 0.04, 0.02], alpha=0.05)
  np.testing.assert_allclose(adjusted, [0.06, 0.04, 0.06, 0.06])
  np.testing.assert_array_equal(rejected, [False, True, False, False])
  adjusted, rejected = stats.holm([0.5, np.nan, 0.001])
  np.testing.assert_allclose(adjusted, [0.5, np.nan, 0.002])
  np.testing.assert_array_equal(rejected, [False, False, True])


def test_bootstrap_is_seeded():
  x = np.random.default_rng(0).normal(1.0, 1.0, 30)
  a = stats.bootstrap_ci(x, seed=3, n_resamples=999)
  assert a == stats.bootstrap_ci(x, seed=3, n_resamples=999)
  assert a[0] < x.mean() < a[1]
  assert all(math.isnan(v) for v in stats.bootstrap_ci([1.0, 1.0], seed=0))


def test_align_and_grid():
  records = [
    {"image": i, "class": c, "method": m, "delta": v}
    for i, c, m, v in [
      (0, "a", "x", 0.1), (0, "a", "y", 0.0),
      (1, "a", "x", 0.3), (1, "a", "y", 0.1),
      (2, "a", "x", 0.2), (2, "a", "y", 0.1),
      (3, "b", "x", 0.5), (3, "b", "y", 0.6),
      (4, "b", "x", 0.4),  # unpaired: dropped
      (5, "b", "x", 0.1), (5, "b", "y", 0.3),
    ]
  ]  # fmt: skip
  aligned = stats.align(
    records, unit="image", arm="method", value="delta", group="class",
    pooled=True,
  )  # fmt: skip
  np.testing.assert_allclose(aligned["b"]["x"], [0.5, 0.1])
  assert len(aligned["all"]["x"]) == 5
  rows = stats.compare_grid(aligned)
  assert [(r["group"], r["a"], r["b"]) for r in rows] == [
    ("a", "x", "y"), ("b", "x", "y"), ("all", "x", "y"),
  ]  # fmt: skip
  raw = [r["pvalue"] for r in rows]
  np.testing.assert_allclose([r["p_holm"] for r in rows], stats.holm(raw)[0])
  ref = scipy.stats.ttest_rel([0.1, 0.3, 0.2], [0.0, 0.1, 0.1])
  np.testing.assert_allclose(rows[0]["pvalue"], ref.pvalue)
  with pytest.raises(ValueError, match="appears twice"):
    stats.align(
      records + records[:1], unit="image", arm="method", value="delta"
    )


def test_model_pairings():
  labels = np.array([0, 1, 2])
  probs = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
  np.testing.assert_array_equal(stats.correctness(labels, probs), [1, 0, 1])
  np.testing.assert_allclose(
    stats.true_class_probability(labels, probs), [0.7, 0.3, 0.8]
  )
