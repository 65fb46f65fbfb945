# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Experiment configs: `python launch.py --config configs/<name>.py[:arg]`."""
