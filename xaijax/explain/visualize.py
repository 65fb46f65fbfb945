# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Overlays of maps on images, and image x method grids saved as PNG.

Host-side helpers (numpy + matplotlib, no pyplot state): they run after the
jitted computation, on arrays fetched from the device.
"""

import os
from collections.abc import Mapping, Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def to_display(
  image: np.ndarray,
  mean: Sequence[float] | None = None,
  std: Sequence[float] | None = None,
) -> np.ndarray:
  """(H, W, 3) image -> float32 RGB in [0, 1].

  Args:
    image: uint8 [0, 255], float [0, 1], or a normalised float image when
      `mean` and `std` are given (undoes (x - mean) / std).
    mean, std: the normalisation the data pipeline applied, if any.
  """
  image = np.asarray(image)
  if image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f"Expected an (H, W, 3) image, got shape {image.shape}.")
  if image.dtype == np.uint8:
    return image.astype(np.float32) / 255.0
  image = image.astype(np.float32)
  if mean is not None and std is not None:
    image = image * np.asarray(std, np.float32) + np.asarray(mean, np.float32)
  return np.clip(image, 0.0, 1.0)


def overlay(
  image: np.ndarray,
  cam: np.ndarray,
  *,
  cmap: str = "jet",
  alpha: float = 0.5,
  mean: Sequence[float] | None = None,
  std: Sequence[float] | None = None,
) -> np.ndarray:
  """A map blended over its image, as pytorch-grad-cam's show_cam_on_image.

  Args:
    image: (H, W, 3) image (see `to_display`).
    cam: (H, W) map in [0, 1].
    cmap: matplotlib colour map name.
    alpha: weight of the heat map (1 - alpha for the image).
    mean, std: the image's normalisation, if any.

  Returns:
    (H, W, 3) float32 RGB in [0, 1].
  """
  cam = np.asarray(cam, np.float32)
  rgb = to_display(image, mean, std)
  if cam.shape != rgb.shape[:2]:
    raise ValueError(
      f"Map shape {cam.shape} does not match image shape {rgb.shape[:2]}."
    )
  if not 0.0 <= alpha <= 1.0:
    raise ValueError(f"alpha must be in [0, 1], got {alpha}.")
  heat = matplotlib.colormaps[cmap](np.clip(cam, 0.0, 1.0))[..., :3]
  return ((1 - alpha) * rgb + alpha * heat).astype(np.float32)


def save_grid(
  path: str | os.PathLike,
  images: np.ndarray,
  maps: Mapping[str, np.ndarray],
  *,
  masks: np.ndarray | None = None,
  row_titles: Sequence[str] | None = None,
  cmap: str = "jet",
  alpha: float = 0.5,
  mean: Sequence[float] | None = None,
  std: Sequence[float] | None = None,
  cell_inches: float = 2.0,
) -> None:
  """Saves a PNG grid: per image, the image, its mask, one overlay per map.

  Args:
    path: output .png path (parent folders are created).
    images: (B, H, W, 3) images.
    maps: {method: (B, H, W) maps in [0, 1]}, columns in this order.
    masks: optional (B, H, W) ground-truth masks, drawn after the image.
    row_titles: one label per image (e.g. class names), optional.
    cmap, alpha, mean, std: as `overlay`.
    cell_inches: size of one cell.
  """
  images = np.asarray(images)
  maps = {name: np.asarray(m) for name, m in maps.items()}
  for name, m in maps.items():
    if m.shape != images.shape[:3]:
      raise ValueError(
        f"maps['{name}'] has shape {m.shape}; expected {images.shape[:3]}."
      )
  titles = ["image", *(["mask"] if masks is not None else []), *maps]
  rows, cols = len(images), len(titles)
  figure = Figure(figsize=(cell_inches * cols, cell_inches * rows))
  axes = figure.subplots(rows, cols, squeeze=False)
  for b in range(rows):
    cells = [to_display(images[b], mean, std)]
    if masks is not None:
      cells.append(np.asarray(masks[b], np.float32))
    cells += [
      overlay(images[b], m[b], cmap=cmap, alpha=alpha, mean=mean, std=std)
      for m in maps.values()
    ]
    for c, cell in enumerate(cells):
      axis = axes[b, c]
      axis.imshow(cell, cmap="gray" if cell.ndim == 2 else None)
      axis.set_xticks([])
      axis.set_yticks([])
      if b == 0:
        axis.set_title(titles[c], fontsize=9)
    if row_titles is not None:
      axes[b, 0].set_ylabel(row_titles[b], fontsize=9)
  figure.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  figure.savefig(path, dpi=100)
