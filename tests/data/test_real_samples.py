# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The loaders on the real samples in ../shared/data (see its MANIFEST.md).

Each test lists and header-checks the whole tree (cheap) but decodes only a
few images; all skip with a message where ../shared/data is absent.
"""

import json
import os
from pathlib import Path

import numpy as np

from tests.data.conftest import shared_path
from xaijax import data


def _cfg(name, root, **kw):
  c = data.default_config()
  c.name = name
  c.root = root
  c.image_size = 64
  c.batch_size = 4
  for k, v in kw.items():
    c[k] = v
  return c


def test_brain_mri_kaggle_testing():
  root = shared_path("brain_mri", "kaggle_testing")
  ds = data.load(_cfg("brain_mri", root))
  assert ds.class_names == ("glioma", "meningioma", "notumor", "pituitary")
  counts = sum(s.class_counts() for s in ds.splits.values())
  np.testing.assert_array_equal(counts, [300, 306, 405, 300])
  # Only Testing/ is there: it is split by seed, stratified.
  assert any("no training split" in n for n in ds.findings.notes)
  frac = ds.test.class_counts() / counts
  np.testing.assert_allclose(frac, 0.2, atol=0.01)
  # Grayscale JPEGs of mixed sizes -> 3 equal channels at 64 px.
  sizes = set()
  for i in range(3):
    raw, _ = ds.test.raw(i)
    sizes.add(raw.shape[:2])
    np.testing.assert_array_equal(raw[..., 0], raw[..., 2])
  ex = ds.test.example(0)
  assert ex["image"].shape == (64, 64, 3) and np.isfinite(ex["image"]).all()


def test_brain_mri_non_square_image_is_resized():
  root = shared_path("brain_mri", "kaggle_testing")
  ds = data.load(_cfg("brain_mri", root, check_duplicates=False, resize="pad"))
  from PIL import Image

  for split in ds.splits.values():
    for i, rel in enumerate(split.ids[:200]):
      with Image.open(os.path.join(root, rel)) as im:
        if im.size[0] != im.size[1]:
          ex = split.example(i)
          assert ex["image"].shape == (64, 64, 3)
          # Padding: the border rows/cols of the short side are zeros
          # before normalisation, i.e. -mean/std after it.
          pad = -np.array(data.IMAGENET_MEAN) / np.array(data.IMAGENET_STD)
          border = np.concatenate([ex["image"][0], ex["image"][:, 0]])
          assert np.isclose(border, pad, atol=1e-5).all(-1).any()
          return
  raise AssertionError("no non-square image in the first 200 of each split")


def test_chest_xray_kermany_grouped_by_patient(tmp_path):
  root = shared_path("chest_xray", "kermany_224")
  ds = data.load(_cfg("chest_xray", root), str(tmp_path))
  assert ds.class_names == ("NORMAL", "PNEUMONIA")
  np.testing.assert_array_equal(ds.test.class_counts(), [234, 390])
  np.testing.assert_array_equal(
    ds.train.class_counts() + ds.val.class_counts(), [1341, 3875]
  )
  # Patients never straddle train and validation.
  train_p, val_p = set(ds.train.groups), set(ds.val.groups)
  assert not train_p & val_p
  assert len(val_p) > 50 and any(p.startswith("person") for p in val_p)
  assert abs(len(ds.val) / (len(ds.train) + len(ds.val)) - 0.1) < 0.02
  rec = json.loads(Path(tmp_path / "data_splits.json").read_text())
  assert rec["splits"]["test"]["count"] == 624
  b = next(data.eval_batches(ds.test))
  assert b["image"].shape == (4, 64, 64, 3)


def test_chest_xray_kfold_by_patient():
  root = shared_path("chest_xray", "kermany_224")
  vals = []
  for fold in range(3):
    c = _cfg("chest_xray", root, num_folds=3, fold=fold, check_duplicates=False)
    c.verify = "none"
    ds = data.load(c)
    assert not set(ds.train.groups) & set(ds.val.groups)
    vals.append(set(ds.val.ids))
  assert not (vals[0] & vals[1] or vals[0] & vals[2] or vals[1] & vals[2])
  assert sum(map(len, vals)) == 1341 + 3875


def test_skin_isic_9_class_with_spaces_and_duplicates(tmp_path):
  root = shared_path("skin")
  ds = data.load(_cfg("skin", root), str(tmp_path))
  assert ds.num_classes == 9 and ds.class_names[0] == "actinic keratosis"
  np.testing.assert_array_equal(
    ds.train.class_counts() + ds.val.class_counts(),
    [114, 378, 95, 438, 357, 462, 77, 181, 139],
  )
  assert len(ds.test) == 118
  # This copy of the set has byte-identical files across Train and Test
  # (and across classes): they are found and written to the split record.
  assert ds.findings.duplicates and ds.findings.label_conflicts
  rec = json.loads(Path(tmp_path / "data_splits.json").read_text())
  assert len(rec["duplicates"]) == len(ds.findings.duplicates)
  raw, _ = ds.test.raw(0)
  assert raw.shape == (90, 90, 3)  # libjpeg's 1/2 scale, still >= 64 px
  ds.test.source.draft = False
  raw, _ = ds.test.raw(0)
  assert raw.shape == (180, 180, 3)


def test_skin_isic_benign_malignant():
  root = shared_path("skin")
  ds = data.load(_cfg("skin", root, grouping="benign_malignant"))
  assert ds.class_names == ("benign", "malignant")
  total = sum(s.class_counts() for s in ds.splits.values())
  # malignant = melanoma + basal cell + squamous cell carcinoma
  np.testing.assert_array_equal(
    total, [114 + 95 + 357 + 462 + 77 + 139 + 16 * 4 + 6, 438 + 378 + 181 + 48]
  )


def test_pneumoniamnist_npz():
  root = shared_path("chest_xray", "pneumoniamnist.npz")
  ds = data.load(_cfg("medmnist", root))
  assert ds.class_names == ("normal", "pneumonia")
  assert (len(ds.train), len(ds.val), len(ds.test)) == (2428, 270, 468)
  np.testing.assert_array_equal(ds.val.class_counts(), [135, 135])
  assert isinstance(ds.train.source.arrays[0], np.memmap)
  b = next(data.train_batches(ds.train))
  assert b["image"].shape == (4, 64, 64, 3)
