# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""External validation sets: layouts, label maps, duplicate removal.

Generated trees in tmp_path for every case and bad input; the real samples
(../shared/data/external, through the `shared_data` fixture) for the counts.
"""

import io
import os
import shutil

import jax
import numpy as np
import pytest
from PIL import Image

from xaijax import data
from xaijax.data import external, integrity

PH2_CLASSES = ("common_nevus", "atypical_nevus", "melanoma")


def _pixels(seed, size=(48, 40)):
  """A smooth random image (blobs, not noise: what pHash is made for)."""
  rng = np.random.default_rng(seed)
  small = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
  return np.asarray(Image.fromarray(small).resize(size, Image.BICUBIC))


def _save(path, a, mode="RGB", fmt=None):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  img = Image.fromarray(a)
  if mode != "RGB":
    img = img.convert(mode)
  img.save(path, format=fmt)


def _cfg(name, root, **kw):
  c = data.default_config()
  c.name = name
  c.root = str(root)
  c.image_size = 32
  c.batch_size = 4
  for k, v in kw.items():
    c[k] = v
  return c


def _yes_no(root, n=4):
  """Chakrabarty-like: mixed formats, modes and names."""
  modes = ("RGB", "L", "RGBA", "P")
  for c, seed0 in (("yes", 0), ("no", 100)):
    for i in range(n):
      fmt = "PNG" if i % 2 else "JPEG"
      ext = (".png", ".jpg", ".JPG", ".jpeg")[i % 4]
      mode = modes[i % 4] if fmt == "PNG" else ("RGB", "L")[i % 2]
      _save(
        os.path.join(root, c, f"{c} {i}{ext}"), _pixels(seed0 + i), mode, fmt
      )


def _covid(root, n=3, release=False):
  """NORMAL/ and COVID/; the database's release: images/ and masks/."""
  classes = ("COVID", "Normal", "Lung_Opacity", "Viral Pneumonia")
  for k, c in enumerate(classes if release else ("COVID", "NORMAL")):
    for i in range(n):
      sub = os.path.join(c, "images") if release else c
      _save(os.path.join(root, sub, f"{c}-{i}.png"), _pixels(10 * k + i))
      if release:
        _save(os.path.join(root, c, "masks", f"{c}-{i}.png"), _pixels(999))


def _ph2(root, n=2, size=(40, 30)):
  """images/<class>/ and lesion_masks/<class>/: an ellipse per image."""
  masks = {}
  for k, c in enumerate(PH2_CLASSES):
    for i in range(n):
      name = f"IMD{k}{i:02d}.png"
      _save(os.path.join(root, "images", c, name), _pixels(k * 10 + i, size))
      y, x = np.mgrid[: size[1], : size[0]]
      m = ((x - size[0] / 2) / (6 + i)) ** 2 + ((y - size[1] / 2) / 5) ** 2
      m = np.where(m < 1, 255, 0).astype(np.uint8)
      _save(os.path.join(root, "lesion_masks", c, name), m, "L")
      masks[os.path.join("images", c, name)] = m > 0
  return masks


# ---------------------------------------------------------------------------
# Layouts.
# ---------------------------------------------------------------------------


def test_brain_yes_no_is_a_test_only_set(tmp_path):
  _yes_no(tmp_path)
  ds = data.load(_cfg("brain_mri_yes_no", tmp_path), str(tmp_path / "wd"))
  assert ds.class_names == ("no", "yes")
  assert (len(ds.train), len(ds.val)) == (0, 0)
  np.testing.assert_array_equal(ds.test.class_counts(), [4, 4])
  assert any("external evaluation set" in n for n in ds.findings.notes)
  batches = list(data.eval_batches(ds.test))
  assert sum(b["valid"].sum() for b in batches) == 8
  assert batches[0]["image"].shape == (4, 32, 32, 3)
  assert (tmp_path / "wd" / "data_splits.json").exists()


@pytest.mark.parametrize("release", [False, True])
def test_covid19_radiography(tmp_path, release):
  _covid(tmp_path, release=release)
  ds = data.load(_cfg("covid19_radiography", tmp_path))
  want = (
    ("NORMAL", "COVID", "Lung_Opacity", "Viral Pneumonia")
    if release
    else ("NORMAL", "COVID")
  )
  assert ds.class_names == want
  # masks/ beside images/ is not read (nor counted as a class image).
  assert len(ds.test) == 3 * len(want)
  assert all("masks" not in i for i in ds.test.ids)


def test_ph2_returns_its_lesion_masks(tmp_path):
  masks = _ph2(tmp_path)
  ds = data.load(_cfg("ph2", tmp_path, image_size=40))
  assert ds.class_names == PH2_CLASSES and ds.has_masks
  np.testing.assert_array_equal(ds.test.class_counts(), [2, 2, 2])
  for i, name in enumerate(ds.test.ids):
    img, mask = ds.test.raw(i)
    np.testing.assert_array_equal(mask, masks[name])
    assert img.shape == (30, 40, 3)
  # Through the pipeline: squashed to 40x40 with nearest neighbour, as the
  # synthetic set's masks, under the key the report reads.
  batch = next(data.eval_batches(ds.test, batch_size=6))
  assert batch["lesion_mask"].shape == (6, 40, 40)
  want = np.stack(
    [
      np.asarray(
        Image.fromarray(masks[n].astype(np.uint8)).resize(
          (40, 40), Image.NEAREST
        )
      )
      for n in ds.test.ids
    ]
  )
  np.testing.assert_array_equal(batch["lesion_mask"], want)


# ---------------------------------------------------------------------------
# Bad input, per loader.
# ---------------------------------------------------------------------------

MAKERS = {
  "brain_mri_yes_no": (_yes_no, "yes"),
  "covid19_radiography": (_covid, "COVID"),
  "ph2": (_ph2, os.path.join("images", "melanoma")),
}
PUBLISHED = {
  "brain_mri_yes_no": "Chakrabarty",
  "covid19_radiography": "COVID-19 Radiography Database",
  "ph2": "PH2",
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_missing_folder(tmp_path, name):
  with pytest.raises(data.DataError) as e:
    data.load(_cfg(name, tmp_path / "nowhere"))
  msg = str(e.value)
  assert str(tmp_path / "nowhere") in msg and "Expected layout" in msg
  assert PUBLISHED[name] in msg


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_empty_class_folder(tmp_path, name):
  make, folder = MAKERS[name]
  make(tmp_path)
  shutil.rmtree(tmp_path / folder)
  os.makedirs(tmp_path / folder)
  (tmp_path / folder / "README.txt").write_text("x")
  with pytest.raises(data.DataError, match="has no image files"):
    data.load(_cfg(name, tmp_path))


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_corrupt_file(tmp_path, name):
  make, folder = MAKERS[name]
  make(tmp_path)
  victim = sorted(os.listdir(tmp_path / folder))[0]
  (tmp_path / folder / victim).write_bytes(b"\x89PNG garbage")
  with pytest.raises(data.DataError, match=r"(?s)1 corrupt.*" + victim):
    data.load(_cfg(name, tmp_path))
  ds = data.load(_cfg(name, tmp_path, skip_corrupt=True))
  assert ds.findings.corrupt_skipped == 1


def test_unknown_class_folder(tmp_path):
  _yes_no(tmp_path)
  _save(str(tmp_path / "maybe" / "x.png"), _pixels(0))
  with pytest.raises(data.DataError, match=r"Unknown class.*maybe.*no, yes"):
    data.load(_cfg("brain_mri_yes_no", tmp_path))


def test_ph2_missing_mask(tmp_path):
  _ph2(tmp_path)
  os.remove(tmp_path / "lesion_masks" / "melanoma" / "IMD201.png")
  with pytest.raises(
    data.DataError, match=r"(?s)1 image.*have no mask.*IMD201.png"
  ):
    data.load(_cfg("ph2", tmp_path))


def test_ph2_mask_of_the_wrong_size(tmp_path):
  _ph2(tmp_path)
  _save(
    str(tmp_path / "lesion_masks" / "common_nevus" / "IMD001.png"),
    np.zeros((31, 40), np.uint8),
    "L",
  )
  with pytest.raises(
    data.DataError, match=r"(?s)have a bad mask.*IMD001.png: mask 40x31, image"
  ):
    data.load(_cfg("ph2", tmp_path))


def test_ph2_without_the_mask_folder(tmp_path):
  _ph2(tmp_path)
  shutil.rmtree(tmp_path / "lesion_masks")
  with pytest.raises(data.DataError, match=r"No lesion_masks/ folder"):
    data.load(_cfg("ph2", tmp_path))


# ---------------------------------------------------------------------------
# Label maps.
# ---------------------------------------------------------------------------

BRAIN4 = ("glioma", "meningioma", "notumor", "pituitary")
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


def _reference(probs, train, groups, mapping):
  """Group sums renormalised over the mapped classes, by loops."""
  out = np.zeros((len(probs), len(groups)))
  for n, p in enumerate(probs):
    for k, c in enumerate(train):
      if c in mapping:
        out[n, groups.index(mapping[c])] += p[k]
    out[n] /= sum(p[k] for k, c in enumerate(train) if c in mapping)
  return out


def test_brain_four_classes_to_yes_no():
  lmap = external.label_map(
    BRAIN4, ("no", "yes"), external_name="brain_mri_yes_no"
  )
  assert lmap.groups == ("no", "yes") and not lmap.unmapped
  probs = jax.nn.softmax(jax.random.normal(jax.random.key(0), (16, 4)))
  got = data.map_probabilities(probs, lmap)
  want = _reference(
    np.asarray(probs, np.float64),
    BRAIN4,
    ["no", "yes"],
    external.DEFAULT_MAPPINGS["brain_mri_yes_no"],
  )
  # float32 sums of <= 4 terms in [0, 1]: rounding ~4 * 2^-24.
  np.testing.assert_allclose(got, want, atol=1e-6)
  np.testing.assert_array_equal(data.map_labels([0, 1, 1], lmap), [0, 1, 1])


def test_isic_nine_classes_to_ph2_renormalised():
  lmap = external.label_map(ISIC9, PH2_CLASSES, external_name="ph2")
  assert lmap.groups == ("nevus", "melanoma")
  assert len(lmap.unmapped) == 7 and "dermatofibroma" in lmap.unmapped
  # PH2's common and atypical nevus are both "nevus".
  np.testing.assert_array_equal(data.map_labels([0, 1, 2], lmap), [0, 0, 1])
  probs = jax.nn.softmax(jax.random.normal(jax.random.key(1), (32, 9)) * 2)
  got = jax.jit(lambda p: data.map_probabilities(p, lmap))(probs)
  want = _reference(
    np.asarray(probs, np.float64),
    ISIC9,
    ["nevus", "melanoma"],
    {"melanoma": "melanoma", "nevus": "nevus"},
  )
  # Division by the mapped mass (>= ~1e-4 here) can grow the float32
  # rounding of the softmax (~1e-7 relative) but keeps it relative: 1e-5
  # relative is 100x that, and 1e-6 absolute covers values near zero.
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(np.asarray(got).sum(-1), 1.0, atol=1e-6)


def test_all_mass_on_unmapped_classes_gives_equal_groups():
  lmap = external.label_map(ISIC9, PH2_CLASSES, external_name="ph2")
  probs = np.zeros((1, 9), np.float32)
  probs[0, 0] = 1.0  # actinic keratosis: unmapped
  np.testing.assert_array_equal(
    data.map_probabilities(probs, lmap), [[0.5, 0.5]]
  )


def test_kermany_to_covid_default_mapping():
  lmap = external.label_map(
    ("NORMAL", "PNEUMONIA"),
    ("NORMAL", "COVID"),
    external_name="covid19_radiography",
  )
  np.testing.assert_array_equal(lmap.matrix, [[1, 0], [0, 1]])


@pytest.mark.parametrize(
  ("mapping", "groups", "message"),
  [
    (
      {"glioma": "yes", "astrocytoma": "yes"},
      {},
      r"Unknown training class\(es\) 'astrocytoma' in data.external.x"
      r".mapping; valid: glioma, meningioma, notumor, pituitary",
    ),
    (
      {"glioma": "yes", "notumor": "no"},
      {"maybe": "yes"},
      r"Unknown external class\(es\) 'maybe'.*valid: no, yes",
    ),
    (
      {"glioma": "tumour", "notumor": "no"},
      {},
      r"Unknown group\(s\) 'tumour'.*valid: no, yes",
    ),
    (
      {"glioma": "yes"},
      {},
      r"No training class maps to the external group\(s\) no",
    ),
  ],
)
def test_bad_mappings_name_the_valid_names(mapping, groups, message):
  with pytest.raises(data.DataError, match=message):
    external.label_map(
      BRAIN4, ("no", "yes"), mapping, groups, where="data.external.x"
    )


def test_no_default_mapping():
  with pytest.raises(data.DataError, match="no default mapping for 'folder'"):
    external.label_map(BRAIN4, ("a", "b"), external_name="folder")


def test_external_config_is_empty_by_default_and_checked():
  c = data.default_config()
  assert not c.external
  data.check_config(c)
  c.external.x = external.entry("ph2", "/data/ph2")
  data.check_config(c)
  c.external.x.name = "brain_mri"
  with pytest.raises(data.DataError, match=r"data.external.x.name.*ph2"):
    data.check_config(c)
  c.external.x = {"name": "ph2"}
  with pytest.raises(data.DataError, match=r"exactly the fields"):
    data.check_config(c)


# ---------------------------------------------------------------------------
# Duplicates.
# ---------------------------------------------------------------------------


def test_phash_matches_a_numpy_reference():
  """pHash by the definition (wave2 §7, imagehash.phash): the DCT-II as an
  explicit cosine sum, no scipy."""
  n = 32
  k = np.arange(n)
  basis = 2 * np.cos(np.pi * k[:, None] * (2 * k[None, :] + 1) / (2 * n))
  rng = np.random.default_rng(0)
  for seed in range(20):
    thumb = integrity.thumbnail(_pixels(seed, (70, 50)))
    assert thumb.shape == (32, 32) and thumb.dtype == np.uint8
    low = (basis @ thumb.astype(np.float64) @ basis.T)[:8, :8]
    np.testing.assert_array_equal(
      integrity.phash(thumb), (low > np.median(low)).reshape(-1)
    )
  a = rng.random((5, 64)) < 0.5
  b = rng.random((7, 64)) < 0.5
  want = [[int((x != y).sum()) for y in b] for x in a]
  np.testing.assert_array_equal(integrity.hamming(a, b), want)


def _folder_split(root, files):
  """A test-only split of the given {relative path: pixels} PNG/JPEG files."""
  for rel, (pixels, fmt) in files.items():
    _save(str(root / rel), pixels, fmt=fmt)
  return data.load(_cfg("brain_mri_yes_no", root)).test


def test_copies_of_training_images_are_removed_lookalikes_kept(tmp_path):
  train_px = {f"t{i}": _pixels(i, (96, 80)) for i in range(6)}
  train = _folder_split(
    tmp_path / "train",
    {f"{'yes' if i % 2 else 'no'}/{k}.png": (p, "PNG") for i, (k, p) in
     enumerate(train_px.items())},
  )  # fmt: skip
  # A resized (x0.6) and re-encoded (JPEG q75) copy of t1.
  small = Image.fromarray(train_px["t1"]).resize((58, 48), Image.BILINEAR)
  buf = io.BytesIO()
  small.save(buf, "JPEG", quality=75)
  resized = np.asarray(Image.open(buf).convert("RGB"))
  # Same structure as t2 at another contrast and brightness: the pHash
  # collides (every DCT coefficient but DC halves, so the bits stay), the
  # pixels do not.
  lookalike = (train_px["t2"] * 0.5 + 100).astype(np.uint8)
  ext_root = tmp_path / "ext"
  ext = _folder_split(
    ext_root,
    {
      "yes/a_exact.png": (train_px["t0"], "PNG"),
      "yes/b_resized.jpg": (resized, "JPEG"),
      "no/c_lookalike.png": (lookalike, "PNG"),
      "no/d_new.png": (_pixels(50, (96, 80)), "PNG"),
      "no/e_new_again.png": (_pixels(50, (96, 80)), "PNG"),
    },
  )
  assert not (
    integrity.phash(integrity.thumbnail(lookalike))
    ^ integrity.phash(integrity.thumbnail(train_px["t2"]))
  ).any()
  dd = data.remove_duplicates(ext, [train])
  why = {r.id: (r.reason, r.match) for r in dd.removed}
  assert why == {
    "yes/a_exact.png": ("exact", "no/t0.png"),
    "yes/b_resized.jpg": ("perceptual", "yes/t1.png"),
    "no/e_new_again.png": ("repeat_exact", "no/d_new.png"),
  }
  assert dd.counts == {
    "exact": 1,
    "perceptual": 1,
    "repeat_exact": 1,
    "repeat_perceptual": 0,
  }
  assert sorted(dd.split.ids) == ["no/c_lookalike.png", "no/d_new.png"]
  kept = data.remove_duplicates(ext, [train], repeats=False)
  assert "no/e_new_again.png" in kept.split.ids


def test_load_external_from_config(tmp_path):
  # Seeds 200.. : other images than _yes_no's.
  for c, seed in (("glioma", 20), ("meningioma", 21), ("notumor", 22)):
    for i in range(3):
      _save(
        str(tmp_path / "tr" / "Training" / c / f"{i}.png"),
        _pixels(seed * 10 + i),
      )
      _save(
        str(tmp_path / "tr" / "Testing" / c / f"{i}.png"),
        _pixels(seed * 10 + i + 5),
      )
  _save(str(tmp_path / "tr" / "Training" / "pituitary" / "0.png"), _pixels(299))
  _save(str(tmp_path / "tr" / "Testing" / "pituitary" / "0.png"), _pixels(298))
  train = data.load(_cfg("brain_mri", tmp_path / "tr", val_fraction=0.0))
  _yes_no(tmp_path / "ext")
  shutil.copy(
    tmp_path / "tr" / "Training" / "glioma" / "1.png",
    tmp_path / "ext" / "yes" / "copy.png",
  )
  cfg = _cfg("brain_mri", tmp_path / "tr")
  cfg.external.yesno = external.entry("brain_mri_yes_no", str(tmp_path / "ext"))
  es = data.load_external(cfg, "yesno", train)
  assert es.dataset.class_names == ("no", "yes")
  assert es.label_map.groups == ("no", "yes")
  assert es.counts["exact"] == 1 and len(es.test) == 8
  assert es.test.example(0)["image"].shape == (32, 32, 3)
  with pytest.raises(data.DataError, match=r"No entry 'ph2'.*yesno"):
    data.load_external(cfg, "ph2", train)
  cfg.external.yesno.mapping = {"glioma": "maybe"}
  with pytest.raises(data.DataError, match=r"data.external.yesno.mapping"):
    data.load_external(cfg, "yesno", train)


# ---------------------------------------------------------------------------
# The real samples (../shared/data/external).
# ---------------------------------------------------------------------------


def test_real_external_layouts(shared_data):
  ext = shared_data / "external"
  cases = (
    ("brain_mri_yes_no", "brain_mri/chakrabarty_yes_no", [98, 155]),
    ("covid19_radiography", "chest_xray/covid19_radiography_224", [150, 150]),
    ("ph2", "skin/ph2_256", [80, 80, 40]),
  )
  for name, folder, counts in cases:
    ds = data.load(_cfg(name, ext / folder))
    np.testing.assert_array_equal(ds.test.class_counts(), counts)
    assert len(ds.train) == len(ds.val) == 0
  # 22 groups of byte-identical files, 25 extra copies (MANIFEST.md).
  brain = data.load(_cfg("brain_mri_yes_no", ext / cases[0][1]))
  assert brain.findings.duplicate_files == 25
  # PH2 lesions cover 3..100 %, mean 32 % of the image (MANIFEST.md).
  ph2 = data.load(_cfg("ph2", ext / cases[2][1]))
  cover = [ph2.test.raw(i)[1].mean() for i in range(0, 200, 10)]
  assert min(cover) > 0.02 and max(cover) <= 1.0
  assert 0.2 < np.mean(cover) < 0.45


def test_real_brain_duplicates(shared_data):
  """Chakrabarty yes/no against the Kaggle Testing sample: no copies of
  training images (the MANIFEST's naive-hash 'near-duplicates' are other
  scans), 22 exact and 21 re-encoded repeats inside the set; two adjacent
  slices of one patient (same pHash, 4.55 grey levels apart) both kept."""
  train = data.load(
    _cfg("brain_mri", shared_data / "brain_mri" / "kaggle_testing")
  )
  ext = data.load(
    _cfg(
      "brain_mri_yes_no",
      shared_data / "external" / "brain_mri" / "chakrabarty_yes_no",
    )
  )
  dd = data.remove_duplicates(ext.test, list(train.splits.values()))
  assert dd.counts == {
    "exact": 0,
    "perceptual": 0,
    "repeat_exact": 22,
    "repeat_perceptual": 21,
  }
  assert len(dd.split) == 253 - 43
  assert {"yes/Y61.jpg", "yes/Y71.JPG"} <= set(dd.split.ids)
  assert max(r.pixel_diff for r in dd.removed) < 1.0
