# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Studies: the questions asked of trained models, run by `launch.py`.

Train once, explain many: a study config (`configs/studies/*.py`) names the
trained runs it reads (training the missing ones first) and its studies: a
CAM grid (`cams_config`: models x methods x layers x target policies x image
selections x metrics, with paired tests between methods), a comparison of
the runs themselves (`models_config`: the paper's Table 1), or a question of
generalisation: external validation (`external_config`), calibration
(`calibration_config`), uncertainty and selective prediction
(`uncertainty_config`), corruption robustness of predictions
(`corruptions_config`) and of maps (`map_robustness_config`). Every cell is
cached, so adding a method, layer or metric to a finished study computes
only the new cells, and a killed study resumes. See docs/studies.md.

  python launch.py --config configs/studies/paper_cams.py --workdir runs/t2
"""

import pathlib

import jax
import ml_collections
from jax.experimental import multihost_utils

from xaijax import console
from xaijax.report import studies as study_report
from xaijax.study import (
  calibration,
  cams,
  corruptions,
  external,
  map_robustness,
  models,
  runs,
  uncertainty,
)
from xaijax.study.cache import Cache
from xaijax.study.config import (
  ConfigError,
  calibration_config,
  cams_config,
  check_layers,
  check_models,
  check_static,
  corruptions_config,
  external_config,
  launch_config,
  map_robustness_config,
  models_config,
  run_config,
  study_runs,
  uncertainty_config,
)
from xaijax.train import checks as train_checks
from xaijax.train import sharding

CACHE = "cache.sqlite"
# Each kind of study (config.KINDS): (name, study config, its runs, its
# folder, the launch's Context) -> {'report': path or None, ...}.
RUNNERS = {
  "cams": cams.run,
  "models": models.run,
  "external": external.run,
  "calibration": calibration.run,
  "uncertainty": uncertainty.run,
  "corruptions": corruptions.run,
  "map_robustness": map_robustness.run,
}


def is_study(config: ml_collections.ConfigDict) -> bool:
  """Whether a launch config is a study (else a training config)."""
  return "studies" in config


def check_config(config: ml_collections.ConfigDict) -> None:
  """Checks every name of a study launch, and of each run's training config,
  before anything is loaded, trained or computed.

  Raises:
    ValueError: the first bad name, with the valid ones.
  """
  check_static(config)
  trainable = {name: r.train for name, r in config.runs.items() if r.train}
  for train in trainable.values():
    train_checks.check_config(train)
  check_layers(config, trainable)
  check_models(config, trainable)
  for name, study in config.studies.items():
    if "batch_size" in study:
      train_checks.check_batch_size(
        f"studies.{name}.batch_size", study.batch_size
      )


def run(
  config: ml_collections.ConfigDict,
  workdir: str,
  *,
  data=None,
  trainers=None,
) -> dict:
  """Trains the missing runs, computes every study, writes the reports.

  Args:
    config: a study launch config (`launch_config` with runs and studies).
    workdir: the launch's folder: studies/<name>/, report/, cache.sqlite;
      run workdirs given as relative paths live under it too.
    data: the data module (default `xaijax.data`; tests pass a fake).
    trainers: {framework: run(config, workdir)} for runs of other
      frameworks (`runs.resolve`).

  Returns:
    {'report': index path, 'studies': {name: {...}}}.
  """
  sharding.initialize_distributed(config)
  workdir = pathlib.Path(workdir)
  found = runs.resolve(config, str(workdir), data=data, trainers=trainers)
  is_main = jax.process_index() == 0
  mesh = sharding.make_mesh()
  if is_main:
    workdir.mkdir(parents=True, exist_ok=True)
  context = runs.Context(
    workdir=workdir,
    mesh=mesh,
    cache=Cache(str(workdir / CACHE)) if is_main else None,
    data=data,
    external=dict(config.get("external", {})),
  )
  results, reports = {}, {}
  try:
    for name, study in config.studies.items():
      members = [r for e in study_runs(config, name) for r in found[e]]
      out_dir = workdir / "studies" / name
      results[name] = RUNNERS[study.kind](
        name, study, members, out_dir, context
      )
      reports[name] = (study.kind, results[name]["report"])
  finally:
    if context.cache is not None:
      context.cache.close()
  index = None
  if is_main:
    every_run = [r for group in found.values() for r in group]
    index = study_report.write_index(workdir, reports, every_run)
    console.say(f"Report: {index}")
  if jax.process_count() > 1:
    # The others wait for process 0's files before they leave (a process
    # that leaves first fails the group's shutdown barrier).
    multihost_utils.sync_global_devices("xaijax study written")
  return {"report": index, "studies": results}


__all__ = [
  "ConfigError",
  "calibration_config",
  "cams_config",
  "check_config",
  "corruptions_config",
  "external_config",
  "is_study",
  "launch_config",
  "map_robustness_config",
  "models_config",
  "run",
  "run_config",
  "uncertainty_config",
]
