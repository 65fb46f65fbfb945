# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The config of a study launch, and its checks (before any work starts).

A study config (`configs/studies/*.py`, run by `launch.py`) has

* `runs`: {name: `run_config(...)`}: the trained runs it reads. Each names a
  workdir (relative paths are relative to the study's workdir) and, to train
  it when it is missing, the training config (`train`). A workdir holding
  repeats (`repeats.json`) stands for every run in it (`<name>/<sub-run>`).
* `train_missing`: train missing runs first (True) or stop with an error.
* `studies`: {name: a `cams_config()` or `models_config()`}: the questions.

Every name in it (runs, methods, layers, target policies, selections,
metrics, options, and each training config's own names) is checked by
`check` before anything is loaded, trained or computed.
"""

import dataclasses
import re

import ml_collections

from xaijax import explain, models
from xaijax.evaluate import scoring
from xaijax.explain import cam as cam_lib

# Explained class per image.
TARGET_POLICIES = ("predicted", "true")
# Test images explained (a class name after 'class=' takes that true class).
SELECTIONS = ("balanced", "all", "correct", "incorrect")
_CLASS = re.compile(r"^class=(.+)$")
TESTS = ("ttest", "wilcoxon")


def launch_config() -> ml_collections.ConfigDict:
  """An empty study launch: add `runs` and `studies` entries."""
  config = ml_collections.ConfigDict()
  config.runs = ml_collections.ConfigDict()
  config.train_missing = True
  config.studies = ml_collections.ConfigDict()
  config.progress = True
  # Multi-host runs (see docs/training.md); the training configs carry
  # their own copy for the runs they train.
  config.distributed = ml_collections.ConfigDict()
  config.distributed.auto = False
  config.distributed.coordinator_address = ""
  config.distributed.num_processes = 1
  config.distributed.process_id = 0
  config.distributed.cpu_collectives = "gloo"
  return config


def run_config(
  workdir: str, train: ml_collections.ConfigDict | None = None
) -> ml_collections.ConfigDict:
  """One trained run: its workdir and, optionally, how to train it."""
  run = ml_collections.ConfigDict()
  run.workdir = workdir
  # A placeholder keeps the key overridable when no config is given.
  run.train = train if train is not None else ml_collections.ConfigDict()
  return run


def cams_config(**overrides) -> ml_collections.ConfigDict:
  """A CAM study: models x methods x layers x targets x selections x metrics.

  Keys (defaults in brackets):
    runs: run names to explain [(): every run of the launch].
    methods: CAM methods [the paper's five].
    layers: layer names; '' is the model's default layer and 'layer4.*' is
      every direct child of layer4 (a sweep, one compiled pass) [('',)].
    targets: explained class: 'predicted', 'true' or 'class=<name>'
      [('predicted',)].
    selections: test images: 'balanced' (class-balanced seeded sample of
      max_images), 'all', 'correct', 'incorrect', 'class=<name>'
      [('balanced',)].
    metrics: `xaijax.evaluate.scoring.METRICS` [('confidence', 'road')].
    tests: paired tests between methods, Holm-corrected per table
      [('ttest', 'wilcoxon')].
    max_images, batch_size, seed: sample size, images per compiled batch,
      the sample's and ROAD noise's seed.
    cam: `xaijax.explain.cam.Options`; scores: `ScoreOptions`.
    figure_images: images per class in the overlay grids.
    notes: text shown at the top of the study's report.
  """
  c = ml_collections.ConfigDict()
  c.kind = "cams"
  c.runs = ()
  c.methods = explain.PAPER_METHODS
  c.layers = ("",)
  c.targets = ("predicted",)
  c.selections = ("balanced",)
  c.metrics = ("confidence", "road")
  c.tests = TESTS
  c.max_images = 64
  c.batch_size = 16
  c.seed = 0
  c.cam = ml_collections.ConfigDict(dataclasses.asdict(cam_lib.Options()))
  c.scores = ml_collections.ConfigDict(
    dataclasses.asdict(scoring.ScoreOptions())
  )
  c.figure_images = 4
  c.notes = ""
  c.update(overrides)
  return c


def models_config(**overrides) -> ml_collections.ConfigDict:
  """A model comparison (the paper's Table 1): test metrics over runs.

  Keys: runs [(): every run], metrics (columns of results.json's test
  metrics) [('accuracy', 'balanced_accuracy', 'macro_f1')], notes.
  """
  c = ml_collections.ConfigDict()
  c.kind = "models"
  c.runs = ()
  c.metrics = ("accuracy", "balanced_accuracy", "macro_f1")
  c.notes = ""
  c.update(overrides)
  return c


class ConfigError(ValueError):
  """A config value that names nothing valid; the message lists the valid
  values."""


def _one_of(where: str, value, valid) -> None:
  if value not in valid:
    raise ConfigError(
      f"{where}='{value}' is not valid; choose one of {', '.join(valid)}."
    )


def class_policy(entry: str) -> str | None:
  """The class name of a 'class=<name>' entry, else None."""
  match = _CLASS.match(entry)
  return match.group(1) if match else None


def study_runs(config, name: str) -> tuple[str, ...]:
  """The run names a study reads (all the launch's runs when empty)."""
  return tuple(config.studies[name].runs) or tuple(config.runs)


def _check_cams(study, where: str) -> None:
  explain.cam.Options.from_kwargs(dict(study.cam))
  scoring.ScoreOptions(**dict(study.scores))
  for method in study.methods:
    _one_of(
      f"{where}.methods",
      method,
      (*explain.CAM_METHODS, *explain.ATTENTION_METHODS),
    )
  scoring.check_metrics(study.metrics)
  for test in study.tests:
    _one_of(f"{where}.tests", test, TESTS)
  for policy in study.targets:
    if class_policy(policy) is None:
      _one_of(f"{where}.targets", policy, (*TARGET_POLICIES, "class=<name>"))
  for selection in study.selections:
    if class_policy(selection) is None:
      _one_of(f"{where}.selections", selection, (*SELECTIONS, "class=<name>"))
  for key in ("max_images", "batch_size"):
    if study[key] < 1:
      raise ConfigError(f"{where}.{key} must be positive, got {study[key]}.")


def _check_models(study, where: str) -> None:
  del study, where  # its metrics are read from results.json as they are


# Each kind of study: (its config's check, study config, 'config.studies.x').
CHECKS = {"cams": _check_cams, "models": _check_models}
KINDS = tuple(CHECKS)


def check_static(config: ml_collections.ConfigDict) -> None:
  """Checks every name that needs no trained model or data.

  Raises:
    ConfigError: the first bad name, with the valid ones.
  """
  if not config.studies:
    raise ConfigError(
      "config.studies is empty: add at least one study "
      "(xaijax.study.cams_config() or models_config())."
    )
  for name, study in config.studies.items():
    where = f"config.studies.{name}"
    _one_of(f"{where}.kind", study.get("kind"), KINDS)
    for run in study_runs(config, name):
      _one_of(f"{where}.runs", run, tuple(config.runs))
    CHECKS[study.kind](study, where)
  if not config.runs:
    raise ConfigError("config.runs is empty: name the trained runs to read.")
  for name, run in config.runs.items():
    if not run.workdir:
      raise ConfigError(f"config.runs.{name}.workdir is empty.")


def expand_layers(module, image_size: int, layers) -> tuple[str, ...]:
  """'' -> the default layer; 'stage.*' -> every direct child of 'stage'.

  Raises:
    ConfigError: an unknown layer or an empty sweep, naming the valid ones
      (found by an abstract trace, `jax.eval_shape`: no computation).
  """
  known = models.layer_shapes(module, (1, image_size, image_size, 3))
  name = explain.checks.model_name(module)
  out: list[str] = []
  for entry in layers:
    if not entry:
      out.append(models.default_layer(name))
    elif entry.endswith(".*"):
      stage = entry[:-2]
      depth = stage.count(".") + 1
      children = [
        k for k in known if k.startswith(stage + ".") and k.count(".") == depth
      ]
      if not children:
        raise ConfigError(
          f"Layer sweep '{entry}' matches no layer of {name}; "
          + _layer_hint(known)
        )
      out += children
    else:
      try:
        models.taps.check_layers(
          module, (1, image_size, image_size, 3), [entry]
        )
      except ValueError as e:
        raise ConfigError(str(e)) from None
      out.append(entry)
  return tuple(dict.fromkeys(out))


def _layer_hint(known) -> str:
  top = sorted({k for k in known if k.count(".") <= 1})
  return f"top-level layers: {', '.join(top)}."


def check_layers(config, run_configs) -> None:
  """Checks each cams study's layers against its runs' models.

  Args:
    config: the launch config.
    run_configs: {run name: its training ConfigDict} (model name, tiny,
      image size); runs without one are checked once loaded.
  """
  for name, study in config.studies.items():
    if study.kind != "cams":
      continue
    for run in study_runs(config, name):
      train = run_configs.get(run)
      if not train:
        continue
      module = models.create(train.model.name, 2, tiny=train.model.tiny)
      try:
        expand_layers(module, train.data.image_size, study.layers)
      except ConfigError as e:
        raise ConfigError(
          f"config.studies.{name}.layers, run '{run}': {e}"
        ) from None
