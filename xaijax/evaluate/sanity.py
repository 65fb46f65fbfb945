# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Model-parameter randomisation test (Adebayo et al. 2018), cascading.

Starting at the output, the parameters of one more top-level layer are
replaced by a fresh initialisation at each step, cumulatively, and the maps
are recomputed. An explanation that depends on what the model learnt changes:
its Spearman rank correlation with the original maps falls. BatchNorm running
statistics are kept (they are state, not learnt weights).
"""

from collections.abc import Callable, Mapping, Sequence

import flax
import flax.linen as nn
import jax
import numpy as np
import scipy.stats

from xaijax.models import layer_shapes

Array = jax.Array


def _default_order(module: nn.Module, params: Mapping, image_shape) -> list:
  # Call order of the top-level layers, reversed: output first.
  called = [n for n in layer_shapes(module, image_shape) if n in params]
  return called[::-1]


def rank_correlation(a, b) -> np.ndarray:
  """(B,) Spearman correlation of maps a and b (B, H, W), per image.

  NaN where either map is constant (no ranking to compare).
  """
  a = np.asarray(a, np.float64).reshape(len(a), -1)
  b = np.asarray(b, np.float64).reshape(len(b), -1)
  out = np.full(len(a), np.nan)
  for i, (x, y) in enumerate(zip(a, b, strict=True)):
    if np.ptp(x) > 0 and np.ptp(y) > 0:
      out[i] = scipy.stats.spearmanr(x, y).statistic
  return out


def cascading_randomization(
  module: nn.Module,
  variables: Mapping,
  images,
  explain_fn: Callable[[Mapping], Array],
  key,
  *,
  layers: Sequence[str] | None = None,
) -> list[tuple[str, np.ndarray]]:
  """Rank correlation of maps as layers are randomised, output first.

  Args:
    module: the classifier.
    variables: its trained variables.
    images: (B, H, W, C) normalised images (their shape initialises the
      random parameters).
    explain_fn: variables -> (B, H, W) maps, e.g.
      `lambda v: explain.cams(module, v, images, methods=['gradcam'])[
      'gradcam']`. Pass fixed targets inside it to explain the same class.
    key: PRNG key of the re-initialisation.
    layers: top-level parameter names in the order to randomise; default all
      of them from the output to the input.

  Returns:
    [(layer, (B,) Spearman correlation with the original maps)], one entry
    per cumulative step: entry i has layers[: i + 1] randomised.
  """
  params = flax.core.unfreeze(variables["params"])
  order = list(layers or _default_order(module, params, np.shape(images)))
  unknown = [n for n in order if n not in params]
  if unknown:
    raise ValueError(
      f"Unknown top-level parameter names {unknown}; choose from "
      f"{list(params)}."
    )
  fresh = module.init(key, np.asarray(images)[:1])["params"]
  original = np.asarray(explain_fn(variables))
  out = []
  randomized = dict(params)
  for name in order:
    randomized[name] = fresh[name]
    maps = explain_fn({**variables, "params": dict(randomized)})
    out.append((name, rank_correlation(original, maps)))
  return out
