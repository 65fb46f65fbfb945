# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The paper's grid, end to end: 4 CNNs × 3 datasets, then CAMs × classes.

  python experiments/paper_grid.py --workdir runs/paper \
    --brain /data/brain-tumor-mri-dataset --chest /data/chest_xray \
    --skin "/data/Skin cancer ISIC The International Skin Imaging Collaboration"

For every dataset given, every model is trained over `--seeds` on the same
split (`configs/<model>_<dataset>.py` with the flags' overrides), tested, and
explained with the paper's five CAMs (`config.xai`); the runs of one dataset
land in `WORKDIR/<dataset>/` with their own report. The grid's report in
`WORKDIR/report/` then holds:

* Table 1, models × datasets: accuracy and macro F1 (mean, 95% interval over
  seeds), paired t-tests between models over seeds and per test image,
  Holm-corrected;
* Table 2, CAM methods × classes for `--cam_model` (ResNet50 in the paper,
  first seed): confidence change and its increase/drop variants, ROAD, with
  paired t-tests between methods per image, Holm-corrected.

Everything resumes: rerunning the command skips finished runs. Defaults are
sized for a laptop CPU (`--image_size 224 --steps 0 --full_width` gives the
paper-like setting: 224 px, real widths, `num_epochs` of the configs).
"""

import argparse
import pathlib
import shutil
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from absl import logging

from configs import base
from xaijax import report, train
from xaijax.report import tables

DATASETS = ("brain", "skin", "chest")


def dataset_config(args, dataset: str, root: str):
  """The config of one dataset's runs: every model × seed as repeats."""
  config = base.get_config(
    "tiny=0" if args.full_width else "tiny",
    model=args.cam_model,
    dataset=dataset,
  )
  config.data.root = root
  config.data.image_size = args.image_size
  config.batch_size = args.batch_size
  config.eval_batch_size = 2 * args.batch_size
  config.total_steps = args.steps
  config.eval_every_steps = max(args.steps // 4, 1) if args.steps else 200
  config.checkpoint.every_steps = config.eval_every_steps
  config.log_every_steps = 20
  config.optimizer.learning_rate = args.learning_rate
  config.data.seed = args.split_seed
  config.repeats.models = tuple(args.models)
  config.repeats.seeds = tuple(args.seeds)
  config.xai.max_images = args.cam_images
  return config


def collect(workdir: pathlib.Path, datasets: list[str], args) -> None:
  """The grid's records and report from the datasets' saved results."""
  runs, per_image = [], []
  for dataset in datasets:
    runs += tables.read_records(str(workdir / dataset / "runs.csv"))
    per_image += tables.read_records(
      str(workdir / dataset / report.build.MODEL_IMAGES_CSV)
    )
  for name, records in (
    (report.build.RUNS_CSV, runs),
    (report.build.MODEL_IMAGES_CSV, per_image),
  ):
    (workdir / name).unlink(missing_ok=True)
    report.append_records(str(workdir / name), records)
  # Table 2 comes from the CAM model's first seed on the CAM dataset.
  run = f"{args.cam_model}_seed_{args.seeds[0]}"
  source = workdir / args.cam_dataset / run / report.build.PER_IMAGE_CSV
  if source.exists():
    target = workdir / report.build.PER_IMAGE_CSV
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    figures = source.parent / "figures"
    if figures.is_dir():
      shutil.copytree(figures, target.parent / "figures", dirs_exist_ok=True)
  paths = report.write_report(str(workdir))
  print(f"Report: {paths['report']}")


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  for dataset in DATASETS:
    parser.add_argument(f"--{dataset}", default="", help="dataset root")
  parser.add_argument("--models", nargs="+", default=list(base.MODELS))
  parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
  parser.add_argument("--split_seed", type=int, default=0)
  parser.add_argument("--image_size", type=int, default=64)
  parser.add_argument("--batch_size", type=int, default=32)
  parser.add_argument("--steps", type=int, default=300, help="0: epochs")
  parser.add_argument("--learning_rate", type=float, default=1e-3)
  parser.add_argument("--full_width", action="store_true")
  parser.add_argument("--cam_model", default="resnet50")
  parser.add_argument("--cam_dataset", default="brain", choices=DATASETS)
  parser.add_argument("--cam_images", type=int, default=64)
  args = parser.parse_args()

  workdir = pathlib.Path(args.workdir)
  roots = {d: getattr(args, d) for d in DATASETS if getattr(args, d)}
  if not roots:
    parser.error("give at least one of --brain, --skin, --chest")
  for dataset, root in roots.items():
    logging.info("dataset %s from %s", dataset, root)
    train.run(dataset_config(args, dataset, root), str(workdir / dataset))
  collect(workdir, list(roots), args)


if __name__ == "__main__":
  main()
