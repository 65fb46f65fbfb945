# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Helpers for tests and benchmarks that compare xaijax with torchvision."""

import numpy as np


def randomize_batch_norm(torch_model, seed: int = 0):
  """Gives every BatchNorm non-trivial running statistics and affine terms.

  Freshly built torchvision models have mean 0 / var 1 / scale 1 / bias 0,
  which would hide a mis-ported statistic; eval() is set for parity tests.
  """
  import torch

  generator = torch.Generator().manual_seed(seed)
  with torch.no_grad():
    for module in torch_model.modules():
      if isinstance(module, torch.nn.BatchNorm2d):
        n = module.num_features
        module.running_mean.copy_(0.1 * torch.randn(n, generator=generator))
        module.running_var.copy_(0.5 + torch.rand(n, generator=generator))
        module.weight.copy_(1 + 0.1 * torch.randn(n, generator=generator))
        module.bias.copy_(0.1 * torch.randn(n, generator=generator))
  return torch_model.eval()


def random_images(batch: int, size: int, seed: int = 0) -> np.ndarray:
  """(B, H, W, 3) float32 standard-normal images (already 'normalised')."""
  return (
    np.random.default_rng(seed)
    .standard_normal((batch, size, size, 3))
    .astype(np.float32)
  )


def randomize_vit(torch_model, seed: int = 0):
  """Gives a torchvision ViT non-trivial values where its init is trivial.

  torchvision starts the head, the class token and every bias at zero and
  the LayerNorms at scale 1 / shift 0, which would hide a mis-ported
  parameter (and a zero head has zero gradients); eval() is set.
  """
  import torch

  generator = torch.Generator().manual_seed(seed)
  with torch.no_grad():
    for name, param in torch_model.named_parameters():
      if name.startswith("heads") and name.endswith("weight"):
        bound = param.shape[1] ** -0.5
        param.copy_(
          (2 * torch.rand(param.shape, generator=generator) - 1) * bound
        )
      elif name.endswith("bias") or name == "class_token":
        param.copy_(0.1 * torch.randn(param.shape, generator=generator))
      elif ".ln" in name and name.endswith("weight"):
        param.copy_(1 + 0.1 * torch.randn(param.shape, generator=generator))
  return torch_model.eval()
