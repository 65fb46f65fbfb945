# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""LayerCAM (Jiang et al. 2021): sum_k ReLU(G^k) A^k, element-wise.

The paper's tanh scaling for shallow layers is not applied (as upstream)."""

import jax

from xaijax.explain.base import CamInputs, Method


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions ReLU(G) * A."""
  return jax.nn.relu(inputs.grads) * inputs.acts


METHOD = Method(weighting, gradients=True)
