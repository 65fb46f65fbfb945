# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Calibration before and after temperature scaling, in and out of
distribution.

  python launch.py --config configs/studies/calibration.py \
    --workdir runs/generalisation/calibration

The runs of external_validation.py (ResNet50, EfficientNet-B0; seeds 0, 1;
brain, chest, skin). Each run's temperature is fitted on its validation
split and applied to its test split and its dataset's external set: ECE
(equal-width and equal-mass), classwise ECE, MCE, Brier, NLL before and
after, reliability diagrams, paired tests per image. Arguments:
configs/studies/generalisation.py.
"""

from configs.studies import external_validation as ev
from configs.studies import generalisation as g
from xaijax import study


def get_config(arg=None):
  arg = g.parse_arg(arg)
  config = g.launch(arg)
  runs = g.add_runs(config, arg, ev.MODELS, ev.DATASETS, ev.SEEDS)
  for dataset, names in runs.items():
    config.studies[f"calibration_{dataset}"] = study.calibration_config(
      runs=tuple(names),
      sets=("test", f"external:{g.OF_DATASET[dataset]}"),
    )
  return config
