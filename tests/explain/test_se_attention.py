# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""EfficientNet-B0's squeeze-and-excitation gates as a map.

Reference: torchvision's efficientnet_b0 at the tiny width with the same
weights (`explain_reference.torch_model`); a forward hook reads the input A
of an SE module, torch's own SE submodules compute its gates
g = scale_activation(fc2(activation(fc1(avgpool(A))))), and the map
ReLU(sum_c g_c A_c) is written here in numpy and put through
pytorch-grad-cam's post-processing.
"""

import explain_reference as ref
import numpy as np
import pytest
from pytorch_grad_cam.utils.image import scale_cam_image

import xaijax.explain as ex
from xaijax import models

torch = ref.torch
SIZE = 64
# A 4x4 and a 2x2 map at 64 px; the second is the network's last SE module.
LAYERS = ("features.4.1.block.2", "features.7.0.block.2")


@pytest.fixture(scope="module")
def setup():
  torch_model, module, variables = ref.torch_model("efficientnet_b0")
  images = np.random.RandomState(0).randn(2, SIZE, SIZE, 3).astype(np.float32)
  return torch_model, module, variables, images


def torch_gates(torch_model, images, layer):
  """(A as NHWC float64, gates (B, C) float64) of the SE module `layer`."""
  se = ref.torch_layer(torch_model, layer)
  seen = {}
  handle = se.register_forward_hook(
    lambda module, args, output: seen.update(a=args[0].detach().clone())
  )
  with torch.no_grad():
    torch_model(torch.from_numpy(images.transpose(0, 3, 1, 2).copy()))
    handle.remove()
    a = seen["a"]
    g = se.scale_activation(se.fc2(se.activation(se.fc1(se.avgpool(a)))))
  return (
    a.double().numpy().transpose(0, 2, 3, 1),
    g.double().numpy()[:, :, 0, 0],
  )


def test_se_layers_are_found(setup):
  _, module, _, images = setup
  layers = ex.se_attention.se_layers(module, images.shape)
  assert len(layers) == 16  # one per MBConv block of B0
  assert set(LAYERS) <= set(layers) and layers[-1] == LAYERS[-1]


@pytest.mark.parametrize("layer", LAYERS)
def test_gates_and_map_match_torch(setup, layer):
  torch_model, module, variables, images = setup
  acts, gates = torch_gates(torch_model, images, layer)
  ours = np.asarray(ex.se_attention.gates(module, variables, images, layer))
  assert ours.shape == gates.shape
  # Sigmoid outputs in (0, 1): float32 rounding of the ported network
  # (relative < 1e-4 by the port's contract) moves them by far less.
  np.testing.assert_allclose(ours, gates, atol=1e-5)
  raw = np.maximum(np.einsum("bhwc,bc->bhw", acts, gates), 0)
  expected = scale_cam_image(scale_cam_image(raw, (SIZE, SIZE)))
  got = np.asarray(
    ex.cams(module, variables, images, methods="se_attention", layer=layer)[
      "se_attention"
    ]
  )
  assert got.shape == (2, SIZE, SIZE)
  assert expected.reshape(2, -1).max(axis=1).min() > 0.5  # informative
  # Maps in [0, 1]: the CAM parity bound of docs/explain.md.
  np.testing.assert_allclose(got, expected, atol=1e-4)


def test_se_attention_needs_an_se_module(setup):
  _, module, variables, images = setup
  with pytest.raises(ValueError, match=r"features\.7\.0\.block\.2"):
    ex.cams(module, variables, images, methods="se_attention")
  vit = models.create("vit_b_16", 3, tiny=True)
  with pytest.raises(ValueError, match="no SE modules"):
    ex.cams(
      vit, {}, images[:, :32, :32], methods="se_attention", layer="conv_proj"
    )
