# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""GradCAMElementWise (pytorch-grad-cam): sum_k ReLU(G^k * A^k)."""

import jax

from xaijax.explain.base import CamInputs, Method


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions ReLU(G * A)."""
  return jax.nn.relu(inputs.grads * inputs.acts)


METHOD = Method(weighting, gradients=True)
