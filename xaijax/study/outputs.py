# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""A run's image sets and its per-image outputs on them, cached.

Image sets (`image_set`): the names a study config uses,

* 'test', 'val': the run's own splits, labelled with its classes;
* 'external:<key>': the launch's external set `key` (`config.external`),
  without the copies of the run's training images, labelled with the
  external set's evaluation groups (`xaijax.data.external`);

and `mapped_test`: the run's test images whose class has a group of an
external set, labelled with that group (the in-distribution baseline of an
external comparison, in the same classes).

Outputs (`outputs`): per image, what a forward function returns on it
(logits (K,), or (M, K) for M augmented views, dropout passes), cached per
(run, image source, variant, image): the variant names the forward and its
settings ('clean', 'corrupt:gaussian_blur:3:0', ...). Every stored value is
a row of logits or log-probabilities, so that softmax gives the
probabilities. Missing images are computed in fixed batches with the
multi-host rules of `xaijax.study.batches`.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special
from jax.experimental import multihost_utils

import xaijax.data
from xaijax.data import corruptions
from xaijax.evaluate import _model, uncertainty
from xaijax.study.batches import (
  Batches,
  broadcast,
  image_keys,
  is_main,
  local_rows,
)
from xaijax.study.cache import fingerprint
from xaijax.study.config import EXTERNAL_PREFIX, set_key
from xaijax.study.runs import Context, RestoredRun


@dataclasses.dataclass(frozen=True)
class ImageSet:
  """Images a run is scored on.

  Attributes:
    name: 'test', 'val', 'external:<key>' or 'test→<key>' (`mapped_test`).
    source: where the images come from, the cache's key: 'test', 'val' or
      'external:<key>:<entry fingerprint>' (another folder under the same
      key is another source).
    split: the images (`xaijax.data.Split`).
    labels: (N,) true classes, indices into `class_names`.
    class_names: the run's classes, or the external set's groups.
    label_map: the `xaijax.data.LabelMap` from the run's classes to
      `class_names`, or None where they are the run's classes.
    removed: external images left out as copies, per reason ({} for the
      run's own splits).
  """

  name: str
  source: str
  split: object
  labels: np.ndarray
  class_names: tuple[str, ...]
  label_map: object = None
  removed: dict = dataclasses.field(default_factory=dict)

  @property
  def ids(self) -> list[str]:
    return list(map(str, self.split.ids))

  def probabilities(self, probs) -> np.ndarray:
    """(..., N, K_run) probabilities -> (..., N, K_set) (group sums,
    renormalised: `xaijax.data.map_probabilities`)."""
    if self.label_map is None:
      return np.asarray(probs, np.float64)
    mapped = xaijax.data.map_probabilities(probs, self.label_map)
    return np.asarray(mapped, np.float64)


def image_set(context: Context, restored: RestoredRun, name: str) -> ImageSet:
  """The image set `name` ('test', 'val' or 'external:<key>') of a run."""
  dataset = restored.dataset
  if name in ("test", "val"):
    split = dataset.splits[name]
    return ImageSet(
      name, name, split, np.asarray(split.labels), dataset.class_names
    )
  key = set_key(name)
  ext = context.external_set(restored, key)
  entry = context.external[key].to_dict()
  return ImageSet(
    name=name,
    source=f"{EXTERNAL_PREFIX}{key}:{fingerprint(entry)}",
    split=ext.test,
    labels=xaijax.data.map_labels(ext.test.labels, ext.label_map),
    class_names=ext.label_map.groups,
    label_map=ext.label_map,
    removed=ext.counts,
  )


def group_of_class(label_map) -> np.ndarray:
  """(K_run,) the group of each run class, -1 for classes mapped nowhere."""
  matrix = np.asarray(label_map.matrix)
  return np.where(matrix.any(1), matrix.argmax(1), -1)


def mapped_test(restored: RestoredRun, external: ImageSet) -> ImageSet:
  """The run's test images whose class has a group in `external`, labelled
  with that group (the in-distribution baseline in the external set's
  classes)."""
  test = restored.dataset.test
  groups = group_of_class(external.label_map)[np.asarray(test.labels)]
  keep = np.flatnonzero(groups >= 0)
  split = xaijax.data.Split(
    test.name, test.source, test.indices[keep], test.config, test.class_names
  )
  return ImageSet(
    name=f"test→{set_key(external.name)}",
    source="test",
    split=split,
    labels=groups[keep],
    class_names=external.class_names,
    label_map=external.label_map,
  )


def outputs(
  context: Context,
  restored: RestoredRun,
  images: ImageSet,
  variant: str,
  forward,
  *,
  shape: tuple[int, ...],
  batch_size: int,
) -> tuple[np.ndarray, int]:
  """Per-image outputs of `forward` on a set, from the cache or computed.

  Args:
    context: the launch's context (cache, mesh).
    restored: the run.
    images: the image set.
    variant: names `forward` and its settings (the cache key).
    forward: (images (B, H, W, C) sharded over the mesh, ids (B,) list) ->
      (B, *shape) outputs; B is `batch_size`.
    shape: the per-image output shape (the other processes' placeholder).
    batch_size: images per compiled batch (global).

  Returns:
    (N, *shape) float32 outputs in the set's order (on every process), and
    how many images this call computed.
  """
  cache, run_id = context.cache, restored.run.fingerprint
  ids = images.ids
  batches = Batches(images.split, [(i,) for i in ids], batch_size)
  computed = 0
  for batch in batches.batches:
    wanted = [cell[0] for cell in batch]
    missing = None
    if is_main():
      missing = np.array(
        bool(cache.missing_outputs(run_id, images.source, variant, wanted))
      )
    if not broadcast(missing, np.array(False)):
      continue
    x, _ = batches.arrays(batch, local_rows(batches.size))
    x = xaijax.data.to_global({"image": x}, context.mesh)["image"]
    out = forward(x, batches.ids(batch))
    out = np.asarray(multihost_utils.process_allgather(out, tiled=True))
    if is_main():
      todo = cache.missing_outputs(run_id, images.source, variant, wanted)
      rows = [k for k, image in enumerate(wanted) if image in todo]
      cache.put_outputs(
        run_id, images.source, variant, [wanted[k] for k in rows], out[rows]
      )
      computed += len(rows)
  values = None
  if is_main():
    values = cache.get_outputs(run_id, images.source, variant, ids)
  values = broadcast(values, np.zeros((len(ids), *shape), np.float32))
  return np.asarray(values, np.float32), computed


def probabilities(logits) -> np.ndarray:
  """float64 softmax of stored logits or log-probabilities (..., K)."""
  return scipy.special.softmax(np.asarray(logits, np.float64), axis=-1)


# The forwards of the variants. Each returns (B, ...) logits or
# log-probabilities of a batch sharded over the mesh.


def clean_forward(restored: RestoredRun):
  """Eval-mode logits (B, K): the variant 'clean'."""

  def forward(x, ids):
    del ids
    return _model.logits(restored.module, restored.variables, x)

  return forward


def corrupt_forward(restored: RestoredRun, name: str, severity: int, seed: int):
  """Logits (B, K) of the images corrupted by `name` at `severity`, each
  image from its own key (seed, image id): the variant
  'corrupt:<name>:<severity>:<seed>'."""
  cfg = restored.run.config.data

  def forward(x, ids):
    corrupted = corrupt_images(x, ids, cfg, name, severity, seed)
    return _model.logits(restored.module, restored.variables, corrupted)

  return forward


def corrupt_images(x, ids, cfg, name: str, severity: int, seed: int):
  """Normalised images (B, H, W, C) corrupted in [0, 1] and normalised
  again (`xaijax.data.corruptions`), image i drawn from the key
  (seed, ids[i])."""
  unit = corruptions.to_unit(x, cfg.mean, cfg.std)
  out = corruptions.corrupt(unit, name, severity, image_keys(seed, ids))
  return corruptions.to_normalized(out, cfg.mean, cfg.std)


def corrupt_variant(name: str, severity: int, seed: int) -> str:
  return f"corrupt:{name}:{severity}:{seed}"


def tta_forward(restored: RestoredRun, views, shift: int):
  """Logits (B, M, K) of M test-time views (`uncertainty.tta_views`): the
  variant 'tta:<views>:<shift>'."""

  def forward(x, ids):
    del ids
    stacked = uncertainty.tta_views(x, views, shift=shift)
    z = _model.stacked_logits(
      restored.module, restored.variables, stacked, stacked.shape[1]
    )
    return jnp.swapaxes(z, 0, 1)

  return forward


def mc_forward(restored: RestoredRun, num_samples: int, seed: int):
  """Log-probabilities (B, M, K) of M Monte Carlo dropout passes, image i's
  masks from the key (seed, ids[i]): the variant
  'mc_dropout:<M>:<seed>'."""

  def one(image, key):
    probs = uncertainty.mc_dropout_probs(
      restored.module,
      restored.variables,
      image[None],
      key,
      num_samples=num_samples,
    )
    return jnp.log(probs[:, 0])

  def forward(x, ids):
    return jax.vmap(one)(x, image_keys(seed, ids))

  return forward
