# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Every config file loads, is complete, and has a tiny variant."""

import importlib.util
import pathlib

import pytest

from tests.conftest import missing_shared_data

ROOT = pathlib.Path(__file__).resolve().parents[2]
# Training configs (one file per model x dataset); demo.py and studies/ are
# study configs.
CONFIGS = sorted(
  p
  for p in (ROOT / "configs").glob("*.py")
  if p.stem not in ("__init__", "base", "demo")
)
STUDIES = [
  ROOT / "configs" / "demo.py",
  *sorted(
    p
    for p in (ROOT / "configs" / "studies").glob("*.py")
    if "def get_config(" in p.read_text()  # not the shared helper modules
  ),
]


def _load(path):
  spec = importlib.util.spec_from_file_location(path.stem, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def _keys(config, prefix=""):
  out = set()
  for key, value in config.items():
    if hasattr(value, "items"):
      out |= _keys(value, f"{prefix}{key}.")
    else:
      out.add(f"{prefix}{key}")
  return out


@pytest.fixture(autouse=True)
def _repo_on_path(monkeypatch):
  monkeypatch.syspath_prepend(str(ROOT))


def test_twelve_model_dataset_files():
  names = {p.stem for p in CONFIGS}
  for model in ("resnet50", "densenet121", "vgg16", "efficientnet_b0"):
    for dataset in ("brain", "skin", "chest"):
      assert f"{model}_{dataset}" in names
  assert (ROOT / "configs" / "demo.py").exists()


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_config_is_complete_with_tiny_variant(path):
  base = _load(ROOT / "configs" / "base.py").get_config()
  config = _load(path).get_config()
  assert _keys(config) == _keys(base)
  tiny = _load(path).get_config("tiny")
  assert tiny.model.tiny
  assert tiny.data.image_size <= 64
  assert config.data.image_size == 224
  assert config.model.name == path.stem.rsplit("_", 1)[0]


def test_batch_size_reaches_the_data_config():
  config = _load(ROOT / "configs" / "base.py").get_config()
  config.batch_size = 12
  assert config.data.batch_size == 12


def test_bad_config_argument_lists_the_valid_ones():
  base = _load(ROOT / "configs" / "base.py")
  with pytest.raises(ValueError, match="valid: model, dataset, tiny"):
    base.get_config("tny")
  with pytest.raises(ValueError, match="not a bool"):
    base.get_config("tiny=maybe")


def test_study_cam_options_are_those_of_explain_cams_with_its_defaults():
  import dataclasses

  from xaijax import study
  from xaijax.explain import cam

  options = study.cams_config().cam
  assert dict(options) == dataclasses.asdict(cam.Options())


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.stem)
def test_study_configs_load_and_name_valid_things(path):
  """Every study config passes the launch's checks (names, layers, each
  run's training config) in its tiny form; runs whose data live in
  ../shared/data need it."""
  from xaijax import study
  from xaijax.train import checks

  config = _load(path).get_config("tiny")
  assert study.is_study(config)
  roots = [
    r.train.data.root
    for r in config.runs.values()
    if r.train and r.train.data.root
  ]
  for root in roots:
    if not pathlib.Path(root).exists():
      missing_shared_data(pathlib.Path(root))
  study.check_config(config)
  for run in config.runs.values():
    if run.train:
      checks.check_config(run.train)
