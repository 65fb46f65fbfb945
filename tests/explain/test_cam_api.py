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


def test_sharded_batch(model):
  module, variables, images = model
  mesh = jax.make_mesh((len(jax.devices()),), ("batch",))
  sharding = jax.NamedSharding(mesh, jax.P("batch"))
  batch = (
    images[:2] if len(jax.devices()) == 1 else images[: len(jax.devices())]
  )
  sharded = jax.device_put(batch, sharding)
  out = ex.cams(
    module,
    variables,
    sharded,
    methods="gradcam",
    layer=LAYER,
    targets=[1] * len(batch),
  )
  plain = ex.cams(
    module,
    variables,
    np.asarray(batch),
    methods="gradcam",
    layer=LAYER,
    targets=[1] * len(batch),
  )
  np.testing.assert_allclose(out["gradcam"], plain["gradcam"], atol=1e-6)


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
