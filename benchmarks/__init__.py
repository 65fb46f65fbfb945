# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Benchmarks: `python -m benchmarks` runs them all (see __main__.py)."""
