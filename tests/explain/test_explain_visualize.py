# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Overlay arithmetic and PNG grids."""

import matplotlib
import numpy as np
import pytest
from PIL import Image

from xaijax.explain import visualize


def test_overlay_blends_colormap():
  image = np.zeros((4, 5, 3), np.uint8)
  cam = np.linspace(0, 1, 20).reshape(4, 5)
  got = visualize.overlay(image, cam, cmap="viridis", alpha=0.25)
  expected = 0.25 * matplotlib.colormaps["viridis"](cam)[..., :3]
  np.testing.assert_allclose(got, expected, atol=1e-6)


def test_overlay_undoes_normalisation():
  rgb = np.random.RandomState(0).rand(3, 3, 3).astype(np.float32)
  mean, std = visualize.IMAGENET_MEAN, visualize.IMAGENET_STD
  normalised = (rgb - np.asarray(mean)) / np.asarray(std)
  got = visualize.overlay(
    normalised, np.zeros((3, 3)), alpha=0.0, mean=mean, std=std
  )
  np.testing.assert_allclose(got, rgb, atol=1e-6)


def test_overlay_errors():
  with pytest.raises(ValueError, match="does not match"):
    visualize.overlay(np.zeros((4, 4, 3)), np.zeros((2, 2)))
  with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
    visualize.overlay(np.zeros((3, 4, 4)), np.zeros((4, 4)))


# save_grid at cell_inches=1 and 100 dpi: cell (row r, column c) of the PNG
# is the 100 x 100 pixel block at (100 r, 100 c); each axis sits inside it.
CELL = 100


def _cell(png: np.ndarray, row: int, column: int) -> np.ndarray:
  return png[CELL * row : CELL * (row + 1), CELL * column : CELL * (column + 1)]


def _where(cell: np.ndarray, rgb: np.ndarray) -> np.ndarray:
  """(y, x) of the cell's pixels of colour `rgb` (floats in [0, 1]).

  matplotlib stores each channel as uint8: within 1 of 255 rgb.
  """
  close = np.abs(cell[..., :3].astype(int) - np.round(255 * rgb)) <= 1
  return np.argwhere(close.all(-1))


def _half_maps() -> np.ndarray:
  """(2, 8, 8): image 0's map is 1 on the left half, image 1's on the right."""
  maps = np.zeros((2, 8, 8))
  maps[0, :, :4] = 1.0
  maps[1, :, 4:] = 1.0
  return maps


def _blob(cell, rgb, side=30):
  """The pixels of colour rgb; at least a side x side square of them."""
  found = _where(cell, rgb)
  assert len(found) >= side * side, (rgb, len(found))
  return found


def test_save_grid_png_shows_each_overlay_in_its_cell(tmp_path):
  grays = (0.5, 0.2)  # one uniform gray image per row
  images = np.stack([np.full((8, 8, 3), g) for g in grays])
  maps = {"half": _half_maps(), "zeros": np.zeros((2, 8, 8))}
  path = tmp_path / "figs" / "grid.png"
  visualize.save_grid(
    path, images, maps, row_titles=["a", "b"], cell_inches=1.0, alpha=0.5
  )
  with Image.open(path) as file:
    png = np.asarray(file.convert("RGB"))
  assert png.shape == (2 * CELL, 3 * CELL, 3)  # image | half | zeros
  jet = matplotlib.colormaps["jet"]
  for row, gray in enumerate(grays):
    hot = 0.5 * gray + 0.5 * np.asarray(jet(1.0)[:3])  # the map is 1
    cold = 0.5 * gray + 0.5 * np.asarray(jet(0.0)[:3])  # the map is 0
    _blob(_cell(png, row, 0), np.full(3, gray))
    assert not len(_where(_cell(png, row, 0), hot))
    # The hot half lies where the map is 1: left in row 0, right in row 1.
    half = _cell(png, row, 1)
    hot_x = _blob(half, hot, side=20)[:, 1].mean()
    cold_x = _blob(half, cold, side=20)[:, 1].mean()
    assert (hot_x < cold_x) if row == 0 else (hot_x > cold_x), row
    _blob(_cell(png, row, 2), cold)
    assert not len(_where(_cell(png, row, 2), hot))
  with pytest.raises(ValueError, match="maps\\['bad'\\]"):
    visualize.save_grid(path, images, {"bad": np.zeros((2, 4, 4))})


def test_save_grid_adds_a_mask_column(tmp_path):
  images = np.full((2, 8, 8, 3), 0.5)
  path = tmp_path / "grid.png"
  visualize.save_grid(
    path,
    images,
    {"gradcam": _half_maps()},
    masks=_half_maps() > 0.5,
    cell_inches=1.0,
  )
  with Image.open(path) as file:
    png = np.asarray(file.convert("RGB"))
  assert png.shape == (2 * CELL, 3 * CELL, 3)  # image | mask | gradcam
  for row in range(2):
    # The mask is drawn in gray: white inside the lesion, black outside.
    mask = _cell(png, row, 1)
    white_x = _blob(mask, np.ones(3), side=20)[:, 1].mean()
    black_x = _blob(mask, np.zeros(3), side=20)[:, 1].mean()
    assert (white_x < black_x) if row == 0 else (white_x > black_x), row
