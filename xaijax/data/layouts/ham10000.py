# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""HAM10000: `HAM10000_metadata.csv` and its images anywhere below root.

Every row names an image (`image_id`), its diagnosis (`dx`) and its lesion
(`lesion_id`); the images of one lesion are one group, so a lesion is
never in two splits.
"""

import csv
import dataclasses
import os

import numpy as np

from xaijax.data.layouts import base
from xaijax.data.sources import FileSource

HAM7 = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
METADATA = "ham10000_metadata.csv"


def find_metadata(root: str) -> str | None:
  """The metadata CSV at most two folders below root, or None."""
  for dirpath, dirnames, filenames in os.walk(root):
    if dirpath[len(root) :].count(os.sep) >= 2:
      dirnames[:] = []
    for f in filenames:
      if f.lower() in (METADATA, os.path.splitext(METADATA)[0]):
        return os.path.join(dirpath, f)
  return None


@dataclasses.dataclass(frozen=True)
class Ham10000(base.Layout):
  """HAM10000 (also what a `skin` root holding the CSV is read as)."""

  def list(self, cfg) -> base.Listing:
    root = self.folder(cfg)
    meta = find_metadata(root)
    if meta is None:
      raise self.error(f"No HAM10000_metadata.csv found under {root}.")
    return self.list_csv(cfg, root, meta)

  def list_csv(self, cfg, root: str, meta: str) -> base.Listing:
    """The images `meta` lists, found below `root`."""
    with open(meta, newline="") as f:
      rows = list(csv.DictReader(f))
    need = {"lesion_id", "image_id", "dx"}
    if not rows or not need <= set(rows[0]):
      raise self.error(
        f"{meta} must be a CSV with columns {', '.join(sorted(need))}; found "
        f"{', '.join(rows[0]) if rows else 'no rows'}."
      )
    images, others = base.list_images(root)
    files = {os.path.splitext(os.path.basename(p))[0]: p for p in images}
    unknown = sorted({r["dx"] for r in rows} - set(HAM7))
    if unknown:
      raise self.error(
        f"{meta} has unknown dx value(s) {', '.join(unknown)}; expected "
        f"{', '.join(HAM7)}."
      )
    missing = [r["image_id"] for r in rows if r["image_id"] not in files]
    if missing:
      listed = ", ".join(missing[:10])
      raise self.error(
        f"{len(missing)} image(s) listed in {meta} were not found under "
        f"{root}: {listed}{' ...' if len(missing) > 10 else ''}."
      )
    notes = []
    extra = len(files) - len({r["image_id"] for r in rows})
    if extra > 0:
      notes.append(f"{extra} image file(s) not in the metadata were ignored")
    notes.append(
      "grouped by lesion_id: all images of a lesion are in one split"
    )
    relpaths = [os.path.relpath(files[r["image_id"]], root) for r in rows]
    return base.Listing(
      name=self.name,
      source=FileSource(
        root,
        relpaths,
        [HAM7.index(r["dx"]) for r in rows],
        [r["lesion_id"] for r in rows],
        draft=bool(cfg.jpeg_draft),
      ),
      official=np.full(len(rows), ""),
      class_names=HAM7,
      root=os.path.abspath(root),
      layout=f"HAM10000 metadata {os.path.relpath(meta, root)}",
      notes=tuple(notes),
      ignored_files=len(others) + max(extra, 0),
      ignored_examples=tuple(others[:10]),
    )


HAM10000 = Ham10000(
  name="ham10000",
  expected=(
    "ROOT/HAM10000_metadata.csv (columns lesion_id, image_id, dx, ...) "
    "and the images ROOT/**/<image_id>.jpg (e.g. HAM10000_images_part_1/ "
    "and HAM10000_images_part_2/)"
  ),
  published=(
    "HAM10000 (Tschandl et al. 2018), Harvard Dataverse "
    "(doi:10.7910/DVN/DBW86T), CC BY-NC 4.0"
  ),
)
