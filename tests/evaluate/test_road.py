# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ROAD pixel selection (§10 T7), the imputer (T8) and seeded noise."""

import jax
import numpy as np
import pytest

from xaijax import evaluate


def _removed(cam, p, order):
  return int((~evaluate.keep_mask(cam, p, order)).sum())


def test_t7_ramp_removes_exact_counts():
  ramp = np.arange(100, dtype=np.float32).reshape(10, 10) / 99
  assert _removed(ramp, 80, "morf") == 20
  top = ~evaluate.keep_mask(ramp, 80, "morf")
  assert ramp[top].min() > ramp[~top].max()
  assert _removed(ramp, 20, "lerf") == 80


def test_t7_ties_follow_upstream():
  values = np.concatenate([np.zeros(60), np.linspace(0.1, 1, 40)])
  cam = np.random.default_rng(0).permutation(values).astype(np.float32)
  cam = cam.reshape(10, 10)
  morf = {10: 100, 50: 100, 60: 40, 80: 20, 90: 10}
  lerf = {10: 90, 20: 80, 50: 60, 70: 60}
  assert {p: _removed(cam, p, "morf") for p in morf} == morf
  assert {p: _removed(cam, p, "lerf") for p in lerf} == lerf


def _linear_image(h, w):
  i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
  base = 0.3 * i - 0.2 * j + 1.0
  return np.stack([base, 2 * base, -base], -1).astype(np.float32)


def test_t8_imputer():
  image = _linear_image(12, 12)
  interior = np.ones((12, 12), bool)
  interior[3:8, 4:9] = False
  # A linear image solves the imputation system exactly, but its float32
  # known pixels are off a plane by half an ulp; the imputed values are
  # weighted means of them (maximum principle), so off by at most that, the
  # float64 solve adds ~1e-16 and the rounding to float32 half an ulp: one
  # ulp of the largest value in all.
  np.testing.assert_allclose(
    evaluate.linear_impute(image, interior),
    image,
    rtol=0,
    atol=np.finfo(np.float32).eps * np.abs(image).max(),
  )
  border = np.ones((12, 12), bool)
  border[:4, :4] = False
  error = np.abs(evaluate.linear_impute(image, border) - image).max()
  assert error > 0.1  # A hole touching the border is not linear any more.
  # No known pixel: the (singular, homogeneous) system gives zeros.
  empty = evaluate.linear_impute(image, np.zeros((12, 12), bool))
  np.testing.assert_array_equal(empty, 0)


def test_noise_is_seeded_and_only_on_removed_pixels():
  rng = np.random.default_rng(0)
  images = rng.standard_normal((2, 8, 8, 3)).astype(np.float32)
  maps = rng.uniform(size=(2, 8, 8)).astype(np.float32)
  key = jax.random.key(3)

  def run(k):
    return evaluate.road.perturb(images, maps, (50,), "morf", noise=0.5, key=k)

  (a, keep), (b, _) = run(key), run(key)
  np.testing.assert_array_equal(a, b)
  c, _ = run(jax.random.key(4))
  kept = np.broadcast_to(keep[..., None], a.shape)
  np.testing.assert_array_equal(np.asarray(a)[kept], np.asarray(c)[kept])
  # Other noise (s.d. 0.5) on the removed pixels: far beyond rounding.
  assert not np.allclose(np.asarray(a)[~kept], np.asarray(c)[~kept])
  with pytest.raises(ValueError, match="explicit PRNG key"):
    run(None)
