"""Sorting and order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian,
mode, quantile, nanquantile, unique, unique_consecutive, searchsorted, bucketize.

Every op here finds indices first (a stable argsort, NaN sorted last as PyTorch does) and
reads its values at them through one differentiable gather (indexing.TakeAt, named per op:
SortBackward0, TopkBackward0, ...), so the gradient goes to the elements that were picked
and gradients of any order work. quantile interpolates between two such picks with constant
weights. unique, searchsorted and bucketize return indices and counts (no gradient).
"""
import numpy as np

from ..backend import array_module
from ..tensor import Tensor, _wrap
from ._names import named
from ._return_types import return_type
from .indexing import along_key, take_at
from .reduction import normalize_dims


_Sort, _Topk, _Kth, _Median, _Nanmedian, _Mode = (
    return_type(n) for n in ("sort", "topk", "kthvalue", "median", "nanmedian", "mode"))


def _axis(input, dim, op):
    return normalize_dims(dim, input.ndim, op)[0]


def stable_argsort(xp, x, axis, descending=False):
    """Indices that sort `x` along `axis`, equal elements in their original order (NaN last,
    or first when descending: PyTorch's order)."""
    if not descending:
        return xp.argsort(x, axis=axis, kind="stable")
    # sorting the reversed array keeps equal elements in reverse order; reversing the
    # result puts them back in original order, largest first
    n = x.shape[axis]
    idx = xp.argsort(xp.flip(x, axis), axis=axis, kind="stable")
    return (n - 1) - xp.flip(idx, axis)


def _on_1d(input, f):
    """Runs f(input as a 1-element vector, axis 0) for a 0-d input, reshaping results back."""
    outs = f(input.reshape(1), 0)
    # each result's node shown under the name of the op that made it (SortBackward0, ...)
    return type(outs)(*(named(o.reshape(()), o._grad_fn.name) if o._grad_fn is not None
                        else o.reshape(()) for o in outs))


def _pick(input, idx, axis, name, keepdim=True):
    """(values, indices) at `idx` (keepdim layout along `axis`), squeezed unless keepdim."""
    xp = array_module(idx)
    key = along_key(xp, idx, axis)
    if not keepdim:  # (every part of the key has size 1 along axis: drop it there)
        shape = lambda k: tuple(n for d, n in enumerate(k.shape) if d != axis)  # noqa: E731
        key = tuple(k.reshape(shape(k)) for k in key)
        idx = idx.reshape(shape(idx))
    values = take_at(input, key, name=name, unique=True)
    return values, _wrap(idx)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    """Sorts along dim, stably (NaN last, first when descending).

    Args:
        input: the input tensor.
        dim: the dimension.
        descending: largest first.
        stable: accepted; every sort here is stable.
        out: accepted for PyTorch's signature and ignored.

    Returns:
        named tuple (values, indices).

    Examples:
        >>> import autograd_gpu as torch
        >>> values, indices = torch.sort(torch.tensor([3, 1, 2]))
        >>> values, indices
        (tensor([1, 2, 3]), tensor([1, 2, 0]))
    """
    axis = _axis(input, dim, "sort")
    if input.ndim == 0:
        return _on_1d(input, lambda x, a: sort(x, a, descending))
    xp = array_module(input._data)
    idx = stable_argsort(xp, input._data, axis, descending)
    return _Sort(*_pick(input, idx, axis, "SortBackward0"))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort input along dim.

    Args:
        input: the input tensor.
        dim: the dimension.
        descending: largest first.
        stable: accepted; every sort here is stable.

    Returns:
        Tensor: int64
    """
    axis = _axis(input, dim, "argsort")
    if input.ndim == 0:
        return _wrap(array_module(input._data).zeros((), np.int64))
    return _wrap(stable_argsort(array_module(input._data), input._data, axis, descending))


def msort(input):
    """Sorts along dim 0.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The k largest (or smallest) elements along dim and their indices.

    Args:
        input: the input tensor.
        k: how many.
        dim: the dimension.
        largest: largest (True) or smallest.
        sorted: return them in order.

    Returns:
        named tuple (values, indices).

    Examples:
        >>> import autograd_gpu as torch
        >>> values, indices = torch.topk(torch.tensor([1, 5, 3, 4]), 2)
        >>> values, indices
        (tensor([5, 4]), tensor([1, 3]))
    """
    axis = _axis(input, dim, "topk")
    n = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if input.ndim == 0:
        return _on_1d(input, lambda x, a: topk(x, k, a, largest, sorted))
    xp = array_module(input._data)
    idx = stable_argsort(xp, input._data, axis, descending=largest)
    idx = idx[(slice(None),) * axis + (slice(0, k),)]
    return _Topk(*_pick(input, idx, axis, "TopkBackward0"))


def _check_nonempty(input, axis, op):
    if input.ndim and input.shape[axis] == 0:
        raise IndexError(f"{op}(): Expected reduction dim {axis} to have non-zero size.")


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element along dim and its index.

    Args:
        input: the input tensor.
        k: which one, from 1.
        dim: the dimension.
        keepdim: keep the dimension, with size 1.

    Returns:
        named tuple (values, indices).
    """
    axis = _axis(input, dim, "kthvalue")
    _check_nonempty(input, axis, "kthvalue")
    n = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    if input.ndim == 0:
        return _on_1d(input, lambda x, a: kthvalue(x, k, a, True))
    xp = array_module(input._data)
    idx = stable_argsort(xp, input._data, axis)[(slice(None),) * axis + (slice(k - 1, k),)]
    return _Kth(*_pick(input, idx, axis, "KthvalueBackward0", keepdim))


def _median_positions(xp, sorted_vals, axis, ignore_nan):
    """Per row, the position in sorted order of the lower median: of all values (a NaN,
    which sorts last, wins if present) or of the non-NaN ones (nanmedian; 0 if none)."""
    n = sorted_vals.shape[axis]
    if sorted_vals.dtype.kind in "fc":
        m = (~xp.isnan(sorted_vals)).sum(axis=axis, keepdims=True)
    else:
        m = xp.full(sorted_vals.shape[:axis] + (1,) + sorted_vals.shape[axis + 1:], n)
    if ignore_nan:
        return xp.maximum((m - 1) // 2, 0)
    return xp.where(m < n, m, (n - 1) // 2)


def _median(input, dim, keepdim, ignore_nan):
    op = "nanmedian" if ignore_nan else "median"
    cls = _Nanmedian if ignore_nan else _Median
    name = "NanmedianBackward" if ignore_nan else "MedianBackward"
    raw = input._data
    xp = array_module(raw)
    if dim is None:
        flat = input.reshape(-1)
        if raw.size == 0:
            return _wrap(xp.full((), np.nan, raw.dtype))
        order = xp.argsort(flat._data, kind="stable")
        pos = _median_positions(xp, flat._data[order], 0, ignore_nan)
        return take_at(flat, (order[pos.reshape(())],), name=name + "0")
    axis = _axis(input, dim, op)
    _check_nonempty(input, axis, op)
    if input.ndim == 0:
        return _on_1d(input, lambda x, a: _median(x, a, True, ignore_nan))
    order = xp.argsort(raw, axis=axis, kind="stable")
    sorted_vals = xp.take_along_axis(raw, order, axis=axis)
    pos = _median_positions(xp, sorted_vals, axis, ignore_nan)
    idx = xp.take_along_axis(order, pos, axis=axis)
    return cls(*_pick(input, idx, axis, name + "1", keepdim))


def median(input, dim=None, keepdim=False):
    """The lower median of all elements, or along dim with its index (NaN if the row has one).

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.

    Returns:
        Tensor, or named tuple (values, indices) with dim.
    """
    return _median(input, dim, keepdim, False)


def nanmedian(input, dim=None, keepdim=False):
    """The lower median ignoring NaN, of all elements or along dim.

    Args:
        input: the input tensor.
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.

    Returns:
        Tensor, or named tuple (values, indices) with dim.
    """
    return _median(input, dim, keepdim, True)


def mode(input, dim=-1, keepdim=False):
    """The most frequent value per row (the smallest of those tied), at the index of its
    last occurrence, as PyTorch.

    Args:
        input: the input tensor.
        dim: the dimension along which the mode is taken.
        keepdim: keep the reduced dimension with size 1.

    Returns:
        (values, indices): a named tuple; indices are int64.
    """
    from .scan import inclusive_scan

    axis = _axis(input, dim, "mode")
    _check_nonempty(input, axis, "mode")
    if input.ndim == 0:
        return _on_1d(input, lambda x, a: mode(x, a, True))
    raw = input._data
    xp = array_module(raw)
    order = xp.argsort(raw, axis=axis, kind="stable")
    s = xp.take_along_axis(raw, order, axis=axis)
    n = raw.shape[axis]
    nd = raw.ndim
    lead = (slice(None),) * axis
    # a run of equal values starts where a value differs from its predecessor; each position
    # learns its run's start (a running max of start positions) and end (the same, reversed)
    new = xp.ones(s.shape, bool)
    new[lead + (slice(1, None),)] = s[lead + (slice(1, None),)] != s[lead + (slice(0, n - 1),)]
    shape = [1] * nd
    shape[axis] = n
    pos = xp.broadcast_to(xp.arange(n).reshape(shape), s.shape)
    keep_max = lambda a, b: (xp.maximum(a[0], b[0]),)  # noqa: E731
    start = inclusive_scan(xp, (xp.where(new, pos, 0),), axis, keep_max)[0]
    # a run ends before the next one starts (the last position: new[0] rolled round)
    ends_rev = xp.flip(xp.where(xp.roll(new, -1, axis), (n - 1) - pos, 0), axis)
    end = (n - 1) - xp.flip(inclusive_scan(xp, (ends_rev,), axis, keep_max)[0], axis)
    length = end - start + 1
    best = xp.expand_dims(xp.argmax(length, axis=axis), axis)  # first max: the smallest value
    idx = xp.take_along_axis(order, xp.take_along_axis(end, best, axis=axis), axis=axis)
    return _Mode(*_pick(input, idx, axis, "ModeBackward0", keepdim))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan):
    from .shape import movedim

    op = "nanquantile" if ignore_nan else "quantile"
    raw = input._data
    xp = array_module(raw)
    if raw.dtype.kind != "f":
        raise RuntimeError(f"{op}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{op}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{op}() q tensor must be same dtype as the input tensor")
        qs, scalar_q = q._data.reshape(-1), q.ndim == 0
        if qs.size and (bool((qs < 0).any()) or bool((qs > 1).any())):
            raise RuntimeError(f"{op}() q values must be in the range [0, 1]")
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{op}() q must be in the range [0, 1] but got {q}")
        qs, scalar_q = xp.asarray([q], raw.dtype), True
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{op}() interpolation must be one of linear, lower, higher, midpoint or nearest, "
            f"but got {interpolation}")
    if raw.size == 0:
        raise RuntimeError(f"{op}() input tensor must be non-empty")
    if dim is None:
        x, axis = input.reshape(-1), 0
    else:
        axis = _axis(input, dim, op)
        x = input if input.ndim else input.reshape(1)
    v = movedim(sort(x, axis).values, axis, -1)  # (..., n), NaN last
    vr = v._data
    n = vr.shape[-1]
    nan_count = xp.isnan(vr).sum(axis=-1)
    qshape = (qs.size,) + (1,) * (vr.ndim - 1)
    if ignore_nan:  # ranks over the non-NaN values; an all-NaN row reads its first NaN
        m = n - nan_count
        rank = qs.reshape(qshape) * xp.maximum(m - 1, 0)
    else:  # a row with a NaN reads it (the last position)
        rank = qs.reshape(qshape) * (n - 1) + 0 * nan_count
        rank = xp.where(nan_count > 0, n - 1, rank)
    rank = rank.astype(vr.dtype)
    if interpolation == "nearest":
        rank = xp.round(rank)  # half to even, as torch.round
    lo = xp.floor(rank).astype(np.int64)
    hi = xp.minimum(xp.ceil(rank).astype(np.int64), n - 1)
    batch = vr.shape[:-1]
    grids = tuple(xp.arange(b).reshape((1,) * (i + 1) + (b,) + (1,) * (len(batch) - i - 1))
                  for i, b in enumerate(batch))
    below = take_at(v, grids + (xp.broadcast_to(lo, (qs.size,) + batch),))
    if interpolation in ("lower", "nearest"):
        out = below
    else:
        above = take_at(v, grids + (xp.broadcast_to(hi, (qs.size,) + batch),))
        if interpolation == "higher":
            out = above
        else:
            w = (rank - lo).astype(vr.dtype) if interpolation == "linear" else \
                xp.full(rank.shape, 0.5, vr.dtype)
            out = below + (above - below) * w
    if keepdim:
        if dim is None:
            out = out.reshape((qs.size,) + (1,) * input.ndim)
        else:
            out = out.unsqueeze(axis + 1) if input.ndim else out
    if scalar_q:
        out = out.reshape(tuple(out.shape[1:]))
    return named(out, "SqueezeBackward4")  # (PyTorch's quantile ends in a squeeze)


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The q-th quantiles, of all elements or along dim.

    Args:
        input: the input tensor.
        q: a number or 1-D tensor in [0, 1].
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        interpolation: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.

    Returns:
        Tensor (a leading dimension per q when q is 1-D).
    """
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """quantile ignoring NaN.

    Args:
        input: the input tensor.
        q: a number or 1-D tensor in [0, 1].
        dim: the dimension, or a tuple of them (None: all).
        keepdim: keep reduced dimensions with size 1.
        interpolation: ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"`` or ``"nearest"``.

    Returns:
        Tensor.
    """
    return _quantile(input, q, dim, keepdim, interpolation, True)


def _runs(xp, s, first_differs):
    """(values at run starts, run id of every position, run lengths) of rows `s` (along
    axis 0) where `first_differs` marks the first position of each run."""
    ids = xp.cumsum(first_differs) - 1
    starts = xp.nonzero(first_differs)[0]
    counts = xp.diff(xp.concatenate([starts, xp.asarray([s.shape[0]], starts.dtype)]))
    return s[starts], ids, counts


def _unique_rows(input, dim, sort_first):
    raw = input._data
    xp = array_module(raw)
    if dim is None:
        flat = raw.reshape(-1)
        order = xp.argsort(flat, kind="stable") if sort_first else xp.arange(flat.size)
        s = flat[order]
        first = xp.ones(s.shape, bool)
        first[1:] = s[1:] != s[:-1]
        vals, ids, counts = _runs(xp, s, first)
        inverse = xp.empty(flat.size, np.int64)
        inverse[order] = ids
        return vals, inverse.reshape(raw.shape), counts
    axis = normalize_dims(dim, raw.ndim, "unique")[0]
    moved = xp.moveaxis(raw, axis, 0)
    n = moved.shape[0]
    rows = moved.reshape(n, -1)
    if sort_first and rows.shape[1]:
        order = xp.lexsort(rows.T[::-1]) if n else xp.arange(0)  # the first column leads
    else:
        order = xp.arange(n)
    s = rows[order]
    first = xp.ones(n, bool)
    if n > 1:
        first[1:] = (s[1:] != s[:-1]).any(axis=1) if rows.shape[1] else False
    vals, ids, counts = _runs(xp, s, first)
    inverse = xp.empty(n, np.int64)
    inverse[order] = ids
    vals = xp.moveaxis(vals.reshape((vals.shape[0],) + moved.shape[1:]), 0, axis)
    return vals, inverse, counts


def _unique_result(vals, inverse, counts, return_inverse, return_counts):
    out = (_wrap(vals),)
    if return_inverse:
        out += (_wrap(inverse),)
    if return_counts:
        out += (_wrap(counts),)
    return out[0] if len(out) == 1 else out


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """Distinct values (or slices along `dim`), always in ascending order (PyTorch's CPU
    result for sorted=False too); NaNs are distinct from each other.

    Args:
        input: the input tensor.
        sorted: accepted as in PyTorch; the result is sorted either way.
        return_inverse: also return, for each element (or slice), the index of its value
            in the result.
        return_counts: also return how often each distinct value occurs.
        dim: the dimension whose slices are compared (None: the flattened elements).

    Returns:
        Tensor, or a tuple (values, inverse, counts) of those asked for.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.unique(torch.tensor([3, 1, 2, 3, 1]), return_counts=True)
        (tensor([1, 2, 3]), tensor([2, 1, 2]))
    """
    return _unique_result(*_unique_rows(input, dim, True), return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Drops consecutive duplicates.

    Args:
        input: the input tensor.
        return_inverse: also return where each element went.
        return_counts: also return each run's length.
        dim: the dimension (None: flattened).

    Returns:
        Tensor, with inverse indices and counts as asked.
    """
    return _unique_result(*_unique_rows(input, dim, False), return_inverse, return_counts)


def _count_before(xp, seq, values, right):
    """Per row of `seq` (..., n), how many entries precede each of `values` (..., m) in a
    sort with NaN last: searchsorted for batched boundaries."""
    a, v = seq[..., None, :], values[..., :, None]
    if right:
        hit = (a <= v) | xp.isnan(v) if v.dtype.kind == "f" else a <= v
    else:
        hit = a < v
        if v.dtype.kind == "f":
            hit = hit | (xp.isnan(v) & ~xp.isnan(a))
    return hit.sum(axis=-1)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """The indices where input's values would be inserted into sorted_sequence to keep it sorted.

    Args:
        sorted_sequence: 1-D, or batched with input's leading dimensions.
        input: the values (a tensor or a number).
        out_int32: return int32.
        right: take the last suitable index.
        side: ``"left"`` or ``"right"`` (as right).
        sorter: indices that sort sorted_sequence.

    Returns:
        Tensor: int64 (int32 with out_int32)
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    xp = array_module(seq)
    scalar = not isinstance(input, Tensor)
    vals = xp.asarray(input) if scalar else input._data
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    if seq.ndim > 1 and (scalar or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
    if seq.ndim <= 1:
        out = xp.searchsorted(seq.reshape(-1), vals.reshape(-1),
                              side="right" if right else "left").reshape(vals.shape)
    else:
        out = _count_before(xp, seq, vals, right)
    return _wrap(out.astype(np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The index of the bucket of each value, boundaries a sorted 1-D tensor.

    Args:
        input: the input tensor.
        boundaries: sorted 1-D tensor.
        out_int32: return int32.
        right: which side is closed.

    Returns:
        Tensor: int64 (int32 with out_int32)
    """
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)



def bincount(input, weights=None, minlength=0):
    """The count of each value 0..max of a 1-D tensor of non-negative integers (the sum of
    `weights` at each value, if given), at least `minlength` long; no gradient.

    Args:
        input: a 1-D tensor of non-negative integers.
        weights: a tensor of input's shape, one weight per element (None: each counts 1).
        minlength: the least length of the result.

    Returns:
        Tensor: int64 counts (weights' dtype when weights are given).
    """
    x = input._data
    if x.ndim != 1 or x.dtype.kind not in "iub":
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    xp = array_module(x)
    if x.size and int(x.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._data
    out = xp.bincount(x.astype(np.int64), w, minlength=int(minlength))
    return _wrap(out.astype(w.dtype if w is not None else np.int64))


def histc(input, bins=100, min=0, max=0):
    """A histogram of `bins` equal bins over [min, max] (the data's range when both are 0);
    values outside are ignored, the top edge counts in the last bin; no gradient.

    Args:
        input: the input tensor (all elements are counted).
        bins: the number of bins.
        min: the lower end of the range.
        max: the upper end of the range.

    Returns:
        Tensor: 1-D, bins long, in input's dtype.
    """
    x = input._data
    xp = array_module(x)
    lo, hi = float(min), float(max)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _edges = xp.histogram(x, bins=int(bins), range=(lo, hi))
    return _wrap(counts.astype(x.dtype))


for _name in ("sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
              "quantile", "nanquantile", "unique", "unique_consecutive", "bincount", "histc"):
    setattr(Tensor, _name, globals()[_name])
del _name
