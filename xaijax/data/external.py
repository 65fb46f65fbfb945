# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""External validation: a model trained on one set, tested on another.

Two things make such a test honest:

* The classes: an external set's labels rarely equal the training set's.
  A `LabelMap` sends each training class to one of the external set's
  evaluation groups (or to none) and each external class to its group:
  brain {glioma, meningioma, pituitary} -> yes, notumor -> no; ISIC
  melanoma -> melanoma, nevus -> nevus with PH2's common and atypical nevus
  both -> nevus. `map_probabilities` turns a model's (N, K_train)
  probabilities into (N, K_ext) by summing each group's classes; training
  classes mapped nowhere (ISIC's other seven) are dropped and the rest
  renormalised, i.e. the prediction is conditional on the image being one
  of the mapped groups.
* The images: an external image that is (a copy of) a training image tests
  memory, not generalisation. `remove_duplicates` drops byte-identical
  files (SHA-256) and resized or re-encoded copies (a pHash match confirmed
  by pixels, since pHash alone calls different scans of one anatomy
  similar), and by default repeats inside the external set.

Config: `config.data.external` = {key: `entry(name, root, mapping,
groups)`}; `load_external(config.data, key, training_dataset)` does all of
it. See docs/data.md.
"""

import concurrent.futures
import dataclasses
from collections.abc import Mapping, Sequence

import jax.numpy as jnp
import ml_collections
import numpy as np

from xaijax.data import dataset as dataset_lib
from xaijax.data import integrity, preprocess
from xaijax.data.errors import DataError
from xaijax.data.sources import DECODE_ERRORS

# The documented mappings, used when an entry gives none. Keys that are not
# a class of the training set at hand are skipped, so one table serves the
# variants of a training set (Kermany 2- and 3-class; ISIC 9-class,
# benign/malignant and HAM10000's codes).
DEFAULT_MAPPINGS = {
  "brain_mri_yes_no": {
    "glioma": "yes",
    "meningioma": "yes",
    "pituitary": "yes",
    "notumor": "no",
  },
  # Kermany is paediatric pneumonia; COVID-19 is the external set's
  # "pneumonia-like" class (a shift in age, hospital and pneumonia type).
  "covid19_radiography": {
    "NORMAL": "NORMAL",
    "PNEUMONIA": "COVID",
    "COVID19": "COVID",
  },
  "ph2": {
    "melanoma": "melanoma",
    "nevus": "nevus",
    "mel": "melanoma",
    "nv": "nevus",
    "malignant": "melanoma",
    "benign": "nevus",
  },
}
DEFAULT_GROUPS = {
  "ph2": {"common_nevus": "nevus", "atypical_nevus": "nevus"},
}

# Duplicate thresholds, measured on the real brain samples (docs/data.md).
# Copies: resized (x0.25..x1.5) and re-encoded (JPEG q40..95, PNG) copies
# of the Kaggle Testing images came within 4 pHash bits and 2.4 grey levels
# (mean |difference| of the 32x32 thumbnails, 0..255) of their originals;
# the re-encoded copies inside the Chakrabarty set within 4 bits and 0.92.
# Different images: two adjacent slices of one patient (Chakrabarty Y61 and
# Y71) share their pHash but differ by 4.55 grey levels; Chakrabarty vs
# Testing, 33 pairs within 4 bits, by 8.7 or more. So a pHash match within
# 8 bits is only a candidate, and the pixel check (3 grey levels, between
# 2.4 and 4.55) decides.
MAX_HAMMING = 8
MAX_PIXEL_DIFF = 3.0
REASONS = ("exact", "perceptual", "repeat_exact", "repeat_perceptual")


def entry(
  name: str,
  root: str,
  mapping: Mapping[str, str] | None = None,
  groups: Mapping[str, str] | None = None,
) -> ml_collections.ConfigDict:
  """One `config.data.external` entry.

  Args:
    name: the external dataset (`brain_mri_yes_no`, `covid19_radiography`,
      `ph2`).
    root: its folder.
    mapping: training class -> evaluation group (an external class or a
      group of `groups`); None: `DEFAULT_MAPPINGS[name]`.
    groups: external class -> evaluation group, for classes that share one
      (PH2's nevi); None: `DEFAULT_GROUPS` (each class its own group).
  """
  return ml_collections.ConfigDict(
    {
      "name": name,
      "root": root,
      "mapping": dict(mapping or {}),
      "groups": dict(groups or {}),
    }
  )


@dataclasses.dataclass(frozen=True)
class LabelMap:
  """Training classes and external classes onto the evaluation groups.

  Attributes:
    train_classes: (K_train,) the model's classes.
    external_classes: (C,) the external set's classes.
    groups: (K_ext,) the evaluation classes, in the order the external
      classes first reach them.
    matrix: (K_train, K_ext) float32, 1 where a training class counts
      toward a group (at most one 1 per row; none for an unmapped class).
    of_external: (C,) int32 group of each external class.
  """

  train_classes: tuple[str, ...]
  external_classes: tuple[str, ...]
  groups: tuple[str, ...]
  matrix: np.ndarray
  of_external: np.ndarray

  @property
  def unmapped(self) -> tuple[str, ...]:
    """Training classes that count toward no group."""
    return tuple(
      c
      for c, row in zip(self.train_classes, self.matrix, strict=True)
      if not row.any()
    )


def _unknown(kind: str, where: str, names, valid) -> DataError:
  return DataError(
    f"Unknown {kind} {', '.join(map(repr, names))} in {where}; valid: "
    f"{', '.join(valid)}."
  )


def label_map(
  train_classes: Sequence[str],
  external_classes: Sequence[str],
  mapping: Mapping[str, str] | None = None,
  groups: Mapping[str, str] | None = None,
  *,
  external_name: str = "",
  where: str = "the external label mapping",
) -> LabelMap:
  """Checks and builds a `LabelMap`.

  Args:
    train_classes: the training set's class names (the model's outputs).
    external_classes: the external set's class names.
    mapping: training class -> group; empty: the default for
      `external_name` (DEFAULT_MAPPINGS, keys of other training sets
      skipped).
    groups: external class -> group; empty: DEFAULT_GROUPS for
      `external_name`, else each external class is its own group.
    external_name: the external dataset, for the defaults.
    where: the config path, for messages.

  Raises:
    DataError: a name that is not a training class, an external class or a
      group (the message lists the valid ones), or a group that no training
      class maps to (its probability would always be 0).
  """
  train_classes = tuple(train_classes)
  external_classes = tuple(external_classes)
  if not mapping:
    if external_name not in DEFAULT_MAPPINGS:
      raise DataError(
        f"{where} is empty and there is no default mapping for "
        f"'{external_name}'; give one (training class -> external class)."
      )
    mapping = {
      k: v
      for k, v in DEFAULT_MAPPINGS[external_name].items()
      if k in train_classes
    }
  if not groups:
    groups = {
      k: v
      for k, v in DEFAULT_GROUPS.get(external_name, {}).items()
      if k in external_classes
    }
  mapping, groups = dict(mapping), dict(groups)
  bad = [k for k in mapping if k not in train_classes]
  if bad:
    raise _unknown("training class(es)", f"{where}.mapping", bad, train_classes)
  bad = [k for k in groups if k not in external_classes]
  if bad:
    raise _unknown(
      "external class(es)", f"{where}.groups", bad, external_classes
    )
  of_class = [groups.get(c, c) for c in external_classes]
  names = tuple(dict.fromkeys(of_class))
  bad = [v for v in mapping.values() if v not in names]
  if bad:
    raise _unknown("group(s)", f"{where}.mapping", sorted(set(bad)), names)
  matrix = np.zeros((len(train_classes), len(names)), np.float32)
  for k, v in mapping.items():
    matrix[train_classes.index(k), names.index(v)] = 1.0
  empty = [g for g, col in zip(names, matrix.T, strict=True) if not col.any()]
  if empty:
    raise DataError(
      f"No training class maps to the external group(s) {', '.join(empty)} "
      f"in {where}.mapping (training classes: {', '.join(train_classes)})."
    )
  return LabelMap(
    train_classes,
    external_classes,
    names,
    matrix,
    np.asarray([names.index(g) for g in of_class], np.int32),
  )


def map_probabilities(probs, lmap: LabelMap):
  """(N, K_train) probabilities -> (N, K_ext) probabilities of the groups.

  Each group's probability is the sum of its training classes'; the mass on
  unmapped training classes is dropped and the rest renormalised to sum to
  1. Where every mapped class has probability 0 (all mass on unmapped
  classes, to float precision) the groups are equally likely. Pure and
  jittable; `lmap.matrix` is a constant.
  """
  p = jnp.asarray(probs) @ jnp.asarray(lmap.matrix)
  total = p.sum(axis=-1, keepdims=True)
  uniform = jnp.full_like(p, 1.0 / p.shape[-1])
  return jnp.where(total > 0, p / jnp.where(total > 0, total, 1.0), uniform)


def map_labels(labels, lmap: LabelMap) -> np.ndarray:
  """(N,) external class indices -> (N,) group indices."""
  return lmap.of_external[np.asarray(labels)]


@dataclasses.dataclass(frozen=True)
class Removed:
  """An external image left out, and why.

  Attributes:
    id: the external image.
    reason: "exact" (the bytes of a training image), "perceptual" (a
      resized or re-encoded training image), "repeat_exact" /
      "repeat_perceptual" (a copy of an earlier external image).
    match: the training (or earlier external) image it copies.
    hamming: pHash bits that differ (0 for exact copies).
    pixel_diff: mean |difference| of the two 32x32 grayscale thumbnails,
      in grey levels 0..255.
  """

  id: str
  reason: str
  match: str
  hamming: int
  pixel_diff: float


@dataclasses.dataclass(frozen=True)
class Deduplicated:
  """An external test split without its duplicates.

  Attributes:
    split: the split without the removed images.
    removed: each removed image, with its reason and match.
  """

  split: dataset_lib.Split
  removed: tuple[Removed, ...]

  @property
  def counts(self) -> dict[str, int]:
    """Images removed per reason (every reason, zeros included)."""
    out = dict.fromkeys(REASONS, 0)
    for r in self.removed:
      out[r.reason] += 1
    return out


def _fingerprint(split: dataset_lib.Split, i: int):
  """(SHA-256 or None, pHash (64,) bool, thumbnail (32, 32) uint8) of
  example i, decoded at full resolution (libjpeg's reduced draft decoding
  moved copies several grey levels away from their originals)."""
  source = split.source
  j = int(split.indices[i])
  digest = None
  try:
    if source.encoded:
      data = source.stored(j)
      digest = integrity.content_hash(data)
      img = preprocess.decode(data, draft=False)
    else:
      if not source.generated:
        digest = integrity.content_hash(source.stored(j))
      img = source.read(j, split.config.image_size)[0]
  except DECODE_ERRORS as e:
    raise DataError(
      f"Corrupt or unreadable image {source.ids[j]} ({type(e).__name__}: "
      f"{e}) while looking for duplicates."
    ) from e
  thumb = integrity.thumbnail(img)
  return digest, integrity.phash(thumb), thumb


def _fingerprints(splits: Sequence[dataset_lib.Split], workers: int):
  """Fingerprints of every example of `splits`: (ids, hashes, pHashes
  (N, 64), thumbnails (N, 32, 32))."""
  jobs = [(s, i) for s in splits for i in range(len(s))]
  with concurrent.futures.ThreadPoolExecutor(max(1, workers)) as pool:
    out = list(pool.map(lambda job: _fingerprint(*job), jobs))
  ids = [s.source.ids[int(s.indices[i])] for s, i in jobs]
  if not out:
    return ids, [], np.zeros((0, 64), bool), np.zeros((0, 32, 32), np.uint8)
  return (
    ids,
    [h for h, _, _ in out],
    np.stack([p for _, p, _ in out]),
    np.stack([t for _, _, t in out]),
  )


def _confirmed(thumb, thumbs, candidates, distances, max_pixel_diff):
  """(index, pixel difference, pHash bits) of the candidate closest in
  pixels, if it is within `max_pixel_diff`; else None."""
  if not len(candidates):
    return None
  diff = np.abs(
    thumbs[candidates].astype(np.float32) - thumb.astype(np.float32)
  ).mean(axis=(1, 2))
  best = int(np.argmin(diff))
  if diff[best] > max_pixel_diff:
    return None
  return int(candidates[best]), float(diff[best]), int(distances[best])


def remove_duplicates(
  external: dataset_lib.Split,
  training: Sequence[dataset_lib.Split],
  *,
  max_hamming: int = MAX_HAMMING,
  max_pixel_diff: float = MAX_PIXEL_DIFF,
  repeats: bool = True,
) -> Deduplicated:
  """Drops external images that copy a training image (or, with `repeats`,
  an earlier external image).

  Every image is decoded once at full resolution. An external image is
  removed when its bytes equal a training image's ("exact"), or when a
  training image is within `max_hamming` pHash bits AND its 32x32 grayscale
  thumbnail is within `max_pixel_diff` grey levels on average
  ("perceptual"). With `repeats`, the same two tests between external
  images keep the first of each set of copies (in id order).

  Args:
    external: the external test split.
    training: the training set's splits (usually all three: no image the
      model was developed on should count as external).
    max_hamming: pHash bits (of 64) within which a pair is a candidate.
    max_pixel_diff: mean |difference| (0..255) that confirms a candidate.
    repeats: also drop copies inside the external set.

  Returns:
    The split without the removed images, and each removal.
  """
  workers = 2 * max(1, int(external.config.num_workers))
  e_ids, e_hash, e_ph, e_th = _fingerprints([external], workers)
  t_ids, t_hash, t_ph, t_th = _fingerprints(list(training), workers)
  by_hash = {}
  for j, h in enumerate(t_hash):
    if h is not None:
      by_hash.setdefault(h, j)
  distances = integrity.hamming(e_ph, t_ph)
  removed: dict[int, Removed] = {}
  for i in range(len(e_ids)):
    if e_hash[i] is not None and e_hash[i] in by_hash:
      removed[i] = Removed(e_ids[i], "exact", t_ids[by_hash[e_hash[i]]], 0, 0.0)
      continue
    near = np.flatnonzero(distances[i] <= max_hamming)
    hit = _confirmed(e_th[i], t_th, near, distances[i][near], max_pixel_diff)
    if hit is not None:
      j, diff, bits = hit
      removed[i] = Removed(e_ids[i], "perceptual", t_ids[j], bits, diff)
  if repeats:
    order = sorted(
      (i for i in range(len(e_ids)) if i not in removed),
      key=lambda i: e_ids[i],
    )
    within = integrity.hamming(e_ph, e_ph)
    kept: list[int] = []
    first: dict = {}
    for i in order:
      if e_hash[i] is not None and e_hash[i] in first:
        j = first[e_hash[i]]
        removed[i] = Removed(e_ids[i], "repeat_exact", e_ids[j], 0, 0.0)
        continue
      cands = np.asarray(kept, np.int64)
      near = cands[within[i, cands] <= max_hamming] if kept else cands
      hit = _confirmed(e_th[i], e_th, near, within[i, near], max_pixel_diff)
      if hit is not None:
        j, diff, bits = hit
        removed[i] = Removed(
          e_ids[i], "repeat_perceptual", e_ids[j], bits, diff
        )
        continue
      kept.append(i)
      if e_hash[i] is not None:
        first[e_hash[i]] = i
  keep = np.asarray(
    [k for k in range(len(external)) if k not in removed], np.int64
  )
  split = dataset_lib.Split(
    external.name,
    external.source,
    external.indices[keep],
    external.config,
    external.class_names,
  )
  return Deduplicated(
    split, tuple(removed[i] for i in sorted(removed, key=lambda i: e_ids[i]))
  )


@dataclasses.dataclass(frozen=True)
class ExternalSet:
  """An external test set ready to score a trained model on.

  Attributes:
    key: its key in `config.data.external`.
    dataset: as loaded (every image in `dataset.test`).
    test: the test split without the training set's (and its own) copies.
    label_map: training classes -> evaluation groups <- external classes.
    removed: the images left out, with reasons.
  """

  key: str
  dataset: dataset_lib.Dataset
  test: dataset_lib.Split
  label_map: LabelMap
  removed: tuple[Removed, ...]

  @property
  def counts(self) -> dict[str, int]:
    """Images removed per reason."""
    return Deduplicated(self.test, self.removed).counts


def load_external(
  cfg, key: str, training: dataset_lib.Dataset, **dedupe
) -> ExternalSet:
  """Loads `cfg.external[key]`, checks its mapping, removes duplicates.

  Args:
    cfg: the data config (`config.data`); the external set is read with its
      image size, normalisation and checks.
    key: the entry in `cfg.external`.
    training: the loaded training dataset (its classes and its images).
    **dedupe: keyword options of `remove_duplicates`.

  Raises:
    DataError: an unknown key or entry, a bad mapping, or the external
      set's own data problems.
  """
  if key not in cfg.external:
    raise DataError(
      f"No entry '{key}' in data.external (entries: "
      f"{', '.join(cfg.external) or 'none'})."
    )
  e = cfg.external[key]
  sub = ml_collections.ConfigDict(cfg.to_dict())
  sub.update(
    name=e.name,
    root=e.root,
    grouping="",
    tfds_data_dir="",
    num_folds=0,
    limit=0,
    external=ml_collections.ConfigDict(),
  )
  ds = dataset_lib.load(sub)
  lmap = label_map(
    training.class_names,
    ds.class_names,
    e.mapping,
    e.groups,
    external_name=e.name,
    where=f"data.external.{key}",
  )
  dd = remove_duplicates(ds.test, list(training.splits.values()), **dedupe)
  return ExternalSet(key, ds, dd.split, lmap, dd.removed)
