"""Normalization: batch_norm, layer_norm, group_norm, instance_norm, each one node.

All of them compute, with statistics over some axes of the input (seen in a "view" shape),

    xhat = (x - mean) / sqrt(var + eps),   y = xhat * weight + bias

(biased variance), and differ only in the view, the axes and the affine parameters' shape.
The backward is the hand-derived one,

    dx = rstd * (gh - mean(gh) - xhat * mean(gh * xhat)),   gh = g * weight

(just rstd * gh when the statistics are fixed: batch norm in eval mode), dweight = sum(g * xhat),
dbias = sum(g). It is written with Python operators and array methods that Tensors also
have, so under create_graph it records its own graph; there xhat is recomputed from the saved
input with library ops (so that its dependence on x is differentiated too), which makes
gradgradcheck pass. A first-order backward uses the mean and rstd kept from the forward.
"""
import math

import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..tensor import Tensor


class _Normalize(Node):
    """Normalizes `x` over `axes` of `x.reshape(view)`; `affine_shape` reshapes weight and
    bias to broadcast against x; `param_axes` are the axes of x their gradients sum over.
    `stats`: fixed (mean, var) arrays (in the view's kept shape) instead of the batch's."""

    def forward(self, x, weight, bias, *, view, axes, affine_shape, param_axes, eps,
                stats=None, running=None):
        xp = array_module(x)
        xv = x.reshape(view)
        if stats is None:
            mean = xv.mean(axis=axes, keepdims=True)
            centered = xv - mean
            var = (centered * centered).mean(axis=axes, keepdims=True)
            if running is not None:
                _update_running(xp, running, mean, var, math.prod(view[a] for a in axes))
        else:
            mean, var = stats
            centered = xv - mean
        rstd = 1.0 / xp.sqrt(var + eps)
        y = (centered * rstd).reshape(x.shape)
        if weight is not None:
            y = y * weight.reshape(affine_shape)
        if bias is not None:
            y = y + bias.reshape(affine_shape)
        self.mean, self.rstd = mean, rstd
        self.view, self.axes, self.affine_shape, self.param_axes = view, axes, affine_shape, param_axes
        self.eps, self.fixed = eps, stats is not None
        self.has_weight = weight is not None
        self.save_for_backward(*((x, weight) if weight is not None else (x,)))
        return y

    def backward(self, g):
        saved = self.saved_tensors
        x, w = saved[0], (saved[1] if self.has_weight else None)
        need = self.needs_input_grad
        view, axes = self.view, self.axes
        if self.fixed:  # the statistics are constants: xhat is linear in x
            mean, rstd = self.mean, self.rstd
            xhat = (x.reshape(view) - mean) * rstd
        elif isinstance(x, Tensor):  # create_graph: the statistics as functions of x
            xv = x.reshape(view)
            centered = xv - xv.mean(axis=axes, keepdims=True)
            var = (centered * centered).mean(axis=axes, keepdims=True)
            rstd = (var + self.eps) ** -0.5
            xhat = centered * rstd
        else:
            rstd = self.rstd
            xhat = (x.reshape(view) - self.mean) * rstd
        gx = gw = gb = None
        if need[0]:
            gh = (g * w.reshape(self.affine_shape) if w is not None else g).reshape(view)
            if self.fixed:
                gxv = gh * rstd
            else:
                gxv = rstd * (gh - gh.mean(axis=axes, keepdims=True)
                              - xhat * (gh * xhat).mean(axis=axes, keepdims=True))
            gx = gxv.reshape(x.shape)
        if need[1]:
            gw = (g * xhat.reshape(x.shape)).sum(axis=self.param_axes)
        if need[2]:
            gb = g.sum(axis=self.param_axes)
        return gx, gw, gb


def _update_running(xp, running, mean, var, n):
    """running = (1 - momentum) running + momentum stat, in place; the variance unbiased
    (n / (n - 1)), as PyTorch keeps it. mean and var are (1, C, 1, ...)-shaped (batch norm)
    or (N, C, 1)-shaped (instance norm: averaged over the batch)."""
    running_mean, running_var, momentum = running
    flat_mean = mean.reshape(mean.shape[0], -1).mean(axis=0)
    flat_var = var.reshape(var.shape[0], -1).mean(axis=0) * (n / (n - 1) if n > 1 else math.nan)
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += (momentum * flat_mean).astype(running_mean.dtype, copy=False)
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += (momentum * flat_var).astype(running_var.dtype, copy=False)


class BatchNorm(_Normalize):
    name = "NativeBatchNormBackward0"


class LayerNorm(_Normalize):
    name = "NativeLayerNormBackward0"


class GroupNorm(_Normalize):
    name = "NativeGroupNormBackward0"


class InstanceNorm(_Normalize):
    # PyTorch computes it as a batch norm of a reshaped input, so its node is that view's
    name = "ViewBackward0"


# ---------------------------------------------------------------- plain functions


def _raw(t):
    return t._data if isinstance(t, Tensor) else t


def _size_str(shape):
    return "torch.Size([" + ", ".join(str(n) for n in shape) + "])"


def _bump(t):
    """A buffer written in place: its version counter says so (as PyTorch's in-place ops)."""
    if isinstance(t, Tensor):
        t._version[0] += 1


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
    """As torch.nn.functional.batch_norm: statistics per channel (dim 1) over every other
    dim; in training the batch's (and running_mean/var updated in place, the variance
    unbiased), otherwise running_mean/var.

    Args:
        input: the input, shape (N, C, ...).
        running_mean: the (C,) running means (None allowed in training only).
        running_var: the (C,) running variances (None allowed in training only).
        weight: an optional (C,) scale (gamma).
        bias: an optional (C,) shift (beta).
        training: normalize with the batch's statistics (and update the running ones).
        momentum: the running statistics move this fraction towards the batch's.
        eps: added to the variance, for stability.

    Returns:
        Tensor: of input's shape.
    """
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise ValueError(f"Expected 2D or more input (got {len(shape)}D input)")
    c = shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")
    if training and math.prod(shape) // c <= 1:
        raise ValueError(
            "Expected more than 1 value per channel when training, got input size "
            + _size_str(shape))
    kept = (1, c) + (1,) * (len(shape) - 2)
    axes = (0,) + tuple(range(2, len(shape)))
    kw = dict(view=shape, axes=axes, affine_shape=kept, param_axes=axes, eps=float(eps))
    if training:
        if running_mean is not None or running_var is not None:
            kw["running"] = (_raw(running_mean), _raw(running_var), float(momentum))
        out = BatchNorm.apply(input, weight, bias, **kw)
        _bump(running_mean)
        _bump(running_var)
        return out
    if running_mean is None or running_var is None:
        raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
    stats = (_raw(running_mean).reshape(kept), _raw(running_var).reshape(kept))
    return BatchNorm.apply(input, weight, bias, stats=stats, **kw)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """As torch.nn.functional.layer_norm: statistics over the last len(normalized_shape) dims.

    Args:
        input: the input, shape (..., *normalized_shape).
        normalized_shape: the trailing shape normalized over (an int or a sequence).
        weight: an optional scale of shape normalized_shape.
        bias: an optional shift of shape normalized_shape.
        eps: added to the variance, for stability.

    Returns:
        Tensor: of input's shape.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> F.layer_norm(torch.tensor([[1.0, 2.0, 3.0]]), (3,))
        tensor([[-1.2247,  0.0000,  1.2247]])
    """
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (int(normalized_shape),)
    normalized_shape = tuple(int(n) for n in normalized_shape)
    shape = tuple(input.shape)
    k = len(normalized_shape)
    if k == 0 or len(shape) < k or shape[len(shape) - k:] != normalized_shape:
        star = ", ".join(["*"] + [str(n) for n in normalized_shape])
        raise RuntimeError(
            f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
            f"[{star}], but got input of size{list(shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != normalized_shape:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(t.shape)} and normalized_shape = {list(normalized_shape)}")
    lead = len(shape) - k
    axes = tuple(range(lead, len(shape)))
    return LayerNorm.apply(input, weight, bias, view=shape, axes=axes,
                           affine_shape=normalized_shape, param_axes=tuple(range(lead)),
                           eps=float(eps))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """As torch.nn.functional.group_norm: the channels (dim 1) in num_groups groups, each
    normalized with its spatial dims, per sample.

    Args:
        input: the input, shape (N, C, ...).
        num_groups: the number of groups (C divisible by it).
        weight: an optional (C,) scale.
        bias: an optional (C,) shift.
        eps: added to the variance, for stability.

    Returns:
        Tensor: of input's shape.
    """
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {len(shape)}")
    n, c = shape[0], shape[1]
    if c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got "
            f"input of shape {list(shape)} and num_groups={num_groups}")
    for t in (weight, bias):
        if t is not None and (t.ndim != 1 or t.numel() != c):
            which = "weight" if t is weight else "bias"
            raise RuntimeError(
                f"Expected {which} to be a vector of size equal to the number of channels in "
                f"input, but got {which} of shape {list(t.shape)} and input of shape {list(shape)}")
    kept = (1, c) + (1,) * (len(shape) - 2)
    return GroupNorm.apply(input, weight, bias, view=(n, num_groups, math.prod(shape) // max(n * num_groups, 1)),
                           axes=(2,), affine_shape=kept,
                           param_axes=(0,) + tuple(range(2, len(shape))), eps=float(eps))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """As torch.nn.functional.instance_norm: each (sample, channel) normalized over its
    spatial dims; running_mean/var (optional) track the batch average of those statistics.

    Args:
        input: the input, shape (N, C, ...).
        running_mean: optional (C,) running means, updated in place when use_input_stats.
        running_var: optional (C,) running variances, updated in place when use_input_stats.
        weight: an optional (C,) scale.
        bias: an optional (C,) shift.
        use_input_stats: normalize with each instance's statistics (False: the running
            ones, which must then be given).
        momentum: the running statistics move this fraction towards the batch's.
        eps: added to the variance, for stability.

    Returns:
        Tensor: of input's shape.
    """
    shape = tuple(input.shape)
    n, c = shape[0], shape[1]
    if use_input_stats and math.prod(shape[2:]) <= 1:
        raise ValueError(
            "Expected more than 1 spatial element when training, got input size "
            + _size_str(shape))
    kept = (1, c) + (1,) * (len(shape) - 2)
    param_axes = (0,) + tuple(range(2, len(shape)))
    view = (n, c, math.prod(shape[2:]))
    kw = dict(view=view, axes=(2,), affine_shape=kept, param_axes=param_axes, eps=float(eps))
    if use_input_stats:
        if running_mean is not None or running_var is not None:
            kw["running"] = (_raw(running_mean), _raw(running_var), float(momentum))
        out = InstanceNorm.apply(input, weight, bias, **kw)
        _bump(running_mean)
        _bump(running_var)
        return out
    stats = (_raw(running_mean).reshape(1, c, 1), _raw(running_var).reshape(1, c, 1))
    return InstanceNorm.apply(input, weight, bias, stats=stats, **kw)


__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]
