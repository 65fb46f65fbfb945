# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Layer-wise relevance propagation for ResNet-50 and VGG-16.

LRP needs a rule per layer, so it runs a dedicated forward pass built from the
same variables, in which every linear layer is a `jax.custom_vjp` function
whose backward pass IS the rule: the cotangent flowing backwards is the
relevance R (as zennit's modified-gradient implementation). Canonicalisation
as zennit's ResNetCanonizer / VGGCanonizer:

* each BatchNorm is folded into the preceding convolution:
  w' = w * g / sqrt(v + eps), b' = beta - mu * g / sqrt(v + eps);
* each residual sum splits relevance in proportion to its two inputs
  (R_a = a / (a + b) * R);
* average pools (and the global average pool) use the epsilon rule (zennit's
  Norm), max pools pass relevance to the winner (the plain gradient), ReLUs
  pass it through.

Composites (conv rule / dense rule), zennit's names in brackets:
`lrp_epsilon` (epsilon / epsilon), `lrp_zplus` = `lrp` (z+ / epsilon,
EpsilonPlus), `lrp_alphabeta` (alpha-beta / epsilon, EpsilonAlpha2Beta1).
z+ and alpha-beta treat negative inputs as zennit does (a+ w+ + a- w- is the
positive part). The initial relevance is the target logit at the target class
(captum's convention: the relevances sum to about f_c).

DenseNet-121 and EfficientNet-B0 are NOT supported (a clear error): their
concatenations, SiLU activations and squeeze-excitation gates (a product of
two input-dependent factors) have no canonical rule here.
"""

import functools
from collections.abc import Callable, Mapping

import jax
import jax.numpy as jnp

from xaijax.explain import targets as targets_lib
from xaijax.models import layers as layers_lib
from xaijax.models import vgg

Array = jax.Array
Rule = tuple  # ("epsilon", eps) | ("zplus",) | ("alphabeta", alpha, beta)
COMPOSITES = ("lrp", "lrp_epsilon", "lrp_zplus", "lrp_alphabeta")
SUPPORTED = ("resnet50", "vgg16")
_STABILISER = 1e-6
_BN_EPS = 1e-5


def _stabilise(z: Array, eps: float) -> Array:
  # zennit's stabilize: sign(0) counts as +1.
  return z + jnp.where(z >= 0, eps, -eps)


def _pullback(fn: Callable, w, x: Array, s: Array) -> Array:
  """x * J_fn(w, .)^T s, the share of each input in s."""
  _, vjp = jax.vjp(lambda inp: fn(w, inp), x)
  return x * vjp(s)[0]


def _signed(tree, sign: float):
  return jax.tree.map(lambda p: jnp.maximum(sign * p, 0) * sign, tree)


def _rule_relevance(rule: Rule, fn, w, b, x: Array, r: Array) -> Array:
  if rule[0] == "epsilon":
    s = r / _stabilise(fn(w, x) + b, rule[1])
    return _pullback(fn, w, x, s)
  wp, wn = _signed(w, 1.0), _signed(w, -1.0)
  xp, xn = jnp.maximum(x, 0), jnp.minimum(x, 0)

  def share(w_pos, w_neg, bias, scale):
    z = fn(w_pos, xp) + fn(w_neg, xn) + bias
    s = r / _stabilise(z, _STABILISER)
    return scale * (_pullback(fn, w_pos, xp, s) + _pullback(fn, w_neg, xn, s))

  if rule[0] == "zplus":
    return share(wp, wn, jnp.maximum(b, 0), 1.0)
  alpha, beta = rule[1], rule[2]
  return share(wp, wn, jnp.maximum(b, 0), alpha) - share(
    wn, wp, jnp.minimum(b, 0), beta
  )


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def linear(rule: Rule, fn: Callable, w, b, x: Array) -> Array:
  """fn(w, x) + b, a layer linear in x whose backward applies `rule`."""
  return fn(w, x) + b


def _linear_fwd(rule, fn, w, b, x):
  return fn(w, x) + b, (w, b, x)


def _linear_bwd(rule, fn, res, r):
  w, b, x = res
  relevance = _rule_relevance(rule, fn, w, b, x, r)
  return jax.tree.map(jnp.zeros_like, w), jnp.zeros_like(b), relevance


linear.defvjp(_linear_fwd, _linear_bwd)


@jax.custom_vjp
def proportional_sum(a: Array, b: Array) -> Array:
  """a + b; backward splits relevance in proportion to a and b."""
  return a + b


def _sum_fwd(a, b):
  return a + b, (a, b)


def _sum_bwd(res, r):
  a, b = res
  s = r / _stabilise(a + b, _STABILISER)
  return a * s, b * s


proportional_sum.defvjp(_sum_fwd, _sum_bwd)


def _conv_fn(stride: int, padding: int):
  def fn(w, x):
    return jax.lax.conv_general_dilated(
      x,
      w,
      (stride, stride),
      ((padding, padding), (padding, padding)),
      dimension_numbers=("NHWC", "HWIO", "NHWC"),
      precision=jax.lax.Precision.HIGHEST,
    )

  return fn


def _dense_fn(w, x):
  return jnp.dot(x, w, precision=jax.lax.Precision.HIGHEST)


def _fold(conv: Mapping, bn: Mapping, stats: Mapping) -> tuple[Array, Array]:
  """BatchNorm folded into the preceding (bias-free) convolution."""
  scale = bn["scale"] / jnp.sqrt(stats["var"] + _BN_EPS)
  return conv["kernel"] * scale, bn["bias"] - stats["mean"] * scale


def _max_pool(x: Array, window: int, stride: int, padding: int) -> Array:
  return layers_lib.MaxPool(window, stride, padding).apply({}, x)


def _pool_rule(fn, x):
  return linear(("epsilon", _STABILISER), fn, (), jnp.zeros(()), x)


def _global_pool(x: Array) -> Array:
  return _pool_rule(lambda _, v: jnp.mean(v, axis=(1, 2)), x)


def _resnet_logits(variables, x, conv_rule, dense_rule):
  params, stats = variables["params"], variables["batch_stats"]

  def conv_bn(p, s, x, conv, bn, stride, padding):
    w, b = _fold(p[conv], p[bn], s[bn])
    return linear(conv_rule, _conv_fn(stride, padding), w, b, x)

  x = jax.nn.relu(conv_bn(params, stats, x, "conv1", "bn1", 2, 3))
  x = _max_pool(x, 3, 2, 1)
  for stage in range(4):
    name = f"layer{stage + 1}"
    for i in range(len(params[name])):  # blocks named 0, 1, ...
      p, s = params[name][str(i)], stats[name][str(i)]
      stride = 2 if stage > 0 and i == 0 else 1
      y = jax.nn.relu(conv_bn(p, s, x, "conv1", "bn1", 1, 0))
      y = jax.nn.relu(conv_bn(p, s, y, "conv2", "bn2", stride, 1))
      y = conv_bn(p, s, y, "conv3", "bn3", 1, 0)
      if "downsample" in p:
        x = conv_bn(p["downsample"], s["downsample"], x, "0", "1", stride, 0)
      x = jax.nn.relu(proportional_sum(y, x))
  x = _global_pool(x)
  fc = params["fc"]
  return linear(dense_rule, _dense_fn, fc["kernel"], fc["bias"], x)


def _vgg_logits(variables, x, conv_rule, dense_rule):
  params = variables["params"]
  index = 0
  for item in vgg.VGG16:
    if item == "M":
      x = _max_pool(x, 2, 2, 0)
      index += 1
      continue
    p = params["features"][str(index)]
    x = jax.nn.relu(
      linear(conv_rule, _conv_fn(1, 1), p["kernel"], p["bias"], x)
    )
    index += 2
  _, h, w, _ = x.shape
  if (h, w) != (7, 7):
    rows = jnp.asarray(layers_lib._adaptive_pool_matrix(h, 7))
    cols = jnp.asarray(layers_lib._adaptive_pool_matrix(w, 7))
    x = _pool_rule(
      lambda _, v: jnp.einsum("oh,bhwc,pw->bopc", rows, v, cols), x
    )
  x = x.transpose(0, 3, 1, 2).reshape(x.shape[0], -1)
  classifier = params["classifier"]
  for index in ("0", "3", "6"):
    p = classifier[index]
    x = linear(dense_rule, _dense_fn, p["kernel"], p["bias"], x)
    if index != "6":
      x = jax.nn.relu(x)
  return x


_FORWARDS = {"resnet50": _resnet_logits, "vgg16": _vgg_logits}


def composite(name: str, epsilon: float, alpha: float, beta: float):
  """(conv rule, dense rule) of a composite name."""
  dense = ("epsilon", epsilon)
  if name == "lrp_epsilon":
    return dense, dense
  if name in ("lrp", "lrp_zplus"):
    return ("zplus",), dense
  if alpha - beta != 1 or beta < 0:
    raise ValueError(
      f"alpha-beta LRP needs alpha - beta = 1 and beta >= 0 (conservation),"
      f" got alpha={alpha}, beta={beta}."
    )
  return ("alphabeta", alpha, beta), dense


def check_model(model: str) -> None:
  if model not in _FORWARDS:
    raise ValueError(
      f"LRP supports {', '.join(SUPPORTED)}, not {model}: DenseNet-121 and "
      "EfficientNet-B0 (concatenations, SiLU, squeeze-excitation) have no "
      "LRP rules here; use integrated_gradients or gradient_shap instead."
    )


def lrp_logits(
  model: str, variables: Mapping, images: Array, rules: tuple[Rule, Rule]
) -> Array:
  """(B, K) logits of the canonicalised network (equal to the model's)."""
  check_model(model)
  return _FORWARDS[model](variables, images.astype(jnp.float32), *rules)


def relevance(
  model: str,
  variables: Mapping,
  images: Array,
  classes: Array | None,
  rules: tuple[Rule, Rule],
) -> Array:
  """(B, H, W, 3) input relevance of each image's target logit.

  Args:
    model: "resnet50" or "vgg16".
    variables: the model's variables (any width).
    images: (B, H, W, 3) normalised images.
    classes: (B,) target classes, None for the predicted ones.
    rules: (conv rule, dense rule), from `composite`.
  """
  logits, pullback = jax.vjp(
    lambda x: lrp_logits(model, variables, x, rules), images
  )
  if classes is None:
    classes = targets_lib.predicted_classes(logits)
  score = targets_lib.scores(logits, classes, "logit")
  column = 0 if logits.shape[-1] == 1 else classes
  start = (
    jnp.zeros_like(logits)
    .at[jnp.arange(len(classes)), column]
    .set(score if logits.shape[-1] > 1 else logits[:, 0])
  )
  return pullback(start)[0]
