# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Classification metrics from labels and predicted probabilities.

Conventions follow scikit-learn (not a dependency) so that numbers are
comparable with the PyTorch papers: the confusion matrix has true classes on
rows; precision/recall/F1 of a class with an empty denominator are 0; balanced
accuracy averages recall over the classes that occur in `labels`; macro F1
averages over classes that occur in `labels` or in the predictions; ROC-AUC is
one-vs-rest, macro-averaged over the classes that have both positive and
negative examples (for two classes it is the AUC of class 1).
"""

import numpy as np
import scipy.stats


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
  return np.divide(
    num, den, out=np.zeros_like(num, dtype=np.float64), where=den > 0
  )


def binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
  """ROC-AUC of `scores` for the boolean `positive` (N,), ties counted half.

  Uses the Mann-Whitney identity AUC = U / (n_pos * n_neg) with mid-ranks,
  which equals the area under the trapezoidal ROC curve.

  Returns:
    The AUC, or NaN when one of the two classes is absent.
  """
  positive = np.asarray(positive, bool)
  n_pos = int(positive.sum())
  n_neg = positive.size - n_pos
  if n_pos == 0 or n_neg == 0:
    return float("nan")
  ranks = scipy.stats.rankdata(scores)
  u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
  return float(u / (n_pos * n_neg))


def confusion_matrix(
  labels: np.ndarray, preds: np.ndarray, num_classes: int
) -> np.ndarray:
  """(K, K) int64 counts, row = true class, column = predicted class."""
  matrix = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(matrix, (labels, preds), 1)
  return matrix


def classification_metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
  """Accuracy, balanced accuracy, macro F1, per-class P/R/F1, AUC, confusion.

  Args:
    labels: (N,) integer true classes in [0, K).
    probs: (N, K) class probabilities (or any scores; the prediction is the
      argmax, the AUC ranks the scores).

  Returns:
    A dict with floats `accuracy`, `balanced_accuracy`, `macro_f1`, `roc_auc`
    (NaN when undefined), int `num_examples`, and numpy arrays `precision`,
    `recall`, `f1` (K,) and `confusion_matrix` (K, K).

  Raises:
    ValueError: mismatched shapes, an empty set or labels outside [0, K).
  """
  labels = np.asarray(labels)
  probs = np.asarray(probs, np.float64)
  if probs.ndim != 2 or labels.shape != probs.shape[:1]:
    raise ValueError(
      f"Expected labels (N,) and probs (N, K); got {labels.shape} and "
      f"{probs.shape}."
    )
  num_examples, num_classes = probs.shape
  if num_examples == 0:
    raise ValueError("No examples: metrics of an empty set are undefined.")
  if labels.min() < 0 or labels.max() >= num_classes:
    raise ValueError(
      f"Labels must lie in [0, {num_classes}); got range "
      f"[{labels.min()}, {labels.max()}]."
    )
  preds = probs.argmax(axis=1)
  matrix = confusion_matrix(labels, preds, num_classes)
  true_positives = np.diag(matrix).astype(np.float64)
  support = matrix.sum(axis=1)
  predicted = matrix.sum(axis=0)
  precision = _safe_divide(true_positives, predicted)
  recall = _safe_divide(true_positives, support)
  f1 = _safe_divide(2 * precision * recall, precision + recall)
  present = support > 0
  if num_classes == 2:
    auc = binary_auc(labels == 1, probs[:, 1])
  else:
    aucs = [binary_auc(labels == k, probs[:, k]) for k in range(num_classes)]
    defined = [a for a in aucs if not np.isnan(a)]
    auc = float(np.mean(defined)) if defined else float("nan")
  return {
    "num_examples": int(num_examples),
    "accuracy": float(true_positives.sum() / num_examples),
    "balanced_accuracy": float(recall[present].mean()),
    "macro_f1": float(f1[present | (predicted > 0)].mean()),
    "roc_auc": auc,
    "precision": precision,
    "recall": recall,
    "f1": f1,
    "confusion_matrix": matrix,
  }
