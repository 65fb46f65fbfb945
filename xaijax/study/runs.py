# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The trained runs a study reads: found, trained if missing, restored.

A run is a training workdir (`xaijax.train` or the PyTorch baseline writes
the same files): `config.json`, `results.json`, `predictions_test.csv`, and
for xaijax runs `best/` (orbax). `resolve` finds every run of a launch
(expanding a repeats folder into its runs) and trains the missing ones;
`restore` gives a run's model, best variables and test split for
explanation.
"""

import csv
import dataclasses
import functools
import json
import pathlib
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

import xaijax.data
from xaijax import console, train
from xaijax.study.cache import fingerprint
from xaijax.study.config import ConfigError
from xaijax.train import sharding
from xaijax.train.checkpoint import Checkpoints


@dataclasses.dataclass(frozen=True)
class TrainedRun:
  """A finished run.

  Attributes:
    name: the launch's run name, `<name>/<sub-run>` inside a repeats folder.
    entry: the name of its `config.runs` entry.
    workdir: its folder.
    config: its training config (config.json).
    results: its results.json.
    fingerprint: digest of its results: a retrained run gets a new one.
  """

  name: str
  entry: str
  workdir: pathlib.Path
  config: ml_collections.ConfigDict
  results: dict
  fingerprint: str

  @property
  def model(self) -> str:
    """The model label in tables: its name, with the framework if not JAX."""
    framework = self.results.get("framework", "jax")
    model = self.results.get("model", self.config.model.name)
    return model if framework == "jax" else f"{model} ({framework})"

  @property
  def class_names(self) -> list[str]:
    return list(self.results["class_names"])

  def predictions(self) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ids, labels (N,), probabilities (N, K)) of predictions_test.csv."""
    with open(self.workdir / train.trainer.PREDICTIONS, newline="") as f:
      rows = list(csv.DictReader(f))
    columns = [c for c in rows[0] if c.startswith("prob_")] if rows else []
    ids = [r["id"] for r in rows]
    labels = np.array([int(r["label"]) for r in rows], np.int32)
    probs = np.array([[float(r[c]) for c in columns] for r in rows], np.float32)
    return ids, labels, probs


def _finished(name: str, entry: str, workdir: pathlib.Path) -> TrainedRun:
  results = json.loads((workdir / train.trainer.RESULTS).read_text())
  config = ml_collections.ConfigDict(
    json.loads((workdir / "config.json").read_text())
  )
  return TrainedRun(
    name=name,
    entry=entry,
    workdir=workdir,
    config=config,
    results=results,
    fingerprint=fingerprint(
      {k: v for k, v in results.items() if k != "train_seconds"}
    ),
  )


def _found(entry: str, workdir: pathlib.Path) -> list[TrainedRun] | None:
  """The finished runs in `workdir`, or None if it holds none (yet)."""
  if (workdir / train.trainer.RESULTS).exists():
    return [_finished(entry, entry, workdir)]
  repeats = workdir / train.trainer.REPEATS
  if repeats.exists():
    subs = [row["run"] for row in json.loads(repeats.read_text())["runs"]]
    return [_finished(f"{entry}/{s}", entry, workdir / s) for s in subs]
  return None


def workdir_of(entry_workdir: str, study_workdir: str) -> pathlib.Path:
  """A run's folder: relative paths are relative to the study's workdir."""
  path = pathlib.Path(entry_workdir)
  return path if path.is_absolute() else pathlib.Path(study_workdir) / path


def resolve(
  config: ml_collections.ConfigDict,
  study_workdir: str,
  *,
  data=None,
  trainers: Mapping[str, Callable] | None = None,
) -> dict[str, list[TrainedRun]]:
  """{entry name: its finished runs}, training the missing ones first.

  Args:
    config: the launch config.
    study_workdir: the launch's folder.
    data: the data module (tests pass a fake).
    trainers: {framework: run(config, workdir)} besides xaijax's own; the
      launcher passes the PyTorch baseline's, which xaijax never imports.

  Raises:
    ConfigError: a missing run that may not (or cannot) be trained.
  """
  trainers = {
    "jax": functools.partial(train.run, data=data),
    **(trainers or {}),
  }
  found = {}
  for entry, spec in config.runs.items():
    workdir = workdir_of(spec.workdir, study_workdir)
    runs = _found(entry, workdir)
    if runs is None:
      if not (config.train_missing and spec.train):
        why = (
          "config.train_missing is False"
          if spec.train
          else f"config.runs.{entry}.train is empty"
        )
        raise ConfigError(
          f"Run '{entry}' is not trained ({workdir} has no results.json "
          f"nor repeats.json) and {why}: train it first, or give its "
          "training config."
        )
      framework = spec.train.get("framework", "jax")
      if framework not in trainers:
        raise ConfigError(
          f"Run '{entry}' needs the {framework} trainer, which lives outside "
          "xaijax: launch the study with launch.py."
        )
      console.say(f"Training run '{entry}' in {workdir}:")
      trainers[framework](spec.train, str(workdir))
      runs = _found(entry, workdir)
    found[entry] = runs
  return found


@dataclasses.dataclass(frozen=True)
class RestoredRun:
  """A run ready to explain.

  Attributes:
    run: the `TrainedRun`.
    module: its model (float32 compute).
    variables: its best variables (replicated over the mesh).
    test: its test split (`xaijax.data.Split`), ids in predictions order.
    labels: (N,) true classes of the test split.
    predictions: (N,) its predicted classes (from predictions_test.csv).
    dataset: its whole dataset (`xaijax.data.Dataset`: the validation
      split, and the training images external sets are deduplicated
      against).
  """

  run: TrainedRun
  module: object
  variables: dict
  test: object
  labels: np.ndarray
  predictions: np.ndarray
  dataset: object


def restore(run: TrainedRun, mesh, *, data=None) -> RestoredRun:
  """The run's model, best variables and test split.

  Raises:
    ConfigError: a run that xaijax cannot explain (another framework), or
      whose data changed since it was trained (its test split differs).
  """
  data = data or xaijax.data
  framework = run.results.get("framework", "jax")
  if framework != "jax":
    raise ConfigError(
      f"Run '{run.name}' was trained with {framework}: CAM studies explain "
      "xaijax runs (a models study compares it)."
    )
  config = run.config
  dataset = data.load(config.data)
  ids, labels, probs = run.predictions()
  if list(map(str, dataset.test.ids)) != ids:
    raise ConfigError(
      f"The test split of run '{run.name}' ({config.data.name} at "
      f"'{config.data.root}') differs from the one it was tested on "
      f"({run.workdir}/{train.trainer.PREDICTIONS}): the data changed since "
      "it was trained."
    )
  module = train.trainer.create_module(
    config, len(run.class_names), jnp.float32
  )
  size = config.data.image_size
  abstract = jax.eval_shape(
    lambda: module.init(
      jax.random.key(0), jnp.zeros((1, size, size, 3)), train=False
    )
  )
  replicated = jax.tree.map(lambda _: sharding.replicated(mesh), abstract)
  ckpts = Checkpoints(str(run.workdir), config.checkpoint)
  variables = ckpts.restore_best(abstract, replicated)
  if variables is None:
    variables = ckpts.restore_latest_variables(abstract, replicated)
  ckpts.close()
  return RestoredRun(
    run=run,
    module=module,
    variables=variables,
    test=dataset.test,
    labels=labels,
    predictions=probs.argmax(-1).astype(np.int32),
    dataset=dataset,
  )


@dataclasses.dataclass
class Context:
  """What every study of a launch shares.

  Attributes:
    workdir: the launch's folder.
    mesh: the device mesh image batches are sharded over.
    cache: the launch's cell cache (None on processes other than 0).
    data: the data module (`xaijax.data`, or a test's fake).
    external: the launch's external sets, {key: `xaijax.data.external.entry`}
      (`config.external`).
  """

  workdir: pathlib.Path
  mesh: object
  cache: object
  data: object = None
  external: dict = dataclasses.field(default_factory=dict)
  _restored: dict = dataclasses.field(default_factory=dict)
  _external_sets: dict = dataclasses.field(default_factory=dict)

  @property
  def is_main(self) -> bool:
    return jax.process_index() == 0

  def restore(self, run: TrainedRun) -> RestoredRun:
    """`restore(run)`, once per launch."""
    if run.name not in self._restored:
      self._restored[run.name] = restore(run, self.mesh, data=self.data)
    return self._restored[run.name]

  def external_set(self, restored: RestoredRun, key: str):
    """The external set `key` for a run's classes, without the copies of its
    training images (`xaijax.data.load_external`), once per launch and
    training data (seed repeats share it).

    Raises:
      DataError: a bad label mapping or the external set's own data
        problems.
    """
    data = self.data or xaijax.data
    cfg = ml_collections.ConfigDict(restored.run.config.data.to_dict())
    cfg.external = ml_collections.ConfigDict({key: self.external[key]})
    found = fingerprint([cfg.to_dict(), restored.run.class_names])
    if found not in self._external_sets:
      console.say(
        f"External set '{key}' for run '{restored.run.name}': loading and "
        "removing copies of its training images."
      )
      self._external_sets[found] = data.load_external(
        cfg, key, restored.dataset
      )
    return self._external_sets[found]
