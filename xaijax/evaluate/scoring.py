# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""`score_maps`: every per-image score of explanation maps, one entry point.

The studies, the tests and the benchmarks score maps through this function;
it calls the metric modules (confidence change, ROAD, deletion/insertion,
localisation) with shared clean logits, so a caller that already has them
(`xaijax.explain.cams_by_layer` returns the capture's) pays no clean forward.

Metrics (`METRICS`) and the per-image columns each one adds:

* `confidence`: `CONFIDENCE_COLUMNS` (docs/evaluate.md, confidence.py);
* `road`: `road_combined` and `road_{morf,lerf}_p<percentile>`;
* `deletion_insertion`: `deletion_auc`, `insertion_auc`;
* `localization`: `pointing`, `energy`, `iou` (NaN where an image has no
  lesion; needs masks).
"""

import dataclasses
from collections.abc import Mapping, Sequence

import flax.linen as nn
import jax
import numpy as np

from xaijax.evaluate import _model, confidence, curves, localization, road

CONFIDENCE_COLUMNS = (
  "delta",
  "increase",
  "drop",
  "avg_drop_pct",
  "increase_pct",
  "logit_delta",
  "p_clean",
  "p_masked",
)
METRICS = ("confidence", "road", "deletion_insertion", "localization")
# Metrics that need ground-truth lesion masks.
NEEDS_MASKS = ("localization",)


@dataclasses.dataclass(frozen=True)
class ScoreOptions:
  """The settings of the metrics (and `config.study.scores` in a study).

  Attributes:
    road_percentiles: ROAD percentiles (pytorch-grad-cam's docs: 20..80).
    road_noise: ROAD imputation noise std in normalised units (upstream).
    deletion_steps: steps of the deletion/insertion curves.
    iou_threshold: map level that binarises the map for the IoU.
  """

  road_percentiles: tuple[float, ...] = (20, 40, 60, 80)
  road_noise: float = 0.01
  deletion_steps: int = 16
  iou_threshold: float = 0.5

  def __post_init__(self):
    object.__setattr__(self, "road_percentiles", tuple(self.road_percentiles))
    if not all(0 < p < 100 for p in self.road_percentiles):
      raise ValueError(
        f"road_percentiles must lie in (0, 100), got {self.road_percentiles}."
      )
    if self.road_noise < 0:
      raise ValueError(f"road_noise must be >= 0, got {self.road_noise}.")
    if self.deletion_steps < 1:
      raise ValueError(
        f"deletion_steps must be positive, got {self.deletion_steps}."
      )


def check_metrics(metrics: str | Sequence[str]) -> tuple[str, ...]:
  """The metric names as a tuple; unknown ones list the valid names."""
  metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
  unknown = [m for m in metrics if m not in METRICS]
  if unknown or not metrics:
    raise ValueError(
      f"Unknown or no metric(s) {unknown}; valid metrics: {', '.join(METRICS)}."
    )
  return metrics


def columns(metric: str, options: ScoreOptions = ScoreOptions()) -> tuple:
  """The per-image columns that `metric` adds to each method's scores."""
  if metric == "confidence":
    return CONFIDENCE_COLUMNS
  if metric == "road":
    return (
      "road_combined",
      *(
        f"road_{order}_p{p:g}"
        for p in options.road_percentiles
        for order in road.ORDERS
      ),
    )
  if metric == "deletion_insertion":
    return ("deletion_auc", "insertion_auc")
  if metric == "localization":
    return ("pointing", "energy", "iou")
  raise ValueError(f"Unknown metric '{metric}'; valid: {', '.join(METRICS)}.")


def score_maps(
  module: nn.Module,
  variables: Mapping,
  images,
  maps: Mapping[str, jax.Array],
  *,
  metrics: str | Sequence[str] = ("confidence",),
  targets=None,
  logits=None,
  masks=None,
  key=None,
  options: ScoreOptions = ScoreOptions(),
  batch_size: int | None = None,
) -> dict[str, dict[str, np.ndarray]]:
  """Per-image scores of several methods' maps.

  Args:
    module, variables: the classifier.
    images: (B, H, W, C) normalised images.
    maps: {method: (B, H, W) map in [0, 1]}.
    metrics: names from `METRICS`.
    targets: (B,) explained classes, or None for each image's prediction.
    logits: (B, K) clean logits if already computed (skips that forward).
    masks: (B, H, W) lesion masks (foreground > 0.5), for `localization`.
    key: PRNG key(s) of the ROAD noise: one key, or (B,) keys, one per image
      (then an image's scores do not depend on its batch).
    options: the metrics' settings.
    batch_size: forward chunk size (default B).

  Returns:
    {method: {column: (B,) float32}}: `target` (the explained class) and the
    `columns` of each metric.

  Raises:
    ValueError: unknown metrics, maps that do not match the images,
      `localization` without masks, ROAD noise without a key.
  """
  metrics = check_metrics(metrics)
  images = jax.numpy.asarray(images)
  _model.check_maps(images, maps)
  if "localization" in metrics and masks is None:
    raise ValueError(
      "The localization metric needs lesion masks (masks=(B, H, W)); the "
      "dataset has none: drop 'localization' from the metrics."
    )
  batch_size = batch_size or images.shape[0]
  clean, targets = _model.clean_forward(
    module, variables, images, logits, targets, batch_size
  )
  shared = dict(targets=targets, logits=clean, batch_size=batch_size)
  out = {m: {"target": targets.astype(np.float32)} for m in maps}
  if "confidence" in metrics:
    conf = confidence.confidence_scores(
      module, variables, images, maps, **shared
    )
    for m in maps:
      out[m] |= {k: conf[m][k] for k in CONFIDENCE_COLUMNS}
  if "road" in metrics:
    percentiles = options.road_percentiles
    scores = road.road_scores(
      module, variables, images, maps, percentiles=percentiles,
      noise=options.road_noise, key=key, **shared,
    )  # fmt: skip
    for m in maps:
      out[m]["road_combined"] = scores[m]["combined"]
      for i, p in enumerate(percentiles):
        for order in road.ORDERS:
          out[m][f"road_{order}_p{p:g}"] = scores[m][order][:, i]
  if "deletion_insertion" in metrics:
    scores = curves.deletion_insertion(
      module, variables, images, maps, steps=options.deletion_steps, **shared
    )
    for m in maps:
      out[m] |= {k: scores[m][k] for k in ("deletion_auc", "insertion_auc")}
  if "localization" in metrics:
    for m in maps:
      out[m] |= localization.localization_scores(
        np.asarray(maps[m]), masks, threshold=options.iou_threshold
      )
  return out
