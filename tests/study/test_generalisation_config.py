# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The generalisation kinds' config checks: every bad name is a one-line
ConfigError naming the valid values, before anything is trained or loaded.
"""

import importlib
import pathlib

import generalisation
import pytest

from tests.conftest import missing_shared_data
from xaijax import study
from xaijax.data import external
from xaijax.study.config import ConfigError


@pytest.fixture
def roots(tmp_path):
  train, ph2 = tmp_path / "train", tmp_path / "ph2"
  train.mkdir()
  ph2.mkdir()
  return train, ph2


def _config(tmp_path, roots, **studies):
  return generalisation.launch_config(tmp_path / "runs", *roots, **studies)


@pytest.mark.parametrize(
  ("make", "message"),
  [
    (lambda: study.corruptions_config(corruptions=("gaussian_nois",)),
     r"corruptions='gaussian_nois' is not valid; choose one of "
     r"gaussian_noise, shot_noise"),
    (lambda: study.corruptions_config(severities=(0,)),
     r"severities='0' is not valid; choose one of 1, 2, 3, 4, 5"),
    (lambda: study.calibration_config(sets=("external:ph3",)),
     r"names 'external:ph3', but config.external has no key 'ph3'; its "
     r"keys: ph2"),
    (lambda: study.calibration_config(sets=("tset",)),
     r"sets='tset' is not valid; choose one of test, val, external:<key>"),
    (lambda: study.cams_config(images="val"),
     r"images='val' is not valid; choose one of test, external:<key>"),
    (lambda: study.uncertainty_config(methods=("ensembles",)),
     r"methods='ensembles' is not valid; choose one of ensemble, tta, "
     r"mc_dropout"),
    (lambda: study.uncertainty_config(tta_views=("flip",)),
     r"tta_views='flip' is not valid; choose one of identity, hflip"),
    (lambda: study.uncertainty_config(confidence="entropy"),
     r"confidence='entropy' is not valid; choose one of max_prob, "
     r"neg_entropy"),
    (lambda: study.external_config(sets=("test",)),
     r"sets names no external set: add 'external:<key>'"),
    (lambda: study.map_robustness_config(metrics=("lipschitz",)),
     r"metrics='lipschitz' is not valid; choose one of confidence, "
     r"localization, max_sensitivity"),
    (lambda: study.map_robustness_config(methods=("gradcamm",)),
     r"methods='gradcamm' is not valid"),
    (lambda: study.map_robustness_config(top_k=0.0),
     r"top_k must be in \(0, 1\]"),
  ],
)  # fmt: skip
def test_bad_names_are_one_line_errors(tmp_path, roots, make, message):
  config = _config(tmp_path, roots, bad=make())
  with pytest.raises(ConfigError, match=message) as error:
    study.check_config(config)
  assert "\n" not in str(error.value)
  assert not (tmp_path / "runs").exists()  # nothing trained


def test_unknown_key_of_a_kind_is_an_error():
  with pytest.raises(ConfigError, match=r"Unknown key\(s\) corruption of a "
                     r"corruptions study; valid: batch_size, corruptions"):  # fmt: skip
    study.corruptions_config(corruption=("jpeg",))
  with pytest.raises(ConfigError, match=r"Unknown key\(s\) method of a cams"):
    study.cams_config(method=("gradcam",))


def test_mc_dropout_needs_a_model_with_dropout(tmp_path, roots):
  config = _config(
    tmp_path, roots, u=study.uncertainty_config(runs=("vgg", "resnet"))
  )
  with pytest.raises(
    ConfigError,
    match=r"has 'mc_dropout', but run 'resnet' is a resnet50, which has no "
    r"dropout; MC dropout models: vgg16, efficientnet_b0",
  ):
    study.check_config(config)
  config.studies.u.runs = ("vgg",)
  study.check_config(config)  # vgg16 has dropout


def test_external_entries_are_checked(tmp_path, roots):
  config = _config(
    tmp_path, roots, c=study.calibration_config(sets=("external:ph2",))
  )
  config.external.ph2 = external.entry("ph3", str(roots[1]))
  with pytest.raises(ConfigError, match=r"config.external.ph2.name is 'ph3'"):
    study.check_config(config)
  config.external.ph2 = external.entry("ph2", str(tmp_path / "nowhere"))
  with pytest.raises(ConfigError, match=r"config.external.ph2.root .* does "
                     r"not exist"):  # fmt: skip
    study.check_config(config)


GENERALISATION_CONFIGS = (
  "external_validation",
  "calibration",
  "uncertainty",
  "corruption_robustness",
  "explanation_robustness",
  "ph2_localization",
)


@pytest.mark.parametrize("name", GENERALISATION_CONFIGS)
def test_generalisation_configs_pass_their_checks(name, monkeypatch):
  """The default (CPU-sized) form; tests/configs checks the tiny one."""
  repo = pathlib.Path(__file__).resolve().parents[2]
  external_root = repo.parent / "shared" / "data" / "external"
  if not external_root.is_dir():
    missing_shared_data(external_root)
  monkeypatch.chdir(repo)  # the configs' roots are relative to the repo
  module = importlib.import_module(f"configs.studies.{name}")
  config = module.get_config(None)
  study.check_config(config)
  for s in config.studies.values():
    assert set(s.runs) <= set(config.runs)
