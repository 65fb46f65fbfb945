# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Predictive uncertainty and selective prediction.

A stack of member probabilities (M, N, K) — M deep-ensemble members (seed
repeats), M Monte Carlo dropout passes (`mc_dropout_probs`) or M test-time
augmented views (`tta_probs`) — gives per image:

* predictive entropy H[p̄], p̄ = mean_m p_m (total uncertainty),
* expected entropy mean_m H[p_m] (aleatoric),
* mutual information H[p̄] − mean_m H[p_m] (epistemic; BALD, Houlsby et al.
  2011; Gal, Islam & Ghahramani 2017),

in nats, with 0·log 0 = 0. Selective prediction ranks images by a
confidence and reports the risk at every coverage: `risk_coverage_curve`,
`aurc` and `e_aurc` (Geifman, Uziel & El-Yaniv, ICLR 2019).

Entropies and curves are host-side float64 reductions; the forward passes
that produce the stacks are jitted. Definitions: docs/evaluate.md,
"Uncertainty and selective prediction".
"""

import functools
import inspect
from collections.abc import Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from xaijax.evaluate import _model
from xaijax.evaluate.calibration import check_probs

Array = jax.Array


def _members(member_probs) -> np.ndarray:
  p, _ = check_probs(member_probs)
  if p.ndim != 3:
    raise ValueError(
      f"member_probs must be (M, N, K): M members' probabilities for N "
      f"images; got shape {p.shape} (use probs[None] for a single model)."
    )
  return p


def _entropy(p: np.ndarray) -> np.ndarray:
  return -scipy.special.xlogy(p, p).sum(-1)


def predictive_entropy(member_probs) -> np.ndarray:
  """(N,) entropy of the members' mean probabilities, in nats (≤ log K)."""
  return _entropy(_members(member_probs).mean(0))


def expected_entropy(member_probs) -> np.ndarray:
  """(N,) mean over members of each member's entropy, in nats."""
  return _entropy(_members(member_probs)).mean(0)


def mutual_information(member_probs) -> np.ndarray:
  """(N,) predictive − expected entropy (BALD), clamped at 0 against
  round-off; 0 when all members agree."""
  p = _members(member_probs)
  return np.maximum(_entropy(p.mean(0)) - _entropy(p).mean(0), 0.0)


def _check_selective(confidence, correct) -> tuple[np.ndarray, np.ndarray]:
  kappa = np.asarray(confidence, np.float64)
  hits = np.asarray(correct)
  if kappa.ndim != 1 or hits.shape != kappa.shape or kappa.size == 0:
    raise ValueError(
      f"confidence and correct must both be (N,) with N >= 1; got "
      f"{kappa.shape} and {hits.shape}."
    )
  if not np.isfinite(kappa).all():
    raise ValueError("confidence must be finite (NaN/inf cannot be ranked).")
  if not np.isin(hits, (0, 1)).all():
    raise ValueError(
      "correct must hold 0/1 or booleans (1 = the prediction is right)."
    )
  return kappa, hits.astype(np.float64)


def risk_coverage_curve(
  confidence, correct, *, ties: str = "stable"
) -> tuple[np.ndarray, np.ndarray]:
  """Selective risk at every coverage, most confident images first.

  With images sorted by confidence (descending), the point m = 1..N has
  coverage m/N and risk r_m = (1/m) Σ_{j≤m} (1 − correct_(j)); accuracy at
  that coverage is 1 − r_m.

  Args:
    confidence: (N,) scores, higher = more confident (e.g. max softmax
      probability, or −predictive entropy).
    correct: (N,) 1/True where the prediction is right.
    ties: "stable" keeps the input order among equal confidences (the
      reference code's plain sort leaves it unspecified); "group" gives
      every point in a run of equal confidences the risk at the run's end,
      as if the tied images were accepted together (order-free).

  Returns:
    coverage (N,) and risk (N,), float64.
  """
  kappa, hits = _check_selective(confidence, correct)
  if ties not in ("stable", "group"):
    raise ValueError(f"ties must be 'stable' or 'group'; got {ties!r}.")
  order = np.argsort(-kappa, kind="stable")
  m = np.arange(1, len(kappa) + 1)
  risk = np.cumsum(1 - hits[order]) / m
  if ties == "group":
    sorted_kappa = kappa[order]
    # For each point, the index of the last point of its run of equal
    # confidences: the nearest run end at or after it.
    last = np.r_[sorted_kappa[1:] != sorted_kappa[:-1], True]
    ends = np.where(last, m - 1, len(m))
    risk = risk[np.minimum.accumulate(ends[::-1])[::-1]]
  return m / len(kappa), risk


def aurc(confidence, correct, *, ties: str = "stable") -> float:
  """Area under the risk-coverage curve, (1/N) Σ_m r_m (lower is better)."""
  return float(risk_coverage_curve(confidence, correct, ties=ties)[1].mean())


def e_aurc(
  confidence, correct, *, ties: str = "stable", oracle: str = "discrete"
) -> float:
  """Excess AURC: AURC − AURC*, the AURC of a perfect ranking.

  Args:
    confidence, correct, ties: as `risk_coverage_curve`.
    oracle: "discrete" (default) — AURC* of the N images with every correct
      one ranked first, what most code computes; "closed_form" — Geifman et
      al.'s continuous approximation r̂ + (1 − r̂) ln(1 − r̂), r̂ the error
      rate.
  """
  value = aurc(confidence, correct, ties=ties)
  _, hits = _check_selective(confidence, correct)
  if oracle == "discrete":
    best = aurc(hits, hits)
  elif oracle == "closed_form":
    error = 1 - hits.mean()
    best = error + scipy.special.xlogy(1 - error, 1 - error)
  else:
    raise ValueError(
      f"oracle must be 'discrete' or 'closed_form'; got {oracle!r}."
    )
  return float(value - best)


def _check_mc_dropout(module: nn.Module) -> None:
  accepts = "mc_dropout" in inspect.signature(module.__call__).parameters
  if not accepts or not getattr(module, "dropout", 0) > 0:
    raise ValueError(
      f"MC dropout needs dropout layers, and {type(module).__name__} has "
      f"{'a dropout rate of 0' if accepts else 'none'}: use vgg16 or "
      "efficientnet_b0 (with dropout > 0), or tta_probs / an ensemble."
    )


@functools.cache
def _mc_forward(module: nn.Module):
  def run(variables, images, keys):
    def one(key):
      logits = module.apply(
        variables, images, train=False, mc_dropout=True, rngs={"dropout": key}
      )
      return jax.nn.softmax(logits.astype(jnp.float32), axis=-1)

    # One pass at a time: memory of one forward, not of M.
    return jax.lax.map(one, keys)

  return jax.jit(run)


def mc_dropout_probs(
  module: nn.Module,
  variables: Mapping,
  images,
  key: Array,
  *,
  num_samples: int = 20,
) -> Array:
  """(M, B, K) softmax probabilities of M Monte Carlo dropout passes.

  Dropout stays on while BatchNorm uses its running statistics and
  EfficientNet's stochastic depth stays off (Gal & Ghahramani 2016): the
  models' `mc_dropout=True`. Pass m uses `jax.random.split(key, M)[m]`; call
  once per batch with a key folded per batch.

  Args:
    module: a vgg16 or efficientnet_b0 module (the models with dropout).
    variables: its variables.
    images: (B, H, W, C) normalised images.
    key: PRNG key of the dropout masks.
    num_samples: M.

  Raises:
    ValueError: a model without dropout (resnet50, densenet121) or M < 1.
  """
  _check_mc_dropout(module)
  if num_samples < 1:
    raise ValueError(f"num_samples must be >= 1; got {num_samples}.")
  keys = jax.random.split(key, num_samples)
  return _mc_forward(module)(variables, jnp.asarray(images), keys)


def _shift(images: Array, rows: int, cols: int) -> Array:
  # Content moves by (rows, cols); the uncovered border repeats the edge
  # pixels rather than inventing a colour.
  h, w = images.shape[1:3]
  pad = ((0, 0), (max(rows, 0), max(-rows, 0)), (max(cols, 0), max(-cols, 0)))
  padded = jnp.pad(images, (*pad, (0, 0)), mode="edge")
  top, left = max(-rows, 0), max(-cols, 0)
  return padded[:, top : top + h, left : left + w]


TTA_VIEWS: dict[str, tuple[bool, bool, int, int]] = {
  # name: (flip left-right, flip up-down, rows, cols) in units of `shift`.
  "identity": (False, False, 0, 0),
  "hflip": (True, False, 0, 0),
  "vflip": (False, True, 0, 0),
  "shift_left": (False, False, 0, -1),
  "shift_right": (False, False, 0, 1),
  "shift_up": (False, False, -1, 0),
  "shift_down": (False, False, 1, 0),
}
DEFAULT_TTA = (
  "identity",
  "hflip",
  "shift_left",
  "shift_right",
  "shift_up",
  "shift_down",
)


@functools.partial(jax.jit, static_argnames=("views", "shift"))
def _views(images: Array, views: tuple[str, ...], shift: int) -> Array:
  out = []
  for name in views:
    lr, ud, rows, cols = TTA_VIEWS[name]
    x = images[:, :, ::-1] if lr else images
    x = x[:, ::-1] if ud else x
    out.append(_shift(x, rows * shift, cols * shift))
  return jnp.stack(out)


def tta_views(
  images, views: Sequence[str] = DEFAULT_TTA, *, shift: int = 4
) -> Array:
  """(M, B, H, W, C) views of (B, H, W, C) images, one per name in `views`.

  Names (`TTA_VIEWS`): identity, hflip (left-right), vflip (up-down),
  shift_left/right/up/down (content moved by `shift` pixels, the uncovered
  border filled by repeating the edge pixels). Choose label-preserving
  views for the task: vflip is off by default (anatomy has an up).
  """
  views = tuple(views)
  unknown = [v for v in views if v not in TTA_VIEWS]
  if unknown or not views:
    raise ValueError(
      f"Unknown or no TTA views {unknown}; choose from {list(TTA_VIEWS)}."
    )
  images = jnp.asarray(images)
  if not 0 <= shift < min(images.shape[1:3]):
    raise ValueError(
      f"shift must be in [0, {min(images.shape[1:3])}) pixels; got {shift}."
    )
  return _views(images, views, int(shift))


def tta_probs(
  module: nn.Module,
  variables: Mapping,
  images,
  views: Sequence[str] = DEFAULT_TTA,
  *,
  shift: int = 4,
) -> Array:
  """(M, B, K) eval-mode softmax probabilities of the M `tta_views`.

  Deterministic (no key): each view is a fixed transform. The forward of
  every view reuses the one compiled eval forward of shape (B, ...) that the
  other scorers use.
  """
  stacked = tta_views(images, views, shift=shift)
  logits = _model.stacked_logits(module, variables, stacked, stacked.shape[1])
  return jax.nn.softmax(logits, axis=-1)
