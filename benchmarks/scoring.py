# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Five CAMs + their confidence change: JAX vs pytorch-grad-cam.

ResNet50 (full width, random weights with randomised BatchNorm statistics,
the same weights on both sides via `from_torchvision`), batch 8, 224 px, the
paper's five CAMs at layer4[-1], then CamMultImageConfidenceChange with a
softmax target for all five. Warm times (median and min of --repeats runs;
ratios use the min); JAX times also in forward-pass equivalents (one eval
forward of the batch).

  python benchmarks/scoring.py [--batch 8 --size 224 --repeats 3]

Prints a table and writes benchmarks/results/scoring.json.
"""

import argparse
import json
import os
import pathlib
import sys

import jax
import numpy as np

from xaijax import evaluate, explain, models
from xaijax.evaluate import _model
from xaijax.models.torch_interop import import_torchvision
from xaijax.testing import random_images, randomize_batch_norm

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks import timing

METHODS = ("gradcam", "gradcampp", "xgradcam", "eigengradcam", "layercam")


def _torch_pipeline(net, x):
  """pytorch-grad-cam: five CAMs, then the metric for each."""
  import pytorch_grad_cam as pgc
  from pytorch_grad_cam.metrics.cam_mult_image import (
    CamMultImageConfidenceChange,
  )
  from pytorch_grad_cam.utils.model_targets import (
    ClassifierOutputSoftmaxTarget,
  )

  classes = {
    "gradcam": pgc.GradCAM,
    "gradcampp": pgc.GradCAMPlusPlus,
    "xgradcam": pgc.XGradCAM,
    "eigengradcam": pgc.EigenGradCAM,
    "layercam": pgc.LayerCAM,
  }

  def run():
    for name in METHODS:
      with classes[name](model=net, target_layers=[net.layer4[-1]]) as cam:
        maps = cam(input_tensor=x, targets=None)
        predicted = cam.outputs.argmax(-1).tolist()
      targets = [ClassifierOutputSoftmaxTarget(c) for c in predicted]
      CamMultImageConfidenceChange()(x, maps, targets, net)

  return run


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--size", type=int, default=224)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument(
    "--out",
    default=os.path.join(os.path.dirname(__file__), "results", "scoring.json"),
  )
  args = parser.parse_args()

  tv = import_torchvision()
  import torch

  torch.manual_seed(0)
  net = randomize_batch_norm(tv.models.resnet50())
  variables = models.from_torchvision("resnet50", net.state_dict())
  module = models.create("resnet50", 1000)
  images = random_images(args.batch, args.size)
  x = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))

  def forward():
    jax.block_until_ready(_model.logits(module, variables, images))

  def fused():
    jax.block_until_ready(
      evaluate.cams_and_confidence(module, variables, images, methods=METHODS)
    )

  def separate():
    maps = explain.cams(module, variables, images, methods=METHODS)
    evaluate.confidence_scores(module, variables, images, maps)

  def torch_forward():
    with torch.no_grad():
      net(x)

  rows = {}
  for name, fn in (
    ("jax forward", forward),
    ("jax cams+confidence (one jit)", fused),
    ("jax cams, then confidence_scores", separate),
    ("torch forward", torch_forward),
    ("pytorch-grad-cam 5 CAMs + CamMult", _torch_pipeline(net, x)),
  ):
    rows[name] = row = timing.time_calls(fn, args.repeats)
    print(
      f"{name:36s} first {row['first_s']:8.3f} s   median "
      f"{row['median_s']:8.3f} s   min {row['min_s']:8.3f} s",
      flush=True,
    )

  t_fwd = rows["jax forward"]["min_s"]
  t_torch = rows["pytorch-grad-cam 5 CAMs + CamMult"]["min_s"]
  for row in rows.values():
    row["forward_equivalents"] = row["min_s"] / t_fwd
    row["speedup_vs_pytorch_grad_cam"] = t_torch / row["min_s"]
  print()
  print(f"| {'pipeline':36s} | min s  | fwd-equiv (JAX fwd) | torch / this |")
  print(f"|{'-' * 38}|--------|---------------------|--------------|")
  for name, row in rows.items():
    print(
      f"| {name:36s} | {row['min_s']:6.3f} | "
      f"{row['forward_equivalents']:19.2f} | "
      f"{row['speedup_vs_pytorch_grad_cam']:12.2f} |"
    )
  result = {
    "benchmark": "resnet50 five CAMs + confidence change",
    "batch": args.batch,
    "size": args.size,
    "repeats": args.repeats,
    "methods": METHODS,
    "rows": rows,
    "machine": {**timing.machine(), "torch_threads": torch.get_num_threads()},
  }
  os.makedirs(os.path.dirname(args.out), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(result, f, indent=2)
  print(f"\nwrote {args.out}")


if __name__ == "__main__":
  main()
