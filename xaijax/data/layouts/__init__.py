# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every published layout xaijax reads, by `data.name`.

A layout turns `data.root` into a `Listing`: a source of every example, the
layout's own split of each, the class names and what was found on the way
(ignored files, notes). Nothing is decoded. `data.grouping` then views the
classes differently (`apply_grouping`).
"""

import dataclasses

import numpy as np

from xaijax.data import medmnist, synthetic
from xaijax.data.errors import DataError
from xaijax.data.layouts import class_folders, external, ham10000, pathology
from xaijax.data.layouts.base import Layout, Listing
from xaijax.data.sources import SyntheticSource


@dataclasses.dataclass(frozen=True)
class Synthetic(Layout):
  """The built-in synthetic lesions (config.synthetic; no root)."""

  def list(self, cfg) -> Listing:
    synthetic.check(cfg)
    source = SyntheticSource(cfg.synthetic, cfg.image_size)
    return Listing(
      name=self.name,
      source=source,
      official=np.full(len(source), ""),
      class_names=synthetic.class_names(cfg.synthetic.num_classes),
      root="",
      layout="synthetic",
      notes=(
        f"synthetic lesions: modality={cfg.synthetic.modality}, "
        f"difficulty={cfg.synthetic.difficulty}, seed={cfg.synthetic.seed}",
      ),
    )


SYNTHETIC = Synthetic(
  name="synthetic",
  expected="nothing (made on request from config.data.synthetic)",
  published="xaijax.data.synthetic",
)

LAYOUTS: dict[str, Layout] = {
  layout.name: layout
  for layout in (
    SYNTHETIC,
    class_folders.BRAIN_MRI,
    class_folders.CHEST_XRAY,
    class_folders.SKIN,
    ham10000.HAM10000,
    medmnist.MEDMNIST,
    class_folders.FOLDER,
    external.BRAIN_MRI_YES_NO,
    external.COVID19_RADIOGRAPHY,
    external.PH2,
    pathology.KATHER_2016,
    pathology.NCT_CRC_HE,
    pathology.BREAKHIS,
    pathology.PCAM,
    pathology.PATHMNIST,
  )
}

# The documented benign/malignant view (data.grouping="benign_malignant").
# ISIC 9-class: as ../shared/data/MANIFEST.md states it (actinic keratosis
# counted benign). HAM10000: akiec (actinic keratoses AND intraepithelial
# carcinoma / Bowen's disease) counted malignant, as is usual for HAM10000.
# BreakHis: its four carcinomas, as the dataset files them.
MALIGNANT = frozenset(
  {
    "melanoma",
    "basal cell carcinoma",
    "squamous cell carcinoma",
    "malignant",
    "mel",
    "bcc",
    "akiec",
    *pathology.BREAKHIS_MALIGNANT,
  }
)
GROUPABLE = ("skin", "ham10000", "breakhis")


def listing(cfg) -> Listing:
  """The listing of `cfg.root` as the layout `cfg.name` (no grouping)."""
  if cfg.name not in LAYOUTS:
    raise DataError(
      f"Unknown dataset '{cfg.name}'; data.name must be one of "
      f"{', '.join(LAYOUTS)}."
    )
  return LAYOUTS[cfg.name].list(cfg)


def apply_grouping(cfg, lst: Listing) -> Listing:
  """`data.grouping` applied to a listing (unchanged when it is "")."""
  if not cfg.grouping:
    return lst
  if cfg.grouping != "benign_malignant":
    raise DataError(
      f"data.grouping must be '' or 'benign_malignant', got '{cfg.grouping}'."
    )
  if lst.name not in GROUPABLE:
    raise DataError(
      "data.grouping='benign_malignant' applies to "
      f"{', '.join(GROUPABLE)} only, not '{lst.name}'."
    )
  malignant = np.array([c in MALIGNANT for c in lst.class_names])
  return dataclasses.replace(
    lst,
    source=lst.source.with_labels(malignant[lst.source.labels]),
    class_names=("benign", "malignant"),
    notes=(
      *lst.notes,
      "benign/malignant grouping: malignant = "
      + ", ".join(c for c in lst.class_names if c in MALIGNANT),
    ),
  )
