# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A simulated pod: 2 hosts x 2 devices train, lose a host, resume, study.

Two CPU processes with two simulated devices each (4 devices, gloo
collectives) stand for two hosts of a TPU pod or two GPU nodes. Each runs
the launcher's study entry point, `xaijax.study.run`, which trains the
missing run (each host reads only its slice of every global batch, and
checkpoints are saved asynchronously) and then studies it (a CAM study with
the confidence change). One host is killed with SIGKILL after the first
checkpoint, the job is restarted on both hosts, and the run resumes. The
same launch on 1 process x 1 device is the reference.

Also the entry point of those processes:

  python test_pod.py WORKDIR '{"ref": "train", "pod": "/abs/pod/run"}'
    [PROCESS_ID NUM_PROCESSES PORT SLOW_EXAMPLES]

studies the runs named in the JSON (`"train"`: in `<name>/run` under
WORKDIR, trained first if missing; a path: a trained run's folder),
`SLOW_EXAMPLES` seconds per image read.
"""

import csv
import json
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest
from conftest import train_losses

HERE = pathlib.Path(__file__).resolve()
STEPS = 8
# 2x2 is the pod; 1x1 the reference.
POD = {"processes": 2, "devices": 2}


def train_config():
  """VGG16 (tiny widths, with dropout), plain SGD, 8 steps of batch 8 on 32 px
  synthetic lesions; checkpoints every 2 steps, asynchronously. No BatchNorm
  and no Adam: as in conftest.RUN, they would amplify the rounding
  differences of another device layout into another trajectory."""
  from configs import base

  config = base.get_config("tiny", model="vgg16")
  config.data.image_size = 32
  config.data.synthetic.num_images = 96
  config.total_steps = STEPS
  config.checkpoint.every_steps = 2
  config.checkpoint.async_save = True
  config.eval_every_steps = 4
  config.optimizer.name = "sgd"
  config.optimizer.learning_rate = 0.02
  config.progress = False
  return config


def launch_config(runs: dict):
  """A study launch over `runs` ({name: 'train' or a trained run's
  folder})."""
  from xaijax import study

  config = study.launch_config()
  config.progress = False
  for name, how in runs.items():
    if how == "train":
      config.runs[name] = study.run_config(f"{name}/run", train_config())
    else:
      config.runs[name] = study.run_config(how)
  config.studies.cams = study.cams_config(
    methods=("gradcam", "layercam"),
    layers=("features.22",),  # 4x4 at 32 px
    selections=("all",),
    metrics=("confidence",),
    batch_size=4,  # one image per device of the pod
    figure_images=1,
  )
  return config


def main(workdir, runs, process_id="0", processes="1", port="0",
         slow_examples="0"):  # fmt: skip
  config = launch_config(json.loads(runs))
  if int(processes) > 1:
    config.distributed.coordinator_address = f"127.0.0.1:{port}"
    config.distributed.num_processes = int(processes)
    config.distributed.process_id = int(process_id)
  if float(slow_examples):
    from xaijax.data import dataset

    example = dataset.Split.example

    def slow(self, i, rng=None):
      time.sleep(float(slow_examples))
      return example(self, i, rng)

    dataset.Split.example = slow
  from xaijax import study

  study.run(config, workdir)
  print("ok")


def _start(env, workdir, runs, devices, *group):
  env = {
    **env,
    "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
  }
  return subprocess.Popen(
    [sys.executable, str(HERE), str(workdir), json.dumps(runs),
     *map(str, group)],
    env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
  )  # fmt: skip


def _finish(process, timeout=600) -> str:
  """Waits for a process; fails with its Python traceback (or its last
  lines) if it failed."""
  out, _ = process.communicate(timeout=timeout)
  if process.returncode != 0 or "ok" not in out:
    start = out.find("Traceback (most recent call last)")
    raise AssertionError(
      out[start : start + 6000] if start >= 0 else out[-4000:]
    )
  return out


def _pod(env, workdir, runs, slow=0.0) -> list[subprocess.Popen]:
  with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
  n = POD["processes"]
  return [
    _start(env, workdir, runs, POD["devices"], i, n, port, slow)
    for i in range(n)
  ]


def _saved_steps(run) -> list[int]:
  folder = run / "checkpoints"
  if not folder.exists():
    return []
  return sorted(int(p.name) for p in folder.iterdir() if p.name.isdigit())


def _final_params(run, like=None) -> dict:
  """The parameters of a run's final checkpoint on this process's first
  device; `like` (a state of the same structure) gives the layout when the
  checkpoint was written by other devices (orbax restores a sharded save
  only into explicit shardings)."""
  args = ocp.args.StandardRestore()
  if like is not None:
    one = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    args = ocp.args.StandardRestore(
      jax.tree.map(
        lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=one), like
      )
    )
  with ocp.CheckpointManager(run.absolute() / "checkpoints") as manager:
    return manager.restore(STEPS, args=args)


def _rows(workdir) -> dict[tuple, dict]:
  path = workdir / "studies/cams/per_image.csv"
  with open(path, newline="") as f:
    return {(r["run"], r["id"], r["method"]): r for r in csv.DictReader(f)}


# Four processes, two trainings and a study (~100 s on 2 cores): -m slow.
@pytest.mark.slow
def test_pod_killed_resumed_and_studied_as_one_device(tmp_path, worker_env):
  pod = tmp_path / "pod"
  run = pod / "pod" / "run"
  # 1. The pod trains with slow image reads; one host is killed after the
  # first checkpoint. The other host cannot go on without it: it is stopped
  # as a cluster scheduler stops the rest of a job that lost a host.
  group = _pod(worker_env, pod, {"pod": "train"}, slow=0.05)
  deadline = time.monotonic() + 420
  while not _saved_steps(run):
    assert time.monotonic() < deadline, "no checkpoint within 420 s"
    for p in group:
      assert p.poll() is None, p.communicate()[0][-4000:]
    time.sleep(0.1)
  group[1].send_signal(signal.SIGKILL)
  group[1].wait()
  group[0].send_signal(signal.SIGKILL)
  group[0].wait()
  assert _saved_steps(run) and not (run / "results.json").exists()

  # 2. The same command on both hosts: the run resumes, then is studied.
  resumed = [_finish(p) for p in _pod(worker_env, pod, {"pod": "train"})]
  found = re.findall(rf"Resumed \S+ at step (\d+) of {STEPS}\.", resumed[0])
  assert len(found) == 1 and 0 < int(found[0]) < STEPS, resumed[0][-3000:]
  info = json.loads((run / "run_info.json").read_text())
  assert (info["process_count"], info["device_count"]) == (2, 4)

  # 3. The reference: 1 process x 1 device trains its own run and studies
  # both runs.
  reference = tmp_path / "reference"
  _finish(_start(worker_env, reference, {"ref": "train", "pod": str(run)}, 1))
  ref_run = reference / "ref" / "run"

  # Training. The two layouts compute the same global batch (each host
  # read its half, the 4 devices 2 images each) and differ only in the
  # summation order of the gradient reductions: a float32 sum of n terms
  # reordered moves by at most (n - 1) u sum|terms|, u = 2^-24, i.e. by
  # ~4e-7 of the gradient's scale for the 8 images of a batch. 8 SGD steps
  # of learning rate 0.02 on losses ~1 add such errors step by step (they
  # grow, they are not amplified: plain SGD, no BatchNorm, no Adam), so the
  # losses and parameters agree to 8 x 4e-7 ~ 3e-6; we allow 1e-5.
  np.testing.assert_allclose(
    train_losses(run), train_losses(ref_run), rtol=1e-5
  )
  ref_state = _final_params(ref_run)
  pod_state = _final_params(run, like=ref_state)
  for (path, value), other in zip(
    jax.tree_util.tree_leaves_with_path(ref_state["params"]),
    jax.tree.leaves(pod_state["params"]),
    strict=True,
  ):
    value, other = np.asarray(value), np.asarray(other)
    scale = np.abs(value).max()
    np.testing.assert_allclose(
      other,
      value,
      rtol=0,
      atol=1e-5 * scale,
      err_msg=jax.tree_util.keystr(path),
    )
  pod_results = json.loads((run / "results.json").read_text())
  ref_results = json.loads((ref_run / "results.json").read_text())
  assert (
    pod_results["test"]["confusion_matrix"]
    == (ref_results["test"]["confusion_matrix"])
  )

  # The study. (a) The pod's study of its run equals one device's study of
  # that run: the same per-image programs, sharded or not, so probabilities
  # (in [0, 1]) agree to a few float32 ulps of 1; 1e-5 as in
  # tests/study/test_study.py. (b) One device's studies of the two runs: the
  # models differ by the training bound above, relative 1e-5 of each
  # parameter tensor's scale; a probability moves by at most 1/2 of the
  # largest logit change (each row of the softmax Jacobian sums to
  # 2 p (1 - p) <= 1/2 in absolute value), the clean and the masked one
  # each, and logits of these ~unit-scale networks move by ~the parameters'
  # relative change: 1e-5 again, doubled for the two probabilities.
  pod_rows, ref_rows = _rows(pod), _rows(reference)
  studied = {k: r for k, r in ref_rows.items() if k[0] == "pod"}
  assert sorted(pod_rows) == sorted(studied) and pod_rows
  for key, row in pod_rows.items():
    assert row["explained"] == studied[key]["explained"], key
    assert abs(float(row["delta"]) - float(studied[key]["delta"])) <= 1e-5
  for (_, image, method), row in studied.items():
    other = ref_rows[("ref", image, method)]
    assert row["explained"] == other["explained"]
    assert abs(float(row["delta"]) - float(other["delta"])) <= 2e-5


if __name__ == "__main__":
  sys.path.insert(0, str(HERE.parents[2]))  # configs/
  main(*sys.argv[1:])
