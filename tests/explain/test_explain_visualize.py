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


def test_save_grid_png(tmp_path):
  images = np.random.RandomState(1).rand(2, 8, 8, 3)
  maps = {"gradcam": images[..., 0], "layercam": np.zeros((2, 8, 8))}
  path = tmp_path / "figs" / "grid.png"
  visualize.save_grid(
    path, images, maps, row_titles=["a", "b"], cell_inches=1.0
  )
  with Image.open(path) as png:
    assert png.size == (300, 200)
  with pytest.raises(ValueError, match="maps\\['bad'\\]"):
    visualize.save_grid(path, images, {"bad": np.zeros((2, 4, 4))})


def test_save_grid_adds_a_mask_column(tmp_path):
  images = np.random.RandomState(2).rand(2, 8, 8, 3)
  path = tmp_path / "grid.png"
  visualize.save_grid(
    path,
    images,
    {"gradcam": images[..., 1]},
    masks=images[..., 0] > 0.5,
    cell_inches=1.0,
  )
  with Image.open(path) as png:
    assert png.size == (300, 200)  # image | mask | gradcam, two rows.
