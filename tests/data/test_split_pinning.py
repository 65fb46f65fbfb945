# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Pins split membership and the batch stream to values from before a
refactor.

Why literal values are legitimate here: this test guards a refactor of
xaijax/data (issue 17: one concept per file) that must not change which
image lands in which split, nor the batches. The numbers below were computed
by the code as it stood before that refactor (commit 329792f) on the layouts
generated here; a resumed run compares the same split hashes
(`data_splits.json`), so a change here would make every existing workdir
refuse to resume. If a later change is MEANT to move images between splits,
recompute the values and say so in the commit.

What is pinned: the first 16 hex digits of each split's record hash (sha256
over "id<TAB>label" lines, so membership, order and labels), for the
synthetic set and one generated tree per layout, covering official splits,
seeded hold-outs, k-fold, `limit`, patient and lesion groups and a
byte-identical copy; and the indices, labels and image statistics of a few
training batches.
"""

import csv
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from xaijax import data
from xaijax.data import record


def _image(path, seed):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  rng = np.random.default_rng(seed)
  a = rng.integers(0, 256, (12, 10, 3), dtype=np.uint8)
  Image.fromarray(a).save(path, format="PNG")


def _layouts(root):
  """One small tree per layout; the seeds make every file distinct."""
  k = 0
  # brain_mri: official Training/ and Testing/, plus a byte-identical copy
  # inside Training/ (grouped with its original).
  for split, n in (("Training", 7), ("Testing", 2)):
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
      for i in range(n):
        k += 1
        _image(os.path.join(root, "brain", split, c, f"{c[:2]}_{i:02d}.png"), k)
  shutil.copy(
    os.path.join(root, "brain", "Training", "glioma", "gl_00.png"),
    os.path.join(root, "brain", "Training", "glioma", "zz_copy.png"),
  )
  # chest_xray: three images per patient, official train/test.
  for split, n in (("train", 5), ("test", 1)):
    for p in range(n):
      for j in range(3):
        k += 1
        _image(
          os.path.join(
            root, "chest", split, "PNEUMONIA", f"person{p}_virus_{j}.jpeg"
          ),
          k,
        )
        k += 1
        _image(
          os.path.join(
            root, "chest", split, "NORMAL", f"IM-00{p}1-000{j}.jpeg"
          ),
          k,
        )
  # folder: class folders only (one pool, split by seed).
  for c in ("cats", "dogs", "owls"):
    for i in range(9):
      k += 1
      _image(os.path.join(root, "folder", c, f"{i}.png"), k)
  # ham10000: lesions of 1..3 images.
  rows = []
  dx = ("akiec", "bcc", "bkl", "df", "mel", "nv", "vasc")
  for lesion in range(21):
    for _ in range(lesion % 3 + 1):
      k += 1
      image_id = f"ISIC_{k:07d}"
      _image(os.path.join(root, "ham", "part_1", f"{image_id}.jpg"), k)
      rows.append(
        {
          "lesion_id": f"HAM_{lesion:07d}",
          "image_id": image_id,
          "dx": dx[lesion % 7],
        }
      )
  with open(os.path.join(root, "ham", "HAM10000_metadata.csv"), "w") as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
  # medmnist: official splits, two identical training images.
  rng = np.random.default_rng(7)
  arrays = {}
  for split, n in (("train", 20), ("val", 6), ("test", 6)):
    arrays[f"{split}_images"] = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
    arrays[f"{split}_labels"] = (np.arange(n) % 2).reshape(n, 1)
  arrays["train_images"][5] = arrays["train_images"][11]
  np.savez(os.path.join(root, "pneumoniamnist.npz"), **arrays)


# case: (data.name, folder under the generated root, config overrides,
#        {split: record hash prefix}, (train, val, test) sizes)
PINNED = {
  "synthetic": (
    "synthetic",
    "",
    {},
    ("5695de4c40b31963", "a05dc0ba5cfa8dae", "eb3e7a65dfa953ae"),
    (33, 3, 9),
  ),
  "synthetic_kfold": (
    "synthetic",
    "",
    {"num_folds": 3, "fold": 1},
    ("14ec14e79ab23341", "26f869385772c2bc", "eb3e7a65dfa953ae"),
    (24, 12, 9),
  ),
  "synthetic_limit": (
    "synthetic",
    "",
    {"limit": 7, "seed": 3},
    ("d1b1eba3cf049e8c", "25e3ae86dd35ba26", "c6038a4e4a437409"),
    (6, 3, 6),
  ),
  "brain": (
    "brain_mri",
    "brain",
    {},
    ("d9f2c93d62c94bfc", "1dfdde402ae2faae", "b11757f5a36f0d3e"),
    (25, 4, 8),
  ),
  "brain_kfold": (
    "brain_mri",
    "brain",
    {"num_folds": 4, "fold": 2},
    ("1897690a0c5c1624", "f0c2ea553058bd73", "b11757f5a36f0d3e"),
    (21, 8, 8),
  ),
  "chest": (
    "chest_xray",
    "chest",
    {"val_fraction": 0.3},
    ("e41cbb6341910720", "71e5e8ba1de650a3", "fa27d633c1ceada5"),
    (24, 6, 6),
  ),
  "folder": (
    "folder",
    "folder",
    {"seed": 5},
    ("764bb4c699cdf503", "a97c15ae155a3b17", "40d7e51091bb6c5d"),
    (18, 3, 6),
  ),
  "ham": (
    "ham10000",
    "ham",
    {"test_fraction": 0.25},
    ("a465aa32932e68e1", "e3b0c44298fc1c14", "e2928409677f86d2"),
    (35, 0, 7),
  ),
  "ham_benign_malignant": (
    "skin",
    "ham",
    {"grouping": "benign_malignant"},
    ("e438944805f66fc1", "21d0bb5b66cf789c", "7b06e0a6e6d6df8f"),
    (30, 3, 9),
  ),
  "medmnist_kfold": (
    "medmnist",
    "pneumoniamnist.npz",
    {"num_folds": 3, "fold": 0},
    ("1ed4257b56fbf26d", "52a52a049fa96aae", "82123105de7539bc"),
    (12, 14, 6),
  ),
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
  root = tmp_path_factory.mktemp("layouts")
  _layouts(str(root))
  return root


def _config(name, root, overrides):
  c = data.default_config()
  c.name = name
  c.root = str(root)
  c.image_size = 16
  c.batch_size = 4
  c.synthetic.num_images = 45
  c.synthetic.num_classes = 3
  for k, v in overrides.items():
    c[k] = v
  return c


@pytest.mark.parametrize("case", sorted(PINNED))
def test_split_membership_is_unchanged(generated, case):
  name, folder, overrides, hashes, sizes = PINNED[case]
  root = generated / folder if folder else ""
  ds = data.load(_config(name, root, overrides))
  got = tuple(
    record.split_hash(ds.splits[s])[:16] for s in ("train", "val", "test")
  )
  assert tuple(len(ds.splits[s]) for s in ("train", "val", "test")) == sizes
  assert got == hashes


def test_batches_are_unchanged():
  ds = data.load(_config("synthetic", "", {}))
  it = data.train_batches(ds.train, start_step=7)
  batches = [next(it) for _ in range(3)]
  it.close()
  np.testing.assert_array_equal(
    [b["index"] for b in batches],
    [[20, 3, 22, 27], [10, 23, 26, 17], [7, 20, 31, 30]],
  )
  np.testing.assert_array_equal(
    [b["label"] for b in batches], [[2, 1, 1, 2], [1, 2, 2, 1], [0, 2, 0, 1]]
  )
  # The augmentation draw shows in the pixels. Tolerance: the synthetic
  # images are float math rounded to uint8, and another CPU's vector code
  # may round a pixel the other way; one such flip moves a 16x16x3 image's
  # normalised mean by about 1 / (255 * 0.225 * 768) ~ 2e-5, so 1e-3 allows
  # ~50 flips yet fails on a different augmentation (brightness alone moves
  # the mean by up to 0.1 / 0.225).
  x = batches[0]["image"]
  np.testing.assert_allclose(
    x.mean((1, 2, 3)), [-0.9351, -0.7129, -0.8491, -0.7275], atol=1e-3
  )
  np.testing.assert_allclose(
    x.std((1, 2, 3)), [0.9820, 0.8278, 0.8372, 0.9709], atol=1e-3
  )
  np.testing.assert_array_equal(
    batches[0]["lesion_mask"].sum((1, 2)), [6, 8, 8, 10]
  )
  e = next(data.eval_batches(ds.test, batch_size=4))
  np.testing.assert_allclose(
    e["image"].mean((1, 2, 3)), [-0.8153, -0.8172, -0.8620, -0.8553], atol=1e-3
  )
