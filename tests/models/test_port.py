# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""`from_torchvision`: file formats, head re-initialisation, clear errors."""

import logging

import jax
import numpy as np
import pytest

from xaijax import models
from xaijax.testing import random_images, randomize_batch_norm


@pytest.fixture(scope="module")
def efficientnet(torchvision):
  import torch

  torch.manual_seed(1)
  return randomize_batch_norm(torchvision.models.efficientnet_b0())


@pytest.fixture(scope="module")
def reference(efficientnet):
  return models.from_torchvision("efficientnet_b0", efficientnet.state_dict())


@pytest.mark.parametrize("suffix", [".pth", ".safetensors", ".npz", "numpy"])
def test_every_state_dict_format_gives_the_same_variables(
  efficientnet, reference, tmp_path, suffix
):
  import torch

  state = efficientnet.state_dict()
  arrays = {k: v.numpy() for k, v in state.items()}
  path = tmp_path / f"weights{suffix}"
  if suffix == ".pth":
    torch.save(state, path)
  elif suffix == ".safetensors":
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, path)
  elif suffix == ".npz":
    np.savez(path, **arrays)
  source = arrays if suffix == "numpy" else path
  variables = models.from_torchvision("efficientnet_b0", source)
  jax.tree.map(np.testing.assert_array_equal, variables, reference)


def test_pth_is_read_without_unpickling_code(tmp_path):
  import torch

  class Payload:
    def __reduce__(self):
      return (print, ("code ran",))

  path = tmp_path / "evil.pth"
  torch.save({"fc.weight": Payload()}, path)
  with pytest.raises(Exception, match=r"(?i)weights_only|unsupported|global"):
    models.from_torchvision("resnet50", path)


def test_different_class_count_reinitialises_only_the_head(
  efficientnet, reference, caplog
):
  with caplog.at_level(logging.INFO):
    variables = models.from_torchvision(
      "efficientnet_b0", efficientnet.state_dict(), num_classes=4
    )
  assert "re-initialising 'classifier.1'" in caplog.text
  head = variables["params"]["classifier"]["1"]
  assert head["kernel"].shape == (1280, 4)
  assert np.abs(head["kernel"]).max() > 0
  del variables["params"]["classifier"], reference["params"]["classifier"]
  jax.tree.map(np.testing.assert_array_equal, variables, reference)
  # The re-initialised model runs.
  module = models.create("efficientnet_b0", 4)
  full = models.from_torchvision(
    "efficientnet_b0", efficientnet.state_dict(), num_classes=4
  )
  assert module.apply(full, random_images(1, 32)).shape == (1, 4)


def test_missing_and_unexpected_keys_are_listed(efficientnet):
  state = dict(efficientnet.state_dict())
  del state["features.0.1.running_var"]
  state["features.0.1.extra"] = state["features.0.1.weight"]
  with pytest.raises(KeyError) as error:
    models.from_torchvision("efficientnet_b0", state)
  assert "features.0.1.running_var" in str(error.value)
  assert "features.0.1.extra" in str(error.value)


def test_shape_mismatch_is_listed(efficientnet):
  with pytest.raises(ValueError, match=r"features\.0\.0\.weight"):
    models.from_torchvision(
      "efficientnet_b0", efficientnet.state_dict(), width_mult=0.5
    )


def test_a_different_architecture_is_rejected(efficientnet):
  with pytest.raises(KeyError, match="resnet50"):
    models.from_torchvision("resnet50", efficientnet.state_dict())


def test_missing_file_is_a_clear_error(tmp_path):
  with pytest.raises(FileNotFoundError, match="No weights file"):
    models.from_torchvision("resnet50", tmp_path / "nope.pth")
