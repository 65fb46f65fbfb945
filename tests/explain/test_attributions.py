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
from tests import rounding
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
  # dy/dx of a linear model is W exactly (a one-hot cotangent times W adds
  # zero products), so saliency and x * dy/dx are exact; the means over
  # samples or steps add k equal terms and divide: within gamma_(k+1) (and
  # IG's k quadrature weights and its factor k: gamma_(2k+3)), relatively.
  np.testing.assert_array_equal(out["saliency"], np.abs(w))
  np.testing.assert_array_equal(out["input_x_gradient"], images * w)
  np.testing.assert_allclose(out["smoothgrad"], w, rtol=rounding.gamma(6))
  expected = (images - baseline) * w
  np.testing.assert_allclose(
    out["integrated_gradients"], expected, rtol=rounding.gamma(2 * 7 + 3)
  )
  np.testing.assert_allclose(
    out["gradient_shap"], expected, rtol=rounding.gamma(6)
  )


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
  # Each product of the closed form is well conditioned except the dot
  # product w . x of 48 terms, computed here and (at every node) there:
  # within gamma_48 * sum|w x| each (Higham eq. 3.5), a relative error of
  # gamma_48 * sum|w x| / |w . x| per image; the quadrature's 5 weighted
  # terms, the factor 2 and the products add gamma_(2*5 + 6).
  abs_dot = np.sum(np.abs(np.asarray(images) * w), axis=(1, 2, 3))
  relative = 2 * rounding.gamma(48) * abs_dot / np.abs(dot) + rounding.gamma(16)
  assert np.all(
    np.abs(out - expected) <= relative[:, None, None, None] * np.abs(expected)
  )


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
  # 50 Gauss-Legendre nodes integrate this analytic path (tanh's poles are
  # at |z| >= pi/2) to far below float32 rounding. The float32 errors: each
  # node's gradient (two tanh layers of 48 and 16 inputs) within
  # gamma_(48+16+16) of its terms, the weighted sum over 50 nodes, the sum
  # over the 48 inputs, and the two logits: bounded by gamma_n times the
  # sums of absolute values, n = 80 + 50 + 48 + 2.
  got = ig.sum(axis=(1, 2, 3))
  expected = logits - at_zero
  scale = np.abs(ig).sum(axis=(1, 2, 3)) + np.abs(logits) + np.abs(at_zero)
  assert np.all(np.abs(got - expected) <= rounding.gamma(180) * scale)


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
  apply = jax.jit(module.apply)
  # Folding BatchNorm into the convolutions changes the float32 arithmetic,
  # not the function: equal up to the rounding bound of tests/rounding.py.
  rounding.assert_close(
    lrp.lrp_logits(name, variables, images, rules),
    apply(variables, images),
    rounding.sensitivity(apply, variables, images),
  )


def test_t10_lrp0_is_gradient_times_input(lrp_model):
  _, module, variables, images = lrp_model

  def run(variables, images):
    return ex.attributions(
      module,
      variables,
      images,
      targets=[0, 3],
      lrp_epsilon=1e-12,
      methods=["lrp_epsilon", "input_x_gradient"],
    )

  out = run(variables, images)
  nudged = rounding.sensitivity(run, variables, images)
  # On a ReLU network R_j = x_j dy/dx_j at every layer by induction, biases
  # included, so LRP-0 is x * dy/dx exactly (the 1e-12 stabiliser is
  # negligible); the two are different programs (BatchNorm folded or not),
  # each within its rounding bound of the exact value (tests/rounding.py).
  bound = sum(
    rounding.tolerance(out[m], [n[m] for n in nudged])
    for m in ("lrp_epsilon", "input_x_gradient")
  )
  diff = np.abs(out["lrp_epsilon"] - out["input_x_gradient"]).max()
  assert diff <= bound, (diff, bound)


def _lrp_rounding(variables, inputs: int) -> float:
  """Relative float32 error of LRP's relevance total (z+ rule, no biases).

  Every layer multiplies the total by sum_i (x_i w_ij) / z_j for each output
  j: two sums of the same n = fan-in non-negative terms (z+), each within
  gamma_n (Higham eq. 3.5), and a division; the input relevance is summed
  over `inputs` values at the end.
  """
  kernels = [
    v
    for path, v in jax.tree_util.tree_leaves_with_path(variables)
    if path[-1].key == "kernel"
  ]
  layers = sum(
    2 * rounding.gamma(int(np.prod(k.shape[:-1]))) + rounding.U32
    for k in kernels
  )
  return layers + rounding.gamma(inputs)


def test_t10_conservation_whole_network():
  """z+ and alpha-beta conserve f_c exactly when every bias is zero, but
  for their stabilisers."""
  module = xaijax.models.create("vgg16", 4, tiny=True)
  images = jax.random.normal(jax.random.key(6), (2, 32, 32, 3))
  variables = jax.jit(module.init)(KEY, images)
  variables = jax.tree_util.tree_map_with_path(
    lambda p, v: jnp.zeros_like(v) if p[-1].key == "bias" else v, variables
  )
  classes = np.array([2, 1])

  def relative_error(images):  # {rule: (B,) |sum R - f_c| / |f_c|}
    logits = np.asarray(module.apply(variables, images))[[0, 1], classes]
    out = ex.attributions(
      module,
      variables,
      images,
      targets=classes,
      methods=["lrp_zplus", "lrp_alphabeta"],
    )
    assert not np.allclose(out["lrp_zplus"], out["lrp_alphabeta"])
    return {
      name: np.abs(np.asarray(r, np.float64).sum((1, 2, 3)) - logits)
      / np.abs(logits)
      for name, r in out.items()
    }

  # Each rule's stabiliser (z + 1e-6 sign z) keeps a share
  # 1e-6 / (|z| + 1e-6) of a unit's relevance: not conserved. Without biases
  # the network is positively homogeneous, and scaling the images by
  # 2^12 (exact in floating point) scales every z by 2^12: to first order
  # that leak shrinks 2^12-fold while the relative rounding stays.
  scale = 2.0**12
  unscaled, scaled = relative_error(images), relative_error(scale * images)
  # Rounding: `_lrp_rounding`; alpha-beta subtracts beta times the negative
  # share from alpha times the positive one, which multiplies the relative
  # error by up to (alpha + beta) / (alpha - beta) = 3 while the negative
  # share is the smaller one.
  rounding_error = 3 * _lrp_rounding(variables, images[0].size)
  for name, error in scaled.items():
    # The leak at scale 1 is at most the error there plus its rounding.
    leak = (unscaled[name] + rounding_error) / scale
    assert np.all(error <= rounding_error + leak), (name, error)


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
  # One layer of `_lrp_rounding` with fan-in 64, then the sums over 64
  # inputs and 5 outputs, plus the stabiliser's leak, a share
  # 1e-6 / (|z| + 1e-6) of each share's relevance, z its sum of positive
  # (or negative) products; times 3 for alpha-beta's difference of shares.
  terms = np.asarray(x)[:, :, None] * np.asarray(w)[None]
  z = np.minimum(terms.clip(min=0).sum(1), -terms.clip(max=0).sum(1))
  leak = 1e-6 / z.min()
  relative = 3 * (2 * rounding.gamma(64) + rounding.gamma(64 + 5) + leak)
  np.testing.assert_allclose(pullback(r)[0].sum(-1), r.sum(-1), rtol=relative)


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
