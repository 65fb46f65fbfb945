# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Fixed batches of a split's images, and the multi-host rules of a study.

Every study kind computes in fixed batches: the cells it asks for, in a
fixed order, cut into batches of a fixed size (the last one padded by
repeating its last cell: one shape, one compilation). A rerun cuts the same
batches, so a resumed study computes exactly what an uninterrupted one
would, and every random draw is keyed per image (`image_keys`), never per
batch position.

Multi-host: a batch's rows are sharded over the processes (`local_rows`);
process 0 alone reads and writes the cache and `broadcast`s what the others
need.
"""

import zlib
from collections.abc import Sequence

import jax
import numpy as np
from jax.experimental import multihost_utils


def is_main() -> bool:
  """Whether this is process 0 (the one that owns the cache and files)."""
  return jax.process_index() == 0


def broadcast(value, like):
  """Process 0's `value` on every process (identity with one process); the
  other processes pass `like`, a pytree of the same structure and shapes."""
  if jax.process_count() == 1:
    return value
  out = multihost_utils.broadcast_one_to_all(value if is_main() else like)
  return jax.tree.map(np.asarray, out)


def local_rows(size: int) -> slice:
  """This process's rows of a global batch of `size` rows."""
  per = size // jax.process_count()
  return slice(jax.process_index() * per, (jax.process_index() + 1) * per)


def padded(rows: np.ndarray, pad: int) -> np.ndarray:
  """rows (n, ...) followed by `pad` copies of the last one."""
  return np.concatenate([rows, np.repeat(rows[-1:], pad, axis=0)])


def image_keys(seed: int, images: Sequence[str]) -> jax.Array:
  """(B,) PRNG keys, one per image id: an image's random draws do not depend
  on its batch."""
  base = jax.random.key(seed)
  return jax.vmap(lambda i: jax.random.fold_in(base, i))(
    np.array([zlib.crc32(i.encode()) for i in images], np.uint32)
  )


class Batches:
  """A split's cells in fixed batches, loaded image by image on demand.

  Attributes:
    split: the `xaijax.data.Split` the images come from.
    size: the batch size.
    batches: lists of cells; a cell is a tuple whose first element is the
      image id (the CAM study's cells are (image id, explained class)).
  """

  def __init__(self, split, cells: Sequence[tuple], batch_size: int):
    self.split = split
    self.size = batch_size
    self.index = {image: i for i, image in enumerate(map(str, split.ids))}
    cells = list(cells)
    self.batches = [
      cells[lo : lo + batch_size] for lo in range(0, len(cells), batch_size)
    ]

  def padded(self, batch) -> list:
    """The batch padded to the batch size by repeating its last cell."""
    return batch + [batch[-1]] * (self.size - len(batch))

  def ids(self, batch) -> list[str]:
    """The image ids of the padded batch."""
    return [cell[0] for cell in self.padded(batch)]

  def targets(self, batch) -> np.ndarray:
    """(B,) int32 explained classes of the padded batch of (image, class)
    cells."""
    return np.array([cell[1] for cell in self.padded(batch)], np.int32)

  def arrays(self, batch, rows: slice = slice(None)):
    """Images (b, H, W, 3) and masks (b, H, W) or None of the padded batch's
    `rows` (this process's rows of a sharded batch)."""
    examples = [
      self.split.example(self.index[i]) for i in self.ids(batch)[rows]
    ]
    images = np.stack([e["image"] for e in examples]).astype(np.float32)
    masks = [e.get("lesion_mask") for e in examples]
    masks = None if masks[0] is None else np.stack(masks).astype(np.float32)
    return images, masks
