# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Images/s of the four CNNs: JAX (jit) vs PyTorch (eager), same weights.

  python benchmarks/models.py                      # batch 8, 128 px, 5 reps
  python benchmarks/models.py --models=resnet50 --size=224 --repeats=10

For each model a torchvision model with random weights is ported with
`xaijax.models.from_torchvision`, so both frameworks run the same network
on the same batch. Timed: the eval-mode forward pass, and one SGD train step
(train-mode forward, cross-entropy, backward, update). JAX compile time is
excluded from the rates and reported separately. Prints a table and writes
JSON (machine, versions, settings, median and spread) to --out.
"""

import json
import os
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import app, flags

from xaijax import models

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks import timing
from xaijax.models.torch_interop import import_torchvision

_MODELS = flags.DEFINE_list("models", list(models.MODELS), "Models to time.")
_BATCH = flags.DEFINE_integer("batch", 8, "Batch size.")
_SIZE = flags.DEFINE_integer("size", 128, "Image height and width.")
_DTYPE = flags.DEFINE_enum(
  "dtype", "float32", ["float32", "bfloat16"], "JAX compute dtype."
)
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed calls per measurement.")
_OUT = flags.DEFINE_string(
  "out",
  str(pathlib.Path(__file__).with_name("results") / "models.json"),
  "JSON output path.",
)


def _jax_fns(name, state_dict, images, labels, dtype):
  module = models.create(name, 1000, dtype=dtype)
  variables = models.from_torchvision(name, state_dict)
  tx = optax.sgd(1e-3, momentum=0.9)
  opt_state = tx.init(variables["params"])
  forward = jax.jit(lambda v, x: module.apply(v, x, train=False))

  @jax.jit
  def train_step(variables, opt_state, x, y):
    def loss_fn(params):
      logits, updates = module.apply(
        {**variables, "params": params},
        x,
        train=True,
        mutable=["batch_stats"],
        rngs={"dropout": jax.random.PRNGKey(0)},
      )
      loss = optax.softmax_cross_entropy_with_integer_labels(logits, y)
      return loss.mean(), updates

    grads, updates = jax.grad(loss_fn, has_aux=True)(variables["params"])
    step, opt_state = tx.update(grads, opt_state, variables["params"])
    params = optax.apply_updates(variables["params"], step)
    return {**variables, **updates, "params": params}, opt_state

  x, y = jnp.asarray(images), jnp.asarray(labels)
  start = time.perf_counter()
  jax.block_until_ready(forward(variables, x))
  compile_forward = time.perf_counter() - start
  start = time.perf_counter()
  jax.block_until_ready(train_step(variables, opt_state, x, y))
  compile_train = time.perf_counter() - start
  state = {"variables": variables, "opt": opt_state}

  def run_train():
    # The new state is kept, as in training (buffers are not reused).
    state["variables"], state["opt"] = jax.block_until_ready(
      train_step(state["variables"], state["opt"], x, y)
    )

  return (
    lambda: jax.block_until_ready(forward(variables, x)),
    run_train,
    {"forward_s": compile_forward, "train_step_s": compile_train},
  )


def _torch_fns(model, images, labels):
  import torch

  x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
  y = torch.from_numpy(labels).long()
  optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)

  def forward():
    model.eval()
    with torch.no_grad():
      model(x)

  def train_step():
    model.train()
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()

  return forward, train_step


def main(argv):
  del argv
  tv = import_torchvision()
  import torch

  torch.set_num_threads(os.cpu_count())
  rng = np.random.default_rng(0)
  batch, size = _BATCH.value, _SIZE.value
  images = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
  labels = rng.integers(0, 1000, batch).astype(np.int32)
  rows = []
  for name in _MODELS.value:
    torch.manual_seed(0)
    model = getattr(tv.models, name)(weights=None)
    state_dict = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    jax_forward, jax_train, compile_s = _jax_fns(
      name, state_dict, images, labels, jnp.dtype(_DTYPE.value)
    )
    torch_forward, torch_train = _torch_fns(model, images, labels)
    row = {"model": name, "jax_compile": compile_s}
    for kind, jax_fn, torch_fn in (
      ("forward", jax_forward, torch_forward),
      ("train_step", jax_train, torch_train),
    ):
      row[f"jax_{kind}"] = timing.time_calls(jax_fn, _REPEATS.value)
      row[f"torch_{kind}"] = timing.time_calls(torch_fn, _REPEATS.value)
    rows.append(row)
    print(f"{name}: done", flush=True)

  def rate(stats):
    return batch / stats["median_s"]

  header = (
    f"{'model':<16}{'fwd JAX':>9}{'fwd torch':>11}{'ratio':>7}"
    f"{'train JAX':>11}{'train torch':>13}{'ratio':>7}"
  )
  print(
    f"\nimages/s (median of {_REPEATS.value}), batch {batch}, {size} px, "
    f"JAX {_DTYPE.value}, {os.cpu_count()} CPU threads"
  )
  print(header)
  for r in rows:
    fj, ft = rate(r["jax_forward"]), rate(r["torch_forward"])
    tj, tt = rate(r["jax_train_step"]), rate(r["torch_train_step"])
    print(
      f"{r['model']:<16}{fj:>9.1f}{ft:>11.1f}{fj / ft:>7.2f}"
      f"{tj:>11.1f}{tt:>13.1f}{tj / tt:>7.2f}"
    )
  out = pathlib.Path(_OUT.value)
  out.parent.mkdir(parents=True, exist_ok=True)
  out.write_text(
    json.dumps(
      {
        "machine": timing.machine(),
        "settings": {
          "batch": batch,
          "size": size,
          "jax_dtype": _DTYPE.value,
          "torch_dtype": "float32",
          "repeats": _REPEATS.value,
        },
        "results": rows,
      },
      indent=2,
    )
    + "\n"
  )
  print(f"\nwrote {out}")


if __name__ == "__main__":
  app.run(main)
