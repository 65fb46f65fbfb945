# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Explanations read from a ViT's attention, as pure functions.

Inputs are the post-softmax attention probabilities of the blocks, stacked
in forward order, `attn` (L, B, heads, T, T) (rows are queries, each sums to
1; token 0 is the class token, tokens 1: the patches, row-major), and for the
gradient method `grads` of the same shape, d(target score)/d(attn). Each
method returns one relevance per patch, (B, P); `patch_grid` lays it out on
the image's patch grid and `cams` post-processes it like every CAM.

* `cls_attention`: the last block's class-token row (Chefer et al. 2021's
  "raw attention" baseline): heads fused (mean by default) or kept.
* `rollout`: attention rollout (Abnar & Zuidema 2020): per block the fused
  heads plus the residual identity, rows re-normalised, multiplied from the
  first block to the last; `compat="vit_explain"` reproduces
  jacobgil/vit-explain's `rollout` literally (its division by column sums).
* `chefer`: generic attention-model explainability (Chefer, Gur, Wolf, ICCV
  2021, rules 5-6): R = I, then per block R += mean_h((grad * attn)^+) R.

The registered names (`METHODS`) are what `xaijax.explain.cams` accepts:
`attention_last`, `attention_rollout`, `chefer`. See docs/explain.md.
"""

import dataclasses
from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from xaijax import models
from xaijax.explain import activations

Array = jax.Array
HEAD_FUSIONS = ("mean", "max", "min")
COMPATS = ("paper", "vit_explain")
_HIGHEST = jax.lax.Precision.HIGHEST  # T x T products, float32 on TPU too


def attention_layers(module: nn.Module, image_shape: Sequence[int]):
  """The names of a transformer's attention layers, in forward order.

  Args:
    module: a model from `xaijax.models.create`.
    image_shape: (B, H, W, 3).

  Returns:
    A tuple of layer names (`encoder.layers.encoder_layer_{i}.
    self_attention.softmax` for vit_b_16).

  Raises:
    ValueError: the model has no attention (a CNN).
  """
  layout = activations.token_layout(module)
  if layout is None:
    raise ValueError(
      f"{type(module).__name__} has no attention layers: the attention "
      "methods (attention_last, attention_rollout, chefer) need a "
      "transformer such as vit_b_16."
    )
  return tuple(
    name
    for name in models.layer_shapes(module, image_shape)
    if name.endswith("." + layout.attention)
  )


def fuse_heads(attn: Array, head_fusion: str = "mean", axis: int = -3):
  """Mean, max or min over the heads' axis ((..., heads, T, T) -> (..., T,
  T) by default)."""
  if head_fusion not in HEAD_FUSIONS:
    raise ValueError(
      f"Unknown head_fusion '{head_fusion}'; choose from {HEAD_FUSIONS}."
    )
  return getattr(jnp, head_fusion)(attn, axis=axis)


def cls_attention(attn: Array, head_fusion: str | None = "mean") -> Array:
  """The class token's attention to the patches in one block.

  Args:
    attn: (B, heads, T, T) attention of one block (the last for Chefer et
      al.'s "raw attention" baseline).
    head_fusion: "mean", "max" or "min" over the heads; None keeps them.

  Returns:
    (B, P) relevance, or (B, heads, P) with head_fusion=None.
  """
  rows = attn[..., 0, 1:]
  return rows if head_fusion is None else fuse_heads(rows, head_fusion, -2)


def _discard(fused: Array, ratio: float) -> Array:
  """Zeroes the int(T^2 * ratio) smallest entries of each (T, T) matrix,
  except the (class, class) entry (vit-explain; ties broken by position)."""
  batch, t, _ = fused.shape
  k = int(t * t * ratio)
  if k == 0:
    return fused
  flat = fused.reshape(batch, t * t)
  lowest = jnp.argsort(flat, axis=-1, stable=True)[:, :k]
  drop = (
    jnp.zeros(flat.shape, bool).at[jnp.arange(batch)[:, None], lowest].set(True)
  )
  drop = drop.at[:, 0].set(False)
  return jnp.where(drop, 0.0, flat).reshape(fused.shape)


def rollout(
  attn: Array,
  *,
  head_fusion: str = "mean",
  discard_ratio: float = 0.0,
  compat: str = "paper",
) -> Array:
  """Attention rollout: the class token's row of prod_l norm(fused_l + I).

  Args:
    attn: (L, B, heads, T, T) attention of every block, forward order.
    head_fusion: "mean" (the paper), "max" or "min" over the heads.
    discard_ratio: the share of each fused (T, T) matrix set to zero, the
      smallest entries first, the (class, class) entry kept (vit-explain's
      filter; 0 in the paper, 0.9 in vit-explain).
    compat: "paper" adds the identity and divides each row by its sum
      (Abnar & Zuidema; Chefer et al.'s `compute_rollout_attention`);
      "vit_explain" computes (fused + I) / 2 and then divides element (i, j)
      by the sum of row j, as jacobgil/vit-explain's `a / a.sum(dim=-1)`
      broadcasts. The two agree for mean fusion without discarding.

  Returns:
    (B, P) rollout of the class token over the patches (not normalised:
    vit-explain divides it by its max, `cams` min-max scales it).
  """
  if compat not in COMPATS:
    raise ValueError(f"Unknown compat '{compat}'; choose from {COMPATS}.")
  if not 0.0 <= discard_ratio < 1.0:
    raise ValueError(f"discard_ratio must be in [0, 1), got {discard_ratio}.")
  t = attn.shape[-1]
  eye = jnp.eye(t, dtype=attn.dtype)
  result = jnp.broadcast_to(eye, (attn.shape[1], t, t))
  for layer in attn:
    fused = _discard(fuse_heads(layer, head_fusion), discard_ratio)
    if compat == "paper":
      a = fused + eye
      a = a / jnp.sum(a, axis=-1, keepdims=True)
    else:
      a = (fused + eye) / 2
      a = a / jnp.sum(a, axis=-1)[:, None, :]
    result = jnp.matmul(a, result, precision=_HIGHEST)
  return result[:, 0, 1:]


def chefer(attn: Array, grads: Array) -> Array:
  """Chefer, Gur & Wolf (ICCV 2021) relevance of the class token.

  R = I; for each block in forward order R += mean_h((dS/dA * A)^+) @ R,
  the positive part taken per head before the mean (their rule 5), no
  re-normalisation (rule 6), as `Transformer-MM-Explainability`'s ViT
  notebook.

  Args:
    attn: (L, B, heads, T, T) attention of every block, forward order.
    grads: (L, B, heads, T, T) gradients of the target score (the logit by
      default) with respect to `attn`.

  Returns:
    (B, P) relevance R[0, 1:] (not normalised; the notebook min-max scales).
  """
  t = attn.shape[-1]
  relevance = jnp.broadcast_to(
    jnp.eye(t, dtype=attn.dtype), (attn.shape[1], t, t)
  )
  for a, g in zip(attn, grads, strict=True):
    cam = jnp.mean(jax.nn.relu(g * a), axis=-3)
    relevance = relevance + jnp.matmul(cam, relevance, precision=_HIGHEST)
  return relevance[:, 0, 1:]


def patch_grid(scores: Array, image_hw: Sequence[int]) -> Array:
  """(..., P) patch scores -> (..., H/p, W/p), row-major (torchvision's
  token order); the grid has the image's aspect ratio."""
  rows, cols = activations.grid_shape(scores.shape[-1], image_hw)
  return scores.reshape(*scores.shape[:-1], rows, cols)


def raw_maps(
  attn: Array,
  grads: Array | None,
  methods: Sequence[str],
  image_hw: Sequence[int],
  head_fusion: str = "mean",
  discard_ratio: float = 0.0,
) -> dict[str, Array]:
  """{method: (B, H/p, W/p) relevance on the patch grid} for `METHODS`.

  Args:
    attn: (L, B, heads, T, T) attention of every block, forward order.
    grads: d(target score)/d(attn) of the same shape, or None if no method
      needs it.
    methods: names from `METHODS`.
    image_hw: (H, W) of the images.
    head_fusion, discard_ratio: as `rollout` (`attention_last` uses the
      head fusion too).
  """
  return {
    name: patch_grid(
      METHODS[name].relevance(attn, grads, head_fusion, discard_ratio),
      image_hw,
    )
    for name in methods
  }


@dataclasses.dataclass(frozen=True)
class AttentionMethod:
  """A registered attention explanation.

  Attributes:
    relevance: (attn, grads or None, head_fusion, discard_ratio) -> (B, P).
    gradients: whether it needs d(score)/d(attn) (a backward pass).
  """

  relevance: Callable[[Array, Array | None, str, float], Array]
  gradients: bool


METHODS: dict[str, AttentionMethod] = {
  "attention_last": AttentionMethod(
    lambda attn, grads, fusion, ratio: cls_attention(attn[-1], fusion), False
  ),
  "attention_rollout": AttentionMethod(
    lambda attn, grads, fusion, ratio: rollout(
      attn, head_fusion=fusion, discard_ratio=ratio
    ),
    False,
  ),
  "chefer": AttentionMethod(
    lambda attn, grads, fusion, ratio: chefer(attn, grads), True
  ),
}
