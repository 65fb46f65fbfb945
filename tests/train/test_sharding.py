# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""State shardings: replicated by default, large leaves split on request."""

import jax
import numpy as np
import pytest
from jax.sharding import PartitionSpec

from xaijax.train import sharding


def _state():
  return {
    "dense": jax.ShapeDtypeStruct((512, 4096), np.float32),
    "bias": jax.ShapeDtypeStruct((4096,), np.float32),
  }


def test_replicate_everything():
  mesh = sharding.make_mesh()
  specs = sharding.state_shardings(_state(), mesh, "replicate", 1024)
  assert all(s.spec == PartitionSpec() for s in jax.tree.leaves(specs))


def test_shard_large_splits_the_largest_axis():
  mesh = sharding.make_mesh()
  specs = sharding.state_shardings(_state(), mesh, "shard_large", 8192)
  assert specs["dense"].spec == PartitionSpec(None, "data")
  assert specs["bias"].spec == PartitionSpec()  # below min_size


def test_unknown_mode_is_named():
  with pytest.raises(ValueError, match=r"config\.sharding\.params='fsdp'"):
    sharding.state_shardings(_state(), sharding.make_mesh(), "fsdp", 1)
