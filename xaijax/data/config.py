# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The data section of a config: `config.data = data.default_config()`.

Every field has a concrete type (no None), so each one can be overridden
from the command line, e.g. `--config.data.root=/data/chest_xray`.
"""

import ml_collections

from xaijax.data.layouts import LAYOUTS

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# Every `data.name`, one per published layout (xaijax/data/layouts/).
DATASETS = tuple(LAYOUTS)


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
  # sets, "benign_malignant" (melanoma, basal and squamous cell carcinoma,
  # akiec -> malignant; the rest -> benign).
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
  return c
