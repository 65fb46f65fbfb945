# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The demo: train two CNNs, then study them, end to end in minutes on a CPU.

  python launch.py --config configs/demo.py --workdir runs/demo

Trains ResNet50 and EfficientNet-B0 on the built-in synthetic lesion set
(64 px, 600 images with ground-truth lesion masks) into `runs/demo/<model>/`,
then runs two studies over the trained models: `models` (test metrics with
paired tests between the models on the same test images) and `cams` (the
paper's five CAMs on a class-balanced sample of test images: confidence
change, ROAD and localisation against the lesion masks, paired tests between
methods). The index is `runs/demo/report/report.md`.

REDUCED WIDTHS: both models use their `tiny` variants (same layers and layer
names, few channels; see `xaijax.models.registry.MODELS`), because
full-width models at 64 px do not train to a useful accuracy within a few
minutes on 2 cores. `:full` uses the real widths; `:tiny` is a seconds-long
smoke version (32 px, 4 steps) for tests. Timings: docs/training.md.
"""

from configs import base
from xaijax import explain, study

MODELS = ("resnet50", "efficientnet_b0")


def train_config(model: str, arg):
  """One demo run: `model` on the synthetic lesions."""
  config = base.get_config("tiny=0" if arg.full else "tiny", model=model)
  config.data.name = "synthetic"
  config.data.image_size = 64
  config.data.synthetic.num_images = 600
  config.data.synthetic.num_classes = 3
  config.batch_size = 16
  config.eval_batch_size = 32
  config.total_steps = 150
  config.log_every_steps = 10
  config.eval_every_steps = 50
  config.checkpoint.every_steps = 50
  config.optimizer.learning_rate = 3e-3
  config.schedule.warmup_steps = 10
  if arg.tiny:
    config.data.image_size = 32
    config.data.synthetic.num_images = 96
    config.total_steps = 4
    config.eval_every_steps = 2
    config.checkpoint.every_steps = 2
  return config


def get_config(arg=None):
  arg = base.parse_arg(arg, full=False, tiny=False)
  config = study.launch_config()
  for model in MODELS:
    config.runs[model] = study.run_config(model, train_config(model, arg))
  config.studies.models = study.models_config()
  config.studies.cams = study.cams_config(
    methods=explain.PAPER_METHODS,
    metrics=("confidence", "road", "localization"),
    max_images=4 if arg.tiny else 16,
    batch_size=4 if arg.tiny else 16,
    figure_images=2 if arg.tiny else 4,
  )
  return config
