# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A torchvision ResNet50 and its Flax port on the same random weights.

The torch model runs in float64 (model and images): pytorch-grad-cam's
metrics then give the exact values for those float32 weights but for their
final float32 casts, whatever algorithms torch picks on this CPU.
"""

import numpy as np

from xaijax import models
from xaijax.testing import random_images, randomize_batch_norm

SIZE = 32
NUM_CLASSES = 10


def make_pair(torchvision):
  """(float64 torch model, flax module, flax variables, images (B,H,W,3),
  maps)."""
  import torch

  torch.manual_seed(0)
  net = torchvision.models.resnet50(num_classes=NUM_CLASSES)
  net = randomize_batch_norm(net)
  variables = models.from_torchvision("resnet50", net.state_dict())
  module = models.create("resnet50", NUM_CLASSES)
  images = random_images(3, SIZE, seed=1)
  rng = np.random.default_rng(2)
  # Maps with exact-zero regions, as CAMs after ReLU have (ROAD ties).
  maps = np.maximum(rng.uniform(-0.5, 1, (3, SIZE, SIZE)), 0).astype(np.float32)
  return net.double(), module, variables, images, maps


def to_torch(images):
  """NHWC numpy -> NCHW float64 torch tensor (the reference's dtype)."""
  import torch

  return torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float64))
