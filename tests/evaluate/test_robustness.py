# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Explanation robustness against references written from the definitions.

SSIM: a loop over every window position (Wang et al. 2004). Quantus'
metrics: a slow float64 loop that follows quantus/metrics/robustness/*.py
(wave2_methods.md §2), fed the SAME perturbations as the code under test;
the §2.6 test vectors; hand-made cases.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from xaijax import explain, models
from xaijax.evaluate import robustness
from xaijax.testing import random_images

U = 2.0**-24  # float32 unit round-off.


def reference_ssim(a, b, window=11, sigma=1.5, c1=1e-4, c2=9e-4):
  t = np.arange(window) - (window - 1) / 2
  g = np.exp(-0.5 * (t / sigma) ** 2)
  w = np.outer(g, g) / np.outer(g, g).sum()
  out = []
  for x, y in zip(a, b, strict=True):
    values = []
    for i in range(x.shape[0] - window + 1):
      for j in range(x.shape[1] - window + 1):
        px, py = (
          x[i : i + window, j : j + window],
          y[i : i + window, j : j + window],
        )
        mx, my = (w * px).sum(), (w * py).sum()
        vx, vy = (w * (px - mx) ** 2).sum(), (w * (py - my) ** 2).sum()
        cov = (w * (px - mx) * (py - my)).sum()
        values.append(
          (2 * mx * my + c1)
          * (2 * cov + c2)
          / ((mx**2 + my**2 + c1) * (vx + vy + c2))
        )
    out.append(np.mean(values))
  return np.array(out)


def test_ssim_matches_window_loop():
  rng = np.random.default_rng(0)
  a = rng.random((2, 16, 20))
  b = np.clip(a + 0.2 * rng.normal(size=a.shape), 0, 1)
  # float64 both ways; E[x²] − μ² vs the centred form differ by a few ulps
  # of values <= 1, then divided by C2 = 9e-4 at worst: 1e-12.
  np.testing.assert_allclose(
    robustness.ssim(a, b), reference_ssim(a, b), rtol=0, atol=1e-12
  )


def test_similarity_of_identical_and_constant_maps():
  a = np.random.default_rng(1).random((3, 24, 24))
  same = robustness.map_similarity(a, a)
  np.testing.assert_allclose(same["spearman"], 1, rtol=1e-12)
  np.testing.assert_allclose(same["ssim"], 1, rtol=1e-12)
  np.testing.assert_array_equal(same["top_k_iou"], 1)
  # Flat maps c and d: σ = 0, SSIM = (2cd + C1) / (c² + d² + C1).
  flat = robustness.ssim(np.full((1, 12, 12), 0.2), np.full((1, 12, 12), 0.6))
  assert flat[0] == pytest.approx((2 * 0.12 + 1e-4) / (0.04 + 0.36 + 1e-4))
  inverted = robustness.map_similarity(a, 1 - a)
  np.testing.assert_allclose(inverted["spearman"], -1, rtol=1e-12)
  assert (inverted["ssim"] < 0).all()
  np.testing.assert_array_equal(inverted["top_k_iou"], 0)


def test_top_k_iou_hand_made_with_ties():
  a = np.array([[[4.0, 3, 2, 1]]])
  b = np.array([[[4.0, 0, 2, 3]]])
  # fraction 0.5 -> k = 2: {0, 1} vs {0, 3}: IoU 1/3.
  assert robustness.top_k_iou(a, b, fraction=0.5)[0] == pytest.approx(1 / 3)
  # All tied: the first k pixels in raster order on both sides.
  tied = np.zeros((1, 1, 4))
  assert robustness.top_k_iou(tied, tied, fraction=0.5)[0] == 1
  assert robustness.top_k_iou(tied, b, fraction=0.25)[0] == 1  # Pixel 0.


def test_bad_maps():
  with pytest.raises(ValueError, match=r"\(B, H, W\)"):
    robustness.ssim(np.zeros((2, 16, 16)), np.zeros((2, 16, 15)))
  with pytest.raises(ValueError, match="window must be odd and fit"):
    robustness.ssim(np.zeros((1, 8, 8)), np.zeros((1, 8, 8)))
  with pytest.raises(ValueError, match="fraction"):
    robustness.top_k_iou(np.zeros((1, 4, 4)), np.zeros((1, 4, 4)), fraction=0)


# wave2_methods.md §2.6: a = [3, 4]; x'_1 = [0.1, 0] gives [3, 5] and
# x'_2 = [0, 0.1] gives [1, 4]: the linear map a(x) = [3, 4] + M x.
M = np.array([[0.0, -20.0], [10.0, 0.0]])


def linear_explain(x, key):
  del key
  flat = x.reshape(x.shape[0], 2)
  return (jnp.array([3.0, 4.0]) + flat @ M.T).reshape(x.shape[0], 1, 2)


X = np.zeros((1, 1, 2, 1), np.float32)
EPS = np.array([[0.1, 0.0], [0.0, 0.1]], np.float32).reshape(2, 1, 1, 2, 1)


def test_wave2_vectors():
  key = jax.random.key(0)
  kw = {"perturbations": EPS}
  # Ratios [1/5, 2/5]: max 0.4, mean 0.3 (float32: a few ulps).
  assert robustness.max_sensitivity(linear_explain, X, key, **kw)[
    0
  ] == pytest.approx(0.4, rel=8 * U)
  assert robustness.avg_sensitivity(linear_explain, X, key, **kw)[
    0
  ] == pytest.approx(0.3, rel=8 * U)
  # Normalised: [0.75, 1], [0.6, 1], [0.25, 1] -> [1.5, 5.0]; the 1e-10 eps
  # moves the 9th digit.
  assert robustness.local_lipschitz_estimate(linear_explain, X, key, **kw)[
    0
  ] == pytest.approx(5.0, rel=8 * U)
  assert robustness.local_lipschitz_estimate(
    linear_explain, X, key, normalise=False, **kw
  )[0] == pytest.approx(20.0, rel=8 * U)


def test_lipschitz_normalises_over_the_batch():
  # A second image with map [0.5, 0.5 + x_0]: it is divided by the batch
  # max (4 clean, 5 with x'_1), not by its own, as Quantus does. Its sample
  # 1 ratio is ||[0.125, 0.125] − [0.1, 0.12]|| / 0.1 = 0.25495; sample 2
  # leaves it [0.125, 0.125] (0). Per-image maxima would give 1.6667.
  def explain_fn(x, key):
    first = linear_explain(x[:1], key)
    second = jnp.stack([0.5 + 0 * x[1, 0, 0, 0], 0.5 + x[1, 0, 0, 0]])
    return jnp.concatenate([first, second.reshape(1, 1, 2)])

  x = np.zeros((2, 1, 2, 1), np.float32)
  eps = np.repeat(EPS, 2, axis=1)
  scores = robustness.local_lipschitz_estimate(
    explain_fn, x, jax.random.key(0), perturbations=eps
  )
  np.testing.assert_allclose(
    scores, [5.0, np.sqrt(0.025**2 + 0.005**2) / 0.1], rtol=64 * U
  )


def ratio_rtol(a, perturbed):
  """Relative tolerance of ||a − a'|| / (...) computed from float32 maps.

  Each float32 map entry carries <= 8 u of relative error (the explainers
  here: a few elementwise ops and sums of <= 3 terms) and a norm of D terms
  D u more; the difference a − a' then loses the factor
  κ = (||a|| + ||a'||) / ||a − a'|| to cancellation. So 2 (D + 8) u κ.
  """
  a = np.asarray(a, np.float64).reshape(len(a), -1)
  kappa = 1.0
  for p in perturbed:
    p = np.asarray(p, np.float64).reshape(len(a), -1)
    diff = np.linalg.norm(a - p, axis=1)
    total = np.linalg.norm(a, axis=1) + np.linalg.norm(p, axis=1)
    kappa = max(kappa, (total[diff > 0] / diff[diff > 0]).max(initial=1))
  return 2 * (a.shape[1] + 8) * U * kappa


def quantus_reference(explain, x, perturbations, kind, normalise, absolute):
  """Slow float64 loop following Quantus' metrics (wave2 §2.1-2.4).

  Returns the (B,) scores and the tolerance `ratio_rtol` of its maps.
  """

  def prepare(a):
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    if normalise and np.abs(a).max() > 0:
      a = a / np.abs(a).max()
    return np.abs(a) if absolute else a

  x = np.asarray(x, np.float64)
  a = prepare(explain(x))
  scores = np.empty((len(perturbations), len(x)))
  seen = []
  for k, eps in enumerate(np.asarray(perturbations, np.float64)):
    xp = x + eps
    ap = prepare(explain(xp))
    seen.append(ap)
    for i in range(len(x)):
      numerator = np.linalg.norm(a[i] - ap[i])
      if kind == "lipschitz":
        denominator = np.linalg.norm((x[i] - xp[i]).ravel()) + 1e-10
      else:
        denominator = np.linalg.norm(a[i])
      scores[k, i] = numerator / denominator
  result = scores.max(0) if kind != "avg" else scores.mean(0)
  return result, ratio_rtol(a, seen)


W = np.random.default_rng(2).normal(size=(3,))


def smooth_explain(x, key=None):
  """A nonlinear map of the image, in numpy (float64) or jax (float32)."""
  xp = np if isinstance(x, np.ndarray) and x.dtype == np.float64 else jnp
  return xp.tanh(x @ W) ** 2 + 0.1 * x[..., 0]


@pytest.mark.parametrize(
  "metric, kind, kwargs",
  [
    (robustness.max_sensitivity, "max", {}),
    (robustness.avg_sensitivity, "avg", {}),
    (robustness.max_sensitivity, "max", {"normalise": True, "absolute": True}),
    (robustness.local_lipschitz_estimate, "lipschitz", {}),
    (robustness.local_lipschitz_estimate, "lipschitz", {"normalise": False}),
  ],
)
def test_metrics_match_quantus_loop(metric, kind, kwargs):
  x = random_images(3, 12, seed=3)
  rng = np.random.default_rng(4)
  eps = rng.uniform(-0.2, 0.2, (5, *x.shape)).astype(np.float32)
  ours = metric(
    smooth_explain, x, jax.random.key(0), perturbations=eps, **kwargs
  )
  normalise = kwargs.get("normalise", kind == "lipschitz")
  expected, rtol = quantus_reference(
    smooth_explain, x, eps, kind, normalise, kwargs.get("absolute", False)
  )
  np.testing.assert_allclose(ours, expected, rtol=rtol)


def test_constant_explanation_is_perfectly_robust():
  x = random_images(2, 8, seed=5)

  def constant(images, key):
    return jnp.ones(images.shape[:3])

  key = jax.random.key(1)
  for metric in (
    robustness.max_sensitivity,
    robustness.avg_sensitivity,
    robustness.local_lipschitz_estimate,
  ):
    np.testing.assert_array_equal(metric(constant, x, key, num_samples=3), 0)


def test_default_noise_draws_and_seeding():
  # Record what the metric feeds the explainer: the documented noise, the
  # same explainer key every call, and the same draws for the same key.
  x = random_images(2, 16, seed=6)
  seen, keys = [], []

  def recorder(images, key):
    seen.append(np.asarray(images) - x)
    keys.append(np.asarray(jax.random.key_data(key)))
    return images[..., 0]

  first = robustness.avg_sensitivity(
    recorder, x, jax.random.key(2), num_samples=4
  )
  noise = np.stack(seen[1:])
  np.testing.assert_array_equal(seen[0], 0)
  assert all((k == keys[0]).all() for k in keys)
  # U(-0.2, 0.2): bounded, std 0.2/sqrt(3) within 5 standard errors of the
  # sample std of n = 6144 values (se ≈ std·sqrt(0.8 / (4 n)) for a uniform).
  # Recorded as fl(fl(x + ε) − x): two roundings of values <= |x| + 0.2.
  assert np.abs(noise).max() <= 0.2 + 2 * (np.abs(x).max() + 0.2) * U
  n = noise.size
  assert abs(noise.std() - 0.2 / np.sqrt(3)) < 5 * 0.2 / np.sqrt(3) * np.sqrt(
    0.8 / (4 * n)
  )
  assert np.abs(noise[0] - noise[1]).max() > 0.1  # New noise per sample.
  # The ratio, recomputed from the recorded noise by the reference loop.
  expected, rtol = quantus_reference(
    lambda z: z[..., 0], x, noise, "avg", False, False
  )
  np.testing.assert_allclose(first, expected, rtol=rtol)
  seen.clear()
  again = robustness.avg_sensitivity(
    recorder, x, jax.random.key(2), num_samples=4
  )
  np.testing.assert_array_equal(first, again)
  seen.clear()
  robustness.local_lipschitz_estimate(
    recorder, x, jax.random.key(3), num_samples=4
  )
  gauss = np.stack(seen[1:])
  # N(0, 0.1²): sample std within 5 standard errors (0.1 / sqrt(2 n)).
  assert abs(gauss.std() - 0.1) < 5 * 0.1 / np.sqrt(2 * gauss.size)


def test_gradcam_explain_fn_end_to_end():
  # Any explanation works: GradCAM of a tiny model, targets fixed inside.
  module = models.create("resnet50", 3, tiny=True)
  x = random_images(2, 32, seed=7)
  variables = module.init(jax.random.key(0), x)
  labels = np.array([0, 2])
  seen = []

  def gradcam(images, key):
    seen.append(np.asarray(images))
    # layer3 is 2x2 at 32 px; the default layer4 (1x1) gives flat maps.
    return explain.cams(
      module,
      variables,
      images,
      methods=["gradcam"],
      targets=labels,
      layer="layer3",
    )["gradcam"]

  ours = robustness.max_sensitivity(
    gradcam, x, jax.random.key(1), num_samples=2, radius=0.05
  )
  maps = [np.asarray(gradcam(z, None), np.float64) for z in seen[:3]]
  a = maps[0].reshape(2, -1)
  expected = np.max(
    [
      np.linalg.norm(a - m.reshape(2, -1), axis=1) / np.linalg.norm(a, axis=1)
      for m in maps[1:]
    ],
    axis=0,
  )
  assert np.isfinite(expected).all() and (expected > 0).all()
  # The same float32 maps; only the norms are recomputed in float64.
  np.testing.assert_allclose(ours, expected, rtol=ratio_rtol(maps[0], maps[1:]))


def test_bad_perturbations():
  with pytest.raises(ValueError, match="perturbations must be"):
    robustness.max_sensitivity(
      linear_explain, X, jax.random.key(0), perturbations=EPS[:, 0]
    )
  with pytest.raises(ValueError, match="explain_fn returned maps"):
    robustness.max_sensitivity(
      lambda x, k: jnp.zeros((5, 1, 2)), X, jax.random.key(0), num_samples=1
    )
