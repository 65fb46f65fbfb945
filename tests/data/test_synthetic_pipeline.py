# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The synthetic set and the batch contract (train/eval/to_global)."""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from xaijax import data
from xaijax.data import synthetic


def _take(it, n):
  return [b for _, b in zip(range(n), it, strict=False)]


def test_synthetic_is_deterministic_and_has_masks(small_cfg):
  a, ma = synthetic.generate(3, 1, small_cfg.synthetic, 48)
  b, mb = synthetic.generate(3, 1, small_cfg.synthetic, 48)
  np.testing.assert_array_equal(a, b)
  np.testing.assert_array_equal(ma, mb)
  assert a.shape == (48, 48, 3) and a.dtype == np.uint8
  assert ma.shape == (48, 48) and 0 < ma.sum() < 48 * 48 / 4
  c, _ = synthetic.generate(4, 1, small_cfg.synthetic, 48)
  assert not np.array_equal(a, c)


@pytest.mark.parametrize("modality", synthetic.MODALITIES)
def test_lesion_is_inside_mask(small_cfg, modality):
  """The lesion changes the image where the mask is (the localisation
  benchmark relies on it): mean |image - same image at zero contrast| is
  far larger inside the mask than outside."""
  small_cfg.synthetic.modality = modality
  small_cfg.synthetic.difficulty = 0.0
  for label in range(4):
    img, mask = synthetic.generate(7, label, small_cfg.synthetic, 64)
    m = mask.astype(bool)
    g = img.astype(np.float32).mean(-1)
    inside, ring = g[m], g[np.roll(m, 6, 0) & ~m]
    assert abs(inside.mean() - ring.mean()) > 8, (modality, label)


def test_load_splits_are_stratified_disjoint_and_recorded(small_cfg, tmp_path):
  ds = data.load(small_cfg, str(tmp_path))
  assert ds.num_classes == 4 and ds.has_masks
  sizes = {k: len(s) for k, s in ds.splits.items()}
  assert sum(sizes.values()) == 60
  assert sizes["test"] == 12 and 4 <= sizes["val"] <= 6
  ids = [set(s.ids) for s in ds.splits.values()]
  assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
  np.testing.assert_array_equal(ds.test.class_counts(), [3, 3, 3, 3])
  rec = json.loads(Path(os.path.join(tmp_path, "data_splits.json")).read_text())
  assert rec["splits"]["test"]["count"] == 12
  assert len(rec["splits"]["train"]["members"]) == sizes["train"]
  # The same config on the same workdir is accepted; another seed is not.
  data.load(small_cfg, str(tmp_path))
  small_cfg.seed = 1
  with pytest.raises(data.DataError, match="different"):
    data.load(small_cfg, str(tmp_path))


def test_train_batches_shapes_and_determinism(small_cfg):
  ds = data.load(small_cfg)
  b1 = _take(data.train_batches(ds.train), 5)
  b2 = _take(data.train_batches(ds.train), 5)
  b = b1[0]
  assert b["image"].shape == (8, 32, 32, 3) and b["image"].dtype == np.float32
  assert b["label"].dtype == np.int32 and b["lesion_mask"].shape == (8, 32, 32)
  for x, y in zip(b1, b2, strict=True):
    for k in x:
      np.testing.assert_array_equal(x[k], y[k])
  # Resume: starting at step 3 gives the batches 3 and 4 of a fresh run.
  r = _take(data.train_batches(ds.train, start_step=3), 2)
  np.testing.assert_array_equal(r[0]["image"], b1[3]["image"])
  np.testing.assert_array_equal(r[1]["index"], b1[4]["index"])
  # Thread count does not change the data.
  ds.train.config.num_workers = 1
  b3 = _take(data.train_batches(ds.train), 2)
  np.testing.assert_array_equal(b3[1]["image"], b1[1]["image"])


def test_epochs_cover_the_split_and_reshuffle(small_cfg):
  ds = data.load(small_cfg)
  spe = data.steps_per_epoch(ds.train)
  batches = _take(data.train_batches(ds.train, augment=False), 2 * spe)
  e0 = np.concatenate([b["index"] for b in batches[:spe]])
  e1 = np.concatenate([b["index"] for b in batches[spe:]])
  assert len(set(e0)) == len(e0) == spe * 8
  assert not np.array_equal(e0, e1)


def test_hosts_take_slices_of_the_same_global_batch(small_cfg):
  ds = data.load(small_cfg)
  full = _take(
    data.train_batches(ds.train, process_index=0, process_count=1), 2
  )
  parts = [
    _take(data.train_batches(ds.train, process_index=p, process_count=2), 2)
    for p in range(2)
  ]
  for s in range(2):
    joined = np.concatenate([parts[0][s]["image"], parts[1][s]["image"]])
    np.testing.assert_array_equal(joined, full[s]["image"])
  with pytest.raises(data.DataError, match="divisible"):
    next(data.train_batches(ds.train, process_index=0, process_count=3))


def test_eval_batches_pad_and_mask(small_cfg):
  ds = data.load(small_cfg)
  batches = list(data.eval_batches(ds.test, batch_size=5))
  assert len(batches) == data.num_eval_batches(ds.test, 5) == 3
  valid = np.concatenate([b["valid"] for b in batches])
  index = np.concatenate([b["index"] for b in batches])
  assert valid.sum() == len(ds.test) == 12
  np.testing.assert_array_equal(index[valid], np.arange(12))
  assert (index[~valid] == -1).all()
  assert (batches[-1]["image"][~batches[-1]["valid"]] == 0).all()
  # Two hosts: same number of batches, together every image once.
  per_host = [
    list(
      data.eval_batches(ds.test, batch_size=6, process_index=p, process_count=2)
    )
    for p in range(2)
  ]
  assert len(per_host[0]) == len(per_host[1]) == 2
  seen = np.concatenate([b["index"][b["valid"]] for h in per_host for b in h])
  np.testing.assert_array_equal(np.sort(seen), np.arange(12))
  # Eval is not augmented: the same image as example(i).
  np.testing.assert_array_equal(
    batches[0]["image"][2], ds.test.example(2)["image"]
  )


def test_to_global_single_and_mesh(small_cfg):
  import jax

  ds = data.load(small_cfg)
  batch = next(data.train_batches(ds.train))
  g = data.to_global(batch)
  assert isinstance(g["image"], jax.Array) and g["image"].shape == (
    8,
    32,
    32,
    3,
  )
  mesh = jax.sharding.Mesh(np.array(jax.devices()), ("data",))
  g = data.to_global(batch, mesh)
  np.testing.assert_array_equal(np.asarray(g["label"]), batch["label"])
  assert g["image"].sharding.spec == jax.sharding.PartitionSpec("data")
  out = list(data.prefetch_to_device(iter([batch, batch, batch]), mesh, size=2))
  assert len(out) == 3


def test_normalisation_and_class_weights(small_cfg):
  small_cfg.augment.enabled = False
  ds = data.load(small_cfg)
  ex = ds.train.example(0)
  raw, _ = ds.train.raw(0)
  mean, std = np.array(data.IMAGENET_MEAN), np.array(data.IMAGENET_STD)
  expected = (raw / 255.0 - mean) / std
  # The pipeline in float32: x / 255 and the rounded mean are within an ulp
  # of 1 before the subtraction (another half), 2 eps32 in all, divided by
  # std >= 0.224; then the division's own half ulp of the result.
  eps = np.finfo(np.float32).eps
  np.testing.assert_allclose(
    ex["image"],
    expected,
    rtol=0,
    atol=2 * eps / std.min() + eps * np.abs(expected).max(),
  )
  # Balanced weights n / (K n_k) from the training counts, computed in
  # float64 and rounded to float32 once.
  counts = ds.train.class_counts()
  np.testing.assert_allclose(
    ds.class_weights(), counts.sum() / (len(counts) * counts), rtol=eps
  )
  w = data.class_weights(np.array([0, 0, 0, 1]), 3)
  np.testing.assert_allclose(w, [4 / 9, 4 / 3, 0.0], rtol=eps)


def test_check_num_classes(small_cfg):
  ds = data.load(small_cfg)
  data.check_num_classes(ds, 4)
  with pytest.raises(data.DataError, match="4 classes"):
    data.check_num_classes(ds, 2)


def test_bad_synthetic_config(small_cfg):
  small_cfg.synthetic.num_classes = 1
  with pytest.raises(data.DataError, match="num_classes"):
    data.load(small_cfg)
  small_cfg.synthetic.num_classes = 4
  small_cfg.name = "imagenet"
  with pytest.raises(data.DataError, match="Unknown dataset"):
    data.load(small_cfg)


def test_to_global_over_four_simulated_devices(run_on_cpu_devices):
  """A batch is split over a 4-device data axis."""
  code = """
import numpy as np, jax
from xaijax import data
c = data.default_config(); c.image_size = 16; c.batch_size = 8
c.synthetic.num_images = 40
ds = data.load(c)
mesh = jax.sharding.Mesh(np.array(jax.devices()), ("data",))
b = next(data.train_batches(ds.train))
g = data.to_global(b, mesh)
assert len(jax.devices()) == 4, jax.devices()
assert [s.data.shape[0] for s in g["image"].addressable_shards] == [2] * 4
np.testing.assert_array_equal(np.asarray(g["image"]), b["image"])
e = next(data.eval_batches(ds.test, batch_size=6))
try:
  data.to_global(e, mesh)
except data.DataError as err:
  assert "divisible" in str(err)
else:
  raise AssertionError("6 rows over 4 devices should fail")
print("ok")
"""
  run_on_cpu_devices(code, devices=4, timeout=300)


def test_limit_and_kfold_on_synthetic(small_cfg):
  small_cfg.limit = 8
  ds = data.load(small_cfg)
  assert len(ds.train) == 8 and len(ds.test) == 8
  assert len(set(ds.train.labels.tolist())) == 4
  small_cfg.limit = 0
  small_cfg.num_folds = 4
  vals = []
  for fold in range(4):
    small_cfg.fold = fold
    ds = data.load(small_cfg)
    assert not set(ds.train.ids) & set(ds.val.ids)
    vals.append(set(ds.val.ids))
  assert len(set().union(*vals)) == sum(map(len, vals)) == 48
