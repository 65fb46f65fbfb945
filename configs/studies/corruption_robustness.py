# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Corruption robustness of predictions: accuracy and calibration against
severity for the 14 corruptions.

  python launch.py --config configs/studies/corruption_robustness.py \
    --workdir runs/generalisation/corruptions

The runs of external_validation.py, on their test splits: 14 corruptions x
5 severities, drawn per image (seed 0); accuracy, ECE and NLL per severity,
curves per model, paired tests between the models on the same corrupted
images. Arguments: configs/studies/generalisation.py.
"""

from configs.studies import external_validation as ev
from configs.studies import generalisation as g
from xaijax import study


def get_config(arg=None):
  arg = g.parse_arg(arg)
  config = g.launch(arg)
  runs = g.add_runs(config, arg, ev.MODELS, ev.DATASETS, ev.SEEDS)
  for dataset, names in runs.items():
    smoke = {"corruptions": ("gaussian_noise", "jpeg")} if arg.tiny else {}
    config.studies[f"corruptions_{dataset}"] = study.corruptions_config(
      runs=tuple(names), batch_size=64, **smoke
    )
  return config
