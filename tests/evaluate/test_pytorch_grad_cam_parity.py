# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Parity with pytorch-grad-cam's metrics on the same weights and maps.

A torchvision ResNet50 with random weights (randomised BatchNorm statistics)
and its Flax port score the same CAM-like maps: CamMultImageConfidenceChange,
IncreaseInConfidence, DropInConfidence and ROAD (MoRF, LeRF, Combined; the
imputer at noise 0) must agree to 1e-4. Every forward runs at batch B so the
Flax ResNet compiles once.
"""

import numpy as np
import pytest
from scoring_reference import make_pair, to_torch

from xaijax import evaluate

PERCENTILES = (20, 50, 80)  # p=20 hits the tie case: the map's zeros.


@pytest.fixture(scope="module")
def pair(torchvision):
  return make_pair(torchvision)


def _softmax_targets(classes):
  from pytorch_grad_cam.utils.model_targets import (
    ClassifierOutputSoftmaxTarget,
  )

  return [ClassifierOutputSoftmaxTarget(int(c)) for c in classes]


def test_confidence_family(pair):
  from pytorch_grad_cam.metrics.cam_mult_image import (
    CamMultImageConfidenceChange,
    DropInConfidence,
    IncreaseInConfidence,
  )

  net, module, variables, images, maps = pair
  b = len(images)
  ours = evaluate.confidence_scores(
    module, variables, images, {"cam": maps, "inverse": 1 - maps},
    batch_size=b,
  )  # fmt: skip
  classes = ours["cam"]["target"].astype(int)
  # Upstream scores a list of images; both maps go in one batch.
  x = to_torch(np.concatenate([images, images]))
  cams = np.concatenate([maps, 1 - maps])
  targets = _softmax_targets(np.concatenate([classes, classes]))
  for metric, key in (
    (CamMultImageConfidenceChange, "delta"),
    (IncreaseInConfidence, "increase"),
    (DropInConfidence, "drop"),
  ):
    expected = metric()(x, cams, targets, net)
    got = np.concatenate([ours["cam"][key], ours["inverse"][key]])
    np.testing.assert_allclose(got, expected, atol=1e-4, err_msg=key)
  given = np.array([3, 0, 7])
  single = evaluate.confidence_change(module, variables, images, maps, given)
  expected = CamMultImageConfidenceChange()(
    to_torch(images), maps, _softmax_targets(given), net
  )
  np.testing.assert_allclose(single, expected, atol=1e-4)


def test_road(pair, monkeypatch):
  from pytorch_grad_cam.metrics import road

  class Noiseless(road.NoisyLinearImputer):
    def __init__(self):
      super().__init__(noise=0.0)

  # The ROAD metrics build their imputer with the default noise 0.01.
  monkeypatch.setattr(road, "NoisyLinearImputer", Noiseless)
  net, module, variables, images, maps = pair
  ours = evaluate.road_scores(
    module, variables, images, {"cam": maps}, percentiles=PERCENTILES,
    noise=0.0, batch_size=len(images),
  )["cam"]  # fmt: skip
  classes = evaluate.confidence_scores(
    module, variables, images, {"cam": maps}
  )["cam"]["target"]
  targets = _softmax_targets(classes)
  x = to_torch(images)
  for i, p in enumerate(PERCENTILES):
    morf = road.ROADMostRelevantFirst(p)(x, maps, targets, net)
    lerf = road.ROADLeastRelevantFirst(p)(x, maps, targets, net)
    np.testing.assert_allclose(ours["morf"][:, i], morf, atol=1e-4)
    np.testing.assert_allclose(ours["lerf"][:, i], lerf, atol=1e-4)
  combined = road.ROADCombined(list(PERCENTILES))(x, maps, targets, net)
  np.testing.assert_allclose(ours["combined"], combined, atol=1e-4)


def test_imputer_equals_upstream():
  import torch
  from pytorch_grad_cam.metrics.road import NoisyLinearImputer

  rng = np.random.default_rng(0)
  image = rng.standard_normal((9, 7, 3)).astype(np.float32)
  keep = rng.uniform(size=(9, 7)) > 0.6
  expected = NoisyLinearImputer(noise=0.0)(
    torch.from_numpy(image.transpose(2, 0, 1).copy()),
    torch.from_numpy(keep.astype(np.float32)),
  )
  got = evaluate.linear_impute(image, keep)
  np.testing.assert_allclose(
    got, expected.numpy().transpose(1, 2, 0), atol=1e-5
  )
