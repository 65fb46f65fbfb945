# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The Flax models reproduce torchvision exactly on the same weights.

Random torchvision weights with randomised BatchNorm statistics are ported with
`from_torchvision`; in eval mode, at two input sizes, our float32 logits and
named-layer activations must agree with torch's computed in float64 (the
exact values for those weights, whatever algorithms torch picks on this CPU)
within our rounding bound (tests/rounding.py: measured from our forward pass
on one-ulp nudges of the weights and images).
"""

import jax
import numpy as np
import pytest

from tests import rounding
from xaijax import models
from xaijax.testing import random_images, randomize_batch_norm

PARAMETER_COUNTS = {  # torchvision's, at 1000 classes.
  "resnet50": 25_557_032,
  "densenet121": 7_978_856,
  "vgg16": 138_357_544,
  "efficientnet_b0": 5_288_548,
}

# Layers compared with torch forward hooks: the default CAM layer, a deeper
# and a shallower one (torchvision module paths).
LAYERS = {
  "resnet50": ["layer4.2", "layer3", "layer1.0.downsample", "maxpool"],
  "densenet121": [
    "features.norm5",
    "features.denseblock4",
    "features.transition2",
    "features.denseblock1.denselayer3.conv2",
  ],
  "vgg16": ["features.30", "features.29", "features.16", "avgpool"],
  "efficientnet_b0": [
    "features.8",
    "features.7",
    "features.4.1.block.2",
    "features.0",
  ],
}

SIZES = (64, 96)


@pytest.fixture(scope="module", params=list(PARAMETER_COUNTS))
def ported(request, torchvision):
  name = request.param
  import torch

  torch.manual_seed(0)
  torch_model = randomize_batch_norm(getattr(torchvision.models, name)())
  variables = models.from_torchvision(name, torch_model.state_dict())
  module = models.create(name, 1000)
  return name, torch_model.double(), module, variables


def torch_outputs(torch_model, images: np.ndarray, layer_names):
  """Logits and hooked module outputs (float64), NHWC, copied before in-place
  ops."""
  import torch

  captured = {}
  handles = []
  for name in layer_names:
    module = torch_model.get_submodule(name)

    def hook(_, __, output, name=name):
      # clone(): torchvision DenseNet/VGG apply in-place ReLUs afterwards.
      captured[name] = output.detach().clone()

    handles.append(module.register_forward_hook(hook))
  with torch.no_grad():
    logits = torch_model(
      torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float64))
    )
  for handle in handles:
    handle.remove()

  def nhwc(t):
    t = t.numpy()
    return t.transpose(0, 2, 3, 1) if t.ndim == 4 else t

  return logits.numpy(), {k: nhwc(v) for k, v in captured.items()}


def test_parameter_count_matches_torchvision(ported):
  name, torch_model, _, variables = ported
  flax_count = sum(x.size for x in jax.tree.leaves(variables["params"]))
  torch_count = sum(p.numel() for p in torch_model.parameters())
  assert flax_count == torch_count == PARAMETER_COUNTS[name]


@pytest.mark.parametrize("size", SIZES)
def test_logits_and_layers_match_torchvision(ported, size):
  name, torch_model, module, variables = ported
  images = random_images(2, size, seed=size)
  expected_logits, expected = torch_outputs(torch_model, images, LAYERS[name])

  run = jax.jit(lambda v, x: models.forward(module, v, x, capture=LAYERS[name]))
  logits, activations = run(variables, images)
  nudged = rounding.sensitivity(run, variables, images)

  rounding.assert_close(
    expected_logits, logits, [n[0] for n in nudged], err_msg="logits"
  )
  for layer in LAYERS[name]:
    rounding.assert_close(
      expected[layer],
      activations[layer],
      [n[1][layer] for n in nudged],
      err_msg=layer,
    )
