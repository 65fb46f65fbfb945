# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""xaijax: explainable medical image classification in JAX/Flax."""

__version__ = "0.1.0"
