# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Model behaviour beyond torchvision parity: sizes, dtypes, modes, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests import rounding
from xaijax import models
from xaijax.testing import random_images

NAMES = list(models.MODELS)


@pytest.mark.parametrize("name", NAMES)
def test_default_layer_has_torchvision_shape_at_224(name):
  expected = {
    "resnet50": (1, 7, 7, 2048),
    "densenet121": (1, 7, 7, 1024),
    "vgg16": (1, 7, 7, 512),
    "efficientnet_b0": (1, 7, 7, 1280),
    "vit_b_16": (1, 197, 768),  # class token + 14 x 14 patches
  }[name]
  shapes = models.layer_shapes(models.create(name, 3), (1, 224, 224, 3))
  assert shapes[models.default_layer(name)].shape == expected


@pytest.mark.parametrize("name", NAMES)
def test_tiny_variant_trains_and_evaluates_at_odd_sizes(name):
  module = models.create(name, 5, tiny=True)
  variables = jax.jit(module.init)(jax.random.key(0), random_images(1, 32))
  # VGG's adaptive pool and odd sizes; a ViT's position embedding fixes its
  # size (as torchvision's `image_size`), a multiple of the patch.
  for size in (32,) if name == "vit_b_16" else (32, 45):
    logits = jax.jit(module.apply)(variables, random_images(2, size))
    assert logits.shape == (2, 5) and logits.dtype == jnp.float32

  @jax.jit
  def train_apply(variables, images):
    return module.apply(
      variables,
      images,
      train=True,
      mutable=["batch_stats"],
      rngs={"dropout": jax.random.key(1)},
    )

  logits, updates = train_apply(variables, random_images(2, 32))
  assert np.isfinite(logits).all()
  # Training mode updates every running statistic (VGG16 has no BatchNorm).
  before = jax.tree.leaves(variables.get("batch_stats", {}))
  after = jax.tree.leaves(updates.get("batch_stats", {}))
  assert len(before) == len(after) == (0 if name == "vgg16" else len(after))
  assert all(
    not np.array_equal(a, b) for a, b in zip(before, after, strict=True)
  )


@pytest.mark.parametrize("name", ["vgg16", "efficientnet_b0"])
def test_dropout_is_active_only_in_training(name):
  module = models.create(name, 3, tiny=True)
  images = random_images(4, 32)
  # Jitted: one compile each instead of an op-by-op dispatch.
  variables = jax.jit(module.init)(jax.random.key(0), images)

  @jax.jit
  def train_logits(key):
    return module.apply(
      variables, images, train=True, mutable=["batch_stats"],
      rngs={"dropout": key},
    )[0]  # fmt: skip

  assert not np.allclose(
    train_logits(jax.random.key(0)), train_logits(jax.random.key(1))
  )
  # Eval mode draws nothing: it runs without a dropout RNG, and the same
  # program on the same inputs is bit-exact.
  evaluate = jax.jit(module.apply)
  np.testing.assert_array_equal(
    evaluate(variables, images), evaluate(variables, images)
  )


def test_bfloat16_compute_keeps_float32_parameters_and_logits():
  module32 = models.create("resnet50", 3, tiny=True)
  module16 = models.create("resnet50", 3, tiny=True, dtype=jnp.bfloat16)
  images = random_images(2, 32)
  variables = module16.init(jax.random.key(0), images)
  assert {x.dtype for x in jax.tree.leaves(variables)} == {np.dtype("float32")}
  logits16 = module16.apply(variables, images)
  apply32 = jax.jit(module32.apply)
  logits32 = apply32(variables, images)
  assert logits16.dtype == jnp.float32
  # bfloat16 rounds every weight and activation to 8 significant bits, a
  # relative perturbation of up to 2^-8 per use: the float32 model's
  # sensitivity to such perturbations bounds the difference
  # (tests/rounding.py).
  rounding.assert_close(
    logits16,
    logits32,
    rounding.sensitivity(apply32, variables, images, relative=2**-8),
  )
  _, acts = models.forward(module16, variables, images, capture=["layer4.2"])
  assert acts["layer4.2"].dtype == jnp.bfloat16


def test_channels_first_input_is_rejected_with_the_fix():
  module = models.create("resnet50", 3, tiny=True)
  with pytest.raises(ValueError, match=r"NCHW.*transpose"):
    module.init(jax.random.key(0), jnp.zeros((1, 3, 32, 32)))


def test_unknown_model_lists_the_available_ones():
  with pytest.raises(ValueError, match="resnet50, densenet121, vgg16"):
    models.create("resnet18", 3)


def test_unknown_layer_lists_valid_layers_and_close_matches():
  module = models.create("resnet50", 3, tiny=True)
  variables = module.init(jax.random.key(0), random_images(1, 32))
  with pytest.raises(ValueError, match=r"layer4\.2.*layer1, layer1\.0"):
    models.forward(
      module, variables, random_images(1, 32), capture=["layer4.3"]
    )


class TestTaps:
  """Gradients and head evaluation at a named layer, against closed forms."""

  @pytest.fixture(scope="class")
  def setup(self):
    module = models.create("resnet50", 4, tiny=True)
    images = random_images(3, 32, seed=3)
    variables = module.init(jax.random.key(0), images)
    return module, variables, images

  def test_gradient_at_the_last_block_is_the_class_weight_over_area(
    self, setup
  ):
    module, variables, images = setup
    targets = jnp.array([0, 3, 1])

    def objective(logits):
      return jnp.take_along_axis(logits, targets[:, None], 1).sum()

    logits, acts, grads = models.activations_and_gradients(
      module, variables, images, ["layer4.2", "avgpool"], objective
    )
    # Two XLA programs (with and without the backward pass): equal up to
    # the rounding bound of tests/rounding.py.
    apply = jax.jit(module.apply)
    rounding.assert_close(
      logits,
      apply(variables, images),
      rounding.sensitivity(apply, variables, images),
    )
    kernel = np.asarray(variables["params"]["fc"]["kernel"])  # (C, K)
    _, h, w, c = acts["layer4.2"].shape
    expected = np.broadcast_to(
      (kernel[:, targets].T / np.float32(h * w))[:, None, None, :],
      (3, h, w, c),
    )
    # d logit / d avgpool is the class's kernel column exactly (the one-hot
    # cotangent adds zero products); through the mean over h*w cells it is
    # divided by h*w: one rounding here, at most two there (a product with
    # the rounded reciprocal), so within 3 u = 1.5 eps32 relative.
    np.testing.assert_allclose(
      grads["layer4.2"], expected, rtol=1.5 * rounding.EPS32
    )
    np.testing.assert_array_equal(grads["avgpool"], kernel[:, targets].T)

  def test_replacing_a_layer_evaluates_the_head_on_it(self, setup):
    module, variables, images = setup
    _, acts = models.forward(module, variables, images, capture=["layer4.2"])
    edited = acts["layer4.2"] * 2.0
    logits, _ = models.forward(
      module, variables, images, replace={"layer4.2": edited}
    )
    fc = variables["params"]["fc"]

    def head(x, kernel, bias):
      return x.mean(axis=(1, 2)) @ kernel + bias

    expected = head(edited, fc["kernel"], fc["bias"])
    # The same mean over h*w cells, product with C weights and bias in
    # another program: each is within gamma_n * sum|terms| of the exact
    # value (tests/rounding.py), n = h*w + C + 2 roundings along the way.
    abs_terms = head(
      jnp.abs(edited), jnp.abs(fc["kernel"]), jnp.abs(fc["bias"])
    )
    n = int(np.prod(edited.shape[1:3])) + edited.shape[-1] + 2
    assert np.all(
      np.abs(logits - expected) <= 2 * rounding.gamma(n) * abs_terms
    )


def test_too_small_input_is_a_clear_error():
  module = models.create("vgg16", 3, tiny=True)
  with pytest.raises(ValueError, match="too small"):
    module.init(jax.random.key(0), random_images(1, 16))
