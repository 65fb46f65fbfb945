# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The data section of a config: `config.data = data.default_config()`,
and `check_config(config.data)`, what `load` checks before reading anything.

Every field has a concrete type (no None), so each one can be overridden
from the command line, e.g. `--config.data.root=/data/chest_xray`.
"""

import os

import ml_collections

from xaijax.data.errors import DataError
from xaijax.data.integrity import VERIFY_LEVELS
from xaijax.data.layouts import LAYOUTS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Every `data.name`, one per published layout (xaijax/data/layouts/).
DATASETS = tuple(LAYOUTS)
# The external validation sets among them (every image a test image).
EXTERNAL_DATASETS = tuple(n for n, lay in LAYOUTS.items() if lay.test_only)
EXTERNAL_FIELDS = ("groups", "mapping", "name", "root")


def default_config() -> ml_collections.ConfigDict:
  """Defaults: the synthetic lesion set at 224 px, ImageNet normalisation."""
  c = ml_collections.ConfigDict()
  # One of DATASETS. `root` is the folder (or, for medmnist, the .npz file)
  # that the user downloaded; synthetic needs none.
  c.name = "synthetic"
  c.root = ""
  # Output geometry and normalisation (images leave as NHWC float32).
  c.image_size = 224
  c.resize = (
    "squash"  # "squash" (ignore aspect, as torchvision Resize) or "pad"
  )
  c.mean = IMAGENET_MEAN
  c.std = IMAGENET_STD
  # Batching. batch_size is GLOBAL (all hosts); 0 means "same as batch_size".
  c.batch_size = 32
  c.eval_batch_size = 0
  # Splits: seed drives split membership, shuffling and augmentation.
  c.seed = 0
  c.val_fraction = 0.1
  c.test_fraction = 0.2  # only where the layout has no official test split
  c.num_folds = 0  # k > 1: k-fold over the train pool; `fold` is validation
  c.fold = 0
  c.limit = 0  # > 0: keep at most this many images per split (tiny runs)
  # Dataset-specific class grouping: "" (as published) or, for the skin
  # sets and BreakHis, "benign_malignant" (melanoma, basal and squamous
  # cell carcinoma, akiec; BreakHis's four carcinomas -> malignant; the
  # rest -> benign).
  c.grouping = ""
  # Bad input handling.
  c.verify = "header"  # "none", "header" (open every file) or "full" (decode)
  c.skip_corrupt = False  # False: stop and list bad files; True: drop them
  c.check_duplicates = True  # content-hash train/val/test leakage check
  c.jpeg_draft = True  # let libjpeg decode at a reduced scale when it can
  # Optional TFDS path: read a dataset prepared by
  # xaijax.data.tfds_builders.prepare (array_record) from this data_dir
  # instead of the folder `root`; tfds_config picks the builder config
  # (chest_xray: kermany | covid; skin: isic9 | benign_malignant).
  c.tfds_data_dir = ""
  c.tfds_config = ""
  # Host pipeline: decoding threads and batches kept ready ahead.
  c.num_workers = 2
  c.prefetch = 2
  # Training augmentation (explicit seeds: (seed, epoch, index)).
  c.augment = ml_collections.ConfigDict()
  c.augment.enabled = True
  c.augment.flip = True  # horizontal
  c.augment.rotate = 10.0  # max degrees
  c.augment.zoom = 0.1  # max relative scale change
  c.augment.shift = 0.05  # max fraction of the image size
  c.augment.brightness = 0.1  # max relative change
  c.augment.contrast = 0.1  # max relative change
  # Synthetic lesions (name == "synthetic").
  c.synthetic = ml_collections.ConfigDict()
  c.synthetic.num_images = 1500
  c.synthetic.num_classes = 4
  c.synthetic.modality = "mri"  # "mri", "xray" or "dermoscopy"
  c.synthetic.difficulty = 0.3  # 0 (obvious) .. 1 (shape is the only cue)
  c.synthetic.seed = 0  # the images; `seed` above only splits/augments
  # BreakHis (name == "breakhis"): "" (every magnification) or one of
  # "40X", "100X", "200X", "400X".
  c.breakhis = ml_collections.ConfigDict()
  c.breakhis.magnification = ""
  # External validation sets: {key: xaijax.data.external.entry(name, root,
  # mapping, groups)}, each read by xaijax.data.load_external with the
  # settings above. Empty: none.
  c.external = ml_collections.ConfigDict()
  return c


def check_external(where: str, e) -> None:
  """Checks one external set entry (`xaijax.data.external.entry`): its
  fields and dataset name.

  Raises:
    DataError: a missing or extra field, or an unknown external dataset.
  """
  if not isinstance(e, ml_collections.ConfigDict) or tuple(sorted(e)) != (
    EXTERNAL_FIELDS
  ):
    raise DataError(
      f"{where} must have exactly the fields {', '.join(EXTERNAL_FIELDS)}: "
      "make it with xaijax.data.external.entry(name, root, mapping, "
      "groups)."
    )
  if e.name not in EXTERNAL_DATASETS:
    raise DataError(
      f"{where}.name is '{e.name}'; external datasets: "
      f"{', '.join(EXTERNAL_DATASETS)}."
    )


def check_config(cfg) -> None:
  """Every name and value of a data config, and that its root exists,
  without listing a file: what a launch checks before any work starts.

  Raises:
    DataError: the first bad value, naming the valid ones.
  """
  if cfg.name not in LAYOUTS:
    raise DataError(
      f"Unknown dataset '{cfg.name}'; data.name must be one of "
      f"{', '.join(LAYOUTS)}."
    )
  if cfg.image_size < 8:
    raise DataError(f"data.image_size must be >= 8, got {cfg.image_size}.")
  for f in ("val_fraction", "test_fraction"):
    if not 0.0 <= cfg[f] < 1.0:
      raise DataError(f"data.{f} must be in [0, 1), got {cfg[f]}.")
  if cfg.verify not in VERIFY_LEVELS:
    raise DataError(
      f"data.verify must be one of {', '.join(VERIFY_LEVELS)}, got "
      f"'{cfg.verify}'."
    )
  for key, e in cfg.get("external", {}).items():
    check_external(f"data.external.{key}", e)
  uses_root = cfg.name != "synthetic" and not cfg.tfds_data_dir
  if uses_root and not os.path.exists(os.path.expanduser(cfg.root)):
    what = "is not set" if not cfg.root else f"'{cfg.root}' does not exist"
    raise LAYOUTS[cfg.name].error(f"data.root {what} (data.name='{cfg.name}').")
