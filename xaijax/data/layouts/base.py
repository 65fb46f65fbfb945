# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What every layout shares: `Layout` (what is expected, where it is
published, its errors), `Listing` (what a layout found) and folder walking.
"""

import dataclasses
import os

import numpy as np

from xaijax.data.errors import DataError
from xaijax.data.preprocess import IMAGE_EXTENSIONS
from xaijax.data.sources import Source

SKIP_DIRS = ("__MACOSX",)


@dataclasses.dataclass(frozen=True)
class Listing:
  """What a layout holds, before any image is decoded.

  Attributes:
    name: the dataset name (`ham10000` when a skin root holds its CSV).
    source: every example.
    official: (N,) the layout's own split of each example: "train", "val",
      "test" or "" (none).
    class_names: label i is class_names[i].
    root: the dataset root as found (absolute).
    layout: what was found, in words (for the record).
    notes: how the layout was read.
    ignored_files: files that are not images (README, .DS_Store, ...).
    ignored_examples: up to 10 of their paths.
    official_val: keep the layout's own "val" split for validation.
    test_only: an external evaluation set: every image is a test image.
  """

  name: str
  source: Source
  official: np.ndarray
  class_names: tuple[str, ...]
  root: str
  layout: str
  notes: tuple[str, ...] = ()
  ignored_files: int = 0
  ignored_examples: tuple[str, ...] = ()
  official_val: bool = False
  test_only: bool = False


@dataclasses.dataclass(frozen=True)
class Layout:
  """A published dataset layout.

  Attributes:
    name: the `data.name` that selects it.
    expected: the folder (or file) layout, in words.
    published: where to get the dataset (citation, URL, licence).
    test_only: an external evaluation set: every image is a test image.
  """

  name: str
  expected: str
  published: str
  test_only: bool = False

  def list(self, cfg) -> Listing:
    """Lists `cfg.root` (DataError if it is not this layout)."""
    raise NotImplementedError

  def error(self, message: str) -> DataError:
    """A DataError: the problem, the expected layout and where to get it."""
    return DataError(
      f"{message}\nExpected layout for data.name='{self.name}': "
      f"{self.expected}.\nPublished as: {self.published}."
    )

  def folder(self, cfg) -> str:
    """`cfg.root`, checked to be an existing folder."""
    root = os.path.expanduser(cfg.root)
    if not root:
      raise self.error(f"data.root is not set for data.name='{self.name}'.")
    if not os.path.isdir(root):
      what = (
        "is a file, not a folder" if os.path.exists(root) else "does not exist"
      )
      raise self.error(f"Dataset root {os.path.abspath(root)} {what}.")
    return root


def subdirs(path: str) -> list[str]:
  """Visible subfolder names of `path`, sorted ([] if it is unreadable)."""
  try:
    entries = sorted(os.scandir(path), key=lambda e: e.name)
  except OSError:
    return []
  return [
    e.name
    for e in entries
    if e.is_dir() and not e.name.startswith(".") and e.name not in SKIP_DIRS
  ]


def is_image(filename: str) -> bool:
  """An image file by its extension (hidden files are not)."""
  ext = os.path.splitext(filename)[1].lower()
  return ext in IMAGE_EXTENSIONS and not filename.startswith(".")


def list_images(
  folder: str, skip: tuple[str, ...] = ()
) -> tuple[list[str], list[str]]:
  """(image files, other files) below `folder`, recursive, sorted.

  Subfolders named in `skip` (case-insensitive) are not entered.
  """
  images, others = [], []
  skip = tuple(s.lower() for s in skip)
  for dirpath, dirnames, filenames in os.walk(folder):
    dirnames[:] = sorted(
      d
      for d in dirnames
      if not d.startswith(".") and d not in SKIP_DIRS and d.lower() not in skip
    )
    for f in sorted(filenames):
      (images if is_image(f) else others).append(os.path.join(dirpath, f))
  return images, others
