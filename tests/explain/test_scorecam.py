# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ScoreCAM scores each distinct mask once; the result is the per-channel one."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import rounding
from xaijax.explain import postprocess, scorecam
from xaijax.explain.base import CamInputs

BATCH, SIZE, SMALL = 3, 12, 3


def _acts(rng):
  """(B, 3, 3, 10) maps with repeats: zero and constant channels, copies,
  one-hot ReLU maps of different heights and distinct random ones."""
  acts = rng.uniform(0.1, 2.0, (BATCH, SMALL, SMALL, 10)).astype(np.float32)
  acts[..., 1] = 0.0
  acts[..., 4] = 0.7
  acts[..., 5] = acts[..., 0]
  acts[..., 6:9] = 0.0
  acts[:, 1, 2, 6] = 3.0
  acts[:, 1, 2, 7] = 5.0
  acts[0, 0, 0, 8] = 1.5
  acts[1:, ..., 8] = acts[1:, ..., 2]
  return acts


def _inputs(chunk_size, seed=0, calls=None, nudge=None):
  """CamInputs; `nudge`: a seed to move every image and weight of the score
  function by one ulp (tests/rounding.py). The activations are not nudged:
  both programs read them as they are (and a constant channel's min-max
  mask is not continuous in them)."""
  rng = np.random.default_rng(seed)
  images = rng.standard_normal((BATCH, SIZE, SIZE, 3)).astype(np.float32)
  weights = rng.standard_normal((BATCH, SIZE, SIZE, 3)).astype(np.float32)
  acts = _acts(rng)
  if nudge is not None:
    images, weights = rounding.nudge((images, weights), nudge)
  images, weights = jnp.asarray(images), jnp.asarray(weights)

  def score_images(x):  # (B, k, H, W, 3) -> (B, k), nonlinear, per image
    if calls is not None:
      jax.debug.callback(lambda x: calls.append(x.shape), x)
    linear = jnp.sum(x * weights[:, None], axis=(2, 3, 4))
    return jnp.tanh(linear) + jnp.mean(x**2, axis=(2, 3, 4))

  return CamInputs(
    acts=jnp.asarray(acts),
    grads=None,
    images=images,
    scores=jnp.zeros(BATCH, jnp.float32),
    score_images=score_images,
    score_layer=None,
    key=None,
    chunk_size=chunk_size,
    ablation_value="upstream",
  )


def _per_channel(inputs):
  """ScoreCAM as written in the paper: one masked forward per channel."""
  scores = []
  for k in range(inputs.acts.shape[-1]):
    up = postprocess.upsample_align_corners(inputs.acts[..., k], (SIZE, SIZE))
    low = up.min(axis=(1, 2), keepdims=True)
    high = up.max(axis=(1, 2), keepdims=True)
    mask = (up - low) / (high - low + 1e-8)
    masked = inputs.images * mask[..., None]
    scores.append(inputs.score_images(masked[:, None])[:, 0])
  weights = jax.nn.softmax(jnp.stack(scores, axis=-1), axis=-1)
  return weights[:, None, None, :] * inputs.acts


@pytest.mark.parametrize("chunk_size", [1, 4, 64])
def test_distinct_masks_give_the_per_channel_result(chunk_size):
  inputs = _inputs(chunk_size)
  got = jax.jit(lambda: scorecam.weighting(inputs))()
  # The repeated channels' masks are bit-equal here; the forward calls are
  # batched differently (another XLA program): equal up to the rounding
  # bound of tests/rounding.py, from the per-channel program on nudged
  # inputs.
  rounding.assert_close(
    got,
    _per_channel(inputs),
    [_per_channel(_inputs(chunk_size, nudge=seed)) for seed in range(2)],
  )


def test_only_chunks_holding_a_distinct_mask_are_scored():
  # Distinct scaled maps of image 0: {0, 5}, {1, 4} (constant: all-zero
  # mask), {2}, {3}, {6, 7} (one-hot at the same cell), {8}, {9}: 7; images
  # 1 and 2 have 6 ({2, 8}). Of the chunks of 2 starting at 0, 2, 4, 6 and 8,
  # the one at 8 holds no distinct mask of any image and is skipped.
  calls = []
  jax.block_until_ready(scorecam.weighting(_inputs(2, calls=calls)))
  scored_images = sum(int(np.prod(shape[:-3])) for shape in calls)
  assert scored_images == 4 * 2 * BATCH
