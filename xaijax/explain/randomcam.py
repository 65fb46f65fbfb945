# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""RandomCAM: w_k ~ U(-1, 1) per image and channel, a baseline for metrics.

Upstream draws from numpy's global RNG; here the key is explicit."""

import jax
import jax.numpy as jnp

from xaijax.explain.base import CamInputs, Method, channel_weighted


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions w_k A^k with random w."""
  a = inputs.acts
  weights = jax.random.uniform(
    inputs.key, (a.shape[0], a.shape[-1]), jnp.float32, -1.0, 1.0
  )
  return channel_weighted(weights, a)


METHOD = Method(weighting, gradients=False)
