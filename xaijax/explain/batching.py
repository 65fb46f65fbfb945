# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Explanations of a batch sharded over a mesh, computed where the images are.

Every explanation is per image, so a batch sharded over a mesh's batch axis
is explained batch-parallel: each device computes the maps of its own images
and keeps them. `batch_sharding` reads that axis from the images (on the
host, before tracing); `batch_parallel` runs the traced computation with it,
for both kinds of mesh axes:

* Auto axes (`jax.sharding.Mesh(...)`, `xaijax.train.make_mesh`): XLA
  propagates the input sharding; the outputs are constrained to the batch
  sharding so that nothing is gathered (without it, SmoothGrad's replicated
  noise made its output replicated).
* Explicit axes (`jax.make_mesh(...)` by default): shardings are part of the
  types, and several steps (ScoreCAM's `jnp.unique`, the reshapes of the
  sample loops, LRP's broadcasts) have no unambiguous output sharding. The
  computation runs with the axes switched to Auto (`jax.sharding.auto_axes`)
  and the outputs come back sharded on the explicit mesh.
"""

from collections.abc import Callable

import jax

Array = jax.Array


def batch_sharding(images) -> jax.NamedSharding | None:
  """The images' (B, H, W, C) batch-axis sharding, or None if they have none.

  Args:
    images: a `jax.Array` (possibly sharded), a host array, or a tracer (a
      call inside the caller's own jit).

  Returns:
    NamedSharding(mesh, P(batch axes)) when the first axis is sharded over a
    mesh; None for host arrays, single-device arrays, replicated batches and
    tracers without Explicit mesh axes (there XLA propagates the caller's
    shardings).
  """
  if isinstance(images, jax.core.Tracer):
    # Only Explicit axes are part of a traced value's type.
    sharding = jax.typeof(images).sharding
  else:
    sharding = getattr(images, "sharding", None)
  if not isinstance(sharding, jax.NamedSharding):
    return None
  spec = sharding.spec
  if not spec or spec[0] is None:
    return None
  return jax.NamedSharding(sharding.mesh, jax.P(spec[0]))


def batch_parallel(
  fn: Callable, sharding: jax.NamedSharding | None, *args
) -> dict[str, Array]:
  """fn(*args), traced inside jit, with every output sharded on the batch.

  Args:
    fn: *args -> {name: (B, ...) array}, each row from its own image.
    sharding: `batch_sharding(images)` (static), or None to call fn as is.
    *args: fn's array arguments.

  Returns:
    fn's outputs, each sharded like `sharding` on its first axis.
  """
  if sharding is None:
    return fn(*args)

  def constrained(*inputs, target):
    return jax.tree.map(
      lambda x: jax.lax.with_sharding_constraint(x, target), fn(*inputs)
    )

  if not sharding.mesh.explicit_axes:
    return constrained(*args, target=sharding)
  # Within auto_axes the mesh is abstract with Auto axes: a bare spec.
  return jax.sharding.auto_axes(
    lambda *inputs: constrained(*inputs, target=sharding.spec),
    out_sharding=sharding,
  )(*args)
