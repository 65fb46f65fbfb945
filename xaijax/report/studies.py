# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The reports of a study launch: one per study, and an index.

Layout of a launch's workdir:

  report/report.md            the index: every study and every run
  studies/<name>/report.md    a study's report (tables inline, figures)
  studies/<name>/tables/      every table as .md, .csv and .tex
  studies/<name>/per_image.csv  one row per scored cell (the raw records)
  studies/<name>/per_image.md   each image linked to its maps
  studies/<name>/figures/, maps/  overlay grids per class, one PNG per map

Everything is rewritten from records at the end of each launch, so a
report always shows what the cache holds.
"""

import csv
import os
import pathlib
from collections.abc import Mapping, Sequence

from xaijax.report import build
from xaijax.report.tables import Table, fmt, to_markdown, unique, write_table

REPORT = "report.md"
PER_IMAGE = "per_image.csv"

# Columns of the view summary (mean over the view's images), when present.
SUMMARY = ("delta", "increase", "avg_drop_pct", "road_combined",
           "deletion_auc", "insertion_auc", "pointing", "energy", "iou")  # fmt: skip

PAPER_READINGS = (
  "The paper's 'confidence increase' (ResNet50 on glioma: XGradCAM 0.12, "
  "GradCAM++ 0.09, LayerCAM 0.08) has two readings: the mean confidence "
  "change Δ (table `delta`) and the fraction of images with Δ > 0 (table "
  "`increase`); both are shown."
)


def write_records(path: str | os.PathLike, records: Sequence[Mapping]) -> None:
  """All records as one CSV (columns: the union, in first-seen order)."""
  columns = unique(k for r in records for k in r)
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w", newline="") as f:
    writer = csv.DictWriter(f, columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)


def _link(path: str, text: str) -> str:
  return f"[{text}]({path})"


def _summary(records, methods, context: str) -> Table:
  columns = [c for c in SUMMARY if any(c in r for r in records)]
  rows = []
  for m in methods:
    mine = [r for r in records if r["method"] == m]
    cells = [m]
    for c in columns:
      values = [r[c] for r in mine if c in r and r[c] == r[c]]
      cells.append(fmt(sum(values) / len(values)) if values else "–")
    rows.append((*cells, str(len(mine))))
  return Table(
    "Summary: mean per method over the view's images",
    ("method", *columns, "n"),
    tuple(rows),
    context.capitalize() + ".",
  )


def write_cams_study(
  out_dir: pathlib.Path,
  name: str,
  study,
  records: Sequence[Mapping],
  sections,
  *,
  seconds: float,
  computed: tuple[int, int],
) -> str:
  """Writes a CAM study's tables, per-image pages and report.

  Args:
    out_dir: the study's folder.
    name: its name.
    study: its config.
    records: every per-image record (see `xaijax.study.cams._records`).
    sections: per run (restored run, layers, views, figures, coinciding).
    seconds: the study's compute time in this launch.
    computed: (maps, scores) computed in this launch (the rest cached).

  Returns:
    The report's path.
  """
  out_dir = pathlib.Path(out_dir)
  write_records(out_dir / PER_IMAGE, records)
  tables_dir = out_dir / "tables"
  methods = tuple(study.methods)
  parts = [
    f"# Study `{name}`: CAM methods",
    "",
    *([study.notes, ""] if study.notes else []),
    f"Methods {', '.join(methods)}; metrics {', '.join(study.metrics)}; "
    f"paired tests {', '.join(study.tests)} between methods on the same "
    f"images, Holm-corrected per table. This launch computed {computed[0]} "
    f"maps and {computed[1]} scores in {seconds:.1f} s (the rest came from "
    "the cache).",
    "",
    f"Per-image records: [{PER_IMAGE}]({PER_IMAGE}); every image with its "
    "maps: [per_image.md](per_image.md); tables as .md/.csv/.tex in "
    "[tables/](tables/).",
    "",
  ]
  if "confidence" in study.metrics:
    parts += [PAPER_READINGS, ""]
  pages = [f"# Study `{name}`: every image and its maps", ""]
  for restored, layers, views, figures, coinciding in sections:
    run = restored.run
    for layer in layers:
      for view in views:
        tag = f"{run.name}/{layer}/{view.policy}/{view.selection}"
        context = view.context
        mine = [
          r
          for r in records
          if r["run"] == run.name
          and r["layer"] == layer
          and r["target_policy"] == view.policy
          and r["selection"] == view.selection
        ]
        same = coinciding[layer, view.policy, view.selection]
        images = study.get("images", "test")
        shown = "" if images == "test" else f" of {images}"
        parts += [
          f"## {run.name} ({run.model}, {run.config.data.name}), layer "
          f"`{layer}`: {view.policy} class, {view.selection} images{shown}",
          "",
        ]
        if not mine:
          parts += [f"No images ({context}).", ""]
          continue
        parts.append(to_markdown(_summary(mine, methods, context)))
        for value, what in build.CAM_VALUES:
          if not any(value in r for r in mine):
            continue
          tables = build.cam_tables(
            mine, value, what, context=context, tests=study.tests, same=same
          )
          for key, table in tables.items():
            slug = build_slug(f"{tag}/{key}")
            write_table(table, tables_dir, slug)
            if key == f"cam_{value}":
              parts.append(to_markdown(table))
            else:
              significant = [row for row in table.rows if row[7] == "yes"]
              parts.append(
                f"{table.title} ({key.rsplit('_', 1)[-1]}): "
                f"{len(significant)} of {len(table.rows)} comparisons "
                f"significant after Holm — "
                f"[table](tables/{slug}.md)"
                + "".join(
                  f"; {row[0]}: {row[1]} ({row[2]}, p_Holm {row[6]})"
                  for row in significant
                )
                + ".\n"
              )
        entry = figures[layer, view.policy, view.selection]
        for class_name, path in entry["grids"]:
          parts.append(f"![{class_name}]({path})\n")
        pages += _image_page(mine, methods, entry, tag, context)
  (out_dir / "per_image.md").write_text("\n".join(pages))
  report = out_dir / REPORT
  report.write_text("\n".join(parts))
  return str(report)


def build_slug(text: str) -> str:
  """A file name for a table from its path-like tag."""
  return "".join(c if c.isalnum() or c in "._-" else "_" for c in text)


def _image_page(records, methods, entry, tag: str, context: str) -> list:
  """One markdown table: image, classes, then per method its Δ and map."""
  value = "delta" if any("delta" in r for r in records) else None
  lines = [f"## {tag}", "", context.capitalize() + ".", ""]
  lines.append("| image | true | explained | predicted | " + " | ".join(methods)
               + " |")  # fmt: skip
  lines.append("|" + "---|" * (4 + len(methods)))
  by_image: dict = {}
  for r in records:
    by_image.setdefault(r["id"], {})[r["method"]] = r
  for image, per_method in by_image.items():
    first = next(iter(per_method.values()))
    target = first["explained"]
    cells = []
    for m in methods:
      r = per_method.get(m)
      if r is None:
        cells.append("–")
        continue
      key = next(
        (k for k in entry["maps"] if k[0] == m and k[1] == image), None
      )
      text = fmt(r[value]) if value and value in r else "map"
      cells.append(_link(entry["maps"][key], text) if key else text)
    lines.append(
      f"| {image} | {first['class']} | {target} | {first['predicted']} | "
      + " | ".join(cells)
      + " |"
    )
  lines.append("")
  if value:
    lines += ["Cells: the confidence change Δ, linked to the map's PNG.", ""]
  return lines


def write_models_study(
  out_dir: pathlib.Path, name: str, study, runs: Sequence[Mapping],
  per_image: Sequence[Mapping], unit: str,
) -> str:  # fmt: skip
  """Writes a models study (the paper's Table 1) and returns its report.

  Args:
    out_dir: the study's folder.
    name: its name.
    study: its config (`models_config`).
    runs: one record per run: run, model, dataset, seed, fold, metrics.
    per_image: `build.model_image_records` of every run.
    unit: what pairs runs across models ('seed' or 'fold').
  """
  out_dir = pathlib.Path(out_dir)
  write_records(out_dir / "runs.csv", runs)
  write_records(out_dir / "per_image_models.csv", per_image)
  tables = build.model_tables(runs, metrics=tuple(study.metrics), unit=unit)
  tables |= build.model_image_tables(per_image)
  parts = [f"# Study `{name}`: models", ""]
  if study.notes:
    parts += [study.notes, ""]
  parts += [
    f"{len(runs)} runs; runs of different models pair up by {unit}, and per "
    "test image within a seed and fold. Every run: [runs.csv](runs.csv).",
    "",
  ]
  for key, table in tables.items():
    write_table(table, out_dir / "tables", key)
    parts.append(to_markdown(table))
  report = out_dir / REPORT
  report.write_text("\n".join(parts))
  return str(report)


def write_index(workdir: pathlib.Path, studies: Mapping, runs) -> str:
  """The launch's top-level report: links to every study and run.

  Args:
    workdir: the launch's folder.
    studies: {name: (kind, report path)}.
    runs: every `TrainedRun` of the launch.
  """
  workdir = pathlib.Path(workdir)
  out = workdir / "report"
  out.mkdir(parents=True, exist_ok=True)
  parts = ["# Report", "", "## Studies", ""]
  for name, (kind, path) in studies.items():
    rel = os.path.relpath(path, out)
    parts.append(f"* [{name}]({rel}) ({kind})")
  parts += ["", "## Runs", ""]
  parts.append("| run | model | dataset | seed | test accuracy | folder |")
  parts.append("|---|---|---|---|---|---|")
  for run in runs:
    test = run.results.get("test", {})
    rel = os.path.relpath(run.workdir, out)
    parts.append(
      f"| {run.name} | {run.model} | {run.config.data.name} | "
      f"{run.results.get('seed', '')} | {fmt(test.get('accuracy', float('nan')))} "
      f"| [{rel}]({rel}) |"
    )
  path = out / REPORT
  path.write_text("\n".join(parts) + "\n")
  return str(path)


def write_study(
  out_dir: pathlib.Path,
  title: str,
  notes: str,
  intro: Sequence[str],
  records: Mapping[str, Sequence[Mapping]],
  tables: Mapping[str, Table],
  figures: Sequence[tuple[str, str]] = (),
) -> str:
  """Writes a study's record files, tables and report; returns its path.

  Args:
    out_dir: the study's folder.
    title: the report's heading.
    notes: the study config's notes (shown first when given).
    intro: paragraphs under the heading.
    records: {file name: records}, each written as a CSV in out_dir.
    tables: {name: table}, each written as tables/<name>.md/.csv/.tex and
      inlined in the report; a paired-tests table with no comparison (one
      arm only) is left out.
    figures: (caption, path relative to out_dir) of PNGs to link.
  """
  out_dir = pathlib.Path(out_dir)
  parts = [f"# {title}", ""]
  if notes:
    parts += [notes, ""]
  for paragraph in intro:
    parts += [paragraph, ""]
  links = ", ".join(f"[{n}]({n})" for n in records)
  parts += [
    f"Records: {links}; tables as .md/.csv/.tex in [tables/](tables/).",
    "",
  ]
  for name, rows in records.items():
    write_records(out_dir / name, rows)
  for key, table in tables.items():
    if not table.rows and table.columns[1] == "pair":
      continue  # paired tests with a single arm: nothing compared
    write_table(table, out_dir / "tables", key)
    parts.append(to_markdown(table))
  if figures:
    parts += ["## Figures", ""]
    parts += [f"![{caption}]({path})\n" for caption, path in figures]
  report = out_dir / REPORT
  report.write_text("\n".join(parts))
  return str(report)


def save_curves(
  path: str | os.PathLike,
  curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
  *,
  xlabel: str,
  ylabel: str,
  title: str = "",
  bold: Sequence[str] = (),
) -> None:
  """Saves a PNG of line curves {label: (x, y)}; `bold` labels thicker."""
  from matplotlib.figure import Figure

  figure = Figure(figsize=(5, 3.6))
  axis = figure.add_subplot()
  for label, (x, y) in curves.items():
    width = 2.5 if label in bold else 1.0
    axis.plot(x, y, label=label, linewidth=width)
  axis.set(xlabel=xlabel, ylabel=ylabel)
  axis.set_title(title, fontsize=8)
  axis.grid(alpha=0.3)
  axis.legend(fontsize=6, ncol=2)
  figure.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  figure.savefig(path, dpi=100)
