# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The matmul route of `layers.conv_general_dilated` against XLA's conv."""

import jax
import numpy as np
import pytest

from tests import rounding
from xaijax.models import layers

DIMENSIONS = ("NHWC", "HWIO", "NHWC")

# (input (B,H,W,C), kernel size, stride, ((top, bottom), (left, right)), out)
MATMUL_ROUTED = {
  "pointwise": ((2, 5, 6, 8), 1, 1, ((0, 0), (0, 0)), 12),
  "pointwise_strided": ((2, 5, 6, 8), 1, 2, ((0, 0), (0, 0)), 12),
  "window_over_2x2": ((3, 2, 2, 16), 3, 1, ((1, 1), (1, 1)), 8),
  "window_over_2x2_strided": ((3, 2, 2, 16), 3, 2, ((1, 1), (1, 1)), 8),
  "5x5_over_4x4": ((2, 4, 4, 4), 5, 1, ((2, 2), (2, 2)), 6),
  "asymmetric_padding_1x1_map": ((2, 1, 1, 4), 3, 1, ((1, 2), (2, 0)), 5),
}


def _reference(x, kernel, stride, padding):
  return jax.lax.conv_general_dilated(
    x,
    kernel,
    (stride, stride),
    padding,
    dimension_numbers=DIMENSIONS,
    precision="highest",
  )


def _ours(x, kernel, stride, padding):
  return layers.conv_general_dilated(
    x,
    kernel,
    (stride, stride),
    padding,
    dimension_numbers=DIMENSIONS,
    precision="highest",
  )


def _case(case, seed=0):
  shape, k, stride, padding, features = MATMUL_ROUTED[case]
  rng = np.random.default_rng(seed)
  x = rng.standard_normal(shape).astype(np.float32)
  kernel = rng.standard_normal((k, k, shape[-1], features)).astype(np.float32)
  return x, kernel, stride, padding


def _assert_within(got, want, bound, what):
  excess = np.abs(np.asarray(got) - np.asarray(want)) - np.asarray(bound)
  assert excess.max() <= 0, (what, float(excess.max()))


@pytest.mark.parametrize("case", sorted(MATMUL_ROUTED))
def test_matmul_route_equals_xla_convolution_and_its_gradients(case):
  x, kernel, stride, padding = _case(case)
  want = _reference(x, kernel, stride, padding)
  got = _ours(x, kernel, stride, padding)
  assert got.shape == want.shape
  # Both are float32 sums of the same products in different orders; each
  # is within gamma_n * sum|terms| of the exact sum (Higham, Accuracy and
  # Stability of Numerical Algorithms, eq. 3.5, gamma_n = n u / (1 - n u)),
  # so they differ by at most 2 gamma_n * sum|terms|, element by element.
  # sum|terms| is the same convolution of |x| and |kernel| (its own rounding
  # is second order). n: the products per output element.
  k, channels_in = kernel.shape[0], kernel.shape[2]
  abs_conv = _reference(np.abs(x), np.abs(kernel), stride, padding)
  bound = 2 * rounding.gamma(k * k * channels_in) * abs_conv
  _assert_within(got, want, bound, "output")

  cotangent = np.random.default_rng(1).standard_normal(want.shape)

  def loss(fn):
    return lambda x, w: (fn(x, w, stride, padding) * cotangent).sum()

  want_grads = jax.grad(loss(_reference), argnums=(0, 1))(x, kernel)
  got_grads = jax.grad(loss(_ours), argnums=(0, 1))(x, kernel)
  # The same bound for the two transposed products: sum|terms| is the
  # pullback of |cotangent| through the convolution of |x| and |kernel|;
  # n is k*k*C_out products per input gradient (at most) and B*Ho*Wo per
  # kernel gradient. (The loss's gradient with respect to the output is the
  # cotangent itself, exactly, in both.)
  _, pullback = jax.vjp(
    lambda a, b: _reference(a, b, stride, padding), np.abs(x), np.abs(kernel)
  )
  abs_grads = pullback(np.abs(cotangent).astype(np.float32))
  counts = (k * k * kernel.shape[3], int(np.prod(want.shape[:3])))
  for what, got_grad, want_grad, abs_grad, n in zip(
    ("input gradient", "kernel gradient"),
    got_grads,
    want_grads,
    abs_grads,
    counts,
    strict=True,
  ):
    bound = 2 * rounding.gamma(n) * abs_grad
    _assert_within(got_grad, want_grad, bound, what)


def _compiled_text(x, kernel, stride, padding):
  return (
    jax.jit(_ours, static_argnums=(2, 3))
    .lower(x, kernel, stride, padding)
    .compile()
    .as_text()
  )


@pytest.mark.parametrize("case", sorted(MATMUL_ROUTED))
def test_routed_cases_compile_without_a_convolution(case):
  # The point of the route is to keep XLA:CPU off its slow convolutions.
  assert "convolution(" not in _compiled_text(*_case(case))


def test_other_convolutions_are_left_to_xla():
  rng = np.random.default_rng(0)
  x = rng.standard_normal((2, 8, 8, 4)).astype(np.float32)
  kernel = rng.standard_normal((3, 3, 4, 6)).astype(np.float32)
  padding = ((1, 1), (1, 1))
  assert "convolution(" in _compiled_text(x, kernel, 1, padding)
