# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Decode, convert to 3-channel, resize, augment and normalise one image.

All of it runs on the host with Pillow and numpy. Both release the GIL in
their C loops, so a few decoding threads overlap with each other and with
the jitted train step; doing this in jax on the host would instead compete
with the train step for the same cores, add a dispatch per image and
compile once per input shape (medical images come in many sizes).
Augmentation draws from `np.random.Generator`s seeded by
(seed, epoch, index), so the result does not depend on thread scheduling.
"""

import io
import math

import numpy as np
from PIL import Image, ImageOps

from xaijax.data.errors import DataError

# Images whose extension is one of these are read; all else is ignored and
# counted (README files, .DS_Store, CSVs, ...).
IMAGE_EXTENSIONS = frozenset(
  {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".gif", ".webp"}
)


def decode(data: bytes, *, size: int = 0, draft: bool = True) -> np.ndarray:
  """Bytes of an image file -> uint8 array (H, W, 3).

  Args:
    data: the encoded file.
    size: the output size the caller will resize to; with `draft`, a JPEG is
      decoded by libjpeg at the smallest 1/2, 1/4 or 1/8 scale that is still
      at least `size` on both sides (much faster; the final resize is done
      by the caller as usual).
    draft: allow that reduced-scale JPEG decoding.

  Raises:
    OSError/ValueError/SyntaxError from Pillow on a corrupt file.
  """
  with Image.open(io.BytesIO(data)) as img:
    if draft and size and img.format == "JPEG":
      img.draft(img.mode, (size, size))
    img = ImageOps.exif_transpose(img)
    return to_rgb(img)


def to_rgb(img: Image.Image) -> np.ndarray:
  """Any Pillow mode -> uint8 RGB array.

  Grayscale is repeated over 3 channels; alpha is dropped; palette, CMYK,
  YCbCr, LAB are converted by Pillow. High bit depths (16-bit PNG/TIFF
  "I;16*", 32-bit "I", float "F") are stretched per image from their
  minimum..maximum to 0..255: their stored range is scanner-specific (often
  12 bits in a 16-bit container), so a fixed divisor would leave most
  images nearly black.
  """
  mode = img.mode
  if mode in ("RGB",):
    return np.asarray(img, dtype=np.uint8)
  if mode == "L":
    a = np.asarray(img, dtype=np.uint8)
    return np.repeat(a[..., None], 3, axis=-1)
  if mode.startswith("I") or mode == "F":
    a = np.asarray(img).astype(np.float32)
    if a.ndim == 3:
      a = a[..., 0]
    lo, hi = float(a.min()), float(a.max())
    a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return np.repeat(a[..., None], 3, axis=-1)
  if mode in ("LA", "1"):
    return to_rgb(img.convert("L"))
  return np.asarray(img.convert("RGB"), dtype=np.uint8)


def array_to_rgb(a: np.ndarray) -> np.ndarray:
  """An in-memory image (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) -> RGB."""
  a = np.asarray(a)
  if a.ndim == 3 and a.shape[-1] == 1:
    a = a[..., 0]
  if a.dtype != np.uint8:
    a = a.astype(np.float32)
    lo, hi = float(a.min()), float(a.max())
    a = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
    a = np.clip(np.rint(a), 0, 255).astype(np.uint8)
  if a.ndim == 2:
    return np.repeat(a[..., None], 3, axis=-1)
  if a.ndim == 3 and a.shape[-1] in (3, 4):
    return np.ascontiguousarray(a[..., :3])
  raise DataError(f"Cannot read an image of shape {a.shape} as RGB.")


def resize(
  img: np.ndarray, size: int, how: str, *, resample=Image.BILINEAR
) -> np.ndarray:
  """(H, W, C) or (H, W) uint8 -> (size, size[, C]).

  `squash` stretches to size x size (torchvision `Resize((s, s))`, what the
  paper's pipelines do); `pad` keeps the aspect ratio, fits the longer side
  and pads the rest with zeros, centred.
  """
  h, w = img.shape[:2]
  if how not in ("squash", "pad"):
    raise DataError(f"data.resize must be 'squash' or 'pad', got '{how}'.")
  if (h, w) == (size, size):
    return img
  pil = Image.fromarray(img)
  if how == "squash":
    return np.asarray(pil.resize((size, size), resample, reducing_gap=None))
  scale = size / max(h, w)
  nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
  small = np.asarray(pil.resize((nw, nh), resample))
  out = np.zeros((size, size, *img.shape[2:]), dtype=img.dtype)
  top, left = (size - nh) // 2, (size - nw) // 2
  out[top : top + nh, left : left + nw] = small
  return out


def sample_augment(rng: np.random.Generator, aug) -> dict:
  """Draws one image's augmentation parameters from `aug` (config)."""
  p = {
    "flip": bool(aug.flip) and rng.random() < 0.5,
    "angle": rng.uniform(-aug.rotate, aug.rotate) if aug.rotate else 0.0,
    "zoom": rng.uniform(-aug.zoom, aug.zoom) if aug.zoom else 0.0,
    "dx": rng.uniform(-aug.shift, aug.shift) if aug.shift else 0.0,
    "dy": rng.uniform(-aug.shift, aug.shift) if aug.shift else 0.0,
    "brightness": (
      rng.uniform(-aug.brightness, aug.brightness) if aug.brightness else 0.0
    ),
    "contrast": (
      rng.uniform(-aug.contrast, aug.contrast) if aug.contrast else 0.0
    ),
  }
  return p


def _affine_coeffs(size: int, p: dict) -> tuple[float, ...] | None:
  """Pillow AFFINE coefficients (output -> input) for one augmentation."""
  if not (p["angle"] or p["zoom"] or p["dx"] or p["dy"]):
    return None
  c = (size - 1) / 2.0
  s = 1.0 + p["zoom"]
  t = math.radians(p["angle"])
  cos, sin = math.cos(t) / s, math.sin(t) / s
  # input = R(-angle)/s @ (output - c - shift) + c
  tx, ty = p["dx"] * size, p["dy"] * size
  a, b = cos, sin
  d, e = -sin, cos
  ox, oy = c + tx, c + ty
  return (a, b, c - a * ox - b * oy, d, e, c - d * ox - e * oy)


def augment_geometry(
  img: np.ndarray, mask: np.ndarray | None, p: dict
) -> tuple[np.ndarray, np.ndarray | None]:
  """Flip, then rotate/zoom/shift about the centre (zero fill outside)."""
  if p["flip"]:
    img = img[:, ::-1]
    mask = None if mask is None else mask[:, ::-1]
  coeffs = _affine_coeffs(img.shape[0], p)
  if coeffs is not None:
    size = (img.shape[1], img.shape[0])
    img = np.asarray(
      Image.fromarray(np.ascontiguousarray(img)).transform(
        size, Image.AFFINE, coeffs, resample=Image.BILINEAR
      )
    )
    if mask is not None:
      mask = np.asarray(
        Image.fromarray(np.ascontiguousarray(mask)).transform(
          size, Image.AFFINE, coeffs, resample=Image.NEAREST
        )
      )
  return img, mask


def normalize(img: np.ndarray, mean, std, p: dict | None = None) -> np.ndarray:
  """uint8 (H, W, 3) -> float32 (x/255 [brightness/contrast] - mean) / std."""
  x = img.astype(np.float32) * np.float32(1.0 / 255.0)
  if p is not None and (p["brightness"] or p["contrast"]):
    m = x.mean(dtype=np.float32)
    x = (x - m) * np.float32(1.0 + p["contrast"]) + m
    x = x * np.float32(1.0 + p["brightness"])
    np.clip(x, 0.0, 1.0, out=x)
  x -= np.asarray(mean, np.float32)
  x /= np.asarray(std, np.float32)
  return x


def process(
  img: np.ndarray,
  mask: np.ndarray | None,
  cfg,
  rng: np.random.Generator | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
  """Raw uint8 RGB (+ optional uint8 mask) -> model input (+ float mask).

  Args:
    img: (H, W, 3) uint8 at any size.
    mask: (H, W) uint8 {0, 1} ground-truth lesion mask, or None.
    cfg: the data config (image_size, resize, mean, std, augment).
    rng: when given (training), augmentation is applied with it.
  """
  size = cfg.image_size
  img = resize(img, size, cfg.resize)
  if mask is not None:
    mask = resize(mask, size, cfg.resize, resample=Image.NEAREST)
  p = None
  if rng is not None and cfg.augment.enabled:
    p = sample_augment(rng, cfg.augment)
    img, mask = augment_geometry(img, mask, p)
  x = normalize(img, cfg.mean, cfg.std, p)
  m = None if mask is None else (mask > 0).astype(np.float32)
  return x, m
