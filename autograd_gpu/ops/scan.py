"""Scans along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp.

cumsum and cumprod are NumPy's (and CuPy's) own scans. cummax, cummin and logcumsumexp
combine pairs of partial results in log2(n) passes of whole-array slices (a Hillis-Steele
scan), which runs the same on both array modules: neither shares an `accumulate` for
maximum with indices, or for logaddexp.

Backward: cumsum's is a reverse cumsum; cumprod's divides by the input where it has no zero
and is exact with zeros too; cummax/cummin send the gradient to the index that won;
logcumsumexp's splits the gradient by sign so every exponent stays <= 0 (stable at any
magnitude). Under create_graph the cumprod-with-zeros and logcumsumexp gradients are built
from differentiable ops over an n x n matrix per row (exact to any order, memory n^2 per row).
"""
import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..tensor import Tensor, _wrap
from ._names import named
from ._return_types import return_type
from .indexing import along_key, take_at
from .reduction import normalize_dims


def _axis(input, dim, op):
    return normalize_dims(dim, max(input.ndim, 1) if input.ndim else 0, op)[0]


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _slice(axis, start, stop, ndim):
    return (slice(None),) * axis + (slice(start, stop),) + (slice(None),) * (ndim - axis - 1)


def inclusive_scan(xp, parts, axis, combine):
    """The inclusive scan of the tuple of arrays `parts` along `axis`: combine(earlier, later)
    takes two tuples of partial results and returns the combined tuple (new arrays)."""
    parts = [p.copy() for p in parts]
    n = parts[0].shape[axis] if parts[0].ndim else 1
    nd = parts[0].ndim
    s = 1
    while s < n:
        lo, hi = _slice(axis, 0, n - s, nd), _slice(axis, s, n, nd)
        new = combine([p[lo] for p in parts], [p[hi] for p in parts])
        for p, q in zip(parts, new):
            p[hi] = q
        s *= 2
    return parts


def _flip(xp, a, axis):
    return xp.flip(a, axis) if a.ndim else a


class Cumsum(Node):
    def forward(self, x, axis, dtype):
        self.axis = axis
        if x.ndim == 0:
            return x.astype(dtype, copy=True)
        return array_module(x).cumsum(x, axis=axis, dtype=dtype)

    def backward(self, g):
        return ReverseCumsum.apply(g, axis=self.axis)


class ReverseCumsum(Node):
    """Sums from each position to the end: cumsum's backward (and cumsum is its own)."""

    name = "CumsumBackwardBackward0"

    def forward(self, g, axis):
        self.axis = axis
        if g.ndim == 0:
            return g.copy()
        xp = array_module(g)
        return xp.ascontiguousarray(_flip(xp, xp.cumsum(_flip(xp, g, axis), axis=axis), axis))

    def backward(self, g):
        return Cumsum.apply(g, axis=self.axis, dtype=None)


class Cumprod(Node):
    def forward(self, x, axis, dtype):
        self.axis = axis
        y = x.astype(dtype, copy=True) if x.ndim == 0 else array_module(x).cumprod(
            x, axis=axis, dtype=dtype)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        from .elementwise import where

        x, y = self.saved_tensors
        axis = self.axis
        raw = _raw(x)
        xp = array_module(raw)
        zero = raw == 0
        if not zero.any():
            return ReverseCumsum.apply(g * y, axis=axis) / x
        if isinstance(g, Tensor):  # create_graph: the exact n x n form
            return _cumprod_grad_matrix(x, g, axis)
        # y_i = prod_{j<=i} x_j. For k before the first zero of its row, the gradient is
        # sum_{i>=k} g_i y_i / x_k (y_i is 0 from the zero on); at the first zero z it is
        # sum_{i>=z} g_i prod_{j<=i, j!=z} x_j, the cumprod with x_z read as 1; after z it is 0
        # (every such product still holds x_z)
        seen = xp.cumsum(zero, axis=axis)
        first = zero & (seen == 1)
        before = seen == 0
        a = ReverseCumsum.apply(g * y, axis=axis) / xp.where(zero, 1, raw)
        y1 = xp.cumprod(xp.where(first, 1, raw), axis=axis)
        b = ReverseCumsum.apply(g * y1, axis=axis)
        return where(before, a, where(first, b, 0.0))


def _cumprod_grad_matrix(x, g, axis):
    """d/dx_k of sum_i g_i y_i = sum_{i>=k} g_i prod_{j<=i, j!=k} x_j, built from
    differentiable ops on an (n, n) matrix per row: row k is x with x_k replaced by 1."""
    from .elementwise import where
    from .shape import movedim

    xm, gm = movedim(x, axis, -1), movedim(g, axis, -1)
    n = xm.shape[-1]
    xp = array_module(_raw(xm))
    eye = xp.eye(n, dtype=bool)
    rows = where(eye, 1.0, xm.unsqueeze(-2).expand(*xm.shape[:-1], n, n))
    prods = cumprod(rows, -1)  # prods[..., k, i] = prod_{j<=i, j!=k} x_j
    upper = xp.triu(xp.ones((n, n), _raw(xm).dtype))  # i >= k
    grad = (prods * gm.unsqueeze(-2) * upper).sum(-1)
    return movedim(grad, -1, axis)


def _nan_last_better(is_max):
    """combine() for cummax/cummin on (values, indices): the earlier partial wins only when
    strictly better, so ties go to the later index (PyTorch's >= / <=); NaN beats every
    number and propagates."""

    def combine(earlier, later):
        (va, ia), (vb, ib) = earlier, later
        xp = array_module(va)
        better = (va > vb) if is_max else (va < vb)
        if va.dtype.kind in "fc":
            better = better | (xp.isnan(va) & ~xp.isnan(vb))
        return xp.where(better, va, vb), xp.where(better, ia, ib)

    return combine


def _cum_extreme(input, dim, is_max):
    op = "cummax" if is_max else "cummin"
    axis = _axis(input, dim, op)
    raw = input._data
    xp = array_module(raw)
    if raw.ndim == 0:
        idx = xp.zeros((), np.int64)
        name = "CummaxBackward0" if is_max else "CumminBackward0"
        values = named(take_at(input.reshape(1), (xp.zeros(1, np.int64),), name=name).reshape(()),
                       name)
        return _CumResult[op](values, _wrap(idx))
    shape = [1] * raw.ndim
    shape[axis] = raw.shape[axis]
    pos = xp.broadcast_to(xp.arange(raw.shape[axis]).reshape(shape), raw.shape)
    _, idx = inclusive_scan(xp, (raw, pos), axis, _nan_last_better(is_max))
    values = take_at(input, along_key(xp, idx, axis),
                     name="CummaxBackward0" if is_max else "CumminBackward0")
    return _CumResult[op](values, _wrap(idx))


def _logaddexp_combine(earlier, later):
    (a,), (b,) = earlier, later
    return (array_module(a).logaddexp(a, b),)


def _logcumsumexp_raw(xp, x, axis):
    with np.errstate(invalid="ignore", over="ignore"):
        return inclusive_scan(xp, (x,), axis, _logaddexp_combine)[0]


def _small_range(xp, x, axis):
    """True when every row's values are finite and within log(max float)/4 of each other:
    then exp(x - row max) and exp(row max - x) are normal numbers, and the shifted cumsum
    forms below are exact to rounding (else the log-space scans are used)."""
    if x.size == 0:
        return True
    limit = float(np.log(np.finfo(x.dtype).max)) / 4
    with np.errstate(invalid="ignore"):
        spread = xp.amax(x, axis=axis) - xp.amin(x, axis=axis)
    return bool(xp.all(spread < limit))  # (False for inf and NaN spreads)


def _last(x, axis):
    return x[_slice(axis, x.shape[axis] - 1, None, x.ndim)]


class Logcumsumexp(Node):
    def forward(self, x, axis):
        xp = array_module(x)
        self.axis = axis
        if x.ndim == 0:
            y = x.copy()
        elif _small_range(xp, x, axis):  # one cumsum instead of log2(n) logaddexp passes
            m = xp.amax(x, axis=axis, keepdims=True)
            y = xp.log(xp.cumsum(xp.exp(x - m), axis=axis)) + m
        else:
            y = _logcumsumexp_raw(xp, x, axis)
        self.save_for_backward(x, y)
        return y

    def backward(self, g):
        x, y = self.saved_tensors
        axis = self.axis
        if x.ndim == 0:
            return g
        if isinstance(g, Tensor):
            return _logcumsumexp_grad_matrix(x, y, g, axis)
        # grad_k = sum_{i>=k} g_i exp(x_k - y_i), the positive and negative parts of g
        # separately in log space: exp(x_k + logsumexp_{i>=k}(log|g_i| - y_i))
        xp = array_module(x)
        if _small_range(xp, x, axis):
            # shifted by the row's last (largest) y: exp(x_k - y_n) * sum_{i>=k} g_i exp(y_n - y_i)
            top = _last(y, axis)
            rest = xp.exp(top - y) * g
            tail = xp.flip(xp.cumsum(xp.flip(rest, axis), axis=axis), axis)
            return (xp.exp(x - top) * tail).astype(x.dtype, copy=False)
        terms = []
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for part in (xp.maximum(g, 0), xp.maximum(-g, 0)):
                z = _flip(xp, _logcumsumexp_raw(xp, _flip(xp, xp.log(part) - y, axis), axis), axis)
                terms.append(xp.exp(x + z))
        return (terms[0] - terms[1]).astype(x.dtype, copy=False)


def _logcumsumexp_grad_matrix(x, y, g, axis):
    """sum_{i>=k} g_i exp(x_k - y_i) as a masked (n, n) matrix per row (exponents <= 0)."""
    from .elementwise import exp, where
    from .shape import movedim

    xm, ym, gm = movedim(x, axis, -1), movedim(y, axis, -1), movedim(g, axis, -1)
    n = xm.shape[-1]
    xp = array_module(_raw(xm))
    later = xp.tril(xp.ones((n, n), dtype=bool))  # [i, k]: i >= k
    w = exp(where(later, xm.unsqueeze(-2) - ym.unsqueeze(-1), -float("inf")))
    return movedim((w * gm.unsqueeze(-1)).sum(-2), -1, axis)


# ---------------------------------------------------------------- plain functions

_CumResult = {
    "cummax": return_type("cummax"),
    "cummin": return_type("cummin"),
}


def _scan_dtype(input, dtype):
    from ..backend import to_numpy_dtype

    if dtype is not None:
        return to_numpy_dtype(dtype)
    dt = input._data.dtype
    return np.dtype(np.int64) if dt.kind in "biu" else dt


def cumsum(input, dim, *, dtype=None, axis=None):
    """The cumulative sum along dim (integers accumulate in int64).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        dtype: the result's dtype (None: as PyTorch picks it).
        axis: NumPy's name of dim.

    Returns:
        Tensor.
    """
    dim = axis if axis is not None else dim
    return Cumsum.apply(input, axis=_axis(input, dim, "cumsum"), dtype=_scan_dtype(input, dtype))


def cumprod(input, dim, *, dtype=None, axis=None):
    """The cumulative product along dim (its gradient exact with zeros).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        dtype: the result's dtype (None: as PyTorch picks it).
        axis: NumPy's name of dim.

    Returns:
        Tensor.
    """
    dim = axis if axis is not None else dim
    return Cumprod.apply(input, axis=_axis(input, dim, "cumprod"), dtype=_scan_dtype(input, dtype))


def cummax(input, dim):
    """The running maximum along dim and its index (ties go to the later index).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).

    Returns:
        named tuple (values, indices).
    """
    return _cum_extreme(input, dim, True)


def cummin(input, dim):
    """The running minimum along dim and its index (ties go to the later index).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).

    Returns:
        named tuple (values, indices).
    """
    return _cum_extreme(input, dim, False)


def logcumsumexp(input, dim):
    """log(cumsum(exp(x))) along dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).

    Returns:
        Tensor.
    """
    dt = input._data.dtype
    if dt.kind not in "fc":
        from ..tensor import _TORCH_TYPE_NAMES

        raise NotImplementedError(
            f"\"logcumsumexp_out_cpu\" not implemented for '{_TORCH_TYPE_NAMES.get(dt.name, dt.name)}'")
    return Logcumsumexp.apply(input, axis=_axis(input, dim, "logcumsumexp"))


def _cumsum_(self, dim, *, dtype=None):
    """The cumulative sum along dim, in place.

    Args:
        dim: the dimension, or a tuple of them (None: all).
        dtype: the result's dtype (None: as PyTorch picks it).

    Returns:
        Tensor: self
    """
    from .indexing import _inplace_from

    return _inplace_from(self, lambda t: cumsum(t, dim, dtype=dtype))


def _cumprod_(self, dim, *, dtype=None):
    """The cumulative product along dim, in place.

    Args:
        dim: the dimension, or a tuple of them (None: all).
        dtype: the result's dtype (None: as PyTorch picks it).

    Returns:
        Tensor: self
    """
    from .indexing import _inplace_from

    return _inplace_from(self, lambda t: cumprod(t, dim, dtype=dtype))


for _name in ("cumsum", "cumprod", "cummax", "cummin", "logcumsumexp"):
    setattr(Tensor, _name, globals()[_name])
del _name
Tensor.cumsum_ = _cumsum_
Tensor.cumprod_ = _cumprod_
