# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tolerances derived from float32 rounding, for two programs that compute
the same quantity (1 vs 4 devices, a batch vs single images, fused vs
separate calls, JAX vs PyTorch).

Such results differ by rounding only, and how much depends on the CPU: XLA
and oneDNN pick vector widths, fusions and summation orders for the machine
they run on. By backward error analysis (Higham, Accuracy and Stability of
Numerical Algorithms, 2nd ed., §3.1) each float32 program returns the exact
function of its weights and inputs perturbed by a few units of roundoff
u = 2^-24 per use. How far that moves the result is a property of the
computation on these inputs, not of the machine: the cancellation in
AblationCAM's score differences y0 - y_k, in the channel sums of a CAM, the
min-max normalisation of a map with a small range. No fixed tolerance knows
it, so `sensitivity` measures it: the result of the same (already compiled)
program with every weight and input element moved one ulp (a relative u to
2u) in a random direction. The bound is

  SAFETY * sensitivity + FLOOR_ULPS * eps32 * max|want|.

SAFETY = 16. A program's own rounding is a perturbation of the same kind but
of a few ulps per use (an operand of a blocked sum passes through several
roundings), and two programs' perturbations are independent. On the
development machine the 1- vs 4-device discrepancy of all twelve methods of
tests/explain/test_cam_api.py (8 images, 3 seeds) was at most 0.94 times the
larger of two nudges' sensitivities, and one nudge's sensitivity differed by
up to 5.8x from the other's: 16 leaves a margin of 17 for another CPU's
summation orders. A real bug (a map of the wrong image, a missing slice, a
wrong normalisation) moves maps by a sizeable fraction of their scale, far
above these bounds (in that test 6.5e-4 of the scale at most, AblationCAM's;
injected sharding bugs moved every method's maps by 0.06 to 1.1).

Against PyTorch the nudge runs on our side only: torch's own rounding is a
perturbation of the same kind, which the same factor covers.

FLOOR_ULPS = 4 covers the last roundings of the result, which a nudge of the
inputs does not perturb (e.g. a CAM's min-max division, the resize and
pytorch-grad-cam's float32 casts): at most one ulp of the scale each.
"""

from collections.abc import Callable, Sequence

import jax
import numpy as np

EPS32 = float(np.finfo(np.float32).eps)  # 2^-23, one ulp at 1.0
U32 = EPS32 / 2  # float32's unit roundoff
SAFETY = 16
FLOOR_ULPS = 4


def gamma(n: int, u: float = U32) -> float:
  """Higham's gamma_n = n u / (1 - n u): a float32 sum of n products is
  within gamma_n * sum|products| of the exact sum, in any order."""
  return n * u / (1 - n * u)


def nudge(tree, seed: int, relative: float | None = None):
  """`tree` with every float32 element moved at random up or down: by one
  ulp, or by the factor 1 +- `relative` (e.g. 2^-8, bfloat16's roundoff).

  Leaves that are not float32 (integer targets, PRNG keys) are unchanged.
  """
  rng = np.random.default_rng(seed)

  def move(leaf):
    if getattr(leaf, "dtype", None) != np.float32:
      return leaf
    value = np.asarray(leaf)
    up = rng.random(value.shape) < 0.5
    if relative is not None:
      return (value * np.where(up, 1 + relative, 1 - relative)).astype(
        np.float32
      )
    towards = np.where(up, np.float32(np.inf), np.float32(-np.inf))
    return np.nextafter(value, towards).astype(np.float32)

  return jax.tree.map(move, tree)


def sensitivity(
  run: Callable, *args, nudges: int = 2, relative: float | None = None
) -> list:
  """`run(*args)` on `nudges` independently nudged copies of args (same
  shapes and dtypes as args, so a jitted `run` is not compiled again)."""
  return [run(*nudge(args, seed, relative)) for seed in range(nudges)]


def tolerance(want, nudged: Sequence) -> float:
  """The derived bound on max|got - want| (see the module docstring)."""
  want = np.asarray(want, np.float64)
  moved = max(np.abs(np.asarray(n, np.float64) - want).max() for n in nudged)
  return SAFETY * moved + FLOOR_ULPS * EPS32 * np.abs(want).max()


def assert_close(got, want, nudged: Sequence, err_msg: str = "") -> None:
  """max|got - want| <= tolerance(want, nudged), with the numbers on failure.

  Args:
    got, want: the two programs' results, same shape.
    nudged: `want`'s program run on nudged inputs (`sensitivity`), one array
      per nudge.
    err_msg: what is compared, for the failure message.
  """
  got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
  assert got.shape == want.shape, (err_msg, got.shape, want.shape)
  bound = tolerance(want, nudged)
  diff = np.abs(got - want).max()
  assert diff <= bound, (
    f"{err_msg}: max|got - want| = {diff:.3g} exceeds the rounding bound "
    f"{bound:.3g} (SAFETY {SAFETY} x the change from one-ulp nudges of the "
    f"inputs, + {FLOOR_ULPS} ulps of the scale {np.abs(want).max():.3g})"
  )
