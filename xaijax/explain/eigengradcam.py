# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""EigenGradCAM (pytorch-grad-cam): first principal component of G * A."""

import jax

from xaijax.explain.base import CamInputs, Method


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) G * A, projected by the shared code."""
  return inputs.grads * inputs.acts


METHOD = Method(weighting, gradients=True, projects=True)
