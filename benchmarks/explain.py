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

float32 on both sides; torch on --torch_device (default: the kind of device
JAX uses), synchronised inside every timed call; ratios are refused when the
two ran on different kinds of device. Prints a table (median, min-max
spread, ratios) and writes JSON to benchmarks/results/explain.json.

  .venv/bin/python benchmarks/explain.py [--repeats 5] [--batch 8]
"""

import argparse
import dataclasses
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
import_torchvision()  # before pytorch_grad_cam, which imports torchvision
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


def upstream_runner(
  model, classes, layer, tensor, methods, batch_size=None, sync=lambda: None
):
  """pytorch-grad-cam: one call per method, then `sync` (the device's
  queue)."""
  targets = [ClassifierOutputTarget(int(c)) for c in classes]

  def run():
    for cls in methods.values():
      with cls(model=model, target_layers=[layer]) as cam:
        if batch_size is not None:
          cam.batch_size = batch_size
        cam(input_tensor=tensor, targets=targets)
    sync()

  return run


def resnet50(tiny: bool = False):
  """(torch model in eval mode, Flax module, its variables): ResNet50 with
  1000 classes and the same random weights on both sides."""
  from baselines import torch_models

  torch.manual_seed(0)
  torch_model = torch_models.build("resnet50", 1000, tiny=tiny).eval()
  kwargs = {"tiny": True} if tiny else {}
  variables = models.from_torchvision(
    "resnet50", torch_model.state_dict(), **kwargs
  )
  return torch_model, models.create("resnet50", 1000, **kwargs), variables


def measure_all(
  *,
  batch: int = 8,
  size: int = 224,
  repeats: int = 5,
  slow: tuple[str, ...] = tuple(SLOW),
  slow_batch: int = 1,
  slow_size: int = 64,
  slow_repeats: int = 2,
  chunk_size: int = 16,
  paper: bool = True,
  torch_device: str = "cpu",
  tiny: bool = False,
) -> dict:
  """The measurements: the paper's five CAMs (if `paper`) and each of
  `slow` (ScoreCAM, AblationCAM) on `slow_batch` images of `slow_size` px;
  ResNet50 at tiny widths with `tiny` (smoke runs).

  Returns:
    {'timings': {label: time_calls stats}, 'ratios': {name: x or None},
    'sides', 'refused'}.
  """
  device = timing.check_torch_device(torch_device)
  sync = timing.torch_sync(device)
  torch_model, module, variables = resnet50(tiny)
  torch_model = torch_model.to(device)
  rng = np.random.default_rng(0)
  sides = {
    "jax": timing.jax_side("float32"),
    "torch": timing.torch_side(str(device), "float32"),
  }
  refused = timing.refusal(sides["jax"], sides["torch"])
  timings = {}

  def measure(label, fn, repeats):
    timings[label] = stats = timing.time_calls(fn, repeats)
    print(f"  {label}: {timing.spread(stats)}", flush=True)
    return stats["median_s"]

  def ratio(a, b):
    return None if refused else a / b

  images = rng.standard_normal((batch, size, size, 3)).astype(np.float32)
  tensor = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))
  tensor = tensor.to(device)
  classes = rng.integers(0, 1000, batch)
  layer = torch_model.layer4[-1]
  device_images = jax.device_put(images)

  def torch_forward():
    with torch.no_grad():
      torch_model(tensor)
    sync()

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
  if paper:
    t_torch_fwd = measure("torch_forward", torch_forward, repeats)
    t_fwd = measure(
      "xaijax_forward",
      lambda: forward(variables, device_images).block_until_ready(),
      repeats,
    )
    t_ours = measure("xaijax_five_cams", ours_five, repeats)
    t_up = measure(
      "pytorch_grad_cam_five_cams",
      upstream_runner(torch_model, classes, layer, tensor, PAPER, sync=sync),
      repeats,
    )
    ratios = {
      "five_cams_speedup_vs_pytorch_grad_cam": ratio(t_up, t_ours),
      "five_cams_over_xaijax_forward": t_ours / t_fwd,
      "xaijax_forward_over_torch_forward": ratio(t_fwd, t_torch_fwd),
    }

  small = images[:slow_batch, :slow_size, :slow_size]
  small_tensor = tensor[:slow_batch, :, :slow_size, :slow_size]
  small_classes = classes[:slow_batch]
  for name in slow:

    def ours(name=name):
      maps = explain.cams(
        module,
        variables,
        small,
        methods=[name],
        targets=small_classes,
        chunk_size=chunk_size,
        check_finite=False,
      )
      jax.block_until_ready(maps)

    t_o = measure(f"xaijax_{name}", ours, slow_repeats)
    t_u = measure(
      f"pytorch_grad_cam_{name}",
      upstream_runner(
        torch_model,
        small_classes,
        layer,
        small_tensor,
        {name: SLOW[name]},
        batch_size=chunk_size,
        sync=sync,
      ),
      slow_repeats,
    )
    ratios[f"{name}_speedup_vs_pytorch_grad_cam"] = ratio(t_u, t_o)
  return {
    "timings": timings,
    "ratios": ratios,
    "sides": {k: dataclasses.asdict(v) for k, v in sides.items()},
    "refused": refused,
  }


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
  parser.add_argument(
    "--torch_device", help="default: the kind of device JAX uses"
  )
  parser.add_argument("--out", default=str(RESULTS))
  args = parser.parse_args()
  torch_device = args.torch_device or timing.default_torch_device()
  results = {
    "machine": {**timing.machine(), "torch_threads": torch.get_num_threads()},
    "setting": {**vars(args), "torch_device": torch_device},
    **measure_all(
      batch=args.batch,
      size=args.size,
      repeats=args.repeats,
      slow=() if args.skip_slow else tuple(SLOW),
      slow_batch=args.slow_batch,
      slow_size=args.slow_size,
      slow_repeats=args.slow_repeats,
      chunk_size=args.chunk_size,
      paper=not args.skip_paper,
      torch_device=torch_device,
    ),
  }
  print(f"\n{'measurement':36s} {'median (min-max)':>28s}")
  for label, stats in results["timings"].items():
    print(f"{label:36s} {timing.spread(stats):>28s}")
  for label, value in results["ratios"].items():
    shown = results["refused"] if value is None else f"{value:6.2f}x"
    print(f"{label:52s} {shown}")
  out = pathlib.Path(args.out)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(json.dumps(results, indent=2) + "\n")
  print(f"wrote {out}")


if __name__ == "__main__":
  main()
