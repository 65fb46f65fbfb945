# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Batches: seeded shuffling, threads, prefetch, global sharded arrays.

The batch at training step s is a pure function of (seed, s): the epoch
e = s // steps_per_epoch is a permutation drawn from (seed, e), and each
image's augmentation from (seed, e, index). So a resumed run asks for
`train_batches(split, start_step=s)` and sees exactly the batches an
uninterrupted run would have, whatever the thread timing or the number of
hosts (each host takes its contiguous slice of the same global batch).

Memory is bounded by (prefetch + 1) batches of decoded images: examples are
read on demand by a thread pool and nothing else is kept.
"""

import collections
import concurrent.futures
import contextlib
import math
from collections.abc import Iterator

import numpy as np

from xaijax.data import streams
from xaijax.data.dataset import Split
from xaijax.data.errors import DataError


def _process_slice(batch_size: int, process_index, process_count):
  import jax

  pi = jax.process_index() if process_index is None else process_index
  pc = jax.process_count() if process_count is None else process_count
  if batch_size % pc:
    raise DataError(
      f"The global batch size {batch_size} must be divisible by the number "
      f"of processes ({pc})."
    )
  local = batch_size // pc
  return pi * local, local


def steps_per_epoch(split: Split, batch_size: int | None = None) -> int:
  """Full batches per epoch (training drops the remainder)."""
  b = batch_size or split.config.batch_size
  return len(split) // b


def num_eval_batches(split: Split, batch_size: int | None = None) -> int:
  """Batches `eval_batches` yields (the last one padded)."""
  b = batch_size or split.config.eval_batch_size or split.config.batch_size
  return math.ceil(len(split) / b)


def _stack(examples: list[dict]) -> dict:
  out = {
    "image": np.stack([e["image"] for e in examples]),
    "label": np.asarray([e["label"] for e in examples], np.int32),
    "index": np.asarray([e["index"] for e in examples], np.int32),
  }
  if "lesion_mask" in examples[0]:
    out["lesion_mask"] = np.stack([e["lesion_mask"] for e in examples])
  return out


def _run(jobs: Iterator, make, num_workers: int, prefetch: int):
  """Yields make(job) results in order, `prefetch` jobs ahead, threaded.

  Each job is a list of per-example tasks; a job's tasks run on the pool
  and are stacked when the job is yielded.
  """
  pool = concurrent.futures.ThreadPoolExecutor(max(1, num_workers))
  pending = collections.deque()
  try:
    for job in jobs:
      pending.append([pool.submit(make, *t) for t in job])
      if len(pending) > prefetch:
        yield [f.result() for f in pending.popleft()]
    while pending:
      yield [f.result() for f in pending.popleft()]
  finally:
    for fs in pending:
      for f in fs:
        f.cancel()
    # A generator collected at interpreter exit finds `queue` torn down.
    with contextlib.suppress(Exception):
      pool.shutdown(wait=True, cancel_futures=True)


def train_batches(
  split: Split,
  *,
  batch_size: int | None = None,
  seed: int | None = None,
  start_step: int = 0,
  num_steps: int | None = None,
  augment: bool = True,
  process_index: int | None = None,
  process_count: int | None = None,
) -> Iterator[dict]:
  """Endless shuffled, augmented training batches (this host's share).

  Args:
    split: usually `dataset.train`.
    batch_size: GLOBAL batch size (default `config.batch_size`); each of
      the `process_count` hosts gets `batch_size // process_count` rows.
    seed: shuffling/augmentation seed (default `config.seed`).
    start_step: first step to produce (resume).
    num_steps: stop after this many batches (default: never).
    augment: apply `config.augment` (when `config.augment.enabled`).
    process_index, process_count: default `jax.process_index()/count()`.

  Yields:
    {"image": float32 (b, S, S, 3), "label": int32 (b,), "index": int32
    (b,) position in the split, ["lesion_mask": float32 (b, S, S)]}.
    Incomplete epochs' last images are dropped (drop_remainder).
  """
  cfg = split.config
  b = batch_size or cfg.batch_size
  seed = cfg.seed if seed is None else seed
  spe = steps_per_epoch(split, b)
  if spe == 0:
    raise DataError(
      f"The {split.name} split has {len(split)} images, fewer than one "
      f"batch of {b}; lower data.batch_size."
    )
  lo, local = _process_slice(b, process_index, process_count)
  use_aug = augment and cfg.augment.enabled

  def jobs():
    step = start_step
    epoch, perm = -1, None
    while num_steps is None or step < start_step + num_steps:
      e, k = divmod(step, spe)
      if e != epoch:
        epoch = e
        perm = np.random.default_rng([seed, streams.EPOCH, e]).permutation(
          len(split)
        )
      rows = perm[k * b + lo : k * b + lo + local]
      yield [(int(i), e) for i in rows]
      step += 1

  def make(i, e):
    rng = (
      np.random.default_rng([seed, streams.AUGMENT, e, i]) if use_aug else None
    )
    return split.example(i, rng)

  for examples in _run(jobs(), make, cfg.num_workers, cfg.prefetch):
    yield _stack(examples)


def eval_batches(
  split: Split,
  *,
  batch_size: int | None = None,
  process_index: int | None = None,
  process_count: int | None = None,
) -> Iterator[dict]:
  """Every image once, in order, no augmentation; the last batch padded.

  Args:
    split: any split.
    batch_size: GLOBAL batch size (default `config.eval_batch_size` or
      `config.batch_size`).
    process_index, process_count: default `jax.process_index()/count()`.

  Yields:
    As `train_batches`, plus "valid": bool (b,), False on padding rows
    (zero image, label 0, index -1). Every host yields the same number of
    batches, `num_eval_batches(split)`; summing metrics over valid rows
    counts each image exactly once.
  """
  cfg = split.config
  b = batch_size or cfg.eval_batch_size or cfg.batch_size
  lo, local = _process_slice(b, process_index, process_count)
  n = len(split)
  nb = math.ceil(n / b)

  def jobs():
    for k in range(nb):
      yield [(int(j),) for j in range(k * b + lo, k * b + lo + local)]

  pad = None

  def make(j):
    if j < n:
      return split.example(j)
    return None

  for examples in _run(jobs(), make, cfg.num_workers, cfg.prefetch):
    real = [e for e in examples if e is not None]
    if pad is None and real:
      pad = {
        "image": np.zeros_like(real[0]["image"]),
        "label": 0,
        "index": -1,
      }
      if "lesion_mask" in real[0]:
        pad["lesion_mask"] = np.zeros_like(real[0]["lesion_mask"])
    if pad is None:  # this host's rows are all padding
      s = cfg.image_size
      pad = {"image": np.zeros((s, s, 3), np.float32), "label": 0, "index": -1}
      if split.has_masks:
        pad["lesion_mask"] = np.zeros((s, s), np.float32)
    batch = _stack([pad if e is None else e for e in examples])
    batch["valid"] = np.asarray([e is not None for e in examples])
    yield batch


def to_global(batch: dict, mesh=None, axis: str = "data") -> dict:
  """This host's batch -> global `jax.Array`s sharded over `axis`.

  Args:
    batch: numpy arrays whose leading dimension is this host's rows.
    mesh: a `jax.sharding.Mesh`; None puts the batch on the default device.
    axis: the mesh axis (or tuple of axes) that splits the batch.

  Returns:
    The same keys as `jax.Array`s of global leading size
    rows * process_count, sharded `PartitionSpec(axis)`.
  """
  import jax

  if mesh is None:
    return jax.device_put(batch)
  sharding = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(axis))
  n_shards = math.prod(
    mesh.shape[a] for a in ((axis,) if isinstance(axis, str) else axis)
  )

  def put(x):
    x = np.asarray(x)
    if (x.shape[0] * jax.process_count()) % n_shards:
      raise DataError(
        f"A global batch of {x.shape[0] * jax.process_count()} rows cannot "
        f"be split over {n_shards} devices on mesh axis {axis!r}; choose a "
        "batch size divisible by the device count."
      )
    return jax.make_array_from_process_local_data(sharding, x)

  return jax.tree.map(put, batch)


def prefetch_to_device(
  batches: Iterator[dict], mesh=None, axis: str = "data", size: int = 2
) -> Iterator[dict]:
  """Keeps `size` batches already transferred (`to_global`) ahead."""
  queue = collections.deque()
  for batch in batches:
    queue.append(to_global(batch, mesh, axis))
    if len(queue) > size:
      yield queue.popleft()
  while queue:
    yield queue.popleft()
