# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Calibration of predicted probabilities, and temperature scaling.

* `expected_calibration_error`: top-label ECE over equal-width bins (Guo et
  al. 2017; gpleiss/temperature_scaling `_ECELoss`).
* `maximum_calibration_error`: the largest bin gap of the same bins.
* `adaptive_ece`: top-label ECE over equal-mass bins as Mukhoti et al. 2020
  define it (focal_calibration `AdaptiveECELoss`), not Nixon et al.'s ACE.
* `classwise_ece`: Kull et al. 2019's classwise ECE.
* `brier_score` (multiclass, Brier 1950) and `negative_log_likelihood`.
* `reliability_diagram` (+ `save_reliability_diagram`, a PNG).
* `fit_temperature` / `apply_temperature` (Guo et al. 2017).

Bins are right-closed, (lo, hi], as in the reference code: a score of 0 is
in no bin and a score of 1 is in the last one. Edges are float64
`np.linspace(0, 1, n_bins + 1)` and scores are compared in float64, so a
float32 confidence on an edge (0.6f = 0.6000000238) goes to the bin above it.

These are reductions over (N, K) numbers on the host, in float64 like
`classification_metrics`: exact, cheap, and free of the compile per shape a
jitted version would cost. Definitions, defaults and sources:
docs/evaluate.md, "Calibration".
"""

import dataclasses
import os

import numpy as np
import scipy.optimize
import scipy.special
from matplotlib.figure import Figure

# Probabilities must sum to 1 within this: float32 softmax rows of up to
# ~10^4 classes sum to 1 within K·2^-24 < 1e-3.
_SUM_TOLERANCE = 1e-3


def check_probs(probs, labels=None) -> tuple[np.ndarray, np.ndarray | None]:
  """Validated float64 probabilities (..., N, K) and int64 labels (N,).

  Raises:
    ValueError: probabilities that are not finite, outside [0, 1] or whose
      rows do not sum to 1; labels of the wrong shape, not integers, or
      outside [0, K).
  """
  p = np.asarray(probs, np.float64)
  if p.ndim < 2 or p.shape[-2] == 0 or p.shape[-1] < 2:
    raise ValueError(
      f"probs must be (N, K) probabilities with N >= 1 and K >= 2; got shape "
      f"{p.shape}."
    )
  if not np.isfinite(p).all() or p.min() < 0 or p.max() > 1 + _SUM_TOLERANCE:
    raise ValueError(
      "probs must be finite probabilities in [0, 1]; got values in "
      f"[{p.min()}, {p.max()}] (pass softmax(logits), not logits)."
    )
  worst = np.abs(p.sum(-1) - 1).max()
  if worst > _SUM_TOLERANCE:
    raise ValueError(
      f"probs rows must sum to 1 (within {_SUM_TOLERANCE}); the worst row is "
      f"off by {worst:.3g} (pass softmax(logits) over the class axis)."
    )
  p = np.clip(p, 0.0, 1.0)
  if labels is None:
    return p, None
  y = np.asarray(labels)
  if y.shape != p.shape[-2:-1]:
    raise ValueError(
      f"labels must be (N,) = {p.shape[-2:-1]} to match probs {p.shape}; got "
      f"{y.shape}."
    )
  if not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
    raise ValueError(
      f"labels must be integer class indices; got dtype {y.dtype}."
    )
  k = p.shape[-1]
  if y.min() < 0 or y.max() >= k:
    raise ValueError(
      f"labels must lie in [0, {k}) for probs with {k} classes; got range "
      f"[{y.min()}, {y.max()}]."
    )
  return p, y.astype(np.int64)


def _check_bins(n_bins: int) -> int:
  if isinstance(n_bins, bool) or int(n_bins) != n_bins or n_bins < 1:
    raise ValueError(f"n_bins must be an integer >= 1; got {n_bins!r}.")
  return int(n_bins)


def _top_label(probs, labels) -> tuple[np.ndarray, np.ndarray]:
  """(N,) top-label confidence and correctness (first argmax on ties)."""
  p, y = check_probs(probs, labels)
  return p.max(-1), (p.argmax(-1) == y).astype(np.float64)


def _bin_sums(scores, hits, edges) -> tuple[np.ndarray, ...]:
  """Per bin (lo, hi]: count, sum of scores, sum of hits."""
  n_bins = len(edges) - 1
  # searchsorted(side="left") - 1 is the bin with lo < s <= hi; non-empty
  # intervals of non-decreasing edges are disjoint, so it is unique.
  index = np.searchsorted(edges, scores, side="left") - 1
  inside = (index >= 0) & (index < n_bins)
  index = index[inside]
  return (
    np.bincount(index, minlength=n_bins),
    np.bincount(index, scores[inside], minlength=n_bins),
    np.bincount(index, hits[inside], minlength=n_bins),
  )


def _ece(scores, hits, edges) -> float:
  # (|B|/n)·|mean conf − mean acc| = |Σ conf − Σ acc| / n; empty bins add 0.
  _, conf, acc = _bin_sums(scores, hits, edges)
  return float(np.abs(conf - acc).sum() / len(scores))


def _uniform_edges(n_bins: int) -> np.ndarray:
  return np.linspace(0.0, 1.0, _check_bins(n_bins) + 1)


def expected_calibration_error(probs, labels, n_bins: int = 15) -> float:
  """Top-label ECE over `n_bins` equal-width bins, in [0, 1].

  ECE = Σ_b (|B_b| / N) · |accuracy(B_b) − confidence(B_b)|, confidence the
  top probability, bins (lo, hi] on [0, 1], empty bins contributing 0:
  gpleiss/temperature_scaling `_ECELoss` (Guo et al. 2017).

  Args:
    probs: (N, K) predicted probabilities, rows summing to 1.
    labels: (N,) integer true classes in [0, K).
    n_bins: number of equal-width bins (15 as the reference).
  """
  conf, correct = _top_label(probs, labels)
  return _ece(conf, correct, _uniform_edges(n_bins))


def maximum_calibration_error(probs, labels, n_bins: int = 15) -> float:
  """Largest |accuracy − confidence| over the ECE's bins (empty bins: 0)."""
  conf, correct = _top_label(probs, labels)
  count, conf_sum, acc_sum = _bin_sums(conf, correct, _uniform_edges(n_bins))
  gap = np.abs(conf_sum - acc_sum) / np.maximum(count, 1)
  return float(gap.max())


def adaptive_ece(probs, labels, n_bins: int = 15) -> float:
  """Top-label ECE over equal-mass bins (Mukhoti et al. 2020).

  Edges interpolate the sorted confidences at positions linspace(0, N,
  n_bins + 1) (positions beyond N − 1 take the largest), as focal_calibration
  `AdaptiveECELoss`. Bins are (lo, hi] as in the ECE, so the smallest
  confidence, which equals the first edge, falls in no bin and never
  contributes (the reference's quirk, kept).
  """
  conf, correct = _top_label(probs, labels)
  n = len(conf)
  positions = np.linspace(0, n, _check_bins(n_bins) + 1)
  edges = np.interp(positions, np.arange(n), np.sort(conf))
  return _ece(conf, correct, edges)


def classwise_ece(probs, labels, n_bins: int = 15) -> float:
  """Mean over the K classes of the ECE of p_k against 1[y = k].

  Kull et al. 2019 (focal_calibration `ClasswiseECELoss`): for each class k
  the scores p_ik and the outcomes 1[y_i = k] are binned as in the ECE.
  K is the width of `probs`; the reference takes max(labels) + 1 instead,
  which differs only when the highest classes never occur in `labels`.
  """
  p, y = check_probs(probs, labels)
  edges = _uniform_edges(n_bins)
  per_class = [
    _ece(p[:, k], (y == k).astype(np.float64), edges) for k in range(p.shape[1])
  ]
  return float(np.mean(per_class))


def brier_score(probs, labels, *, reduction: str = "sum_classes") -> float:
  """Multiclass Brier score (1/N) Σ_i Σ_k (p_ik − 1[y_i = k])².

  Args:
    probs: (N, K) probabilities.
    labels: (N,) true classes.
    reduction: "sum_classes" (Brier 1950, range [0, 2]; what scikit-learn
      returns for (N, K) input) or "mean_classes" (divided by K).
  """
  p, y = check_probs(probs, labels)
  if reduction not in ("sum_classes", "mean_classes"):
    raise ValueError(
      f"reduction must be 'sum_classes' or 'mean_classes'; got {reduction!r}."
    )
  onehot = np.eye(p.shape[1])[y]
  per_image = ((p - onehot) ** 2).sum(-1)
  if reduction == "mean_classes":
    per_image = per_image / p.shape[1]
  return float(per_image.mean())


def negative_log_likelihood(probs, labels, *, eps: float = 1e-12) -> float:
  """Mean −log p_{i, y_i} (nats), p clipped below at `eps` (1e-12).

  From logits z, log-softmax is exact: `negative_log_likelihood(softmax(z))`
  differs only where p_y < eps (float64 softmax) or where float32 softmax
  rounded p_y.
  """
  p, y = check_probs(probs, labels)
  picked = p[np.arange(len(y)), y]
  return float(-np.log(np.maximum(picked, eps)).mean())


def calibration_metrics(probs, labels, n_bins: int = 15) -> dict[str, float]:
  """{'ece', 'mce', 'adaptive_ece', 'classwise_ece', 'brier', 'nll'}."""
  return {
    "ece": expected_calibration_error(probs, labels, n_bins),
    "mce": maximum_calibration_error(probs, labels, n_bins),
    "adaptive_ece": adaptive_ece(probs, labels, n_bins),
    "classwise_ece": classwise_ece(probs, labels, n_bins),
    "brier": brier_score(probs, labels),
    "nll": negative_log_likelihood(probs, labels),
  }


@dataclasses.dataclass(frozen=True)
class ReliabilityDiagram:
  """Per-bin statistics of the ECE's bins.

  Attributes:
    edges: (n_bins + 1,) bin edges; bin b is (edges[b], edges[b + 1]].
    count: (n_bins,) images per bin.
    confidence: (n_bins,) mean top-label confidence, NaN for empty bins.
    accuracy: (n_bins,) fraction correct, NaN for empty bins (undefined,
      not 0).
  """

  edges: np.ndarray
  count: np.ndarray
  confidence: np.ndarray
  accuracy: np.ndarray


def reliability_diagram(probs, labels, n_bins: int = 15) -> ReliabilityDiagram:
  """The data of a reliability diagram over the ECE's equal-width bins."""
  conf, correct = _top_label(probs, labels)
  edges = _uniform_edges(n_bins)
  count, conf_sum, acc_sum = _bin_sums(conf, correct, edges)
  with np.errstate(invalid="ignore", divide="ignore"):
    return ReliabilityDiagram(
      edges=edges,
      count=count,
      confidence=np.where(count > 0, conf_sum / count, np.nan),
      accuracy=np.where(count > 0, acc_sum / count, np.nan),
    )


def save_reliability_diagram(
  path: str | os.PathLike,
  diagram: ReliabilityDiagram,
  *,
  title: str = "",
  inches: float = 4.0,
) -> None:
  """Saves a PNG: accuracy per bin against the diagonal, counts below.

  Bars stand at the bins' centres; empty bins have no bar. The red outline
  of each bar spans accuracy to mean confidence (the gap the ECE weighs).

  Args:
    path: output .png path (parent folders are created).
    diagram: from `reliability_diagram`.
    title: figure title, e.g. the model and the ECE.
    inches: figure width.
  """
  lo, hi = diagram.edges[:-1], diagram.edges[1:]
  centre, width = (lo + hi) / 2, hi - lo
  filled = diagram.count > 0
  figure = Figure(figsize=(inches, inches * 1.3))
  top, bottom = figure.subplots(
    2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]}
  )
  top.bar(
    centre[filled],
    diagram.accuracy[filled],
    width[filled],
    color="tab:blue",
    edgecolor="black",
    label="accuracy",
  )
  top.bar(
    centre[filled],
    (diagram.confidence - diagram.accuracy)[filled],
    width[filled],
    bottom=diagram.accuracy[filled],
    fill=False,
    edgecolor="tab:red",
    label="gap to confidence",
  )
  top.plot([0, 1], [0, 1], "k--", linewidth=1)
  top.set(xlim=(0, 1), ylim=(0, 1), ylabel="accuracy", title=title)
  top.legend(loc="upper left", fontsize=8)
  bottom.bar(centre, diagram.count, width, color="gray", edgecolor="black")
  bottom.set(xlabel="confidence", ylabel="images")
  figure.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  figure.savefig(path, dpi=100)


def _check_logits(logits, labels) -> tuple[np.ndarray, np.ndarray]:
  z = np.asarray(logits, np.float64)
  if z.ndim != 2 or not np.isfinite(z).all():
    raise ValueError(
      f"logits must be a finite (N, K) array; got shape {z.shape}."
    )
  # Label checks as for probabilities; softmax rows are valid probs.
  _, y = check_probs(scipy.special.softmax(z, axis=-1), labels)
  return z, y


def _nll_slope(z: np.ndarray, y: np.ndarray, beta: float) -> float:
  """d/dβ of the mean NLL of softmax(β z): mean_i Σ_k p_ik (z_ik − z_iy)."""
  # Differences to the true logit keep the tiny terms of confident images
  # (E_p[z] − z_y would cancel them to 0 once p_y rounds to 1).
  gap = z - z[np.arange(len(y)), y][:, None]
  return float((scipy.special.softmax(beta * z, axis=1) * gap).sum(1).mean())


def fit_temperature(
  logits, labels, *, bounds: tuple[float, float] = (0.05, 20.0)
) -> float:
  """The temperature T > 0 that minimises the NLL of softmax(logits / T).

  Guo et al. 2017's temperature scaling, fitted on a validation split: the
  same optimum as gpleiss/temperature_scaling's LBFGS on T. The NLL is convex
  in β = 1/T, so its slope in β is increasing and has one root, found by
  Brent's method to float64 precision (deterministic). Accuracy is unchanged
  by any T > 0.

  Args:
    logits: (N, K) validation logits (eval mode).
    labels: (N,) validation classes.
    bounds: search interval for T. When the optimum lies outside it, the
      nearer bound is returned: the lower one for a set the model separates
      (the NLL falls all the way to T → 0), the upper one when the logits
      carry no information about the labels (T → ∞ or negative).

  Returns:
    T, a Python float.
  """
  z, y = _check_logits(logits, labels)
  lo, hi = bounds
  if not 0 < lo < hi:
    raise ValueError(f"bounds must satisfy 0 < low < high; got {bounds}.")
  beta_lo, beta_hi = 1 / hi, 1 / lo
  if _nll_slope(z, y, beta_hi) <= 0:
    return float(lo)
  if _nll_slope(z, y, beta_lo) >= 0:
    return float(hi)
  beta = scipy.optimize.brentq(
    lambda b: _nll_slope(z, y, b), beta_lo, beta_hi, xtol=1e-15
  )
  return float(1 / beta)


def apply_temperature(logits, temperature: float) -> np.ndarray:
  """Calibrated logits (N, K) = logits / T; softmax them for probabilities."""
  if not temperature > 0:
    raise ValueError(f"temperature must be > 0; got {temperature}.")
  z = np.asarray(logits)
  z = z.astype(np.result_type(z.dtype, np.float32))
  return z / np.asarray(temperature, z.dtype)
