# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Plain tables rendered as markdown, CSV and LaTeX, and result records.

A `Table` is a title, column names and rows of already formatted cells; the
same table is written as `name.md`, `name.csv` and `name.tex` (booktabs).
Records (one dict per measurement) are appended to CSV files as results
arrive and read back to rebuild a report without recomputing anything.
"""

import csv
import dataclasses
import io
import os
from collections.abc import Iterable, Mapping, Sequence


@dataclasses.dataclass(frozen=True)
class Table:
  """A formatted table.

  Attributes:
    title: one-line caption.
    columns: column names.
    rows: one tuple of cell strings per row.
    note: text printed under the table (conventions, corrections).
  """

  title: str
  columns: tuple[str, ...]
  rows: tuple[tuple[str, ...], ...]
  note: str = ""


def to_markdown(table: Table) -> str:
  """GitHub markdown: the title in bold, the table, the note."""
  lines = [f"**{table.title}**", ""]
  lines.append("| " + " | ".join(table.columns) + " |")
  lines.append("|" + "|".join("---" for _ in table.columns) + "|")
  lines += ["| " + " | ".join(row) + " |" for row in table.rows]
  if table.note:
    lines += ["", table.note]
  return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
  out = io.StringIO()
  writer = csv.writer(out, lineterminator="\n")
  writer.writerow(table.columns)
  writer.writerows(table.rows)
  return out.getvalue()


_LATEX_ESCAPES = str.maketrans({
  "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}",
  "\\": r"\textbackslash{}",
})  # fmt: skip


def latex_escape(text: str) -> str:
  return text.translate(_LATEX_ESCAPES)


def to_latex(table: Table) -> str:
  """A booktabs `table` environment (needs \\usepackage{booktabs})."""
  cols = "l" + "r" * (len(table.columns) - 1)
  body = [
    " & ".join(latex_escape(c) for c in row) + r" \\" for row in table.rows
  ]
  lines = [
    r"\begin{table}[t]",
    r"\centering",
    rf"\caption{{{latex_escape(table.title)}}}",
    rf"\begin{{tabular}}{{{cols}}}",
    r"\toprule",
    " & ".join(latex_escape(c) for c in table.columns) + r" \\",
    r"\midrule",
    *body,
    r"\bottomrule",
    r"\end{tabular}",
  ]
  if table.note:
    lines.append(rf"\par\smallskip\footnotesize {latex_escape(table.note)}")
  lines.append(r"\end{table}")
  return "\n".join(lines) + "\n"


def write_table(table: Table, directory: str, name: str) -> dict[str, str]:
  """Writes `name`.md / .csv / .tex under `directory`; returns the paths."""
  os.makedirs(directory, exist_ok=True)
  paths = {}
  for ext, render in (("md", to_markdown), ("csv", to_csv), ("tex", to_latex)):
    path = os.path.join(directory, f"{name}.{ext}")
    with open(path, "w") as f:
      f.write(render(table))
    paths[ext] = path
  return paths


def append_records(path: str, records: Sequence[Mapping]) -> None:
  """Appends dict rows to a CSV, writing the header when the file is new.

  Every row must have the columns of the file's header (the first rows'
  keys), so that a file written over several calls stays rectangular.
  """
  if not records:
    return
  os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
  if os.path.exists(path) and os.path.getsize(path):
    with open(path, newline="") as f:
      columns = next(csv.reader(f))
    new = False
  else:
    columns = list(records[0])
    new = True
  for record in records:
    if set(record) != set(columns):
      raise ValueError(
        f"Record columns {sorted(record)} differ from {path}'s header "
        f"{sorted(columns)}; write different record kinds to different files."
      )
  with open(path, "a", newline="") as f:
    writer = csv.DictWriter(f, columns, lineterminator="\n")
    if new:
      writer.writeheader()
    writer.writerows(records)


def _parse(value: str):
  try:
    return float(value)
  except ValueError:
    return value


def read_records(path: str) -> list[dict]:
  """CSV rows as dicts; numeric cells become floats, others stay strings."""
  with open(path, newline="") as f:
    return [{k: _parse(v) for k, v in row.items()} for row in csv.DictReader(f)]


def fmt(value: float, digits: int = 3) -> str:
  """A number for a table cell; NaN as an en dash."""
  return "–" if value != value else f"{value:.{digits}f}"


def fmt_p(p: float) -> str:
  """A p-value: 3 significant digits, '<1e-4' below 1e-4, NaN as a dash."""
  if p != p:
    return "–"
  return "<1e-4" if p < 1e-4 else f"{p:.3g}"


def unique(values: Iterable) -> list:
  """Values in first-seen order, without repeats."""
  return list(dict.fromkeys(values))
