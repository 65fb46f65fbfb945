# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Attributions: §10 T9 (IG / SmoothGrad / GradientSHAP), T10 (LRP)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xaijax.explain as ex
import xaijax.models
from xaijax.explain import attribute as attr_lib
from xaijax.explain import lrp

KEY = jax.random.key(0)
SHAPE = (2, 4, 4, 3)


class Linear(nn.Module):
  """f(x) = W flat(x) + b with 3 classes."""

  @nn.compact
  def __call__(self, x, train=False):
    return nn.Dense(3, name="fc")(x.reshape(x.shape[0], -1))


class Square(nn.Module):
  """A single-logit head f(x) = (w . x)^2."""

  @nn.compact
  def __call__(self, x, train=False):
    z = nn.Dense(1, use_bias=False, name="fc")(x.reshape(x.shape[0], -1))
    return z**2


def _setup(module):
  images = jax.random.normal(jax.random.key(1), SHAPE)
  return module, module.init(jax.random.key(2), images), images


def test_t9_linear_model():
  module, variables, images = _setup(Linear())
  classes = np.array([0, 2])
  w = np.asarray(variables["params"]["fc"]["kernel"])[:, classes].T
  w = w.reshape(SHAPE)
  baseline = jax.random.normal(jax.random.key(3), SHAPE[1:])
  out = ex.attributions(
    module,
    variables,
    images,
    targets=classes,
    key=KEY,
    baselines=baseline,
    methods=[
      "saliency",
      "input_x_gradient",
      "smoothgrad",
      "integrated_gradients",
      "gradient_shap",
    ],
    ig_steps=7,
  )
  np.testing.assert_allclose(out["saliency"], np.abs(w), atol=1e-6)
  np.testing.assert_allclose(out["input_x_gradient"], images * w, atol=1e-6)
  np.testing.assert_allclose(out["smoothgrad"], w, atol=1e-6)
  expected = (images - baseline) * w
  np.testing.assert_allclose(out["integrated_gradients"], expected, atol=1e-5)
  np.testing.assert_allclose(out["gradient_shap"], expected, atol=1e-5)


@pytest.mark.parametrize(
  "rule,factor",
  [
    ("gausslegendre", 1.0),
    ("riemann_middle", 1.0),
    ("riemann_trapezoid", 1.0),
    ("riemann_right", 6 / 5),
    ("riemann_left", 4 / 5),
  ],
)
def test_t9_quadrature_conventions(rule, factor):
  module, variables, images = _setup(Square())
  w = np.asarray(variables["params"]["fc"]["kernel"])[:, 0].reshape(SHAPE[1:])
  dot = np.sum(np.asarray(images) * w, axis=(1, 2, 3))
  out = ex.attributions(
    module,
    variables,
    images,
    targets=1,
    methods="integrated_gradients",
    ig_steps=5,
    ig_method=rule,
  )["integrated_gradients"]
  expected = factor * np.asarray(images) * w * dot[:, None, None, None]
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-6)


class Mlp(nn.Module):
  """A smooth non-linear classifier for the completeness check."""

  @nn.compact
  def __call__(self, x, train=False):
    x = jnp.tanh(nn.Dense(16)(x.reshape(x.shape[0], -1)))
    return nn.Dense(3)(jnp.tanh(nn.Dense(16)(x)))


def test_ig_completeness():
  module, variables, images = _setup(Mlp())
  images = 3 * images  # far from the baseline: a strongly curved path
  classes = np.array([1, 2])
  ig = ex.attributions(
    module, variables, images, targets=classes, methods="integrated_gradients"
  )["integrated_gradients"]
  logits = module.apply(variables, images)[[0, 1], classes]
  at_zero = module.apply(variables, jnp.zeros_like(images))[[0, 1], classes]
  np.testing.assert_allclose(
    ig.sum(axis=(1, 2, 3)), logits - at_zero, rtol=1e-4, atol=1e-5
  )


def test_smoothgrad_relative_noise_and_key():
  module, variables, images = _setup(Square())
  kw = dict(
    targets=1,
    methods="smoothgrad",
    smoothgrad_noise="relative",
    smoothgrad_sigma=0.1,
    smoothgrad_samples=3,
  )
  a = ex.attributions(module, variables, images, key=KEY, **kw)["smoothgrad"]
  b = ex.attributions(module, variables, images, key=KEY, **kw)["smoothgrad"]
  c = ex.attributions(module, variables, images, key=jax.random.key(9), **kw)
  np.testing.assert_array_equal(a, b)
  assert not np.allclose(a, c["smoothgrad"])


@pytest.fixture(scope="module", params=["vgg16", "resnet50"])
def lrp_model(request):
  name = request.param
  module = xaijax.models.create(name, 4, tiny=True)
  images = jax.random.normal(jax.random.key(5), (2, 32, 32, 3))
  variables = jax.jit(module.init)(KEY, images)
  if "batch_stats" in variables:  # non-trivial BatchNorm to fold
    variables["batch_stats"] = jax.tree.map(
      lambda v: v + 0.3 * jax.random.uniform(KEY, v.shape),
      variables["batch_stats"],
    )
  return name, module, variables, images


def test_t10_bn_folding_keeps_logits(lrp_model):
  name, module, variables, images = lrp_model
  rules = lrp.composite("lrp_epsilon", 1e-6, 2.0, 1.0)
  np.testing.assert_allclose(
    lrp.lrp_logits(name, variables, images, rules),
    module.apply(variables, images),
    rtol=1e-5,
    atol=1e-5,
  )


def test_t10_lrp0_is_gradient_times_input(lrp_model):
  _, module, variables, images = lrp_model
  out = ex.attributions(
    module,
    variables,
    images,
    targets=[0, 3],
    lrp_epsilon=1e-12,
    methods=["lrp_epsilon", "input_x_gradient"],
  )
  scale = np.abs(out["input_x_gradient"]).max()
  np.testing.assert_allclose(
    out["lrp_epsilon"], out["input_x_gradient"], atol=2e-3 * scale
  )


def test_t10_conservation_whole_network():
  """z+ and alpha-beta conserve f_c exactly when every bias is zero."""
  module = xaijax.models.create("vgg16", 4, tiny=True)
  images = jax.random.normal(jax.random.key(6), (2, 32, 32, 3))
  variables = jax.jit(module.init)(KEY, images)
  variables = jax.tree_util.tree_map_with_path(
    lambda p, v: jnp.zeros_like(v) if p[-1].key == "bias" else v, variables
  )
  classes = np.array([2, 1])
  logits = np.asarray(module.apply(variables, images))[[0, 1], classes]
  out = ex.attributions(
    module,
    variables,
    images,
    targets=classes,
    methods=["lrp_zplus", "lrp_alphabeta"],
  )
  for name in ("lrp_zplus", "lrp_alphabeta"):
    np.testing.assert_allclose(
      out[name].sum(axis=(1, 2, 3)),
      logits,
      rtol=1e-3,
      atol=1e-5,
      err_msg=name,
    )
  assert not np.allclose(out["lrp_zplus"], out["lrp_alphabeta"])


@pytest.mark.parametrize("rule", [("zplus",), ("alphabeta", 2.0, 1.0)])
def test_t10_conservation_one_layer(rule):
  # 64 inputs: every output has positive and negative contributions, which
  # alpha-beta needs to conserve (with one sign only it scales R by alpha).
  x = jax.random.normal(jax.random.key(7), (3, 64))
  w = jax.random.normal(jax.random.key(8), (64, 5))
  r = jax.random.uniform(jax.random.key(9), (3, 5))
  _, pullback = jax.vjp(
    lambda v: lrp.linear(rule, lrp._dense_fn, w, jnp.zeros(5), v), x
  )
  np.testing.assert_allclose(pullback(r)[0].sum(-1), r.sum(-1), rtol=1e-5)


def test_lrp_unsupported_models_raise():
  module = xaijax.models.create("densenet121", 4, tiny=True)
  images = jnp.zeros((1, 32, 32, 3))
  with pytest.raises(ValueError, match="LRP supports resnet50, vgg16"):
    ex.attributions(module, {}, images, methods="lrp")


def test_attribution_options_errors():
  module, variables, images = _setup(Linear())
  with pytest.raises(ValueError, match="Unknown option"):
    ex.attributions(module, variables, images, methods="saliency", steps=3)
  with pytest.raises(ValueError, match="key"):
    ex.attributions(module, variables, images, methods="smoothgrad")
  with pytest.raises(ValueError, match="ig_method"):
    ex.attributions(
      module, variables, images, methods="saliency", ig_method="simpson"
    )
  assert set(attr_lib.METHODS) == set(ex.ATTRIBUTION_METHODS)
