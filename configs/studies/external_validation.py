# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""External validation: how much accuracy survives another source?

  python launch.py --config configs/studies/external_validation.py \
    --workdir runs/generalisation/external

Trains ResNet50 and EfficientNet-B0 (tiny widths, 64 px on a CPU; seeds 0
and 1) on the brain MRI, chest X-ray and skin samples, then scores each run
on its test split and on the external set of its dataset: Chakrabarty's
brain MRI yes/no (4 classes -> tumour yes/no), the adult COVID-19
Radiography sample (paediatric Kermany NORMAL/PNEUMONIA -> NORMAL/COVID),
PH2 (ISIC 9 classes -> melanoma/nevus). Copies of training images are
removed first. Accuracy, balanced accuracy and AUC with bootstrap
intervals; the in-distribution vs external drop per model over seeds, and
the models on the same images. Arguments: configs/studies/generalisation.py.
"""

from configs.studies import generalisation as g
from xaijax import study

MODELS = ("resnet50", "efficientnet_b0")
DATASETS = ("brain", "chest", "skin")
SEEDS = (0, 1)


def get_config(arg=None):
  arg = g.parse_arg(arg)
  config = g.launch(arg)
  runs = g.add_runs(config, arg, MODELS, DATASETS, SEEDS)
  for dataset, names in runs.items():
    config.studies[f"external_{dataset}"] = study.external_config(
      runs=tuple(names),
      sets=(f"external:{g.OF_DATASET[dataset]}",),
      bootstrap_resamples=200 if arg.tiny else 2000,
    )
  return config
