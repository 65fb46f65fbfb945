# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The one exception type of xaijax.data.

Everything the user can fix (a wrong path, a malformed folder, a corrupt
file, a class-count mismatch) raises `DataError` with a message that says
what was found, what was expected and what to do; launch.py prints it and
exits non-zero without a traceback.
"""


class DataError(ValueError):
  """A dataset could not be read as configured; the message says why."""
