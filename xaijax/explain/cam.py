# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""`cams`: every requested CAM method from one capture, jit-compiled.

The gradient methods share ONE forward pass and ONE backward pass from the
target scores to the layer(s); the gradient-free methods reuse the same
forward (ScoreCAM and AblationCAM then vmap over channel chunks; FullGrad
needs its own backward to the input). Compiled once per (model, shapes,
methods, options); images may be sharded over a mesh's batch axis, and nothing
inside goes back to the host.
"""

import dataclasses
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from xaijax import models
from xaijax.explain import (
  ablationcam,
  attention,
  batching,
  checks,
  fullgrad,
  postprocess,
  projection,
  registry,
  se_attention,
)
from xaijax.explain import activations as capture_lib
from xaijax.explain import targets as targets_lib
from xaijax.explain.base import CamInputs

Array = jax.Array

# pytorch-grad-cam's aug_smooth: ttach's HorizontalFlip x Multiply(0.9,1,1.1).
_AUG_FLIPS = (False, True)
_AUG_FACTORS = (0.9, 1.0, 1.1)


@dataclasses.dataclass(frozen=True)
class Options:
  """The keyword options of `cams` (and `config.study.cam` in a study).

  Static: each distinct value compiles once. The single list of options and
  their defaults; configs build theirs from `dataclasses.asdict(Options())`.

  Attributes:
    score: "logit" (pytorch-grad-cam's default) or "softmax".
    aug_smooth: average 6 flip/brightness variants (upstream's TTA).
    eigen_smooth: project the weighted activations on their first principal
      component instead of summing them over channels.
    eigen_sign: sign rule of the projections ("channel_sum", "max_abs",
      "upstream"); see `projection`.
    chunk_size: channels per vmapped step of ScoreCAM / AblationCAM (memory
      grows with chunk_size x batch forward images).
    ablation_value: AblationCAM's replacement, "upstream" or "min".
    head_fusion: how attention_last and attention_rollout fuse a ViT's
      heads: "mean", "max" or "min".
    discard_ratio: attention_rollout's share of each fused attention matrix
      set to zero, smallest first (vit-explain's filter; 0 in the paper).
  """

  score: str = "logit"
  aug_smooth: bool = False
  eigen_smooth: bool = False
  eigen_sign: str = "channel_sum"
  chunk_size: int = 64
  ablation_value: str = "upstream"
  head_fusion: str = "mean"
  discard_ratio: float = 0.0

  def __post_init__(self):
    targets_lib.check_score(self.score)
    if self.eigen_sign not in projection.SIGN_RULES:
      raise ValueError(
        f"Unknown eigen_sign '{self.eigen_sign}'; choose from "
        f"{projection.SIGN_RULES}."
      )
    if self.ablation_value not in ablationcam.ABLATION_VALUES:
      raise ValueError(
        f"Unknown ablation_value '{self.ablation_value}'; choose from "
        f"{ablationcam.ABLATION_VALUES}."
      )
    if self.chunk_size < 1:
      raise ValueError(f"chunk_size must be positive, got {self.chunk_size}.")
    if self.head_fusion not in attention.HEAD_FUSIONS:
      raise ValueError(
        f"Unknown head_fusion '{self.head_fusion}'; choose from "
        f"{attention.HEAD_FUSIONS}."
      )
    if not 0.0 <= self.discard_ratio < 1.0:
      raise ValueError(
        f"discard_ratio must be in [0, 1), got {self.discard_ratio}."
      )

  @classmethod
  def from_kwargs(cls, options: Mapping) -> "Options":
    """Options from keyword arguments; unknown names list the valid ones."""
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
      raise ValueError(
        f"Unknown CAM option(s) {', '.join(unknown)}; valid: "
        f"{', '.join(OPTION_NAMES)} (see docs/explain.md)."
      )
    return cls(**options)


# The names of the keyword options of `cams`.
OPTION_NAMES = tuple(field.name for field in dataclasses.fields(Options))


class LayerCams(NamedTuple):
  """What `cams_by_layer` returns.

  Attributes:
    maps: {layer: {method: (B, H, W) float32 map in [0, 1]}}; a layerless
      method (FullGrad) appears under every layer.
    logits: (B, K) float32 clean logits of the images.
  """

  maps: dict[str, dict[str, Array]]
  logits: Array


def _layer_cams(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  classes: Array | None,
  key: Array | None,
  methods: tuple[str, ...],
  layers: tuple[str, ...],
  options: Options,
) -> tuple[dict[str, dict[str, Array]], Array]:
  """({layer: {method: (B, H, W)}}, (B, K) logits) without augmentation.

  Each layer's map is post-processed on its own (`postprocess.layer_map`);
  `combine` averages them when the caller asked for one map per method.
  """
  layer_methods = [m for m in methods if m in registry.LAYER_METHODS]
  attention_methods = [m for m in methods if m in registry.ATTENTION]
  size = images.shape[1:3]
  needs_grads = any(
    registry.LAYER_METHODS[m].gradients for m in layer_methods
  ) or any(registry.ATTENTION[m].gradients for m in attention_methods)
  # A ViT's attention of every block comes from the same forward (and
  # backward) as the layers' activations.
  attention_layers = (
    attention.attention_layers(module, images.shape)
    if attention_methods
    else ()
  )
  # The forward pass that gives the logits is the capture's own; a call
  # without layer methods needs only the forward (XLA merges it with
  # FullGrad's).
  cap = capture_lib.capture(
    module,
    variables,
    images,
    layers + attention_layers,
    classes,
    score=options.score,
    gradients=needs_grads,
  )

  def score_images(x):  # (B, k, H, W, 3) -> (B, k)
    return targets_lib.variant_scores(
      module, variables, x, cap.classes, options.score
    )

  def score_layer(layer):
    def score(acts):
      logits, _ = models.forward(
        module, variables, images, replace={layer: acts}
      )
      return targets_lib.scores(logits, cap.classes, options.score)

    return score

  out: dict[str, dict[str, Array]] = {}
  for index, layer in enumerate(layers):
    inputs = CamInputs(
      acts=cap.acts[layer],
      grads=None if cap.grads is None else cap.grads[layer],
      images=images,
      scores=cap.scores,
      score_images=score_images,
      score_layer=score_layer(layer),
      key=None if key is None else jax.random.fold_in(key, index),
      chunk_size=options.chunk_size,
      ablation_value=options.ablation_value,
    )
    out[layer] = {}
    for name in layer_methods:
      method = registry.LAYER_METHODS[name]
      contributions = method.weighting(inputs)
      if method.projects or options.eigen_smooth:
        raw = projection.project(contributions, options.eigen_sign)
      else:
        raw = jnp.sum(contributions, axis=-1)
      out[layer][name] = postprocess.layer_map(raw, size)
  if "fullgrad" in methods:
    layerless = fullgrad.fullgrad(
      module, variables, images, classes, options.score
    )
    for layer in layers:
      out[layer]["fullgrad"] = layerless
  if attention_methods:
    raw = attention.raw_maps(
      jnp.stack([cap.acts[n] for n in attention_layers]),
      None
      if cap.grads is None
      else jnp.stack([cap.grads[n] for n in attention_layers]),
      attention_methods,
      size,
      options.head_fusion,
      options.discard_ratio,
    )
    for layer in layers:  # Layerless, like FullGrad.
      out[layer].update(
        {m: postprocess.layer_map(r, size) for m, r in raw.items()}
      )
  return out, cap.logits


def _augmented_cams(cams_fn, variables, images, classes, key):
  """pytorch-grad-cam's aug_smooth: the plain mean over 6 test-time variants.

  All variants run as one image-major batch of 6B images (a batch sharded
  over devices stays so) through `cams_fn` (maps already combined over
  layers and scaled to [0, 1], as upstream's per-variant forward); each
  variant's map is un-flipped (the brightness factor is image-only) and the
  mean is not re-normalised. The logits are those of the unchanged variant
  (no flip, factor 1).
  """
  variants = [(f, s) for f in _AUG_FLIPS for s in _AUG_FACTORS]
  batch = jnp.stack(
    [(images[:, :, ::-1] if f else images) * s for f, s in variants], axis=1
  ).reshape(-1, *images.shape[1:])
  repeated = None if classes is None else jnp.repeat(classes, len(variants))
  maps, logits = cams_fn(variables, batch, repeated, key)

  def unaugmented(flat):
    stacked = flat.reshape(images.shape[0], len(variants), *images.shape[1:3])
    unflipped = [
      stacked[:, v, :, ::-1] if f else stacked[:, v]
      for v, (f, _) in enumerate(variants)
    ]
    return jnp.mean(jnp.stack(unflipped), axis=0)

  plain = variants.index((False, 1.0))
  logits = logits.reshape(images.shape[0], len(variants), -1)[:, plain]
  return jax.tree.map(unaugmented, maps), logits


def _combine(per_layer: dict[str, dict[str, Array]], methods) -> dict:
  """{layer: {method: map}} -> {method: map}: the mean over layers, re-scaled
  (pytorch-grad-cam's aggregate_multi_layers; one layer is re-scaled too)."""
  return {
    m: postprocess.aggregate(
      jnp.stack([maps[m] for maps in per_layer.values()])
    )
    for m in methods
  }


def _impl(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  classes: Array | None,
  key: Array | None,
  *,
  methods: tuple[str, ...],
  layers: tuple[str, ...],
  options: Options,
  sharding: jax.NamedSharding | None,
  per_layer: bool = False,
) -> tuple[dict, Array, Array]:
  def combined(variables, images, classes, key):
    maps, logits = _layer_cams(
      module, variables, images, classes, key, methods, layers, options
    )
    if per_layer:
      maps = {layer: _combine({layer: m}, methods) for layer, m in maps.items()}
    else:
      maps = _combine(maps, methods)
    return maps, logits

  def batch_maps(variables, images, classes, key):
    if options.aug_smooth:
      maps, logits = _augmented_cams(combined, variables, images, classes, key)
    else:
      maps, logits = combined(variables, images, classes, key)
    return {"maps": maps, "logits": logits}

  out = batching.batch_parallel(
    batch_maps, sharding, variables, images, classes, key
  )
  return out["maps"], out["logits"], jnp.all(jnp.isfinite(images))


def _jit(fn):
  return jax.jit(
    fn,
    static_argnums=(0,),
    static_argnames=("methods", "layers", "options", "sharding", "per_layer"),
  )


_compiled = _jit(_impl)


def resolve_layers(
  module: nn.Module, image_shape: Sequence[int], layer: str | Sequence | None
) -> tuple[str, ...]:
  """The layer argument as a tuple of checked names (None: the default)."""
  if layer is None:
    layers = (models.default_layer(checks.model_name(module)),)
  elif isinstance(layer, str):
    layers = (layer,)
  else:
    layers = tuple(layer)
  if not layers:
    raise ValueError("layer= is an empty list; give at least one layer name.")
  models.taps.check_layers(module, image_shape, layers)
  return layers


def _run(
  module, variables, images, methods, layer, targets, key, check_finite,
  options, per_layer,
):  # fmt: skip
  """The checks shared by `cams` and `cams_by_layer`, then the program."""
  checks.check_images(images)
  methods = checks.check_methods(methods, registry.VALID)
  layers = resolve_layers(module, images.shape, layer)
  if "se_attention" in methods:
    se_attention.check_layers(module, images.shape, layers)
  if set(methods) & set(registry.ATTENTION):
    attention.attention_layers(module, images.shape)  # Raises for a CNN.
  if "ablationcam" in methods and capture_lib.token_layout(module):
    raise ValueError(
      "ablationcam is not defined here for a transformer's token layers "
      "(pytorch-grad-cam's AblationLayerVit also ablates the class token); "
      "scorecam is the perturbation CAM that applies to a ViT."
    )
  classes = targets_lib.check_targets(
    targets, images.shape[0], checks.num_logits(module, images.shape)
  )
  options = Options.from_kwargs(options)
  if "randomcam" in methods and key is None:
    raise ValueError("randomcam needs a PRNG key: pass key=jax.random.key(0).")
  if options.eigen_smooth and "fullgrad" in methods:
    raise ValueError("eigen_smooth is not supported for fullgrad.")
  maps, logits, finite = _compiled(
    module,
    variables,
    images,
    classes,  # host numpy (or the caller's tracer): replicated
    key,
    methods=methods,
    layers=layers,
    options=options,
    sharding=batching.batch_sharding(images),
    per_layer=per_layer,
  )
  if check_finite:
    checks.raise_if_not_finite(finite)
  return maps, logits


def cams(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  *,
  methods: str | Sequence[str] = registry.PAPER,
  layer: str | Sequence[str] | None = None,
  targets: int | Sequence[int] | np.ndarray | Array | None = None,
  key: Array | None = None,
  check_finite: bool = True,
  **options,
) -> dict[str, Array]:
  """Class activation maps, pytorch-grad-cam-exact, from one capture.

  A batch sharded over a mesh's batch axis is explained where it lies: each
  device computes and keeps its images' maps (`batching`).

  Args:
    module: a model from `xaijax.models.create`.
    variables: its variables (eval mode: running BatchNorm statistics).
    images: (B, H, W, 3) normalised images; may be sharded on the batch axis.
    methods: names from `registry.VALID` (default: the paper's five):
      pytorch-grad-cam's methods (`CAM_METHODS`) and the attention readings
      (`ATTENTION_METHODS`: attention_last, attention_rollout and chefer for
      a ViT, which ignore `layer`; se_attention at an SE module `layer`).
    layer: a layer name (torchvision module path) or a list of them; None is
      the model's default layer. With several layers the maps are averaged
      (`cams_by_layer` keeps one map per layer).
    targets: None (each image's predicted class), an int for all images, or
      (B,) classes. For a single-logit head, class 1 is the positive class.
    key: PRNG key, required by `randomcam`.
    check_finite: raise if the images contain NaN/inf (one host sync after
      the computation).
    **options: the fields of `Options` (score, aug_smooth, eigen_smooth,
      eigen_sign, chunk_size, ablation_value, head_fusion, discard_ratio).

  Returns:
    {method: (B, H, W) float32 map in [0, 1]}.

  Raises:
    ValueError: unknown method, layer or option, a target out of range,
      images that are not (B, H, W, 3) (e.g. NCHW), non-finite images, bad
      option values.
  """
  maps, _ = _run(
    module, variables, images, methods, layer, targets, key, check_finite,
    options, per_layer=False,
  )  # fmt: skip
  return maps


def cams_by_layer(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  *,
  methods: str | Sequence[str] = registry.PAPER,
  layers: str | Sequence[str] | None = None,
  targets: int | Sequence[int] | np.ndarray | Array | None = None,
  key: Array | None = None,
  check_finite: bool = True,
  **options,
) -> LayerCams:
  """One map per (layer, method) and the clean logits, in one program.

  A layer sweep: every layer's activations (and gradients) come from the
  same forward and backward pass; `maps[layer][method]` equals
  `cams(..., layer=layer)[method]`. The logits are the capture's own
  forward, so scoring the maps afterwards needs no clean forward of its
  own (pass them as `logits=` to `xaijax.evaluate.score_maps`).

  Args:
    module, variables, images, methods, targets, key, check_finite, options:
      as `cams`.
    layers: layer names (or one name); None is the model's default layer.

  Returns:
    A `LayerCams` (maps {layer: {method: (B, H, W)}}, logits (B, K)).
  """
  maps, logits = _run(
    module, variables, images, methods, layers, targets, key, check_finite,
    options, per_layer=True,
  )  # fmt: skip
  return LayerCams(maps, logits)
