# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The analytic vectors of xai_methods.md §10 (T1-T5) and closed forms."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xaijax.explain as ex
from tests import rounding
from xaijax.explain import ablationcam, postprocess, projection, registry
from xaijax.explain.base import CamInputs

# T1: B=1, C=2, h=w=2, channels last.
A = np.stack([[[1, 2], [3, 4]], [[0, 1], [0, 1]]], axis=-1)[None]
G = np.stack([np.full((2, 2), 0.1), [[-0.2, 0.3], [0, 0.5]]], axis=-1)[None]


def _layer_map(method, acts=A, grads=G, sign="channel_sum"):
  inputs = CamInputs(
    acts=jnp.asarray(acts, jnp.float32),
    grads=jnp.asarray(grads, jnp.float32),
    images=None,
    scores=None,
    score_images=None,
    score_layer=None,
    key=None,
    chunk_size=1,
    ablation_value="upstream",
  )
  spec = registry.METHODS[method]
  contributions = spec.weighting(inputs)
  if spec.projects:
    raw = projection.project(contributions, sign)
  else:
    raw = jnp.sum(contributions, axis=-1)
  return np.asarray(postprocess.minmax(jax.nn.relu(raw)))[0]


@pytest.mark.parametrize(
  "method,expected",
  [
    ("gradcam", [[0, 0.5556], [0.4444, 1]]),
    ("hirescam", [[0, 0.5], [0.25, 1]]),
    ("gradcam_elementwise", [[0, 0.5], [0.25, 1]]),
    ("layercam", [[0, 0.5], [0.25, 1]]),
    ("gradcampp", [[0, 0.609027], [0.390972, 1]]),
    ("xgradcam", [[0, 0.714286], [0.285714, 1]]),
    # The channel_sum sign picks the lobe where G*A is large.
    ("eigengradcam", [[0, 0.224317], [0, 1]]),
  ],
)
def test_t1_hand_case(method, expected):
  # The expected values are written to 4 or 6 decimals, their own rounding
  # at most 5e-5; float32 arithmetic on these eight numbers adds a few ulps
  # of 1 (1e-7): 1e-4 is the decimals' rounding with a factor 2.
  np.testing.assert_allclose(_layer_map(method), expected, atol=1e-4)


def test_t1_negative_products_separate_elementwise_methods():
  grads = G.copy()
  grads[0, 0, 1, 0] = -1.0  # G*A = -2 at (0, 1) in channel 0
  maps = {
    m: _layer_map(m, grads=grads)
    for m in ("hirescam", "gradcam_elementwise", "layercam")
  }
  assert maps["hirescam"][0, 1] == 0  # -2 + 0.3 < 0, clipped by the ReLU
  assert maps["gradcam_elementwise"][0, 1] > 0  # only ReLU(0.3) remains
  # A >= 0, so ReLU(G) A and ReLU(G A) are the same float32 product; only
  # the order of the two-channel sum may differ: one ulp (rtol 1e-7 is one
  # ulp for values in [0.5, 1), more below).
  np.testing.assert_allclose(
    maps["layercam"], maps["gradcam_elementwise"], rtol=rounding.EPS32
  )


def test_t1_eigen_sign_rules():
  channel_sum = _layer_map("eigengradcam")
  max_abs = _layer_map("eigengradcam", sign="max_abs")
  upstream = _layer_map("eigengradcam", sign="upstream")
  numpy_lobe = np.array([[1, 0], [0.69767, 0]])  # 5 decimals: 5e-6
  # The same projection, signed by two rules: the same float32 values up to
  # the sign; atol 1e-4 also covers numpy_lobe's decimals.
  np.testing.assert_allclose(max_abs, channel_sum, atol=1e-4)
  assert np.allclose(upstream, channel_sum, atol=1e-4) or np.allclose(
    upstream, numpy_lobe, atol=1e-4
  )
  # The rule is deterministic: doubling the input (exact in binary floating
  # point, and so is every step of the SVD and projection that scales with
  # it) leaves the map unchanged but for min-max's 1e-7 in the denominator:
  # a relative 1e-7 / max of the projection (max >= 1 here) and two ulps.
  one = _layer_map("eigencam", acts=-A)
  np.testing.assert_allclose(
    one, _layer_map("eigencam", acts=-A * 2), atol=1e-7 + 2 * rounding.EPS32
  )


def test_t1_upsampled():
  raw = jnp.asarray([[[0.10, 0.35], [0.30, 0.55]]])
  got = postprocess.minmax(postprocess.layer_map(raw, (4, 4)))
  expected = (
    np.array(
      [[0, 5, 15, 20], [4, 9, 19, 24], [12, 17, 27, 32], [16, 21, 31, 36]]
    )
    / 36
  )
  # Exact thirty-sixths but for float32: min-max's 1e-7 in the denominator
  # (1e-7 / 0.45 relative) and a few roundings of values <= 1 (8 ulps).
  np.testing.assert_allclose(
    got[0], expected, rtol=0, atol=1e-7 / 0.45 + 8 * rounding.EPS32
  )


def test_t2_resize_kernel():
  got = postprocess.resize(jnp.asarray([[[0.0, 1.0], [0.0, 0.0]]]), (4, 4))
  expected = [
    [0, 0.25, 0.75, 1],
    [0, 0.1875, 0.5625, 0.75],
    [0, 0.0625, 0.1875, 0.25],
    [0, 0, 0, 0],
  ]
  # Weights 1/4 and 3/4 on 0s and 1s: every product and sum is a dyadic
  # fraction, exact in float32 in any order.
  np.testing.assert_array_equal(got[0], expected)


def test_t3_constant_map_is_zero():
  got = postprocess.layer_map(jnp.full((1, 3, 3), 2.5), (6, 6))
  np.testing.assert_array_equal(got, 0.0)


def test_align_corners_matrix_matches_torch():
  from xaijax.models.torch_interop import import_torchvision

  import_torchvision()
  import torch

  x = np.random.RandomState(0).rand(1, 3, 5).astype(np.float32)
  up = torch.nn.UpsamplingBilinear2d(size=(7, 11))
  expected = up(torch.from_numpy(x)[None])[0].numpy()
  got = postprocess.upsample_align_corners(jnp.asarray(x), (7, 11))
  # Convex combinations of four values in [0, 1): torch computes the source
  # coordinates and weights in float32, we round float64 weights to float32,
  # so each weight differs by at most two ulps; with the products and sums,
  # 8 ulps of the largest value.
  np.testing.assert_allclose(
    got, expected, rtol=0, atol=8 * rounding.EPS32 * np.abs(x).max()
  )


def test_t5_eigencam_rank_one():
  s = np.random.RandomState(1).rand(4, 4)
  a = np.random.RandomState(2).rand(3) + 0.5
  acts = (s[..., None] * a)[None]
  got = _layer_map("eigencam", acts=acts)
  expected = np.maximum(s - s.mean(), 0)
  expected = expected / (expected.max() + 1e-7)
  # A float32 SVD of the 16 x 3 centred matrix is backward stable: the
  # projection is within about n eps32 (n = 48 entries) of the exact one,
  # relative to its largest value, which min-max maps to 1.
  np.testing.assert_allclose(got, expected, atol=48 * rounding.EPS32)


class ConvReLU(nn.Module):
  @nn.compact
  def __call__(self, x):
    return jax.nn.relu(nn.Conv(4, (3, 3))(x))


class GapLinear(nn.Module):
  """conv-ReLU 'features' -> global average -> dense 'fc': the CAM model."""

  @nn.compact
  def __call__(self, x, train=False):
    x = ConvReLU(name="features")(x)
    return nn.Dense(3, name="fc")(jnp.mean(x, axis=(1, 2)))


@pytest.fixture(scope="module")
def gap_model():
  module = GapLinear()
  images = jax.random.normal(jax.random.key(0), (2, 8, 8, 3))
  variables = module.init(jax.random.key(1), images)
  _, acts = ex.capture(module, variables, images, ["features"])[:4:3]
  return module, variables, images, np.asarray(acts["features"])


def _expected(raw):
  return np.asarray(
    postprocess.aggregate(
      postprocess.layer_map(jnp.asarray(raw, jnp.float32), (8, 8))[None]
    )
  )


def test_t4_gap_linear_closed_forms(gap_model):
  module, variables, images, acts = gap_model
  classes = np.array([0, 2])
  w = np.asarray(variables["params"]["fc"]["kernel"])[:, classes].T  # (B, C)
  logits = np.asarray(module.apply(variables, images))[[0, 1], classes]

  def run(variables, images):
    return ex.cams(
      module,
      variables,
      images,
      layer="features",
      targets=classes,
      methods=[
        "gradcam",
        "hirescam",
        "layercam",
        "gradcam_elementwise",
        "gradcampp",
        "ablationcam",
      ],
    )

  out = run(variables, images)
  nudged = rounding.sensitivity(run, variables, images)

  def check(method, raw):
    # The closed form in numpy and the maps from XLA: equal up to the
    # rounding bound of tests/rounding.py.
    rounding.assert_close(
      _expected(raw), out[method], [n[method] for n in nudged], method
    )

  cam = np.einsum("bhwc,bc->bhw", acts, w)
  check("gradcam", cam)
  check("hirescam", cam)
  check("layercam", np.einsum("bhwc,bc->bhw", acts, np.maximum(w, 0)))
  check("gradcam_elementwise", np.maximum(acts * w[:, None, None], 0).sum(-1))
  g = w / 64
  s = acts.sum(axis=(1, 2))
  wpp = 64 * g**2 * np.maximum(g, 0) / (2 * g**2 + s * g**3 + 1e-6)
  check("gradcampp", np.einsum("bhwc,bc->bhw", acts, wpp))
  wab = w * acts.mean(axis=(1, 2)) / logits[:, None]
  check("ablationcam", np.einsum("bhwc,bc->bhw", acts, wab))


def test_ablation_value_rules():
  # -0.5 - 2e7 rounded in float32, where one ulp is 2: rtol 1e-7 is 2 there.
  amin = jnp.asarray([0.0, -0.5])
  np.testing.assert_allclose(
    ablationcam.replacement(amin, jnp.asarray(33), "upstream"),
    [0.0, -0.5 - 2e7],
  )
  np.testing.assert_allclose(
    ablationcam.replacement(amin, jnp.asarray(33), "min"), [0.0, -0.5 - 1e7]
  )


def test_softmax_and_binary_targets():
  logits = jnp.asarray([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0]])
  # exp(log_softmax) against softmax: the log-sum-exp of 3 terms and the
  # difference are within 4 ulps of values < 4 in log space (16 eps32
  # absolute), the same relative error after exp; softmax's own division and
  # exp add 2 ulps.
  np.testing.assert_allclose(
    ex.scores(logits, jnp.asarray([0, 2]), "softmax"),
    jax.nn.softmax(logits)[jnp.arange(2), jnp.asarray([0, 2])],
    rtol=18 * rounding.EPS32,
  )
  single = jnp.asarray([[1.5], [-0.5]])
  np.testing.assert_array_equal(ex.predicted_classes(single), [1, 0])
  np.testing.assert_allclose(
    ex.scores(single, jnp.asarray([1, 1])), [1.5, -0.5]
  )
  np.testing.assert_allclose(
    ex.scores(single, jnp.asarray([0, 0]), "softmax"),
    jax.nn.sigmoid(-single[:, 0]),
  )
