# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Tiny runs and a fake PH2 for the generalisation study tests.

The training set is a class-folder set ('folder' layout) with the classes
melanoma, nevus and other: 24 images of 32 px per class, a dark (melanoma)
or light (nevus) disc on skin-coloured noise, none for 'other'. The
external set has PH2's layout (images/ and lesion_masks/ per class
common_nevus, atypical_nevus, melanoma) with the discs' masks, so PH2's
default label map (melanoma -> melanoma, nevus -> nevus, both nevi ->
nevus) applies, and it holds byte copies of `COPIES` training images, which
the studies must drop.
"""

import pathlib
import shutil

import numpy as np
from PIL import Image

from configs import base
from xaijax import study
from xaijax.data import external

CLASSES = ("melanoma", "nevus", "other")
PH2_CLASSES = ("common_nevus", "atypical_nevus", "melanoma")
SIZE = 32
PER_CLASS = 24
PH2_PER_CLASS = 6
COPIES = 2  # training melanoma images copied into the fake PH2


def _image(rng, kind: str) -> tuple[np.ndarray, np.ndarray]:
  """A (SIZE, SIZE, 3) uint8 image and its (SIZE, SIZE) uint8 lesion mask."""
  skin = np.array([200, 150, 130]) + rng.normal(0, 12, (SIZE, SIZE, 3))
  rows, cols = np.mgrid[:SIZE, :SIZE]
  centre = rng.uniform(10, SIZE - 10, 2)
  radius = rng.uniform(5, 8)
  mask = (rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 < radius**2
  colour = {"melanoma": (60, 30, 20), "nevus": (150, 100, 70)}.get(kind)
  if colour is not None:
    skin[mask] = np.array(colour) + rng.normal(0, 10, (mask.sum(), 3))
  image = np.clip(skin, 0, 255).astype(np.uint8)
  return image, (mask * 255).astype(np.uint8)


def make_data(root: pathlib.Path) -> tuple[pathlib.Path, pathlib.Path]:
  """Writes the training set and the fake PH2 under `root`; returns their
  folders."""
  rng = np.random.default_rng(0)
  train = root / "train"
  for c in CLASSES:
    (train / c).mkdir(parents=True)
    for i in range(PER_CLASS):
      image, _ = _image(rng, c)
      Image.fromarray(image).save(train / c / f"{c}_{i:02d}.png")
  ph2 = root / "ph2"
  for c in PH2_CLASSES:
    for part in ("images", "lesion_masks"):
      (ph2 / part / c).mkdir(parents=True)
    kind = "melanoma" if c == "melanoma" else "nevus"
    for i in range(PH2_PER_CLASS):
      image, mask = _image(rng, kind)
      Image.fromarray(image).save(ph2 / "images" / c / f"IMD{c[:2]}{i}.png")
      Image.fromarray(mask).save(
        ph2 / "lesion_masks" / c / f"IMD{c[:2]}{i}.png"
      )
  for i in range(COPIES):
    name = f"copy{i}.png"
    shutil.copy(train / "melanoma" / f"melanoma_{i:02d}.png",
                ph2 / "images" / "melanoma" / name)  # fmt: skip
    Image.new("L", (SIZE, SIZE), 255).save(
      ph2 / "lesion_masks" / "melanoma" / name
    )
  return train, ph2


def train_config(root: pathlib.Path, model: str, seeds=(0,)):
  """A tiny `model` on the training set: 32 px, 4 steps, seed repeats."""
  config = base.get_config("tiny", model=model)
  config.data.name = "folder"
  config.data.root = str(root)
  config.data.image_size = SIZE
  config.data.test_fraction = 0.25
  config.data.val_fraction = 0.15
  config.total_steps = 4
  config.eval_every_steps = 4
  config.checkpoint.every_steps = 4
  config.progress = False
  config.repeats.seeds = tuple(seeds)
  return config


def launch_config(workdir: pathlib.Path, train_root, ph2_root, **studies):
  """The launch: runs 'vgg' (vgg16, seeds 0 and 1) and 'resnet' (resnet50,
  seed 0) under `workdir`/runs, the external set 'ph2', and `studies`."""
  config = study.launch_config()
  config.progress = False
  config.runs.vgg = study.run_config(
    str(workdir / "vgg"), train_config(train_root, "vgg16", (0, 1))
  )
  config.runs.resnet = study.run_config(
    str(workdir / "resnet"), train_config(train_root, "resnet50")
  )
  config.external.ph2 = external.entry("ph2", str(ph2_root))
  for name, s in studies.items():
    config.studies[name] = s
  return config
