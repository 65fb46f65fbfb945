# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Uncertainty and selective prediction: do ensembles, test-time
augmentation or MC dropout move (external) accuracy?

  python launch.py --config configs/studies/uncertainty.py \
    --workdir runs/generalisation/uncertainty

The runs of external_validation.py. Per dataset: EfficientNet-B0 as a
single run, a 2-seed deep ensemble, TTA (flip and 4-pixel shifts) and MC
dropout (20 passes); ResNet50, which has no dropout, without MC dropout.
Test split and external set; per-image entropies and mutual information,
accuracy-coverage curves, AURC, E-AURC, paired tests per image. Arguments:
configs/studies/generalisation.py.
"""

from configs.studies import external_validation as ev
from configs.studies import generalisation as g
from xaijax import study
from xaijax.study.config import MC_DROPOUT_MODELS


def get_config(arg=None):
  arg = g.parse_arg(arg)
  config = g.launch(arg)
  runs = g.add_runs(config, arg, ev.MODELS, ev.DATASETS, ev.SEEDS)
  for dataset, names in runs.items():
    sets = ("test", f"external:{g.OF_DATASET[dataset]}")
    for model in ev.MODELS:
      mine = tuple(n for n in names if n.startswith(f"{model}_"))
      methods = ("ensemble", "tta")
      if model in MC_DROPOUT_MODELS:
        methods += ("mc_dropout",)
      config.studies[f"uncertainty_{model}_{dataset}"] = (
        study.uncertainty_config(
          runs=mine, sets=sets, methods=methods,
          mc_samples=4 if arg.tiny else 20,
        )
      )  # fmt: skip
  return config
