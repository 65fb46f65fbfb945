# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Figure grids: per image, the image, its mask (if any) and one overlay per
method, written as PNG with matplotlib (Agg, no display needed)."""

from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np


def overlay(image, cam, *, alpha: float = 0.5, cmap: str = "jet"):
  """(H, W, 3) in [0, 1]: the image blended with the coloured map.

  As pytorch-grad-cam's `show_cam_on_image`: (1 − α)·image + α·colour(cam),
  rescaled by its maximum.

  Args:
    image: (H, W, 3) float in [0, 1].
    cam: (H, W) map in [0, 1].
  """
  heat = plt.get_cmap(cmap)(np.clip(np.asarray(cam), 0, 1))[..., :3]
  mixed = (1 - alpha) * np.asarray(image, np.float32) + alpha * heat
  return mixed / max(float(mixed.max()), 1e-8)


def display_image(normalised, mean, std):
  """Normalised (…, H, W, 3) -> displayable [0, 1]: x · std + mean."""
  x = np.asarray(normalised) * np.asarray(std) + np.asarray(mean)
  return np.clip(x, 0, 1)


def figure_grid(
  path: str,
  images,
  maps: Mapping[str, np.ndarray],
  *,
  masks=None,
  titles: Sequence[str] | None = None,
  cell: float = 2.0,
) -> str:
  """Writes a PNG grid: one row per image, columns image | mask | methods.

  Args:
    path: output PNG path.
    images: (N, H, W, 3) displayable images in [0, 1].
    maps: {method: (N, H, W) map in [0, 1]}.
    masks: optional (N, H, W) ground truth, drawn as its own column.
    titles: optional (N,) row labels (e.g. id, class and prediction).
    cell: inches per panel.

  Returns:
    `path`.
  """
  images = np.asarray(images)
  n = len(images)
  columns = ["image"] + (["mask"] if masks is not None else []) + list(maps)
  fig, axes = plt.subplots(
    n, len(columns), figsize=(cell * len(columns), cell * n), squeeze=False
  )
  for i in range(n):
    panels = [images[i]]
    if masks is not None:
      panels.append(np.asarray(masks[i]))
    panels += [overlay(images[i], maps[m][i]) for m in maps]
    for j, (ax, panel) in enumerate(zip(axes[i], panels, strict=True)):
      ax.imshow(panel, cmap="gray" if panel.ndim == 2 else None)
      ax.set_xticks([])
      ax.set_yticks([])
      if i == 0:
        ax.set_title(columns[j], fontsize=9)
    if titles is not None:
      axes[i][0].set_ylabel(titles[i], fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=100)
  plt.close(fig)
  return path
