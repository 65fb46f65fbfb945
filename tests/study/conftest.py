# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The study tests import their helper module `tiny` from this folder."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
