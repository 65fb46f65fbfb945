# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""First-principal-component projection (EigenCAM) with a sign rule.

pytorch-grad-cam projects the centred (hw, C) matrix onto its top right-
singular vector v1 and keeps whatever sign LAPACK returns (its issue #315), so
the ReLU that follows may keep the wrong lobe. Sign rules offered here:

* `"channel_sum"` (default, deterministic): flip v1 so that sum_k v1_k >= 0.
  Since <M v1, M 1> = sigma1^2 <v1, 1>, the projection then correlates
  positively with the channel sum of the projected tensor (the plain CAM of
  the same weighted activations): the map points where the evidence is.
* `"max_abs"`: flip when |min| > |max| (SegEigenCAM's correction).
* `"upstream"`: no correction; the sign is whatever the eigensolver returns
  (it need not equal numpy's SVD).

v1 comes from the eigenvectors of the smaller Gram matrix (M M^T or M^T M),
which gives the same projection sigma1 u1 as pytorch-grad-cam's SVD.
"""

import jax
import jax.numpy as jnp

Array = jax.Array
SIGN_RULES = ("channel_sum", "max_abs", "upstream")


def _top_right_vector(m: Array) -> Array:
  """Unit top right-singular vector of m (P, C), sign arbitrary.

  From the eigenvectors of the smaller Gram matrix: a full SVD of a wide
  (49, 2048) matrix per image is far slower on CPU than one small eigh.
  """
  highest = jax.lax.Precision.HIGHEST
  if m.shape[0] < m.shape[1]:
    _, u = jnp.linalg.eigh(jnp.matmul(m, m.T, precision=highest))
    v = jnp.matmul(m.T, u[:, -1], precision=highest)
    return v / jnp.maximum(jnp.linalg.norm(v), jnp.finfo(v.dtype).tiny)
  _, v = jnp.linalg.eigh(jnp.matmul(m.T, m, precision=highest))
  return v[:, -1]


def _project_one(x: Array, sign: str) -> Array:
  h, w, c = x.shape
  m = jnp.nan_to_num(x).reshape(h * w, c)
  m = m - jnp.mean(m, axis=0, keepdims=True)
  v = _top_right_vector(m)
  proj = jnp.einsum("pc,c->p", m, v, precision=jax.lax.Precision.HIGHEST)
  if sign == "channel_sum":
    proj = jnp.where(jnp.sum(v) < 0, -proj, proj)
  elif sign == "max_abs":
    proj = jnp.where(-jnp.min(proj) > jnp.max(proj), -proj, proj)
  return proj.reshape(h, w)


def project(x: Array, sign: str = "channel_sum") -> Array:
  """(B, h, w, C) -> (B, h, w) projection on the first principal component."""
  if sign not in SIGN_RULES:
    raise ValueError(
      f"Unknown eigen sign rule '{sign}'; choose one of {SIGN_RULES}."
    )
  return jax.vmap(lambda one: _project_one(one, sign))(x)
