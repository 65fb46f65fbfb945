# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Where the truth is known: every CAM method on the synthetic lesions.

  python experiments/synthetic_localization.py --workdir runs/localization

Trains one model on the synthetic lesion set (every image has a ground-truth
lesion mask), then explains its test images with every CAM method of
`xaijax.explain.CAM_METHODS` and scores them: pointing game, energy-based
pointing game and IoU against the mask, ROAD (MoRF/LeRF/combined), and the
confidence-change family, with paired t-tests between methods per image
(Holm-corrected) in `WORKDIR/report/report.md`. Resumes like any run.
"""

import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from configs import base
from xaijax import explain, train


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--workdir", required=True)
  parser.add_argument("--model", default="resnet50", choices=base.MODELS)
  parser.add_argument("--full_width", action="store_true")
  parser.add_argument("--image_size", type=int, default=64)
  parser.add_argument("--num_images", type=int, default=1500)
  parser.add_argument("--num_classes", type=int, default=4)
  parser.add_argument("--difficulty", type=float, default=0.3)
  parser.add_argument("--modality", default="mri")
  parser.add_argument("--steps", type=int, default=400)
  parser.add_argument("--seed", type=int, default=0)
  parser.add_argument("--images", type=int, default=128, help="explained")
  parser.add_argument("--methods", nargs="+", default=list(explain.CAM_METHODS))
  parser.add_argument("--layer", default="", help="'' = the default layer")
  args = parser.parse_args()

  config = base.get_config(
    "tiny=0" if args.full_width else "tiny",
    model=args.model,
    dataset="synthetic",
  )
  config.seed = args.seed
  config.data.image_size = args.image_size
  synthetic = config.data.synthetic
  synthetic.num_images = args.num_images
  synthetic.num_classes = args.num_classes
  synthetic.difficulty = args.difficulty
  synthetic.modality = args.modality
  config.batch_size = 32
  config.eval_batch_size = 64
  config.total_steps = args.steps
  config.eval_every_steps = max(args.steps // 4, 1)
  config.checkpoint.every_steps = config.eval_every_steps
  config.log_every_steps = 20
  config.optimizer.learning_rate = 3e-3
  config.schedule.warmup_steps = 10
  config.xai.methods = tuple(args.methods)
  config.xai.max_images = args.images
  config.xai.layer = args.layer
  results = train.run(config, args.workdir)
  print(f"test accuracy {results['test']['accuracy']:.3f}; report in "
        f"{args.workdir}/report/report.md")  # fmt: skip


if __name__ == "__main__":
  main()
