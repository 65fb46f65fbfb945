# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""XGradCAM (Fu et al. 2020): w_k = sum_ij A^k_ij G^k_ij / (sum A^k + 1e-7).

Unstable when a channel sums to about zero (pre-ReLU layers such as DenseNet
`features.norm5`); kept as upstream."""

import jax
import jax.numpy as jnp

from xaijax.explain.base import CamInputs, Method, channel_weighted


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions w_k A^k."""
  a = inputs.acts
  norm = jnp.sum(a, axis=(1, 2), keepdims=True) + 1e-7
  weights = jnp.sum(a / norm * inputs.grads, axis=(1, 2))
  return channel_weighted(weights, a)


METHOD = Method(weighting, gradients=True)
