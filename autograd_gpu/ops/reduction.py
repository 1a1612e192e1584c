"""Reductions: sum, mean, var, std, prod, max/min, argmax/argmin, logsumexp, softmax,
log_softmax, norm. Every one takes ``dim=`` (or NumPy's ``axis=``) and ``keepdim=``
(or ``keepdims=``). max/min split the gradient evenly between tied maxima, as PyTorch's
amax does; with ``dim`` they return ``(values, indices)`` and the gradient goes to the index.
"""
import math

import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..backend.execute import fill_from, is_host_scalar, spread, sum_all
from ..tensor import Tensor, _wrap
from ._dims import normalize_dims
from ._return_types import return_type
from .elementwise import exp, sqrt, where


def _reduce_axes(dim, ndim, op):
    """normalize_dims for a reduction: on a 0-d tensor, dim 0 or -1 is the whole tensor (as
    PyTorch), which NumPy spells axis=None."""
    axes = normalize_dims(dim, ndim, op)
    return None if ndim == 0 else axes


def _dim_args(dim, axis, keepdim, keepdims):
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


def _kept_shape(shape, axes):
    """The shape with reduced axes kept as 1 (for broadcasting a gradient back)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _reduced_shape(shape, axes, keepdim):
    if keepdim:
        return _kept_shape(shape, axes)
    return tuple(n for i, n in enumerate(shape) if axes is not None and i not in axes)


def _expand_grad(g, in_shape, axes, n=1):
    """The gradient of a reduction, broadcast back over the reduced axes, divided by `n`
    (a mean's count)."""
    if axes is None and is_host_scalar(g):
        # the common x.sum() / x.mean() on the host: one new array filled with g / n (the
        # tape's host path makes the same one), the quotient in double rounded once to g's
        # type: the correctly rounded quotient, where NumPy's float16 division would take n
        # as a float16 (inexact above 2048, inf above 65504)
        out = spread(in_shape, g, n)
        if out is not None:
            return out
        if n != 1 and math.prod(in_shape):
            g = np.asarray(g.item() / n, g.dtype)
    elif n != 1:
        g = g / n
    if isinstance(g, Tensor) or math.prod(in_shape) > _MATERIALIZE_BELOW:
        return _shape_ops.broadcast_to(g.reshape(_kept_shape(in_shape, axes)), in_shape)
    # small: filling a new array is far cheaper than NumPy's Python-level broadcast_to
    return fill_from(in_shape, g.reshape(_kept_shape(in_shape, axes)), g.dtype)


_MATERIALIZE_BELOW = 1 << 16


class Sum(Node):
    _tape_op = 6  # (x.sum() of a small host array: the tape runs forward and backward, see
    #               ops/arithmetic.py's note on the host arithmetic)

    def forward(self, x, axes, keepdim):
        self.in_shape, self.axes = x.shape, axes
        if axes is None and not keepdim:
            return sum_all(x)
        if axes is not None:
            self.name = "SumBackward1"
        return x.sum(axis=axes, keepdims=keepdim)

    def backward(self, g):
        return _expand_grad(g, self.in_shape, self.axes)


class Mean(Node):
    _tape_op = 7  # (as Sum's)

    def forward(self, x, axes, keepdim):
        if x.dtype.kind not in "fc":
            raise RuntimeError(
                "mean(): could not infer output dtype. Input dtype must be either a floating "
                f"point or complex dtype. Got: {x.dtype} (convert with .float() first)"
            )
        self.in_shape, self.axes = x.shape, axes
        if axes is not None:
            self.name = "MeanBackward1"
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        self.n = n
        if x.dtype.char == "e":  # float16: NumPy accumulates its means in float32
            return x.mean(axis=axes, keepdims=keepdim)
        # the same result as x.mean() for float32/64, without NumPy's Python-level overhead
        if axes is None and not keepdim:
            return sum_all(x) / n
        return x.sum(axis=axes, keepdims=keepdim) / n

    def backward(self, g):
        return _expand_grad(g, self.in_shape, self.axes, self.n)


class Var(Node):
    def forward(self, x, axes, correction, keepdim):
        self.save_for_backward(x)
        self.axes, self.keepdim = axes, keepdim
        n = x.size if axes is None else int(np.prod([x.shape[a] for a in axes]))
        self.denom = n - correction if n > correction else 0  # the builtin max is shadowed here
        xp = array_module(x)
        if n and not self.denom:  # nan, as PyTorch, with its warning instead of NumPy's
            import warnings

            warnings.warn(
                "var(): degrees of freedom is <= 0. Correction should be strictly less than the "
                "reduction factor (input numel divided by output numel).", UserWarning, stacklevel=3)
            return xp.var(x, axis=axes, keepdims=keepdim) * np.nan
        return xp.var(x, axis=axes, ddof=correction, keepdims=keepdim)

    def backward(self, g):
        (x,) = self.saved_tensors
        centered = x - x.mean(axis=self.axes, keepdims=True)
        scale = 2.0 / self.denom if self.denom else np.nan
        return _expand_grad(g, x.shape, self.axes) * centered * scale


class Prod(Node):
    def forward(self, x, axes, keepdim):
        self.axes, self.keepdim = axes, keepdim
        if axes is not None:  # PyTorch's prod(dim) overload
            self.name = "ProdBackward1"
        y = x.prod(axis=axes, keepdims=keepdim)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved_tensors
        kshape = _kept_shape(x.shape, self.axes)
        raw = x._data if isinstance(x, Tensor) else x
        # y / x where x != 0; where it is 0, the product of all other elements, by exclusive
        # cumulative products along the flattened reduced axes (first-order exact; treated as
        # constant under create_graph). Both are computed and one chosen per element: testing
        # for zeros first would wait for the device on a GPU.
        nonzero = raw != 0
        ge = _expand_grad(g, x.shape, self.axes)
        safe_x = where(nonzero, x, 1)
        return where(nonzero, ge * y.reshape(kshape) / safe_x, ge * self._others(raw))

    def _others(self, raw):
        xp = array_module(raw)
        if not raw.size:
            return xp.zeros_like(raw)
        axes = tuple(range(raw.ndim)) if self.axes is None else self.axes
        rest = [i for i in range(raw.ndim) if i not in axes]
        moved = xp.transpose(raw, rest + list(axes))
        flat = moved.reshape(moved.shape[: len(rest)] + (-1,))
        ones = xp.ones(flat.shape[:-1] + (1,), raw.dtype)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], -1), -1)
        right = xp.flip(xp.cumprod(xp.flip(xp.concatenate([flat[..., 1:], ones], -1), -1), -1), -1)
        others = (left * right).reshape(moved.shape)
        return xp.transpose(others, tuple(int(i) for i in np.argsort(rest + list(axes))))


class MaxMin(Node):
    """max or min over all elements, or over `dim` with indices."""

    def forward(self, x, axes, keepdim, is_max, with_indices):
        xp = array_module(x)
        if x.size == 0:
            raise IndexError(
                f"{'max' if is_max else 'min'}(): Expected reduction dim to be specified for "
                "input.numel() == 0. Specify the reduction dim with the 'dim' argument."
            )
        self.in_shape, self.axes = x.shape, axes
        if with_indices:
            (axis,) = axes
            idx = (xp.argmax if is_max else xp.argmin)(x, axis=axis)
            idx_k = xp.expand_dims(idx, axis)
            values = xp.take_along_axis(x, idx_k, axis=axis)
            self.name = "MaxBackward0" if is_max else "MinBackward0"
            shape = [1] * x.ndim
            shape[axis] = x.shape[axis]
            self.weights = (xp.arange(x.shape[axis]).reshape(shape) == idx_k).astype(x.dtype)
            if not keepdim:
                values, idx_k = values.reshape(idx.shape), idx
            return values, idx_k
        y = (xp.amax if is_max else xp.amin)(x, axis=axes, keepdims=True)
        # a NaN is the max (NumPy and PyTorch propagate it) and takes the gradient; x != x
        # is all False when there is none
        mask = ((x == y) | (x != x)).astype(x.dtype)
        self.weights = mask / mask.sum(axis=axes, keepdims=True)
        self.name = ("MaxBackward1" if is_max else "MinBackward1") if axes is None else (
            "AmaxBackward0" if is_max else "AminBackward0"
        )
        return y.reshape(_reduced_shape(x.shape, axes, keepdim))

    def backward(self, g, *unused):
        return _expand_grad(g, self.in_shape, self.axes) * self.weights


class LogSumExp(Node):
    name = "LogsumexpBackward0"

    def forward(self, x, axes, keepdim):
        xp = array_module(x)
        m = xp.amax(x, axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        with np.errstate(divide="ignore"):  # all -inf: log(0) = -inf is the answer
            y = xp.log(xp.sum(xp.exp(x - m), axis=axes, keepdims=True)) + m
        y = y.reshape(_reduced_shape(x.shape, axes, keepdim))
        self.axes = axes
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved_tensors
        kshape = _kept_shape(x.shape, self.axes)
        return g.reshape(kshape) * exp(x - y.reshape(kshape))


def _max_shifted(xp, x, axis):
    """x minus its max along `axis`, so exp cannot overflow; an empty x has no max (and
    needs no shift)."""
    return x - xp.amax(x, axis=axis, keepdims=True) if x.size else x


class Softmax(Node):
    def forward(self, x, axis):
        xp = array_module(x)
        e = xp.exp(_max_shifted(xp, x, axis))
        y = e / e.sum(axis=axis, keepdims=True)
        self.axis = axis
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        gy = g * y
        return gy - y * gy.sum(axis=self.axis, keepdims=True)


class LogSoftmax(Node):
    def forward(self, x, axis):
        xp = array_module(x)
        shifted = _max_shifted(xp, x, axis)
        if x.size:
            y = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))
        else:  # (an empty reduced axis would take log(0))
            y = shifted.copy()
        self.axis = axis
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return g - exp(y) * g.sum(axis=self.axis, keepdims=True)


class Norm2(Node):
    """The 2-norm (Frobenius for matrices); its gradient is 0 where the norm is 0."""

    name = "LinalgVectorNormBackward0"  # (torch.norm is linalg.vector_norm in PyTorch 2)

    def forward(self, x, axes, keepdim):
        xp = array_module(x)
        y = xp.sqrt((x * x).sum(axis=axes, keepdims=True)).reshape(
            _reduced_shape(x.shape, axes, keepdim))
        self.axes = axes
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved_tensors
        kshape = _kept_shape(x.shape, self.axes)
        y = y.reshape(kshape)
        return g.reshape(kshape) * x / where(y == 0, 1.0, y)


# ---------------------------------------------------------------- plain functions


def _check(x, op):
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(x).__name__}")


def sum(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """The sum of the elements, over dim or all of them.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        dtype: the result's dtype (None: as PyTorch picks it).
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> torch.sum(x)
        tensor(10.)
        >>> torch.sum(x, dim=0)
        tensor([4., 6.])
        >>> x.sum(1, keepdim=True)
        tensor([[3.],
                [7.]])
    """
    if dim is None and axis is None and dtype is None and not keepdim and not keepdims:
        return Sum.apply(input, axes=None, keepdim=False)  # the common x.sum()
    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    x = input._data if isinstance(input, Tensor) else input
    return Sum.apply(input, axes=_reduce_axes(dim, x.ndim, "sum"), keepdim=keepdim)


def mean(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """The mean of the elements, over dim or all of them.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        dtype: the result's dtype (None: as PyTorch picks it).
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> torch.mean(x)
        tensor(2.5000)
        >>> x.mean(dim=1)
        tensor([1.5000, 3.5000])
    """
    if dim is None and axis is None and dtype is None and not keepdim and not keepdims:
        return Mean.apply(input, axes=None, keepdim=False)  # the common x.mean()
    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    x = input._data if isinstance(input, Tensor) else input
    return Mean.apply(input, axes=_reduce_axes(dim, x.ndim, "mean"), keepdim=keepdim)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """The variance over dim (or all elements), with Bessel's correction by default.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        unbiased: the old form of correction (True: 1, False: 0).
        keepdim: keep reduced dimensions with size 1.
        correction: the difference between the count and the divisor (default 1).
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor.
    """
    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    if isinstance(dim, bool):  # var(x, False): the old positional `unbiased`
        unbiased, dim = dim, None
    if correction is None:
        correction = 0 if unbiased is False else 1
    x = input._data if isinstance(input, Tensor) else input
    return Var.apply(input, axes=_reduce_axes(dim, x.ndim, "var"), correction=correction,
                     keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None, keepdims=None):
    """The standard deviation over dim (or all elements), with Bessel's correction by default.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        unbiased: the old form of correction (True: 1, False: 0).
        keepdim: keep reduced dimensions with size 1.
        correction: the difference between the count and the divisor (default 1).
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor.
    """
    v = var(input, dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims)
    raw = v._data if isinstance(v, Tensor) else v
    # where the variance is 0, sqrt(v + 1) - 1 is the same 0 with a finite derivative: the
    # gradient there is 0, as PyTorch's std gives (plain sqrt would give 0 * inf = nan);
    # elsewhere v + 0 and - 0 change no bit. (No test for zeros first: on a GPU that would
    # wait for the device.)
    zero = (raw == 0).astype(raw.dtype)
    return named(sqrt(v + zero) - zero, "StdBackward0")


def prod(input, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """The product of the elements, over dim or all of them (its gradient exact with zeros).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        dtype: the result's dtype (None: as PyTorch picks it).
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor.
    """
    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    return Prod.apply(input, axes=_reduce_axes(dim, input.ndim, "prod"), keepdim=keepdim)


_MaxResult, _MinResult = return_type("max"), return_type("min")


def _maxmin(input, dim, keepdim, is_max, axis, keepdims):
    from .elementwise import maximum, minimum

    if isinstance(dim, Tensor):  # max(a, b): the elementwise form
        return (maximum if is_max else minimum)(input, dim)
    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    if dim is None:
        return MaxMin.apply(input, axes=None, keepdim=False, is_max=is_max, with_indices=False)
    axes = normalize_dims(dim, input.ndim, "max" if is_max else "min")
    if input.ndim == 0:  # the value itself, at index 0
        v = MaxMin.apply(input, axes=None, keepdim=False, is_max=is_max, with_indices=False)
        return (_MaxResult if is_max else _MinResult)(v, _wrap(input._xp().zeros((), np.int64)))
    v, i = MaxMin.apply(input, axes=axes, keepdim=keepdim, is_max=is_max, with_indices=True)
    return (_MaxResult if is_max else _MinResult)(v, i)


def max(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The maximum of all elements; with dim, the maxima and their indices.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor, or named tuple (values, indices) with dim.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([[1.0, 5.0], [3.0, 4.0]])
        >>> torch.max(x)
        tensor(5.)
        >>> values, indices = torch.max(x, dim=1)
        >>> values, indices
        (tensor([5., 4.]), tensor([1, 1]))
    """
    return _maxmin(input, dim, keepdim, True, axis, keepdims)


def min(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The minimum of all elements; with dim, the minima and their indices.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor, or named tuple (values, indices) with dim.
    """
    return _maxmin(input, dim, keepdim, False, axis, keepdims)


def amax(input, dim=(), keepdim=False):
    """The maximum over dim (all dims by default); ties share the gradient.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.

    Returns:
        Tensor.
    """
    axes = _reduce_axes(dim, input.ndim, "amax") if dim != () else None
    return named(MaxMin.apply(input, axes=axes, keepdim=keepdim, is_max=True, with_indices=False),
                 "AmaxBackward0")


def amin(input, dim=(), keepdim=False):
    """The minimum over dim (all dims by default); ties share the gradient.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.

    Returns:
        Tensor.
    """
    axes = _reduce_axes(dim, input.ndim, "amin") if dim != () else None
    return named(MaxMin.apply(input, axes=axes, keepdim=keepdim, is_max=False, with_indices=False),
                 "AminBackward0")


class _ArgReduce(Node):
    def forward(self, x, axis, keepdim, is_max):
        xp = array_module(x)
        f = xp.argmax if is_max else xp.argmin
        if axis is None:
            out = f(x)
            return out.reshape((1,) * x.ndim) if keepdim else out
        return f(x, axis=axis, keepdims=keepdim)


def argmax(input, dim=None, keepdim=False, *, axis=None):
    """The index of the maximum, over dim or of the flattened input.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        axis: NumPy's name of dim.

    Returns:
        Tensor: int64

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([[1.0, 5.0], [3.0, 4.0]])
        >>> torch.argmax(x)
        tensor(1)
        >>> torch.argmax(x, dim=0)
        tensor([1, 0])
    """
    dim = axis if axis is not None else dim
    axes = normalize_dims(dim, input.ndim, "argmax")
    return _ArgReduce.apply(input, axis=None if axes is None else axes[0], keepdim=keepdim, is_max=True)


def argmin(input, dim=None, keepdim=False, *, axis=None):
    """The index of the minimum, over dim or of the flattened input.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        axis: NumPy's name of dim.

    Returns:
        Tensor: int64
    """
    dim = axis if axis is not None else dim
    axes = normalize_dims(dim, input.ndim, "argmin")
    return _ArgReduce.apply(input, axis=None if axes is None else axes[0], keepdim=keepdim, is_max=False)


def logsumexp(input, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """log(sum(exp(x))) over dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor.
    """
    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    axes = _reduce_axes(dim, input.ndim, "logsumexp") if not isinstance(dim, tuple) or dim else None
    return LogSumExp.apply(input, axes=axes, keepdim=keepdim)


def _softmax_dim(input, dim, axis, op):
    if axis is not None:
        dim = axis
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    axes = _reduce_axes(dim, input.ndim, op)
    return None if axes is None else axes[0]


def softmax(input, dim=None, dtype=None, *, axis=None):
    """exp(x) / sum(exp(x)) along dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension that sums to 1.
        dtype: the result's dtype (None: as PyTorch picks it).
        axis: NumPy's name of dim.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.softmax(torch.tensor([1.0, 2.0, 3.0]), dim=0)
        tensor([0.0900, 0.2447, 0.6652])
    """
    if dtype is not None:
        input = input.to(dtype)
    return Softmax.apply(input, axis=_softmax_dim(input, dim, axis, "softmax"))


def log_softmax(input, dim=None, dtype=None, *, axis=None):
    """log(softmax(x)) along dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension normalized over.
        dtype: the result's dtype (None: as PyTorch picks it).
        axis: NumPy's name of dim.

    Returns:
        Tensor.
    """
    if dtype is not None:
        input = input.to(dtype)
    return LogSoftmax.apply(input, axis=_softmax_dim(input, dim, axis, "log_softmax"))


def norm(input, p="fro", dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=None):
    """Vector p-norm over `dim` (all elements by default); 'fro' and 2 are the 2-norm.

    Args:
        input: the input tensor.
        p: the order: ``'fro'``, a number (0 counts the nonzero elements), or +-inf
            (``float('inf')`` or ``'inf'``).
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        dtype: input is cast to this dtype first (None: input's dtype).
        axis: NumPy's name of dim.
        keepdims: NumPy's name of keepdim.

    Returns:
        Tensor.
    """
    from .elementwise import abs as _abs

    dim, keepdim = _dim_args(dim, axis, keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    x = input._data if isinstance(input, Tensor) else input
    axes = _reduce_axes(dim, x.ndim, "norm")
    if p in ("fro", 2, 2.0, None):
        return Norm2.apply(input, axes=axes, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        out = amax(_abs(input), axes if axes is not None else (), keepdim)
    elif p in (float("-inf"), "-inf"):
        out = amin(_abs(input), axes if axes is not None else (), keepdim)
    elif p == 1:
        out = sum(_abs(input), axes, keepdim)
    elif p == 0:
        out = sum((input != 0).to(input.dtype), axes, keepdim)
    else:
        s = sum(_abs(input) ** p, axes, keepdim)
        # zero gradient where the norm is 0, as PyTorch (s ** (1/p) has an infinite slope there)
        zero = s == 0
        out = where(zero, 0.0, where(zero, 1.0, s) ** (1.0 / p))
    return named(out, "LinalgVectorNormBackward0")


for _name in ("sum", "mean", "var", "std", "prod", "max", "min", "amax", "amin", "argmax",
              "argmin", "logsumexp", "softmax", "log_softmax", "norm"):
    setattr(Tensor, _name, globals()[_name])
del _name

from . import shape as _shape_ops  # noqa: E402  (imports this module; bound late)


# ---------------------------------------------------------------- NaN-aware and logical reductions


class Nansum(Node):
    """The sum with NaNs counted as 0; they get a zero gradient (PyTorch)."""

    def forward(self, x, axes, keepdim):
        xp = array_module(x)
        self.in_shape, self.axes = x.shape, axes
        self.kept = (x == x) if x.dtype.kind == "f" else None
        return xp.nansum(x, axis=axes, keepdims=keepdim)

    def backward(self, g):
        out = _expand_grad(g, self.in_shape, self.axes)
        if self.kept is None:
            return out
        raw = out._data if isinstance(out, Tensor) else out
        return out * self.kept.astype(raw.dtype)


class _BoolReduce(Node):
    """all / any / count_nonzero: results of bool or integer type, without a gradient."""

    def forward(self, x, axes, keepdim, fname):
        xp = array_module(x)
        if fname == "count_nonzero":
            return xp.asarray(xp.count_nonzero(x, axis=axes)).astype(np.int64)
        return getattr(xp, fname)(x, axis=axes, keepdims=keepdim)


def _axes_of(input, dim, op):
    x = input._data if isinstance(input, Tensor) else input
    if isinstance(dim, (list, tuple)) and not dim:
        return None
    return _reduce_axes(dim, x.ndim, op)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """The sum treating NaN as zero (NaNs get a zero gradient).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        dtype: the result's dtype (None: as PyTorch picks it).

    Returns:
        Tensor.
    """
    if dtype is not None:
        input = input.to(dtype)
    return Nansum.apply(input, axes=_axes_of(input, dim, "nansum"), keepdim=bool(keepdim))


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """nansum / the count of non-NaN elements (NaN where all are NaN, as PyTorch).

    Args:
        input: the input tensor (floating).
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        dtype: input is cast to this dtype first (None: input's dtype).

    Returns:
        Tensor.
    """
    if dtype is not None:
        input = input.to(dtype)
    _check(input, "nanmean")
    if input._data.dtype.kind != "f":
        from ..tensor import _TORCH_TYPE_NAMES as names

        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{names.get(input._data.dtype.name, input._data.dtype.name)}")
    axes = _axes_of(input, dim, "nanmean")
    x = input._data
    count = (x == x).sum(axis=axes, keepdims=bool(keepdim)).astype(x.dtype)
    with np.errstate(invalid="ignore"):  # 0 / 0 where a slice is all NaN: NaN is the answer
        return Nansum.apply(input, axes=axes, keepdim=bool(keepdim)) / count


def count_nonzero(input, dim=None):
    """The number of nonzero elements, over dim or in total.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).

    Returns:
        Tensor: int64
    """
    return _BoolReduce.apply(input, axes=_axes_of(input, dim, "count_nonzero"), keepdim=False,
                             fname="count_nonzero")


def all(input, dim=None, keepdim=False):
    """True where every element (over dim) is nonzero.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.

    Returns:
        Tensor: bool
    """
    return _BoolReduce.apply(input, axes=_axes_of(input, dim, "all"), keepdim=bool(keepdim),
                             fname="all")


def any(input, dim=None, keepdim=False):
    """True where some element (over dim) is nonzero.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.

    Returns:
        Tensor: bool
    """
    return _BoolReduce.apply(input, axes=_axes_of(input, dim, "any"), keepdim=bool(keepdim),
                             fname="any")


AminmaxResult = return_type("aminmax", ("min", "max"))


def aminmax(input, *, dim=None, keepdim=False):
    """(min, max) over all elements or over `dim`, each with amin's / amax's gradient (split
    evenly between ties).

    Args:
        input: the input tensor (not empty along the reduced dimensions).
        dim: the dimension (None: all elements).
        keepdim: keep the reduced dimension with size 1.

    Returns:
        (min, max): a named tuple of tensors.
    """
    _check(input, "aminmax")
    x = input._data
    axes = _axes_of(input, dim, "aminmax")
    if x.size == 0 or (axes is not None and not math.prod(x.shape[a] for a in axes)):
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            "identity.")
    d = () if axes is None else axes
    return AminmaxResult(named(amin(input, d, keepdim), "AminmaxBackward0"),
                         named(amax(input, d, keepdim), "AminmaxBackward0"))


def named(t, name):
    """`t` with its node shown under PyTorch's name for the whole op (dist, std_mean, ...),
    which here is a composition whose last node would show its own."""
    if isinstance(t, Tensor) and t._grad_fn is not None:
        t._grad_fn.name = name
    return t


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(var, mean) with var's arguments (`correction=`, or the older `unbiased=`).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        unbiased: the old form of correction (True: 1, False: 0).
        keepdim: keep reduced dimensions with size 1.
        correction: the difference between the count and the divisor (default 1).

    Returns:
        (Tensor, Tensor): the variance and the mean.
    """
    if isinstance(dim, bool):  # var_mean(x, False): the old positional `unbiased`
        unbiased, dim = dim, None
    v = var(input, dim, unbiased, keepdim, correction=correction)
    return named(v, "VarMeanBackward0"), named(mean(input, dim, keepdim), "VarMeanBackward0")


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """(std, mean) with std's arguments (`correction=`, or the older `unbiased=`).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        unbiased: the old form of correction (True: 1, False: 0).
        keepdim: keep reduced dimensions with size 1.
        correction: the difference between the count and the divisor (default 1).

    Returns:
        (Tensor, Tensor): the standard deviation and the mean.
    """
    if isinstance(dim, bool):
        unbiased, dim = dim, None
    s = std(input, dim, unbiased, keepdim, correction=correction)
    return named(s, "StdMeanBackward0"), named(mean(input, dim, keepdim), "StdMeanBackward0")


def dist(input, other, p=2):
    """The p-norm of input - other (broadcast); its gradient is 0 where they are equal.

    Args:
        input: the input tensor.
        other: the second tensor, broadcast with input.
        p: the order of the norm (as in norm).

    Returns:
        Tensor: 0-d.
    """
    return named(norm(input - other, p), "DistBackward0")


for _name in ("nansum", "nanmean", "count_nonzero", "all", "any", "aminmax", "dist"):
    setattr(Tensor, _name, globals()[_name])
del _name
