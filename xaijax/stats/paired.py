# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Paired tests, multiple-comparison correction and bootstrap intervals.

Every test compares two measurements made on the same units (images, folds or
seeds): `a[i]` and `b[i]` belong together. Statistics come from
`scipy.stats`; this module adds the effect size, the interval of the mean
difference, and a plain-language `note` for degenerate inputs (n < 2, zero
variance of the differences) instead of scipy's bare NaN and warnings.
"""

import dataclasses
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import scipy.stats


@dataclasses.dataclass(frozen=True)
class PairedResult:
  """One paired comparison of `a` against `b` (differences d = a − b).

  Attributes:
    test: 'ttest' (scipy.stats.ttest_rel) or 'wilcoxon'
      (scipy.stats.wilcoxon).
    statistic: t, or Wilcoxon's W (the smaller signed-rank sum).
    pvalue: two-sided p-value (NaN when undefined, see `note`).
    mean_diff: mean of d.
    ci_low, ci_high: confidence interval of the mean of d (t-based for the
      t-test; NaN for Wilcoxon, use `bootstrap_ci`).
    effect_size: Cohen's d_z = mean(d) / sd(d) for the t-test; the
      matched-pairs rank-biserial correlation for Wilcoxon.
    n: number of pairs.
    note: '' or why the result is degenerate.
  """

  test: str
  statistic: float
  pvalue: float
  mean_diff: float
  ci_low: float
  ci_high: float
  effect_size: float
  n: int
  note: str = ""

  def as_dict(self) -> dict:
    return dataclasses.asdict(self)


def _paired_differences(a, b) -> np.ndarray:
  a = np.asarray(a, np.float64)
  b = np.asarray(b, np.float64)
  if a.ndim != 1 or a.shape != b.shape:
    raise ValueError(
      f"Paired tests need two 1-D arrays of equal length (one value per "
      f"paired unit); got shapes {a.shape} and {b.shape}."
    )
  if not (np.isfinite(a).all() and np.isfinite(b).all()):
    raise ValueError(
      "Paired tests got NaN or inf values; drop the unscored units from "
      "both arrays first (e.g. images without a mask)."
    )
  return a - b


def _degenerate_note(d: np.ndarray) -> str:
  if d.size < 2:
    return f"n={d.size} < 2: no test possible"
  if np.all(d == d[0]):
    return "zero variance of the differences"
  return ""


def paired_ttest(a, b, *, confidence: float = 0.95) -> PairedResult:
  """Student's paired t-test, equal to `scipy.stats.ttest_rel(a, b)`.

  Args:
    a, b: (n,) measurements on the same n units.
    confidence: level of the interval of the mean difference.

  Returns:
    A `PairedResult`. With n < 2 every statistic is NaN. With zero variance
    of the differences, t is ±inf and p = 0 when the mean difference is
    nonzero, NaN when the arrays are identical (scipy's conventions), and
    `note` says so.
  """
  d = _paired_differences(a, b)
  note = _degenerate_note(d)
  n = d.size
  if n < 2:
    mean = float(d.mean()) if n else math.nan
    return PairedResult(
      "ttest", math.nan, math.nan, mean, math.nan, math.nan, math.nan, n, note
    )
  with warnings.catch_warnings():
    # Zero-variance inputs warn about precision loss; `note` reports them.
    warnings.simplefilter("ignore", RuntimeWarning)
    result = scipy.stats.ttest_rel(a, b)
    interval = result.confidence_interval(confidence)
  sd = d.std(ddof=1)
  mean = d.mean()
  if sd > 0:
    d_z = mean / sd
  else:
    d_z = math.copysign(math.inf, mean) if mean else math.nan
  return PairedResult(
    "ttest",
    float(result.statistic),
    float(result.pvalue),
    float(mean),
    float(interval.low),
    float(interval.high),
    float(d_z),
    n,
    note,
  )


def wilcoxon(a, b) -> PairedResult:
  """Wilcoxon signed-rank test, equal to `scipy.stats.wilcoxon(a, b)`.

  Zero differences are dropped (scipy's default 'wilcox' method). The effect
  size is the matched-pairs rank-biserial correlation
  r = (R+ − R−) / (R+ + R−) over the non-zero differences.

  Args:
    a, b: (n,) measurements on the same n units.
  """
  d = _paired_differences(a, b)
  nonzero = d[d != 0]
  mean = float(d.mean()) if d.size else math.nan
  if nonzero.size == 0:
    note = _degenerate_note(d) or "all differences are zero"
    return PairedResult(
      "wilcoxon", math.nan, math.nan, mean, math.nan, math.nan, math.nan,
      d.size, note,
    )  # fmt: skip
  result = scipy.stats.wilcoxon(a, b)
  ranks = scipy.stats.rankdata(np.abs(nonzero))
  positive = ranks[nonzero > 0].sum()
  negative = ranks[nonzero < 0].sum()
  return PairedResult(
    "wilcoxon",
    float(result.statistic),
    float(result.pvalue),
    mean,
    math.nan,
    math.nan,
    float((positive - negative) / ranks.sum()),
    d.size,
    _degenerate_note(d),
  )


def holm(pvalues: Sequence[float], alpha: float = 0.05):
  """Holm–Bonferroni step-down correction.

  Sort the m p-values ascending, p_(1) ≤ … ≤ p_(m); the adjusted value is
  p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)), and H_(i) is rejected when
  p̃_(i) ≤ alpha. NaN p-values (degenerate tests) stay NaN, are never
  rejected and do not count in m.

  Args:
    pvalues: (m,) raw p-values of one family of comparisons.
    alpha: family-wise error rate.

  Returns:
    (adjusted p-values (m,), rejected (m,) bool), in the input order.
  """
  p = np.asarray(pvalues, np.float64)
  adjusted = np.full(p.shape, np.nan)
  valid = np.flatnonzero(~np.isnan(p))
  order = valid[np.argsort(p[valid], kind="stable")]
  m = order.size
  factors = m - np.arange(m)
  adjusted[order] = np.minimum(1.0, np.maximum.accumulate(factors * p[order]))
  rejected = np.zeros(p.shape, bool)
  rejected[valid] = adjusted[valid] <= alpha
  return adjusted, rejected


def bootstrap_ci(
  values,
  *,
  seed: int,
  statistic: Callable = np.mean,
  confidence: float = 0.95,
  n_resamples: int = 9999,
  method: str = "BCa",
) -> tuple[float, float]:
  """Seeded bootstrap interval of `statistic(values)` (scipy.stats.bootstrap).

  Args:
    values: (n,) sample.
    seed: seed of the resampling generator (results are reproducible).
    statistic: function of a 1-D sample, vectorised over `axis`.
    confidence: interval level.
    n_resamples: bootstrap resamples.
    method: 'BCa', 'percentile' or 'basic'.

  Returns:
    (low, high); (NaN, NaN) when n < 2 or the sample is constant, where no
    interval can be resampled.
  """
  x = np.asarray(values, np.float64)
  if x.ndim != 1:
    raise ValueError(f"bootstrap_ci needs a 1-D sample, got shape {x.shape}.")
  if x.size < 2 or np.all(x == x[0]):
    return math.nan, math.nan
  result = scipy.stats.bootstrap(
    (x,),
    statistic,
    confidence_level=confidence,
    n_resamples=n_resamples,
    method=method,
    rng=np.random.default_rng(seed),
  )
  interval = result.confidence_interval
  return float(interval.low), float(interval.high)


def t_interval(values, confidence: float = 0.95) -> tuple[float, float]:
  """Student-t interval of the mean of `values` (n,); NaN when n < 2."""
  x = np.asarray(values, np.float64)
  if x.size < 2:
    return math.nan, math.nan
  sem = scipy.stats.sem(x)
  if sem == 0:
    return float(x.mean()), float(x.mean())
  low, high = scipy.stats.t.interval(confidence, x.size - 1, x.mean(), sem)
  return float(low), float(high)
