# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""torchvision state_dict -> Flax variables, by module path.

Because xaijax modules are named exactly like torchvision's, the mapping is
generic: `<path>.weight` is a convolution kernel (OIHW -> HWIO), a linear
kernel (transposed) or a BatchNorm scale, depending on what the Flax model
holds at `<path>`; `running_mean/var` go to `batch_stats`.
"""

import logging
import os
import pathlib
from collections.abc import Mapping
from typing import Any

import flax
import jax
import jax.numpy as jnp
import numpy as np

from xaijax.models import registry

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


def _torch_names(
  collection: str, path: tuple[str, ...], kernel_ndim: int | None
) -> tuple[str, str]:
  """(torch key, transform) for one Flax leaf."""
  module, leaf = ".".join(path[:-1]), path[-1]
  if collection == "batch_stats":
    return f"{module}.running_{leaf}", "none"
  if leaf == "kernel":
    return f"{module}.weight", "conv" if kernel_ndim == 4 else "linear"
  if leaf == "scale":
    return f"{module}.weight", "none"
  return f"{module}.{leaf}", "none"


def _convert(array: np.ndarray, transform: str) -> np.ndarray:
  if transform == "conv":
    return array.transpose(2, 3, 1, 0)
  if transform == "linear":
    return array.T
  return array


def from_torchvision(
  name: str,
  state_dict: StateDict,
  num_classes: int | None = None,
  *,
  key: jax.Array | None = None,
  **model_kwargs,
) -> dict:
  """Flax variables for `xaijax.models.create(name, ...)` from torchvision.

  Args:
    name: model name (resnet50, densenet121, vgg16, efficientnet_b0).
    state_dict: torchvision state_dict as torch tensors or numpy arrays, or a
      path to a `.pth` (loaded with weights_only=True), `.safetensors` or
      `.npz` file.
    num_classes: the head size wanted; None keeps the checkpoint's. A
      different count re-initialises the head (seeded by `key`).
    key: PRNG key for a re-initialised head; default PRNGKey(0).
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
  dummy = jnp.zeros((1, 64, 64, 3), jnp.float32)
  shapes = jax.eval_shape(module.init, jax.random.key(0), dummy)

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
      torch_key, transform = _torch_names(collection, path, len(shape.shape))
      expected.add(torch_key)
      if torch_key not in tensors:
        missing.append(torch_key)
        continue
      value = _convert(tensors[torch_key], transform)
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
      f"missing {sorted(missing)}; unexpected {unexpected}."
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
