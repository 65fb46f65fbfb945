# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Decoding modes, resizing, augmentation and bounded streaming."""

import io
import threading
import time

import numpy as np
import pytest
from PIL import Image

from xaijax import data
from xaijax.data import dataset, preprocess, sources


def _encode(img: Image.Image, fmt="PNG") -> bytes:
  buf = io.BytesIO()
  img.save(buf, format=fmt)
  return buf.getvalue()


def test_grayscale_rgba_palette_16bit_to_rgb():
  g = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
  out = preprocess.decode(_encode(Image.fromarray(g, "L")))
  assert out.shape == (8, 8, 3) and out.dtype == np.uint8
  np.testing.assert_array_equal(out[..., 1], g)

  rgba = np.zeros((8, 8, 4), np.uint8)
  rgba[..., 0], rgba[..., 3] = 200, 10
  out = preprocess.decode(_encode(Image.fromarray(rgba, "RGBA")))
  np.testing.assert_array_equal(out[0, 0], [200, 0, 0])

  pal = Image.fromarray(g, "L").convert("P")
  assert preprocess.decode(_encode(pal)).shape == (8, 8, 3)

  # 16-bit with a 12-bit range: stretched to the full 0..255.
  a16 = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 64).astype(np.uint16)
  img16 = Image.fromarray(a16)
  assert img16.mode.startswith("I;16")
  out = preprocess.decode(_encode(img16))
  assert out.min() == 0 and out.max() == 255
  assert (np.diff(out[..., 0].reshape(-1).astype(int)) >= 0).all()

  la = Image.fromarray(g, "L").convert("LA")
  np.testing.assert_array_equal(preprocess.decode(_encode(la))[..., 2], g)


def test_array_to_rgb_shapes():
  assert preprocess.array_to_rgb(np.zeros((5, 6), np.uint8)).shape == (5, 6, 3)
  assert preprocess.array_to_rgb(np.zeros((5, 6, 1), np.uint8)).shape == (
    5,
    6,
    3,
  )
  assert preprocess.array_to_rgb(np.zeros((5, 6, 4), np.uint8)).shape == (
    5,
    6,
    3,
  )
  f = preprocess.array_to_rgb(
    np.linspace(0, 1, 30, dtype=np.float32).reshape(5, 6)
  )
  assert f.dtype == np.uint8 and f.max() == 255


def test_squash_and_pad():
  img = np.full((20, 40, 3), 255, np.uint8)
  sq = preprocess.resize(img, 16, "squash")
  assert sq.shape == (16, 16, 3) and (sq == 255).all()
  pd = preprocess.resize(img, 16, "pad")
  assert pd.shape == (16, 16, 3)
  assert (
    (pd[:4] == 0).all() and (pd[-4:] == 0).all() and (pd[4:12] == 255).all()
  )


def test_jpeg_draft_decodes_smaller_but_not_below_size():
  rng = np.random.default_rng(0)
  img = Image.fromarray(rng.integers(0, 255, (512, 512), dtype=np.uint8), "L")
  jpg = _encode(img, "JPEG")
  assert preprocess.decode(jpg, size=224).shape == (256, 256, 3)
  assert preprocess.decode(jpg, size=224, draft=False).shape == (512, 512, 3)
  assert preprocess.decode(jpg, size=300).shape == (512, 512, 3)


def test_augmentation_seeded_and_moves_mask_with_image(small_cfg):
  small_cfg.image_size = 48
  small_cfg.augment.rotate = 30.0
  small_cfg.augment.shift = 0.15
  ds = data.load(small_cfg)
  a = ds.train.example(0, np.random.default_rng(5))
  b = ds.train.example(0, np.random.default_rng(5))
  c = ds.train.example(0, np.random.default_rng(6))
  np.testing.assert_array_equal(a["image"], b["image"])
  assert not np.array_equal(a["image"], c["image"])
  plain = ds.train.example(0)
  assert not np.array_equal(a["image"], plain["image"])
  # The mask (nearest) follows the image (bilinear) under the same draw:
  # warp the mask as if it were an image and compare.
  for seed in range(4):
    rng = np.random.default_rng(seed)
    _, mask = ds.train.raw(0)
    p = preprocess.sample_augment(rng, small_cfg.augment)
    _, m_aug = preprocess.augment_geometry(
      np.zeros((48, 48, 3), np.uint8), mask, p
    )
    as_img = np.repeat(mask[..., None] * 255, 3, axis=-1).astype(np.uint8)
    img_aug, _ = preprocess.augment_geometry(as_img, None, p)
    a, b = m_aug > 0, img_aug[..., 0] > 127
    assert a.sum() > 0.5 * mask.sum()
    assert (a & b).sum() / (a | b).sum() > 0.8


def test_brightness_contrast_only_change_intensity(small_cfg):
  small_cfg.augment.update(flip=False, rotate=0.0, zoom=0.0, shift=0.0)
  ds = data.load(small_cfg)
  a = ds.train.example(1, np.random.default_rng(0))["image"]
  b = ds.train.example(1)["image"]
  assert not np.allclose(a, b)
  assert np.corrcoef(a.reshape(-1), b.reshape(-1))[0, 1] > 0.95


class _CountingSource(sources.Source):
  """Records how many examples are being held at once."""

  def __init__(self, n):
    super().__init__(np.arange(n) % 2, [str(i) for i in range(n)])
    self.reads = 0
    self.lock = threading.Lock()

  def read(self, i, size):
    with self.lock:
      self.reads += 1
    return np.zeros((size, size, 3), np.uint8), None


def test_streaming_reads_at_most_prefetch_plus_one_batches(small_cfg):
  small_cfg.prefetch = 2
  src = _CountingSource(10_000)
  split = dataset.Split("train", src, np.arange(10_000), small_cfg, ("a", "b"))
  it = data.train_batches(split, batch_size=8)
  next(it)
  time.sleep(0.2)
  assert src.reads <= 8 * (small_cfg.prefetch + 2)
  for _ in range(20):
    next(it)
  time.sleep(0.2)
  assert src.reads <= 8 * (21 + small_cfg.prefetch + 1)
  it.close()


def test_decode_error_in_a_worker_reaches_the_caller(tmp_path, small_cfg):
  (tmp_path / "a").mkdir()
  (tmp_path / "b").mkdir()
  for c in "ab":
    for i in range(4):
      rng = np.random.default_rng([i, ord(c)])
      noise = rng.integers(0, 255, (32, 32), dtype=np.uint8)
      Image.fromarray(noise).save(tmp_path / c / f"{i}.png")
  raw = (tmp_path / "a" / "0.png").read_bytes()
  (tmp_path / "a" / "0.png").write_bytes(raw[: len(raw) // 2])
  small_cfg.update(
    name="folder",
    root=str(tmp_path),
    batch_size=2,
    val_fraction=0.0,
    test_fraction=0.0,
  )
  ds = data.load(small_cfg)
  with pytest.raises(data.DataError, match="Corrupt"):
    list(data.eval_batches(ds.train))
