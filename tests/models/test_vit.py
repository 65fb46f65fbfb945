# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""ViT-B/16 reproduces torchvision's VisionTransformer on the same weights.

torchvision's own class is built at the tiny variant's configuration (the
same keyword names: 4-pixel patches, 2 heads, D = 32, 12 blocks; 32 px),
given non-trivial heads, biases, LayerNorms and class token
(`randomize_vit`), and ported with `from_torchvision`. The full vit_b_16 at
224 px is the slow test.

Tolerance: the contract of every port is a relative error < 1e-4 of the
logits in float32 (docs/models.md). Beyond it, the port must be as accurate
as torchvision itself: against a float64 run of the torch model, our float32
error may be at most 10x torchvision's float32 error (two float32 programs of
the same function differ in summation order only; an error of one ported
tensor would be orders of magnitude larger).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from xaijax import models
from xaijax.models import vit
from xaijax.testing import random_images, randomize_vit

NUM_CLASSES = 5
TINY = models.MODELS["vit_b_16"].tiny
BLOCK = "encoder.layers.encoder_layer_{}"
LAYERS = (
  "conv_proj",
  BLOCK.format(0),
  BLOCK.format(5) + ".mlp.1",
  BLOCK.format(11) + ".ln_1",
  BLOCK.format(11) + ".self_attention",
  "encoder.ln",
)


def relative_error(actual, expected) -> float:
  return float(np.abs(actual - expected).max() / np.abs(expected).max())


def torch_vit(torchvision, image_size, num_classes=NUM_CLASSES, seed=0, **kw):
  import torch

  torch.manual_seed(seed)
  model = torchvision.models.VisionTransformer(
    image_size=image_size, num_layers=12, num_classes=num_classes, **kw
  )
  return randomize_vit(model, seed)


@pytest.fixture(scope="module")
def tiny(torchvision):
  torch_model = torch_vit(torchvision, 32, **TINY)
  module = models.create("vit_b_16", NUM_CLASSES, tiny=True)
  variables = models.from_torchvision(
    "vit_b_16", torch_model.state_dict(), tiny=True
  )
  return torch_model, module, variables


def torch_run(torch_model, images, layer_names=(), dtype=None):
  """Logits and hooked outputs (NHWC for conv_proj) of the torch model."""
  import torch

  captured, handles = {}, []
  for name in layer_names:

    def hook(module, args, output, name=name):
      if isinstance(module, torch.nn.MultiheadAttention):
        output = output[0]  # (attn_output, None) with need_weights=False
      captured[name] = output.detach().clone()

    handles.append(torch_model.get_submodule(name).register_forward_hook(hook))
  x = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
  with torch.no_grad():
    logits = torch_model(x.to(dtype) if dtype else x)
  for handle in handles:
    handle.remove()

  def layout(t):
    t = t.double().numpy()
    return t.transpose(0, 2, 3, 1) if t.ndim == 4 else t

  return layout(logits), {k: layout(v) for k, v in captured.items()}


def check_parity(torch_model, module, variables, images, layer_names=()):
  """Asserts the module docstring's two tolerances; returns the errors."""
  import copy

  import torch

  expected, acts = torch_run(torch_model, images, layer_names)
  exact, _ = torch_run(
    copy.deepcopy(torch_model).double(), images, dtype=torch.float64
  )
  run = jax.jit(lambda v, x: models.forward(module, v, x, capture=layer_names))
  logits, ours = run(variables, images)
  logits = np.asarray(logits, np.float64)
  errors = {"logits": relative_error(logits, expected)}
  assert errors["logits"] < 1e-4
  ours_vs_exact = relative_error(logits, exact)
  torch_vs_exact = relative_error(expected, exact)
  assert ours_vs_exact <= 10 * torch_vs_exact, (ours_vs_exact, torch_vs_exact)
  for name in layer_names:
    got = np.asarray(ours[name])
    assert got.shape == acts[name].shape, name
    errors[name] = relative_error(got, acts[name])
    assert errors[name] < 1e-4, (name, errors[name])
  return errors


def test_tiny_matches_torchvision(tiny):
  torch_model, module, variables = tiny
  images = random_images(2, 32, seed=1)
  check_parity(torch_model, module, variables, images, LAYERS)


def test_attention_probabilities_match_torch(tiny):
  """The `softmax` layer equals torch's per-head attention weights."""
  import torch

  torch_model, module, variables = tiny
  images = random_images(2, 32, seed=2)
  names = [BLOCK.format(i) for i in (0, 11)]
  _, normed = torch_run(torch_model, images, [n + ".ln_1" for n in names])
  _, ours = models.forward(
    module, variables, images, capture=[n + "." + vit.ATTENTION for n in names]
  )
  for name in names:
    x = torch.from_numpy(normed[name + ".ln_1"]).float()
    attention = torch_model.get_submodule(name + ".self_attention")
    with torch.no_grad():
      _, weights = attention(
        x, x, x, need_weights=True, average_attn_weights=False
      )
    got = np.asarray(ours[name + "." + vit.ATTENTION])
    assert got.shape == (2, TINY["num_heads"], 65, 65)
    # Probabilities in [0, 1] summing to 1: an absolute float32 tolerance of
    # a few hundred ulps of 1 covers the two summation orders.
    np.testing.assert_allclose(got, weights.numpy(), atol=1e-5)
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-5)


def test_reading_attention_keeps_logits(tiny):
  _, module, variables = tiny
  images = random_images(2, 32, seed=3)
  names = [BLOCK.format(i) + "." + vit.ATTENTION for i in range(12)]
  plain = module.apply(variables, images)
  tapped, acts = models.forward(module, variables, images, capture=names)
  np.testing.assert_array_equal(np.asarray(plain), np.asarray(tapped))
  assert len(acts) == 12


def test_interpolate_embeddings_matches_torchvision(torchvision):
  import torch

  rng = np.random.default_rng(0)
  for old, new in ((14, 4), (4, 6), (8, 8)):
    pos = rng.standard_normal((1, 1 + old * old, 16)).astype(np.float32)
    state = {"encoder.pos_embedding": torch.from_numpy(pos.copy())}
    expected = torchvision.models.vision_transformer.interpolate_embeddings(
      new * 16, 16, state
    )["encoder.pos_embedding"].numpy()
    got = vit.interpolate_embeddings(pos, 1 + new * new)
    assert got.shape == expected.shape == (1, 1 + new * new, 16)
    np.testing.assert_array_equal(got[:, 0], pos[:, 0])
    # torch works in float32: the source coordinate (up to 13) is rounded
    # (|dt| <= 13 * 2^-24 ~ 8e-7, and the A = -0.75 weights change by at
    # most 1.5 |dt| each, 8 taps over the two passes: ~1e-5 of the largest
    # input), then 2 x 4-term sums with sum|w| < 1.9 (~1e-6). We compute in
    # float64 and round once.
    atol = 1e-5 * np.abs(pos).max()
    np.testing.assert_allclose(got, expected, rtol=0, atol=atol)
    print(old, new, np.abs(got - expected).max() / np.abs(pos).max())


def test_port_at_another_image_size(torchvision, tiny):
  """from_torchvision(image_size=48) equals torchvision's model at 48 px
  loaded with interpolate_embeddings' state_dict."""
  torch_model, _, _ = tiny
  state = torchvision.models.vision_transformer.interpolate_embeddings(
    48, TINY["patch_size"], dict(torch_model.state_dict())
  )
  resized = torch_vit(torchvision, 48, **TINY)
  resized.load_state_dict(state)
  module = models.create("vit_b_16", NUM_CLASSES, tiny=True)
  variables = models.from_torchvision(
    "vit_b_16", torch_model.state_dict(), image_size=48, tiny=True
  )
  pos = variables["params"]["encoder"]["pos_embedding"]
  assert pos.shape == (1, 1 + 12 * 12, TINY["hidden_dim"])
  check_parity(resized.eval(), module, variables, random_images(2, 48, seed=4))


def test_new_head_is_reinitialised(tiny):
  torch_model, _, _ = tiny
  variables = models.from_torchvision(
    "vit_b_16", torch_model.state_dict(), 3, tiny=True
  )
  head = variables["params"]["heads"]["head"]
  assert head["kernel"].shape == (TINY["hidden_dim"], 3)


def test_image_size_errors(tiny):
  _, module, variables = tiny
  with pytest.raises(ValueError, match="multiples of 4"):
    module.apply(variables, jnp.zeros((1, 30, 30, 3)))
  with pytest.raises(ValueError, match="image_size="):
    module.apply(variables, jnp.zeros((1, 40, 40, 3)))


def test_full_size_parameter_count():
  module = models.create("vit_b_16", 1000)
  shapes = jax.eval_shape(
    module.init, jax.random.key(0), jnp.zeros((1, 224, 224, 3))
  )
  assert sum(x.size for x in jax.tree.leaves(shapes)) == 86_567_656


def test_trains_with_dropout():
  module = models.create("vit_b_16", 3, tiny=True, dropout=0.1)
  images = random_images(2, 32)
  params = module.init(jax.random.key(0), images)["params"]
  # torchvision's zero head would make every logit 0.
  head = {"kernel": jnp.ones((TINY["hidden_dim"], 3)), "bias": jnp.zeros(3)}
  variables = {"params": {**params, "heads": {"head": head}}}
  a, b = (
    module.apply(variables, images, train=True, rngs={"dropout": k})
    for k in jax.random.split(jax.random.key(1))
  )
  assert not np.allclose(a, b)
  np.testing.assert_array_equal(
    module.apply(variables, images), module.apply(variables, images)
  )


@pytest.mark.slow
def test_vit_b_16_matches_torchvision_at_224(torchvision):
  import torch

  torch.manual_seed(0)
  torch_model = randomize_vit(torchvision.models.vit_b_16())
  module = models.create("vit_b_16", 1000)
  variables = models.from_torchvision("vit_b_16", torch_model.state_dict())
  assert sum(p.numel() for p in torch_model.parameters()) == 86_567_656
  images = random_images(2, 224, seed=5)
  errors = check_parity(torch_model, module, variables, images, LAYERS)
  print(errors)
