# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""The prepared check for a session that has an accelerator: one command.

  python -m benchmarks.device_check --out $OUT           # ~7 min on one H200
  python -m benchmarks.device_check --tiny --out /tmp/x  # CPU smoke, ~1 min
  python -m benchmarks.device_check --only cams scorecam --out $OUT

Writes `device_check.json` and `device_check.md` to --out, after every
section (a run stopped by its time limit keeps what it measured). Sections,
in order, each in its own try/except (an error is written into the JSON and
the next section runs) and each with a time budget (what does not start
within it is marked skipped):

* roofline: bf16 and f32 matmul TFLOP/s, measured (the ceiling for MFU);
* train_step: ResNet50, EfficientNet-B0, VGG16, DenseNet121 train steps in
  images/s at batch 256, 224 px, bf16: JAX vs torch eager AMP vs
  torch.compile AMP (`benchmarks/models.py`), model FLOPs utilisation (XLA's
  cost analysis of the step over the measured bf16 roofline), memory;
* cams: the paper's five CAMs (`benchmarks/explain.py`) and the five CAMs +
  confidence change (`benchmarks/scoring.py`) at batch 64, float32, against
  pytorch-grad-cam on the same device;
* scorecam: ScoreCAM, 1 image, 224 px, all 2048 channels, both libraries;
* pipeline: `xaijax.data.train_batches` at 224 px with every CPU core as a
  worker, next to the JAX ResNet50 train step's rate.

`--tiny` runs the same code at smoke sizes (tiny widths, 32 px, batch 4) on
any machine: tests/benchmarks/test_device_check.py runs it on the CPU.
BENCHMARKS.md says how to run it with the device tool and what to check.
"""

# Allocate device memory as needed: JAX and torch share one GPU here, and
# JAX's default preallocation of 75% would leave torch too little.
import os

os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
# pytorch-grad-cam's ScoreCAM draws a progress bar; tqdm reads this once.
os.environ.setdefault("TQDM_DISABLE", "1")

import argparse
import json
import pathlib
import sys
import time
import traceback
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks import timing

# Sizes: the real check and the smoke run.
SIZES = {
  "full": {
    "matmul": 8192,
    "train_batch": 256,
    "train_size": 224,
    "cam_batch": 64,
    "cam_size": 224,
    "scorecam_size": 224,
    "chunk_size": 64,
    "repeats": 10,
    "pipeline_batches": 4,
    "models": ("resnet50", "efficientnet_b0", "vgg16", "densenet121"),
  },
  "tiny": {
    "matmul": 256,
    "train_batch": 4,
    "train_size": 32,
    "cam_batch": 2,
    "cam_size": 32,
    "scorecam_size": 32,
    "chunk_size": 16,
    "repeats": 2,
    "pipeline_batches": 2,
    "models": ("resnet50",),
  },
}
# Seconds each section may start work in (train_step: per model, in the
# order of `models`, cheapest to compile first after ResNet50; a model that
# cannot start in time is skipped). About 7 minutes in
# all on one H200, compilation included; --budget_scale stretches them.
BUDGET_S = {
  "roofline": 20,
  "train_step": 290,
  "cams": 50,
  "scorecam": 40,
  "pipeline": 30,
}
TARGETS = (
  # (name, section, key, comparison, threshold)
  ("train step / torch eager AMP (ResNet50)", "train_step", "eager", ">=", 1.3),
  ("train step / torch.compile AMP (ResNet50)", "train_step", "compile", ">=",
   1.0),
  ("five CAMs vs pytorch-grad-cam", "cams", "five_cams_speedup", ">=", 20.0),
  ("five CAMs / one forward pass", "cams", "five_cams_over_forward", "<=",
   1.15),
  ("pipeline / train step (ResNet50)", "pipeline", "over_train_step", ">=",
   1.5),
)  # fmt: skip


class OutOfTime(Exception):
  """A section's budget is spent."""


class Budget:
  """A section's time budget: `check` raises OutOfTime once it is spent."""

  def __init__(self, seconds: float):
    self.seconds = seconds
    self.start = time.perf_counter()

  def left(self) -> float:
    return self.seconds - (time.perf_counter() - self.start)

  def check(self, what: str) -> None:
    if self.left() <= 0:
      raise OutOfTime(f"{what}: budget of {self.seconds:.0f} s spent")


def say(text: str) -> None:
  print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def roofline(sizes: dict, budget: Budget, found: dict) -> dict:
  """Measured matmul rates: the ceilings a train step is compared with."""
  n = sizes["matmul"]
  out = {}
  for label, dtype, precision in (
    ("bfloat16", jnp.bfloat16, None),
    ("float32", jnp.float32, None),  # the backend's default (TF32 on GPUs)
    ("float32_highest", jnp.float32, jax.lax.Precision.HIGHEST),
  ):
    budget.check(label)
    keys = jax.random.split(jax.random.key(0), 2)
    a, b = (jax.random.normal(k, (n, n), dtype) for k in keys)
    matmul = jax.jit(lambda a, b, p=precision: jnp.dot(a, b, precision=p))
    stats = timing.time_calls(
      lambda a=a, b=b, f=matmul: f(a, b).block_until_ready(),
      sizes["repeats"],
    )
    out[label] = {**stats, "tflops": 2 * n**3 / stats["median_s"] / 1e12}
    say(f"  matmul {label} {n}^3: {out[label]['tflops']:.1f} TFLOP/s")
  return {"n": n, **out}


def train_step(sizes: dict, budget: Budget, found: dict) -> dict:
  """bf16 train steps: JAX vs torch eager AMP vs torch.compile AMP."""
  from benchmarks import models as model_bench

  tiny = sizes is SIZES["tiny"]
  device = timing.check_torch_device(timing.default_torch_device())
  batch, size = sizes["train_batch"], sizes["train_size"]
  rng = np.random.default_rng(0)
  images = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
  classes = 4 if tiny else 1000
  labels = (np.arange(batch) % classes).astype(np.int32)
  args = {
    "dtype": "bfloat16",
    "torch_dtype": "bfloat16",
    "torch_compile": True,
    "tiny": tiny,
    "repeats": sizes["repeats"],
  }
  sides = {
    "jax": timing.jax_side("bfloat16"),
    "torch": timing.torch_side(str(device), "bfloat16"),
  }
  refused = timing.refusal(sides["jax"], sides["torch"])
  peak = (found.get("roofline") or {}).get("bfloat16", {}).get("tflops")
  rows, skipped = [], []
  for name in sizes["models"]:
    if budget.left() <= 0:
      skipped.append(name)
      continue
    say(f"  {name}")
    try:
      row = model_bench.measure(name, images, labels, args, device)
    except Exception:
      rows.append({"model": name, "error": traceback.format_exc()})
      say(f"  {name} failed:\n{rows[-1]['error']}")
      continue
    row["ratios"] = model_bench.ratios(row, refused)
    step_s = row["jax"]["train_step"]["median_s"]
    row["images_per_s"] = {
      c: batch / row[c]["train_step"]["median_s"]
      for c in ("jax", *model_bench.TORCH_COLUMNS)
      if c in row
    }
    flops = row["train_step_flops"]
    row["tflops"] = None if flops is None else flops / step_s / 1e12
    row["mfu"] = None if flops is None or not peak else row["tflops"] / peak
    row["torch_peak_bytes"] = torch_peak_bytes()
    rows.append(row)
    say(
      f"  {name}: "
      + ", ".join(f"{c} {r:.0f} img/s" for c, r in row["images_per_s"].items())
    )
  return {
    "batch": batch,
    "size": size,
    "sides": {k: v.__dict__ for k, v in sides.items()},
    "refused": refused,
    "rows": rows,
    "skipped": skipped,
    "jax_peak_bytes": jax_peak_bytes(),
  }


def torch_peak_bytes() -> int | None:
  """torch's peak GPU allocation since the last call (None on the CPU)."""
  import torch

  if not torch.cuda.is_available():
    return None
  peak = torch.cuda.max_memory_allocated()
  torch.cuda.reset_peak_memory_stats()
  torch.cuda.empty_cache()
  return peak


def jax_peak_bytes() -> int | None:
  """JAX's peak device allocation in this process (None where the backend
  keeps no statistics, as on the CPU)."""
  stats = jax.local_devices()[0].memory_stats()
  return None if not stats else stats.get("peak_bytes_in_use")


def cams(sizes: dict, budget: Budget, found: dict) -> dict:
  """The five CAMs, and the five CAMs + confidence change, at batch 64."""
  from benchmarks import explain, scoring

  tiny = sizes is SIZES["tiny"]
  device = timing.default_torch_device()
  five = explain.measure_all(
    batch=sizes["cam_batch"],
    size=sizes["cam_size"],
    repeats=sizes["repeats"],
    slow=(),
    torch_device=device,
    tiny=tiny,
  )
  budget.check("cams + confidence change")
  scored = scoring.measure(
    sizes["cam_batch"], sizes["cam_size"], sizes["repeats"], device, tiny
  )
  return {"five_cams": five, "cams_and_scores": scored}


def scorecam(sizes: dict, budget: Budget, found: dict) -> dict:
  """ScoreCAM on one image at 224 px, every channel, both libraries."""
  from benchmarks import explain

  return explain.measure_all(
    paper=False,
    slow=("scorecam",),
    slow_batch=1,
    slow_size=sizes["scorecam_size"],
    slow_repeats=1,
    chunk_size=sizes["chunk_size"],
    torch_device=timing.default_torch_device(),
    tiny=sizes is SIZES["tiny"],
  )


def pipeline(sizes: dict, budget: Budget, found: dict) -> dict:
  """The input pipeline with every core, next to the train step's rate."""
  from xaijax import data

  config = data.default_config()
  config.name = "synthetic"
  config.image_size = 224
  config.num_workers = os.cpu_count()
  batch = sizes["train_batch"]
  config.synthetic.num_images = max(64, 2 * batch * sizes["pipeline_batches"])
  split = data.load(config).train
  batches = data.train_batches(split, batch_size=batch, seed=0)
  next(batches)  # threads and buffers up
  start = time.perf_counter()
  for _ in range(sizes["pipeline_batches"]):
    next(batches)
  rate = batch * sizes["pipeline_batches"] / (time.perf_counter() - start)
  batches.close()
  step = None
  for row in (found.get("train_step") or {}).get("rows", []):
    if row.get("model") == "resnet50" and "images_per_s" in row:
      step = row["images_per_s"]["jax"]
  say(f"  pipeline: {rate:.0f} img/s with {config.num_workers} workers")
  return {
    "workers": config.num_workers,
    "batch": batch,
    "image_size": 224,
    "images_per_s": rate,
    "train_step_images_per_s": step,
    "over_train_step": None if step is None else rate / step,
  }


SECTIONS: dict[str, Callable[[dict, Budget, dict], dict]] = {
  "roofline": roofline,
  "train_step": train_step,
  "cams": cams,
  "scorecam": scorecam,
  "pipeline": pipeline,
}


def target_values(sections: dict) -> dict[str, float | None]:
  """The figures the targets are about (None where not measured)."""
  results = {k: v.get("result") or {} for k, v in sections.items()}
  rows = {r["model"]: r for r in results.get("train_step", {}).get("rows", [])}
  ratios = rows.get("resnet50", {}).get("ratios", {})
  five = results.get("cams", {}).get("five_cams", {}).get("ratios", {})
  return {
    "eager": ratios.get("train_step_vs_torch_eager"),
    "compile": ratios.get("train_step_vs_torch_compile"),
    "five_cams_speedup": five.get("five_cams_speedup_vs_pytorch_grad_cam"),
    "five_cams_over_forward": five.get("five_cams_over_xaijax_forward"),
    "over_train_step": results.get("pipeline", {}).get("over_train_step"),
  }


def targets(sections: dict) -> list[dict]:
  values = target_values(sections)
  out = []
  for name, _section, key, comparison, threshold in TARGETS:
    value = values[key]
    met = None
    if value is not None:
      met = value >= threshold if comparison == ">=" else value <= threshold
    out.append(
      {"target": name, "value": value, "want": f"{comparison} {threshold}",
       "met": met}
    )  # fmt: skip
  return out


def markdown(report: dict) -> str:
  """The report as markdown tables."""
  m = report["machine"]
  lines = [
    "# Device check",
    "",
    f"{m['jax_devices'][0]} ({m['jax_backend']}), {m['cpu_count']} CPU "
    f"cores, load {m['load_average'][0]:.2f}; jax "
    f"{m['versions']['jax']}, torch {m['versions']['torch']}; "
    f"sizes: {report['settings']['sizes']}.",
    "",
    "## Targets",
    "",
    "| target | value | wanted | met |",
    "|---|---|---|---|",
  ]
  for t in report["targets"]:
    value = "–" if t["value"] is None else f"{t['value']:.2f}"
    met = {True: "yes", False: "**no**", None: "–"}[t["met"]]
    lines.append(f"| {t['target']} | {value} | {t['want']} | {met} |")
  lines += ["", "## Sections", "", "| section | status | seconds |"]
  lines.append("|---|---|---|")
  for name, s in report["sections"].items():
    lines.append(f"| {name} | {s['status']} | {s['seconds']:.1f} |")
  sections = report["sections"]
  roof = sections.get("roofline", {}).get("result")
  if roof:
    lines += ["", "## Matmul roofline", "", "| dtype | TFLOP/s |", "|---|---|"]
    for k in ("bfloat16", "float32", "float32_highest"):
      if k in roof:
        lines.append(f"| {k} | {roof[k]['tflops']:.1f} |")
  steps = sections.get("train_step", {}).get("result")
  if steps:
    lines += [
      "",
      f"## Train step, bf16, batch {steps['batch']}, {steps['size']} px "
      "(images/s, median of the timed steps)",
      "",
      "| model | JAX | torch eager AMP | torch.compile AMP | JAX / eager | "
      "JAX / compile | TFLOP/s | MFU | JAX step memory (GB) |",
      "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in steps["rows"]:
      if "error" in r:
        lines.append(f"| {r['model']} | error (see JSON) |||||||||")
        continue
      rate = r["images_per_s"]
      ratio = r["ratios"]

      def cell(x, fmt=".2f"):
        return "–" if x is None else format(x, fmt)

      memory = r["train_step_bytes"]
      lines.append(
        f"| {r['model']} | {rate['jax']:.0f} | "
        f"{cell(rate.get('torch_eager'), '.0f')} | "
        f"{cell(rate.get('torch_compile'), '.0f')} | "
        f"{cell(ratio['train_step_vs_torch_eager'])} | "
        f"{cell(ratio['train_step_vs_torch_compile'])} | "
        f"{cell(r['tflops'], '.1f')} | {cell(r['mfu'])} | "
        f"{cell(None if memory is None else memory / 2**30)} |"
      )
    if steps["refused"]:
      lines += ["", steps["refused"]]
    if steps["skipped"]:
      lines += ["", f"Skipped (budget): {', '.join(steps['skipped'])}."]
  cam = sections.get("cams", {}).get("result")
  if cam:
    five = cam["five_cams"]
    rows = cam["cams_and_scores"]["rows"]
    lines += [
      "",
      "## CAMs (float32)",
      "",
      "| figure | median s (min-max) |",
      "|---|---|",
    ]
    for label, stats in five["timings"].items():
      lines.append(f"| {label} | {timing.spread(stats, 1, 's')} |")
    for label, stats in rows.items():
      lines.append(f"| {label} | {timing.spread(stats, 1, 's')} |")
  score = sections.get("scorecam", {}).get("result")
  if score:
    lines += ["", "## ScoreCAM", "", "| figure | seconds |", "|---|---|"]
    for label, stats in score["timings"].items():
      lines.append(f"| {label} | {timing.spread(stats, 1, 's')} |")
  pipe = sections.get("pipeline", {}).get("result")
  if pipe:
    lines += [
      "",
      "## Input pipeline",
      "",
      f"{pipe['images_per_s']:.0f} images/s with {pipe['workers']} workers "
      f"(batch {pipe['batch']}, 224 px); JAX ResNet50 train step: "
      f"{pipe['train_step_images_per_s'] or '–'} images/s.",
    ]
  for name, s in sections.items():
    if s["status"] == "error":
      lines += ["", f"## {name}: error", "", "```", s["error"], "```"]
  return "\n".join(lines) + "\n"


def write(report: dict, out: pathlib.Path) -> None:
  report["targets"] = targets(report["sections"])
  (out / "device_check.json").write_text(json.dumps(report, indent=1) + "\n")
  (out / "device_check.md").write_text(markdown(report))


def main(argv=None) -> dict:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--tiny", action="store_true", help="smoke sizes")
  parser.add_argument("--only", nargs="+", choices=list(SECTIONS))
  parser.add_argument(
    "--budget_scale", type=float, default=1.0, help="times every budget"
  )
  parser.add_argument(
    "--out", default=str(pathlib.Path(__file__).with_name("results"))
  )
  args = parser.parse_args(argv)
  out = pathlib.Path(args.out)
  out.mkdir(parents=True, exist_ok=True)
  sizes = SIZES["tiny" if args.tiny else "full"]
  report = {
    "machine": timing.machine(),
    "settings": {
      "sizes": "tiny" if args.tiny else "full",
      **sizes,
      "budgets_s": {k: v * args.budget_scale for k, v in BUDGET_S.items()},
    },
    "sections": {},
  }
  say(f"device check on {jax.devices()[0]} -> {out}")
  found = {}
  for name in args.only or SECTIONS:
    say(f"{name} ...")
    budget = Budget(BUDGET_S[name] * args.budget_scale)
    entry = {"status": "ok", "result": None, "error": None}
    try:
      found[name] = entry["result"] = SECTIONS[name](sizes, budget, found)
    except OutOfTime as why:
      entry.update(status="skipped", error=str(why))
    except Exception:
      entry.update(status="error", error=traceback.format_exc())
      say(entry["error"])
    entry["seconds"] = time.perf_counter() - budget.start
    report["sections"][name] = entry
    write(report, out)
    say(f"{name}: {entry['status']} in {entry['seconds']:.1f} s")
  say(f"wrote {out / 'device_check.json'} and {out / 'device_check.md'}")
  return report


if __name__ == "__main__":
  main()
