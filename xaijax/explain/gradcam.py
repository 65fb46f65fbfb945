# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""GradCAM (Selvaraju et al. 2017): w_k = spatial mean of G^k."""

import jax
import jax.numpy as jnp

from xaijax.explain.base import CamInputs, Method, channel_weighted


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions w_k A^k."""
  return channel_weighted(jnp.mean(inputs.grads, axis=(1, 2)), inputs.acts)


METHOD = Method(weighting, gradients=True)
