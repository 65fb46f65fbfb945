# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pointing game, energy pointing game and IoU on synthetic lesion masks."""

import numpy as np

from xaijax import evaluate


def _lesions():
  """Three 16x16 masks: two blobs and one empty (no lesion)."""
  i, j = np.meshgrid(np.arange(16), np.arange(16), indexing="ij")
  masks = np.stack(
    [
      ((i - 5) ** 2 + (j - 6) ** 2 <= 9),
      ((i - 11) ** 2 + (j - 10) ** 2 <= 6),
      np.zeros((16, 16), bool),
    ]
  ).astype(np.float32)
  return masks


def test_perfect_and_inverted_maps():
  masks = _lesions()
  perfect = evaluate.localization_scores(masks, masks)
  # Sums and counts of 0s and 1s are exact in float32: exactly 1.
  np.testing.assert_array_equal(perfect["pointing"][:2], 1)
  np.testing.assert_array_equal(perfect["energy"][:2], 1)
  np.testing.assert_array_equal(perfect["iou"][:2], 1)
  inverted = evaluate.localization_scores(1 - masks, masks)
  np.testing.assert_array_equal(inverted["pointing"][:2], 0)
  np.testing.assert_array_equal(inverted["energy"][:2], 0)
  np.testing.assert_array_equal(inverted["iou"][:2], 0)
  for scores in (perfect, inverted):  # No lesion: nothing to point at.
    assert all(np.isnan(v[2]) for v in scores.values())


def test_partial_map_values():
  masks = _lesions()[:1]
  area = masks.sum()
  half = masks.copy()
  half[0, :, :6] = 0  # keep the right part of the blob only
  kept = half.sum()
  spread = half + 0.25 * (1 - masks)  # some mass outside the lesion
  # Sums of multiples of 1/4 (and counts) are exact in float32; one float32
  # division against float64 here: half an ulp, rtol eps32.
  np.testing.assert_allclose(
    evaluate.energy_pointing_game(spread, masks),
    kept / (kept + 0.25 * (256 - area)),
    rtol=np.finfo(np.float32).eps,
  )
  np.testing.assert_allclose(
    evaluate.iou(spread, masks), kept / area, rtol=np.finfo(np.float32).eps
  )
  np.testing.assert_array_equal(evaluate.pointing_game(spread, masks), 1)
