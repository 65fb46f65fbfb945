# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""GradCAM++ (Chattopadhyay et al. 2018), the closed form of their eq. 19.

That closed form assumes an exponential output; as pytorch-grad-cam it is
applied to the gradients of whatever target is used (the logit by default),
the "second and third derivatives" being G^2 and G^3, and the positive
per-image factor exp(S) dropped (min-max scaling removes it)."""

import jax
import jax.numpy as jnp

from xaijax.explain.base import CamInputs, Method, channel_weighted


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions w_k A^k."""
  g, a = inputs.grads, inputs.acts
  sum_a = jnp.sum(a, axis=(1, 2), keepdims=True)
  g2 = g * g
  alpha = g2 / (2 * g2 + sum_a * g2 * g + 1e-6)
  alpha = jnp.where(g != 0, alpha, 0.0)
  weights = jnp.sum(alpha * jax.nn.relu(g), axis=(1, 2))
  return channel_weighted(weights, a)


METHOD = Method(weighting, gradients=True)
