# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""xaijax against the PyTorch baseline on the same split, seeds and settings.

  python launch.py --config configs/studies/torch_baseline.py --workdir runs/torch

Trains ResNet50 on the brain MRI sample with seeds 0 and 1 twice: with
xaijax (JAX/Flax, optax) and with the PyTorch baseline
(baselines/torch_trainer.py: torchvision's model, torch.optim, the same
batches from xaijax.data); same config otherwise (configs/studies/common.py).
The `models` study then compares `resnet50` with `resnet50 (torch)`: test
metrics with 95% intervals over seeds, paired t-tests over seeds, and per
test image. Needs the `torch` extra (`pip install -e ".[torch]"`).
"""

from configs.studies import common
from xaijax import study

SEEDS = (0, 1)


def get_config(arg=None):
  arg = common.parse_arg(arg)
  config = study.launch_config()
  common.shared(config)
  for framework in ("jax", "torch"):
    for seed in SEEDS:
      name = f"resnet50_brain_{framework}_s{seed}"
      train = common.train_config(config, "resnet50", "brain", seed, arg)
      train.framework = framework
      config.runs[name] = study.run_config(name, train)
  config.studies.frameworks = study.models_config()
  return config
