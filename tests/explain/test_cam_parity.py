# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Parity of every CAM method with pytorch-grad-cam 1.5.7 on the same weights.

Narrow torchvision models (random weights, randomised BatchNorm statistics)
are ported with `from_torchvision`; batch 2, 64 px, a different class per
image. Eigen methods: upstream's projection is patched to apply xaijax's
default sign rule (`channel_sum`), so the maps must match exactly; raw
upstream equals one of the two signs (`test_eigen_upstream_sign`).

By default a representative subset runs (every method at least once, all four
models); `slow` runs the full grid (4 models x 2 layers x 12 methods) and the
paper's five CAMs on each torchvision model at full width and 224 px.
pytorch-grad-cam runs in float64 (the exact maps of these float32 weights,
whatever algorithms torch picks on this CPU); our float32 maps must be within
their rounding bound of it (tests/rounding.py).
"""

import itertools

import explain_reference as ref
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import xaijax.explain as ex
import xaijax.models
from tests import rounding
from xaijax.explain import postprocess, projection, registry

CLASSES = np.array([1, 3])
KEY = jax.random.key(7)
GRADIENT_METHODS = [
  m for m in registry.ALL if m not in ("scorecam", "ablationcam")
]

LAYERS = {
  "resnet50": ("layer4.2", "layer3"),
  "densenet121": ("features.norm5", "features.transition3"),
  "vgg16": ("features.30", "features.29"),
  "efficientnet_b0": ("features.8", "features.7"),
}
FAST = {
  # AblationCAM here too: on vgg16's features.30 both its maps are all zero.
  ("resnet50", "layer4.2"): [*GRADIENT_METHODS, "ablationcam"],
  ("vgg16", "features.30"): list(registry.ALL),
  ("densenet121", "features.norm5"): list(registry.PAPER),
  ("efficientnet_b0", "features.8"): ["gradcam", "eigencam"],
}


@pytest.fixture(scope="module")
def images():
  # 96 px for VGG: at 64 px its 2x2 last map gives an all-zero GradCAM for
  # both images of this random model, which would make the check vacuous.
  def make(name):
    size = 96 if name == "vgg16" else 64
    return np.random.RandomState(0).randn(2, size, size, 3).astype(np.float32)

  return make


@pytest.fixture(scope="module")
def models():
  return {}


def _model(models, name):
  if name not in models:
    torch_model, module, variables = ref.torch_model(name)
    # The reference in float64 (see the module docstring).
    models[name] = torch_model.double(), module, variables
  return models[name]


def _check(models, images, monkeypatch, name, layer, methods):
  torch_model, module, variables = _model(models, name)
  images = images(name)
  ref.patch_sign_rule(monkeypatch)
  nonzero = []

  def run(variables, images):
    return ex.cams(
      module,
      variables,
      images,
      methods=methods,
      layer=layer,
      targets=CLASSES,
      key=KEY,
    )

  ours = run(variables, images)
  nudged = rounding.sensitivity(run, variables, images)
  for method in methods:
    if method == "randomcam":
      channels = ex.capture(module, variables, images, [layer]).acts[layer]
      weights = jax.random.uniform(
        jax.random.fold_in(KEY, 0),
        (2, channels.shape[-1]),
        jnp.float32,
        -1.0,
        1.0,
      )
      ref.patch_random(monkeypatch, np.asarray(weights))
    upstream = ref.upstream_cams(torch_model, method, layer, images, CLASSES)
    assert upstream.shape == images.shape[:3]
    # Our float32 maps against the float64 reference: equal up to our
    # rounding bound (tests/rounding.py).
    rounding.assert_close(
      upstream, ours[method], [n[method] for n in nudged], err_msg=method
    )
    nonzero.append(upstream.reshape(len(upstream), -1).max(axis=1) > 0.5)
  # Random weights can make a map all zero (every weighted sum <= 0); most
  # reference maps must be informative or the comparison proves little.
  assert np.mean(nonzero) >= 0.5, nonzero


@pytest.mark.parametrize("name,layer", list(FAST))
def test_parity_subset(models, images, monkeypatch, name, layer):
  _check(models, images, monkeypatch, name, layer, FAST[name, layer])


@pytest.mark.slow
@pytest.mark.parametrize(
  "name,layer",
  [(n, layer) for n, layers in LAYERS.items() for layer in layers],
)
def test_parity_full_grid(models, images, monkeypatch, name, layer):
  _check(models, images, monkeypatch, name, layer, list(registry.ALL))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LAYERS))
def test_paper_cams_at_full_width_and_224_px(monkeypatch, name):
  """The paper's five CAMs on torchvision's full-width model at 224 px."""
  torch_model, module, variables = ref.torch_model(name, full=True)
  images = np.random.RandomState(0).randn(2, 224, 224, 3).astype(np.float32)
  _check(
    {name: (torch_model.double(), module, variables)},
    lambda _: images,
    monkeypatch,
    name,
    xaijax.models.default_layer(name),
    list(registry.PAPER),
  )


def test_eigen_upstream_sign(models, images):
  """Unpatched upstream equals our projection under one of its two signs."""
  torch_model, module, variables = _model(models, "resnet50")
  images = images("resnet50")

  def signed_maps(variables, images):  # {method: (2 signs, B, H, W)}
    cap = ex.capture(
      module, variables, images, ["layer4.2"], jnp.asarray(CLASSES)
    )
    acts, grads = cap.acts["layer4.2"], cap.grads["layer4.2"]
    out = {}
    for method, x in (("eigencam", acts), ("eigengradcam", grads * acts)):
      raw = projection.project(x, "channel_sum")
      out[method] = np.stack(
        [
          postprocess.aggregate(
            postprocess.layer_map(sign * raw, images.shape[1:3])[None]
          )
          for sign in (1.0, -1.0)
        ]
      )
    return out

  ours = signed_maps(variables, images)
  nudged = rounding.sensitivity(signed_maps, variables, images)
  for method, signed in ours.items():
    upstream = ref.upstream_cams(
      torch_model, method, "layer4.2", images, CLASSES
    )
    for b in range(2):
      # Within the rounding bound (tests/rounding.py) of one of the signs.
      bounds = [
        rounding.tolerance(signed[s, b], [n[method][s, b] for n in nudged])
        for s in range(2)
      ]
      diffs = [np.abs(signed[s, b] - upstream[b]).max() for s in range(2)]
      assert any(d <= t for d, t in zip(diffs, bounds, strict=True)), (
        method,
        b,
        diffs,
      )


def test_aug_smooth_and_eigen_smooth(models, images, monkeypatch):
  torch_model, module, variables = _model(models, "vgg16")
  images = images("vgg16")
  ref.patch_sign_rule(monkeypatch)
  for aug, eig in itertools.product((True, False), repeat=2):
    if not (aug or eig):
      continue

    def run(variables, images, aug=aug, eig=eig):
      return ex.cams(
        module,
        variables,
        images,
        methods=["gradcam", "layercam"],
        targets=CLASSES,
        aug_smooth=aug,
        eigen_smooth=eig,
      )

    ours = run(variables, images)
    nudged = rounding.sensitivity(run, variables, images)
    for method in ("gradcam", "layercam"):
      upstream = ref.upstream_cams(
        torch_model,
        method,
        "features.30",
        images,
        CLASSES,
        aug_smooth=aug,
        eigen_smooth=eig,
      )
      # Our float32 rounding bound (tests/rounding.py; float64 reference).
      rounding.assert_close(
        upstream,
        ours[method],
        [n[method] for n in nudged],
        err_msg=f"{method} aug={aug} eigen={eig}",
      )


def test_multi_layer_mean(models, images):
  torch_model, module, variables = _model(models, "resnet50")
  images = images("resnet50")
  layers = ["layer3", "layer4.2"]

  def run(variables, images):
    return ex.cams(
      module,
      variables,
      images,
      methods=["gradcam"],
      layer=layers,
      targets=CLASSES,
    )["gradcam"]

  tensor = ref.to_torch(images, torch_model)
  targets = [ref.ClassifierOutputTarget(int(c)) for c in CLASSES]
  with ref.pgc.GradCAM(
    torch_model, [ref.torch_layer(torch_model, name) for name in layers]
  ) as cam:
    upstream = cam(input_tensor=tensor, targets=targets)
  # Our float32 rounding bound (tests/rounding.py; float64 reference).
  rounding.assert_close(
    upstream,
    run(variables, images),
    rounding.sensitivity(run, variables, images),
  )
