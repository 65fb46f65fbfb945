# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Study configs: questions asked of trained runs (docs/studies.md)."""
