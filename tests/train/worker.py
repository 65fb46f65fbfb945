# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""One training process of the multi-device tests, run as a subprocess.

  python worker.py WORKDIR '{"total_steps": 6, ...}' [PROCESS_ID]

The JSON holds overrides of the tiny config (dotted keys allowed). Each process
writes its results to WORKDIR/result_<process>.json; a single-process run
also writes its final train state to WORKDIR/final.npz.
"""

import json
import pathlib
import sys

import jax
import numpy as np
import orbax.checkpoint as ocp

sys.path[:0] = [
  str(pathlib.Path(__file__).parent),
  str(pathlib.Path(__file__).parents[2]),
]

import fake_data  # noqa: E402

from configs import base  # noqa: E402
from xaijax import train  # noqa: E402


def tiny_config(overrides: dict):
  config = base.get_config("tiny")
  config.data = fake_data.default_config()
  config.progress = False
  config.log_every_steps = 1
  for key, value in overrides.items():
    *parents, leaf = key.split(".")
    node = config
    for p in parents:
      node = node[p]
    node[leaf] = tuple(value) if isinstance(value, list) else value
  return config


def main(workdir: str, overrides: str, process_id: str = "0") -> None:
  config = tiny_config(json.loads(overrides))
  with config.unlocked():
    config.distributed.process_id = int(process_id)
  results = train.run(config, workdir, data=fake_data)
  out = pathlib.Path(workdir)
  (out / f"result_{process_id}.json").write_text(json.dumps(results))
  if jax.process_count() > 1:
    return  # the state is compared through the results of every process
  with ocp.CheckpointManager(out.absolute() / "checkpoints") as manager:
    state = manager.restore(
      manager.latest_step(), args=ocp.args.StandardRestore()
    )
  flat = {
    jax.tree_util.keystr(k): np.asarray(v)
    for k, v in jax.tree_util.tree_leaves_with_path(state)
  }
  np.savez(out / "final.npz", **flat)


if __name__ == "__main__":
  main(*sys.argv[1:])
