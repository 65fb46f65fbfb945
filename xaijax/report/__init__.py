# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Reports: markdown/CSV/LaTeX tables, the paper's tables, study reports.

`build` turns records into the paper's tables (models × datasets, CAM
methods × classes, with paired tests); `studies` writes each study's report
and the launch's index. Layout in docs/studies.md.
"""

from xaijax.report.build import cam_tables, model_tables, tests_table
from xaijax.report.tables import (
  Table,
  append_records,
  read_records,
  to_csv,
  to_latex,
  to_markdown,
  write_table,
)

__all__ = [
  "Table",
  "append_records",
  "cam_tables",
  "model_tables",
  "read_records",
  "tests_table",
  "to_csv",
  "to_latex",
  "to_markdown",
  "write_table",
]
