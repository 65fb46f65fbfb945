# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The demo: two CNNs on synthetic lesions, end to end in minutes on a CPU.

  python launch.py --config configs/demo.py --workdir runs/demo

Trains ResNet50 and EfficientNet-B0 (`config.repeats.models`) on the
built-in synthetic lesion set at 64 px, tests both, then runs the downstream
explain/score/report stage on each. REDUCED WIDTHS: both models use their
`tiny` variants (same layers and layer names, few channels; see
`xaijax.models.registry.MODELS`), because full-width models at 64 px do not
train to a useful accuracy within the 5-minute CPU budget on 2 cores.
`:full` uses the real widths instead; `:tiny` is a seconds-long smoke
version (32 px, 4 steps) for tests. Timings: docs/training.md.
"""

from configs import base


def get_config(arg=None):
  arg = base.parse_arg(arg, full=False, tiny=False)
  config = base.get_config("tiny=0" if arg.full else "tiny")
  config.repeats.models = ("resnet50", "efficientnet_b0")
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
  config.xai.max_images = 16
  if arg.tiny:
    config.data.image_size = 32
    config.data.synthetic.num_images = 96
    config.total_steps = 4
    config.eval_every_steps = 2
    config.checkpoint.every_steps = 2
    config.xai.max_images = 4
  return config
