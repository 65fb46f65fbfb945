# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""bfloat16 end to end: bf16 compute, float32 where it must be.

`config.model.dtype="bfloat16"` computes convolutions and matmuls in
bfloat16 (8-bit significand: a relative rounding of u = 2^-9 per operation,
round to nearest); parameters, gradients, optimizer moments, the loss and
BatchNorm statistics stay float32. Studies explain a bf16 run with a float32
module (`xaijax.study.runs.restore`): the maps below show why.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

from configs import base, demo
from xaijax import explain, models, study, train
from xaijax.study import runs as runs_lib
from xaijax.train import sharding, steps

U_BF16 = 2.0**-9  # unit roundoff of bfloat16 (8 significand bits)


def _float_leaves(tree) -> dict:
  leaves = jax.tree_util.tree_leaves_with_path(tree)
  return {
    jax.tree_util.keystr(k): v.dtype
    for k, v in leaves
    if jnp.issubdtype(v.dtype, jnp.floating)
  }


def test_bf16_step_keeps_params_moments_loss_and_statistics_float32():
  module = models.create("resnet50", 3, tiny=True, dtype=jnp.bfloat16)
  images = jax.random.normal(jax.random.key(0), (4, 32, 32, 3))
  # Jitted: one compile each instead of an op-by-op dispatch.
  variables = jax.jit(module.init, static_argnames="train")(
    jax.random.key(1), images, train=False
  )
  # The compute really is bf16: the float32 logits of the bf16 module are
  # off the float32 module's by bf16 rounding (u = 2^-9 per operation, far
  # above float32's 2^-24: more than 2^-12 of the scale here, where float32
  # programs differ by ~1e-6 of it).
  logits = jax.jit(module.apply)(variables, images)
  f32 = jax.jit(module.clone(dtype=jnp.float32).apply)(variables, images)
  assert logits.dtype == jnp.float32
  scale = float(jnp.abs(f32).max())
  assert float(jnp.abs(logits - f32).max()) > 2**-12 * scale
  tx = optax.adam(1e-3)
  state = steps.create_state(variables, jax.random.key(2), tx)
  step = jax.jit(
    lambda s, b: steps.train_step(
      s, b, module=module, tx=tx, loss_fn=steps.weighted_cross_entropy,
      schedule=optax.constant_schedule(1e-3),
    )
  )  # fmt: skip
  batch = {"image": images, "label": jnp.arange(4) % 3}
  new_state, metrics = step(state, batch)
  dtypes = _float_leaves(
    (new_state.params, new_state.batch_stats, new_state.opt_state)
  )
  assert dtypes and set(dtypes.values()) == {jnp.dtype(jnp.float32)}, dtypes
  assert all(v.dtype == jnp.float32 for v in metrics.values()), metrics
  # The running statistics moved (a train step updates them in float32).
  moved = jax.tree.map(
    lambda a, b: bool(jnp.any(a != b)),
    new_state.batch_stats,
    state.batch_stats,
  )
  assert all(jax.tree.leaves(moved))


def _demo_config(dtype: str):
  """The demo's ResNet50 run (tiny widths, 64 px, 600 synthetic images of 3
  classes, 150 steps), computing in `dtype`."""
  config = demo.train_config(
    "resnet50", base.parse_arg("", full=False, tiny=False)
  )
  config.model.dtype = dtype
  config.progress = False
  return config


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
  """demo_runs(dtype) -> (results, workdir): the demo run in that dtype,
  trained on first use (the CAM test needs only the bf16 one)."""
  done = {}

  def get(dtype: str):
    if dtype not in done:
      workdir = tmp_path_factory.mktemp(dtype) / "run"
      done[dtype] = (train.run(_demo_config(dtype), str(workdir)), workdir)
    return done[dtype]

  return get


# Two demo trainings (~100 s on 2 cores): a quality check, run with -m slow.
@pytest.mark.slow
def test_bf16_run_learns_the_demo_task_as_float32_does(demo_runs):
  bf16, workdir = demo_runs("bfloat16")
  f32, _ = demo_runs("float32")
  n = int(np.sum(f32["test"]["confusion_matrix"]))
  p = f32["test"]["accuracy"]
  assert bf16["test"]["accuracy"] >= 0.6  # chance: 1/3
  # bf16 rounding sends training on another trajectory, as another seed
  # would: the two test accuracies (n images each) then differ by sampling
  # noise of standard deviation sqrt(2 p (1 - p) / n) at most (independent
  # errors; shared test images only correlate them). Three of those.
  margin = 3 * math.sqrt(2 * p * (1 - p) / n)
  assert abs(bf16["test"]["accuracy"] - p) <= margin, (bf16["test"], margin)
  # What the run saved is float32: parameters, moments, statistics.
  with ocp.CheckpointManager(workdir.absolute() / "checkpoints") as manager:
    saved = manager.restore(
      manager.latest_step(), args=ocp.args.StandardRestore()
    )
  dtypes = _float_leaves(saved)
  assert dtypes and set(dtypes.values()) == {jnp.dtype(jnp.float32)}, dtypes


def _relative_l2(a, b) -> np.ndarray:
  """Per image ||a - b|| / ||b|| over (H, W)."""
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  return np.sqrt(((a - b) ** 2).sum((1, 2)) / (b**2).sum((1, 2)))


# A demo training (~60 s on 2 cores): -m slow.
@pytest.mark.slow
def test_bf16_cams_and_the_float32_study_path(demo_runs):
  """CAMs of the bf16-trained model, captured in bf16 and in float32, each
  against a float64 capture of the same float32 parameters.

  LayerCAM and GradCAM++ sum non-negative terms (ReLU'd activations A times
  non-negative weights), so a map inherits the relative error of its terms:
  A and the gradient G each pass through the L layers between the input
  and the CAM layer (and back), each rounding relatively by at most u_bf16,
  so by at most L u each in the worst case; the min-max normalisation can
  double it: 2 (L u + L u) = 4 L u in relative L2 per map. GradCAM,
  XGradCAM and EigenGradCAM combine weights of both signs: cancellation
  magnifies the same rounding (measured up to 0.7 relative here), which is
  why a study explains a bf16 run with a float32 module. Its float32 maps
  are within float32 rounding of float64 (1e-4, below bf16's errors by
  orders of magnitude)."""
  _, workdir = demo_runs("bfloat16")
  config = study.launch_config()
  config.runs.bf16 = study.run_config(str(workdir))
  trained = runs_lib.resolve(config, str(workdir.parent))["bf16"][0]
  restored = runs_lib.restore(trained, sharding.make_mesh())
  assert restored.module.dtype == jnp.float32  # the study path
  variables = restored.variables
  images = np.stack([restored.test.example(i)["image"] for i in range(8)])
  bf16 = restored.module.clone(dtype=jnp.bfloat16)
  layer = "layer4"
  # Layers from the input to layer4's output: the stem convolution, 16
  # bottlenecks of 3 convolutions and the 4 downsampling shortcuts.
  depth = 1 + 16 * 3 + 4
  targets = np.asarray(
    restored.module.apply(variables, images, train=False).argmax(-1)
  )
  kw = dict(methods=explain.PAPER_METHODS, layer=layer, targets=targets)
  maps32 = explain.cams(restored.module, variables, images, **kw)
  maps16 = explain.cams(bf16, variables, images, **kw)
  with jax.enable_x64(True):
    f64 = restored.module.clone(dtype=jnp.float64)
    v64 = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), variables)
    maps64 = explain.cams(f64, v64, jnp.asarray(images, jnp.float64), **kw)
    maps64 = {k: np.asarray(v, np.float64) for k, v in maps64.items()}
  for method in explain.PAPER_METHODS:
    assert _relative_l2(maps32[method], maps64[method]).max() < 1e-4, method
  for method in ("layercam", "gradcampp"):
    error = _relative_l2(maps16[method], maps64[method])
    assert error.max() <= 4 * depth * U_BF16, (method, error)
