# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Localisation of explanation maps against ground-truth masks.

* Pointing game (Zhang et al. 2018): a hit when the map's maximum lies in
  the mask. Ties take the first maximum in raster order (np.argmax), so a
  constant map points at the top-left pixel.
* Energy-based pointing game (Wang et al., Score-CAM 2020): the share of the
  map's mass inside the mask, Σ M·G / Σ M.
* IoU of the thresholded map {M ≥ threshold} with the mask {G > 0.5}.

Images whose mask is empty (no lesion) have no location to point at: their
scores are NaN and should be dropped, not counted as misses. A map with no
mass gives NaN energy.
"""

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


def _check(maps, masks):
  maps = jnp.asarray(maps, jnp.float32)
  masks = jnp.asarray(masks, jnp.float32) > 0.5
  if maps.ndim != 3 or maps.shape != masks.shape:
    raise ValueError(
      f"maps and masks must both be (B, H, W); got {maps.shape} and "
      f"{masks.shape}."
    )
  return maps, masks


@jax.jit
def _scores(maps, masks, threshold):
  b = maps.shape[0]
  flat = maps.reshape(b, -1)
  flat_mask = masks.reshape(b, -1)
  has_mask = flat_mask.any(-1)
  peak = jnp.argmax(flat, axis=-1)
  hit = jnp.take_along_axis(flat_mask, peak[:, None], -1)[:, 0]
  mass = flat.sum(-1)
  inside = jnp.where(flat_mask, flat, 0).sum(-1)
  binary = flat >= threshold
  union = (binary | flat_mask).sum(-1)
  inter = (binary & flat_mask).sum(-1)
  nan = jnp.float32(jnp.nan)
  return {
    "pointing": jnp.where(has_mask, hit.astype(jnp.float32), nan),
    "energy": jnp.where(has_mask & (mass > 0), inside / mass, nan),
    "iou": jnp.where(has_mask, inter / jnp.maximum(union, 1), nan),
  }


def localization_scores(maps, masks, *, threshold: float = 0.5):
  """Pointing game, energy-based pointing game and IoU per image.

  Args:
    maps: (B, H, W) non-negative maps (CAMs in [0, 1]).
    masks: (B, H, W) ground truth, foreground where > 0.5.
    threshold: map level that binarises the map for the IoU.

  Returns:
    {'pointing', 'energy', 'iou': (B,) float32}, NaN where the mask is empty.
  """
  maps, masks = _check(maps, masks)
  return {
    k: np.asarray(v, np.float32)
    for k, v in _scores(maps, masks, threshold).items()
  }


def pointing_game(maps, masks) -> np.ndarray:
  """(B,) 1.0 where the map's maximum lies in the mask (NaN: empty mask)."""
  return localization_scores(maps, masks)["pointing"]


def energy_pointing_game(maps, masks) -> np.ndarray:
  """(B,) Σ map·mask / Σ map (NaN: empty mask or an all-zero map)."""
  return localization_scores(maps, masks)["energy"]


def iou(maps, masks, *, threshold: float = 0.5) -> np.ndarray:
  """(B,) IoU of {map ≥ threshold} with the mask (NaN: empty mask)."""
  return localization_scores(maps, masks, threshold=threshold)["iou"]
