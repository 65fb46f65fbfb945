# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ViT explanations: attention methods, token CAMs, and their scoring.

References, all independent of xaijax's code:
* the wave-2 test vectors (shared/reference/wave2_methods.md §1.6) and
  attention matrices whose rollout / relevance is derived by hand;
* numpy float64 loops written here for rollout (paper and vit-explain),
  raw attention and Chefer et al., run on attention probabilities and
  gradients that torch computes for the tiny torchvision ViT (each block's
  attention re-implemented in torch so that its probabilities are kept);
* pytorch-grad-cam 1.5.7 with its documented ViT `vit_reshape_transform`
  on that torchvision model (same weights as ours).
"""

import copy
import functools

import explain_reference as ref
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from pytorch_grad_cam.utils.image import scale_cam_image
from pytorch_grad_cam.utils.reshape_transforms import vit_reshape_transform

import xaijax.evaluate as ev
import xaijax.explain as ex
from xaijax import models
from xaijax.explain import attention
from xaijax.testing import random_images, randomize_vit

torch = ref.torch
TINY = models.MODELS["vit_b_16"].tiny
SIZE = 32
GRID = SIZE // TINY["patch_size"]  # 8 x 8 patches, T = 65 tokens
CLASSES = np.array([1, 3])
NUM_CLASSES = 5


# ---------------------------------------------------------------- references


def np_rollout(attn, head_fusion="mean", ratio=0.0, compat="paper"):
  """Rollout as written in wave2 §1.2: attn (L, B, H, T, T) float64."""
  out = []
  for b in range(attn.shape[1]):
    t = attn.shape[-1]
    result = np.eye(t)
    for layer in attn[:, b]:
      fused = {"mean": np.mean, "max": np.max, "min": np.min}[head_fusion](
        layer, axis=0
      )
      flat = fused.reshape(-1).copy()
      k = int(t * t * ratio)
      lowest = np.argsort(flat, kind="stable")[:k]
      flat[lowest[lowest != 0]] = 0.0
      fused = flat.reshape(t, t)
      if compat == "paper":
        a = fused + np.eye(t)
        a = a / a.sum(axis=1, keepdims=True)
      else:  # vit-explain: element (i, j) divided by the sum of row j
        a = (fused + np.eye(t)) / 2
        a = a / a.sum(axis=1)[None, :]
      result = a @ result
    out.append(result[0, 1:])
  return np.array(out)


def np_chefer(attn, grads):
  """Chefer et al. 2021 rules 5-6 as wave2 §1.4, float64."""
  out = []
  for b in range(attn.shape[1]):
    relevance = np.eye(attn.shape[-1])
    for a, g in zip(attn[:, b], grads[:, b], strict=True):
      cam = np.maximum(g * a, 0).mean(axis=0)
      relevance = relevance + cam @ relevance
    out.append(relevance[0, 1:])
  return np.array(out)


def wave2_vectors():
  """(attn, grads) of wave2 §1.6: L=2, H=2, T=5, batch of 1."""
  layer, h, i, j = np.meshgrid(*map(np.arange, (2, 2, 5, 5)), indexing="ij")
  logits = 2 * np.sin(1.0 + 0.7 * layer + 1.3 * h + 0.5 * i + 0.9 * j)
  attn = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  grads = np.cos(0.3 + 0.4 * layer + 1.1 * h + 0.6 * i + 0.8 * j)
  return attn[:, None], grads[:, None]


def upstream_pipeline(raw_grid):
  """pytorch-grad-cam's post-processing of one layer's (B, g, g) map."""
  layer = scale_cam_image(np.maximum(raw_grid, 0), (SIZE, SIZE))
  return scale_cam_image(np.maximum(layer, 0))


# --------------------------------------------------------- pure functions


# Expected values: wave2 §1.6 (6 significant digits, so atol 1e-5).
WAVE2 = [
  ("raw", {}, [0.16086, 0.04016, 0.04932, 0.24699]),
  ("rollout", {}, [0.16614, 0.04687, 0.03699, 0.12703]),
  ("rollout/max", {"head_fusion": "max"}, [1, 0.26977, 0.25758, 0.92579]),
  ("rollout/max", {"compat": "vit_explain"}, [1, 0.28209, 0.22263, 0.76457]),
  (
    "rollout/max",
    {"compat": "vit_explain", "head_fusion": "max"},
    [1, 0.24223, 0.24444, 0.95516],
  ),
  (
    "rollout/max",
    {"compat": "vit_explain", "discard_ratio": 0.5},
    [1, 0, 0.07719, 0.61044],
  ),
  (
    "rollout/max",
    {"compat": "vit_explain", "head_fusion": "min", "discard_ratio": 0.5},
    [1, 0.19394, 0, 0],
  ),
  ("chefer", {}, [0.13975, 0.00123, 0.01143, 0.09873]),
]


@pytest.mark.parametrize("kind,kwargs,expected", WAVE2)
def test_wave2_vectors(kind, kwargs, expected):
  attn, grads = (jnp.asarray(x, jnp.float32) for x in wave2_vectors())
  if kind == "raw":
    got = attention.cls_attention(attn[-1])
  elif kind == "chefer":
    got = attention.chefer(attn, grads)
  else:
    got = attention.rollout(attn, **kwargs)
    got = got / got.max() if kind == "rollout/max" else got
  np.testing.assert_allclose(np.asarray(got)[0], expected, atol=1e-5)


def test_wave2_discard_everything_but_the_class_token():
  """ratio 0.9 (k = 22 of 25) empties the class row: vit-explain's 0/0."""
  attn, _ = wave2_vectors()
  got = attention.rollout(
    jnp.asarray(attn, jnp.float32), discard_ratio=0.9, compat="vit_explain"
  )
  np.testing.assert_array_equal(np.asarray(got), 0.0)


def test_chefer_min_max_vector():
  attn, grads = (jnp.asarray(x, jnp.float32) for x in wave2_vectors())
  got = np.asarray(attention.chefer(attn, grads))[0]
  got = (got - got.min()) / (got.max() - got.min())
  np.testing.assert_allclose(got, [1, 0, 0.07361, 0.70383], atol=1e-5)


def one_hot_attention(targets, tokens=5):
  """(L, 1, 1, T, T): in layer l every query attends only to targets[l]."""
  attn = np.zeros((len(targets), 1, 1, tokens, tokens), np.float32)
  for layer, target in enumerate(targets):
    attn[layer, ..., target] = 1.0
  return jnp.asarray(attn)


def test_rollout_by_hand():
  # Identity attention: each token keeps to itself, the class token sees
  # no patch.
  eye = jnp.broadcast_to(jnp.eye(5), (3, 1, 2, 5, 5))
  np.testing.assert_array_equal(np.asarray(attention.rollout(eye)), 0.0)
  # Uniform attention J/T over L layers: (0.5 J/T + 0.5 I)^L has row sums 1
  # and diagonal part 0.5^L, so every patch gets (1 - 0.5^L) / T.
  for layers in (1, 2, 5):
    uniform = jnp.full((layers, 1, 2, 5, 5), 1 / 5)
    np.testing.assert_allclose(
      np.asarray(attention.rollout(uniform)),
      np.full((1, 4), (1 - 0.5**layers) / 5),
      rtol=1e-6,
    )
  # One layer attending to patch token 3: A_hat = 0.5 (1 e_3^T) + 0.5 I.
  got = attention.rollout(one_hot_attention([3]))
  np.testing.assert_allclose(np.asarray(got), [[0, 0, 0.5, 0]])
  # Then a layer attending to token 2: row 0 of A2_hat A1_hat is
  # 0.5 A1_hat[2] + 0.5 A1_hat[0] = 0.25 (e_3 + e_2) + 0.25 (e_3 + e_0).
  got = attention.rollout(one_hot_attention([3, 2]))
  np.testing.assert_allclose(np.asarray(got), [[0, 0.25, 0.5, 0]])


def test_chefer_by_hand():
  attn = one_hot_attention([3])
  # Positive gradients: R = I + A, whose class row over the patches is e_3.
  got = attention.chefer(attn, jnp.ones_like(attn))
  np.testing.assert_allclose(np.asarray(got), [[0, 0, 1, 0]])
  # Negative gradients are clamped per head: R stays I.
  got = attention.chefer(attn, -jnp.ones_like(attn))
  np.testing.assert_array_equal(np.asarray(got), 0.0)
  # Two layers (3, then 2), unit gradients: R = (I + A2)(I + A1) and its
  # class row is e_0 + e_3 + e_2 + A1[2] = e_0 + 2 e_3 + e_2.
  attn = one_hot_attention([3, 2])
  got = attention.chefer(attn, jnp.ones_like(attn))
  np.testing.assert_allclose(np.asarray(got), [[0, 1, 2, 0]])


def test_head_fusion_and_per_head_raw_attention():
  attn, _ = wave2_vectors()
  last = jnp.asarray(attn[-1], jnp.float32)
  per_head = np.asarray(attention.cls_attention(last, None))
  np.testing.assert_allclose(per_head, attn[-1][:, :, 0, 1:], rtol=1e-6)
  for fusion in attention.HEAD_FUSIONS:
    np.testing.assert_allclose(
      np.asarray(attention.cls_attention(last, fusion)),
      getattr(np, fusion)(attn[-1][:, :, 0, 1:], axis=1),
      rtol=1e-6,
    )
  with pytest.raises(ValueError, match="head_fusion"):
    attention.cls_attention(last, "median")


def test_patch_grid_is_row_major():
  scores = jnp.arange(2 * 6, dtype=jnp.float32).reshape(1, 12)
  grid = attention.patch_grid(scores, (32, 96))
  assert grid.shape == (1, 2, 6)
  np.testing.assert_array_equal(grid[0, 1], np.arange(6, 12))


# ------------------------------------------------------- on the tiny ViT


class TorchAttention(torch.nn.Module):
  """torch's MultiheadAttention forward on (x, x, x), keeping the
  post-softmax probabilities (B, heads, T, T) with their gradient."""

  def __init__(self, mha):
    super().__init__()
    self.mha = mha
    self.probs = None

  def forward(self, query, key, value, need_weights=False):
    batch, tokens, dim = query.shape
    heads = self.mha.num_heads
    qkv = torch.nn.functional.linear(
      query, self.mha.in_proj_weight, self.mha.in_proj_bias
    )
    q, k, v = (
      t.reshape(batch, tokens, heads, dim // heads).transpose(1, 2)
      for t in qkv.chunk(3, dim=-1)
    )
    probs = torch.softmax(q @ k.transpose(-2, -1) / (dim // heads) ** 0.5, -1)
    probs.retain_grad()
    self.probs = probs
    out = (probs @ v).transpose(1, 2).reshape(batch, tokens, dim)
    return self.mha.out_proj(out), None


@pytest.fixture(scope="module")
def vit():
  torch.manual_seed(0)
  torch_model = randomize_vit(
    ref.tv.models.VisionTransformer(
      image_size=SIZE, num_layers=12, num_classes=NUM_CLASSES, **TINY
    )
  )
  module = models.create("vit_b_16", NUM_CLASSES, tiny=True)
  variables = models.from_torchvision(
    "vit_b_16", torch_model.state_dict(), tiny=True
  )
  images = random_images(2, SIZE, seed=11)
  return torch_model, module, variables, images


@pytest.fixture(scope="module")
def torch_attention(vit):
  """Torch's attention (L, B, H, T, T) and d(target logit sum)/d(attention),
  float64 numpy, from a copy of the model with probing attention."""
  torch_model, _, _, images = vit
  probed = copy.deepcopy(torch_model)
  probes = []
  for block in probed.encoder.layers:
    block.self_attention = TorchAttention(block.self_attention)
    probes.append(block.self_attention)
  x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
  logits = probed(x)
  with torch.no_grad():  # The probe is torch's MultiheadAttention itself.
    np.testing.assert_allclose(
      logits.numpy(), torch_model(x).numpy(), rtol=1e-5, atol=1e-6
    )
  logits[np.arange(2), CLASSES].sum().backward()
  attn = np.stack([p.probs.detach().double().numpy() for p in probes])
  grads = np.stack([p.probs.grad.double().numpy() for p in probes])
  return attn, grads


def test_captured_attention_and_gradients_match_torch(vit, torch_attention):
  _, module, variables, images = vit
  attn, grads = torch_attention
  layers = attention.attention_layers(module, images.shape)
  assert len(layers) == 12 and layers[-1].startswith("encoder.layers.encoder_")
  cap = jax.jit(lambda v, x: ex.capture(module, v, x, layers, CLASSES))(
    variables, images
  )
  ours = np.stack([cap.acts[n] for n in layers])
  ours_grads = np.stack([cap.grads[n] for n in layers])
  # Probabilities <= 1 after 12 float32 blocks: 1e-5 absolute (~170 ulps
  # of 1) covers both programs' rounding; gradients as the logit contract,
  # relative to their largest entry.
  np.testing.assert_allclose(ours, attn, atol=1e-5)
  scale = np.abs(grads).max()
  np.testing.assert_allclose(ours_grads / scale, grads / scale, atol=1e-4)


@pytest.mark.parametrize(
  "kwargs",
  [
    {},
    {"head_fusion": "max", "discard_ratio": 0.9},
    {"compat": "vit_explain", "head_fusion": "min", "discard_ratio": 0.5},
  ],
)
def test_rollout_matches_numpy_loop(torch_attention, kwargs):
  attn, _ = torch_attention
  got = attention.rollout(jnp.asarray(attn, jnp.float32), **kwargs)
  np_kwargs = {
    "head_fusion": kwargs.get("head_fusion", "mean"),
    "ratio": kwargs.get("discard_ratio", 0.0),
    "compat": kwargs.get("compat", "paper"),
  }
  expected = np_rollout(attn, **np_kwargs)
  # Row-stochastic factors: each of the 12 float32 products adds at most
  # T * 2^-24 ~ 4e-6 of the (<= 1) entries; the ranking of the discard is
  # the same unless two entries tie within that (none here, checked).
  assert np.abs(expected).max() > 0
  np.testing.assert_allclose(np.asarray(got), expected, atol=12 * 4e-6)


def test_chefer_matches_numpy_loop(torch_attention):
  attn, grads = torch_attention
  got = np.asarray(
    attention.chefer(
      jnp.asarray(attn, jnp.float32), jnp.asarray(grads, jnp.float32)
    )
  )
  expected = np_chefer(attn, grads)
  # R grows as prod_l (I + cam_l): relative to its largest entry, 12 float32
  # products of T terms each add ~T * 2^-24 ~ 4e-6.
  scale = np.abs(expected).max()
  assert scale > 0
  np.testing.assert_allclose(got / scale, expected / scale, atol=12 * 4e-6)


def test_cams_attention_methods_match_the_references(vit, torch_attention):
  """`cams` end to end: our model's own attention and gradients, the shared
  post-processing; against the numpy loops on torch's attention put
  through pytorch-grad-cam's post-processing."""
  _, module, variables, images = vit
  attn, grads = torch_attention
  raw = {
    "attention_last": attn[-1].mean(axis=1)[:, 0, 1:],
    "attention_rollout": np_rollout(attn),
    "chefer": np_chefer(attn, grads),
  }
  ours = ex.cams(
    module,
    variables,
    images,
    methods=tuple(raw),
    targets=CLASSES,
  )
  for name, scores in raw.items():
    expected = upstream_pipeline(scores.reshape(2, GRID, GRID))
    got = np.asarray(ours[name])
    assert got.shape == (2, SIZE, SIZE)
    assert got.min() >= 0 and got.max() <= 1
    # Maps in [0, 1]; the CAM parity bound of docs/explain.md.
    np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=name)


def test_cams_options_reach_the_attention_methods(vit, torch_attention):
  _, module, variables, images = vit
  attn, _ = torch_attention

  def maps(**options):
    return ex.cams(
      module,
      variables,
      images,
      methods=("attention_rollout", "attention_last"),
      **options,
    )

  ours = maps(head_fusion="max")
  expected = {
    "attention_rollout": np_rollout(attn, "max"),
    "attention_last": attn[-1].max(axis=1)[:, 0, 1:],
  }
  for name, scores in expected.items():
    np.testing.assert_allclose(
      np.asarray(ours[name]),
      upstream_pipeline(scores.reshape(2, GRID, GRID)),
      atol=1e-4,
      err_msg=name,
    )
  # Discarding is discontinuous (float32 rounding may swap the entries at
  # its threshold between two programs), so it is compared with the numpy
  # loop on identical inputs above; here only that the option is applied.
  discarded = maps(head_fusion="max", discard_ratio=0.5)
  change = np.abs(discarded["attention_rollout"] - ours["attention_rollout"])
  assert change.max() > 0.05, change.max()


TOKEN_CAMS = [
  "gradcam",
  "gradcampp",
  "xgradcam",
  "eigengradcam",
  "layercam",
  "hirescam",
  "gradcam_elementwise",
  "eigencam",
  "scorecam",
]


def test_token_cams_match_pytorch_grad_cam(vit, monkeypatch):
  """The default layer (the last block's ln_1) with upstream's documented
  ViT reshape_transform, height = width = 8 at 32 px."""
  torch_model, module, variables, images = vit
  ref.patch_sign_rule(monkeypatch)
  layer = models.default_layer("vit_b_16")
  assert layer == "encoder.layers.encoder_layer_11.ln_1"
  ours = ex.cams(module, variables, images, methods=TOKEN_CAMS, targets=CLASSES)
  tensor = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
  targets = [ref.ClassifierOutputTarget(int(c)) for c in CLASSES]
  reshape = functools.partial(vit_reshape_transform, height=GRID, width=GRID)
  informative = []
  for method in TOKEN_CAMS:
    with ref.UPSTREAM[method](
      model=torch_model,
      target_layers=[torch_model.encoder.layers[-1].ln_1],
      reshape_transform=reshape,
    ) as cam:
      upstream = cam(input_tensor=tensor, targets=targets)
    got = np.asarray(ours[method])
    assert got.shape == upstream.shape == (2, SIZE, SIZE)
    np.testing.assert_allclose(got, upstream, atol=1e-4, err_msg=method)
    informative.append(upstream.reshape(2, -1).max(axis=1) > 0.5)
  assert np.mean(informative) >= 0.5, informative


def test_token_layers_are_patch_maps(vit):
  _, module, variables, images = vit
  layer = models.default_layer("vit_b_16")
  _, raw = models.forward(module, variables, images, capture=[layer])
  cap = ex.capture(module, variables, images, [layer])
  tokens = np.asarray(raw[layer])
  assert tokens.shape == (2, 1 + GRID * GRID, TINY["hidden_dim"])
  grid = np.asarray(cap.acts[layer])
  assert grid.shape == (2, GRID, GRID, TINY["hidden_dim"])
  # Patch token 1 + r * 8 + c sits at row r, column c.
  np.testing.assert_array_equal(grid[:, 2, 5], tokens[:, 1 + 2 * GRID + 5])


def test_errors_name_the_fix(vit):
  _, module, variables, images = vit
  cnn = models.create("resnet50", 3, tiny=True)
  # Raised before the variables are read.
  with pytest.raises(ValueError, match="no attention layers"):
    ex.cams(cnn, {}, images, methods="attention_rollout")
  with pytest.raises(ValueError, match="scorecam"):
    ex.cams(module, variables, images, methods="ablationcam")
  with pytest.raises(ValueError, match="head_fusion"):
    ex.cams(module, variables, images, methods="chefer", head_fusion="avg")


# ----------------------------------------------------------- scoring


def test_scorers_take_attention_maps(vit):
  _, module, variables, images = vit
  methods = ("attention_last", "attention_rollout", "chefer", "gradcam")
  maps = ex.cams(module, variables, images, methods=methods)
  scores = ev.confidence_scores(module, variables, images, maps)
  assert set(scores) == set(methods)
  for per_method in scores.values():
    assert per_method["delta"].shape == (2,)
    assert np.isfinite(per_method["delta"]).all()
  masks = np.zeros((2, SIZE, SIZE), np.float32)
  masks[:, 8:24, 8:24] = 1.0
  for name in methods:
    local = ev.localization_scores(maps[name], masks)
    assert set(local) == {"pointing", "energy", "iou"}
    assert all(v.shape == (2,) for v in local.values())
    assert np.all((local["energy"] >= 0) & (local["energy"] <= 1))


def test_cascading_randomization_of_the_vit(vit):
  _, module, variables, images = vit

  def explain(v):
    return ex.cams(
      module, v, images, methods="chefer", targets=CLASSES, check_finite=False
    )["chefer"]

  key = jax.random.key(3)
  steps = ev.cascading_randomization(module, variables, images, explain, key)
  # The default order: the called top-level modules from the output; the
  # class token, a bare parameter, is not among them.
  assert [name for name, _ in steps] == ["heads", "encoder", "conv_proj"]
  # torchvision initialises the head to zero: once it is "randomised" every
  # logit is 0, every gradient too, every map constant: no ranking (NaN).
  assert np.isnan(steps[0][1]).all()
  steps = ev.cascading_randomization(
    module,
    variables,
    images,
    explain,
    key,
    layers=["encoder", "class_token", "conv_proj"],
  )
  assert [name for name, _ in steps] == ["encoder", "class_token", "conv_proj"]
  encoder = dict(steps)["encoder"]
  # Two unrelated maps of 64 patches: |Spearman| > 0.9 by chance is a
  # ~1e-20 event; a map that ignored the encoder's weights would stay at 1.
  assert np.isfinite(encoder).all() and np.all(np.abs(encoder) < 0.9), encoder
