# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The config of a study launch, and its checks (before any work starts).

A study config (`configs/studies/*.py`, run by `launch.py`) has

* `runs`: {name: `run_config(...)`}: the trained runs it reads. Each names a
  workdir (relative paths are relative to the study's workdir) and, to train
  it when it is missing, the training config (`train`). A workdir holding
  repeats (`repeats.json`) stands for every run in it (`<name>/<sub-run>`).
* `train_missing`: train missing runs first (True) or stop with an error.
* `external`: {key: `xaijax.data.external.entry(...)`}: the external test
  sets its studies name as 'external:<key>'.
* `studies`: {name: a `cams_config()`, `models_config()`,
  `external_config()`, `calibration_config()`, `uncertainty_config()`,
  `corruptions_config()` or `map_robustness_config()`}: the questions.

Every name in it (runs, methods, layers, target policies, selections,
metrics, options, and each training config's own names) is checked by
`check` before anything is loaded, trained or computed.
"""

import dataclasses
import os
import re

import ml_collections

from xaijax import explain, models
from xaijax.data import config as data_config
from xaijax.data.corruptions import CORRUPTIONS
from xaijax.evaluate import scoring, uncertainty
from xaijax.explain import cam as cam_lib

# Explained class per image.
TARGET_POLICIES = ("predicted", "true")
# Test images explained (a class name after 'class=' takes that true class).
SELECTIONS = ("balanced", "all", "correct", "incorrect")
_CLASS = re.compile(r"^class=(.+)$")
TESTS = ("ttest", "wilcoxon")
# Image sets a study scores a run on: its own splits, or an external set of
# the launch ('external:<key>', a key of `config.external`).
SETS = ("test", "val")
EXTERNAL_PREFIX = "external:"
SEVERITIES = (1, 2, 3, 4, 5)
# Predictors of the uncertainty study besides the single model.
UNCERTAINTY_METHODS = ("ensemble", "tta", "mc_dropout")
# The models with dropout layers (`xaijax.evaluate.mc_dropout_probs`).
MC_DROPOUT_MODELS = ("vgg16", "efficientnet_b0")
SELECTIVE_CONFIDENCES = ("max_prob", "neg_entropy")
# What the map robustness study scores besides the map similarities.
MAP_ROBUSTNESS_METRICS = (
  "confidence",
  "localization",
  "max_sensitivity",
  "avg_sensitivity",
  "local_lipschitz",
)
SENSITIVITY_METRICS = MAP_ROBUSTNESS_METRICS[2:]


def launch_config() -> ml_collections.ConfigDict:
  """An empty study launch: add `runs` and `studies` entries."""
  config = ml_collections.ConfigDict()
  config.runs = ml_collections.ConfigDict()
  config.train_missing = True
  # External test sets, {key: xaijax.data.external.entry(name, root,
  # mapping, groups)}, named 'external:<key>' by the studies.
  config.external = ml_collections.ConfigDict()
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
    images: the image set explained: 'test' or 'external:<key>' (then
      labels, selections and target classes are the external set's
      groups, each explained as the run class of its group that the model
      finds most probable; see docs/studies.md) ['test'].
    notes: text shown at the top of the study's report.
  """
  c = ml_collections.ConfigDict()
  c.kind = "cams"
  c.runs = ()
  c.images = "test"
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
  return _with(c, overrides)


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
  return _with(c, overrides)


def external_config(**overrides) -> ml_collections.ConfigDict:
  """External validation: each run on its test split and external sets.

  Keys (defaults in brackets):
    runs: run names [(): every run].
    sets: the external sets, 'external:<key>' [()]; the run's test split
      is always scored, in its own classes and mapped to each external
      set's groups.
    batch_size: images per compiled batch [32].
    bootstrap_resamples, seed: the bootstrap confidence intervals [2000,
      0].
    tests: paired tests [('ttest', 'wilcoxon')].
    notes: text shown at the top of the report.
  """
  c = ml_collections.ConfigDict()
  c.kind = "external"
  c.runs = ()
  c.sets = ()
  c.batch_size = 32
  c.bootstrap_resamples = 2000
  c.seed = 0
  c.tests = TESTS
  c.notes = ""
  return _with(c, overrides)


def calibration_config(**overrides) -> ml_collections.ConfigDict:
  """Calibration before and after temperature scaling (fitted on each run's
  validation split).

  Keys: runs [()], sets ('test', 'val', 'external:<key>') [('test',)],
  n_bins (ECE and reliability diagrams) [15], batch_size [32], tests
  [('ttest', 'wilcoxon')], notes.
  """
  c = ml_collections.ConfigDict()
  c.kind = "calibration"
  c.runs = ()
  c.sets = ("test",)
  c.n_bins = 15
  c.batch_size = 32
  c.tests = TESTS
  c.notes = ""
  return _with(c, overrides)


def uncertainty_config(**overrides) -> ml_collections.ConfigDict:
  """Uncertainty and selective prediction: single runs, deep ensembles of
  seed repeats, test-time augmentation, Monte Carlo dropout.

  Keys (defaults in brackets):
    runs [()], sets [('test',)].
    methods: predictors besides the single model, from
      UNCERTAINTY_METHODS [('ensemble', 'tta', 'mc_dropout')].
    mc_samples: dropout passes [20]. tta_views, tta_shift: the views of
      `xaijax.evaluate.tta_views` [its defaults, 4 px].
    confidence: what ranks images for selective prediction, 'max_prob' or
      'neg_entropy' (minus the predictive entropy) ['max_prob'].
    seed: the dropout masks [0]. batch_size [32]. tests. notes.
  """
  c = ml_collections.ConfigDict()
  c.kind = "uncertainty"
  c.runs = ()
  c.sets = ("test",)
  c.methods = UNCERTAINTY_METHODS
  c.mc_samples = 20
  c.tta_views = uncertainty.DEFAULT_TTA
  c.tta_shift = 4
  c.confidence = "max_prob"
  c.seed = 0
  c.batch_size = 32
  c.tests = TESTS
  c.notes = ""
  return _with(c, overrides)


def corruptions_config(**overrides) -> ml_collections.ConfigDict:
  """Accuracy and calibration of each run under corruptions.

  Keys: runs [()], sets [('test',)], corruptions (names of
  `xaijax.data.corruptions.CORRUPTIONS`) [all 14], severities (1..5)
  [(1, 2, 3, 4, 5)], seed (the random corruptions' draws, per image) [0],
  n_bins [15], batch_size [32], tests, notes.
  """
  c = ml_collections.ConfigDict()
  c.kind = "corruptions"
  c.runs = ()
  c.sets = ("test",)
  c.corruptions = tuple(CORRUPTIONS)
  c.severities = SEVERITIES
  c.seed = 0
  c.n_bins = 15
  c.batch_size = 32
  c.tests = TESTS
  c.notes = ""
  return _with(c, overrides)


def map_robustness_config(**overrides) -> ml_collections.ConfigDict:
  """Robustness of CAM maps to corruptions and to input noise.

  Keys (defaults in brackets):
    runs [()], images ('test' or 'external:<key>') ['test'].
    methods, layers, cam: as `cams_config` [the paper's five, ('',)].
    target, selection: one target policy and one image selection of
      `cams_config` ['predicted', 'balanced'], max_images [32].
    corruptions, severities: as `corruptions_config` [all 14, 1..5].
    top_k: the share of pixels of the top-k IoU [0.1].
    metrics: besides the similarity of clean and corrupted maps (Spearman,
      SSIM, top-k IoU), from MAP_ROBUSTNESS_METRICS [('confidence',
      'max_sensitivity', 'local_lipschitz')].
    sensitivity: num_samples, radius (Max/Avg-Sensitivity's uniform noise)
      and std (the Local Lipschitz Estimate's Gaussian noise) [Quantus'
      200, 0.2, 0.1].
    scores: `ScoreOptions` (the localisation's IoU threshold).
    seed [0], batch_size [16], tests, notes.
  """
  c = ml_collections.ConfigDict()
  c.kind = "map_robustness"
  c.runs = ()
  c.images = "test"
  c.methods = explain.PAPER_METHODS
  c.layers = ("",)
  c.target = "predicted"
  c.selection = "balanced"
  c.max_images = 32
  c.corruptions = tuple(CORRUPTIONS)
  c.severities = SEVERITIES
  c.top_k = 0.1
  c.metrics = ("confidence", "max_sensitivity", "local_lipschitz")
  c.sensitivity = ml_collections.ConfigDict(
    {"num_samples": 200, "radius": 0.2, "std": 0.1}
  )
  c.cam = ml_collections.ConfigDict(dataclasses.asdict(cam_lib.Options()))
  c.scores = ml_collections.ConfigDict(
    dataclasses.asdict(scoring.ScoreOptions())
  )
  c.seed = 0
  c.batch_size = 16
  c.tests = TESTS
  c.notes = ""
  return _with(c, overrides)


def _with(c: ml_collections.ConfigDict, overrides) -> ml_collections.ConfigDict:
  """`c` with `overrides`; an unknown key is an error naming the valid
  ones."""
  unknown = [k for k in overrides if k not in c]
  if unknown:
    raise ConfigError(
      f"Unknown key(s) {', '.join(unknown)} of a {c.kind} study; valid: "
      f"{', '.join(k for k in c if k != 'kind')}."
    )
  c.update(overrides)
  return c


class ConfigError(ValueError):
  """A config value that names nothing valid; the message lists the valid
  values."""


def _one_of(where: str, value, valid) -> None:
  if value not in valid:
    raise ConfigError(
      f"{where}='{value}' is not valid; choose one of "
      f"{', '.join(map(str, valid))}."
    )


def class_policy(entry: str) -> str | None:
  """The class name of a 'class=<name>' entry, else None."""
  match = _CLASS.match(entry)
  return match.group(1) if match else None


def set_key(name: str) -> str:
  """The key of an 'external:<key>' set name ('' for the run's splits)."""
  return (
    name[len(EXTERNAL_PREFIX) :] if name.startswith(EXTERNAL_PREFIX) else ""
  )


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
  _positive(study, where, ("max_images", "batch_size"))


def _check_models(study, where: str) -> None:
  del study, where  # its metrics are read from results.json as they are


def _positive(study, where: str, keys) -> None:
  for key in keys:
    if study[key] < 1:
      raise ConfigError(f"{where}.{key} must be positive, got {study[key]}.")


def _check_tests(study, where: str) -> None:
  for test in study.tests:
    _one_of(f"{where}.tests", test, TESTS)


def _check_corruptions(study, where: str) -> None:
  for name in study.corruptions:
    _one_of(f"{where}.corruptions", name, tuple(CORRUPTIONS))
  for severity in study.severities:
    _one_of(f"{where}.severities", severity, SEVERITIES)


def _check_external(study, where: str) -> None:
  _check_tests(study, where)
  _positive(study, where, ("batch_size", "bootstrap_resamples"))
  if not any(set_key(s) for s in study.sets):
    raise ConfigError(
      f"{where}.sets names no external set: add 'external:<key>' for a key "
      "of config.external."
    )


def _check_calibration(study, where: str) -> None:
  _check_tests(study, where)
  _positive(study, where, ("batch_size", "n_bins"))


def _check_uncertainty(study, where: str) -> None:
  _check_tests(study, where)
  _positive(study, where, ("batch_size", "mc_samples"))
  for method in study.methods:
    _one_of(f"{where}.methods", method, UNCERTAINTY_METHODS)
  for view in study.tta_views:
    _one_of(f"{where}.tta_views", view, tuple(uncertainty.TTA_VIEWS))
  _one_of(f"{where}.confidence", study.confidence, SELECTIVE_CONFIDENCES)


def _check_corruption_study(study, where: str) -> None:
  _check_tests(study, where)
  _check_corruptions(study, where)
  _positive(study, where, ("batch_size", "n_bins"))


def _check_map_robustness(study, where: str) -> None:
  explain.cam.Options.from_kwargs(dict(study.cam))
  scoring.ScoreOptions(**dict(study.scores))
  _check_tests(study, where)
  _check_corruptions(study, where)
  for method in study.methods:
    _one_of(f"{where}.methods", method, explain.CAM_METHODS)
  for metric in study.metrics:
    _one_of(f"{where}.metrics", metric, MAP_ROBUSTNESS_METRICS)
  if class_policy(study.target) is None:
    _one_of(f"{where}.target", study.target, (*TARGET_POLICIES, "class=<name>"))
  if class_policy(study.selection) is None:
    _one_of(
      f"{where}.selection", study.selection, (*SELECTIONS, "class=<name>")
    )
  _positive(study, where, ("max_images", "batch_size"))
  _positive(study.sensitivity, f"{where}.sensitivity", ("num_samples",))
  if not 0 < study.top_k <= 1:
    raise ConfigError(f"{where}.top_k must be in (0, 1], got {study.top_k}.")


# Each kind of study: (its config's check, study config, 'config.studies.x').
CHECKS = {
  "cams": _check_cams,
  "models": _check_models,
  "external": _check_external,
  "calibration": _check_calibration,
  "uncertainty": _check_uncertainty,
  "corruptions": _check_corruption_study,
  "map_robustness": _check_map_robustness,
}
KINDS = tuple(CHECKS)


def _check_sets(config, study, where: str) -> None:
  """Every image set a study names, and the external entries it uses."""
  external = config.get("external", {})
  fields = [("sets", name, SETS) for name in study.get("sets", ())]
  if "images" in study:
    fields.append(("images", study.images, ("test",)))
  for field, name, valid in fields:
    key = set_key(name)
    if not key:
      _one_of(f"{where}.{field}", name, (*valid, f"{EXTERNAL_PREFIX}<key>"))
    elif key not in external:
      raise ConfigError(
        f"{where}.{field} names '{name}', but config.external has no key "
        f"'{key}'; its keys: {', '.join(external) or 'none'}."
      )
    else:
      _check_external_entry(config, key)


def _check_external_entry(config, key: str) -> None:
  where = f"config.external.{key}"
  try:
    data_config.check_external(where, config.external[key])
  except ValueError as e:
    raise ConfigError(str(e)) from None
  root = os.path.expanduser(config.external[key].root)
  if not os.path.exists(root):
    raise ConfigError(
      f"{where}.root '{config.external[key].root}' does not exist (the "
      f"{config.external[key].name} folder)."
    )


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
    _check_sets(config, study, where)
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
  """Checks each CAM study's layers against its runs' models.

  Args:
    config: the launch config.
    run_configs: {run name: its training ConfigDict} (model name, tiny,
      image size); runs without one are checked once loaded.
  """
  for name, study in config.studies.items():
    if "layers" not in study:
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


def check_models(config, run_configs) -> None:
  """Checks that each uncertainty study with Monte Carlo dropout reads only
  models with dropout layers.

  Args:
    config: the launch config.
    run_configs: {run name: its training ConfigDict}; runs without one are
      checked once loaded (`check_mc_dropout`).
  """
  for name, study in config.studies.items():
    if study.kind != "uncertainty" or "mc_dropout" not in study.methods:
      continue
    for run in study_runs(config, name):
      train = run_configs.get(run)
      if train:
        check_mc_dropout(f"config.studies.{name}", run, train.model.name)


def check_mc_dropout(where: str, run: str, model: str) -> None:
  """Raises unless `model` has dropout layers for Monte Carlo dropout."""
  if model not in MC_DROPOUT_MODELS:
    raise ConfigError(
      f"{where}.methods has 'mc_dropout', but run '{run}' is a {model}, "
      f"which has no dropout; MC dropout models: "
      f"{', '.join(MC_DROPOUT_MODELS)}. Drop 'mc_dropout' or the run."
    )
