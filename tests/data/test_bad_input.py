# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every bad-input case of the data issue, each with its own test."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.data.test_generated_layouts import cfg, make_tree, write_image
from xaijax import data

BRAIN = ("glioma", "meningioma", "notumor", "pituitary")


def brain_tree(root, n=3):
  make_tree(
    root, {f"{s}/{c}": n for s in ("Training", "Testing") for c in BRAIN}
  )


@pytest.mark.parametrize(
  ("name", "published"),
  [
    ("brain_mri", "Brain Tumor MRI Dataset.*Nickparvar"),
    ("chest_xray", "Kermany.*Mendeley.*Chest X-Ray Images \\(Pneumonia\\)"),
    (
      "skin",
      "Skin cancer ISIC The International Skin Imaging Collaboration.*HAM10000.*Harvard Dataverse",
    ),
    ("ham10000", "Harvard Dataverse"),
    ("medmnist", "Zenodo"),
  ],
)
def test_missing_root_names_path_layout_and_source(tmp_path, name, published):
  missing = tmp_path / "nowhere" / "chest_xray"
  with pytest.raises(data.DataError) as e:
    data.load(cfg(name, missing))
  msg = str(e.value)
  assert str(missing) in msg
  assert "Expected" in msg and ("ROOT/" in msg or ".npz" in msg)
  assert __import__("re").search(published, msg, flags=__import__("re").S), msg


def test_root_not_set(tmp_path):
  with pytest.raises(data.DataError, match=r"data.root is not set"):
    data.load(cfg("chest_xray", ""))


def test_empty_class_folder(tmp_path):
  brain_tree(tmp_path)
  shutil.rmtree(tmp_path / "Testing" / "pituitary")
  os.makedirs(tmp_path / "Testing" / "pituitary")
  (tmp_path / "Testing" / "pituitary" / "notes.txt").write_text("x")
  with pytest.raises(
    data.DataError, match="Testing/pituitary has no image files"
  ):
    data.load(cfg("brain_mri", tmp_path))


def test_unknown_class_folder(tmp_path):
  brain_tree(tmp_path)
  make_tree(tmp_path, {"Training/astrocytoma": 2})
  with pytest.raises(
    data.DataError,
    match=r"(?s)Unknown class folder.*astrocytoma.*Expected class folders: glioma",
  ):
    data.load(cfg("brain_mri", tmp_path))


def test_missing_class_folder(tmp_path):
  make_tree(
    tmp_path, {f"{s}/{c}": 2 for s in ("train", "test") for c in ("NORMAL",)}
  )
  with pytest.raises(data.DataError, match="PNEUMONIA not found"):
    data.load(cfg("chest_xray", tmp_path))


def _corrupt(tmp_path, n):
  brain_tree(tmp_path)
  for i in range(n):
    (tmp_path / "Training" / "glioma" / f"bad_{i:02d}.jpg").write_bytes(
      b"\xff\xd8garbage"
    )
  (tmp_path / "Training" / "meningioma" / "empty.png").write_bytes(b"")


def test_corrupt_images_stop_and_list_ten(tmp_path):
  _corrupt(tmp_path, 12)
  with pytest.raises(data.DataError) as e:
    data.load(cfg("brain_mri", tmp_path))
  msg = str(e.value)
  assert msg.startswith("13 corrupt")
  assert msg.count("bad_") + msg.count("empty.png") == 10
  assert "and 3 more" in msg and "skip_corrupt=True" in msg


def test_corrupt_images_skipped_and_counted(tmp_path):
  _corrupt(tmp_path, 2)
  ds = data.load(
    cfg("brain_mri", tmp_path, skip_corrupt=True), str(tmp_path / "wd")
  )
  assert ds.findings.corrupt_skipped == 3
  assert sum(len(s) for s in ds.splits.values()) == 24
  rec = json.loads(Path(tmp_path / "wd" / "data_splits.json").read_text())
  assert rec["corrupt_skipped"] == 3 and len(rec["corrupt_files"]) == 3


def test_truncated_image_found_at_decode_or_by_full_verify(tmp_path):
  brain_tree(tmp_path)
  good = tmp_path / "Testing" / "glioma" / "img_000.jpg"
  write_image(good, size=(64, 64))
  raw = good.read_bytes()
  good.write_bytes(raw[: len(raw) // 2])  # header intact, data cut
  ds = data.load(cfg("brain_mri", tmp_path))  # header check passes
  i = ds.test.ids.index(os.path.join("Testing", "glioma", "img_000.jpg"))
  with pytest.raises(
    data.DataError, match=r"(?s)Corrupt.*img_000.jpg.*verify=full"
  ):
    ds.test.example(i)
  with pytest.raises(data.DataError, match="1 corrupt"):
    data.load(cfg("brain_mri", tmp_path, verify="full"))


def test_non_image_files_ignored_and_counted(tmp_path):
  brain_tree(tmp_path)
  (tmp_path / "Training" / "glioma" / "README.txt").write_text("x")
  (tmp_path / "Training" / "glioma" / ".DS_Store").write_bytes(b"\0")
  (tmp_path / "Testing" / "notumor" / "labels.csv").write_text("a,b")
  (tmp_path / "Testing" / "Thumbs.db").write_bytes(b"\0")
  ds = data.load(cfg("brain_mri", tmp_path), str(tmp_path / "wd"))
  assert ds.findings.ignored_files == 4
  assert sum(len(s) for s in ds.splits.values()) == 24
  assert "ignored_files: 4" in ds.summary()
  assert (
    json.loads(Path(tmp_path / "wd" / "data_splits.json").read_text())[
      "ignored_files"
    ]
    == 4
  )


def test_duplicates_across_train_and_test_reported(tmp_path, caplog):
  brain_tree(tmp_path)
  shutil.copy(
    tmp_path / "Training" / "glioma" / "img_001.jpg",
    tmp_path / "Testing" / "glioma" / "copy.jpg",
  )
  ds = data.load(cfg("brain_mri", tmp_path), str(tmp_path / "wd"))
  dup = ds.findings.duplicates
  assert len(dup) == 1
  assert {dup[0].a, dup[0].b} == {
    os.path.join("Training", "glioma", "img_001.jpg"),
    os.path.join("Testing", "glioma", "copy.jpg"),
  }
  assert "leakage" in caplog.text
  rec = json.loads(Path(tmp_path / "wd" / "data_splits.json").read_text())
  assert rec["duplicates"][0]["sha256"] == dup[0].sha256


def test_duplicates_inside_the_pool_stay_together(tmp_path):
  make_tree(tmp_path, {"a": 20, "b": 20})
  for i in range(10):
    shutil.copy(
      tmp_path / "a" / f"img_{i:03d}.jpg", tmp_path / "a" / f"dup_{i}.jpg"
    )
  for seed in range(5):
    ds = data.load(cfg("folder", tmp_path, seed=seed))
    assert not ds.findings.duplicates


def test_class_count_mismatch_with_model_head(tmp_path):
  brain_tree(tmp_path)
  ds = data.load(cfg("brain_mri", tmp_path))
  with pytest.raises(
    data.DataError, match=r"model has 2 outputs.*4 classes.*glioma"
  ):
    data.check_num_classes(ds, 2)
  data.check_num_classes(ds, 4)


def test_bad_settings(tmp_path):
  brain_tree(tmp_path)
  with pytest.raises(data.DataError, match="resize"):
    data.load(cfg("brain_mri", tmp_path, resize="crop")).train.example(0)
  with pytest.raises(data.DataError, match="grouping"):
    data.load(cfg("brain_mri", tmp_path, grouping="benign_malignant"))
  with pytest.raises(data.DataError, match="fold"):
    data.load(cfg("brain_mri", tmp_path, num_folds=3, fold=3))
  with pytest.raises(data.DataError, match="verify"):
    data.load(cfg("brain_mri", tmp_path, verify="yes"))
  ds = data.load(cfg("brain_mri", tmp_path, batch_size=64))
  with pytest.raises(data.DataError, match="fewer than one batch"):
    next(data.train_batches(ds.train))
  np.testing.assert_array_equal(ds.test.class_counts(), [3, 3, 3, 3])
