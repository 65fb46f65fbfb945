# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The benchmarks' fairness rules and the prepared device check, on CPU.

Speed itself is never asserted here (benchmarks print and record it); these
tests check the flags, the refusals, and the JSON and markdown written.
"""

import json
import pathlib
import subprocess
import sys

import pytest

from benchmarks import device_check, timing

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_ratios_only_between_the_same_device_and_dtype():
  jax_gpu = timing.Side("jax", "gpu", "bfloat16")
  assert (
    timing.refusal(jax_gpu, timing.torch_side("cuda:0", "bfloat16")) is None
  )
  assert "jax ran on gpu, torch on cpu" in timing.refusal(
    jax_gpu, timing.torch_side("cpu", "bfloat16")
  )
  assert "jax computed in bfloat16, torch in float32" in timing.refusal(
    jax_gpu, timing.torch_side("cuda", "float32")
  )
  tpu = timing.Side("jax", "tpu", "bfloat16")
  assert timing.refusal(tpu, timing.torch_side("cpu", "bfloat16"))


def _models_py(tmp_path, *flags) -> subprocess.CompletedProcess:
  return subprocess.run(
    [sys.executable, str(REPO / "benchmarks/models.py"), "--models=resnet50",
     "--tiny", "--size=32", "--batch=2", "--repeats=1",
     f"--out={tmp_path / 'models.json'}", *flags],
    capture_output=True, text=True, timeout=900, cwd=REPO,
  )  # fmt: skip


def test_models_refuses_a_ratio_across_dtypes(tmp_path):
  out = _models_py(
    tmp_path, "--dtype=float32", "--torch_dtype=bfloat16",
    "--torch_compile=false",
  )  # fmt: skip
  assert out.returncode == 0, out.stderr[-3000:]
  assert "no ratio: jax computed in float32, torch in bfloat16" in out.stdout
  result = json.loads((tmp_path / "models.json").read_text())
  assert result["sides"] == {
    "jax": {"framework": "jax", "device": "cpu", "dtype": "float32"},
    "torch": {"framework": "torch", "device": "cpu", "dtype": "bfloat16"},
  }
  assert result["refused"].startswith("no ratio")
  (row,) = result["results"]
  assert set(row["ratios"].values()) == {None}
  for column in ("jax", "torch_eager"):
    for kind in ("forward", "train_step"):
      stats = row[column][kind]
      assert stats["min_s"] <= stats["median_s"] <= stats["max_s"]
  assert "torch_compile" not in row and row["train_step_flops"] > 0


def test_models_stops_when_torch_cannot_use_the_device(tmp_path):
  out = _models_py(tmp_path, "--torch_device=cuda")
  assert out.returncode != 0
  assert "torch 2.13.0+cpu sees no CUDA device" in out.stderr + out.stdout


def test_device_check_writes_every_section_even_when_one_fails(
  tmp_path, monkeypatch
):
  def broken(sizes, budget, found):
    raise RuntimeError("no such kernel")

  monkeypatch.setitem(device_check.SECTIONS, "scorecam", broken)
  report = device_check.main(
    ["--tiny", "--only", "roofline", "scorecam", "pipeline",
     "--out", str(tmp_path)]
  )  # fmt: skip
  saved = json.loads((tmp_path / "device_check.json").read_text())
  assert saved["sections"].keys() == {"roofline", "scorecam", "pipeline"}
  assert report["sections"]["scorecam"]["status"] == "error"
  assert "no such kernel" in saved["sections"]["scorecam"]["error"]
  assert saved["sections"]["roofline"]["status"] == "ok"
  roof = saved["sections"]["roofline"]["result"]
  assert roof["bfloat16"]["tflops"] > 0 and roof["float32"]["tflops"] > 0
  pipe = saved["sections"]["pipeline"]["result"]
  assert pipe["images_per_s"] > 0 and pipe["over_train_step"] is None
  assert [t["target"] for t in saved["targets"]] == [
    t[0] for t in device_check.TARGETS
  ]
  text = (tmp_path / "device_check.md").read_text()
  assert "## Targets" in text and "## scorecam: error" in text
  assert "| roofline | ok |" in text


def test_a_spent_budget_skips_the_section(tmp_path, monkeypatch):
  monkeypatch.setitem(device_check.BUDGET_S, "roofline", 0)
  report = device_check.main(
    ["--tiny", "--only", "roofline", "--out", str(tmp_path)]
  )
  assert report["sections"]["roofline"]["status"] == "skipped"
  assert "budget" in report["sections"]["roofline"]["error"]


@pytest.mark.slow
def test_device_check_tiny_runs_every_section(tmp_path):
  """`--tiny` end to end (several minutes on 2 loaded cores: torch.compile
  and pytorch-grad-cam's ScoreCAM on the CPU)."""
  out = subprocess.run(
    [sys.executable, "-m", "benchmarks.device_check", "--tiny",
     "--budget_scale", "10", "--out", str(tmp_path)],
    capture_output=True, text=True, timeout=1800, cwd=REPO,
  )  # fmt: skip
  assert out.returncode == 0, out.stderr[-3000:]
  report = json.loads((tmp_path / "device_check.json").read_text())
  assert {s["status"] for s in report["sections"].values()} == {"ok"}
  (row,) = report["sections"]["train_step"]["result"]["rows"]
  assert set(row["images_per_s"]) == {"jax", "torch_eager", "torch_compile"}
  assert row["mfu"] > 0
  assert all(t["value"] is not None for t in report["targets"])
