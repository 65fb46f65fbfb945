# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Stratified, grouped, seeded partitions; k-fold; class weights.

A "group" is what must never be split across train/validation/test: a
patient (chest X-ray file names), a lesion (HAM10000 `lesion_id`), or a set
of byte-identical files. Groups are assigned whole, class by class, to the
part that is furthest below its target, so every part keeps the class
proportions as closely as whole groups allow.
"""

import numpy as np


def group_label(labels: np.ndarray, group_ids: np.ndarray) -> np.ndarray:
  """Majority label of each group (ties: the smaller label)."""
  n_groups = int(group_ids.max()) + 1 if len(group_ids) else 0
  k = int(labels.max()) + 1 if len(labels) else 0
  counts = np.zeros((n_groups, max(k, 1)), np.int64)
  np.add.at(counts, (group_ids, labels), 1)
  return counts.argmax(axis=1)


def assign(
  labels: np.ndarray,
  group_ids: np.ndarray,
  fractions,
  seed: int,
  salt: int = 0,
) -> np.ndarray:
  """Part index (0..len(fractions)-1) of every example.

  Args:
    labels: (N,) int class of each example.
    group_ids: (N,) int, 0..G-1; examples of a group land in the same part.
    fractions: target share of each part (sums to 1).
    seed: the split seed.
    salt: separates independent uses of the same seed.
  """
  labels = np.asarray(labels, np.int64)
  group_ids = np.asarray(group_ids, np.int64)
  fractions = np.asarray(fractions, np.float64)
  fractions = fractions / fractions.sum()
  parts = np.zeros(len(labels), np.int64)
  if not len(labels):
    return parts
  sizes = np.bincount(group_ids)
  glabel = group_label(labels, group_ids)
  rng = np.random.default_rng([seed, 0x5B117, salt])
  order = rng.permutation(len(sizes))
  group_part = np.zeros(len(sizes), np.int64)
  for c in np.unique(glabel):
    gs = order[glabel[order] == c]
    gs = gs[sizes[gs] > 0]
    # Largest groups first (stable w.r.t. the seeded order) so the small
    # ones can even out the counts at the end.
    gs = gs[np.argsort(-sizes[gs], kind="stable")]
    target = fractions * sizes[gs].sum()
    have = np.zeros(len(fractions))
    for g in gs:
      deficit = target - have
      p = int(np.argmax(deficit + 1e-9 * fractions))
      group_part[g] = p
      have[p] += sizes[g]
  parts[:] = group_part[group_ids]
  return parts


def kfold(
  labels: np.ndarray, group_ids: np.ndarray, k: int, seed: int
) -> np.ndarray:
  """Fold index (0..k-1) of every example, stratified and grouped."""
  return assign(labels, group_ids, np.full(k, 1.0 / k), seed, salt=0xF01D)


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
  """Balanced weights n / (K * n_k) (sklearn's "balanced"); 0 if n_k = 0.

  Multiplying each example's loss by its class weight makes every class
  contribute equally in expectation.
  """
  counts = np.bincount(np.asarray(labels), minlength=num_classes).astype(
    np.float64
  )
  n = counts.sum()
  with np.errstate(divide="ignore"):
    w = np.where(counts > 0, n / (num_classes * counts), 0.0)
  return w.astype(np.float32)


def dense_ids(keys) -> np.ndarray:
  """Any hashable keys -> 0..G-1 ids in order of first appearance."""
  table: dict = {}
  return np.array([table.setdefault(k, len(table)) for k in keys], np.int64)
