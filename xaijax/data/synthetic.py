# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Synthetic lesions: textured MRI-/X-ray-/dermoscopy-like images, each with
one class-specific lesion and its ground-truth mask.

Every image is a pure function of (synthetic seed, index): nothing is
stored, any image can be made again on any host, and a dataset of any size
costs no memory. Classes differ by the lesion's

* shape: disc, ring, square, elongated ellipse, cross, triangle (class % 6),
* intensity: brighter or darker than the tissue (class % 2),
* texture: smooth, striped or speckled (class % 3),
* location: upper or lower half of the organ ((class // 2) % 2),
* size: normal, or larger for classes 6..11.

`difficulty` in [0, 1] lowers the lesion contrast and size, raises the
noise, and with probability 0.7 * difficulty replaces each of the
intensity/texture/location cues by another class's, so at 1 only the shape
(at low contrast) tells the classes apart. The vertical location cue
survives the horizontal flip of training augmentation.

The mask is exactly the lesion's support (the signed distance < 0), which
is what the explanation benchmarks point at.
"""

import math

import numpy as np
from PIL import Image

from xaijax.data import streams
from xaijax.data.errors import DataError

MODALITIES = ("mri", "xray", "dermoscopy")
SHAPES = ("disc", "ring", "square", "ellipse", "cross", "triangle")
MAX_CLASSES = 12


def class_names(num_classes: int) -> tuple[str, ...]:
  """Readable names such as `disc_bright_smooth_upper`."""
  names = []
  for c in range(num_classes):
    cue = class_cues(c)
    size = "_large" if cue["large"] else ""
    names.append(
      f"{SHAPES[cue['shape']]}_{'bright' if cue['sign'] > 0 else 'dark'}"
      f"_{('smooth', 'striped', 'speckled')[cue['texture']]}"
      f"_{('upper', 'lower')[cue['row']]}{size}"
    )
  return tuple(names)


def class_cues(c: int) -> dict:
  return {
    "shape": c % 6,
    "sign": 1.0 if c % 2 == 0 else -1.0,
    "texture": c % 3,
    "row": (c // 2) % 2,
    "large": c >= 6,
  }


def labels(num_images: int, num_classes: int, seed: int) -> np.ndarray:
  """Balanced labels in a seeded order (class counts differ by at most 1)."""
  rng = np.random.default_rng([seed, streams.LABELS])
  return (rng.permutation(num_images) % num_classes).astype(np.int32)


def check(cfg) -> None:
  s = cfg.synthetic
  if not 2 <= s.num_classes <= MAX_CLASSES:
    raise DataError(
      f"data.synthetic.num_classes must be 2..{MAX_CLASSES}, got "
      f"{s.num_classes}."
    )
  if s.modality not in MODALITIES:
    raise DataError(
      f"data.synthetic.modality must be one of {MODALITIES}, got "
      f"'{s.modality}'."
    )
  if not 0.0 <= s.difficulty <= 1.0:
    raise DataError(
      f"data.synthetic.difficulty must be in [0, 1], got {s.difficulty}."
    )
  if s.num_images < 3 * s.num_classes:
    raise DataError(
      "data.synthetic.num_images must be at least 3 per class, got "
      f"{s.num_images} for {s.num_classes} classes."
    )


def _smooth_noise(rng: np.random.Generator, size: int, cells: int):
  """Bilinearly upsampled uniform noise in [0, 1]: blobs ~size/cells wide."""
  small = rng.random((cells, cells), dtype=np.float32)
  return np.asarray(
    Image.fromarray(small, mode="F").resize((size, size), Image.BICUBIC)
  )


def _grid(size: int):
  t = (np.arange(size, dtype=np.float32) + 0.5) / size
  return np.meshgrid(t, t, indexing="xy")  # x, y in (0, 1)


def _background(rng, modality: str, size: int):
  """Tissue intensity (H, W) or RGB (H, W, 3) in [0, 1] and organ mask."""
  x, y = _grid(size)
  low = _smooth_noise(rng, size, 4)
  mid = _smooth_noise(rng, size, 12)
  if modality == "mri":
    cx, cy = 0.5 + rng.uniform(-0.03, 0.03), 0.5 + rng.uniform(-0.03, 0.03)
    rx, ry = rng.uniform(0.36, 0.42), rng.uniform(0.42, 0.47)
    r = np.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
    warp = 6.0 * (mid - 0.5)
    gyri = 0.5 + 0.5 * np.sin(2 * np.pi * (r * 9.0 + warp))
    tissue = 0.32 + 0.12 * low + 0.08 * gyri
    skull = np.exp(-(((r - 1.0) / 0.035) ** 2)) * 0.55
    organ = r < 0.93
    img = np.where(r < 0.97, tissue, 0.0) + skull
    return img.astype(np.float32), organ
  if modality == "xray":
    body = np.exp(-(((x - 0.5) / 0.55) ** 6)) * (0.55 + 0.1 * low)
    organ = np.zeros((size, size), bool)
    img = body.copy()
    for side in (-1.0, 1.0):
      cx = 0.5 + side * rng.uniform(0.19, 0.23)
      r = np.sqrt(((x - cx) / 0.15) ** 2 + ((y - 0.5) / 0.33) ** 2)
      lung = 1.0 / (1.0 + np.exp((r - 1.0) / 0.05))
      img -= 0.3 * lung
      organ |= r < 0.85
    ribs = 0.5 + 0.5 * np.sin(2 * np.pi * (y * 7.0 + 0.6 * (x - 0.5) ** 2))
    img += 0.07 * ribs * (img > 0.15)
    spine = np.exp(-(((x - 0.5) / 0.04) ** 2)) * 0.25
    img += spine + 0.05 * mid
    return img.astype(np.float32), organ
  # dermoscopy: skin tone with blotches, a dark circular field-of-view edge
  # and a few hairs.
  skin = np.array([0.86, 0.66, 0.56], np.float32) * rng.uniform(0.9, 1.05)
  tone = 0.9 + 0.12 * low[..., None] + 0.06 * mid[..., None]
  img = skin * tone
  r = np.sqrt((x - 0.5) ** 2 + (y - 0.5) ** 2)
  img = img * (1.0 / (1.0 + np.exp((r - 0.52) / 0.03)))[..., None]
  for _ in range(rng.integers(0, 4)):
    a, b = rng.uniform(0, 1, 2)
    ang = rng.uniform(0, np.pi)
    curve = rng.uniform(-1.5, 1.5)
    d = (x - a) * math.sin(ang) - (y - b) * math.cos(ang)
    along = (x - a) * math.cos(ang) + (y - b) * math.sin(ang)
    d = d - curve * along**2
    hair = np.exp(-((d / 0.004) ** 2)) * (np.abs(along) < 0.35)
    img = img * (1.0 - 0.7 * hair[..., None])
  organ = r < 0.4
  return img.astype(np.float32), organ


def _sdf(shape: int, u, v, r):
  """Approximate signed distance to the lesion (negative inside)."""
  if shape == 0:  # disc
    return np.sqrt(u**2 + v**2) - r
  if shape == 1:  # ring
    return np.abs(np.sqrt(u**2 + v**2) - 0.72 * r) - 0.28 * r
  if shape == 2:  # square
    return np.maximum(np.abs(u), np.abs(v)) - 0.82 * r
  if shape == 3:  # elongated ellipse
    return (np.sqrt((u / 1.7) ** 2 + (v / 0.55) ** 2) - r) * 0.55
  if shape == 4:  # cross
    a = np.maximum(np.abs(u) - r, np.abs(v) - 0.3 * r)
    b = np.maximum(np.abs(u) - 0.3 * r, np.abs(v) - r)
    return np.minimum(a, b)
  # triangle (equilateral, pointing up before rotation)
  k = math.sqrt(3.0)
  return np.maximum(np.abs(u) * k / 2 + v / 2, -v) - 0.5 * r


def generate(index: int, label: int, cfg_syn, size: int):
  """One image: uint8 (size, size, 3) and uint8 mask (size, size) in {0,1}.

  Args:
    index: the example's index; with `cfg_syn.seed` it fixes everything.
    label: its class (from `labels`).
    cfg_syn: `config.synthetic` (modality, difficulty, seed, num_classes).
    size: output side in pixels.
  """
  rng = np.random.default_rng([cfg_syn.seed, index, streams.IMAGE])
  d = float(cfg_syn.difficulty)
  k = cfg_syn.num_classes
  img, organ = _background(rng, cfg_syn.modality, size)

  cue = class_cues(label)
  # Cues other than shape are swapped for a random class's with probability
  # 0.7 * difficulty each.
  for name in ("sign", "texture", "row"):
    if rng.random() < 0.7 * d:
      cue[name] = class_cues(int(rng.integers(k)))[name]

  # Place the lesion inside the organ, in the class's vertical half.
  x, y = _grid(size)
  radius = rng.uniform(0.11, 0.15) * (1.0 - 0.3 * d)
  radius *= 1.4 if cue["large"] else 1.0
  # Candidate centres: the organ eroded by the lesion's reach (so the whole
  # lesion lies on tissue) and away from the image border.
  m = max(1, math.ceil(radius * size * 1.2))
  inner = organ.copy()
  for dy, dx in ((m, 0), (-m, 0), (0, m), (0, -m)):
    inner &= np.roll(organ, (dy, dx), axis=(0, 1))
  ys, xs = np.nonzero(inner if inner.any() else organ)
  half = ys < size / 2 if cue["row"] == 0 else ys >= size / 2
  ok = half & (xs >= m) & (xs < size - m) & (ys >= m) & (ys < size - m)
  pick = np.flatnonzero(ok) if ok.any() else np.flatnonzero(half)
  j = pick[rng.integers(len(pick))]
  cx, cy = (xs[j] + 0.5) / size, (ys[j] + 0.5) / size
  ang = rng.uniform(0, np.pi)
  u = (x - cx) * math.cos(ang) + (y - cy) * math.sin(ang)
  v = -(x - cx) * math.sin(ang) + (y - cy) * math.cos(ang)
  sdf = _sdf(cue["shape"], u, v, radius)
  mask = sdf < 0
  if not mask.any():  # a lesion smaller than a pixel at tiny sizes
    mask[min(int(cy * size), size - 1), min(int(cx * size), size - 1)] = True
  edge = 0.6 / size + 0.01 * radius
  profile = 1.0 / (1.0 + np.exp(np.clip(sdf / edge, -30, 30)))

  if cue["texture"] == 1:
    period = radius * 0.55
    phi = rng.uniform(0, np.pi)
    tex = 0.5 + 0.5 * np.sin(
      2 * np.pi * (u * math.cos(phi) + v * math.sin(phi)) / period
    )
  elif cue["texture"] == 2:
    tex = _smooth_noise(rng, size, max(4, size // 3))
    tex = (tex > 0.5).astype(np.float32)
  else:
    tex = np.ones_like(x)
  amp = 0.42 * (1.0 - 0.6 * d) * rng.uniform(0.85, 1.15)
  strength = profile * (0.45 + 0.55 * tex)

  if img.ndim == 3:  # dermoscopy: a brown or blue-grey pigment
    color = (
      np.array([0.32, 0.18, 0.1], np.float32)
      if cue["sign"] > 0
      else np.array([0.45, 0.5, 0.62], np.float32)
    )
    alpha = np.clip(strength * amp * 2.0, 0, 1)[..., None]
    img = img * (1 - alpha) + color * alpha
  else:
    img = img + cue["sign"] * amp * strength
    img = img[..., None]

  sigma = 0.015 + 0.09 * d
  img = img + rng.normal(0.0, sigma, img.shape).astype(np.float32)
  img = np.clip(img, 0.0, 1.0)
  img = np.rint(img * 255.0).astype(np.uint8)
  if img.shape[-1] == 1:
    img = np.repeat(img, 3, axis=-1)
  return img, mask.astype(np.uint8)
