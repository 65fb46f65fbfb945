# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""What loading checks about the stored images.

* every file is readable (`data.verify`: header or full decode), and what
  to do with those that are not (`data.skip_corrupt`);
* a content hash of every example (SHA-256 of the bytes it is stored as),
  from which come identical files filed under different classes (label
  noise) and identical files in two different splits (leakage). Inside a
  pool that we split ourselves, identical files are grouped (splits.py), so
  only a layout's own official split can separate them;
* a perceptual hash (pHash) for copies that were resized or re-encoded, and
  the pixel comparison that must confirm a pHash match (external.py uses
  both against the training images).
"""

import concurrent.futures
import dataclasses
import hashlib
import io
import logging
from collections.abc import Mapping, Sequence

import numpy as np
import scipy.fft
from PIL import Image

from xaijax.data import preprocess
from xaijax.data.errors import DataError
from xaijax.data.sources import DECODE_ERRORS, Source

log = logging.getLogger(__name__)

VERIFY_LEVELS = ("none", "header", "full")


def content_hash(data: bytes) -> str:
  """SHA-256 hex digest of a file's (or an array row's) bytes."""
  return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass(frozen=True)
class Scan:
  """What reading every stored example once found.

  Attributes:
    hashes: content hash of each example (N,), or () when not computed.
    keep: (N,) bool, False for the corrupt files that were skipped.
    corrupt: ids of the skipped corrupt files.
  """

  hashes: tuple[str | None, ...]
  keep: np.ndarray
  corrupt: tuple[str, ...]


def _check(source: Source, i: int, verify: str, want_hash: bool):
  """(content hash or None, error string or None) of example i."""
  try:
    data = source.stored(i)
  except OSError as e:
    return None, f"{type(e).__name__}: {e}"
  digest = content_hash(data) if want_hash else None
  if not source.encoded:
    return digest, None
  if not data:
    return digest, "empty file"
  try:
    if verify == "full":
      preprocess.decode(data, draft=False)
    elif verify == "header":
      with Image.open(io.BytesIO(data)) as img:
        img.size  # noqa: B018 (parsing the header is the check)
  except DECODE_ERRORS as e:
    return digest, f"{type(e).__name__}: {e}"
  return digest, None


def scan(source: Source, cfg, where: str) -> Scan:
  """Reads every stored example once (threads): verifies and hashes it.

  Args:
    source: the examples (none are read from a `generated` source).
    cfg: the data config (`verify`, `skip_corrupt`, `check_duplicates`,
      `num_workers`).
    where: the dataset root, for messages.

  Raises:
    DataError: corrupt files without `cfg.skip_corrupt` (up to 10 listed).
  """
  n = len(source)
  want_hash = bool(cfg.check_duplicates)
  keep = np.ones(n, bool)
  checks = source.encoded and cfg.verify != "none"
  if source.generated or not (checks or want_hash):
    return Scan((), keep, ())
  workers = max(1, int(cfg.num_workers)) * 2  # mostly waiting on the disk
  with concurrent.futures.ThreadPoolExecutor(workers) as pool:
    results = list(
      pool.map(lambda i: _check(source, i, cfg.verify, want_hash), range(n))
    )
  hashes = tuple(h for h, _ in results) if want_hash else ()
  bad = [(source.ids[i], err) for i, (_, err) in enumerate(results) if err]
  if bad and not cfg.skip_corrupt:
    listed = "\n".join(f"  {p}: {e}" for p, e in bad[:10])
    more = f"\n  ... and {len(bad) - 10} more" if len(bad) > 10 else ""
    raise DataError(
      f"{len(bad)} corrupt or unreadable image file(s) under "
      f"{where}:\n{listed}{more}\nFix or remove them, or set "
      "--config.data.skip_corrupt=True to leave them out (they are then "
      "counted and listed in the split record)."
    )
  if bad:
    keep[[i for i, (_, err) in enumerate(results) if err]] = False
    log.warning(
      "Skipped %d corrupt image file(s) (data.skip_corrupt=True), e.g. %s",
      len(bad),
      bad[0][0],
    )
  return Scan(hashes, keep, tuple(p for p, _ in bad))


@dataclasses.dataclass(frozen=True)
class Duplicate:
  """Byte-identical examples `a` and `b` in two different splits."""

  sha256: str
  a: str
  split_a: str
  b: str
  split_b: str


@dataclasses.dataclass(frozen=True)
class LabelConflict:
  """Byte-identical examples `a` and `b` filed under different classes."""

  sha256: str
  a: str
  class_a: str
  b: str
  class_b: str


def duplicates_across(
  chosen: Mapping[str, np.ndarray], hashes: Sequence, ids: Sequence[str]
) -> tuple[Duplicate, ...]:
  """Identical examples that sit in two different splits (leakage).

  Args:
    chosen: split name -> indices, in the order train, val, test.
    hashes: content hash per example (None where unknown).
    ids: id per example.
  """
  where: dict = {}
  found = []
  for split, indices in chosen.items():
    for i in indices:
      h = hashes[i]
      if h is None:
        continue
      if h in where and where[h][0] != split:
        s0, i0 = where[h]
        found.append(Duplicate(h, ids[i0], s0, ids[i], split))
      else:
        where.setdefault(h, (split, i))
  if found:
    log.warning(
      "%d image(s) appear in more than one split with identical bytes "
      "(leakage), e.g. %s (%s) = %s (%s). They are listed in the split "
      "record.",
      len(found),
      found[0].a,
      found[0].split_a,
      found[0].b,
      found[0].split_b,
    )
  return tuple(found)


def label_conflicts(
  hashes: Sequence, labels: np.ndarray, ids: Sequence[str], class_names
) -> tuple[int, tuple[LabelConflict, ...]]:
  """(number of files identical to an earlier one, those whose class
  differs from that earlier one's)."""
  first: dict = {}
  conflicts = []
  copies = 0
  for i, h in enumerate(hashes):
    if h is None:
      continue
    if h not in first:
      first[h] = i
      continue
    copies += 1
    j = first[h]
    if labels[i] != labels[j]:
      conflicts.append(
        LabelConflict(
          h, ids[j], class_names[labels[j]], ids[i], class_names[labels[i]]
        )
      )
  if conflicts:
    log.warning(
      "%d pair(s) of identical image files carry different class labels "
      "(label noise), e.g. %s (%s) = %s (%s). Each pair is kept in one "
      "split; all are listed in the split record.",
      len(conflicts),
      conflicts[0].a,
      conflicts[0].class_a,
      conflicts[0].b,
      conflicts[0].class_b,
    )
  return copies, tuple(conflicts)


# pHash as imagehash.phash (hash_size=8, highfreq_factor=4) computes it:
# the image in Pillow's "L" grayscale, Lanczos-resized to 32x32, the 2-D
# DCT-II (unnormalised, along rows then columns), the top-left 8x8
# coefficients (lowest frequencies, DC included), one bit per coefficient:
# above their median. 64 bits; similar images differ in few of them.
THUMBNAIL = 32
PHASH_BLOCK = 8


def thumbnail(img: np.ndarray) -> np.ndarray:
  """uint8 RGB (H, W, 3) -> uint8 grayscale (32, 32), what pHash hashes.

  Grayscale is Pillow's "L" (ITU-R 601-2 luma); a gray image repeated over
  three channels gives back its own values exactly.
  """
  gray = Image.fromarray(np.ascontiguousarray(img)).convert("L")
  return np.asarray(gray.resize((THUMBNAIL, THUMBNAIL), Image.LANCZOS))


def phash(thumb: np.ndarray) -> np.ndarray:
  """(32, 32) grayscale -> (64,) bool perceptual hash (see above)."""
  x = np.asarray(thumb, np.float64)
  dct = scipy.fft.dct(scipy.fft.dct(x, axis=0), axis=1)
  low = dct[:PHASH_BLOCK, :PHASH_BLOCK]
  return (low > np.median(low)).reshape(-1)


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
  """Bits that differ between hashes: (N, 64) and (M, 64) bool -> (N, M).

  As a product of 0/1 matrices (exact in float32: at most 64), in row
  chunks so that memory stays near 64 MB whatever N and M are.
  """
  a = np.asarray(a, np.float32)
  b = np.asarray(b, np.float32)
  out = np.empty((len(a), len(b)), np.int32)
  step = max(1, (1 << 24) // max(1, len(b)))
  for i in range(0, len(a), step):
    x = a[i : i + step]
    out[i : i + step] = x @ (1.0 - b).T + (1.0 - x) @ b.T
  return out
