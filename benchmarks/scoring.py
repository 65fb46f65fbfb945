# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Five CAMs + their confidence change: JAX vs pytorch-grad-cam.

ResNet50 (full width, random weights with randomised BatchNorm statistics,
the same weights on both sides via `from_torchvision`), batch 8, 224 px, the
paper's five CAMs at layer4[-1], then CamMultImageConfidenceChange with a
softmax target for all five. xaijax: `explain.cams_by_layer` (one forward
and the head's backward, which also give the clean logits), then
`evaluate.score_maps(..., logits=...)` (one masked forward per method, no
clean forward of its own). Medians and min-max spreads of --repeats warm
calls; JAX times also in forward-pass equivalents (one eval forward of the
batch). float32 on both sides; torch on --torch_device (default: the kind
of device JAX uses), synchronised inside every timed call; the ratio is
refused when the two ran on different kinds of device.

  python benchmarks/scoring.py [--batch 8 --size 224 --repeats 3]

Prints a table and writes benchmarks/results/scoring.json.
"""

import argparse
import dataclasses
import json
import os
import pathlib
import sys

import jax
import numpy as np

from xaijax import evaluate, explain, models
from xaijax.testing import random_images, randomize_batch_norm

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks import timing

METHODS = ("gradcam", "gradcampp", "xgradcam", "eigengradcam", "layercam")
OURS = "jax cams_by_layer + score_maps(logits)"
SEPARATE = "jax cams, then score_maps"
THEIRS = "pytorch-grad-cam 5 CAMs + CamMult"


def _torch_pipeline(net, x, sync):
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
    sync()

  return run


def measure(
  batch: int, size: int, repeats: int, torch_device: str, tiny: bool = False
) -> dict:
  """Every row of the table: {name: time_calls stats + ratios}, the sides.

  Args:
    batch, size: images and their side.
    repeats: timed calls per row.
    torch_device: where torch runs.
    tiny: ResNet50 at tiny widths (smoke runs).

  Returns:
    {'rows': {name: stats}, 'sides', 'refused'}.
  """
  import torch

  from baselines import torch_models

  device = timing.check_torch_device(torch_device)
  torch.manual_seed(0)
  net = torch_models.build("resnet50", 1000, tiny=tiny)
  net = randomize_batch_norm(net).eval()
  kwargs = {"tiny": True} if tiny else {}
  variables = models.from_torchvision("resnet50", net.state_dict(), **kwargs)
  net = net.to(device)
  module = models.create("resnet50", 1000, **kwargs)
  images = jax.device_put(random_images(batch, size))
  x = torch.from_numpy(
    np.ascontiguousarray(np.asarray(images).transpose(0, 3, 1, 2))
  )
  x = x.to(device)
  sync = timing.torch_sync(device)
  forward_fn = jax.jit(lambda v, x: module.apply(v, x, train=False))

  def forward():
    jax.block_until_ready(forward_fn(variables, images))

  def fused():
    out = explain.cams_by_layer(module, variables, images, methods=METHODS)
    (maps,) = out.maps.values()
    jax.block_until_ready(
      evaluate.score_maps(
        module, variables, images, maps, metrics="confidence",
        logits=out.logits,
      )
    )  # fmt: skip

  def separate():
    maps = explain.cams(module, variables, images, methods=METHODS)
    jax.block_until_ready(
      evaluate.score_maps(module, variables, images, maps, metrics="confidence")
    )

  def torch_forward():
    with torch.no_grad():
      net(x)
    sync()

  rows = {}
  for name, fn in (
    ("jax forward", forward),
    (OURS, fused),
    (SEPARATE, separate),
    ("torch forward", torch_forward),
    (THEIRS, _torch_pipeline(net, x, sync)),
  ):
    rows[name] = timing.time_calls(fn, repeats)
    print(f"  {name:40s} {timing.spread(rows[name], 1, 's')}", flush=True)
  sides = {
    "jax": timing.jax_side("float32"),
    "torch": timing.torch_side(str(device), "float32"),
  }
  refused = timing.refusal(sides["jax"], sides["torch"])
  t_fwd = rows["jax forward"]["median_s"]
  t_torch = rows[THEIRS]["median_s"]
  for row in rows.values():
    row["forward_equivalents"] = row["median_s"] / t_fwd
    row["speedup_vs_pytorch_grad_cam"] = (
      None if refused else t_torch / row["median_s"]
    )
  return {
    "rows": rows,
    "sides": {k: dataclasses.asdict(v) for k, v in sides.items()},
    "refused": refused,
  }


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--size", type=int, default=224)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument(
    "--torch_device", help="default: the kind of device JAX uses"
  )
  parser.add_argument(
    "--out",
    default=os.path.join(os.path.dirname(__file__), "results", "scoring.json"),
  )
  args = parser.parse_args()
  torch_device = args.torch_device or timing.default_torch_device()
  result = measure(args.batch, args.size, args.repeats, torch_device)
  print()
  print(f"| {'pipeline':40s} | median s (min-max) | fwd-equiv | torch / this |")
  print(f"|{'-' * 42}|--------------------|-----------|--------------|")
  for name, row in result["rows"].items():
    ratio = row["speedup_vs_pytorch_grad_cam"]
    print(
      f"| {name:40s} | {timing.spread(row, 1, 's'):18s} | "
      f"{row['forward_equivalents']:9.2f} | "
      f"{'-' if ratio is None else f'{ratio:.2f}':>12s} |"
    )
  if result["refused"]:
    print(result["refused"])
  import torch

  result.update(
    benchmark="resnet50 five CAMs + confidence change",
    batch=args.batch,
    size=args.size,
    repeats=args.repeats,
    methods=METHODS,
    machine={**timing.machine(), "torch_threads": torch.get_num_threads()},
  )
  os.makedirs(os.path.dirname(args.out), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(result, f, indent=2)
  print(f"\nwrote {args.out}")


if __name__ == "__main__":
  main()
