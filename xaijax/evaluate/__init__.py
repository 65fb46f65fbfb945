# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Scoring classifiers and explanations.

Classification metrics (`classification_metrics`); confidence change (the
paper's "confidence increase") and its family, ROAD, deletion/insertion,
localisation against masks and the randomisation sanity check; conventions
in docs/evaluate.md. Every scorer takes normalised NHWC
images and {method: (B, H, W)} maps and returns per-image numpy arrays.
"""

from xaijax.evaluate.classification import classification_metrics
from xaijax.evaluate.confidence import (
  cams_and_confidence,
  confidence_change,
  confidence_scores,
  scores_from_logits,
)
from xaijax.evaluate.curves import deletion_insertion
from xaijax.evaluate.localization import (
  energy_pointing_game,
  iou,
  localization_scores,
  pointing_game,
)
from xaijax.evaluate.road import keep_mask, linear_impute, road_scores
from xaijax.evaluate.sanity import cascading_randomization, rank_correlation

__all__ = [
  "cams_and_confidence",
  "cascading_randomization",
  "classification_metrics",
  "confidence_change",
  "confidence_scores",
  "deletion_insertion",
  "energy_pointing_game",
  "iou",
  "keep_mask",
  "linear_impute",
  "localization_scores",
  "pointing_game",
  "rank_correlation",
  "road_scores",
  "scores_from_logits",
]
