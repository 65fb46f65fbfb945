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
  batch = ex.cams(
    module,
    variables,
    images,
    methods=METHODS,
    layer=LAYER,
    targets=classes,
    chunk_size=16,
  )
  for b in range(3):
    one = ex.cams(
      module,
      variables,
      images[b : b + 1],
      methods=METHODS,
      layer=LAYER,
      targets=classes[b : b + 1],
      chunk_size=16,
    )
    for method in METHODS:
      np.testing.assert_allclose(
        batch[method][b], one[method][0], atol=1e-5, err_msg=method
      )
  assert all(m.dtype == jnp.float32 for m in batch.values())


def test_default_target_is_predicted_class(model):
  module, variables, images = model
  predicted = np.asarray(jnp.argmax(module.apply(variables, images), -1))
  default = ex.cams(module, variables, images, methods="gradcam", layer=LAYER)
  explicit = ex.cams(
    module, variables, images, methods="gradcam", layer=LAYER, targets=predicted
  )
  np.testing.assert_array_equal(default["gradcam"], explicit["gradcam"])


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
  f32 = ex.cams(module, variables, images, layer=LAYER, targets=[0, 1, 2])
  low = ex.cams(bf16, variables, images, layer=LAYER, targets=[0, 1, 2])
  for method, value in low.items():
    assert value.dtype == jnp.float32
    assert np.abs(np.asarray(value) - np.asarray(f32[method])).mean() < 0.05


# Runs with 4 simulated CPU devices (a subprocess: this one has one).
_SHARDED = """
import re

import jax
import numpy as np

import xaijax.explain as ex
import xaijax.models
from xaijax import evaluate
from xaijax.explain import attribute, batching, cam

assert len(jax.devices()) == 4, jax.devices()
module = xaijax.models.create("resnet50", 4, tiny=True)
images = np.asarray(jax.random.normal(jax.random.key(0), (4, 32, 32, 3)))
variables = jax.jit(module.init)(jax.random.key(1), images[:1])
one_device = jax.device_put(images, jax.devices()[0])
# The predicted classes: what cams_and_confidence explains.
targets = np.asarray(module.apply(variables, images, train=False).argmax(-1))
key = jax.random.key(2)
cam_methods = (*METHODS, "gradcampp", "randomcam", "fullgrad")
cam_options = cam.Options(chunk_size=8)
attribution_methods = ("saliency", "smoothgrad", "integrated_gradients",
                       "gradient_shap", "lrp")
attribution_options = attribute.Options(ig_steps=8)
baselines = np.zeros((3, 32, 32, 3), np.float32)


def gathered(compiled):
  # Largest array an all-gather builds: one image (32 x 32) or more means
  # the batch (or the per-image loop) was gathered onto every device.
  shapes = re.findall(r"= [a-z0-9]+\\[([0-9,]*)\\][^ ]* all-gather\\(", compiled)
  return max([int(np.prod([int(d) for d in s.split(",") if d])) for s in shapes]
             or [0])


runs = (
  (ex.cams, dict(methods=cam_methods, layer="layer3", chunk_size=8)),
  (ex.attributions, dict(methods=attribution_methods, ig_steps=8,
                         baselines=baselines)),
)
whole = [fn(module, variables, one_device, targets=targets, key=key, **options)
         for fn, options in runs]
for mesh in (jax.sharding.Mesh(jax.devices(), ("batch",)),  # Auto axes
             jax.make_mesh((4,), ("batch",))):  # Explicit axes
  sharding = jax.NamedSharding(mesh, jax.P("batch"))
  sharded = jax.device_put(images, sharding)
  for (fn, options), reference in zip(runs, whole):
    split = fn(module, variables, sharded, targets=targets, key=key, **options)
    for method in options["methods"]:
      # Each device computes, and keeps, its own image's map.
      assert split[method].sharding.is_equivalent_to(
        sharding, split[method].ndim
      ), (method, split[method].sharding)
      value = np.asarray(split[method])
      assert value.std() > 0, method
      scale = np.abs(np.asarray(reference[method])).max()
      np.testing.assert_allclose(
        value, reference[method], atol=1e-5 * scale, err_msg=method
      )
  # Inside a caller's jit (the images are tracers): evaluate's fused CAM and
  # confidence program.
  fused, _ = evaluate.cams_and_confidence(
    module, variables, sharded, methods=("gradcam", "scorecam"), layer="layer3"
  )
  for method in ("gradcam", "scorecam"):  # whole[0]: the same targets
    np.testing.assert_allclose(
      fused[method], whole[0][method], atol=1e-5, err_msg=method
    )
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


def test_sharded_batch_is_explained_where_it_lies(run_on_cpu_devices):
  """4 images over 4 devices (Auto and Explicit mesh axes) give the
  one-device maps (to 1e-5 of the largest value), also inside a caller's
  jit; each device computes its own images (no all-gather of an image-sized
  array in the compiled programs) and keeps their maps."""
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
