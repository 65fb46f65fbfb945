# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The loss against torch's CrossEntropyLoss, and one train step."""

import jax.numpy as jnp
import numpy as np
import pytest

from xaijax.models.torch_interop import import_torchvision
from xaijax.train import steps


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_loss_matches_torch(smoothing, weighted):
  import_torchvision()
  import torch

  rng = np.random.default_rng(0)
  logits = rng.normal(size=(6, 4)).astype(np.float32)
  labels = np.array([0, 1, 2, 3, 3, 1])
  weights = np.array([0.5, 1.0, 2.0, 4.0], np.float32) if weighted else None
  expected = torch.nn.functional.cross_entropy(
    torch.from_numpy(logits),
    torch.from_numpy(labels),
    weight=None if weights is None else torch.from_numpy(weights),
    label_smoothing=smoothing,
  ).item()
  loss = steps.weighted_cross_entropy(
    jnp.asarray(logits),
    jnp.asarray(labels),
    label_smoothing=smoothing,
    class_weights=None if weights is None else jnp.asarray(weights),
  )
  np.testing.assert_allclose(loss, expected, rtol=1e-6)
