# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
r"""Images/s of the four CNNs: JAX (jit) vs PyTorch (eager and compiled).

  python benchmarks/models.py                      # batch 8, 128 px, 5 reps
  python benchmarks/models.py --models=resnet50 --size=224 --repeats=10
  python benchmarks/models.py --dtype=bfloat16     # on a GPU: JAX bf16 vs AMP

For each model a torchvision model with random weights is ported with
`xaijax.models.from_torchvision`, so both frameworks run the same network
on the same batch. Timed (median and min-max of `--repeats` calls after a
warm-up, compile times apart): the eval-mode forward pass, and one SGD train
step (train-mode forward, cross-entropy in float32, backward, update).

Fair by construction: torch runs on `--torch_device` (default: the kind of
device JAX uses), with its model and inputs moved there, channels-last on a
GPU (as NHWC in JAX), and `torch.cuda.synchronize()` inside every timed
call. `--dtype=bfloat16` computes JAX in bfloat16 with float32 parameters,
and torch under `torch.autocast(bfloat16)` (AMP, float32 parameters);
`--torch_dtype` can differ, but a ratio is then refused, as it is when the
two ran on different devices (the reason is printed and in the JSON).
`--torch_compile` adds a `torch.compile` column beside eager.

Prints a table and writes JSON (machine, versions, where each framework
ran, medians and spreads, XLA's FLOP count of the train step) to --out.
"""

import dataclasses
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

# The paper's four CNNs (torchvision's names, as in baselines.torch_models).
CNNS = ("resnet50", "densenet121", "vgg16", "efficientnet_b0")
_MODELS = flags.DEFINE_list("models", list(CNNS), "Models to time.")
_BATCH = flags.DEFINE_integer("batch", 8, "Batch size.")
_SIZE = flags.DEFINE_integer("size", 128, "Image height and width.")
_DTYPE = flags.DEFINE_enum(
  "dtype", "float32", timing.DTYPES, "JAX compute dtype (params float32)."
)
_TORCH_DTYPE = flags.DEFINE_enum(
  "torch_dtype",
  None,
  timing.DTYPES,
  "torch compute dtype (bfloat16: autocast); default --dtype.",
)
_TORCH_DEVICE = flags.DEFINE_string(
  "torch_device", None, "torch device; default: the kind JAX runs on."
)
_TORCH_COMPILE = flags.DEFINE_bool(
  "torch_compile", True, "Also time torch.compile(model)."
)
_TINY = flags.DEFINE_bool("tiny", False, "Narrow widths (smoke runs).")
_REPEATS = flags.DEFINE_integer("repeats", 5, "Timed calls per measurement.")
_OUT = flags.DEFINE_string(
  "out",
  str(pathlib.Path(__file__).with_name("results") / "models.json"),
  "JSON output path.",
)
TORCH_COLUMNS = ("torch_eager", "torch_compile")


def jax_fns(name, state_dict, images, labels, dtype, tiny=False) -> dict:
  """The JAX side of one model: jitted forward and SGD train step.

  Args:
    name: model name.
    state_dict: the torchvision weights (numpy).
    images: (B, S, S, 3) float32; labels: (B,) int32.
    dtype: the compute dtype (parameters stay float32).
    tiny: narrow widths.

  Returns:
    {'forward', 'train_step': calls that block until done; 'compile_s';
    'train_step_flops': XLA's count for one step; 'train_step_bytes': the
    step's arguments, outputs and temporaries (XLA's memory analysis)}.
  """
  num_classes = int(labels.max()) + 1 if tiny else 1000
  kwargs = {"tiny": True} if tiny else {}
  module = models.create(name, num_classes, dtype=dtype, **kwargs)
  variables = models.from_torchvision(name, state_dict, **kwargs)
  tx = optax.sgd(1e-3, momentum=0.9)
  opt_state = tx.init(variables["params"])
  forward = jax.jit(lambda v, x: module.apply(v, x, train=False))

  def step(variables, opt_state, x, y):
    def loss_fn(params):
      logits, updates = module.apply(
        {**variables, "params": params},
        x,
        train=True,
        mutable=["batch_stats"],
        rngs={"dropout": jax.random.PRNGKey(0)},
      )
      # float32 loss, as torch's autocast computes cross-entropy.
      logits = logits.astype(jnp.float32)
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
  # The state is donated, as the trainer does: updated in place.
  compiled = (
    jax.jit(step, donate_argnums=(0, 1))
    .lower(variables, opt_state, x, y)
    .compile()
  )
  compile_train = time.perf_counter() - start
  memory = compiled.memory_analysis()
  state = {"variables": variables, "opt": opt_state}

  def run_train():
    state["variables"], state["opt"] = jax.block_until_ready(
      compiled(state["variables"], state["opt"], x, y)
    )

  return {
    "forward": lambda: jax.block_until_ready(forward(variables, x)),
    "train_step": run_train,
    "compile_s": {"forward_s": compile_forward, "train_step_s": compile_train},
    "train_step_flops": xla_flops(compiled),
    "train_step_bytes": None
    if memory is None
    else memory.argument_size_in_bytes
    + memory.output_size_in_bytes
    + memory.temp_size_in_bytes
    - memory.alias_size_in_bytes,
  }


def xla_flops(compiled) -> float | None:
  """FLOPs of one call of a compiled JAX function, by XLA's cost analysis
  (a list of per-program dicts in older jax versions)."""
  cost = compiled.cost_analysis()
  if isinstance(cost, list | tuple):
    cost = cost[0] if cost else None
  return None if not cost or "flops" not in cost else float(cost["flops"])


def torch_fns(model, images, labels, device, dtype, compile_model) -> dict:
  """The torch side: forward and SGD train step on `device`.

  Args:
    model: a torchvision model (moved to `device` here).
    images: (B, S, S, 3) float32; labels: (B,) int.
    device: the torch device.
    dtype: 'float32' or 'bfloat16' (autocast).
    compile_model: run `torch.compile(model)` instead of the eager model.

  Returns:
    {'forward', 'train_step'}: calls that block until the device is done.
  """
  import torch

  device = torch.device(device)
  sync = timing.torch_sync(device)
  # Channels-last on a GPU: NHWC as in JAX, the layout cuDNN's fastest
  # mixed-precision convolutions use. The CPU keeps torch's default.
  layout = (
    torch.channels_last if device.type == "cuda" else torch.contiguous_format
  )
  model = model.to(device, memory_format=layout)
  x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
  x = x.to(device, memory_format=layout)
  y = torch.from_numpy(labels).long().to(device)
  optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
  net = torch.compile(model) if compile_model else model

  def forward():
    model.eval()
    with torch.no_grad(), timing.torch_autocast(device, dtype):
      net(x)
    sync()

  def train_step():
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with timing.torch_autocast(device, dtype):
      loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    optimizer.step()
    sync()

  return {"forward": forward, "train_step": train_step}


def torch_model(name: str, tiny: bool, num_classes: int):
  """torchvision's model (random weights) at full or tiny widths."""
  from baselines import torch_models

  return torch_models.build(name, num_classes, tiny=tiny)


def ratios(row: dict, refused: str | None) -> dict:
  """JAX's rate over each torch column's, per timed kind; None if refused
  or not measured."""
  out = {}
  for column in TORCH_COLUMNS:
    for kind in ("forward", "train_step"):
      theirs = (row.get(column) or {}).get(kind)
      out[f"{kind}_vs_{column}"] = (
        None
        if refused or not theirs
        else theirs["median_s"] / row["jax"][kind]["median_s"]
      )
  return out


def measure(name, images, labels, args, device) -> dict:
  """One model's row: JAX, torch eager and (optionally) torch.compile."""
  import torch

  torch.manual_seed(0)
  num_classes = int(labels.max()) + 1 if args["tiny"] else 1000
  model = torch_model(name, args["tiny"], num_classes)
  state_dict = {k: v.detach().numpy() for k, v in model.state_dict().items()}
  fns = jax_fns(
    name, state_dict, images, labels, jnp.dtype(args["dtype"]), args["tiny"]
  )
  repeats = args["repeats"]
  row = {
    "model": name,
    "jax_compile": fns["compile_s"],
    "train_step_flops": fns["train_step_flops"],
    "train_step_bytes": fns["train_step_bytes"],
    "jax": {
      k: timing.time_calls(fns[k], repeats) for k in ("forward", "train_step")
    },
  }
  columns = [("torch_eager", False)]
  if args["torch_compile"]:
    columns.append(("torch_compile", True))
  for column, compiled in columns:
    torch_calls = torch_fns(
      model, images, labels, device, args["torch_dtype"], compiled
    )
    row[column] = {
      k: timing.time_calls(torch_calls[k], repeats)
      for k in ("forward", "train_step")
    }
  return row


def main(argv):
  del argv
  timing_args = {
    "dtype": _DTYPE.value,
    "torch_dtype": _TORCH_DTYPE.value or _DTYPE.value,
    "torch_device": _TORCH_DEVICE.value or timing.default_torch_device(),
    "torch_compile": _TORCH_COMPILE.value,
    "tiny": _TINY.value,
    "repeats": _REPEATS.value,
  }
  import torch

  device = timing.check_torch_device(timing_args["torch_device"])
  if device.type == "cpu":
    torch.set_num_threads(os.cpu_count())
  sides = {
    "jax": timing.jax_side(timing_args["dtype"]),
    "torch": timing.torch_side(str(device), timing_args["torch_dtype"]),
  }
  refused = timing.refusal(sides["jax"], sides["torch"])
  rng = np.random.default_rng(0)
  batch, size = _BATCH.value, _SIZE.value
  images = rng.normal(size=(batch, size, size, 3)).astype(np.float32)
  num_classes = 4 if _TINY.value else 1000
  labels = (np.arange(batch) % num_classes).astype(np.int32)
  rows = []
  for name in _MODELS.value:
    rows.append(measure(name, images, labels, timing_args, device))
    rows[-1]["ratios"] = ratios(rows[-1], refused)
    print(f"{name}: done", flush=True)
  print_table(rows, batch, refused)
  print(
    f"batch {batch}, {size} px; JAX {sides['jax'].dtype} on "
    f"{sides['jax'].device}, torch {sides['torch'].dtype} on {device}"
  )
  out = pathlib.Path(_OUT.value)
  out.parent.mkdir(parents=True, exist_ok=True)
  result = {
    "machine": timing.machine(),
    "settings": {"batch": batch, "size": size, **timing_args},
    "sides": {k: dataclasses.asdict(v) for k, v in sides.items()},
    "refused": refused,
    "results": rows,
  }
  out.write_text(json.dumps(result, indent=2) + "\n")
  print(f"\nwrote {out}")


def print_table(rows: list[dict], batch: int, refused: str | None) -> None:
  """images/s (median, min-max) per model and column, and the ratios."""
  print(f"\nimages/s, median (min-max) of {rows[0]['jax']['forward']['runs']}")
  columns = ["jax", *(c for c in TORCH_COLUMNS if c in rows[0])]
  for kind in ("forward", "train_step"):
    print(f"\n{kind}")
    print(f"{'model':<16}" + "".join(f"{c:>26}" for c in columns))
    for r in rows:
      cells = "".join(f"{rate_cell(r[c][kind], batch):>26}" for c in columns)
      print(f"{r['model']:<16}{cells}")
  print()
  for r in rows:
    if refused:
      print(f"{r['model']}: {refused}")
      continue
    text = ", ".join(
      f"{k} {v:.2f}x" for k, v in r["ratios"].items() if v is not None
    )
    print(f"{r['model']}: JAX / torch {text}")


def rate_cell(stats: dict, batch: int) -> str:
  """'123.4 (110.2-130.1)': images/s at the median, fastest and slowest."""
  return (
    f"{batch / stats['median_s']:.1f} "
    f"({batch / stats['max_s']:.1f}-{batch / stats['min_s']:.1f})"
  )


if __name__ == "__main__":
  app.run(main)
