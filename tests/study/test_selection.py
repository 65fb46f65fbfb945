# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Target policies and image selections on a hand-made run."""

import numpy as np
import pytest

from xaijax.study import selection
from xaijax.study.config import ConfigError

NAMES = ("glioma", "meningioma", "notumor")
# Eight test images: labels and a run's predictions (4 right, 4 wrong).
LABELS = np.array([0, 0, 0, 1, 1, 2, 2, 2])
PREDICTED = np.array([0, 1, 0, 1, 2, 2, 0, 1])


def test_target_policies():
  np.testing.assert_array_equal(
    selection.targets("predicted", LABELS, PREDICTED, NAMES), PREDICTED
  )
  np.testing.assert_array_equal(
    selection.targets("true", LABELS, PREDICTED, NAMES), LABELS
  )
  np.testing.assert_array_equal(
    selection.targets("class=notumor", LABELS, PREDICTED, NAMES), [2] * 8
  )


@pytest.mark.parametrize(
  ("name", "expected"),
  [
    ("all", [0, 1, 2, 3, 4, 5, 6, 7]),
    ("correct", [0, 2, 3, 5]),
    ("incorrect", [1, 4, 6, 7]),
    ("class=meningioma", [3, 4]),
  ],
)
def test_selections(name, expected):
  chosen = selection.select(
    name, LABELS, PREDICTED, NAMES, max_images=3, seed=0
  )
  np.testing.assert_array_equal(chosen, expected)


def test_balanced_takes_classes_in_turn_and_is_seeded():
  chosen = selection.select(
    "balanced", LABELS, PREDICTED, NAMES, max_images=6, seed=1
  )
  # Classes in turn: one of each class, then the next round.
  np.testing.assert_array_equal(LABELS[chosen], [0, 1, 2, 0, 1, 2])
  assert len(set(chosen.tolist())) == 6
  again = selection.select(
    "balanced", LABELS, PREDICTED, NAMES, max_images=6, seed=1
  )
  np.testing.assert_array_equal(chosen, again)
  other = [
    selection.select("balanced", LABELS, PREDICTED, NAMES, max_images=6,
                     seed=s).tolist()
    for s in range(2, 8)
  ]  # fmt: skip
  assert any(o != chosen.tolist() for o in other)
  # More images asked than the split has: every image, once.
  every = selection.balanced(LABELS, 20, seed=0)
  assert sorted(every.tolist()) == list(range(8))


@pytest.mark.parametrize(
  ("call", "message"),
  [
    (lambda: selection.targets("class=glioma2", LABELS, PREDICTED, NAMES),
     "does not have; its classes: glioma, meningioma, notumor"),
    (lambda: selection.targets("predictd", LABELS, PREDICTED, NAMES),
     "Unknown target policy 'predictd'"),
    (lambda: selection.select("corect", LABELS, PREDICTED, NAMES,
                              max_images=2, seed=0),
     "Unknown selection 'corect'"),
  ],
)  # fmt: skip
def test_bad_names(call, message):
  with pytest.raises(ConfigError, match=message):
    call()


def test_description_names_images_and_explained_class():
  text = selection.describe("correct", "true", 64, 0)
  assert "correctly classified" in text and "true class" in text
  text = selection.describe("class=glioma", "class=notumor", 64, 0)
  assert "true class glioma" in text and "class notumor" in text
