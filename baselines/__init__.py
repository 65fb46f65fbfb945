# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""PyTorch baselines trained on xaijax's splits (needs the `torch` extra).

xaijax never imports this package: it imports xaijax, not the reverse.
"""
