# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Float32 results judged against a float64 torch reference.

xaijax and torch in float32 cannot be compared with each other at a fixed
tolerance: some results are ill-conditioned (ResNet-50's stem gradients are
~3e-2 off the float64 value in BOTH frameworks) while others are exact to
1e-6. So both float32 results are compared with torch's float64 result on
the same weights and inputs, and xaijax must be within ACCURACY_FACTOR of
torch's own float32 error there: as accurate as torch, whatever the
conditioning, on any CPU. Used by tests/models/test_train_parity.py
(gradients, BatchNorm statistics) and tests/train/test_trajectories.py
(parameters after 20 optimizer steps).

A float32 program's error is one draw from its roundings, and where a
result is ill-conditioned the draws differ by orders of magnitude: a ReLU
mask or the BatchNorm of a 2x2 map changes with the last bit of an input.
Measured on ResNet-50's `layer4.2.conv1` gradient (64 px, batch 4): torch's
float32 error is 1.4e-4 with 2 threads, 1.4e-2 with 1 thread and 7.7e-3 to
1.9e-2 with the weights and images moved one ulp. So torch's error is taken
as the largest of REALISATIONS runs: as given, and on inputs `nudge`d by one
ulp (another rounding of the same problem, as each operation's own).
"""

import jax
import numpy as np

from xaijax.models import torchvision_port

# Unit roundoffs: no float32 result is more accurate than the exact value
# rounded once, so a bound below U32 relative would be unattainable.
U32 = 2.0**-24
U64 = 2.0**-53
# How much less accurate than torch xaijax may be: another summation order
# (XLA's fused reductions, the im2col matmuls) moves float32 results by a few
# times torch's error (measured: at most 2.8x, ResNet-50's gradients), not by
# 10x; the E[x^2] - E[x]^2 batch variance these tests caught was 40x (tiny
# DenseNet) to 600x (DenseNet-121) less accurate.
ACCURACY_FACTOR = 10.0
REALISATIONS = 3  # torch's float32 runs: the inputs as given, 2 nudges


def nudge(tree, seed: int):
  """`tree` with every float32 element (numpy array or CPU torch tensor) one
  ulp up or down at random; other leaves unchanged."""
  rng = np.random.default_rng(seed)

  def move(leaf):
    value = np.asarray(leaf)
    if value.dtype != np.float32:
      return leaf
    towards = np.where(rng.random(value.shape) < 0.5, np.inf, -np.inf)
    moved = np.nextafter(value, towards.astype(np.float32))
    return leaf.new_tensor(moved) if hasattr(leaf, "new_tensor") else moved

  return jax.tree.map(move, tree)


def realisations(run, *inputs) -> list:
  """`run(*inputs)` on the inputs as given and on REALISATIONS - 1 nudged
  copies: one result per rounding draw, for `allowed_errors`."""
  return [run(*inputs)] + [
    run(*nudge(inputs, seed)) for seed in range(1, REALISATIONS)
  ]


def allowed_errors(
  torch32: list[dict], reference: dict, roundoff: float = U32
) -> dict[str, float]:
  """{key: the largest error allowed}: 10x torch's float32 error, the
  largest over the rounding draws `torch32`.

  Errors are Frobenius norms of the difference from the float64 `reference`
  per tensor. Compared as absolute norms they are relative errors wherever
  the reference is non-zero, and they also cover gradients that vanish
  exactly (a BatchNorm bias whose every path ends in another BatchNorm),
  whose float32 values are rounding noise in both frameworks.

  Args:
    torch32: `realisations` of torch's float32 result, each {torch key:
      float64 array}.
    reference: the same from torch in float64.
    roundoff: the unit roundoff of the result checked: a float64 result is
      allowed 10x torch's float32 error scaled by U64 / U32 (the same
      conditioning, a finer roundoff).
  """
  return {
    key: ACCURACY_FACTOR
    * max(
      *(np.linalg.norm(run[key] - expected) for run in torch32),
      U32 * np.linalg.norm(expected),
    )
    * (roundoff / U32)
    for key, expected in reference.items()
  }


def assert_within(actual: dict, reference: dict, allowed: dict, what: str):
  """Every tensor of `actual` is within `allowed[key]` of `reference`."""
  assert actual.keys() == reference.keys()
  failures = [
    f"{key}: {error / np.linalg.norm(reference[key]):.2e} relative, allowed "
    f"{allowed[key] / np.linalg.norm(reference[key]):.2e}"
    for key in reference
    if (error := np.linalg.norm(actual[key] - reference[key])) > allowed[key]
  ]
  assert not failures, (
    f"{len(failures)} of {len(reference)} {what} tensors are further from "
    "torch's float64 result than allowed: " + "; ".join(failures[:10])
  )


def torch_keyed(collection: str, tree) -> dict[str, np.ndarray]:
  """A Flax variable collection ('params' or 'batch_stats') as {torchvision
  state_dict key: float64 array in torch's layout}."""
  keyed = {}
  for path, value in jax.tree_util.tree_leaves_with_path(tree):
    names = tuple(p.key for p in path)
    value = np.asarray(value, np.float64)
    key, transform, _ = torchvision_port._torch_names(
      collection, names, value.ndim
    )
    if transform == "conv":
      value = value.transpose(3, 2, 0, 1)  # HWIO -> OIHW
    elif transform == "linear":
      value = value.T
    keyed[key] = value
  return keyed
