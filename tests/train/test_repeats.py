# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Repeats: one sub-run per model x seed x fold, each in its own folder."""

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


def test_repeats_write_runs_per_image_records_and_the_models_report(tmp_path):
  import fake_data

  config = worker.tiny_config(
    {
      "repeats.models": ["vgg16", "resnet50"],
      "repeats.seeds": [0, 1],
      "total_steps": 2,
      "data.image_size": 32,  # VGG16 needs at least 32 px.
    }
  )
  train.run(config, str(tmp_path), data=fake_data)
  runs = (tmp_path / "runs.csv").read_text().splitlines()
  assert runs[0].startswith("run,model,dataset,seed,fold,accuracy")
  assert len(runs) == 1 + 4
  per_image = (tmp_path / "per_image_models.csv").read_text().splitlines()
  assert len(per_image) == 1 + 4 * len(fake_data.load(config.data).test)
  report = (tmp_path / "report" / "report.md").read_text()
  assert "Models × datasets" in report
  assert "vgg16 − resnet50" in report
  assert "models on the same test images" in report
