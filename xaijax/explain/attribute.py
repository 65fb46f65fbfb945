# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Input-space attributions: gradients, path integrals, LRP.

Conventions (captum's unless said otherwise), for each image's target score
y_b (the logit by default, see `targets`):

* `saliency`: |dy/dx| (captum's Saliency, abs=True).
* `input_x_gradient`: x * dy/dx.
* `smoothgrad`: the mean over `smoothgrad_samples` noisy copies of dy/dx at
  x + N(0, sigma^2). `smoothgrad_noise="absolute"` (captum NoiseTunnel:
  sigma = `smoothgrad_sigma` in normalised input units, default 1.0, 5
  samples) or "relative" (zennit: sigma = `smoothgrad_sigma` x (max x - min
  x) per image, e.g. 0.1).
* `integrated_gradients`: (x - x') * integral of dy/dx along the straight
  path from the baseline x' (zeros by default), with `ig_steps` (50)
  Gauss-Legendre nodes (captum's default) or "riemann_left", "riemann_right"
  (zennit), "riemann_middle", "riemann_trapezoid". Completeness: the sum over
  pixels is y(x) - y(x').
* `gradient_shap`: captum's GradientShap: for each of `shap_samples` (5)
  draws, a baseline from `baselines` (N, H, W, 3; zeros if None), alpha ~
  U(0, 1) per image and input noise N(0, `shap_stdevs`^2) (0 by default);
  (x + e - x') * dy/dx at x' + alpha (x + e - x'), averaged.
* LRP (`lrp`, `lrp_epsilon`, `lrp_zplus`, `lrp_alphabeta`): see `lrp`.

All from pure functions, jit-compiled once per shape; sample and step loops
run in vmapped chunks of `chunk_size`.
"""

import dataclasses
from collections.abc import Mapping, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from xaijax.explain import batching, checks, lrp
from xaijax.explain import targets as targets_lib

Array = jax.Array
GRADIENT_METHODS = (
  "saliency",
  "input_x_gradient",
  "smoothgrad",
  "integrated_gradients",
  "gradient_shap",
)
METHODS = (*GRADIENT_METHODS, *lrp.COMPOSITES)
IG_RULES = (
  "gausslegendre",
  "riemann_left",
  "riemann_right",
  "riemann_middle",
  "riemann_trapezoid",
)
_RANDOM = ("smoothgrad", "gradient_shap")


@dataclasses.dataclass(frozen=True)
class Options:
  """Static options of one `attributions` call (see the module docstring)."""

  score: str = "logit"
  smoothgrad_samples: int = 5
  smoothgrad_sigma: float = 1.0
  smoothgrad_noise: str = "absolute"
  ig_steps: int = 50
  ig_method: str = "gausslegendre"
  shap_samples: int = 5
  shap_stdevs: float = 0.0
  lrp_epsilon: float = 1e-6
  lrp_alpha: float = 2.0
  lrp_beta: float = 1.0
  chunk_size: int = 8


def quadrature(method: str, steps: int) -> tuple[np.ndarray, np.ndarray]:
  """(alphas, weights) on [0, 1] for a path integral with `steps` nodes."""
  if method == "gausslegendre":
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    return 0.5 * (nodes + 1), 0.5 * weights
  if method == "riemann_trapezoid":
    alphas = np.linspace(0, 1, steps)
    weights = np.full(steps, 1.0 / (steps - 1))
    weights[[0, -1]] *= 0.5
    return alphas, weights
  offset = {"riemann_left": 0.0, "riemann_right": 1.0, "riemann_middle": 0.5}
  alphas = (np.arange(steps) + offset[method]) / steps
  return alphas, np.full(steps, 1.0 / steps)


def _gradient_fn(module, variables, classes, score):
  """x (B, k, H, W, 3): k inputs per image -> (B, k, H, W, 3) dy/dx, with y
  the target score of that image (`targets.variant_scores`)."""

  def total(x):
    return jnp.sum(
      targets_lib.variant_scores(module, variables, x, classes, score)
    )

  return jax.grad(total)


def _mean_over(term, count: int, chunk: int) -> Array:
  """Mean over i < count of term's values, `chunk` values of i per step.

  Args:
    term: (k,) int32 indices -> (B, k, H, W, 3), one value per image and i.
    count: how many i.
    chunk: i per step (one forward/backward batch of B * chunk images).

  Returns:
    (B, H, W, 3) the mean.
  """
  chunk = min(chunk, count)
  starts = list(range(0, count, chunk))
  last = starts.pop()  # the one chunk that may be short starts the sum

  def step(total, start):
    return total + jnp.sum(term(start + jnp.arange(chunk)), axis=1), None

  total = jnp.sum(term(jnp.arange(last, count)), axis=1)
  total, _ = jax.lax.scan(step, total, jnp.asarray(starts, jnp.int32))
  return total / count


def _per_image(draw, indices: Array):
  """vmap of draw (i -> pytree of (B, ...)) over indices, as (B, k, ...)."""
  return jax.tree.map(lambda x: jnp.moveaxis(x, 0, 1), jax.vmap(draw)(indices))


def _smoothgrad(grad, images, key, o: Options):
  if o.smoothgrad_noise == "relative":
    spread = jnp.max(images, axis=(1, 2, 3), keepdims=True) - jnp.min(
      images, axis=(1, 2, 3), keepdims=True
    )
    sigma = (o.smoothgrad_sigma * spread)[:, None]
  else:
    sigma = o.smoothgrad_sigma

  def noise(i):
    return jax.random.normal(jax.random.fold_in(key, i), images.shape)

  def term(indices):
    return grad(images[:, None] + sigma * _per_image(noise, indices))

  return _mean_over(term, o.smoothgrad_samples, o.chunk_size)


def _integrated_gradients(grad, images, baseline, o: Options):
  alphas, weights = quadrature(o.ig_method, o.ig_steps)
  alphas, weights = jnp.asarray(alphas), jnp.asarray(weights)
  delta = (images - baseline)[:, None]

  def term(indices):
    alpha = alphas[indices][None, :, None, None, None]
    weight = weights[indices][None, :, None, None, None]
    return weight * grad(baseline + alpha * delta)

  path = _mean_over(term, o.ig_steps, o.chunk_size) * o.ig_steps
  return delta[:, 0] * path


def _gradient_shap(grad, images, baselines, key, o: Options):
  batch = images.shape[0]

  def draw(i):
    k_base, k_alpha, k_noise = jax.random.split(jax.random.fold_in(key, i), 3)
    pick = jax.random.randint(k_base, (batch,), 0, baselines.shape[0])
    alpha = jax.random.uniform(k_alpha, (batch, 1, 1, 1))
    noise = jax.random.normal(k_noise, images.shape)
    return baselines[pick], alpha, noise

  def term(indices):
    base, alpha, noise = _per_image(draw, indices)
    delta = images[:, None] + o.shap_stdevs * noise - base
    return delta * grad(base + alpha * delta)

  return _mean_over(term, o.shap_samples, o.chunk_size)


def _batch_attributions(
  module, variables, images, classes, key, baselines, methods, o: Options
) -> dict[str, Array]:
  if classes is None:
    clean = module.apply(variables, images, train=False)
    classes = targets_lib.predicted_classes(clean)
  grad = _gradient_fn(module, variables, classes, o.score)
  keys = {}
  if key is not None:
    keys = dict(zip(_RANDOM, jax.random.split(key, len(_RANDOM)), strict=True))
  out = {}
  plain = None
  for name in methods:
    if name in ("saliency", "input_x_gradient"):
      plain = grad(images[:, None])[:, 0] if plain is None else plain
      out[name] = jnp.abs(plain) if name == "saliency" else images * plain
    elif name == "smoothgrad":
      out[name] = _smoothgrad(grad, images, keys[name], o)
    elif name == "integrated_gradients":
      out[name] = _integrated_gradients(grad, images, baselines[0], o)
    elif name == "gradient_shap":
      out[name] = _gradient_shap(grad, images, baselines, keys[name], o)
    else:
      rules = lrp.composite(name, o.lrp_epsilon, o.lrp_alpha, o.lrp_beta)
      model = checks.model_name(module)
      out[name] = lrp.relevance(model, variables, images, classes, rules)
  return {k: v.astype(jnp.float32) for k, v in out.items()}


def _impl(
  module,
  variables,
  images,
  classes,
  key,
  baselines,
  *,
  methods,
  options,
  sharding,
):
  def batch(variables, images, classes, key, baselines):
    return _batch_attributions(
      module, variables, images, classes, key, baselines, methods, options
    )

  out = batching.batch_parallel(
    batch, sharding, variables, images, classes, key, baselines
  )
  return out, jnp.all(jnp.isfinite(images))


def _jit(fn):
  return jax.jit(
    fn,
    static_argnums=(0,),
    static_argnames=("methods", "options", "sharding"),
  )


_compiled = _jit(_impl)


def _check_options(o: Options, methods: tuple[str, ...], key) -> None:
  if o.ig_method not in IG_RULES:
    raise ValueError(f"Unknown ig_method '{o.ig_method}'; choose {IG_RULES}.")
  if o.smoothgrad_noise not in ("absolute", "relative"):
    raise ValueError(
      f"smoothgrad_noise must be 'absolute' (captum) or 'relative' (zennit),"
      f" got '{o.smoothgrad_noise}'."
    )
  minimum = 2 if o.ig_method == "riemann_trapezoid" else 1
  counts = {
    "ig_steps": (o.ig_steps, minimum),
    "smoothgrad_samples": (o.smoothgrad_samples, 1),
    "shap_samples": (o.shap_samples, 1),
    "chunk_size": (o.chunk_size, 1),
  }
  for name, (value, low) in counts.items():
    if value < low:
      raise ValueError(f"{name} must be at least {low}, got {value}.")
  needs_key = [m for m in methods if m in _RANDOM]
  if needs_key and key is None:
    raise ValueError(
      f"{needs_key} draw random samples: pass key=jax.random.key(seed)."
    )
  targets_lib.check_score(o.score)


def attributions(
  module: nn.Module,
  variables: Mapping,
  images: Array,
  *,
  methods: str | Sequence[str],
  targets: int | Sequence[int] | np.ndarray | Array | None = None,
  key: Array | None = None,
  baselines: Array | None = None,
  check_finite: bool = True,
  **kw,
) -> dict[str, Array]:
  """Input attributions for each image's target class.

  Args:
    module: a model from `xaijax.models.create`.
    variables: its variables.
    images: (B, H, W, 3) normalised images.
    methods: names from `METHODS`.
    targets: None (predicted class), an int, or (B,) classes.
    key: PRNG key, required by smoothgrad and gradient_shap.
    baselines: integrated_gradients: (H, W, 3) or (1, H, W, 3) baseline
      (zeros if None); gradient_shap: (N, H, W, 3) set to draw from.
    check_finite: raise if the images contain NaN/inf.
    **kw: fields of `Options` (score, smoothgrad_samples, smoothgrad_sigma,
      smoothgrad_noise, ig_steps, ig_method, shap_samples, shap_stdevs,
      lrp_epsilon, lrp_alpha, lrp_beta, chunk_size).

  Returns:
    {method: (B, H, W, 3) float32 attribution}.

  Raises:
    ValueError: unknown method or option, target out of range, bad images,
      a missing key, LRP on an unsupported model.
  """
  checks.check_images(images)
  methods = checks.check_methods(methods, METHODS)
  unknown = sorted(set(kw) - {f.name for f in dataclasses.fields(Options)})
  if unknown:
    raise ValueError(
      f"Unknown option(s) {unknown}; valid: "
      f"{', '.join(f.name for f in dataclasses.fields(Options))}."
    )
  options = Options(**kw)
  _check_options(options, methods, key)
  classes = targets_lib.check_targets(
    targets, images.shape[0], checks.num_logits(module, images.shape)
  )
  if any(m in lrp.COMPOSITES for m in methods):
    lrp.check_model(checks.model_name(module))
  if baselines is None:
    baselines = jnp.zeros((1, *images.shape[1:]), jnp.float32)
  baselines = jnp.asarray(baselines, jnp.float32)
  if baselines.ndim == 3:
    baselines = baselines[None]
  if baselines.shape[1:] != images.shape[1:]:
    raise ValueError(
      f"baselines must be (N, H, W, 3) matching the images {images.shape}, "
      f"got {baselines.shape}."
    )
  maps, finite = _compiled(
    module,
    variables,
    images,
    None if classes is None else jnp.asarray(classes),
    key,
    baselines,
    methods=methods,
    options=options,
    sharding=batching.batch_sharding(images),
  )
  if check_finite:
    checks.raise_if_not_finite(finite)
  return maps
