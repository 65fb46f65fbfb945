# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Histopathology: H&E tiles and patches as published.

* kather_texture_2016: ROOT/{01_TUMOR,...,08_EMPTY}/*.tif (150x150), no
  official split; tiles cut from one image are one group.
* nct_crc_he:  ROOT/{ADI,BACK,DEB,LYM,MUC,MUS,NORM,STR,TUM}/*.tif (224x224);
  or ROOT/NCT-CRC-HE-100K/<classes> (train) and ROOT/CRC-VAL-HE-7K/<classes>
  (test), the split of Kather et al. 2019.
* breakhis:    ROOT/{benign,malignant}/SOB/<subtype>/<patient>/<40X|100X|
  200X|400X>/<file>.png; 8 subtypes (or `data.grouping="benign_malignant"`),
  `data.breakhis.magnification` keeps one magnification; split by patient.
* pcam:        ROOT/camelyonpatch_level_2_split_{train,valid,test}_{x,y}.h5
  (PatchCamelyon, read lazily with h5py), its official splits.
* pathmnist:   the MedMNIST `.npz` layout, the pathmnist flag only.
"""

import dataclasses
import os
import re

import numpy as np

from xaijax.data import medmnist
from xaijax.data.layouts import base
from xaijax.data.layouts.class_folders import SPLIT_ALIASES, ClassFolders
from xaijax.data.sources import ArraySource, FileSource

KATHER_2016 = ClassFolders(
  name="kather_texture_2016",
  expected=(
    "ROOT/{01_TUMOR,02_STROMA,03_COMPLEX,04_LYMPHO,05_DEBRIS,06_MUCOSA,"
    "07_ADIPOSE,08_EMPTY}/*.tif (the folder Kather_texture_2016_image_"
    "tiles_5000/ of the zip)"
  ),
  published=(
    "Kather et al., Sci Rep 2016, 'Multi-class texture analysis in "
    "colorectal cancer histology', Zenodo doi:10.5281/zenodo.53169, CC BY 4.0"
  ),
  classes=(
    "01_TUMOR",
    "02_STROMA",
    "03_COMPLEX",
    "04_LYMPHO",
    "05_DEBRIS",
    "06_MUCOSA",
    "07_ADIPOSE",
    "08_EMPTY",
  ),
)

NCT_CRC_HE = ClassFolders(
  name="nct_crc_he",
  expected=(
    "ROOT/{ADI,BACK,DEB,LYM,MUC,MUS,NORM,STR,TUM}/*.tif, or "
    "ROOT/NCT-CRC-HE-100K/<those classes> (or NCT-CRC-HE-100K-NONORM, not "
    "both) as the training split and ROOT/CRC-VAL-HE-7K/<those classes> as "
    "the test split"
  ),
  published=(
    "Kather et al., PLoS Med 2019, NCT-CRC-HE-100K and CRC-VAL-HE-7K, "
    "Zenodo doi:10.5281/zenodo.1214456, CC BY 4.0"
  ),
  classes=("ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM"),
  splits={
    **SPLIT_ALIASES,
    "nct-crc-he-100k": "train",
    "nct-crc-he-100k-nonorm": "train",
    "crc-val-he-7k": "test",
  },
)

BREAKHIS_SUBTYPES = (
  "adenosis",
  "fibroadenoma",
  "phyllodes_tumor",
  "tubular_adenoma",
  "ductal_carcinoma",
  "lobular_carcinoma",
  "mucinous_carcinoma",
  "papillary_carcinoma",
)
BREAKHIS_MALIGNANT = BREAKHIS_SUBTYPES[4:]
MAGNIFICATIONS = ("40X", "100X", "200X", "400X")


def breakhis_patient(folder: str) -> str:
  """`SOB_B_A_14-22549AB` -> `14-22549AB`: the slide, whatever the tumour
  type in the name (a few slides are filed under two subtypes)."""
  m = re.match(r"^SOB_[BM]_[A-Z]+_(.+)$", folder, flags=re.IGNORECASE)
  return m.group(1) if m else folder


@dataclasses.dataclass(frozen=True)
class BreakHis(base.Layout):
  """BreakHis v1: benign|malignant/SOB/<subtype>/<patient>/<mag>/<file>."""

  def list(self, cfg) -> base.Listing:
    root = self.folder(cfg)
    want = cfg.breakhis.magnification.upper()
    if want and want not in MAGNIFICATIONS:
      raise self.error(
        f"data.breakhis.magnification must be '' (all) or one of "
        f"{', '.join(MAGNIFICATIONS)}, got '{cfg.breakhis.magnification}'."
      )
    top = _find_parent_of(root, ("benign", "malignant"))
    if top is None:
      raise self.error(
        f"No folder with benign/ and malignant/ subfolders at or below "
        f"{os.path.abspath(root)}."
      )
    relpaths, labels, groups, misplaced, ignored = [], [], [], [], []
    seen = set()
    for kind in base.subdirs(top):
      if kind.lower() not in ("benign", "malignant"):
        continue
      files, others = base.list_images(os.path.join(top, kind))
      ignored += others
      for f in files:
        parts = os.path.relpath(f, os.path.join(top, kind)).split(os.sep)
        subtype = next(
          (p.lower() for p in parts if p.lower() in BREAKHIS_SUBTYPES), None
        )
        mag = next(
          (p.upper() for p in parts if p.upper() in MAGNIFICATIONS), ""
        )
        malignant = subtype in BREAKHIS_MALIGNANT
        if (
          subtype is None or not mag or malignant != (kind.lower() != "benign")
        ):
          misplaced.append(os.path.relpath(f, root))
          continue
        seen.add(subtype)
        if want and mag != want:
          continue
        at = [p.upper() for p in parts].index(mag)
        patient = parts[at - 1] if at else f
        relpaths.append(os.path.relpath(f, root))
        labels.append(BREAKHIS_SUBTYPES.index(subtype))
        groups.append(breakhis_patient(patient))
    if misplaced:
      raise self.error(
        f"{len(misplaced)} image(s) not at <benign|malignant>/SOB/<subtype>/"
        f"<patient>/<magnification>/ (a known subtype of that kind and "
        f"one of {', '.join(MAGNIFICATIONS)}): "
        f"{', '.join(misplaced[:10])}{' ...' if len(misplaced) > 10 else ''}"
      )
    missing = [s for s in BREAKHIS_SUBTYPES if s not in seen]
    if missing:
      raise self.error(
        f"No images of subtype(s) {', '.join(missing)} under {top}."
      )
    if not relpaths:
      raise self.error(f"No images at magnification {want} under {top}.")
    notes = ["grouped by patient (slide): a patient is in one split"]
    if want:
      notes.append(f"magnification {want} only (data.breakhis)")
    return base.Listing(
      name=self.name,
      source=FileSource(
        root, relpaths, labels, groups, draft=bool(cfg.jpeg_draft)
      ),
      official=np.full(len(relpaths), ""),
      class_names=BREAKHIS_SUBTYPES,
      root=os.path.abspath(root),
      layout=f"BreakHis {os.path.relpath(top, root)}/{{benign,malignant}}",
      notes=tuple(notes),
      ignored_files=len(ignored),
      ignored_examples=tuple(ignored[:10]),
    )


def _find_parent_of(root: str, names, max_depth: int = 4) -> str | None:
  """The shallowest folder at or below root with all `names` as children."""
  level = [root]
  for _ in range(max_depth + 1):
    for d in level:
      if {n.lower() for n in names} <= {s.lower() for s in base.subdirs(d)}:
        return d
    level = [os.path.join(d, s) for d in level for s in base.subdirs(d)]
  return None


PCAM_FILE = "camelyonpatch_level_2_split_{split}_{xy}.h5"
PCAM_SPLITS = {"train": "train", "valid": "val", "test": "test"}


@dataclasses.dataclass(frozen=True)
class PCam(base.Layout):
  """PatchCamelyon's HDF5 files; images stay on disk until read."""

  def list(self, cfg) -> base.Listing:
    root = self.folder(cfg)
    try:
      import h5py  # only this layout needs it: imported here
    except ImportError as e:
      raise self.error(
        "Reading PatchCamelyon needs h5py: pip install h5py."
      ) from e
    names = [
      PCAM_FILE.format(split=s, xy=xy) for s in PCAM_SPLITS for xy in "xy"
    ]
    missing = [n for n in names if not os.path.isfile(os.path.join(root, n))]
    if missing:
      zipped = [
        n for n in missing if os.path.isfile(os.path.join(root, n + ".gz"))
      ]
      hint = " (found .h5.gz: decompress them with gunzip)" if zipped else ""
      raise self.error(
        f"{os.path.abspath(root)} lacks {', '.join(missing)}{hint}."
      )
    images, labels, official, ids = [], [], [], []
    for split, tag in PCAM_SPLITS.items():
      paths = [
        os.path.join(root, PCAM_FILE.format(split=split, xy=xy)) for xy in "xy"
      ]
      try:
        x = h5py.File(paths[0], "r")["x"]
        with h5py.File(paths[1], "r") as f:
          y = np.asarray(f["y"]).reshape(-1).astype(np.int32)
      except (OSError, KeyError) as e:
        raise self.error(
          f"{paths[0]} / {paths[1]} are not PatchCamelyon HDF5 files with "
          f"datasets 'x' and 'y' ({type(e).__name__}: {e})."
        ) from e
      if x.ndim != 4 or x.shape[-1] != 3 or len(x) != len(y):
        raise self.error(
          f"{paths[0]} holds x of shape {x.shape} and {paths[1]} y of "
          f"{len(y)} labels: expected (N, 96, 96, 3) images and N labels."
        )
      images.append(x)
      labels.append(y)
      official += [tag] * len(y)
      ids += [f"pcam:{split}:{i}" for i in range(len(y))]
    return base.Listing(
      name=self.name,
      source=ArraySource(images, np.concatenate(labels), ids),
      official=np.asarray(official),
      class_names=("normal", "tumor"),
      root=os.path.abspath(root),
      layout="PatchCamelyon HDF5 (level 2, 96 px)",
      notes=("PatchCamelyon's official train/valid/test splits",),
      official_val=True,
    )


BREAKHIS = BreakHis(
  name="breakhis",
  expected=(
    "ROOT/{benign,malignant}/SOB/<subtype>/<patient>/<40X|100X|200X|400X>/"
    "<file>.png (ROOT may be BreaKHis_v1/ or histology_slides/breast/); "
    "subtypes adenosis, fibroadenoma, phyllodes_tumor, tubular_adenoma, "
    "ductal_carcinoma, lobular_carcinoma, mucinous_carcinoma, "
    "papillary_carcinoma"
  ),
  published=(
    "BreakHis (Spanhol et al., IEEE TBME 2016), "
    "https://web.inf.ufpr.br/vri/databases/"
    "breast-cancer-histopathological-database-breakhis/, research use"
  ),
)

PCAM = PCam(
  name="pcam",
  expected=(
    "ROOT/camelyonpatch_level_2_split_{train,valid,test}_{x,y}.h5 "
    "(decompressed), x: (N, 96, 96, 3) uint8, y: (N, 1, 1, 1)"
  ),
  published=(
    "PatchCamelyon (Veeling et al., MICCAI 2018), "
    "https://github.com/basveeling/pcam (Zenodo doi:10.5281/zenodo.2546921), "
    "CC0"
  ),
)

PATHMNIST = medmnist.MedMNIST(
  name="pathmnist",
  expected=(
    "pathmnist.npz (or pathmnist_64/128/224.npz) with arrays train_images, "
    "train_labels, val_images, val_labels, test_images, test_labels; "
    "data.root is the file, or a folder holding exactly one such file"
  ),
  published=medmnist.SOURCE,
  flag="pathmnist",
)
