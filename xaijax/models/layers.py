# Copyright 2026 The xaijax Authors.
# SPDX-License-Identifier: Apache-2.0
"""Building blocks that behave exactly like their torchvision counterparts.

Every block here is a named `nn.Module` (even the parameter-free ones such as
ReLU and pooling) because a module's name path is what makes its output
addressable as a CAM layer (`features.29`, `features.norm5`, ...). Images are
NHWC throughout; parameters are float32 and the compute dtype is a field.
"""

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

Dtype = Any

# torchvision initialises convolutions with kaiming_normal_(mode="fan_out").
conv_init = nn.initializers.variance_scaling(2.0, "fan_out", "normal")


def check_images(x: jax.Array) -> None:
  """Raises a clear error for inputs that are not (B, H, W, 3) images."""
  if x.ndim != 4:
    raise ValueError(
      f"Expected images of shape (B, H, W, C), got shape {x.shape}."
    )
  if x.shape[-1] != 3 and x.shape[1] == 3:
    raise ValueError(
      f"Images of shape {x.shape} look channels-first (NCHW); xaijax models "
      "take NHWC: transpose with x.transpose(0, 2, 3, 1)."
    )
  if x.shape[-1] != 3:
    raise ValueError(
      f"Expected 3 colour channels in the last axis, got shape {x.shape}; "
      "grayscale images must be repeated to 3 channels by the data pipeline."
    )


def _window_taps(
  x: jax.Array,
  kernel_shape: tuple[int, int],
  strides: Sequence[int],
  padding: Sequence[tuple[int, int]],
) -> list[jax.Array]:
  """The kh*kw shifted, strided views of padded (B,H,W,C) `x` that a
  convolution window visits, each (B, out_h, out_w, C), row-major in (i, j)."""
  (kh, kw), (sh, sw) = kernel_shape, strides
  x = jnp.pad(x, ((0, 0), *padding, (0, 0)))
  out_h, out_w = (x.shape[1] - kh) // sh + 1, (x.shape[2] - kw) // sw + 1
  return [
    x[:, i : i + sh * (out_h - 1) + 1 : sh, j : j + sw * (out_w - 1) + 1 : sw]
    for i in range(kh)
    for j in range(kw)
  ]


def conv_general_dilated(
  x: jax.Array,
  kernel: jax.Array,
  strides: Sequence[int],
  padding: Sequence[tuple[int, int]],
  lhs_dilation: Sequence[int] | None = None,
  rhs_dilation: Sequence[int] | None = None,
  dimension_numbers: Any = None,
  feature_group_count: int = 1,
  precision: Any = None,
) -> jax.Array:
  """`lax.conv_general_dilated` for NHWC x and HWIO kernel, as nn.Conv calls it.

  Two kinds of convolution are computed as one matmul over the window's taps
  (im2col) instead, because XLA:CPU runs them much slower as convolutions:
  * 1x1 kernels without padding (most of ResNet-50, DenseNet-121 and
    EfficientNet-B0): its dot is up to 1.8x faster than its convolution;
  * windows larger than the input map (a 3x3 kernel on ResNet-50's 2x2 layer4
    at 64 px): XLA swaps the operands of such a convolution and XLA:CPU runs
    the swapped one ~70x slower (0.1 s for batch 16 x 512 channels).
  The result is the same up to float summation order; grouped, dilated and
  every other convolution go to `lax.conv_general_dilated` unchanged.
  """
  kh, kw = kernel.shape[:2]
  dilations = (*(lhs_dilation or ()), *(rhs_dilation or ()))
  plain = (
    feature_group_count == 1
    and not isinstance(padding, str)
    and all(d == 1 for d in dilations)
  )
  pointwise = (kh, kw) == (1, 1) and all(p == (0, 0) for p in padding)
  window_exceeds_input = kh * kw > x.shape[1] * x.shape[2]
  if plain and (pointwise or window_exceeds_input):
    patches = jnp.concatenate(
      _window_taps(x, (kh, kw), strides, padding), axis=-1
    )
    return jnp.matmul(
      patches, kernel.reshape(-1, kernel.shape[-1]), precision=precision
    )
  return jax.lax.conv_general_dilated(
    x,
    kernel,
    strides,
    padding,
    lhs_dilation=lhs_dilation,
    rhs_dilation=rhs_dilation,
    dimension_numbers=dimension_numbers,
    feature_group_count=feature_group_count,
    precision=precision,
  )


def conv(
  features: int,
  kernel_size: int,
  stride: int = 1,
  padding: int = 0,
  groups: int = 1,
  use_bias: bool = False,
  *,
  dtype: Dtype = jnp.float32,
  name: str,
) -> nn.Conv:
  """torch.nn.Conv2d: symmetric integer padding, optional groups and bias."""
  return nn.Conv(
    features,
    (kernel_size, kernel_size),
    strides=(stride, stride),
    padding=((padding, padding), (padding, padding)),
    feature_group_count=groups,
    use_bias=use_bias,
    kernel_init=conv_init,
    dtype=dtype,
    param_dtype=jnp.float32,
    conv_general_dilated=conv_general_dilated,
    name=name,
  )


class DepthwiseConv(nn.Module):
  """Depthwise torch.nn.Conv2d (groups == channels), no bias, as a sum of taps.

  Written as k*k shifted, strided slices times per-channel weights rather than
  a grouped convolution: XLA fuses the sum into one pass over the input, which
  on CPU is 5-30x faster forward and 3-10x backward than its grouped
  convolution (measured on EfficientNet-B0's shapes), with the same
  parameter (`kernel`, (k, k, 1, C) as nn.Conv) and the same result.
  """

  kernel_size: int
  stride: int = 1
  padding: int = 0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    k, s, p = self.kernel_size, self.stride, self.padding
    kernel = self.param(
      "kernel", conv_init, (k, k, 1, x.shape[-1]), jnp.float32
    ).astype(self.dtype)
    taps = _window_taps(x.astype(self.dtype), (k, k), (s, s), ((p, p), (p, p)))
    return sum(
      tap * kernel[index // k, index % k, 0] for index, tap in enumerate(taps)
    )


class BatchNorm(nn.BatchNorm):
  """torch.nn.BatchNorm2d over the last axis, in train and eval mode.

  flax's nn.BatchNorm differs from torch in two ways, both changed here:
  * The batch variance is two-pass, mean((x - mean)^2), as torch computes it,
    not E[x^2] - E[x]^2 (flax's default): that difference cancels in float32
    when |mean| >> std, as in DenseNet-121's concatenated features, where it
    made the float32 gradients up to ~600x less accurate than torch's
    (tests/models/test_train_parity.py).
  * The running variance is updated with the unbiased batch variance,
    var * n / (n - 1) over the n = B*H*W values of a channel, as torch does:
    "the value stored in the moving average of the standard-deviation is
    calculated via the unbiased estimator, equivalent to
    torch.var(input, correction=1)" (torch.nn.BatchNorm2d's documentation).
    Normalisation itself uses the biased variance in both.
  Inherited fields honoured: use_running_average, momentum (flax's: the
  weight of the old average, 1 - torch's momentum), epsilon, dtype,
  param_dtype, use_bias, use_scale, scale_init, bias_init. Statistics are
  computed in at least float32; over the global batch when the batch is
  sharded (one jitted program, so no axis_name).
  """

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    """(..., C) -> (..., C), in `dtype`; batch statistics when training."""
    features = x.shape[-1]
    running_mean = self.variable(
      "batch_stats", "mean", jnp.zeros, (features,), jnp.float32
    )
    running_var = self.variable(
      "batch_stats", "var", jnp.ones, (features,), jnp.float32
    )
    if self.use_running_average:
      mean, var = running_mean.value, running_var.value
    else:
      values = x.astype(jnp.promote_types(jnp.float32, x.dtype))
      axes = tuple(range(x.ndim - 1))
      count = values.size // features
      if count < 2:
        raise ValueError(  # torch raises the same: no variance of 1 value.
          f"Expected more than 1 value per channel when training, got input "
          f"shape {x.shape}."
        )
      mean = values.mean(axes)
      var = jnp.square(values - mean).mean(axes)
      if not self.is_initializing():
        decay = self.momentum
        running_mean.value = decay * running_mean.value + (1 - decay) * mean
        running_var.value = decay * running_var.value + (1 - decay) * (
          var * (count / (count - 1))
        )
    mul = jax.lax.rsqrt(var + self.epsilon)
    if self.use_scale:
      mul = mul * self.param(
        "scale", self.scale_init, (features,), self.param_dtype
      )
    y = (x - mean) * mul  # float32 (or wider) whatever x's dtype
    if self.use_bias:
      y = y + self.param("bias", self.bias_init, (features,), self.param_dtype)
    return y.astype(self.dtype or x.dtype)


def batch_norm(
  train: bool, *, epsilon: float = 1e-5, dtype: Dtype = jnp.float32, name: str
) -> BatchNorm:
  """torch.nn.BatchNorm2d; running statistics whenever `train` is False."""
  return BatchNorm(
    use_running_average=not train,
    momentum=0.9,  # torch's momentum=0.1 is the weight of the new batch.
    epsilon=epsilon,
    dtype=dtype,
    param_dtype=jnp.float32,
    name=name,
  )


def _torch_linear_init(key, shape, dtype=jnp.float32):
  bound = 1.0 / np.sqrt(shape[0])
  return jax.random.uniform(key, shape, dtype, -bound, bound)


def _torch_linear_bias_init(fan_in: int):
  bound = 1.0 / np.sqrt(fan_in)
  return lambda key, shape, dtype=jnp.float32: jax.random.uniform(
    key, shape, dtype, -bound, bound
  )


def dense(
  features: int, fan_in: int, *, dtype: Dtype = jnp.float32, name: str
) -> nn.Dense:
  """torch.nn.Linear with torch's default U(-1/sqrt(fan_in), ..) init."""
  return nn.Dense(
    features,
    kernel_init=_torch_linear_init,
    bias_init=_torch_linear_bias_init(fan_in),
    dtype=dtype,
    param_dtype=jnp.float32,
    name=name,
  )


class ReLU(nn.Module):
  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return nn.relu(x)


class SiLU(nn.Module):
  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return nn.silu(x)


class MaxPool(nn.Module):
  """torch.nn.MaxPool2d (padding counts as -inf, floor mode)."""

  window: int
  stride: int
  padding: int = 0

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    p = self.padding
    return nn.max_pool(
      x,
      (self.window, self.window),
      strides=(self.stride, self.stride),
      padding=((p, p), (p, p)),
    )


class AvgPool(nn.Module):
  """torch.nn.AvgPool2d without padding."""

  window: int
  stride: int

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return nn.avg_pool(
      x, (self.window, self.window), strides=(self.stride, self.stride)
    )


def _adaptive_pool_matrix(size_in: int, size_out: int) -> np.ndarray:
  """(size_out, size_in) averaging matrix with torch's adaptive bin edges."""
  matrix = np.zeros((size_out, size_in), np.float32)
  for i in range(size_out):
    start = (i * size_in) // size_out
    end = -((-(i + 1) * size_in) // size_out)  # ceil division
    matrix[i, start:end] = 1.0 / (end - start)
  return matrix


class AdaptiveAvgPool(nn.Module):
  """torch.nn.AdaptiveAvgPool2d for any input size, (B,H,W,C)->(B,h,w,C)."""

  output_size: Sequence[int]

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    out_h, out_w = self.output_size
    _, h, w, _ = x.shape
    if not (h and w):
      raise ValueError(
        "The input image is too small: the feature map is empty before "
        "adaptive pooling (VGG needs at least 32 px)."
      )
    if (h, w) == (out_h, out_w):
      return x
    rows = jnp.asarray(_adaptive_pool_matrix(h, out_h), x.dtype)
    cols = jnp.asarray(_adaptive_pool_matrix(w, out_w), x.dtype)
    return jnp.einsum("oh,bhwc,pw->bopc", rows, x, cols)


class GlobalAvgPool(nn.Module):
  """AdaptiveAvgPool2d(1) followed by flatten: (B,H,W,C) -> (B,C)."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    return jnp.mean(x, axis=(1, 2))


class ConvNormAct(nn.Module):
  """torchvision's Conv2dNormActivation (or a conv+BN `downsample`).

  Children are named "0" (conv), "1" (BatchNorm) and "2" (activation), as the
  torch Sequential indexes them.
  """

  features: int
  kernel_size: int
  stride: int = 1
  groups: int = 1
  activation: type[nn.Module] | None = None
  padding: int | None = None  # None: (kernel_size - 1) // 2 as torchvision.
  bn_epsilon: float = 1e-5
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False) -> jax.Array:
    padding = (
      (self.kernel_size - 1) // 2 if self.padding is None else self.padding
    )
    if self.groups > 1 and self.groups == self.features == x.shape[-1]:
      x = DepthwiseConv(
        self.kernel_size, self.stride, padding, self.dtype, name="0"
      )(x)
    else:
      x = conv(
        self.features,
        self.kernel_size,
        self.stride,
        padding,
        self.groups,
        dtype=self.dtype,
        name="0",
      )(x)
    x = batch_norm(train, epsilon=self.bn_epsilon, dtype=self.dtype, name="1")(
      x
    )
    if self.activation is not None:
      x = self.activation(name="2")(x)
    return x
