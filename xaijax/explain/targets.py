# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Per-image targets: which class, and which score of it, is explained.

A target is a class index per image (default: the predicted class, the argmax
of the clean logits) and a score kind shared by the batch:

* `"logit"`: the raw logit f_c(x), pytorch-grad-cam's `ClassifierOutputTarget`
  and the default for CAMs.
* `"softmax"`: the probability softmax(f(x))_c, `ClassifierOutputSoftmaxTarget`
  (what the evaluation metrics use).

A single-logit (sigmoid) head has K = 1 and two classes: class 1 scores +f and
class 0 scores -f (`BinaryClassifierOutputTarget`); with `"softmax"` the
scores are sigmoid(+f) and sigmoid(-f) = 1 - sigmoid(f).
"""

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
SCORES = ("logit", "softmax")


def num_target_classes(num_logits: int) -> int:
  """Classes a head with `num_logits` outputs can explain (2 for K = 1)."""
  return 2 if num_logits == 1 else num_logits


def predicted_classes(logits: Array) -> Array:
  """(B, K) logits -> (B,) int32 predicted class (sigmoid head: f > 0)."""
  if logits.shape[-1] == 1:
    return (logits[:, 0] > 0).astype(jnp.int32)
  return jnp.argmax(logits, axis=-1).astype(jnp.int32)


def scores(logits: Array, classes: Array, score: str = "logit") -> Array:
  """Each image's target score.

  Args:
    logits: (B, K) float logits.
    classes: (B,) int class per image.
    score: "logit" or "softmax" (see the module docstring).

  Returns:
    (B,) float32 scores.
  """
  logits = logits.astype(jnp.float32)
  if logits.shape[-1] == 1:
    signed = jnp.where(classes == 1, logits[:, 0], -logits[:, 0])
    return jax.nn.sigmoid(signed) if score == "softmax" else signed
  if score == "softmax":
    logits = jax.nn.log_softmax(logits, axis=-1)
  picked = jnp.take_along_axis(logits, classes[:, None], axis=-1)[:, 0]
  return jnp.exp(picked) if score == "softmax" else picked


def variant_scores(
  module, variables, variants: Array, classes: Array, score: str
) -> Array:
  """Target scores of k variants of each image (masked, noisy, on a path).

  One eval-mode forward pass of the B * k images, image-major, so that a
  batch sharded over devices stays sharded (a variant-major batch would be
  gathered onto every device).

  Args:
    module, variables: the classifier.
    variants: (B, k, H, W, 3) k inputs per image.
    classes: (B,) the class explained for each image.
    score: "logit" or "softmax".

  Returns:
    (B, k) float32 scores of each image's class.
  """
  batch, k = variants.shape[:2]
  flat = variants.reshape(-1, *variants.shape[2:])
  logits = module.apply(variables, flat, train=False)
  return scores(logits, jnp.repeat(classes, k), score).reshape(batch, k)


def check_score(score: str) -> None:
  if score not in SCORES:
    raise ValueError(
      f"Unknown target score '{score}'; choose one of {', '.join(SCORES)}."
    )


def check_targets(
  targets: int | Sequence[int] | np.ndarray | Array | None,
  batch_size: int,
  num_logits: int,
) -> np.ndarray | Array | None:
  """Validates user targets on the host and returns (B,) int32 or None.

  Traced targets (a call inside the caller's own `jax.jit`) are passed
  through with a shape check only.

  Args:
    targets: None (predicted class), one int for every image, or one class
      per image.
    batch_size: B.
    num_logits: K, the size of the model's output.

  Raises:
    ValueError: wrong count, non-integer or out-of-range classes.
  """
  if targets is None:
    return None
  if isinstance(targets, jax.core.Tracer):
    # Inside a caller's jit the values are unknown: only the shape is checked.
    if targets.shape != (batch_size,):
      raise ValueError(
        f"targets must give one class per image: expected shape "
        f"({batch_size},), got {targets.shape}."
      )
    return targets.astype(jnp.int32)
  classes = np.asarray(targets)
  if classes.ndim == 0:
    classes = np.full((batch_size,), classes)
  if classes.shape != (batch_size,):
    raise ValueError(
      f"targets must give one class per image: expected shape ({batch_size},)"
      f" or a single int, got shape {classes.shape}."
    )
  if not np.issubdtype(classes.dtype, np.integer):
    raise ValueError(
      f"targets must be integer class indices, got dtype {classes.dtype}."
    )
  limit = num_target_classes(num_logits)
  bad = (classes < 0) | (classes >= limit)
  if bad.any():
    head = "a single-logit head (0 or 1)" if num_logits == 1 else "the head"
    raise ValueError(
      f"Target class(es) {classes[bad].tolist()} out of range for {head}: "
      f"valid classes are 0..{limit - 1}."
    )
  return classes.astype(np.int32)
