# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""EigenCAM (Muhammad & Yeasin 2020): first principal component of A.

Class-agnostic and gradient-free; the sign rule is in `projection`."""

import jax

from xaijax.explain.base import CamInputs, Method


def weighting(inputs: CamInputs) -> jax.Array:
  """(B, h, w, C) the activations, projected by the shared code."""
  return inputs.acts


METHOD = Method(weighting, gradients=False, projects=True)
