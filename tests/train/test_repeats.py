# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Repeats: one sub-run per model x seed x fold, each in its own folder."""

import pytest
import worker

from xaijax import train


def test_repeat_configs_cover_the_product():
  config = worker.tiny_config(
    {"repeats.models": ["resnet50", "vgg16"], "repeats.seeds": [0, 3]}
  )
  runs = train.repeat_configs(config)
  names = [name for name, _ in runs]
  assert names == [
    "resnet50_seed_0",
    "resnet50_seed_3",
    "vgg16_seed_0",
    "vgg16_seed_3",
  ]
  for name, sub in runs:
    assert name.startswith(sub.model.name)
    assert name.endswith(f"seed_{sub.seed}")
    assert not (sub.repeats.models or sub.repeats.seeds or sub.repeats.folds)
  # The split does not follow the run seed: paired tests see the same images.
  assert {sub.data.seed for _, sub in runs} == {config.data.seed}


def test_folds_only():
  config = worker.tiny_config({"repeats.folds": [0, 1, 2]})
  runs = train.repeat_configs(config)
  assert [name for name, _ in runs] == ["fold_0", "fold_1", "fold_2"]
  assert [sub.data.fold for _, sub in runs] == [0, 1, 2]
  assert {sub.seed for _, sub in runs} == {config.seed}


@pytest.mark.long
def test_repeats_are_listed_and_a_models_study_compares_them(tmp_path):
  import json

  import fake_data

  from xaijax import study

  config = worker.tiny_config(
    {
      "repeats.models": ["vgg16", "resnet50"],
      "repeats.seeds": [0, 1],
      "total_steps": 2,
      "data.image_size": 32,  # VGG16 needs at least 32 px.
    }
  )
  train.run(config, str(tmp_path / "runs"), data=fake_data)
  listed = json.loads((tmp_path / "runs" / "repeats.json").read_text())
  names = [row["run"] for row in listed["runs"]]
  assert names == [name for name, _ in train.repeat_configs(config)]
  for name in names:
    assert (tmp_path / "runs" / name / "results.json").exists()
  # Training ends at the models: the comparison is a study of the folder.
  assert not (tmp_path / "runs" / "report").exists()
  launch = study.launch_config()
  launch.runs.grid = study.run_config("runs")
  launch.train_missing = False
  launch.studies.models = study.models_config()
  study.run(launch, str(tmp_path), data=fake_data)
  runs = (tmp_path / "studies/models/runs.csv").read_text().splitlines()
  assert runs[0].startswith("run,model,dataset,seed,fold,steps")
  assert len(runs) == 1 + 4
  per_image = (tmp_path / "studies/models/per_image_models.csv").read_text()
  assert len(per_image.splitlines()) == 1 + 4 * len(
    fake_data.load(config.data).test
  )
  report = (tmp_path / "studies/models/report.md").read_text()
  assert "Models × datasets" in report
  assert "vgg16 − resnet50" in report
  assert "models on the same test images" in report
