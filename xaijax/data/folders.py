# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Class-folder datasets as users download them, and HAM10000's CSV.

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
* ham10000:   HAM10000_metadata.csv + the images anywhere below root
* folder:     any {train,val,test}/<class>/ or <class>/ tree

A layout without a split folder (just class folders) is a pool from which
a seeded, stratified, grouped test split is made (`data.test_fraction`).
"""

import csv
import dataclasses
import logging
import os
import re

import numpy as np

from xaijax.data import core
from xaijax.data.errors import DataError
from xaijax.data.preprocess import IMAGE_EXTENSIONS

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
SKIP_DIRS = ("__MACOSX",)

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
HAM7 = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
# The documented benign/malignant view (data.grouping="benign_malignant").
# ISIC 9-class: as ../shared/data/MANIFEST.md states it (actinic keratosis
# counted benign). HAM10000: akiec (actinic keratoses AND intraepithelial
# carcinoma / Bowen's disease) counted malignant, as is usual for HAM10000.
MALIGNANT = frozenset(
  {
    "melanoma",
    "basal cell carcinoma",
    "squamous cell carcinoma",
    "malignant",
    "mel",
    "bcc",
    "akiec",
  }
)

SPECS = {
  "brain_mri": {
    "classes": ("glioma", "meningioma", "notumor", "pituitary"),
    "aliases": {
      "glioma_tumor": "glioma",
      "meningioma_tumor": "meningioma",
      "no_tumor": "notumor",
      "no tumor": "notumor",
      "pituitary_tumor": "pituitary",
    },
    "layout": (
      "ROOT/Training/{glioma,meningioma,notumor,pituitary}/*.jpg and "
      "ROOT/Testing/<same classes>/*.jpg (the older release's "
      "glioma_tumor, meningioma_tumor, no_tumor, pituitary_tumor also work; "
      "a single split folder or bare class folders are split by seed)"
    ),
    "source": (
      'Kaggle "Brain Tumor MRI Dataset" by M. Nickparvar '
      "(https://www.kaggle.com/datasets/masoudnickparvar/"
      "brain-tumor-mri-dataset), CC0"
    ),
  },
  "chest_xray": {
    "classes": ("NORMAL", "PNEUMONIA"),
    "variants": (("COVID19", "NORMAL", "PNEUMONIA"),),
    "aliases": {
      "covid": "COVID19",
      "covid-19": "COVID19",
      "covid_19": "COVID19",
    },
    "layout": (
      "ROOT/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg (Kermany "
      '"chest_xray" layout; val/ optional) or ROOT/{train,test}/'
      "{COVID19,NORMAL,PNEUMONIA}/ for the 3-class variant"
    ),
    "source": (
      "Kermany et al. 2018, Mendeley Data (doi:10.17632/rscbjbr9sj.2), "
      'also Kaggle "Chest X-Ray Images (Pneumonia)" (https://www.kaggle.com'
      "/datasets/paultimothymooney/chest-xray-pneumonia); 3-class: Kaggle "
      '"Chest X-ray (Covid-19 & Pneumonia)" (https://www.kaggle.com/'
      "datasets/prashant268/chest-xray-covid19-pneumonia)"
    ),
  },
  "skin": {
    "classes": ("benign", "malignant"),
    "variants": (ISIC9,),
    "aliases": {},
    "layout": (
      "ROOT/{train,test}/{benign,malignant}/*.jpg, or the 9-class "
      '"Skin cancer ISIC The International Skin Imaging Collaboration" '
      "ROOT/{Train,Test}/{actinic keratosis,...,vascular lesion}/*.jpg, or "
      "a HAM10000 folder (HAM10000_metadata.csv + images)"
    ),
    "source": (
      'Kaggle "Skin cancer ISIC The International Skin Imaging '
      'Collaboration" (https://www.kaggle.com/datasets/nodoubttome/'
      'skin-cancer9-classesisic); Kaggle "Skin Cancer: Malignant vs. '
      'Benign" (https://www.kaggle.com/datasets/fanconic/'
      "skin-cancer-malignant-vs-benign); HAM10000 on Harvard Dataverse "
      "(doi:10.7910/DVN/DBW86T)"
    ),
  },
  "ham10000": {
    "classes": HAM7,
    "aliases": {},
    "layout": (
      "ROOT/HAM10000_metadata.csv (columns lesion_id, image_id, dx, ...) "
      "and the images ROOT/**/<image_id>.jpg (e.g. HAM10000_images_part_1/ "
      "and HAM10000_images_part_2/)"
    ),
    "source": (
      "HAM10000 (Tschandl et al. 2018), Harvard Dataverse "
      "(doi:10.7910/DVN/DBW86T), CC BY-NC 4.0"
    ),
  },
  "folder": {
    "classes": None,
    "aliases": {},
    "layout": "ROOT/{train,val,test}/<class>/<images> or ROOT/<class>/<images>",
    "source": "your own data",
  },
}


def _fail(name: str, msg: str):
  spec = SPECS[name]
  raise DataError(
    f"{msg}\nExpected layout for data.name='{name}': {spec['layout']}.\n"
    f"Published as: {spec['source']}."
  )


def _subdirs(path: str) -> list[str]:
  try:
    entries = sorted(os.scandir(path), key=lambda e: e.name)
  except OSError:
    return []
  return [
    e.name
    for e in entries
    if e.is_dir() and not e.name.startswith(".") and e.name not in SKIP_DIRS
  ]


def _find_split_root(root: str, max_depth: int = 3) -> str | None:
  """The shallowest folder at or below root with a train/test child."""
  level = [root]
  for _ in range(max_depth + 1):
    hits = [
      d for d in level if any(s.lower() in SPLIT_ALIASES for s in _subdirs(d))
    ]
    if hits:
      return hits[0]
    level = [os.path.join(d, s) for d in level for s in _subdirs(d)]
  return None


def _list_images(folder: str, info: dict) -> list[str]:
  """Image files below `folder` (recursive), sorted; others counted."""
  found = []
  for dirpath, dirnames, filenames in os.walk(folder):
    dirnames[:] = sorted(
      d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS
    )
    for f in sorted(filenames):
      if os.path.splitext(f)[
        1
      ].lower() in IMAGE_EXTENSIONS and not f.startswith("."):
        found.append(os.path.join(dirpath, f))
      else:
        info["ignored_files"] = info.get("ignored_files", 0) + 1
        ex = info.setdefault("ignored_examples", [])
        if len(ex) < 10:
          ex.append(os.path.join(dirpath, f))
  return found


def _canonical(name: str, folder: str, known: tuple | None, aliases: dict):
  """Folder name -> canonical class name (case-insensitive), or None."""
  if known is None:
    return folder
  low = folder.strip().lower()
  for k in known:
    if k.lower() == low:
      return k
  for a, k in aliases.items():
    if a.lower() == low and k in known:
      return k
  return None


def _choose_classes(name: str, folders: set[str]) -> tuple | None:
  """The class list of `name` that these folder names fit best."""
  spec = SPECS[name]
  if spec["classes"] is None:
    return None
  options = (spec["classes"], *spec.get("variants", ()))

  def fit(classes):
    return sum(
      _canonical(name, f, classes, spec["aliases"]) is not None for f in folders
    )

  return max(options, key=fit)


def group_key(dataset: str, relpath: str) -> str:
  """What must stay in one split: the patient for Kermany chest X-rays.

  `person1_virus_6.jpeg` -> person1; `IM-0117-0001.jpeg` -> IM-0117;
  `NORMAL2-IM-1427-0001.jpeg` -> NORMAL2-IM-1427; anything else: the file.
  """
  if dataset == "chest_xray":
    stem = os.path.splitext(os.path.basename(relpath))[0]
    m = re.match(r"^(person\d+)_", stem)
    if m:
      return m.group(1)
    m = re.match(r"^(.*IM-\d+)-\d+", stem)
    if m:
      return m.group(1)
  return relpath


def _find_metadata(root: str) -> str | None:
  for dirpath, dirnames, filenames in os.walk(root):
    depth = dirpath[len(root) :].count(os.sep)
    if depth >= 2:
      dirnames[:] = []
    for f in filenames:
      if (
        f.lower() == "ham10000_metadata.csv" or f.lower() == "ham10000_metadata"
      ):
        return os.path.join(dirpath, f)
  return None


@dataclasses.dataclass
class Listing:
  """What a layout holds, before any file is opened.

  Attributes:
    name: dataset name (`ham10000` when a skin root holds the CSV).
    root: the dataset root; `relpaths` are relative to it.
    classes: class names in label order.
    relpaths, labels, official, groups: per image: path, class index, the
      layout's split ("train" / "val" / "test" / "" for none), group key.
    info: what listing found (layout, ignored files, notes).
  """

  name: str
  root: str
  classes: tuple
  relpaths: list
  labels: list
  official: list
  groups: list
  info: dict


def load(cfg) -> core.Dataset:
  return _finish(cfg, listing(cfg))


def listing(cfg) -> Listing:
  """Lists `cfg.root` as the layout of `cfg.name` (DataError if it is not)."""
  name = cfg.name
  root = os.path.expanduser(cfg.root)
  if not root:
    _fail(name, f"data.root is not set for data.name='{name}'.")
  if not os.path.isdir(root):
    what = (
      "is a file, not a folder" if os.path.exists(root) else "does not exist"
    )
    _fail(name, f"Dataset root {os.path.abspath(root)} {what}.")
  if name in ("skin", "ham10000"):
    meta = _find_metadata(root)
    if meta is not None:
      return _ham10000(cfg, root, meta)
    if name == "ham10000":
      _fail(name, f"No HAM10000_metadata.csv found under {root}.")
  return _class_folders(cfg, root)


def _class_folders(cfg, root: str) -> core.Dataset:
  name = cfg.name
  spec = SPECS[name]
  info = {"root": os.path.abspath(root), "ignored_files": 0}
  split_root = _find_split_root(root)
  if split_root is not None:
    split_dirs = [
      (s, SPLIT_ALIASES[s.lower()])
      for s in _subdirs(split_root)
      if s.lower() in SPLIT_ALIASES
    ]
    others = [s for s in _subdirs(split_root) if s.lower() not in SPLIT_ALIASES]
    if others:
      info.setdefault("notes", []).append(
        f"folders beside the split folders ignored: {', '.join(others)}"
      )
  else:
    split_root = root
    split_dirs = [("", "")]
  info["layout"] = (
    "split folders " + ", ".join(d for d, _ in split_dirs)
    if split_dirs[0][0]
    else "class folders (no official split)"
  )

  folders = {
    c for d, _ in split_dirs for c in _subdirs(os.path.join(split_root, d))
  }
  if not folders:
    _fail(name, f"No class folders found under {os.path.abspath(split_root)}.")
  classes = _choose_classes(name, folders)
  unknown = sorted(
    f for f in folders if _canonical(name, f, classes, spec["aliases"]) is None
  )
  if unknown:
    _fail(
      name,
      f"Unknown class folder(s) under {os.path.abspath(split_root)}: "
      f"{', '.join(unknown)}. Expected class folders: {', '.join(classes)}. "
      "Use data.name='folder' to take any folder names as classes.",
    )
  if classes is None:
    classes = tuple(sorted(folders))
  present = {_canonical(name, f, classes, spec["aliases"]) for f in folders}
  missing = [c for c in classes if c not in present]
  if missing:
    _fail(
      name,
      f"Class folder(s) {', '.join(missing)} not found under "
      f"{os.path.abspath(split_root)} (found {', '.join(sorted(folders))}).",
    )

  relpaths, labels, official = [], [], []
  for d, split in split_dirs:
    # Loose files beside the class folders (Thumbs.db, a README, ...).
    for e in os.scandir(os.path.join(split_root, d)):
      if e.is_file():
        info["ignored_files"] += 1
        ex = info.setdefault("ignored_examples", [])
        if len(ex) < 10:
          ex.append(e.path)
    for folder in _subdirs(os.path.join(split_root, d)):
      path = os.path.join(split_root, d, folder)
      files = _list_images(path, info)
      if not files:
        _fail(
          name,
          f"Class folder {os.path.abspath(path)} has no image files "
          f"({', '.join(sorted(IMAGE_EXTENSIONS))}).",
        )
      label = classes.index(_canonical(name, folder, classes, spec["aliases"]))
      relpaths += [os.path.relpath(f, root) for f in files]
      labels += [label] * len(files)
      official += [split] * len(files)
  if info["ignored_files"]:
    log.warning(
      "Ignored %d non-image file(s) under %s, e.g. %s",
      info["ignored_files"],
      root,
      info["ignored_examples"][0],
    )
  groups = [group_key(name, p) for p in relpaths]
  return Listing(name, root, classes, relpaths, labels, official, groups, info)


def _ham10000(cfg, root: str, meta: str) -> core.Dataset:
  name = "ham10000"
  info = {
    "root": os.path.abspath(root),
    "layout": f"HAM10000 metadata {os.path.relpath(meta, root)}",
    "ignored_files": 0,
  }
  with open(meta, newline="") as f:
    rows = list(csv.DictReader(f))
  need = {"lesion_id", "image_id", "dx"}
  if not rows or not need <= set(rows[0]):
    _fail(
      name,
      f"{meta} must be a CSV with columns {', '.join(sorted(need))}; found "
      f"{', '.join(rows[0]) if rows else 'no rows'}.",
    )
  files = {
    os.path.splitext(os.path.basename(p))[0]: p
    for p in _list_images(root, info)
  }
  unknown = sorted({r["dx"] for r in rows} - set(HAM7))
  if unknown:
    _fail(
      name,
      f"{meta} has unknown dx value(s) {', '.join(unknown)}; expected "
      f"{', '.join(HAM7)}.",
    )
  missing = [r["image_id"] for r in rows if r["image_id"] not in files]
  if missing:
    listed = ", ".join(missing[:10])
    _fail(
      name,
      f"{len(missing)} image(s) listed in {meta} were not found under "
      f"{root}: {listed}{' ...' if len(missing) > 10 else ''}.",
    )
  listed_ids = {r["image_id"] for r in rows}
  extra = len(files) - len(listed_ids)
  if extra > 0:
    info["ignored_files"] += extra
    info.setdefault("notes", []).append(
      f"{extra} image file(s) not in the metadata were ignored"
    )
  relpaths = [os.path.relpath(files[r["image_id"]], root) for r in rows]
  labels = [HAM7.index(r["dx"]) for r in rows]
  groups = [r["lesion_id"] for r in rows]
  info.setdefault("notes", []).append(
    "grouped by lesion_id: all images of a lesion are in one split"
  )
  return Listing(
    name, root, HAM7, relpaths, labels, [""] * len(rows), groups, info
  )


def apply_grouping(cfg, name, classes, labels, info):
  """`data.grouping` -> (classes, labels) (unchanged when it is "")."""
  classes = tuple(classes)
  labels = np.asarray(labels, np.int32)
  if cfg.grouping:
    if cfg.grouping != "benign_malignant":
      raise DataError(
        f"data.grouping must be '' or 'benign_malignant', got '{cfg.grouping}'."
      )
    if name not in ("skin", "ham10000"):
      raise DataError(
        "data.grouping='benign_malignant' applies to the skin datasets "
        f"only, not '{name}'."
      )
    malignant = np.array([c in MALIGNANT for c in classes])
    labels = malignant[labels].astype(np.int32)
    info.setdefault("notes", []).append(
      "benign/malignant grouping: malignant = "
      + ", ".join(c for c in classes if c in MALIGNANT)
    )
    classes = ("benign", "malignant")
  return classes, labels


def _finish(cfg, lst: Listing) -> core.Dataset:
  name, root, info = lst.name, lst.root, lst.info
  relpaths, groups, official = lst.relpaths, lst.groups, lst.official
  classes, labels = apply_grouping(cfg, name, lst.classes, lst.labels, info)
  source = core.FileSource(
    root, relpaths, labels, groups, draft=bool(cfg.jpeg_draft)
  )
  hashes, keep = core.scan(source, cfg, info)
  if not keep.all():
    idx = np.flatnonzero(keep)
    source = core.FileSource(
      root,
      [relpaths[i] for i in idx],
      labels[idx],
      [groups[i] for i in idx],
      draft=bool(cfg.jpeg_draft),
    )
    hashes = [hashes[i] for i in idx] if hashes else hashes
    official = [official[i] for i in idx]
  return core.build(
    name,
    source,
    np.asarray(official),
    classes,
    cfg,
    info,
    hashes=hashes,
  )
