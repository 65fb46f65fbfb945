# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""AblationCAM (Desai & Ramaswamy 2020): w_k = (y0 - y_k) / y0.

y_k is the target score with channel k of the layer replaced (the head only
is re-evaluated; channels vmapped in chunks of `chunk_size`). The replacement
value follows pytorch-grad-cam's AblationLayer: 0 when the image's activation
minimum is exactly 0 (post-ReLU layers), otherwise a very negative value:

* `"upstream"` (default): upstream writes min(output) - 1e7 into the rows
  of its batch of 32 one after the other, IN PLACE, so the minimum it reads
  already includes the rows ablated before: row r of a batch gets
  min - (r + 1) * 1e7, i.e. channel k gets min - (k % 32 + 1) * 1e7. This is
  reproduced for parity.
* `"min"`: the documented intent, min - 1e7 for every channel.

Dividing by y0 flips the weights when the clean score is negative (as
upstream).
"""

import jax
import jax.numpy as jnp

from xaijax.explain.base import CamInputs, Method, channel_weighted

ABLATION_VALUES = ("upstream", "min")
_UPSTREAM_BATCH = 32
_OFFSET = 1e7


def replacement(amin: jax.Array, channel: jax.Array, rule: str) -> jax.Array:
  """(B,) per-image activation minimum -> (B,) value written to a channel."""
  if rule == "upstream":
    # Upstream subtracts 1e7 once per row in float32; so does this loop.
    def step(_, value):
      return value - jnp.float32(_OFFSET)

    rows = channel % _UPSTREAM_BATCH + 1
    value = jax.lax.fori_loop(0, rows, step, amin)
  else:
    value = amin - jnp.float32(_OFFSET)
  return jnp.where(amin == 0, 0.0, value)


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions w_k A^k."""
  acts = inputs.acts
  amin = jnp.min(acts, axis=(1, 2, 3))
  channels = jnp.arange(acts.shape[-1])

  def channel_scores(k):
    value = replacement(amin, k, inputs.ablation_value)
    ablated = jnp.where(channels == k, value[:, None, None, None], acts)
    return inputs.score_layer(ablated)

  ablated = jax.lax.map(
    channel_scores, channels, batch_size=inputs.chunk_size
  ).T
  original = inputs.scores[:, None]
  return channel_weighted((original - ablated) / original, acts)


METHOD = Method(weighting, gradients=False)
