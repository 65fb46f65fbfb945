# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pathology layouts: Kather 2016, NCT-CRC-HE, BreakHis, PCam, PathMNIST.

Real TIFF tiles (PackBits) through the `shared_data` fixture; BreakHis,
PCam and PathMNIST layouts generated in tmp_path.
"""

import os
import shutil

import h5py
import numpy as np
import pytest
from PIL import Image

from xaijax import data
from xaijax.data import layouts
from xaijax.data.layouts import pathology

NCT = ("ADI", "BACK", "DEB", "LYM", "MUC", "MUS", "NORM", "STR", "TUM")


def _cfg(name, root, **kw):
  c = data.default_config()
  c.name = name
  c.root = str(root)
  c.image_size = 32
  c.batch_size = 4
  for k, v in kw.items():
    c[k] = v
  return c


def _tile(path, seed, size=24, fmt=None):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  rng = np.random.default_rng(seed)
  a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
  Image.fromarray(a).save(path, format=fmt)


# ---------------------------------------------------------------------------
# Real tiles (../shared/data/pathology).
# ---------------------------------------------------------------------------


def test_real_kather_2016_tiles(shared_data):
  root = shared_data / "pathology" / "kather_texture_2016"
  ds = data.load(_cfg("kather_texture_2016", root, test_fraction=0.34))
  assert ds.class_names == pathology.KATHER_2016.classes
  total = sum(s.class_counts() for s in ds.splits.values())
  np.testing.assert_array_equal(total, [3] * 8)
  raw, _ = ds.test.raw(0)
  assert raw.shape == (150, 150, 3) and raw.dtype == np.uint8
  # Tiles are grouped by the image they were cut from.
  assert data.group_key(
    "kather_texture_2016",
    "01_TUMOR/1A11_CRC-Prim-HE-07_022.tif_Row_601_Col_151.tif",
  ) == ("CRC-Prim-HE-07_022.tif")
  ex = ds.train.example(0)
  assert ex["image"].shape == (32, 32, 3) and np.isfinite(ex["image"]).all()


def test_real_nct_crc_he_tiles(shared_data, tmp_path):
  root = shared_data / "pathology" / "nct_crc_he_100k"
  ds = data.load(_cfg("nct_crc_he", root, test_fraction=0.0, val_fraction=0.0))
  assert ds.class_names == NCT and len(ds.train) == 9
  raw, _ = ds.train.raw(0)
  assert raw.shape == (224, 224, 3)
  # The published pair of folders: NCT-CRC-HE-100K is train, CRC-VAL-HE-7K
  # is test (here the same nine tiles twice, enough for the layout).
  shutil.copytree(root, tmp_path / "NCT-CRC-HE-100K")
  shutil.copytree(root, tmp_path / "CRC-VAL-HE-7K")
  ds = data.load(_cfg("nct_crc_he", tmp_path, val_fraction=0.0))
  assert (len(ds.train), len(ds.test)) == (9, 9)
  assert all(i.startswith("CRC-VAL-HE-7K") for i in ds.test.ids)


# ---------------------------------------------------------------------------
# BreakHis (generated).
# ---------------------------------------------------------------------------


def _breakhis(root, patients=2, mags=("40X", "100X"), per=2):
  """BreaKHis_v1/histology_slides/breast/<kind>/SOB/<subtype>/<patient>/
  <mag>/<file>.png, `patients` per subtype."""
  top = root / "BreaKHis_v1" / "histology_slides" / "breast"
  k = 0
  for label, sub in enumerate(pathology.BREAKHIS_SUBTYPES):
    kind = "malignant" if sub in pathology.BREAKHIS_MALIGNANT else "benign"
    code = "".join(w[0] for w in sub.split("_")).upper()
    for p in range(patients):
      slide = f"14-{label}{p:02d}AB"
      folder = f"SOB_{kind[0].upper()}_{code}_{slide}"
      for mag in mags:
        for i in range(per):
          k += 1
          name = f"SOB_{kind[0].upper()}_{code}-{slide}-{mag[:-1]}-{i:03d}.png"
          _tile(str(top / kind / "SOB" / sub / folder / mag / name), k)
  return top


def test_breakhis_subtypes_patients_and_magnification(tmp_path):
  _breakhis(tmp_path, patients=3)
  ds = data.load(_cfg("breakhis", tmp_path, val_fraction=0.2))
  assert ds.class_names == pathology.BREAKHIS_SUBTYPES
  total = sum(s.class_counts() for s in ds.splits.values())
  np.testing.assert_array_equal(total, [3 * 2 * 2] * 8)
  # Split by patient: no slide in two splits.
  groups = [set(s.groups) for s in ds.splits.values()]
  assert not (groups[0] & groups[1] or groups[0] & groups[2])
  assert not groups[1] & groups[2]
  assert pathology.breakhis_patient("SOB_M_DC_14-13412") == "14-13412"
  # One magnification only.
  c = _cfg("breakhis", tmp_path)
  c.breakhis.magnification = "100X"
  ds = data.load(c)
  ids = [i for s in ds.splits.values() for i in s.ids]
  assert len(ids) == 8 * 3 * 2 and all("/100X/" in i for i in ids)
  # Benign / malignant.
  ds = data.load(_cfg("breakhis", tmp_path, grouping="benign_malignant"))
  assert ds.class_names == ("benign", "malignant")
  total = sum(s.class_counts() for s in ds.splits.values())
  np.testing.assert_array_equal(total, [48, 48])


def test_breakhis_bad_input(tmp_path):
  with pytest.raises(data.DataError, match=r"(?s)does not exist.*BreakHis"):
    data.load(_cfg("breakhis", tmp_path / "nowhere"))
  (tmp_path / "empty").mkdir()
  with pytest.raises(data.DataError, match="No folder with benign/ and"):
    data.load(_cfg("breakhis", tmp_path / "empty"))
  top = _breakhis(tmp_path / "a", patients=1)
  c = _cfg("breakhis", tmp_path / "a")
  c.breakhis.magnification = "50X"
  with pytest.raises(data.DataError, match=r"magnification.*40X, 100X"):
    data.load(c)
  # An empty subtype folder.
  shutil.rmtree(top / "benign" / "SOB" / "adenosis")
  os.makedirs(top / "benign" / "SOB" / "adenosis")
  with pytest.raises(data.DataError, match=r"No images of subtype.*adenosis"):
    data.load(_cfg("breakhis", tmp_path / "a"))
  # An image outside any magnification folder.
  top = _breakhis(tmp_path / "b", patients=1)
  _tile(str(top / "malignant" / "SOB" / "ductal_carcinoma" / "stray.png"), 1)
  with pytest.raises(data.DataError, match=r"1 image.*not at.*stray.png"):
    data.load(_cfg("breakhis", tmp_path / "b"))
  # A corrupt file.
  top = _breakhis(tmp_path / "c", patients=1)
  bad = next((top / "benign").rglob("*.png"))
  bad.write_bytes(b"\x89PNG nothing")
  with pytest.raises(data.DataError, match=r"(?s)1 corrupt.*" + bad.name):
    data.load(_cfg("breakhis", tmp_path / "c"))


# ---------------------------------------------------------------------------
# PatchCamelyon (generated HDF5).
# ---------------------------------------------------------------------------


def _pcam(root, sizes=(8, 4, 4)):
  rng = np.random.default_rng(0)
  arrays = {}
  for split, n in zip(pathology.PCAM_SPLITS, sizes, strict=True):
    x = rng.integers(0, 256, (n, 96, 96, 3), dtype=np.uint8)
    y = (np.arange(n) % 2).astype(np.uint8).reshape(n, 1, 1, 1)
    arrays[split] = (x, y)
    for xy, a in (("x", x), ("y", y)):
      name = pathology.PCAM_FILE.format(split=split, xy=xy)
      with h5py.File(root / name, "w") as f:
        f.create_dataset(xy, data=a)
  return arrays


def test_pcam_official_splits_read_lazily(tmp_path):
  arrays = _pcam(tmp_path)
  ds = data.load(_cfg("pcam", tmp_path))
  assert ds.class_names == ("normal", "tumor")
  assert (len(ds.train), len(ds.val), len(ds.test)) == (8, 4, 4)
  raw, _ = ds.val.raw(3)
  np.testing.assert_array_equal(raw, arrays["valid"][0][3])
  np.testing.assert_array_equal(ds.test.labels, [0, 1, 0, 1])
  b = next(data.train_batches(ds.train))
  assert b["image"].shape == (4, 32, 32, 3)


def test_pcam_bad_input(tmp_path):
  _pcam(tmp_path)
  name = pathology.PCAM_FILE.format(split="test", xy="y")
  os.rename(tmp_path / name, tmp_path / (name + ".gz"))
  with pytest.raises(data.DataError, match=r"lacks .*test_y.h5.*gunzip"):
    data.load(_cfg("pcam", tmp_path))
  (tmp_path / name).write_bytes(b"not hdf5")
  with pytest.raises(data.DataError, match=r"not PatchCamelyon HDF5"):
    data.load(_cfg("pcam", tmp_path))


# ---------------------------------------------------------------------------
# PathMNIST (the MedMNIST layout, one flag).
# ---------------------------------------------------------------------------


def test_pathmnist(tmp_path):
  rng = np.random.default_rng(0)
  arrays = {}
  for split, n in (("train", 18), ("val", 9), ("test", 9)):
    arrays[f"{split}_images"] = rng.integers(
      0, 256, (n, 28, 28, 3), dtype=np.uint8
    )
    arrays[f"{split}_labels"] = (np.arange(n) % 9).reshape(n, 1)
  np.savez(tmp_path / "pathmnist.npz", **arrays)
  ds = data.load(_cfg("pathmnist", tmp_path))
  assert ds.class_names[0] == "adipose" and ds.num_classes == 9
  assert (len(ds.train), len(ds.val), len(ds.test)) == (18, 9, 9)
  (tmp_path / "d").mkdir()
  np.savez(tmp_path / "d" / "dermamnist.npz", **arrays)
  with pytest.raises(data.DataError, match=r"not a pathmnist file"):
    data.load(_cfg("pathmnist", tmp_path / "d" / "dermamnist.npz"))
  with pytest.raises(data.DataError, match=r"holds 0 pathmnist"):
    data.load(_cfg("pathmnist", tmp_path / "d"))


@pytest.mark.parametrize(
  "name", ["kather_texture_2016", "nct_crc_he", "pcam", "pathmnist"]
)
def test_missing_root(tmp_path, name):
  with pytest.raises(data.DataError) as e:
    data.load(_cfg(name, tmp_path / "nowhere"))
  msg = str(e.value)
  assert str(tmp_path / "nowhere") in msg and "Published as" in msg


# Pillow warns while it fails to read the cut TIFF; the failure is the test.
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize("name", ["kather_texture_2016", "nct_crc_he"])
def test_empty_class_folder_and_corrupt_tile(tmp_path, name):
  classes = layouts.LAYOUTS[name].classes
  for k, c in enumerate(classes):
    for i in range(3):
      _tile(str(tmp_path / c / f"{c}-{i}.tif"), 10 * k + i, fmt="TIFF")
  bad = tmp_path / classes[0] / f"{classes[0]}-0.tif"
  bad.write_bytes(b"II*\x00 cut")
  with pytest.raises(data.DataError, match=r"(?s)1 corrupt.*" + bad.name):
    data.load(_cfg(name, tmp_path))
  shutil.rmtree(tmp_path / classes[1])
  os.makedirs(tmp_path / classes[1])
  with pytest.raises(data.DataError, match=f"{classes[1]} has no image"):
    data.load(_cfg(name, tmp_path))
