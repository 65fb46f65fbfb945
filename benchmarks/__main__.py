# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Every benchmark in one command, one table: xaijax vs the PyTorch baselines.

  python -m benchmarks                 # CPU sizes, ~20 minutes on 2 cores
  python -m benchmarks --gpu           # GPU sizes (batch 64; models in bf16)
  python -m benchmarks --only explain scoring

Runs each script of this folder in its own process (so one's compile caches
and threads do not disturb another's timings), collects the JSON each writes
to benchmarks/results/, prints one summary table and writes it, with the
machine, the versions and every script's raw figures (medians and spreads),
to benchmarks/results/all.json. Ratios are taken within one script's run:
same machine, same batch, same weights.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

from benchmarks import scoring, timing

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results"

# Command-line arguments of each script, per preset.
PRESETS = {
  "cpu": {
    "models": ["--batch", "8", "--size", "128", "--repeats", "5"],
    "explain": [
      "--batch",
      "8",
      "--size",
      "224",
      "--repeats",
      "3",
      "--slow_repeats",
      "1",
    ],
    "scoring": ["--batch", "8", "--size", "224", "--repeats", "3"],
    "input_pipeline": ["--batch", "8"],
  },
  "gpu": {
    "models": [
      "--batch",
      "64",
      "--size",
      "224",
      "--repeats",
      "10",
      "--dtype",
      "bfloat16",
    ],
    "explain": ["--batch", "64", "--size", "224", "--repeats", "10"],
    "scoring": ["--batch", "64", "--size", "224", "--repeats", "10"],
    "input_pipeline": ["--batch", "64"],
  },
}


def _ratio(a: float | None, b: float | None) -> str:
  return f"{a / b:.2f}x" if a and b else "–"


def _models(result: dict) -> list[tuple]:
  batch = result["settings"]["batch"]
  refused = result["refused"]
  rows = []
  for r in result["results"]:
    for what in ("forward", "train_step"):
      for column in ("torch_eager", "torch_compile"):
        if column not in r:
          continue
        jax_rate = batch / r["jax"][what]["median_s"]
        torch_rate = batch / r[column][what]["median_s"]
        rows.append(
          (
            f"{r['model']} {what.replace('_', ' ')} vs {column} (img/s)",
            f"{jax_rate:.1f}",
            f"{torch_rate:.1f}",
            refused or _ratio(jax_rate, torch_rate),
          )
        )
  return rows


def _explain(result: dict) -> list[tuple]:
  t = {k: v["median_s"] for k, v in result["timings"].items()}
  ratios = result["ratios"]
  rows = []
  if "xaijax_five_cams" in t:
    rows += [
      (
        "5 paper CAMs, ResNet50 (s)",
        f"{t['xaijax_five_cams']:.3f}",
        f"{t['pytorch_grad_cam_five_cams']:.3f}",
        _ratio(ratios["five_cams_speedup_vs_pytorch_grad_cam"], 1.0),
      ),
      (
        "5 paper CAMs / our forward",
        f"{ratios['five_cams_over_xaijax_forward']:.2f}",
        "",
        "",
      ),
    ]
  for method in ("scorecam", "ablationcam"):
    if f"xaijax_{method}" in t:
      rows.append(
        (
          f"{method} (s)",
          f"{t[f'xaijax_{method}']:.3f}",
          f"{t[f'pytorch_grad_cam_{method}']:.3f}",
          _ratio(ratios[f"{method}_speedup_vs_pytorch_grad_cam"], 1.0),
        )
      )
  return rows


def _scoring(result: dict) -> list[tuple]:
  rows = result["rows"]
  ours = rows[scoring.OURS]
  theirs = rows[scoring.THEIRS]
  return [
    (
      "5 CAMs + confidence change (s)",
      f"{ours['median_s']:.3f}",
      f"{theirs['median_s']:.3f}",
      _ratio(ours["speedup_vs_pytorch_grad_cam"], 1.0),
    ),
    (
      "  in our forward passes",
      f"{ours['forward_equivalents']:.1f}",
      "",
      "",
    ),
  ]


def _input_pipeline(result: dict) -> list[tuple]:
  rows = [
    (f"pipeline: {r['source']}, {r['workers']} workers (img/s)",
     f"{r['images_per_s']:.0f}", "", "")
    for r in result["pipeline"]
  ]  # fmt: skip
  step = result.get("train_step")
  if step:
    rows.append(
      (
        "ResNet50 train step, same batch (img/s)",
        f"{step['fixed_batch_images_per_s']:.2f}",
        "",
        "",
      )
    )
  return rows


SUMMARIES = {
  "models": _models,
  "explain": _explain,
  "scoring": _scoring,
  "input_pipeline": _input_pipeline,
}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--gpu", action="store_true", help="GPU sizes")
  parser.add_argument("--only", nargs="+", choices=list(SUMMARIES))
  parser.add_argument(
    "--reuse", action="store_true", help="summarise saved JSON, run nothing"
  )
  args = parser.parse_args()
  preset = "gpu" if args.gpu else "cpu"
  names = args.only or list(SUMMARIES)
  RESULTS.mkdir(exist_ok=True)
  raw, wall = {}, {}
  for name in names:
    if not args.reuse:
      command = [
        sys.executable,
        str(HERE / f"{name}.py"),
        *PRESETS[preset][name],
      ]
      print("$", " ".join(command), flush=True)
      start = time.perf_counter()
      subprocess.run(
        command, check=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
      )
      wall[name] = time.perf_counter() - start
    raw[name] = json.loads((RESULTS / f"{name}.json").read_text())

  table = [("figure", "xaijax", "PyTorch", "ratio")]
  for name in names:
    table += SUMMARIES[name](raw[name])
  widths = [max(len(str(row[i])) for row in table) for i in range(4)]
  print()
  for i, row in enumerate(table):
    print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    if i == 0:
      print("  ".join("-" * w for w in widths))
  summary = {
    "machine": timing.machine(),
    "preset": preset,
    "arguments": {n: PRESETS[preset][n] for n in names},
    "wall_s": wall,
    "summary": [dict(zip(table[0], row, strict=True)) for row in table[1:]],
    "raw": raw,
  }
  (RESULTS / "all.json").write_text(json.dumps(summary, indent=1))
  print(f"\nWrote {RESULTS / 'all.json'}")


if __name__ == "__main__":
  main()
