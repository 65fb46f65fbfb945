# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Scoring classifiers and explanations.

Classification metrics (`classification_metrics`); confidence change (the
paper's "confidence increase") and its family, ROAD, deletion/insertion,
localisation against masks and the randomisation sanity check; conventions
in docs/evaluate.md. Every scorer takes normalised NHWC
images and {method: (B, H, W)} maps and returns per-image numpy arrays.
"""

from xaijax.evaluate.calibration import (
  adaptive_ece,
  apply_temperature,
  brier_score,
  calibration_metrics,
  classwise_ece,
  expected_calibration_error,
  fit_temperature,
  maximum_calibration_error,
  negative_log_likelihood,
  reliability_diagram,
  save_reliability_diagram,
)
from xaijax.evaluate.classification import classification_metrics
from xaijax.evaluate.confidence import (
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
from xaijax.evaluate.robustness import (
  avg_sensitivity,
  local_lipschitz_estimate,
  map_similarity,
  max_sensitivity,
  ssim,
  top_k_iou,
)
from xaijax.evaluate.sanity import cascading_randomization, rank_correlation
from xaijax.evaluate.scoring import METRICS, ScoreOptions, score_maps
from xaijax.evaluate.uncertainty import (
  aurc,
  e_aurc,
  expected_entropy,
  mc_dropout_probs,
  mutual_information,
  predictive_entropy,
  risk_coverage_curve,
  tta_probs,
  tta_views,
)

__all__ = [
  "METRICS",
  "ScoreOptions",
  "adaptive_ece",
  "apply_temperature",
  "aurc",
  "avg_sensitivity",
  "brier_score",
  "calibration_metrics",
  "cascading_randomization",
  "classification_metrics",
  "classwise_ece",
  "confidence_change",
  "confidence_scores",
  "deletion_insertion",
  "e_aurc",
  "energy_pointing_game",
  "expected_calibration_error",
  "expected_entropy",
  "fit_temperature",
  "iou",
  "keep_mask",
  "linear_impute",
  "local_lipschitz_estimate",
  "localization_scores",
  "map_similarity",
  "max_sensitivity",
  "maximum_calibration_error",
  "mc_dropout_probs",
  "mutual_information",
  "negative_log_likelihood",
  "pointing_game",
  "predictive_entropy",
  "rank_correlation",
  "reliability_diagram",
  "risk_coverage_curve",
  "road_scores",
  "save_reliability_diagram",
  "score_maps",
  "scores_from_logits",
  "ssim",
  "top_k_iou",
  "tta_probs",
  "tta_views",
]
