# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ScoreCAM (Wang et al. 2020): softmax over channels of masked-input scores.

Each channel, upsampled with align_corners=True (torch's UpsamplingBilinear2d,
as pytorch-grad-cam; NOT the half-pixel convention of the final resize) and
min-max scaled with 1e-8, masks the normalised input; the target score of
each masked input is that channel's logit-space weight.

That is one full forward pass per channel, so each distinct mask is scored
once: channels whose min-max scaled maps are equal (every constant channel,
e.g. an all-zero post-ReLU map, gives the all-zero mask; a ReLU map with a
single positive cell gives that cell's one-hot mask) share the score of the
first of them. At ResNet-50's layer4 that skips ~19% of the 2048 passes at
64 px (2x2 maps) and ~6% at 224 px on random weights. The masks of such
channels differ only by float32 rounding. The distinct masks are scored in
chunks of `chunk_size` per image (forward batches of chunk_size x B), and a
chunk past the last distinct mask of every image is skipped.
"""

import functools

import jax
import jax.numpy as jnp

from xaijax.explain import postprocess
from xaijax.explain.base import CamInputs, Method, channel_weighted


def _min_max(maps: jax.Array, axes: tuple[int, ...]) -> jax.Array:
  low = jnp.min(maps, axis=axes, keepdims=True)
  high = jnp.max(maps, axis=axes, keepdims=True)
  return (maps - low) / (high - low + 1e-8)


def _distinct_channels(acts: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(B, h, w, C) -> per image, the first channel of each distinct scaled map
  (B, C; the tail past the count is padding) and each channel's position in
  that list (B, C)."""
  batch, _, _, channels = acts.shape
  keys = _min_max(acts, (1, 2)).reshape(batch, -1, channels).transpose(0, 2, 1)
  distinct = functools.partial(
    jnp.unique, axis=0, size=channels, return_index=True, return_inverse=True
  )
  _, first, position = jax.vmap(distinct)(keys)
  return first, position.reshape(batch, channels)


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) contributions softmax_k(s)_k A^k."""
  acts, images = inputs.acts, inputs.images
  batch, channels, chunk = acts.shape[0], acts.shape[-1], inputs.chunk_size
  first, position = _distinct_channels(acts)
  needed = jnp.max(position) + 1
  chunks = -(-channels // chunk)
  first = jnp.pad(first, ((0, 0), (0, chunks * chunk - channels)))

  def masked_scores(channel):  # (B, chunk) channels per image -> scores
    maps = jnp.take_along_axis(acts, channel[:, None, None, :], axis=-1)
    up = postprocess.upsample_align_corners(
      maps.transpose(0, 3, 1, 2), images.shape[1:3]
    )
    # Image-major (B, chunk, H, W, 3): a batch sharded over devices stays so.
    return inputs.score_images(
      images[:, None] * _min_max(up, (2, 3))[..., None]
    )

  def chunk_scores(start):  # -> (B, chunk)
    channel = jax.lax.dynamic_slice_in_dim(first, start, chunk, axis=1)
    return jax.lax.cond(
      start < needed,
      lambda: masked_scores(channel),
      lambda: jnp.zeros((batch, chunk), inputs.scores.dtype),
    )

  distinct = jax.lax.map(chunk_scores, jnp.arange(chunks) * chunk)
  distinct = distinct.transpose(1, 0, 2).reshape(batch, -1)
  scores = jnp.take_along_axis(distinct, position, axis=1)
  return channel_weighted(jax.nn.softmax(scores, axis=-1), acts)


METHOD = Method(weighting, gradients=False)
