# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Which test images a study explains, and which class it explains in each.

Pure numpy over a run's test labels and predictions, so that every table can
say exactly what it shows:

* target policies: 'predicted' (pytorch-grad-cam's default: each image's
  predicted class), 'true' (its label), 'class=<name>' (one class for all);
* selections: 'all', 'balanced' (a class-balanced seeded sample, `balanced`),
  'correct' / 'incorrect' (by the run's prediction), 'class=<name>' (the
  images of one true class).
"""

from collections.abc import Sequence

import numpy as np

from xaijax.study.config import ConfigError, class_policy


def _class_index(name: str, class_names: Sequence[str], where: str) -> int:
  if name not in class_names:
    raise ConfigError(
      f"{where} names class '{name}', which this run does not have; its "
      f"classes: {', '.join(class_names)}."
    )
  return list(class_names).index(name)


def targets(
  policy: str,
  labels: np.ndarray,
  predictions: np.ndarray,
  class_names: Sequence[str],
) -> np.ndarray:
  """(N,) int32 explained class of every test image under `policy`."""
  labels = np.asarray(labels, np.int32)
  if policy == "predicted":
    return np.asarray(predictions, np.int32)
  if policy == "true":
    return labels
  name = class_policy(policy)
  if name is None:
    raise ConfigError(
      f"Unknown target policy '{policy}'; use 'predicted', 'true' or "
      "'class=<name>'."
    )
  index = _class_index(name, class_names, f"Target policy '{policy}'")
  return np.full_like(labels, index)


def balanced(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
  """(n,) indices of a class-balanced, seeded sample (fewer if too few).

  Test splits are usually stored class by class, so their first n images
  would all be of one class; this takes the classes in turn (each one's
  images in a seeded random order) until n are chosen or all run out.
  """
  rng = np.random.default_rng(seed)
  queues = [
    list(rng.permutation(np.flatnonzero(labels == c)))
    for c in np.unique(labels)
  ]
  chosen: list[int] = []
  while len(chosen) < n and any(queues):
    for queue in queues:
      if queue and len(chosen) < n:
        chosen.append(int(queue.pop(0)))
  return np.asarray(chosen, np.int64)


def select(
  selection: str,
  labels: np.ndarray,
  predictions: np.ndarray,
  class_names: Sequence[str],
  *,
  max_images: int,
  seed: int,
) -> np.ndarray:
  """Indices (into the test split) of the images `selection` takes.

  'balanced' keeps its sampling order (classes in turn); every other
  selection is in split order.
  """
  labels = np.asarray(labels)
  correct = labels == np.asarray(predictions)
  if selection == "balanced":
    return balanced(labels, max_images, seed)
  if selection == "all":
    return np.arange(len(labels))
  if selection == "correct":
    return np.flatnonzero(correct)
  if selection == "incorrect":
    return np.flatnonzero(~correct)
  name = class_policy(selection)
  if name is None:
    raise ConfigError(
      f"Unknown selection '{selection}'; use 'balanced', 'all', 'correct', "
      "'incorrect' or 'class=<name>'."
    )
  index = _class_index(name, class_names, f"Selection '{selection}'")
  return np.flatnonzero(labels == index)


def describe(selection: str, policy: str, max_images: int, seed: int) -> str:
  """One phrase for a table caption: which images, which class explained."""
  images = {
    "balanced": f"a class-balanced sample of up to {max_images} test images "
    f"(seed {seed})",
    "all": "all test images",
    "correct": "the correctly classified test images",
    "incorrect": "the misclassified test images",
  }.get(selection)
  if images is None:
    images = f"the test images of true class {class_policy(selection)}"
  explained = {
    "predicted": "each image's predicted class",
    "true": "each image's true class",
  }.get(policy, f"class {class_policy(policy)}")
  return f"{images}; maps explain {explained}"
