# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""torchvision state_dict -> Flax variables, by module path.

Because xaijax modules are named exactly like torchvision's, the mapping is
generic: `<path>.weight` is a convolution kernel (OIHW -> HWIO), a linear
kernel (transposed) or a BatchNorm/LayerNorm scale, depending on what the
Flax model holds at `<path>`; `running_mean/var` go to `batch_stats`; a bare
parameter (ViT's `class_token`, `encoder.pos_embedding`) keeps its path.
torch's MultiheadAttention packs its query, key and value projections into
`in_proj_weight`/`in_proj_bias`; the Flax `query`, `key` and `value` layers
take their thirds.
"""

import logging
import math
import os
import pathlib
from collections.abc import Mapping
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np

from xaijax.models import registry, vit

StateDict = Mapping[str, Any] | str | os.PathLike


def load_state_dict(source: StateDict) -> dict[str, np.ndarray]:
  """Reads a state_dict (mapping, .pth/.pt, .safetensors or .npz) to numpy."""
  if isinstance(source, str | os.PathLike):
    path = pathlib.Path(source)
    if not path.exists():
      raise FileNotFoundError(f"No weights file at {path}.")
    if path.suffix == ".safetensors":
      from safetensors.numpy import load_file

      source = load_file(str(path))
    elif path.suffix == ".npz":
      with np.load(path) as data:
        source = dict(data)
    elif path.suffix in (".pth", ".pt", ".bin"):
      import torch

      # weights_only=True refuses pickled code: only tensors are read.
      source = torch.load(path, map_location="cpu", weights_only=True)
    else:
      raise ValueError(
        f"Unsupported weights file {path}: use .pth/.pt, .safetensors or .npz."
      )
  arrays = {}
  for key, value in source.items():
    if hasattr(value, "detach"):  # torch.Tensor
      value = value.detach().cpu().numpy()
    arrays[key.removeprefix("module.")] = np.asarray(value)
  return arrays


# torch's packed in_proj rows: query, key, value thirds.
_PACKED = ("query", "key", "value")
_MODULE_LEAVES = ("kernel", "scale", "bias")


def _torch_names(
  collection: str, path: tuple[str, ...], kernel_ndim: int | None
) -> tuple[str, str, int | None]:
  """(torch key, transform, packed third or None) for one Flax leaf."""
  module, leaf = ".".join(path[:-1]), path[-1]
  if collection == "batch_stats":
    return f"{module}.running_{leaf}", "none", None
  if leaf not in _MODULE_LEAVES:  # A bare nn.Parameter.
    return ".".join(path), "none", None
  torch_leaf = "bias" if leaf == "bias" else "weight"
  transform = "none"
  if leaf == "kernel":
    transform = "conv" if kernel_ndim == 4 else "linear"
  if len(path) >= 3 and path[-2] in _PACKED:
    parent = ".".join(path[:-2])
    return f"{parent}.in_proj_{torch_leaf}", transform, _PACKED.index(path[-2])
  return f"{module}.{torch_leaf}", transform, None


def _convert(array: np.ndarray, transform: str, third: int | None):
  if third is not None:
    rows = array.shape[0] // 3
    array = array[third * rows : (third + 1) * rows]
  if transform == "conv":
    return array.transpose(2, 3, 1, 0)
  if transform == "linear":
    return array.T
  return array


def _image_size(
  module, tensors: Mapping[str, np.ndarray], image_size: int | None
) -> int:
  """The input side whose shapes the variables take. CNN weights fit any
  size; a ViT's position embedding fits one patch grid: the checkpoint's
  own unless `image_size` asks for another."""
  if image_size is not None:
    return image_size
  if "encoder.pos_embedding" in tensors:
    patches = tensors["encoder.pos_embedding"].shape[1] - vit.CLASS_TOKENS
    return math.isqrt(patches) * module.patch_size
  return 64


def from_torchvision(
  name: str,
  state_dict: StateDict,
  num_classes: int | None = None,
  *,
  key: jax.Array | None = None,
  image_size: int | None = None,
  **model_kwargs,
) -> dict:
  """Flax variables for `xaijax.models.create(name, ...)` from torchvision.

  Args:
    name: model name (resnet50, densenet121, vgg16, efficientnet_b0,
      vit_b_16).
    state_dict: torchvision state_dict as torch tensors or numpy arrays, or a
      path to a `.pth` (loaded with weights_only=True), `.safetensors` or
      `.npz` file.
    num_classes: the head size wanted; None keeps the checkpoint's. A
      different count re-initialises the head (seeded by `key`).
    key: PRNG key for a re-initialised head; default PRNGKey(0).
    image_size: the image side the variables are for. Only a ViT depends on
      it: its position embedding is resized to the (image_size / patch)^2
      grid as torchvision's `interpolate_embeddings` (bicubic,
      align_corners=True, class token kept); None keeps the checkpoint's.
    **model_kwargs: constructor fields that change the shapes (e.g. tiny
      widths), as given to `create`.

  Returns:
    {'params': ..., 'batch_stats': ...} as float32 jax arrays.

  Raises:
    KeyError: keys missing from, or unexpected in, the state_dict (listed).
    ValueError: a shape mismatch outside the head (listed).
  """
  tensors = load_state_dict(state_dict)
  head = registry.spec(name).head
  head_key = f"{head}.weight"
  if head_key not in tensors:
    raise KeyError(
      f"The state_dict has no '{head_key}': is it a torchvision {name}?"
    )
  source_classes = tensors[head_key].shape[0]
  num_classes = num_classes or source_classes
  module = registry.create(name, num_classes, **model_kwargs)
  size = _image_size(module, tensors, image_size)
  dummy = jnp.zeros((1, size, size, 3), jnp.float32)
  shapes = jax.eval_shape(module.init, jax.random.key(0), dummy)
  if "encoder.pos_embedding" in tensors:
    tokens = shapes["params"]["encoder"]["pos_embedding"].shape[1]
    tensors["encoder.pos_embedding"] = vit.interpolate_embeddings(
      tensors["encoder.pos_embedding"], tokens
    )

  variables: dict[str, dict] = {}
  expected = set()
  mismatched = []
  missing = []
  for collection, tree in shapes.items():
    flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(tree))
    converted = {}
    for path, shape in flat.items():
      if ".".join(path[:-1]) == head and num_classes != source_classes:
        continue  # Filled by re-initialisation below.
      torch_key, transform, third = _torch_names(
        collection, path, len(shape.shape)
      )
      expected.add(torch_key)
      if torch_key not in tensors:
        missing.append(torch_key)
        continue
      value = _convert(tensors[torch_key], transform, third)
      if value.shape != shape.shape:
        mismatched.append(
          f"{torch_key}: torchvision {tensors[torch_key].shape} vs "
          f"expected {shape.shape} ({collection}/{'/'.join(path)})"
        )
        continue
      converted[path] = jnp.asarray(value, jnp.float32)
    variables[collection] = converted

  unexpected = sorted(
    k
    for k in tensors
    if k not in expected
    and not k.endswith("num_batches_tracked")
    and not (num_classes != source_classes and k.startswith(f"{head}."))
  )
  if missing or unexpected:
    raise KeyError(
      f"state_dict does not match xaijax {name}: "
      f"missing {sorted(set(missing))}; unexpected {unexpected}."
    )
  if mismatched:
    raise ValueError(
      f"Shape mismatch between the state_dict and xaijax {name} "
      f"({model_kwargs or 'default widths'}): " + "; ".join(mismatched)
    )

  if num_classes != source_classes:
    logging.info(
      "%s: checkpoint head has %d classes, model has %d; re-initialising '%s'.",
      name,
      source_classes,
      num_classes,
      head,
    )
    head_path = tuple(head.split("."))

    @jax.jit
    def init_head(rng):  # Under jit, the rest of the init is dead code.
      return _get(module.init(rng, dummy)["params"], head_path)

    fresh = flax.traverse_util.flatten_dict(
      init_head(jax.random.key(0) if key is None else key)
    )
    variables["params"].update({head_path + k: v for k, v in fresh.items()})

  return {
    collection: flax.traverse_util.unflatten_dict(flat)
    for collection, flat in variables.items()
  }


def _get(tree: Mapping, path: tuple[str, ...]):
  for part in path:
    tree = tree[part]
  return tree
