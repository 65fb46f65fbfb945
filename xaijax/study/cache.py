# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""The cells a study has computed, kept in one SQLite file per launch.

A map is cached per (run, layer, method, options, image, explained class);
its scores per (the same cell, metric, metric settings); a model's outputs
(logits of a clean, corrupted or augmented image, of Monte Carlo dropout
passes) per (run, image source, variant, image). So adding a method,
a layer, a target policy, a selection or a metric to a finished study
computes only the new cells, and a study killed at any point resumes after
the last committed batch: SQLite commits are atomic, a killed process leaves
the previous state intact.

`run` is a fingerprint of the trained run (its results and best step), so a
retrained run is never read from stale cells; `options` fingerprints the
settings that change a map (not, e.g., the chunk size).

Only process 0 of a multi-host launch opens the cache.
"""

import hashlib
import io
import json
import sqlite3
import zlib
from collections.abc import Iterable, Sequence

import numpy as np

_SCHEMA = """
CREATE TABLE IF NOT EXISTS maps (
  run TEXT, layer TEXT, method TEXT, options TEXT, image TEXT,
  target INTEGER, map BLOB,
  PRIMARY KEY (run, layer, method, options, image, target));
CREATE TABLE IF NOT EXISTS scores (
  run TEXT, layer TEXT, method TEXT, options TEXT, image TEXT,
  target INTEGER, metric TEXT, settings TEXT, value TEXT,
  PRIMARY KEY (run, layer, method, options, image, target, metric, settings));
CREATE TABLE IF NOT EXISTS outputs (
  run TEXT, source TEXT, variant TEXT, image TEXT, value BLOB,
  PRIMARY KEY (run, source, variant, image));
"""

Cell = tuple[str, int]  # (image id, explained class)


def _encode(array: np.ndarray) -> bytes:
  buffer = io.BytesIO()
  np.save(buffer, np.asarray(array, np.float32), allow_pickle=False)
  return zlib.compress(buffer.getvalue(), 1)


def _decode(blob: bytes) -> np.ndarray:
  return np.load(io.BytesIO(zlib.decompress(blob)), allow_pickle=False)


class Cache:
  """The SQLite cache of one study launch (`<workdir>/cache.sqlite`)."""

  def __init__(self, path: str):
    self._db = sqlite3.connect(path)
    self._db.executescript(_SCHEMA)
    self._db.commit()

  def close(self) -> None:
    self._db.close()

  def missing_maps(
    self, run: str, layer: str, method: str, options: str, cells
  ) -> set[Cell]:
    """The cells of `cells` without a map."""
    have = set(
      self._db.execute(
        "SELECT image, target FROM maps WHERE run=? AND layer=? AND "
        "method=? AND options=?",
        (run, layer, method, options),
      )
    )
    return {c for c in cells if c not in have}

  def put_maps(
    self,
    run: str,
    layer: str,
    method: str,
    options: str,
    cells: Sequence[Cell],
    maps: np.ndarray,
  ) -> None:
    """Stores (and commits) `maps` (n, H, W) of `cells`."""
    self._db.executemany(
      "INSERT OR REPLACE INTO maps VALUES (?, ?, ?, ?, ?, ?, ?)",
      [
        (run, layer, method, options, image, int(target), _encode(m))
        for (image, target), m in zip(cells, maps, strict=True)
      ],
    )
    self._db.commit()

  def get_maps(
    self, run: str, layer: str, method: str, options: str, cells
  ) -> np.ndarray:
    """(n, H, W) maps of `cells`, in their order; KeyError if one is
    missing."""
    rows = dict(
      ((image, target), blob)
      for image, target, blob in self._db.execute(
        "SELECT image, target, map FROM maps WHERE run=? AND layer=? AND "
        "method=? AND options=?",
        (run, layer, method, options),
      )
    )
    return np.stack([_decode(rows[c]) for c in cells])

  def missing_outputs(
    self, run: str, source: str, variant: str, images
  ) -> set[str]:
    """The images of `images` without an output of `variant`."""
    have = {
      image
      for (image,) in self._db.execute(
        "SELECT image FROM outputs WHERE run=? AND source=? AND variant=?",
        (run, source, variant),
      )
    }
    return {i for i in images if i not in have}

  def put_outputs(
    self,
    run: str,
    source: str,
    variant: str,
    images: Sequence[str],
    values: np.ndarray,
  ) -> None:
    """Stores (and commits) one output array per image, values (n, ...)."""
    self._db.executemany(
      "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?)",
      [
        (run, source, variant, image, _encode(v))
        for image, v in zip(images, values, strict=True)
      ],
    )
    self._db.commit()

  def get_outputs(
    self, run: str, source: str, variant: str, images
  ) -> np.ndarray:
    """(n, ...) outputs of `images`, in their order; KeyError if one is
    missing."""
    rows = dict(
      self._db.execute(
        "SELECT image, value FROM outputs WHERE run=? AND source=? AND "
        "variant=?",
        (run, source, variant),
      )
    )
    return np.stack([_decode(rows[i]) for i in images])

  def missing_scores(
    self,
    run: str,
    layer: str,
    method: str,
    options: str,
    metric: str,
    settings: str,
    cells,
  ) -> set[Cell]:
    have = set(
      self._db.execute(
        "SELECT image, target FROM scores WHERE run=? AND layer=? AND "
        "method=? AND options=? AND metric=? AND settings=?",
        (run, layer, method, options, metric, settings),
      )
    )
    return {c for c in cells if c not in have}

  def put_scores(
    self,
    run: str,
    layer: str,
    method: str,
    options: str,
    metric: str,
    settings: str,
    cells: Sequence[Cell],
    columns: dict[str, np.ndarray],
  ) -> None:
    """Stores (and commits) per-cell score columns {column: (n,)}."""
    rows = []
    for i, (image, target) in enumerate(cells):
      value = json.dumps({k: float(v[i]) for k, v in columns.items()})
      rows.append(
        (run, layer, method, options, image, int(target), metric, settings,
         value)
      )  # fmt: skip
    self._db.executemany(
      "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
    )
    self._db.commit()

  def get_scores(
    self,
    run: str,
    layer: str,
    method: str,
    options: str,
    metric: str,
    settings: str,
  ) -> dict[Cell, dict[str, float]]:
    """{cell: {column: value}} of every cached cell of one metric."""
    return {
      (image, target): json.loads(value)
      for image, target, value in self._db.execute(
        "SELECT image, target, value FROM scores WHERE run=? AND layer=? AND "
        "method=? AND options=? AND metric=? AND settings=?",
        (run, layer, method, options, metric, settings),
      )
    }


def fingerprint(value) -> str:
  """A short stable digest of a JSON-able value (settings, run facts)."""
  text = json.dumps(value, sort_keys=True, default=str)
  return hashlib.sha256(text.encode()).hexdigest()[:16]


def cells_in_order(images: Iterable[str], targets: Iterable[int]) -> list:
  """[(image, target)] without repeats, in first-seen order."""
  pairs = zip(images, (int(t) for t in targets), strict=True)
  return list(dict.fromkeys(pairs))
