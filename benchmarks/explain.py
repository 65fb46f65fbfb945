# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""CAM speed: xaijax vs pytorch-grad-cam on the same ResNet-50 weights.

Measures, on one machine, medians over `--repeats` timed runs after a warm-up
(compilation excluded):

* torch forward and xaijax (jitted Flax) forward, batch 8, 224 px;
* the paper's five CAMs (gradcam, gradcampp, xgradcam, eigengradcam,
  layercam) at `layer4.2`: pytorch-grad-cam = 5 per-method calls; xaijax =
  ONE `cams` call (one forward + one backward through the head);
* ScoreCAM and AblationCAM at a reduced setting (`--slow_batch` images of
  `--slow_size` px, all 2048 channels of layer4.2, `--chunk_size` channels
  per batch in both libraries), since upstream needs one forward pass per
  channel for both.

Prints a table (median, min-max spread, ratios) and writes JSON to
benchmarks/results/explain.json.

  .venv/bin/python benchmarks/explain.py [--repeats 5] [--batch 8]
"""

import argparse
import json
import os
import pathlib
import sys

import jax
import numpy as np

from xaijax import explain, models
from xaijax.models.torch_interop import import_torchvision

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks import timing

# Upstream ScoreCAM and AblationCAM draw a tqdm bar per call; keep the table
# readable. tqdm reads the variable when first imported (by torchvision).
os.environ.setdefault("TQDM_DISABLE", "1")
tv = import_torchvision()
import pytorch_grad_cam as pgc  # noqa: E402
import torch  # noqa: E402
from pytorch_grad_cam.utils.model_targets import (  # noqa: E402
  ClassifierOutputTarget,
)

PAPER = {
  "gradcam": pgc.GradCAM,
  "gradcampp": pgc.GradCAMPlusPlus,
  "xgradcam": pgc.XGradCAM,
  "eigengradcam": pgc.EigenGradCAM,
  "layercam": pgc.LayerCAM,
}
SLOW = {"scorecam": pgc.ScoreCAM, "ablationcam": pgc.AblationCAM}
RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "explain.json"


def upstream_runner(model, classes, layer, tensor, methods, batch_size=None):
  targets = [ClassifierOutputTarget(int(c)) for c in classes]

  def run():
    for cls in methods.values():
      with cls(model=model, target_layers=[layer]) as cam:
        if batch_size is not None:
          cam.batch_size = batch_size
        cam(input_tensor=tensor, targets=targets)

  return run


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--batch", type=int, default=8)
  parser.add_argument("--size", type=int, default=224)
  parser.add_argument("--repeats", type=int, default=5)
  parser.add_argument("--slow_batch", type=int, default=1)
  parser.add_argument("--slow_size", type=int, default=64)
  parser.add_argument("--slow_repeats", type=int, default=2)
  parser.add_argument(
    "--chunk_size",
    type=int,
    default=16,
    help="Channels per batch, both libraries (16: upstream ScoreCAM's).",
  )
  parser.add_argument("--skip_slow", action="store_true")
  parser.add_argument("--skip_paper", action="store_true")
  parser.add_argument("--out", default=str(RESULTS))
  args = parser.parse_args()

  torch.manual_seed(0)
  torch_model = tv.models.resnet50().eval()
  variables = models.from_torchvision("resnet50", torch_model.state_dict())
  module = models.create("resnet50", 1000)
  rng = np.random.default_rng(0)
  results = {
    "machine": {**timing.machine(), "torch_threads": torch.get_num_threads()},
    "setting": vars(args),
    "timings": {},
  }
  rows = []

  def measure(label, fn, repeats):
    stats = timing.time_calls(fn, repeats)
    results["timings"][label] = stats
    rows.append((label, stats))
    print(f"  {label}: {stats['median_s'] * 1e3:.0f} ms", flush=True)
    return stats["median_s"]

  images = rng.standard_normal((args.batch, args.size, args.size, 3))
  images = images.astype(np.float32)
  tensor = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
  classes = rng.integers(0, 1000, args.batch)
  layer = torch_model.layer4[-1]
  device_images = jax.device_put(images)

  def torch_forward():
    with torch.no_grad():
      torch_model(tensor)

  forward = jax.jit(lambda v, x: module.apply(v, x, train=False))

  def ours_five():
    maps = explain.cams(
      module,
      variables,
      device_images,
      methods=list(PAPER),
      targets=classes,
      check_finite=False,
    )
    jax.block_until_ready(maps)

  ratios = {}
  if not args.skip_paper:
    t_torch_fwd = measure("torch_forward", torch_forward, args.repeats)
    t_fwd = measure(
      "xaijax_forward",
      lambda: forward(variables, device_images).block_until_ready(),
      args.repeats,
    )
    t_ours = measure("xaijax_five_cams", ours_five, args.repeats)
    t_up = measure(
      "pytorch_grad_cam_five_cams",
      upstream_runner(torch_model, classes, layer, tensor, PAPER),
      args.repeats,
    )
    ratios = {
      "five_cams_speedup_vs_pytorch_grad_cam": t_up / t_ours,
      "five_cams_over_xaijax_forward": t_ours / t_fwd,
      "xaijax_forward_over_torch_forward": t_fwd / t_torch_fwd,
    }

  if not args.skip_slow:
    small = images[: args.slow_batch, : args.slow_size, : args.slow_size]
    small_tensor = tensor[
      : args.slow_batch, :, : args.slow_size, : args.slow_size
    ]
    small_classes = classes[: args.slow_batch]
    for name, cls in SLOW.items():

      def ours(name=name):
        maps = explain.cams(
          module,
          variables,
          small,
          methods=[name],
          targets=small_classes,
          chunk_size=args.chunk_size,
          check_finite=False,
        )
        jax.block_until_ready(maps)

      t_o = measure(f"xaijax_{name}", ours, args.slow_repeats)
      t_u = measure(
        f"pytorch_grad_cam_{name}",
        upstream_runner(
          torch_model,
          small_classes,
          layer,
          small_tensor,
          {name: cls},
          batch_size=args.chunk_size,
        ),
        args.slow_repeats,
      )
      ratios[f"{name}_speedup_vs_pytorch_grad_cam"] = t_u / t_o

  results["ratios"] = ratios
  print(f"\n{'measurement':36s} {'median':>10s} {'min-max':>17s}")
  for label, s in rows:
    spread = f"{s['min_s'] * 1e3:.0f}-{s['max_s'] * 1e3:.0f} ms"
    print(f"{label:36s} {s['median_s'] * 1e3:8.0f} ms {spread:>17s}")
  for label, value in ratios.items():
    print(f"{label:52s} {value:6.2f}x")
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps(results, indent=2) + "\n")
  print(f"wrote {out}")


if __name__ == "__main__":
  main()
