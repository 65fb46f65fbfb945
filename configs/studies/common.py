# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What the paper's study configs share: the real samples and how a run of
the grid trains.

`arg` of every paper config (after the colon):
  full: real widths at 224 px (the paper's setting; needs an accelerator)
    instead of the CPU setting, tiny widths at 64 px;
  tiny: a seconds-long smoke version (32 px, a few steps) for tests;
  max_steps: the training budget per run (early stopping usually ends
    sooner).
Dataset roots default to the samples in ../shared/data and are overridden
once for every run: `--config.roots.brain=/data/brain-tumor-mri-dataset`.
`--config.init_torchvision=/weights/{model}.pth` starts every run from its
architecture's ImageNet weights (README: Bringing real weights).
"""

import ml_collections

from configs import base

# The samples beside the repository (../shared/data/MANIFEST.md).
ROOTS = {
  "brain": "../shared/data/brain_mri/kaggle_testing",
  "skin": "../shared/data/skin/"
  "Skin cancer ISIC The International Skin Imaging Collaboration",
  "chest": "../shared/data/chest_xray/kermany_224",
}
CNNS = ("resnet50", "densenet121", "vgg16", "efficientnet_b0")


def parse_arg(arg):
  return base.parse_arg(arg, full=False, tiny=False, max_steps=1500)


def shared(config: ml_collections.ConfigDict) -> None:
  """Adds the keys every run of a paper config reads by reference."""
  config.roots = ml_collections.ConfigDict(ROOTS)
  config.init_torchvision = ""


def train_config(config, model: str, dataset: str, seed: int, arg):
  """One run of the grid: `model` on `dataset` with `seed`.

  CPU setting: tiny widths, 64 px, Adam 1e-3 with cosine decay over at most
  `max_steps`, validation every 50 steps, early stopping after 6 evaluations
  without improvement of the validation balanced accuracy.
  """
  train = base.get_config(
    "tiny" if arg.tiny else ("tiny=0" if arg.full else "tiny"),
    model=model,
    dataset=dataset,
  )
  train.seed = seed
  train.data.root = config.roots.get_ref(dataset)
  train.init.torchvision = config.get_ref("init_torchvision")
  train.progress = True
  if arg.tiny:
    return train
  train.data.image_size = 224 if arg.full else 64
  train.batch_size = 32
  train.eval_batch_size = 64
  train.total_steps = arg.max_steps
  train.eval_every_steps = 50
  train.checkpoint.every_steps = 50
  train.log_every_steps = 10
  train.early_stopping.patience = 6
  return train
