# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The analytic vectors of xai_methods.md §10 (T1-T5) and closed forms."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xaijax.explain as ex
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
  np.testing.assert_allclose(maps["layercam"], maps["gradcam_elementwise"])


def test_t1_eigen_sign_rules():
  channel_sum = _layer_map("eigengradcam")
  max_abs = _layer_map("eigengradcam", sign="max_abs")
  upstream = _layer_map("eigengradcam", sign="upstream")
  numpy_lobe = np.array([[1, 0], [0.69767, 0]])
  np.testing.assert_allclose(max_abs, channel_sum, atol=1e-4)
  assert np.allclose(upstream, channel_sum, atol=1e-4) or np.allclose(
    upstream, numpy_lobe, atol=1e-4
  )
  # The rule is deterministic: negating the input leaves the map unchanged.
  np.testing.assert_allclose(
    _layer_map("eigencam", acts=-A),
    _layer_map("eigencam", acts=-A * 2),
    atol=1e-6,
  )


def test_t1_upsampled():
  raw = jnp.asarray([[[0.10, 0.35], [0.30, 0.55]]])
  got = postprocess.minmax(postprocess.layer_map(raw, (4, 4)))
  expected = [
    [0, 0.138889, 0.416667, 0.555555],
    [0.111111, 0.25, 0.527778, 0.666667],
    [0.333333, 0.472222, 0.75, 0.888889],
    [0.444444, 0.583333, 0.861111, 1],
  ]
  np.testing.assert_allclose(got[0], expected, atol=1e-5)


def test_t2_resize_kernel():
  got = postprocess.resize(jnp.asarray([[[0.0, 1.0], [0.0, 0.0]]]), (4, 4))
  expected = [
    [0, 0.25, 0.75, 1],
    [0, 0.1875, 0.5625, 0.75],
    [0, 0.0625, 0.1875, 0.25],
    [0, 0, 0, 0],
  ]
  np.testing.assert_allclose(got[0], expected, atol=1e-7)


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
  np.testing.assert_allclose(got, expected, atol=1e-6)


def test_t5_eigencam_rank_one():
  s = np.random.RandomState(1).rand(4, 4)
  a = np.random.RandomState(2).rand(3) + 0.5
  acts = (s[..., None] * a)[None]
  got = _layer_map("eigencam", acts=acts)
  expected = np.maximum(s - s.mean(), 0)
  expected = expected / (expected.max() + 1e-7)
  np.testing.assert_allclose(got, expected, atol=1e-5)


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
  out = ex.cams(
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
  cam = np.einsum("bhwc,bc->bhw", acts, w)
  np.testing.assert_allclose(out["gradcam"], _expected(cam), atol=1e-5)
  np.testing.assert_allclose(out["hirescam"], _expected(cam), atol=1e-5)
  np.testing.assert_allclose(
    out["layercam"],
    _expected(np.einsum("bhwc,bc->bhw", acts, np.maximum(w, 0))),
    atol=1e-5,
  )
  np.testing.assert_allclose(
    out["gradcam_elementwise"],
    _expected(np.maximum(acts * w[:, None, None], 0).sum(-1)),
    atol=1e-5,
  )
  g = w / 64
  s = acts.sum(axis=(1, 2))
  wpp = 64 * g**2 * np.maximum(g, 0) / (2 * g**2 + s * g**3 + 1e-6)
  np.testing.assert_allclose(
    out["gradcampp"],
    _expected(np.einsum("bhwc,bc->bhw", acts, wpp)),
    atol=1e-5,
  )
  wab = w * acts.mean(axis=(1, 2)) / logits[:, None]
  np.testing.assert_allclose(
    out["ablationcam"],
    _expected(np.einsum("bhwc,bc->bhw", acts, wab)),
    atol=1e-4,
  )


def test_ablation_value_rules():
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
  np.testing.assert_allclose(
    ex.scores(logits, jnp.asarray([0, 2]), "softmax"),
    jax.nn.softmax(logits)[jnp.arange(2), jnp.asarray([0, 2])],
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
