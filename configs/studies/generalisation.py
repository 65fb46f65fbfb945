# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What the generalisation study configs share: the external sets, the runs
they train and where those runs live.

`arg` of every generalisation config (after the colon), besides
configs/studies/common.py's `full`, `tiny` and `max_steps` (here 300 by
default: a CPU budget):
  trained: the folder of the trained runs, relative to the workdir
    ('trained'); the experiments in EXPERIMENTS.md pass `trained=../trained`
    so that the six configs share one set of runs, each training only the
    runs the earlier ones did not.
External roots default to ../shared/data/external and are overridden per
set: `--config.external.ph2.root=/data/ph2`.
"""

from configs import base
from configs.studies import common
from xaijax import study
from xaijax.data import external

# key: (external dataset, its root, the training dataset it validates).
EXTERNAL = {
  "brain_yes_no": (
    "brain_mri_yes_no",
    "../shared/data/external/brain_mri/chakrabarty_yes_no",
    "brain",
  ),
  "covid": (
    "covid19_radiography",
    "../shared/data/external/chest_xray/covid19_radiography_224",
    "chest",
  ),
  "ph2": ("ph2", "../shared/data/external/skin/ph2_256", "skin"),
}
# The external set of each training dataset.
OF_DATASET = {dataset: key for key, (_, _, dataset) in EXTERNAL.items()}


def parse_arg(arg):
  return base.parse_arg(
    arg, full=False, tiny=False, max_steps=300, trained="trained"
  )


def launch(arg):
  """An empty launch with the shared keys and the three external sets."""
  config = study.launch_config()
  common.shared(config)
  for key, (name, root, _) in EXTERNAL.items():
    config.external[key] = external.entry(name, root)
  return config


def run_name(model: str, dataset: str, seed: int) -> str:
  return f"{model}_{dataset}_s{seed}"


def add_runs(config, arg, models, datasets, seeds) -> dict[str, list[str]]:
  """Adds every model x dataset x seed run; returns {dataset: run names}."""
  names = {}
  for dataset in datasets:
    for model in models:
      for seed in seeds:
        name = run_name(model, dataset, seed)
        train = common.train_config(config, model, dataset, seed, arg)
        config.runs[name] = study.run_config(f"{arg.trained}/{name}", train)
        names.setdefault(dataset, []).append(name)
  return names
