# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Where the truth is known: every CAM method on the synthetic lesions.

  python launch.py --config configs/studies/synthetic_localization.py \
    --workdir runs/localization

Trains ResNet50 (tiny widths) on the synthetic MRI-like lesion set (1,500
images at 64 px, 4 classes; every image has its lesion mask), then explains
128 class-balanced test images with every CAM method at `layer4.2` and at
`layer3`'s blocks (a layer sweep: one forward and backward for all layers)
and scores the maps against the masks (pointing game, energy-based pointing
game, IoU), with ROAD and the confidence change; paired tests between
methods per layer.
"""

from configs import base
from xaijax import explain, study


def get_config(arg=None):
  arg = base.parse_arg(arg, tiny=False)
  config = study.launch_config()
  train = base.get_config("tiny", model="resnet50", dataset="synthetic")
  train.data.image_size = 64
  train.data.synthetic.num_images = 1500
  train.batch_size = 32
  train.eval_batch_size = 64
  train.total_steps = 400
  train.eval_every_steps = 100
  train.checkpoint.every_steps = 100
  train.log_every_steps = 20
  train.optimizer.learning_rate = 3e-3
  train.schedule.warmup_steps = 10
  if arg.tiny:
    train.data.image_size = 32
    train.data.synthetic.num_images = 96
    train.total_steps = 4
  config.runs.resnet50 = study.run_config("resnet50", train)
  layers = ("layer4.2",) if arg.tiny else ("layer4.2", "layer3.*")
  config.studies.localization = study.cams_config(
    methods=explain.CAM_METHODS,
    layers=layers,
    metrics=("localization", "road", "confidence"),
    max_images=8 if arg.tiny else 128,
    batch_size=8 if arg.tiny else 32,
    seed=0,
  )
  return config
