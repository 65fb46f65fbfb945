# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Paired statistics: t-test, Wilcoxon, Holm, bootstrap, and pairings.

See docs/evaluate.md for the conventions.
"""

from xaijax.stats.paired import (
  PairedResult,
  bootstrap_ci,
  holm,
  paired_ttest,
  t_interval,
  wilcoxon,
)
from xaijax.stats.pairings import (
  align,
  compare_grid,
  correctness,
  true_class_probability,
)

__all__ = [
  "PairedResult",
  "align",
  "bootstrap_ci",
  "compare_grid",
  "correctness",
  "holm",
  "paired_ttest",
  "t_interval",
  "true_class_probability",
  "wilcoxon",
]
