# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""MedMNIST `.npz` files (any flag, any size 28/64/128/224), official splits.

The arrays are not loaded whole: members stored uncompressed in the zip
(what `np.savez` writes) are memory-mapped in place; compressed members
(`np.savez_compressed`) larger than 256 MiB are decompressed once into a
cache file under the system temp folder and memory-mapped from there.
Either way an image is read only when a batch needs it.
"""

import dataclasses
import hashlib
import os
import struct
import tempfile
import zipfile

import numpy as np

from xaijax.data.layouts import base
from xaijax.data.sources import ArraySource

SPLITS = ("train", "val", "test")
SOURCE = (
  "MedMNIST v2 (Yang et al., Scientific Data 2023) on Zenodo "
  "(https://zenodo.org/records/10519652, doi:10.5281/zenodo.10519652), "
  "CC BY 4.0"
)
IN_MEMORY_LIMIT = 256 << 20

CLASS_NAMES = {
  "pneumoniamnist": ("normal", "pneumonia"),
  "breastmnist": ("malignant", "normal, benign"),
  "dermamnist": (
    "actinic keratoses and intraepithelial carcinoma",
    "basal cell carcinoma",
    "benign keratosis-like lesions",
    "dermatofibroma",
    "melanoma",
    "melanocytic nevi",
    "vascular lesions",
  ),
  "octmnist": (
    "choroidal neovascularization",
    "diabetic macular edema",
    "drusen",
    "normal",
  ),
  "bloodmnist": (
    "basophil",
    "eosinophil",
    "erythroblast",
    "immature granulocytes",
    "lymphocyte",
    "monocyte",
    "neutrophil",
    "platelet",
  ),
  "pathmnist": (
    "adipose",
    "background",
    "debris",
    "lymphocytes",
    "mucus",
    "smooth muscle",
    "normal colon mucosa",
    "cancer-associated stroma",
    "colorectal adenocarcinoma epithelium",
  ),
}
_ORGAN = (
  "bladder",
  "femur-left",
  "femur-right",
  "heart",
  "kidney-left",
  "kidney-right",
  "liver",
  "lung-left",
  "lung-right",
  "pancreas",
  "spleen",
)
for _f in ("organamnist", "organcmnist", "organsmnist"):
  CLASS_NAMES[_f] = _ORGAN


def _member_array(path: str, zf: zipfile.ZipFile, key: str):
  """The array `key` of an npz: a read-only memmap where possible."""
  name = key + ".npy"
  zi = zf.getinfo(name)
  with zf.open(zi) as f:
    version = np.lib.format.read_magic(f)
    read_header = (
      np.lib.format.read_array_header_1_0
      if version == (1, 0)
      else np.lib.format.read_array_header_2_0
    )
    shape, fortran, dtype = read_header(f)
    npy_header = f.tell() if zi.compress_type == zipfile.ZIP_STORED else None
  if fortran or dtype.hasobject:
    return np.load(path)[key]
  nbytes = int(np.prod(shape)) * dtype.itemsize
  if zi.compress_type == zipfile.ZIP_STORED:
    with open(path, "rb") as raw:
      raw.seek(zi.header_offset)
      local = raw.read(30)
      n_name, n_extra = struct.unpack("<HH", local[26:30])
    offset = zi.header_offset + 30 + n_name + n_extra + npy_header
    return np.memmap(path, dtype, "r", offset=offset, shape=shape)
  if nbytes <= IN_MEMORY_LIMIT:
    with zf.open(zi) as f:
      return np.lib.format.read_array(f)
  # One cache folder per file version (path, size and modification time).
  st = os.stat(path)
  tag = hashlib.sha256(
    f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}".encode()
  ).hexdigest()[:16]
  cache = os.path.join(tempfile.gettempdir(), "xaijax_npz_cache", tag)
  os.makedirs(cache, exist_ok=True)
  out = os.path.join(cache, name)
  if not os.path.exists(out):
    tmp = out + f".{os.getpid()}.tmp"
    with zf.open(zi) as src, open(tmp, "wb") as dst:
      while chunk := src.read(16 << 20):
        dst.write(chunk)
    os.replace(tmp, out)
  return np.load(out, mmap_mode="r")


def flag_of(path: str) -> str:
  """`dermamnist_224.npz` -> `dermamnist`."""
  stem = os.path.splitext(os.path.basename(path))[0].lower()
  return stem.rsplit("_", 1)[0] if stem.rsplit("_", 1)[-1].isdigit() else stem


@dataclasses.dataclass(frozen=True)
class MedMNIST(base.Layout):
  """A MedMNIST `.npz` file and its official train/val/test splits.

  Attributes:
    flag: the one MedMNIST flag this dataset accepts (e.g. `pathmnist`), or
      "" for any.
  """

  flag: str = ""

  def list(self, cfg) -> base.Listing:
    path = self.npz_path(cfg)
    try:
      zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
      raise self.error(f"{path} is not a readable .npz file ({e}).") from e
    with zf:
      keys = {n[:-4] for n in zf.namelist() if n.endswith(".npy")}
      need = [f"{s}_{k}" for s in SPLITS for k in ("images", "labels")]
      missing = [k for k in need if k not in keys]
      if missing:
        raise self.error(
          f"{path} lacks array(s) {', '.join(missing)} (found "
          f"{', '.join(sorted(keys))})."
        )
      images, labels, official, ids = [], [], [], []
      for split in SPLITS:
        im = _member_array(path, zf, f"{split}_images")
        with zf.open(f"{split}_labels.npy") as f:
          lab = np.lib.format.read_array(f)
        if lab.ndim == 2 and lab.shape[1] != 1:
          raise self.error(
            f"{path} is multi-label (labels of shape {lab.shape}, e.g. "
            "ChestMNIST); xaijax trains single-label classifiers."
          )
        if im.ndim not in (3, 4) or len(im) != len(lab):
          raise self.error(
            f"{split}_images has shape {im.shape} and {split}_labels "
            f"{lab.shape}: expected (N, H, W[, C]) images and N labels."
          )
        images.append(im)
        labels.append(lab.reshape(-1).astype(np.int32))
        official += [split] * len(lab)
        ids += [f"npz:{split}:{i}" for i in range(len(lab))]
    flag = flag_of(path)
    k = int(max(lab.max() for lab in labels)) + 1
    names = CLASS_NAMES.get(flag, tuple(f"class_{i}" for i in range(k)))
    if len(names) < k:
      names = tuple(f"class_{i}" for i in range(k))
    return base.Listing(
      name=self.name,
      source=ArraySource(images, np.concatenate(labels), ids),
      official=np.asarray(official),
      class_names=names,
      root=path,
      layout=f"MedMNIST npz ({flag}, {images[0].shape[1]} px)",
      notes=("MedMNIST's official train/val/test splits",),
      official_val=True,
    )

  def npz_path(self, cfg) -> str:
    """The .npz file `cfg.root` names (itself, or the one in a folder)."""
    root = os.path.expanduser(cfg.root)
    if not root:
      raise self.error("data.root is not set: give the .npz file.")
    if os.path.isdir(root):
      npz = sorted(
        f
        for f in os.listdir(root)
        if f.endswith(".npz") and (not self.flag or flag_of(f) == self.flag)
      )
      if len(npz) != 1:
        raise self.error(
          f"{os.path.abspath(root)} holds {len(npz)} "
          f"{self.flag + ' ' if self.flag else ''}.npz files "
          f"({', '.join(npz) or 'none'}); set data.root to one of them."
        )
      root = os.path.join(root, npz[0])
    if not os.path.isfile(root):
      raise self.error(f"MedMNIST file {os.path.abspath(root)} does not exist.")
    if self.flag and flag_of(root) != self.flag:
      raise self.error(
        f"{os.path.abspath(root)} is not a {self.flag} file (its name says "
        f"'{flag_of(root)}')."
      )
    return os.path.abspath(root)


MEDMNIST = MedMNIST(
  name="medmnist",
  expected=(
    "a MedMNIST .npz file (e.g. pneumoniamnist.npz, dermamnist_224.npz) "
    "with arrays train_images, train_labels, val_images, val_labels, "
    "test_images, test_labels; data.root is the file, or a folder holding "
    "exactly one .npz"
  ),
  published=SOURCE,
)
