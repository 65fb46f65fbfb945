# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ScoreCAM (Wang et al. 2020): softmax over channels of masked-input scores.

Each channel, upsampled with align_corners=True (torch's UpsamplingBilinear2d,
as pytorch-grad-cam; NOT the half-pixel convention of the final resize) and
min-max scaled with 1e-8, masks the normalised input; the target score of
each masked input is that channel's logit-space weight. The channels are
vmapped in chunks of `chunk_size` (one full forward pass per channel).
"""

import jax
import jax.numpy as jnp

from xaijax.explain import postprocess
from xaijax.explain.base import CamInputs, Method, channel_weighted


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions softmax_k(s)_k A^k."""
  acts, images = inputs.acts, inputs.images
  size = images.shape[1:3]

  def channel_scores(k):
    up = postprocess.upsample_align_corners(acts[..., k], size)
    low = jnp.min(up, axis=(1, 2), keepdims=True)
    high = jnp.max(up, axis=(1, 2), keepdims=True)
    mask = (up - low) / (high - low + 1e-8)
    return inputs.score_images(images * mask[..., None])

  channels = jnp.arange(acts.shape[-1])
  scores = jax.lax.map(channel_scores, channels, batch_size=inputs.chunk_size)
  return channel_weighted(jax.nn.softmax(scores.T, axis=-1), acts)


METHOD = Method(weighting, gradients=False)
