# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The post-processing shared by every CAM, in pytorch-grad-cam's order.

Per layer: ReLU -> per-image min-max with 1e-7 -> half-pixel bilinear resize
to the input size (cv2.resize's INTER_LINEAR, which `jax.image.resize(...,
"linear")` reproduces when upsampling) ; then the mean over layers and the
same min-max again. A constant map becomes all zeros, as upstream.
"""

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
_EPS = 1e-7


def minmax(maps: Array) -> Array:
  """(..., h, w) -> each map shifted to min 0 and divided by (max + 1e-7)."""
  maps = maps - jnp.min(maps, axis=(-2, -1), keepdims=True)
  return maps / (_EPS + jnp.max(maps, axis=(-2, -1), keepdims=True))


def resize(maps: Array, size: tuple[int, int]) -> Array:
  """(..., h, w) -> (..., H, W), half-pixel bilinear with edge clamp."""
  if maps.shape[-2:] == tuple(size):
    return maps
  return jax.image.resize(maps, (*maps.shape[:-2], *size), "linear")


def layer_map(cam: Array, size: tuple[int, int]) -> Array:
  """(B, h, w) raw layer CAM -> (B, H, W): ReLU, min-max, resize."""
  return resize(minmax(jax.nn.relu(cam)), size)


def aggregate(per_layer: Array) -> Array:
  """(L, B, H, W) processed layer maps -> (B, H, W) in [0, 1]."""
  return minmax(jnp.mean(jax.nn.relu(per_layer), axis=0))


def align_corners_matrix(size_in: int, size_out: int) -> np.ndarray:
  """(size_out, size_in) bilinear weights with align_corners=True.

  torch's UpsamplingBilinear2d (used by ScoreCAM) maps output i to input
  i * (size_in - 1) / (size_out - 1), unlike the half-pixel cv2 convention.
  """
  if size_out == 1:
    src = np.zeros((1,))
  else:
    src = np.arange(size_out) * (size_in - 1) / (size_out - 1)
  low = np.clip(np.floor(src).astype(int), 0, size_in - 1)
  high = np.minimum(low + 1, size_in - 1)
  frac = src - low
  matrix = np.zeros((size_out, size_in), np.float64)
  np.add.at(matrix, (np.arange(size_out), low), 1 - frac)
  np.add.at(matrix, (np.arange(size_out), high), frac)
  return matrix.astype(np.float32)


def upsample_align_corners(maps: Array, size: tuple[int, int]) -> Array:
  """(..., h, w) -> (..., H, W) bilinear with align_corners=True."""
  rows = align_corners_matrix(maps.shape[-2], size[0])
  cols = align_corners_matrix(maps.shape[-1], size[1])
  return jnp.einsum(
    "Hh,...hw,Ww->...HW", rows, maps, cols, precision=jax.lax.Precision.HIGHEST
  )
