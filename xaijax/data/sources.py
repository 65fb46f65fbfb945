# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Random access to raw examples: image files, arrays, generated images.

A source holds only what identifies its examples (paths or array rows,
labels, group keys) -- never decoded images -- and reads one example on
request, so memory stays flat however large the dataset is. What loading
checks about the stored bytes (content hashes, unreadable files) reads them
through `Source.stored`; see integrity.py.
"""

import copy
import os
from collections.abc import Sequence

import numpy as np
from PIL import Image

from xaijax.data import preprocess, synthetic
from xaijax.data.errors import DataError

# What Pillow raises on a file it cannot read as an image.
DECODE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)


class Source:
  """N raw examples.

  Attributes:
    labels: (N,) int32 class of each example.
    ids: N strings that identify the examples (a path relative to the
      dataset root, `npz:<split>:<i>`, `synthetic:<i>`, ...).
    groups: N hashable keys; examples sharing one are never put in two
      different splits (a patient, a lesion; by default the id itself).
    has_masks: whether `read` returns ground-truth lesion masks.
    generated: whether examples are made on request (nothing is stored, so
      there is nothing to verify or hash).
    encoded: whether `stored` returns an encoded image file (JPEG, PNG,
      TIFF, ...) that loading can header-check or decode.
  """

  has_masks = False
  generated = False
  encoded = False

  def __init__(self, labels, ids: Sequence[str], groups=None):
    self.labels = np.asarray(labels, np.int32)
    self.ids = list(ids)
    self.groups = list(ids if groups is None else groups)

  def __len__(self) -> int:
    return len(self.labels)

  def read(self, i: int, size: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Example i as uint8 (H, W, 3) and its uint8 (H, W) {0, 1} mask or None.

    `size` is the side the pipeline will resize to (a decoding hint).
    """
    raise NotImplementedError

  def stored(self, i: int) -> bytes:
    """The bytes example i is stored as (not for `generated` sources).

    Content hashes (duplicates, leakage) are taken of these bytes.
    """
    raise NotImplementedError

  def with_labels(self, labels) -> "Source":
    """The same examples under other labels (a class grouping)."""
    out = copy.copy(self)
    out.labels = np.asarray(labels, np.int32)
    return out


class EncodedSource(Source):
  """Examples stored as encoded image files; `stored` gives their bytes.

  Attributes:
    draft: let libjpeg decode a JPEG at 1/2, 1/4 or 1/8 scale when that is
      still at least the output size (`data.jpeg_draft`).
  """

  encoded = True

  def __init__(self, labels, ids, groups=None, *, draft: bool = True):
    super().__init__(labels, ids, groups)
    self.draft = draft

  def where(self, i: int) -> str:
    """Where example i is stored, for messages."""
    return self.ids[i]

  def read(self, i, size):
    try:
      img = preprocess.decode(self.stored(i), size=size, draft=self.draft)
      return img, self.mask(i, img.shape[:2])
    except DECODE_ERRORS as e:
      raise DataError(
        f"Corrupt or unreadable image: {self.where(i)} "
        f"({type(e).__name__}: {e}). Run with --config.data.verify=full "
        "--config.data.skip_corrupt=True to find every such file when the "
        "dataset is loaded and leave them out."
      ) from e

  def mask(self, i: int, shape: tuple[int, int]) -> np.ndarray | None:
    """Example i's mask at `shape` (the decoded image's), or None."""
    del i, shape
    return None


class FileSource(EncodedSource):
  """Image files under a root folder, optionally with lesion mask files.

  Args:
    root: the dataset folder; `relpaths` and `masks` are relative to it.
    relpaths: one image file per example.
    labels, groups: as `Source`.
    masks: one mask file per example (same size as its image; nonzero =
      lesion), or None.
    draft: as `EncodedSource`.
  """

  def __init__(
    self,
    root: str,
    relpaths: Sequence[str],
    labels,
    groups=None,
    *,
    masks: Sequence[str] | None = None,
    draft: bool = True,
  ):
    super().__init__(labels, relpaths, groups, draft=draft)
    self.root = os.fspath(root)
    self.masks = None if masks is None else list(masks)
    self.has_masks = masks is not None

  def path(self, i: int) -> str:
    return os.path.join(self.root, self.ids[i])

  def where(self, i):
    return self.path(i)

  def stored(self, i):
    with open(self.path(i), "rb") as f:
      return f.read()

  def mask(self, i, shape):
    if self.masks is None:
      return None
    with Image.open(os.path.join(self.root, self.masks[i])) as m:
      m = m.convert("L")
      # A JPEG image may have been decoded at a reduced (draft) scale; the
      # mask follows it (nearest neighbour keeps it binary).
      if m.size != (shape[1], shape[0]):
        m = m.resize((shape[1], shape[0]), Image.NEAREST)
      return (np.asarray(m) > 0).astype(np.uint8)


class ArraySource(Source):
  """Images in arrays (N_j, H, W[, C]), one array per part (e.g. per
  official split), read as one source: numpy arrays, read-only memmaps or
  lazily read HDF5 datasets.
  """

  def __init__(self, arrays: Sequence, labels, ids, groups=None):
    super().__init__(labels, ids, groups)
    self.arrays = list(arrays)
    self.starts = np.cumsum([0] + [len(a) for a in self.arrays])

  def _row(self, i: int) -> np.ndarray:
    a = int(np.searchsorted(self.starts, i, side="right")) - 1
    return np.asarray(self.arrays[a][i - self.starts[a]])

  def read(self, i, size):
    return preprocess.array_to_rgb(self._row(i)), None

  def stored(self, i):
    return np.ascontiguousarray(self._row(i)).tobytes()


class SyntheticSource(Source):
  """Synthetic lesions made on request from (synthetic seed, index)."""

  has_masks = True
  generated = True

  def __init__(self, cfg_syn, size: int):
    n = cfg_syn.num_images
    super().__init__(
      synthetic.labels(n, cfg_syn.num_classes, cfg_syn.seed),
      [f"synthetic:{i}" for i in range(n)],
    )
    self.cfg_syn = cfg_syn
    self.size = size

  def read(self, i, size):
    return synthetic.generate(i, int(self.labels[i]), self.cfg_syn, self.size)
