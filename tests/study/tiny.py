# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A tiny trained run and study launch configs for the study tests.

Also the entry point of the subprocesses of those tests:

  python tiny.py STUDY_WORKDIR RUN_WORKDIR '{"methods": [...]}' [PROCESS_ID
    NUM_PROCESSES PORT]

runs the study (overrides of the cams study as JSON) as one process of a
group, `slow_examples` seconds per image read (to kill it mid-way).
"""

import json
import pathlib
import sys

sys.path[:0] = [str(pathlib.Path(__file__).resolve().parents[2])]

from configs import base  # noqa: E402
from xaijax import study  # noqa: E402

IMAGE_SIZE = 32


def train_config():
  """ResNet50 (tiny widths) on 96 synthetic lesion images, 6 steps."""
  config = base.get_config("tiny", model="resnet50")
  config.data.image_size = IMAGE_SIZE
  config.data.synthetic.num_images = 96
  config.data.synthetic.num_classes = 3
  config.total_steps = 6
  config.progress = False
  return config


def launch_config(run_workdir: str, **cams):
  """A study of the run at `run_workdir`: a cams study with `cams`."""
  config = study.launch_config()
  config.progress = False
  config.runs.tiny = study.run_config(str(run_workdir))
  config.train_missing = False
  defaults = dict(
    methods=("gradcam", "layercam"),
    # 2x2 at 32 px (layer4 is 1x1: flat maps).
    layers=("layer3",),
    metrics=("confidence", "localization"),
    max_images=4,
    batch_size=4,
    figure_images=2,
  )
  config.studies.cams = study.cams_config(**{**defaults, **cams})
  return config


def _forbid_writes(folder: pathlib.Path) -> None:
  """Makes any write under `folder` by this process an error."""
  import builtins
  import io
  import sqlite3

  def guard(path, what):
    if pathlib.Path(path).resolve().is_relative_to(folder):
      raise AssertionError(f"process 1 {what} {path}")

  def guarded_open(file, mode="r", *args, **kwargs):
    if isinstance(file, str | pathlib.Path) and set(mode) & set("wax+"):
      guard(file, "writes")
    return real_open(file, mode, *args, **kwargs)

  def guarded_connect(path, *args, **kwargs):
    guard(path, "opens the cache")
    return real_connect(path, *args, **kwargs)

  real_open, real_connect = builtins.open, sqlite3.connect
  builtins.open = io.open = guarded_open
  sqlite3.connect = guarded_connect


def main(workdir, run_workdir, overrides, process_id="0", processes="1",
         port="0", slow_examples="0"):  # fmt: skip
  cams = {
    k: tuple(v) if isinstance(v, list) else v
    for k, v in json.loads(overrides).items()
  }
  config = launch_config(run_workdir, **cams)
  if int(processes) > 1:
    config.distributed.coordinator_address = f"127.0.0.1:{port}"
    config.distributed.num_processes = int(processes)
    config.distributed.process_id = int(process_id)
    if int(process_id):
      _forbid_writes(pathlib.Path(workdir).resolve())
  if float(slow_examples):
    import time

    from xaijax.data import dataset

    example = dataset.Split.example

    def slow(self, i):
      time.sleep(float(slow_examples))
      return example(self, i)

    dataset.Split.example = slow
  study.run(config, workdir)
  print("ok")


if __name__ == "__main__":
  main(*sys.argv[1:])
