# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Reports: markdown/CSV/LaTeX tables, figure grids, the downstream stage.

`build.write_report(workdir)` regenerates every table from saved records;
`pipeline.run(config, workdir, module, variables, dataset)` is the stage the
launcher calls after training. Layout in docs/evaluate.md.
"""

from xaijax.report.build import cam_tables, model_tables, write_report
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
  "to_csv",
  "to_latex",
  "to_markdown",
  "write_report",
  "write_table",
]
