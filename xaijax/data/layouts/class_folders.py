# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Class-folder datasets as users download them.

Layouts (folder names are matched case-insensitively; the split folder may
sit a few levels below `root`, as in the Kaggle zips):

* brain_mri:  {Training,Testing}/{glioma,meningioma,notumor,pituitary}
              (older release: glioma_tumor, meningioma_tumor, no_tumor,
              pituitary_tumor)
* chest_xray: {train,val,test}/{NORMAL,PNEUMONIA} (Kermany), or
              {train,test}/{COVID19,NORMAL,PNEUMONIA} (3-class variant)
* skin:       {train,test}/{benign,malignant}, or the 9-class
              "Skin cancer ISIC" {Train,Test}/<class name with spaces>, or a
              HAM10000 folder (HAM10000_metadata.csv + images)
* folder:     any {train,val,test}/<class>/ or <class>/ tree

A layout without a split folder (just class folders) is a pool from which
a seeded, stratified, grouped test split is made (`data.test_fraction`).
"""

import dataclasses
import logging
import os
import re
from collections.abc import Mapping

import numpy as np

from xaijax.data.layouts import base, ham10000
from xaijax.data.preprocess import IMAGE_EXTENSIONS
from xaijax.data.sources import FileSource

log = logging.getLogger(__name__)

SPLIT_ALIASES = {
  "train": "train",
  "training": "train",
  "val": "val",
  "valid": "val",
  "validation": "val",
  "test": "test",
  "testing": "test",
}

ISIC9 = (
  "actinic keratosis",
  "basal cell carcinoma",
  "dermatofibroma",
  "melanoma",
  "nevus",
  "pigmented benign keratosis",
  "seborrheic keratosis",
  "squamous cell carcinoma",
  "vascular lesion",
)


def group_key(dataset: str, relpath: str) -> str:
  """What must stay in one split.

  Kermany chest X-rays, the patient: `person1_virus_6.jpeg` -> person1;
  `IM-0117-0001.jpeg` -> IM-0117; `NORMAL2-IM-1427-0001.jpeg` ->
  NORMAL2-IM-1427. Kather 2016 tiles, the image they were cut from:
  `1A11_CRC-Prim-HE-07_022.tif_Row_601_Col_151.tif` ->
  CRC-Prim-HE-07_022.tif (neighbouring tiles of one image would otherwise
  leak across splits). Anything else: the file.
  """
  if dataset == "kather_texture_2016":
    m = re.match(r"^[^_]+_(.+)_Row_\d+_Col_\d+", os.path.basename(relpath))
    if m:
      return m.group(1)
  if dataset == "chest_xray":
    stem = os.path.splitext(os.path.basename(relpath))[0]
    m = re.match(r"^(person\d+)_", stem)
    if m:
      return m.group(1)
    m = re.match(r"^(.*IM-\d+)-\d+", stem)
    if m:
      return m.group(1)
  return relpath


def find_split_root(
  root: str, splits: Mapping[str, str] = SPLIT_ALIASES, max_depth: int = 3
) -> str | None:
  """The shallowest folder at or below root with a split folder child."""
  level = [root]
  for _ in range(max_depth + 1):
    hits = [
      d for d in level if any(s.lower() in splits for s in base.subdirs(d))
    ]
    if hits:
      return hits[0]
    level = [os.path.join(d, s) for d in level for s in base.subdirs(d)]
  return None


@dataclasses.dataclass(frozen=True)
class ClassFolders(base.Layout):
  """[<split>/]<class>/<images>, classes matched case-insensitively.

  Attributes:
    classes: the class names in label order; None: the sorted folder names.
    variants: other class lists the layout is published with (the one the
      folders fit best is used).
    aliases: other folder names of a class (lower case -> class).
    delegate: the layout to read instead when the root holds its metadata
      (skin -> HAM10000), or None.
    skip: subfolders of a class folder that hold no class images (e.g. the
      lung masks beside the images of the COVID-19 Radiography Database).
    splits: split folder name (lower case) -> "train", "val" or "test".
  """

  classes: tuple[str, ...] | None = None
  variants: tuple[tuple[str, ...], ...] = ()
  aliases: Mapping[str, str] = dataclasses.field(default_factory=dict)
  delegate: ham10000.Ham10000 | None = None
  skip: tuple[str, ...] = ()
  splits: Mapping[str, str] = dataclasses.field(
    default_factory=lambda: SPLIT_ALIASES
  )

  def canonical(self, folder: str, classes) -> str | None:
    """Folder name -> class name (case-insensitive), or None."""
    if classes is None:
      return folder
    low = folder.strip().lower()
    for k in classes:
      if k.lower() == low:
        return k
    for a, k in self.aliases.items():
      if a.lower() == low and k in classes:
        return k
    return None

  def choose_classes(self, folders: set[str]) -> tuple[str, ...] | None:
    """The class list that these folder names fit best."""
    if self.classes is None:
      return None
    options = (self.classes, *self.variants)
    return max(
      options,
      key=lambda c: sum(self.canonical(f, c) is not None for f in folders),
    )

  def list(self, cfg) -> base.Listing:
    root = self.folder(cfg)
    if self.delegate is not None:
      meta = ham10000.find_metadata(root)
      if meta is not None:
        return self.delegate.list_csv(cfg, root, meta)
    notes = []
    ignored = []
    split_root = find_split_root(root, self.splits)
    if split_root is not None:
      split_dirs = [
        (s, self.splits[s.lower()])
        for s in base.subdirs(split_root)
        if s.lower() in self.splits
      ]
      others = [
        s for s in base.subdirs(split_root) if s.lower() not in self.splits
      ]
      if others:
        notes.append(
          f"folders beside the split folders ignored: {', '.join(others)}"
        )
    else:
      split_root = root
      split_dirs = [("", "")]
    layout = (
      "split folders " + ", ".join(d for d, _ in split_dirs)
      if split_dirs[0][0]
      else "class folders (no official split)"
    )
    folders = {
      c
      for d, _ in split_dirs
      for c in base.subdirs(os.path.join(split_root, d))
    }
    where = os.path.abspath(split_root)
    if not folders:
      raise self.error(f"No class folders found under {where}.")
    classes = self.choose_classes(folders)
    unknown = sorted(f for f in folders if self.canonical(f, classes) is None)
    if unknown:
      raise self.error(
        f"Unknown class folder(s) under {where}: {', '.join(unknown)}. "
        f"Expected class folders: {', '.join(classes)}. Use "
        "data.name='folder' to take any folder names as classes."
      )
    if classes is None:
      classes = tuple(sorted(folders))
    present = {self.canonical(f, classes) for f in folders}
    missing = [c for c in classes if c not in present]
    if missing:
      raise self.error(
        f"Class folder(s) {', '.join(missing)} not found under {where} "
        f"(found {', '.join(sorted(folders))})."
      )

    relpaths, labels, official = [], [], []
    for d, split in split_dirs:
      # Loose files beside the class folders (Thumbs.db, a README, ...).
      ignored += [
        e.path for e in os.scandir(os.path.join(split_root, d)) if e.is_file()
      ]
      for folder in base.subdirs(os.path.join(split_root, d)):
        path = os.path.join(split_root, d, folder)
        files, others = base.list_images(path, self.skip)
        ignored += others
        if not files:
          raise self.error(
            f"Class folder {os.path.abspath(path)} has no image files "
            f"({', '.join(sorted(IMAGE_EXTENSIONS))})."
          )
        label = classes.index(self.canonical(folder, classes))
        relpaths += [os.path.relpath(f, root) for f in files]
        labels += [label] * len(files)
        official += [split] * len(files)
    return base.Listing(
      name=self.name,
      source=FileSource(
        root,
        relpaths,
        labels,
        [group_key(self.name, p) for p in relpaths],
        draft=bool(cfg.jpeg_draft),
      ),
      official=np.asarray(official),
      class_names=tuple(classes),
      root=os.path.abspath(root),
      layout=layout,
      notes=tuple(notes),
      ignored_files=len(ignored),
      ignored_examples=tuple(ignored[:10]),
      test_only=self.test_only,
    )


BRAIN_MRI = ClassFolders(
  name="brain_mri",
  expected=(
    "ROOT/Training/{glioma,meningioma,notumor,pituitary}/*.jpg and "
    "ROOT/Testing/<same classes>/*.jpg (the older release's "
    "glioma_tumor, meningioma_tumor, no_tumor, pituitary_tumor also work; "
    "a single split folder or bare class folders are split by seed)"
  ),
  published=(
    'Kaggle "Brain Tumor MRI Dataset" by M. Nickparvar '
    "(https://www.kaggle.com/datasets/masoudnickparvar/"
    "brain-tumor-mri-dataset), CC0"
  ),
  classes=("glioma", "meningioma", "notumor", "pituitary"),
  aliases={
    "glioma_tumor": "glioma",
    "meningioma_tumor": "meningioma",
    "no_tumor": "notumor",
    "no tumor": "notumor",
    "pituitary_tumor": "pituitary",
  },
)

CHEST_XRAY = ClassFolders(
  name="chest_xray",
  expected=(
    "ROOT/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg (Kermany "
    '"chest_xray" layout; val/ optional) or ROOT/{train,test}/'
    "{COVID19,NORMAL,PNEUMONIA}/ for the 3-class variant"
  ),
  published=(
    "Kermany et al. 2018, Mendeley Data (doi:10.17632/rscbjbr9sj.2), "
    'also Kaggle "Chest X-Ray Images (Pneumonia)" (https://www.kaggle.com'
    "/datasets/paultimothymooney/chest-xray-pneumonia); 3-class: Kaggle "
    '"Chest X-ray (Covid-19 & Pneumonia)" (https://www.kaggle.com/'
    "datasets/prashant268/chest-xray-covid19-pneumonia)"
  ),
  classes=("NORMAL", "PNEUMONIA"),
  variants=(("COVID19", "NORMAL", "PNEUMONIA"),),
  aliases={"covid": "COVID19", "covid-19": "COVID19", "covid_19": "COVID19"},
)

SKIN = ClassFolders(
  name="skin",
  expected=(
    "ROOT/{train,test}/{benign,malignant}/*.jpg, or the 9-class "
    '"Skin cancer ISIC The International Skin Imaging Collaboration" '
    "ROOT/{Train,Test}/{actinic keratosis,...,vascular lesion}/*.jpg, or "
    "a HAM10000 folder (HAM10000_metadata.csv + images)"
  ),
  published=(
    'Kaggle "Skin cancer ISIC The International Skin Imaging '
    'Collaboration" (https://www.kaggle.com/datasets/nodoubttome/'
    'skin-cancer9-classesisic); Kaggle "Skin Cancer: Malignant vs. '
    'Benign" (https://www.kaggle.com/datasets/fanconic/'
    "skin-cancer-malignant-vs-benign); HAM10000 on Harvard Dataverse "
    "(doi:10.7910/DVN/DBW86T)"
  ),
  classes=("benign", "malignant"),
  variants=(ISIC9,),
  delegate=ham10000.HAM10000,
)

FOLDER = ClassFolders(
  name="folder",
  expected="ROOT/{train,val,test}/<class>/<images> or ROOT/<class>/<images>",
  published="your own data",
)
