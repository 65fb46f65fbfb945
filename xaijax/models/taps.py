# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Reading and editing named intermediate activations of any model, purely.

A layer is named by its module path joined with dots, which mirrors the
torchvision module path (`layer4.2`, `features.norm5`, `features.29`). The
mechanism is `flax.linen.intercept_methods`: while `module.apply` runs, the
output of each tapped module is recorded and may be shifted or replaced.

* Shifting a layer's output by a zero `offset` and differentiating w.r.t. the
  offset gives the gradient w.r.t. that activation; autodiff then runs the
  backward pass from the logits down to that layer only.
* Replacing a layer's output evaluates the head of the network on a given
  activation; under `jax.jit` the unused features are dead code and removed.
"""

import difflib
import functools
from collections.abc import Callable, Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

Array = jax.Array


def _path_name(module: nn.Module) -> str:
  return ".".join(module.path)


def forward(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  *,
  capture: Sequence[str] = (),
  offsets: Mapping[str, Array] | None = None,
  replace: Mapping[str, Array] | None = None,
) -> tuple[Array, dict[str, Array]]:
  """Eval-mode forward pass that taps named layers.

  Args:
    module: a model from `xaijax.models.create`.
    variables: its variables (params and batch_stats).
    images: (B, H, W, 3) normalised images.
    capture: layer names whose outputs are returned.
    offsets: {layer: array} added to that layer's output.
    replace: {layer: array} used instead of that layer's output.

  Returns:
    logits (B, K) and {layer: activation} for `capture`, each activation as the
    network saw it (after any offset or replacement).
  """
  offsets = offsets or {}
  replace = replace or {}
  wanted = set(capture) | set(offsets) | set(replace)
  check_layers(module, images.shape, wanted)
  captured: dict[str, Array] = {}

  def interceptor(next_fun, args, kwargs, context):
    out = next_fun(*args, **kwargs)
    if context.method_name != "__call__":
      return out
    name = _path_name(context.module)
    if name not in wanted:
      return out
    if name in captured:
      raise ValueError(
        f"Layer '{name}' runs more than once in one forward pass, so its "
        "activation is ambiguous; choose its parent or a child layer."
      )
    if name in replace:
      out = replace[name].astype(out.dtype)
    if name in offsets:
      out = out + offsets[name].astype(out.dtype)
    captured[name] = out
    return out

  with nn.intercept_methods(interceptor):
    logits = module.apply(variables, images, train=False)
  return logits, {name: captured[name] for name in capture}


@functools.cache
def _layer_shapes(
  module: nn.Module, image_shape: tuple[int, ...]
) -> dict[str, jax.ShapeDtypeStruct]:
  shapes: dict[str, jax.ShapeDtypeStruct] = {}

  def interceptor(next_fun, args, kwargs, context):
    out = next_fun(*args, **kwargs)
    if context.method_name == "__call__" and isinstance(out, jax.Array):
      name = _path_name(context.module)
      if name:
        shapes.setdefault(name, jax.ShapeDtypeStruct(out.shape, out.dtype))
    return out

  def run(images):
    with nn.intercept_methods(interceptor):
      return module.init(jax.random.key(0), images)

  jax.eval_shape(run, jax.ShapeDtypeStruct(image_shape, jnp.float32))
  return shapes


def layer_shapes(
  module: nn.Module, image_shape: Sequence[int] = (1, 224, 224, 3)
) -> dict[str, jax.ShapeDtypeStruct]:
  """{layer name: output shape} for every addressable layer, in call order."""
  return dict(_layer_shapes(module, tuple(image_shape)))


def check_layers(
  module: nn.Module, image_shape: Sequence[int], layers: set[str] | Sequence
) -> None:
  """Raises a ValueError naming valid layers if any layer is unknown."""
  known = _layer_shapes(module, tuple(image_shape))
  unknown = [name for name in layers if name not in known]
  if not unknown:
    return
  hints = []
  for name in unknown:
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.6)
    hints.append(f"'{name}'" + (f" (did you mean {close}?)" if close else ""))
  top = sorted({n for n in known if n.count(".") <= 1})
  raise ValueError(
    f"Unknown layer {', '.join(hints)} for {type(module).__name__}. Layers are "
    "torchvision module paths; the top-level ones are: "
    + ", ".join(top)
    + f" ({len(known)} in all: xaijax.models.layer_shapes(module) lists them)."
  )


def activations_and_gradients(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  layers: Sequence[str],
  objective: Callable[[Array], Array],
) -> tuple[Array, dict[str, Array], dict[str, Array]]:
  """One forward, and a backward through the head only.

  Args:
    module, variables, images: as `forward`.
    layers: layer names to read.
    objective: logits (B, K) -> scalar to differentiate, e.g. the sum over
      images of each image's target logit.

  Returns:
    logits (B, K), activations {layer: A} and gradients {layer: dObjective/dA},
    A and G in the model's compute dtype.
  """
  shapes = _layer_shapes(module, tuple(images.shape))
  zeros = {n: jnp.zeros(shapes[n].shape, shapes[n].dtype) for n in layers}

  def run(offsets):
    logits, acts = forward(
      module, variables, images, capture=layers, offsets=offsets
    )
    return logits, acts

  logits, pullback, acts = jax.vjp(run, zeros, has_aux=True)
  (grads,) = pullback(jax.grad(objective)(logits))
  return logits, acts, grads
