# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""HiResCAM (Draelos & Carin 2020): sum_k G^k * A^k, element-wise."""

import jax

from xaijax.explain.base import CamInputs, Method


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions G * A."""
  return inputs.grads * inputs.acts


METHOD = Method(weighting, gradients=True)
