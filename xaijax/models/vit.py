# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Vision Transformer ViT-B/16 as torchvision builds it (`vit_b_16`).

Layer names follow torchvision: `conv_proj` (the patch embedding, (B, H/p,
W/p, D)), `encoder` (`encoder.pos_embedding` is its parameter),
`encoder.layers.encoder_layer_{i}` (pre-norm blocks, i = 0..11) with `ln_1`,
`self_attention` (its `out_proj`), `dropout`, `ln_2` and `mlp` (`mlp.0`
linear, `mlp.1` GELU, `mlp.3` linear), `encoder.ln`, then `heads.head`;
`class_token` is a top-level parameter. Token activations are (B, 1 + P, D):
the class token first, then the P = (H/p)(W/p) patches row-major (token
1 + r * W/p + c is patch row r, column c), as torchvision's reshape of
`conv_proj`'s output.

One name torchvision has no module for: `...self_attention.softmax`, the
post-softmax attention probabilities (B, heads, T, T) (rows are queries,
each sums to 1), which torch computes inside `nn.MultiheadAttention` without
exposing them (torchvision calls it with need_weights=False). Reading it
changes nothing.

torch packs the query, key and value projections into one `in_proj_weight`
(3D, D); here they are three linear layers `self_attention.query`, `.key`
and `.value`, and `from_torchvision` splits the packed tensors.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from xaijax.models import layers
from xaijax.models.layers import Dtype

# Suffix of the layer name of each block's attention probabilities.
ATTENTION = "self_attention.softmax"
# The class token precedes the patch tokens.
CLASS_TOKENS = 1
_LN_EPS = 1e-6  # torchvision: partial(nn.LayerNorm, eps=1e-6)


def _uniform(bound: float):
  return lambda key, shape, dtype=jnp.float32: jax.random.uniform(
    key, shape, dtype, -bound, bound
  )


def _linear(
  features: int,
  kernel_bound: float,
  dtype: Dtype,
  name: str,
  bias_init=nn.initializers.zeros,
) -> nn.Dense:
  """torch.nn.Linear with a U(-bound, bound) weight init."""
  return nn.Dense(
    features,
    kernel_init=_uniform(kernel_bound),
    bias_init=bias_init,
    dtype=dtype,
    param_dtype=jnp.float32,
    name=name,
  )


def _layer_norm(dtype: Dtype, name: str) -> nn.LayerNorm:
  # use_fast_variance=False: E[(x - mean)^2] as torch, not E[x^2] - mean^2.
  return nn.LayerNorm(
    epsilon=_LN_EPS,
    use_fast_variance=False,
    dtype=dtype,
    param_dtype=jnp.float32,
    name=name,
  )


class Softmax(nn.Module):
  """Softmax over keys, in float32 whatever the compute dtype."""

  @nn.compact
  def __call__(self, logits: jax.Array) -> jax.Array:
    return jax.nn.softmax(logits.astype(jnp.float32), axis=-1).astype(
      logits.dtype
    )


class GELU(nn.Module):
  """torch.nn.GELU(): the exact erf form, not the tanh approximation."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return nn.gelu(x, approximate=False)


class MultiheadAttention(nn.Module):
  """torch.nn.MultiheadAttention(D, heads, batch_first=True) on (x, x, x).

  Attributes:
    num_heads: heads; D must be divisible by it.
    dropout: dropout on the attention probabilities in training (after
      `softmax`, which therefore reads the same in either mode).
    dtype: compute dtype.
  """

  num_heads: int
  dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """(B, T, D) -> (B, T, D)."""
    batch, tokens, dim = x.shape
    head_dim = dim // self.num_heads
    # torch's xavier_uniform_ on the packed (3D, D) in_proj_weight.
    in_bound = math.sqrt(6.0 / (dim + 3 * dim))

    def project(name):
      y = _linear(dim, in_bound, self.dtype, name)(x)
      return y.reshape(batch, tokens, self.num_heads, head_dim)

    q, k, v = project("query"), project("key"), project("value")
    logits = jnp.einsum("bqhd,bkhd->bhqk", q, k) / math.sqrt(head_dim)
    probs = Softmax(name="softmax")(logits)
    probs = nn.Dropout(self.dropout, deterministic=not train, name="dropout")(
      probs
    )
    out = jnp.einsum("bhqk,bkhd->bqhd", probs, v).reshape(batch, tokens, dim)
    # out_proj keeps nn.Linear's default U(+-1/sqrt(D)) weight; bias zero.
    return _linear(dim, 1.0 / math.sqrt(dim), self.dtype, "out_proj")(out)


class MLPBlock(nn.Module):
  """torchvision's MLPBlock: `0` linear, `1` GELU, `2` dropout, `3` linear,
  `4` dropout; xavier_uniform_ weights, N(0, 1e-6) biases."""

  mlp_dim: int
  dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    dim = x.shape[-1]
    bound = math.sqrt(6.0 / (dim + self.mlp_dim))
    bias = nn.initializers.normal(1e-6)
    x = _linear(self.mlp_dim, bound, self.dtype, "0", bias)(x)
    x = GELU(name="1")(x)
    x = nn.Dropout(self.dropout, deterministic=not train, name="2")(x)
    x = _linear(dim, bound, self.dtype, "3", bias)(x)
    return nn.Dropout(self.dropout, deterministic=not train, name="4")(x)


class EncoderBlock(nn.Module):
  """Pre-norm block: x + MHA(ln_1(x)), then + MLP(ln_2(.))."""

  num_heads: int
  mlp_dim: int
  dropout: float = 0.0
  attention_dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, inputs: jax.Array, train: bool = False) -> jax.Array:
    x = _layer_norm(self.dtype, "ln_1")(inputs)
    x = MultiheadAttention(
      self.num_heads, self.attention_dropout, self.dtype, name="self_attention"
    )(x, train)
    x = nn.Dropout(self.dropout, deterministic=not train, name="dropout")(x)
    x = x + inputs
    y = _layer_norm(self.dtype, "ln_2")(x)
    y = MLPBlock(self.mlp_dim, self.dropout, self.dtype, name="mlp")(y, train)
    return x + y


class EncoderLayers(nn.Module):
  """torchvision's `encoder.layers` Sequential: `encoder_layer_{i}`."""

  num_layers: int
  num_heads: int
  mlp_dim: int
  dropout: float = 0.0
  attention_dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    for i in range(self.num_layers):
      x = EncoderBlock(
        self.num_heads,
        self.mlp_dim,
        self.dropout,
        self.attention_dropout,
        self.dtype,
        name=f"encoder_layer_{i}",
      )(x, train)
    return x


class Encoder(nn.Module):
  """+ pos_embedding, dropout, the blocks, then the final LayerNorm `ln`."""

  num_layers: int
  num_heads: int
  mlp_dim: int
  dropout: float = 0.0
  attention_dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    _, tokens, dim = x.shape
    if self.has_variable("params", "pos_embedding"):
      stored = self.get_variable("params", "pos_embedding").shape[1]
      if stored != tokens:
        raise ValueError(
          f"These ViT variables hold position embeddings for {stored} tokens "
          f"({stored - 1} patches), but the images give {tokens - 1} patches."
          " Use the image size the model was made for, or port the weights "
          "again with from_torchvision(..., image_size=...), which "
          "interpolates the position embedding as torchvision does."
        )
    pos = self.param(
      "pos_embedding",
      nn.initializers.normal(0.02),  # torchvision: normal_(std=0.02)
      (1, tokens, dim),
      jnp.float32,
    )
    x = x + pos.astype(self.dtype)
    x = nn.Dropout(self.dropout, deterministic=not train, name="dropout")(x)
    x = EncoderLayers(
      self.num_layers,
      self.num_heads,
      self.mlp_dim,
      self.dropout,
      self.attention_dropout,
      self.dtype,
      name="layers",
    )(x, train)
    return _layer_norm(self.dtype, "ln")(x)


class Heads(nn.Module):
  """torchvision's `heads` Sequential with one linear layer `head`."""

  num_classes: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    # torchvision initialises the head to zero.
    return nn.Dense(
      self.num_classes,
      kernel_init=nn.initializers.zeros,
      dtype=self.dtype,
      param_dtype=jnp.float32,
      name="head",
    )(x)


def check_patch_grid(image_shape, patch_size: int) -> tuple[int, int]:
  """(H/p, W/p) for (B, H, W, C) images; a clear error if p does not divide
  both sides (torchvision asserts the same)."""
  height, width = image_shape[1:3]
  if height % patch_size or width % patch_size:
    raise ValueError(
      f"A ViT with {patch_size}-pixel patches needs image sides that are "
      f"multiples of {patch_size}; got {height}x{width}. Resize the images "
      "(in a config: data.image_size, e.g. "
      f"{patch_size * max(1, round(height / patch_size))})."
    )
  return height // patch_size, width // patch_size


class VisionTransformer(nn.Module):
  """ViT; defaults give torchvision's vit_b_16 (86,567,656 parameters).

  The position embedding is sized at `init` by the images, (H/p)(W/p) + 1
  tokens; torchvision fixes it by `image_size` (224). Other sizes of a
  torchvision checkpoint: `from_torchvision(..., image_size=...)`.

  Attributes:
    num_classes: size of `heads.head`.
    patch_size: side of the square patches (`conv_proj`'s kernel and stride).
    num_layers: encoder blocks.
    num_heads: attention heads per block.
    hidden_dim: token width D.
    mlp_dim: hidden width of each block's MLP.
    dropout: dropout after the position embedding, the attention and in the
      MLP, in training (0 as torchvision's default).
    attention_dropout: dropout on the attention probabilities (0).
    dtype: compute dtype; parameters stay float32.
  """

  num_classes: int = 1000
  patch_size: int = 16
  num_layers: int = 12
  num_heads: int = 12
  hidden_dim: int = 768
  mlp_dim: int = 3072
  dropout: float = 0.0
  attention_dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    """(B, H, W, 3) normalised images -> (B, num_classes) float32 logits."""
    layers.check_images(x)
    grid_h, grid_w = check_patch_grid(x.shape, self.patch_size)
    p = self.patch_size
    fan_in = 3 * p * p
    x = nn.Conv(
      self.hidden_dim,
      (p, p),
      strides=(p, p),
      padding="VALID",
      # torchvision: trunc_normal_(std=sqrt(1/fan_in)) truncated at +-2 in
      # absolute value, i.e. at ~+-55 std: a plain normal.
      kernel_init=nn.initializers.normal(math.sqrt(1.0 / fan_in)),
      dtype=self.dtype,
      param_dtype=jnp.float32,
      name="conv_proj",
    )(x.astype(self.dtype))
    batch = x.shape[0]
    # NHWC -> (B, P, D) row-major over the grid: torchvision's token order.
    x = x.reshape(batch, grid_h * grid_w, self.hidden_dim)
    class_token = self.param(
      "class_token",
      nn.initializers.zeros,
      (1, 1, self.hidden_dim),
      jnp.float32,
    )
    class_token = jnp.broadcast_to(
      class_token.astype(self.dtype), (batch, 1, self.hidden_dim)
    )
    x = jnp.concatenate([class_token, x], axis=1)
    x = Encoder(
      self.num_layers,
      self.num_heads,
      self.mlp_dim,
      self.dropout,
      self.attention_dropout,
      self.dtype,
      name="encoder",
    )(x, train)
    x = Heads(self.num_classes, self.dtype, name="heads")(x[:, 0])
    return x.astype(jnp.float32)


def _cubic_weights(t: np.ndarray, a: float = -0.75) -> np.ndarray:
  """torch's bicubic convolution weights of the taps at -1, 0, 1, 2 for a
  fractional offset t (Keys' kernel with A = -0.75, aten's UpSample.h)."""

  def near(d):  # |d| <= 1
    return ((a + 2) * d - (a + 3)) * d * d + 1

  def far(d):  # 1 < |d| < 2
    return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

  return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=-1)


def bicubic_matrix(size_in: int, size_out: int) -> np.ndarray:
  """(size_out, size_in) float64 matrix of torch's bicubic resize with
  align_corners=True (source index out * (in - 1) / (out - 1), taps clamped
  to the edge)."""
  scale = (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0
  src = np.arange(size_out) * scale
  low = np.floor(src).astype(int)
  weights = _cubic_weights(src - low)
  matrix = np.zeros((size_out, size_in))
  for tap in range(4):
    index = np.clip(low - 1 + tap, 0, size_in - 1)
    np.add.at(matrix, (np.arange(size_out), index), weights[:, tap])
  return matrix


def interpolate_embeddings(
  pos_embedding: np.ndarray, tokens: int
) -> np.ndarray:
  """torchvision's `interpolate_embeddings` for a new token count.

  The class token's embedding is kept; the patch embeddings, laid out on
  their square grid, are resized bicubically with align_corners=True (as
  torchvision's function does) to the new square grid.

  Args:
    pos_embedding: (1, 1 + g * g, D) position embedding of a checkpoint.
    tokens: 1 + n * n, the token count of the new image size.

  Returns:
    (1, tokens, D) float32, the input itself if the count is unchanged.
  """
  _, old_tokens, dim = pos_embedding.shape
  if old_tokens == tokens:
    return pos_embedding
  old, new = math.isqrt(old_tokens - 1), math.isqrt(tokens - 1)
  if old * old != old_tokens - 1 or new * new != tokens - 1:
    raise ValueError(
      f"Position embeddings interpolate between square patch grids; got "
      f"{old_tokens - 1} -> {tokens - 1} patches."
    )
  grid = pos_embedding[0, 1:].astype(np.float64).reshape(old, old, dim)
  matrix = bicubic_matrix(old, new)
  resized = np.einsum("Hh,hwd,Ww->HWd", matrix, grid, matrix)
  return np.concatenate(
    [pos_embedding[:, :1], resized.reshape(1, new * new, dim)], axis=1
  ).astype(np.float32)
