# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Multi-host start-up, the device mesh and the shardings of a run.

One `Mesh` over every device of every process with a single 'data' axis:
batches are split along it, the train state is replicated, and XLA inserts
the gradient all-reduce (data parallelism written as one jitted program, the
`pjit` model). Large parameters (VGG16's 4096-wide dense layers) may instead
be split along 'data' with `config.sharding.params='shard_large'`.
"""

import os

import jax
import ml_collections
import numpy as np
from absl import logging
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def initialize_distributed(config: ml_collections.ConfigDict) -> None:
  """Joins the processes of a multi-host run (no-op for one process).

  `config.distributed.coordinator_address` ('host:port') with
  `num_processes` and `process_id` starts an explicit cluster (multi-node GPU,
  or several CPU processes in tests). `config.distributed.auto=True` calls
  `jax.distributed.initialize()` without arguments, which discovers the
  cluster on Cloud TPU pods, SLURM and Kubernetes.
  """
  dist = config.distributed
  if not (dist.coordinator_address or dist.auto):
    return
  if jax.distributed.is_initialized():
    return  # the launcher joined already (a study then trains its runs)
  if dist.cpu_collectives:
    # CPU collectives across processes need an implementation; it must be
    # chosen before the backend starts. GPU/TPU ignore this setting.
    jax.config.update(
      "jax_cpu_collectives_implementation", dist.cpu_collectives
    )
  if dist.auto:
    jax.distributed.initialize()
  else:
    if dist.num_processes < 1 or not 0 <= dist.process_id < dist.num_processes:
      raise ValueError(
        "With config.distributed.coordinator_address set, give "
        "config.distributed.num_processes >= 1 and 0 <= process_id < "
        f"num_processes; got {dist.num_processes} and {dist.process_id}."
      )
    jax.distributed.initialize(
      coordinator_address=dist.coordinator_address,
      num_processes=dist.num_processes,
      process_id=dist.process_id,
    )
  logging.info(
    "Process %d of %d on %s: %d local / %d global devices.",
    jax.process_index(),
    jax.process_count(),
    os.uname().nodename,
    jax.local_device_count(),
    jax.device_count(),
  )


def make_mesh() -> Mesh:
  """A 1-D mesh over all devices of all processes, axis 'data'."""
  return Mesh(np.asarray(jax.devices()), (DATA_AXIS,))


def batch_sharding(mesh: Mesh) -> NamedSharding:
  """Leading (batch) axis split over 'data'."""
  return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, PartitionSpec())


def state_shardings(abstract_state, mesh: Mesh, mode: str, min_size: int):
  """Shardings for every leaf of the (abstract) train state.

  Args:
    abstract_state: pytree of ShapeDtypeStructs.
    mesh: the mesh.
    mode: 'replicate' (every leaf everywhere) or 'shard_large' (leaves with
      at least `min_size` elements are split along their largest axis that
      the 'data' axis divides; optimizer moments follow their parameters).
    min_size: the element count from which 'shard_large' splits a leaf.

  Returns:
    A pytree of NamedShardings like `abstract_state`.
  """
  if mode not in ("replicate", "shard_large"):
    raise ValueError(
      f"Unknown config.sharding.params='{mode}'; use 'replicate' or "
      "'shard_large'."
    )
  num = mesh.shape[DATA_AXIS]

  def leaf_sharding(leaf):
    if mode == "replicate" or leaf.size < min_size:
      return replicated(mesh)
    axes = [a for a in np.argsort(leaf.shape)[::-1] if leaf.shape[a] % num == 0]
    if not axes:
      return replicated(mesh)
    spec = [None] * leaf.ndim
    spec[axes[0]] = DATA_AXIS
    return NamedSharding(mesh, PartitionSpec(*spec))

  return jax.tree.map(leaf_sharding, abstract_state)


def put_global(tree, shardings):
  """Host arrays identical on every process -> global jax.Arrays.

  Works across processes, where `jax.device_put` onto devices of other
  processes is not allowed: each process fills its own shards.
  """

  def put(x, sharding):
    x = np.asarray(x)
    return jax.make_array_from_callback(x.shape, sharding, lambda i: x[i])

  return jax.tree.map(put, tree, shardings)
