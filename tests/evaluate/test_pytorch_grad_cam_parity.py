# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Parity with pytorch-grad-cam's metrics on the same weights and maps.

A torchvision ResNet50 with random weights (randomised BatchNorm statistics)
and its Flax port score the same CAM-like maps: CamMultImageConfidenceChange,
IncreaseInConfidence, DropInConfidence and ROAD (MoRF, LeRF, Combined; the
imputer at noise 0). Upstream runs in float64 (scoring_reference.py); our
float32 scores must be within their rounding bound of it (tests/rounding.py),
measured with the weights and images nudged by one ulp (the maps are exact
inputs of both sides and stay as they are: ROAD's pixel ranking is not
continuous in them). Every forward runs at batch B so the Flax ResNet
compiles once.
"""

import numpy as np
import pytest
from scoring_reference import make_pair, to_torch

from tests import rounding
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

  def run(variables, images):
    return evaluate.confidence_scores(
      module, variables, images, {"cam": maps, "inverse": 1 - maps},
      batch_size=b,
    )  # fmt: skip

  def both(scores, key):
    return np.concatenate([scores["cam"][key], scores["inverse"][key]])

  ours = run(variables, images)
  nudged = rounding.sensitivity(run, variables, images)
  classes = ours["cam"]["target"].astype(int)
  # Upstream scores a list of images; both maps go in one batch.
  x = to_torch(np.concatenate([images, images]))
  cams = np.concatenate([maps, 1 - maps])
  targets = _softmax_targets(np.concatenate([classes, classes]))
  for metric, key in (
    (CamMultImageConfidenceChange, "delta"),
    (DropInConfidence, "drop"),
  ):
    expected = metric()(x, cams, targets, net)
    rounding.assert_close(
      expected, both(ours, key), [both(n, key) for n in nudged], err_msg=key
    )
  # Increase is the indicator delta > 0: equal wherever delta is farther
  # from 0 than its rounding bound (elsewhere either side may round across).
  delta = both(ours, "delta")
  clear = np.abs(delta) > rounding.tolerance(
    delta, [both(n, "delta") for n in nudged]
  )
  assert clear.mean() >= 0.5, delta  # or the check proves little
  increase = IncreaseInConfidence()(x, cams, targets, net)
  np.testing.assert_array_equal(both(ours, "increase")[clear], increase[clear])
  given = np.array([3, 0, 7])

  def change(variables, images):
    return evaluate.confidence_change(module, variables, images, maps, given)

  expected = CamMultImageConfidenceChange()(
    to_torch(images), maps, _softmax_targets(given), net
  )
  rounding.assert_close(
    expected,
    change(variables, images),
    rounding.sensitivity(change, variables, images),
  )


def test_road(pair, monkeypatch):
  from pytorch_grad_cam.metrics import road

  class Noiseless(road.NoisyLinearImputer):
    def __init__(self):
      super().__init__(noise=0.0)

    def __call__(self, img, mask):
      # Upstream writes its float32 solution into the image in place, which
      # needs a float32 image: impute the (float32-exact) image in float32
      # and hand the float64 model the result.
      return super().__call__(img.float(), mask).to(img.dtype)

  # The ROAD metrics build their imputer with the default noise 0.01.
  monkeypatch.setattr(road, "NoisyLinearImputer", Noiseless)
  net, module, variables, images, maps = pair

  def run(variables, images):
    return evaluate.road_scores(
      module, variables, images, {"cam": maps}, percentiles=PERCENTILES,
      noise=0.0, batch_size=len(images),
    )["cam"]  # fmt: skip

  ours = run(variables, images)
  nudged = rounding.sensitivity(run, variables, images)
  classes = evaluate.confidence_scores(
    module, variables, images, {"cam": maps}
  )["cam"]["target"]
  targets = _softmax_targets(classes)
  x = to_torch(images)
  for i, p in enumerate(PERCENTILES):
    for key, metric in (
      ("morf", road.ROADMostRelevantFirst),
      ("lerf", road.ROADLeastRelevantFirst),
    ):
      rounding.assert_close(
        metric(p)(x, maps, targets, net),
        ours[key][:, i],
        [n[key][:, i] for n in nudged],
        err_msg=f"{key} {p}",
      )
  combined = road.ROADCombined(list(PERCENTILES))(x, maps, targets, net)
  rounding.assert_close(
    combined, ours["combined"], [n["combined"] for n in nudged]
  )


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
  # Both solve the same sparse system in float64 (scipy's spsolve) and round
  # the solution to float32 once: at most one float32 ulp apart (eps32 times
  # the largest value), plus the float64 solves' difference, about
  # kappa * 1.1e-16 with kappa ~ 8 for this system's 35 unknowns: negligible.
  np.testing.assert_allclose(
    got,
    expected.numpy().transpose(1, 2, 0),
    rtol=0,
    atol=rounding.EPS32 * np.abs(got).max(),
  )
