# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Loaders on folders, CSVs and .npz files generated in temp dirs."""

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from xaijax import data


def write_image(path, size=(40, 30), mode="RGB", seed=0, fmt=None):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  rng = np.random.default_rng([seed, len(str(path))])
  if mode in ("I;16",):
    a = rng.integers(0, 4096, (size[1], size[0]), dtype=np.uint16)
    Image.fromarray(a).save(path)
    return
  c = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
  a = rng.integers(0, 256, (size[1], size[0], c), dtype=np.uint8)
  Image.fromarray(a[..., 0] if c == 1 else a, mode).save(path, format=fmt)


def make_tree(root, spec, ext=".jpg", size=(40, 30)):
  """spec: {relative class folder: number of images}."""
  k = 0
  for folder, n in spec.items():
    for i in range(n):
      k += 1
      write_image(os.path.join(root, folder, f"img_{i:03d}{ext}"), size, seed=k)


def cfg(name, root, **kw):
  c = data.default_config()
  c.name = name
  c.root = str(root)
  c.image_size = 32
  c.batch_size = 4
  c.val_fraction = 0.25
  for k, v in kw.items():
    c[k] = v
  return c


def test_brain_older_naming(tmp_path):
  old = ("glioma_tumor", "meningioma_tumor", "no_tumor", "pituitary_tumor")
  spec = {f"{s}/{c}": 4 for s in ("Training", "Testing") for c in old}
  make_tree(tmp_path / "archive", spec)
  ds = data.load(cfg("brain_mri", tmp_path))
  assert ds.class_names == ("glioma", "meningioma", "notumor", "pituitary")
  np.testing.assert_array_equal(ds.test.class_counts(), [4, 4, 4, 4])
  assert len(ds.train) + len(ds.val) == 16
  assert next(data.train_batches(ds.train))["image"].shape == (4, 32, 32, 3)


def test_chest_three_class_nested_and_patients(tmp_path):
  root = tmp_path / "Data"
  for split, n in (("train", 6), ("test", 2)):
    for c in ("COVID19", "NORMAL", "PNEUMONIA"):
      make_tree(root, {f"{split}/{c}": n})
  # Kermany-style names: three images of each patient.
  for p in range(6):
    for j in range(3):
      write_image(
        root / "train/PNEUMONIA" / f"person{p}_virus_{j}.jpeg", seed=p * 9 + j
      )
      write_image(
        root / "train/NORMAL" / f"IM-00{p}1-000{j}.jpeg", seed=99 + p * 9 + j
      )
  ds = data.load(cfg("chest_xray", tmp_path, val_fraction=0.3))
  assert ds.class_names == ("COVID19", "NORMAL", "PNEUMONIA")
  assert (
    data.group_key("chest_xray", "train/PNEUMONIA/person12_bacteria_3.jpeg")
    == "person12"
  )
  assert (
    data.group_key("chest_xray", "x/NORMAL2-IM-1427-0001.jpeg")
    == "NORMAL2-IM-1427"
  )
  assert not set(ds.train.groups) & set(ds.val.groups)
  assert any(g.startswith("person") for g in ds.val.groups)


def test_skin_benign_malignant(tmp_path):
  make_tree(
    tmp_path,
    {f"{s}/{c}": 5 for s in ("train", "test") for c in ("benign", "malignant")},
    ext=".png",
  )
  ds = data.load(cfg("skin", tmp_path))
  assert ds.class_names == ("benign", "malignant")
  assert len(ds.test) == 10


def _ham(root, n_lesions=12, per_lesion=3):
  rows = []
  dx = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
  k = 0
  for lesion in range(n_lesions):
    for _ in range(per_lesion):
      part = "HAM10000_images_part_1" if k % 2 else "HAM10000_images_part_2"
      image_id = f"ISIC_{k:07d}"
      write_image(root / part / f"{image_id}.jpg", seed=k)
      rows.append(
        {
          "lesion_id": f"HAM_{lesion:07d}",
          "image_id": image_id,
          "dx": dx[lesion % 7],
          "dx_type": "histo",
          "age": "50.0",
          "sex": "male",
          "localization": "back",
        }
      )
      k += 1
  with open(root / "HAM10000_metadata.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
  return rows


def test_ham10000_lesions_never_span_splits(tmp_path):
  _ham(tmp_path, n_lesions=28)
  for name in ("ham10000", "skin"):
    ds = data.load(cfg(name, tmp_path, test_fraction=0.25))
    assert ds.class_names == ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
    assert sum(len(s) for s in ds.splits.values()) == 84
    groups = [set(s.groups) for s in ds.splits.values()]
    assert not (
      groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2]
    )
    assert all(len(s) % 3 == 0 for s in ds.splits.values())
  ds = data.load(cfg("ham10000", tmp_path, grouping="benign_malignant"))
  assert ds.class_names == ("benign", "malignant")
  # akiec, bcc, mel -> malignant: lesions 0, 1, 4 of every 7.
  total = sum(s.class_counts() for s in ds.splits.values())
  np.testing.assert_array_equal(total, [48, 36])


def test_ham10000_missing_image_and_bad_dx(tmp_path):
  rows = _ham(tmp_path, n_lesions=7, per_lesion=1)
  os.remove(tmp_path / "HAM10000_images_part_2" / f"{rows[0]['image_id']}.jpg")
  with pytest.raises(data.DataError, match=r"1 image.*not found.*ISIC_0000000"):
    data.load(cfg("ham10000", tmp_path))
  rows[0]["dx"] = "xyz"
  _ham(tmp_path, n_lesions=7, per_lesion=1)
  with open(tmp_path / "HAM10000_metadata.csv", "a") as f:
    f.write("HAM_9,ISIC_0000001,xyz,histo,1,male,back\n")
  with pytest.raises(data.DataError, match=r"unknown dx.*xyz"):
    data.load(cfg("ham10000", tmp_path))


@pytest.mark.parametrize("compressed", [False, True])
def test_medmnist_npz_rgb_64(tmp_path, compressed, monkeypatch):
  from xaijax.data import medmnist

  rng = np.random.default_rng(0)
  arrays = {}
  for split, n in (("train", 14), ("val", 7), ("test", 7)):
    arrays[f"{split}_images"] = rng.integers(
      0, 256, (n, 64, 64, 3), dtype=np.uint8
    )
    arrays[f"{split}_labels"] = (
      (np.arange(n) % 7).reshape(n, 1).astype(np.uint8)
    )
  path = tmp_path / "dermamnist_64.npz"
  (np.savez_compressed if compressed else np.savez)(path, **arrays)
  # Force the cache-file path for the compressed case.
  monkeypatch.setattr(medmnist, "IN_MEMORY_LIMIT", 0)
  monkeypatch.setenv("TMPDIR", str(tmp_path / "cache"))
  import tempfile

  monkeypatch.setattr(tempfile, "tempdir", None)
  ds = data.load(cfg("medmnist", path))
  assert ds.num_classes == 7 and ds.class_names[4] == "melanoma"
  assert (len(ds.train), len(ds.val), len(ds.test)) == (14, 7, 7)
  assert isinstance(ds.train.source.arrays[0], np.memmap)
  raw, _ = ds.val.raw(3)
  np.testing.assert_array_equal(raw, arrays["val_images"][3])
  # a folder holding exactly one .npz is accepted too
  ds2 = data.load(cfg("medmnist", tmp_path))
  assert len(ds2.test) == 7


def test_medmnist_bad_files(tmp_path):
  np.savez(
    tmp_path / "chestmnist.npz",
    train_images=np.zeros((2, 28, 28), np.uint8),
    train_labels=np.zeros((2, 14)),
    val_images=np.zeros((2, 28, 28), np.uint8),
    val_labels=np.zeros((2, 14)),
    test_images=np.zeros((2, 28, 28), np.uint8),
    test_labels=np.zeros((2, 14)),
  )
  with pytest.raises(data.DataError, match="multi-label"):
    data.load(cfg("medmnist", tmp_path / "chestmnist.npz"))
  np.savez(tmp_path / "x.npz", train_images=np.zeros((2, 28, 28), np.uint8))
  with pytest.raises(
    data.DataError, match=r"(?s)lacks array.*train_labels.*Zenodo"
  ):
    data.load(cfg("medmnist", tmp_path / "x.npz"))
  (tmp_path / "y.npz").write_bytes(b"not a zip")
  with pytest.raises(data.DataError, match="not a readable"):
    data.load(cfg("medmnist", tmp_path / "y.npz"))


def test_generic_folder_without_splits(tmp_path):
  make_tree(tmp_path, {"cats": 10, "dogs": 10})
  ds = data.load(cfg("folder", tmp_path, test_fraction=0.2))
  assert ds.class_names == ("cats", "dogs")
  np.testing.assert_array_equal(ds.test.class_counts(), [2, 2])


def test_split_record_lists_members_and_hash(tmp_path):
  make_tree(tmp_path / "d", {"a": 6, "b": 6})
  ds = data.load(cfg("folder", tmp_path / "d"), str(tmp_path / "wd"))
  rec = json.loads(Path(tmp_path / "wd" / "data_splits.json").read_text())
  members = [m[0] for s in rec["splits"].values() for m in s["members"]]
  assert sorted(members) == sorted(ds.train.ids + ds.val.ids + ds.test.ids)
  assert len(rec["splits"]["train"]["sha256"]) == 64
