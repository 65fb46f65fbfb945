# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""`cams` API: batching (§10 T11), one compile per shape, dtypes, sharding,
and clear errors for bad input."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xaijax.explain as ex
import xaijax.models
from tests import rounding
from xaijax.explain import cam as cam_lib

METHODS = ["gradcam", "eigencam", "ablationcam", "scorecam"]
LAYER = "layer3"  # 2x2 at 32 px


@pytest.fixture(scope="module")
def model():
  module = xaijax.models.create("resnet50", 4, tiny=True)
  images = jax.random.normal(jax.random.key(0), (3, 32, 32, 3))
  return module, jax.jit(module.init)(jax.random.key(1), images), images


def test_t11_batch_equals_single_calls(model):
  module, variables, images = model
  classes = np.array([0, 3, 1])

  def run(variables, images, classes=classes):
    return ex.cams(
      module,
      variables,
      images,
      methods=METHODS,
      layer=LAYER,
      targets=classes,
      chunk_size=16,
    )

  batch = run(variables, images)
  nudged = rounding.sensitivity(run, variables, images)
  for b in range(3):
    one = run(variables, images[b : b + 1], classes[b : b + 1])
    for method in METHODS:
      # Batches of 3 and of 1 are different XLA programs: equal up to the
      # rounding bound of tests/rounding.py.
      rounding.assert_close(
        one[method][0],
        batch[method][b],
        [n[method][b] for n in nudged],
        err_msg=f"{method}, image {b}",
      )
  assert all(m.dtype == jnp.float32 for m in batch.values())


def test_default_target_is_predicted_class(model):
  module, variables, images = model
  predicted = np.asarray(jnp.argmax(module.apply(variables, images), -1))

  def run(variables, images, targets=None):
    return ex.cams(
      module, variables, images, methods="gradcam", layer=LAYER, targets=targets
    )["gradcam"]

  default = run(variables, images)
  # Classes computed inside the program or passed in: two XLA programs, so
  # equal up to the rounding bound of tests/rounding.py.
  rounding.assert_close(
    run(variables, images, predicted),
    default,
    rounding.sensitivity(run, variables, images),
  )


def test_compiles_once_per_shape(model, monkeypatch):
  module, variables, images = model
  monkeypatch.setattr(
    cam_lib, "_compiled", cam_lib._jit(chex.assert_max_traces(cam_lib._impl, 1))
  )
  for shift in range(3):
    ex.cams(
      module,
      variables,
      images + shift,
      methods=["gradcam", "layercam"],
      layer=LAYER,
      targets=[shift, 0, 1],
    )


def test_bfloat16_model_gives_float32_maps(model):
  module, variables, images = model
  bf16 = xaijax.models.create("resnet50", 4, tiny=True, dtype=jnp.bfloat16)

  def run(module):
    return lambda variables, images: ex.cams(
      module, variables, images, layer=LAYER, targets=[0, 1, 2]
    )

  f32 = run(module)(variables, images)
  low = run(bf16)(variables, images)
  # bfloat16 rounds every weight and activation to 8 significant bits, a
  # relative perturbation of up to 2^-8 per use. On these 2x2 maps that is
  # far from first order (ReLUs and signs flip): the largest difference is
  # O(0.1), and a bound on it as in tests/rounding.py exceeds the maps'
  # range. On average the maps agree: the mean |difference| is bounded by
  # SAFETY times the mean change of the float32 maps under relative 2^-8
  # nudges of every weight and input (the two were of equal size, 0.5-1.5x,
  # when this was written).
  nudged = rounding.sensitivity(run(module), variables, images, relative=2**-8)
  for method, value in low.items():
    assert value.dtype == jnp.float32
    want = np.asarray(f32[method])
    moved = max(np.abs(np.asarray(n[method]) - want).mean() for n in nudged)
    diff = np.abs(np.asarray(value) - want).mean()
    assert diff <= rounding.SAFETY * moved, (method, diff, moved)


# Runs with 4 simulated CPU devices (a subprocess: this one has one). The
# sharded maps are compared with the one-device maps within the rounding
# bound of tests/rounding.py: 4 devices run another XLA program (its sums
# in another order), so the maps differ by float32 rounding, by how much
# depending on the CPU and on each method's conditioning (AblationCAM's
# score differences cancel); the bound is measured from the one-device
# program on nudged inputs. A sharding bug moves the maps far beyond it.
_SHARDED = """
import re

import jax
import numpy as np

import xaijax.explain as ex
import xaijax.models
from tests import rounding
from xaijax.explain import attribute, batching, cam

assert len(jax.devices()) == 4, jax.devices()
module = xaijax.models.create("resnet50", 4, tiny=True)
# 8 images, 2 per device: a step that mixes the images of a shard (e.g. a
# min-max over the shard instead of each image) shows.
images = np.asarray(jax.random.normal(jax.random.key(0), (8, 32, 32, 3)))
variables = jax.jit(module.init)(jax.random.key(1), images[:1])
targets = np.asarray(
  jax.jit(module.apply, static_argnames="train")(variables, images, train=False)
  .argmax(-1)
)
key = jax.random.key(2)
cam_methods = (*METHODS, "gradcampp", "fullgrad")
cam_options = cam.Options(chunk_size=8)
# SmoothGrad and GradientSHAP batch their noisy copies as IG its path
# points: IG shows that path.
attribution_methods = ("saliency", "integrated_gradients", "lrp")
attribution_options = attribute.Options(ig_steps=8)
baselines = np.zeros((3, 32, 32, 3), np.float32)


def gathered(compiled):
  # Largest array an all-gather builds: one image (32 x 32) or more means
  # the batch (or the per-image loop) was gathered onto every device.
  shapes = re.findall(r"= [a-z0-9]+\\[([0-9,]*)\\][^ ]* all-gather\\(", compiled)
  return max([int(np.prod([int(d) for d in s.split(",") if d])) for s in shapes]
             or [0])


def on_one_device(fn, options):
  def run(variables, images):
    one = jax.device_put(images, jax.devices()[0])
    return fn(module, variables, one, targets=targets, key=key, **options)
  return run


runs = (
  (ex.cams, dict(methods=cam_methods, layer="layer3", chunk_size=8)),
  (ex.attributions, dict(methods=attribution_methods, ig_steps=8,
                         baselines=baselines)),
)
whole, nudged = [], []
for fn, options in runs:
  run = on_one_device(fn, options)
  whole.append(run(variables, images))
  # The one-device program on nudged weights and images: its sensitivity
  # to rounding, from which each comparison's bound is derived.
  nudged.append(rounding.sensitivity(run, variables, images))


def assert_same_maps(got, reference, nudges, method, where):
  rounding.assert_close(got, reference[method], [n[method] for n in nudges],
                        err_msg=f"{method} {where}")


# Explicit axes take the batching path of Auto ones once the sharding is
# read: two methods of each family show it, at a fraction of the compiles.
for kind, mesh, subset in (
  ("Auto", jax.sharding.Mesh(jax.devices(), ("batch",)), None),
  ("Explicit", jax.make_mesh((4,), ("batch",)),
   (("gradcam", "ablationcam"), ("saliency", "lrp"))),
):
  sharding = jax.NamedSharding(mesh, jax.P("batch"))
  sharded = jax.device_put(images, sharding)
  for index, ((fn, options), reference, nudges) in enumerate(
    zip(runs, whole, nudged)
  ):
    if subset is not None:
      options = {**options, "methods": subset[index]}
    split = fn(module, variables, sharded, targets=targets, key=key, **options)
    for method in options["methods"]:
      # Each device computes, and keeps, its own images' maps.
      assert split[method].sharding.is_equivalent_to(
        sharding, split[method].ndim
      ), (method, split[method].sharding)
      value = np.asarray(split[method])
      assert value.std() > 0, method
      assert_same_maps(value, reference, nudges, method, f"on {kind} axes")
  # Inside a caller's jit (the images are tracers).
  traced = jax.jit(lambda variables, images: ex.cams(
    module, variables, images, methods=("gradcam", "scorecam"),
    layer="layer3", targets=targets, check_finite=False,
  ))(variables, sharded)
  for method in ("gradcam", "scorecam"):
    assert_same_maps(traced[method], whole[0], nudged[0], method,
                     f"inside jit, on {kind} axes")
  if kind == "Explicit":
    continue  # the compiled programs are checked once
  batch = batching.batch_sharding(sharded)
  programs = {
    "cams": cam._compiled.lower(
      module, variables, sharded, targets, key, methods=cam_methods,
      layers=("layer3",), options=cam_options, sharding=batch,
    ),
    "attributions": attribute._compiled.lower(
      module, variables, sharded, targets, key, baselines,
      methods=attribution_methods, options=attribution_options,
      sharding=batch,
    ),
  }
  sizes = {k: gathered(v.compile().as_text()) for k, v in programs.items()}
  assert max(sizes.values()) < 32 * 32, sizes
print("ok")
"""


@pytest.mark.long
def test_sharded_batch_is_explained_where_it_lies(run_on_cpu_devices):
  """8 images over 4 devices (Auto and Explicit mesh axes) give the
  one-device maps (to the rounding bound of tests/rounding.py), also inside a
  caller's jit; each device computes its own images (no all-gather of an
  image-sized array in the compiled programs) and keeps their maps."""
  run_on_cpu_devices(f"METHODS = {tuple(METHODS)!r}\n{_SHARDED}", devices=4)


@pytest.mark.parametrize(
  "kwargs,images_fn,message",
  [
    (dict(methods="gradcamx"), None, "valid methods: gradcam, gradcampp"),
    (dict(layer="layer9"), None, "Unknown layer 'layer9'"),
    (dict(targets=[0, 4, 1]), None, r"out of range .* 0\.\.3"),
    (dict(targets=[0, 1]), None, r"one class per image"),
    (dict(), lambda x: x.transpose(0, 3, 1, 2), "NCHW"),
    (dict(), lambda x: x.at[0, 0, 0, 0].set(jnp.nan), "NaN"),
    (dict(methods="randomcam"), None, "PRNG key"),
    (dict(eigen_sign="positive"), None, "channel_sum"),
    (dict(score="probability"), None, "logit, softmax"),
  ],
)
def test_bad_input_errors(model, kwargs, images_fn, message):
  module, variables, images = model
  images = images if images_fn is None else images_fn(images)
  with pytest.raises(ValueError, match=message):
    ex.cams(module, variables, images, **{"layer": LAYER, **kwargs})
