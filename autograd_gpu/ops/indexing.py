"""Indexing: ``x[key]`` (slices, integers, None, Ellipsis, integer and boolean arrays) and
``x[key] = value``. The gradient of a read scatters back with repeated indices accumulating;
the two ops are each other's backward, so gradients of any order work."""
import numpy as np

from ..autograd.node import Node, _raise_device_mismatch
from .. import backend
from ..backend import array_module
from ..backend.execute import add_at, host_value, is_array
from ..tensor import Tensor, _wrap, tensor_method
from ._dims import normalize_dims
from .arithmetic import sum_to
from .shape import flatten


def _raw_key(key, x=None):
    """The key with Tensors replaced by their arrays; True when it is basic (view) indexing.
    An index tensor on another CUDA device than the indexed tensor `x` is refused (a CPU one
    is taken, as in PyTorch)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, Tensor):
            if x is not None and k.is_cuda and k.device != x.device:
                raise RuntimeError("indices should be either on cpu or on the same device as "
                                   f"the indexed tensor ({x.device})")
            k = k._data
        if isinstance(k, list) or is_array(k):
            basic = False
            if isinstance(k, list):
                k = np.asarray(k)
            if k.dtype.kind == "f":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors"
                )
        elif isinstance(k, (bool, np.bool_)):
            basic = False
        out.append(k)
    return tuple(out), basic


def _index_error(x, key, e):
    return IndexError(f"{e} (indexing a tensor of shape {tuple(x.shape)})")


def _width(k):
    """How many dims of the indexed array a key component consumes."""
    if k is None or k is Ellipsis or isinstance(k, (bool, np.bool_)):
        return 0
    return k.ndim if getattr(k, "dtype", None) is not None and k.dtype.kind == "b" else 1


def _view_step_name(shape, key):
    """PyTorch's node for the view that the basic components of `key` make: that of the last
    component that changes the view (an integer selects, None unsqueezes, a slice that does
    not cover its whole dim slices); None when full slices and Ellipsis leave it as it is."""
    key = key if isinstance(key, tuple) else (key,)
    name, d = None, 0
    for k in key:
        if k is None:
            name = "UnsqueezeBackward0"
        elif k is Ellipsis:
            d += len(shape) - sum(_width(j) for j in key)
        elif isinstance(k, slice):
            if d < len(shape) and k.indices(shape[d]) != (0, shape[d], 1):
                name = "SliceBackward0"
            d += 1
        elif _is_int(k):
            name = "SelectBackward0"
            d += 1
        else:  # an index array (advanced indexing, not a view)
            d += _width(k)
    return name


class GetItem(Node):
    name = "IndexBackward0"

    def forward(self, x, key, basic):
        self.in_shape, self.key, self.basic = x.shape, key, basic
        try:
            y = x[key]
        except IndexError as e:
            raise _index_error(x, key, e) from None
        if basic:
            self.name = _view_step_name(x.shape, key) or "AliasBackward0"
        return y

    def backward(self, g):
        return IndexAdd.apply(g, key=self.key, basic=self.basic, shape=self.in_shape)


class IndexAdd(Node):
    """Zeros of `shape` with `g` added at `key` (repeated indices accumulate)."""

    def forward(self, g, key, basic, shape):
        xp = array_module(g)
        self.key, self.basic = key, basic
        out = xp.zeros(shape, g.dtype)
        if basic:
            out[key] = g
        else:
            add_at(out, key, g)
        return out

    def backward(self, g):
        return GetItem.apply(g, key=self.key, basic=self.basic)


class IndexPut(Node):
    """``x[key] = v`` computed out of place (the recorded form of __setitem__)."""

    name = "IndexPutBackward0"

    def forward(self, x, v, key, basic):
        self.key, self.basic = key, basic
        self.v_shape = getattr(v, "shape", ())
        # PyTorch writes through the view the key's basic part makes (CopySlices); a key
        # without one fills or copies (basic) or index_puts (advanced) the tensor itself
        if _view_step_name(x.shape, key) is not None:
            self.name = "CopySlices"
        elif basic:
            self.name = "CopyBackwards" if getattr(v, "ndim", 0) else "FillBackward3"
        out = x.copy()
        try:
            out[key] = v
        except IndexError as e:
            raise _index_error(x, key, e) from None
        except ValueError as e:
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {tuple(self.v_shape)} cannot be broadcast "
                f"to indexing result ({e})"
            ) from None
        return out

    def backward(self, g):
        need = self.needs_input_grad
        gx = gv = None
        if need[0]:
            gx = _zero_at(g, self.key, self.basic)
        if need[1]:
            gv = sum_to(GetItem.apply(g, key=self.key, basic=self.basic), self.v_shape)
        return gx, gv


class Fill(Node):
    """Every element set to `value` (the recorded form of fill_): no gradient to the old
    values; a tensor `value` receives the sum of the gradient."""

    name = "FillBackward0"

    def forward(self, x, value):
        return array_module(x).full_like(x, value)

    def backward(self, g):
        return _zeros_like(g), (g.sum() if self.needs_input_grad[1] else None)


class CopyFrom(Node):
    """`src` broadcast and cast into the shape and dtype of `x` (the recorded form of copy_)."""

    name = "CopyBackwards"

    def forward(self, x, src):
        self.src_shape, self.src_dtype = src.shape, src.dtype
        out = array_module(x).empty_like(x)
        try:
            out[...] = src
        except ValueError:
            raise RuntimeError(
                f"copy_: the source of shape {tuple(src.shape)} cannot be broadcast to the "
                f"destination's shape {tuple(x.shape)}"
            ) from None
        return out

    def backward(self, g):
        from .arithmetic import cast

        gx = _zeros_like(g) if self.needs_input_grad[0] else None
        if not self.needs_input_grad[1]:
            return gx, None
        gs = sum_to(g, self.src_shape)
        return gx, (gs if gs.dtype == self.src_dtype else cast(gs, self.src_dtype))


def _zeros_like(g):
    """A zero gradient shaped like g: the overwritten values do not affect the output
    (zeros, not g * 0, which is nan where g is inf)."""
    raw = g._data if isinstance(g, Tensor) else g
    z = array_module(raw).zeros_like(raw)
    return _wrap(z) if isinstance(g, Tensor) else z


def _zero_at(g, key, basic):
    """`g` with the entries at `key` set to 0 (a constant mask, so differentiable in g)."""
    raw = g._data if isinstance(g, Tensor) else g
    xp = array_module(raw)
    mask = xp.ones(raw.shape, raw.dtype)
    mask[key] = 0
    return g * mask


def _is_int(k):
    return isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_))


def _split_ints(raw):
    """(basic key with the integers, rest): PyTorch applies integer indices as basic indexing
    before the index arrays; NumPy counts them among the advanced indices, which moves the
    indexed dims to the front when a slice separates an integer from an array."""
    first, second = [], []
    for k in raw:
        if _is_int(k):
            first.append(k)
        elif k is None or isinstance(k, (bool, np.bool_)):  # each adds a dim of size 1
            first.append(k)
            second.append(slice(None))
        elif isinstance(k, slice) or k is Ellipsis:
            first.append(k)
            second.append(slice(None) if k is not Ellipsis else k)
        else:  # an index array; a boolean one spans as many dims as it has
            n = k.ndim if getattr(k, "dtype", None) is not None and k.dtype.kind == "b" else 1
            first.extend([slice(None)] * n)
            second.append(k)
    return tuple(first), tuple(second)


def _check_array_bounds(shape, raw):
    """Integer index arrays in `raw` lie within their dims (CuPy would wrap them around):
    PyTorch's IndexError otherwise."""
    def width(k):  # the dims of x an entry of the key consumes
        if k is None or k is Ellipsis or isinstance(k, (bool, np.bool_)):
            return 0
        return k.ndim if getattr(k, "dtype", None) is not None and k.dtype.kind == "b" else 1

    d = 0
    for k in raw:
        if k is Ellipsis:
            d += len(shape) - sum(width(j) for j in raw)
            continue
        dt = getattr(k, "dtype", None)
        if dt is not None and dt.kind in "iu" and getattr(k, "ndim", 0) >= 0 and d < len(shape):
            bad = _first_out_of_range(k, shape[d], allow_negative=True)
            if bad is not None:
                raise IndexError(
                    f"index {bad} is out of bounds for dimension {d} with size {shape[d]}")
        d += width(k)


def getitem(self, key):
    raw, basic = _raw_key(key, self)
    if not basic:
        _check_array_bounds(self._data.shape, raw)
    if not basic and _split_needed(raw):
        first, second = _split_ints(raw)
        return getitem(getitem(self, first), second)
    if len(raw) == 1:
        raw = raw[0]
    out = GetItem.apply(self, key=raw, basic=basic)
    return out._as_view_of(self) if basic else out


def _split_needed(raw):
    return any(_is_int(k) for k in raw) and any(hasattr(k, "shape") and not _is_int(k) for k in raw)


def _value_in_numpy_layout(x, raw, value):
    """For x[key] = value with an integer and an index array in key: `value` is laid out as
    PyTorch's x[key] (the integer applied first, see getitem); NumPy's x[key] may have the
    indexed dims moved to the front. Returns value broadcast and permuted to NumPy's layout,
    found by indexing an array of element ids both ways (a rare path)."""
    if not hasattr(value, "shape"):
        return value  # a number broadcasts either way
    host = tuple(host_value(k) for k in raw)
    ids = np.arange(int(np.prod(x.shape))).reshape(x.shape)
    first, second = _split_ints(host)
    t_ids, n_ids = ids[first][second], ids[host]
    if t_ids.shape == n_ids.shape and np.array_equal(t_ids, n_ids):
        return value
    nd = t_ids.ndim
    for p in range(nd + 1):
        for b in range(1, nd - p + 1):
            perm = list(range(p, p + b)) + list(range(p)) + list(range(p + b, nd))
            if np.array_equal(t_ids.transpose(perm), n_ids):
                if isinstance(value, Tensor):
                    from .shape import broadcast_to, permute

                    return permute(broadcast_to(value, t_ids.shape), tuple(perm))
                xp = array_module(value)
                return xp.transpose(xp.broadcast_to(value, t_ids.shape), perm)
    return value


def setitem(self, key, value):
    raw, basic = _raw_key(key, self)
    if not basic:
        _check_array_bounds(self._data.shape, raw)
    if not basic and _split_needed(raw):
        value = _value_in_numpy_layout(self._data, raw, value)
    if len(raw) == 1:
        raw = raw[0]
    if self._check_inplace(value):
        self._record_inplace(lambda old: IndexPut.apply(old, value, key=raw, basic=basic))
        return
    v = value
    if isinstance(value, Tensor):
        v = value._data
        if type(v) is not type(self._data):
            _raise_device_mismatch(IndexPut, (self, value))
    try:
        self._data[raw] = v
    except IndexError as e:
        raise _index_error(self._data, raw, e) from None
    except ValueError as e:
        raise RuntimeError(f"__setitem__ of a tensor of shape {tuple(self.shape)}: {e}") from None
    self._version[0] += 1


def nonzero(input, as_tuple=False):
    """The indices of the nonzero elements.

    Args:
        input: the input tensor.
        as_tuple: return one index tensor per dimension.

    Returns:
        Tensor (count, ndim) of int64, or a tuple of 1-D index tensors with as_tuple.
    """
    xp = input._xp()
    idx = xp.nonzero(input._data)
    if as_tuple:
        return tuple(_wrap(i) for i in idx)
    return _wrap(xp.stack(idx, axis=1) if idx else xp.zeros((0, 0), np.int64))


def masked_fill(input, mask, value):
    """input with value where mask is True.

    Args:
        input: the input tensor.
        mask: a bool tensor broadcastable to input.
        value: a number or a 0-d tensor.

    Returns:
        Tensor.
    """
    from .elementwise import where

    return where(mask, value, input)


def index_select(input, dim, index):
    """Rows `index` of `dim`; indices are checked (never wrapped), as PyTorch.

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: a 1-D (or 0-D) int64 or int32 tensor of positions along dim.

    Returns:
        Tensor: a copy, of input's shape with dim of size ``len(index)``.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([[1, 2], [3, 4], [5, 6]])
        >>> torch.index_select(x, 0, torch.tensor([2, 0]))
        tensor([[5, 6],
                [1, 2]])
    """
    idx = index._data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    idx = idx.reshape(-1)
    if input.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)")
        return index_select(input.reshape(1), 0, idx).reshape(())
    axis = normalize_dims(dim, input.ndim, "index_select")[0]
    if _first_out_of_range(idx, input.shape[axis]) is not None:
        raise IndexError("index out of range in self")
    key = (slice(None),) * axis + (idx,)
    return take_at(input, key, name="IndexSelectBackward0")


Tensor.__getitem__ = getitem
Tensor.nonzero = nonzero
Tensor.masked_fill = masked_fill
Tensor.index_select = index_select


# ---------------------------------------------------------------- gather / scatter family
# The ops below address elements through an advanced-index key built once in forward (an
# index array along one dim, aranges along the others), so forward and backward are the
# same two primitives: TakeAt reads at a key, PutAt writes (or adds, where the key repeats)
# into zeros. Each is the other's backward, so gradients of any order work.


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _type_name(dt):
    from ..tensor import _TORCH_TYPE_NAMES

    return _TORCH_TYPE_NAMES.get(np.dtype(dt).name, np.dtype(dt).name)


def along_key(xp, idx, axis):
    """The key that reads ``x[..., idx[i, j, ...], ...]`` with idx placed along `axis`: the
    other axes run over aranges shaped to broadcast against idx (as take_along_axis)."""
    key = []
    for d in range(idx.ndim):
        if d == axis:
            key.append(idx)
        else:
            shape = [1] * idx.ndim
            shape[d] = idx.shape[d]
            key.append(xp.arange(idx.shape[d]).reshape(shape))
    return tuple(key)


def _add_at(xp, out, key, v):
    with np.errstate(invalid="ignore", over="ignore"):
        xp.add.at(out, key, v)


class TakeAt(Node):
    """``x[key]`` for an advanced-index key, under the calling op's name (SortBackward0,
    GatherBackward0, ...). `unique` says the key hits each element at most once, so the
    backward can write instead of add."""

    name = "GatherBackward0"

    def forward(self, x, key, name=None, unique=False):
        if name is not None:
            self.name = name
        self.key, self.shape, self.unique = key, x.shape, unique
        return x[key]

    def backward(self, g):
        return PutAt.apply(g, key=self.key, shape=self.shape, unique=self.unique)


class PutAt(Node):
    """Zeros of `shape` with `g` written (unique key) or added (repeated key) at `key`."""

    name = "ScatterAddBackward0"

    def forward(self, g, key, shape, unique):
        xp = array_module(g)
        self.key = key
        out = xp.zeros(shape, g.dtype)
        if unique:
            out[key] = g
        else:
            _add_at(xp, out, key, g)
        return out

    def backward(self, g):
        return TakeAt.apply(g, key=self.key)


def take_at(x, key, name=None, unique=False):
    return TakeAt.apply(x, key=key, name=name, unique=unique)


def _check_int_index(index, op, long_only=False):
    dt = _raw(index).dtype
    if dt.kind not in "iu" or (long_only and dt != np.int64):
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")


def _first_out_of_range(idx, size, allow_negative=False):
    """The first entry of `idx` outside [0, size) (or [-size, size)), or None."""
    lo = -size if allow_negative else 0
    bad = idx[(idx < lo) | (idx >= size)]
    return int(bad.reshape(-1)[0]) if bad.size else None


def _check_bounds(idx, size, dim, cls=RuntimeError, prefix=""):
    bad = _first_out_of_range(idx, size)
    if bad is not None:
        raise cls(f"{prefix}index {bad} is out of bounds for dimension {dim} with size {size}")


def _dim(dim, ndim, op):
    return normalize_dims(dim, ndim, op)[0]


def _scatter_key(op, x, dim, index, src):
    """Checks scatter/gather arguments as PyTorch does; returns (axis, key, raw index)."""
    idx = _raw(index)
    _check_int_index(idx, op)
    xr = _raw(x)
    axis = _dim(dim, xr.ndim, op)
    if idx.ndim != max(xr.ndim, 1) and not (idx.ndim == 0 and xr.ndim == 0):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    s = _raw(src) if src is not None and hasattr(src, "shape") else None
    if s is not None and s.ndim != idx.ndim and not (s.ndim == 0 and idx.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    xs = xr.shape if xr.ndim else (1,)
    ish = idx.shape if idx.ndim else (1,)
    too_big = any(ish[d] > xs[d] for d in range(len(ish)) if d != axis) or (
        s is not None and s.ndim == len(ish) and any(ish[d] > s.shape[d] for d in range(len(ish))))
    if too_big:
        extra = f" and to be no larger size than src {list(s.shape)}" if s is not None else ""
        raise RuntimeError(
            f"Expected index {list(ish)} to be no larger than self {list(xs)} apart from "
            f"dimension {axis}{extra}")
    _check_bounds(idx, xs[axis], axis)
    if xr.ndim == 0:
        return axis, (), idx
    return axis, along_key(array_module(idx), idx, axis), idx


def _src_region(src, index):
    """The leading corner of `src` that lines up with `index` (PyTorch reads only that)."""
    ish = _raw(index).shape
    if tuple(src.shape) == tuple(ish):
        return src
    return src[tuple(slice(0, n) for n in ish)]


def _check_same_dtype(x, src):
    # (scatter_add and scatter_reduce say "scatter()" too, as PyTorch)
    if isinstance(src, Tensor) and src.dtype != x.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")


class Scatter(Node):
    """``out = x`` with ``out[key] = src`` (src a tensor of the key's shape, or a number)."""

    name = "ScatterBackward0"

    def forward(self, x, src, key):
        if not hasattr(src, "shape"):
            self.name = "ScatterBackward1"
        self.key = key
        out = x.copy()
        out[key] = src
        return out

    def backward(self, g):
        need = self.needs_input_grad
        gx = _zero_at(g, self.key, False) if need[0] else None
        gs = take_at(g, self.key) if len(need) > 1 and need[1] else None
        return gx, gs


class ScatterAdd(Node):
    """``out = x`` with `src` added at `key` (repeats accumulate)."""

    def forward(self, x, src, key):
        self.key = key
        out = x.copy()
        _add_at(array_module(x), out, key, src)
        return out

    def backward(self, g):
        return g, (take_at(g, self.key) if self.needs_input_grad[1] else None)


_REDUCE_IDENTITY = {"sum": 0, "mean": 0, "prod": 1}


def _touch_count(xp, shape, key, like):
    cnt = xp.zeros(shape, np.int64)
    xp.add.at(cnt, key, xp.ones(like.shape, np.int64))
    return cnt


def _multiply_at(xp, out, key, src):
    """``out[key] *= src`` with repeated entries of key multiplying in turn: NumPy and CuPy
    share no multiply.at, so the sources are grouped by target and each round multiplies
    one source into every target (as many rounds as the largest repeat count)."""
    flat = out.reshape(-1)  # (out is a fresh C-contiguous array: a view)
    bkey = xp.broadcast_arrays(*key)
    ids = xp.ravel_multi_index(tuple(k.reshape(-1) for k in bkey), out.shape)
    vals = xp.broadcast_to(src, bkey[0].shape).reshape(-1)
    order = xp.argsort(ids, kind="stable")
    sids = ids[order]
    rank = xp.arange(sids.size) - xp.searchsorted(sids, sids, side="left")
    for r in range(int(rank.max()) + 1 if rank.size else 0):
        sel = order[rank == r]
        flat[ids[sel]] = flat[ids[sel]] * vals[sel]


class ScatterReduce(Node):
    """scatter_reduce: `src` reduced into `x` at `key` by sum, prod, mean, amax or amin,
    with or without the values of `x` there."""

    def forward(self, x, src, key, reduce, include_self):
        xp = array_module(x)
        self.key, self.reduce, self.include_self = key, reduce, include_self
        out = x.copy()
        cnt = _touch_count(xp, x.shape, key, src)
        if not include_self:
            if reduce in _REDUCE_IDENTITY:
                ident = _REDUCE_IDENTITY[reduce]
            elif x.dtype.kind == "f":
                ident = -np.inf if reduce == "amax" else np.inf
            else:
                info = np.iinfo(x.dtype) if x.dtype.kind in "iu" else None
                ident = (info.min if reduce == "amax" else info.max) if info else reduce == "amin"
            out[key] = ident
        with np.errstate(invalid="ignore", over="ignore"):
            if reduce in ("sum", "mean"):
                xp.add.at(out, key, src)
            elif reduce == "prod":
                _multiply_at(xp, out, key, src)
            elif reduce == "amax":
                xp.maximum.at(out, key, src)
            else:
                xp.minimum.at(out, key, src)
        if reduce == "mean":
            n = xp.maximum(cnt + (1 if include_self else 0), 1).astype(out.dtype)
            out = out // n if out.dtype.kind in "iu" else (out / n).astype(out.dtype)
            self.n = n
        self.cnt = cnt
        self.save_for_backward(x, src, out)
        return out

    def backward(self, g):
        from .elementwise import where

        x, src, out = self.saved_tensors
        key, include, cnt = self.key, self.include_self, self.cnt
        untouched = cnt == 0
        xp = array_module(cnt)
        r = self.reduce
        if r == "sum":
            gx = g if include else g * untouched.astype(_raw(g).dtype)
            return gx, take_at(g, key)
        if r == "mean":
            gn = g / self.n
            return (gn if include else where(untouched, g, 0.0)), take_at(gn, key)
        if r in ("amax", "amin"):
            xr, sr, outr = _raw(x), _raw(src), _raw(out)
            dt = outr.dtype
            self_is = ((xr == outr) & (untouched | include)).astype(dt)
            src_is = (sr == outr[key]).astype(dt)
            n = self_is.copy()
            _add_at(xp, n, key, src_is)
            gn = g / xp.maximum(n, 1)
            return gn * self_is, take_at(gn, key) * src_is
        # prod: the product of the others at each element, without dividing by a zero
        xr, sr = _raw(x), _raw(src)
        if include:
            x_nz = where(xr == 0, 1.0, x)  # (a tensor under create_graph: x's own values)
            masked = ScatterReduce.apply(x_nz, src, key=key, reduce="prod", include_self=True)
            gx = g * masked / x_nz
        else:
            gx = where(untouched, g, 0.0)
        src_zero = sr == 0
        zeros_there = xp.zeros(xr.shape, np.int64)
        _add_at(xp, zeros_there, key, src_zero.astype(np.int64))
        single = src_zero & (zeros_there[key] == 1)
        masked_src = ScatterReduce.apply(x, where(single, 1.0, src), key=key, reduce="prod",
                                         include_self=include)
        gs = where(single, take_at(g * masked_src, key),
                   take_at(g * out, key) / where(src_zero, 1.0, src))
        return gx, gs


class IndexAlong(Node):
    """index_add / index_copy / index_fill: rows `index` of `dim` of `x` receive `src`
    (added, copied, or a fill value)."""

    def forward(self, x, src, key, mode):
        xp = array_module(x)
        self.key, self.mode = key, mode
        self.name = {"add": "IndexAddBackward0", "copy": "IndexCopyBackward0",
                     "fill": "IndexFillBackward0"}[mode]
        if mode == "fill" and hasattr(src, "shape"):
            self.name = "IndexFillBackward1"
        out = x.copy()
        if mode == "add":
            _add_at(xp, out, key, src)
        else:
            out[key] = src
        return out

    def backward(self, g):
        need = self.needs_input_grad
        key = self.key
        gx = (g if self.mode == "add" else _zero_at(g, key, False)) if need[0] else None
        if not (len(need) > 1 and need[1]):
            return gx, None
        if self.mode == "fill":  # a 0-d value tensor: every (distinct) filled element
            raw = _raw(g)
            mask = array_module(raw).zeros(raw.shape, raw.dtype)
            mask[key] = 1
            return gx, (g * mask).sum()
        return gx, GetItem.apply(g, key=key, basic=False)


class IndexPutAt(Node):
    """``out = x`` with `v` written (or added, accumulate=True) at an index key; the
    recorded form of index_put_ and put_."""

    name = "IndexPutBackward0"

    def forward(self, x, v, key, accumulate, name=None):
        if name is not None:
            self.name = name
        self.key, self.accumulate = key, accumulate
        self.v_shape = getattr(v, "shape", ())
        out = x.copy()
        try:
            if accumulate:
                _add_at(array_module(x), out, key, v)
            else:
                out[key] = v
        except ValueError:
            res = x[key].shape
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {list(self.v_shape)} cannot be broadcast "
                f"to indexing result of shape {list(res)}") from None
        return out

    def backward(self, g):
        need = self.needs_input_grad
        gx = (g if self.accumulate else _zero_at(g, self.key, False)) if need[0] else None
        gv = None
        if len(need) > 1 and need[1]:
            gv = sum_to(GetItem.apply(g, key=self.key, basic=False), self.v_shape)
        return gx, gv


class MaskedScatter(Node):
    def forward(self, x, src, mask):
        xp = array_module(x)
        self.mask, self.src_shape = mask, src.shape
        self.k = int(mask.sum())
        out = x.copy()
        out[mask] = src.reshape(-1)[: self.k]
        return out

    def backward(self, g):
        need = self.needs_input_grad
        gx = _zero_at(g, self.mask, False) if need[0] else None
        gs = None
        if need[1]:
            n = int(np.prod(self.src_shape))
            picked = GetItem.apply(g, key=self.mask, basic=False)
            gs = IndexAdd.apply(picked, key=slice(0, self.k), basic=True, shape=(n,))
            gs = gs.reshape(self.src_shape)
        return gx, gs


# ---------------------------------------------------------------- their plain functions


def take_along_dim(input, indices, dim=None):
    """Values at indices along dim (indices broadcast with input).

    Args:
        input: the input tensor.
        indices: an int64 tensor.
        dim: the dimension (None: input flattened).

    Returns:
        Tensor.
    """
    from .shape import broadcast_to, reshape

    idx = _raw(indices)
    if idx.dtype != np.int64:
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {_type_name(idx.dtype)}")
    if dim is None:
        return gather(reshape(input, (-1,)), 0, reshape(indices, (-1,)))
    if input.ndim != idx.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.ndim} dimensions for input, and {idx.ndim} dimensions "
            "for indices")
    axis = _dim(dim, input.ndim, "take_along_dim")
    xs, ish = list(input.shape), list(idx.shape)
    xs[axis] = ish[axis] = 1
    shape = np.broadcast_shapes(tuple(xs), tuple(ish))
    xb = list(shape)
    xb[axis] = input.shape[axis]
    ib = list(shape)
    ib[axis] = idx.shape[axis]
    if tuple(xb) != tuple(input.shape):
        input = broadcast_to(input, tuple(xb))
    if tuple(ib) != idx.shape:
        idx = array_module(idx).broadcast_to(idx, tuple(ib))
    return gather(input, axis, idx)


def gather(input, dim, index, *, sparse_grad=False):
    """``out[i][j] = input[index[i][j]][j]`` for dim=0 (and so on), as torch.gather;
    indices out of range raise (CuPy would wrap them).

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: an int64 tensor of positions along dim, with input's number of dimensions
            (no larger than input in the others).
        sparse_grad: accepted for PyTorch compatibility; the gradient is always dense.

    Returns:
        Tensor: of index's shape.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([[1, 2], [3, 4]])
        >>> torch.gather(x, 1, torch.tensor([[0, 0], [1, 0]]))
        tensor([[1, 1],
                [4, 3]])
    """
    axis, key, idx = _scatter_key("gather", input, dim, index, None)
    return take_at(input, key, name="GatherBackward0")


def scatter(input, dim, index, src=None, value=None, *, reduce=None):
    """A copy of input with src (or value) written at index along dim.

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: an int64 tensor of positions.
        src: the values written.
        value: a number written instead of src.
        reduce: ``"add"`` or ``"multiply"`` to combine instead of overwrite.

    Returns:
        Tensor.
    """
    if src is None:
        src = value
    if reduce is not None:
        if reduce not in ("add", "multiply"):
            raise RuntimeError("reduce argument must be either add or multiply.")
        if not hasattr(src, "shape"):
            src = _wrap(array_module(_raw(input)).full(_raw(index).shape, src, _raw(input).dtype))
        return scatter_reduce(input, dim, index, src, "sum" if reduce == "add" else "prod")
    _check_same_dtype(input, src)
    axis, key, idx = _scatter_key("scatter", input, dim, index, src)
    if hasattr(src, "shape"):
        src = _src_region(src, index)
    elif isinstance(src, Tensor) or hasattr(src, "item"):
        src = src.item()
    return Scatter.apply(input, src, key=key)


def scatter_add(input, dim, index, src):
    """A copy of input with src added at index along dim.

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: an int64 tensor of positions.
        src: the values added.

    Returns:
        Tensor.
    """
    _check_same_dtype(input, src)
    axis, key, idx = _scatter_key("scatter_add", input, dim, index, src)
    return ScatterAdd.apply(input, _src_region(src, index), key=key)


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """A copy of input with src reduced into it at index along dim.

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: an int64 tensor of positions.
        src: the values.
        reduce: ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``.
        include_self: include input's own values in the reduction.

    Returns:
        Tensor.
    """
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    _check_same_dtype(input, src)
    axis, key, idx = _scatter_key("scatter_reduce", input, dim, index, src)
    return ScatterReduce.apply(input, _src_region(src, index), key=key, reduce=reduce,
                               include_self=bool(include_self))


def _index_key(op, input, dim, index, long_only=False):
    idx = _raw(index)
    if idx.dtype.kind not in "iu" or (long_only and idx.dtype != np.int64):
        raise IndexError(f"{op}(): Expected dtype int64 for index.")
    if idx.ndim > 1:
        raise IndexError(
            f"{op}(): Index is supposed to be a vector, but got dim: {idx.ndim} with type: "
            f"{_type_name(idx.dtype)} and size: {list(idx.shape)}")
    nd = input.ndim
    axis = _dim(dim, nd, op)
    size = input.shape[axis] if nd else 1
    idx = idx.reshape(-1)
    return axis, idx, size


def _source_rows_check(op, input, axis, idx, source, exact_shape):
    if not isinstance(source, Tensor):
        return
    if source.dtype != input.dtype:
        a, b = _type_name(input._data.dtype), _type_name(source._data.dtype)
        if op == "index_copy_":
            raise RuntimeError(f"index_copy_(): self and source expected to have the same "
                               f"dtype, but got (self) {a} and (source) {b}")
        raise RuntimeError(f"{op}(): self ({a}) and source ({b}) must have the same scalar type")
    n = source.shape[axis] if source.ndim else 1
    if n != idx.size:
        sep = ":" if op == "index_add_" else ""
        tail = f", for dim: {axis}" if op == "index_add_" else ""
        cls = RuntimeError if op == "index_add_" else IndexError
        raise cls(f"{op}(): Number of indices ({idx.size}) should be equal to "
                  f"source.size(dim){sep} ({n}){tail}")
    want = list(input.shape)
    if want:
        want[axis] = idx.size
    if exact_shape and list(source.shape) != want and source.ndim == input.ndim:
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {list(input.shape)} source.shape = {list(source.shape)}")


def _row_key(axis, idx):
    return (slice(None),) * axis + (idx,)


def _as_1d(source):
    return source.reshape(-1) if isinstance(source, Tensor) and source.ndim == 0 else source


def _on_1d(input, f):
    """A 0-d input is indexed as its 1-element vector (PyTorch allows index [0] there)."""
    if input.ndim:
        return f(input)
    return f(input.reshape(1)).reshape(())


def index_add(input, dim, index, source, *, alpha=1):
    """A copy of input with alpha * source added at rows index along dim.

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: a 1-D int64 tensor.
        source: the values added.
        alpha: the multiplier.

    Returns:
        Tensor.
    """
    axis, idx, size = _index_key("index_add_", input, dim, index)
    _source_rows_check("index_add_", input, axis, idx, source, True)
    _check_bounds(idx, size, axis)
    if alpha != 1:
        source = source * alpha
    return _on_1d(input, lambda x: IndexAlong.apply(
        x, _as_1d(source) if input.ndim == 0 else source, key=_row_key(axis, idx), mode="add"))


def index_copy(input, dim, index, source):
    """A copy of input with source written at rows index along dim.

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: a 1-D int64 tensor.
        source: the values written.

    Returns:
        Tensor.
    """
    axis, idx, size = _index_key("index_copy_", input, dim, index)
    _source_rows_check("index_copy_", input, axis, idx, source, True)
    _check_bounds(idx, size, axis, IndexError, "index_copy_(): ")
    return _on_1d(input, lambda x: IndexAlong.apply(
        x, _as_1d(source) if input.ndim == 0 else source, key=_row_key(axis, idx), mode="copy"))


def index_fill(input, dim, index, value):
    """A copy of input with value at rows index along dim.

    Args:
        input: the input tensor.
        dim: the dimension indexed.
        index: a 1-D int64 tensor.
        value: the value.

    Returns:
        Tensor.
    """
    axis, idx, size = _index_key("index_fill_", input, dim, index, long_only=True)
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s).")
    _check_bounds(idx, size, axis, IndexError)
    if not isinstance(value, Tensor) or not value.requires_grad:
        value = value.item() if isinstance(value, Tensor) else value
    return _on_1d(input, lambda x: IndexAlong.apply(x, value, key=_row_key(axis, idx), mode="fill"))


def _put_key(input, indices):
    """A tuple of index tensors (index_put_'s `indices`) as a raw key, bounds checked."""
    raw, basic = _raw_key(tuple(indices))
    d = 0
    for k in raw:
        if getattr(k, "dtype", None) is not None and k.dtype.kind == "b":
            d += k.ndim
            continue
        if hasattr(k, "dtype") and d < input.ndim:
            bad = _first_out_of_range(k, input.shape[d], allow_negative=True)
            if bad is not None:
                raise IndexError(
                    f"index {bad} is out of bounds for dimension {d} with size {input.shape[d]}")
        d += 1
    return raw


def index_put(input, indices, values, accumulate=False):
    """A copy of input with values at input[indices].

    Args:
        input: the input tensor.
        indices: a tuple of index tensors.
        values: the values written.
        accumulate: add instead of overwrite.

    Returns:
        Tensor.
    """
    key = _put_key(input, indices)
    if isinstance(values, Tensor) and values.dtype != input.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{_type_name(input._data.dtype)} for the destination and "
            f"{_type_name(values._data.dtype)} for the source.")
    if not hasattr(values, "shape"):
        values = _wrap(array_module(input._data).asarray(values, input._data.dtype))
    return IndexPutAt.apply(input, values, key=key, accumulate=bool(accumulate))


def _flat_key(input, index, op):
    idx = _raw(index)
    n = input.numel()
    bad = _first_out_of_range(idx, n, allow_negative=True)
    if bad is not None:
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    xp = array_module(idx)
    flat = xp.where(idx < 0, idx + n, idx).reshape(-1)
    return xp.unravel_index(flat, input.shape) if input.ndim else (flat * 0,)


def put(input, index, source, accumulate=False):
    """A copy of input with source at flat positions index.

    Args:
        input: the input tensor.
        index: int64 flat positions.
        source: the values.
        accumulate: add instead of overwrite.

    Returns:
        Tensor.
    """
    if source.numel() != _raw(index).size:
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.numel()}, index.numel() = {_raw(index).size}")
    key = _flat_key(input, index, "put_")
    src = source.reshape(-1)
    if input.ndim == 0:
        key = ()
        src = source.reshape(()) if source.numel() == 1 else src
    return IndexPutAt.apply(input, src, key=key, accumulate=bool(accumulate), name="PutBackward0")


def take(input, index):
    """The elements of input, seen as 1-D, at index.

    Args:
        input: the input tensor.
        index: int64 flat positions.

    Returns:
        Tensor: index's shape
    """
    from .shape import reshape

    key = _flat_key(input, index, "take")
    idx = _raw(index)
    xp = array_module(idx)
    n = input.numel()
    flat = xp.where(idx < 0, idx + n, idx)
    return take_at(reshape(input, (-1,)), (flat,), name="TakeBackward0")


def _bool_mask(mask, op):
    m = _raw(mask)
    if m.dtype != np.bool_:
        if op == "masked_select":
            raise RuntimeError("masked_select: expected BoolTensor for mask")
        raise RuntimeError(f"{op} only supports boolean masks, but got mask with dtype "
                           f"{_type_name(m.dtype)}")
    return m


def _broadcast_shape(a, b):
    """np.broadcast_shapes with PyTorch's message."""
    try:
        return np.broadcast_shapes(a, b)
    except ValueError:
        n = max(len(a), len(b))
        pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
        d = next(i for i in range(n - 1, -1, -1) if pa[i] != pb[i] and 1 not in (pa[i], pb[i]))
        raise RuntimeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b "
                           f"({pb[d]}) at non-singleton dimension {d}") from None


def masked_select(input, mask):
    """The elements where mask is True.

    Args:
        input: the input tensor.
        mask: a bool tensor broadcastable to input.

    Returns:
        Tensor: 1-D
    """
    from .shape import broadcast_to

    m = _bool_mask(mask, "masked_select")
    shape = _broadcast_shape(m.shape, tuple(input.shape))  # (PyTorch names the mask a)
    x = input if tuple(input.shape) == shape else broadcast_to(input, shape)
    m = array_module(m).broadcast_to(m, shape)
    return take_at(x, (m,), name="MaskedSelectBackward0", unique=True)


def masked_scatter(input, mask, source):
    """A copy of input with source's elements, in order, where mask is True.

    Args:
        input: the input tensor.
        mask: a bool tensor broadcastable to input.
        source: the values, at least as many as True entries.

    Returns:
        Tensor.
    """
    m = _bool_mask(mask, "masked_scatter_")
    if source.dtype != input.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{_type_name(input._data.dtype)} and {_type_name(source._data.dtype)}")
    _broadcast_shape(tuple(input.shape), m.shape)
    m = array_module(m).broadcast_to(m, tuple(input.shape))
    if int(m.sum()) > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input, source, mask=m)


def argwhere(input):
    """The indices of the nonzero elements, one row each.

    Args:
        input: the input tensor.

    Returns:
        Tensor: (count, ndim), int64
    """
    return nonzero(input)


# ---------------------------------------------------------------- in place


def _inplace_from(self, compute, *others):
    """An in-place op from its out-of-place form `compute(t)`: recorded (see
    Tensor._record_inplace) when grad mode sees a tensor requiring grad, else computed
    without a graph and written into this tensor's memory (its views see it)."""
    from ..autograd.grad_mode import no_grad

    other = next((o for o in others if isinstance(o, Tensor) and o._requires_grad), None)
    if self._check_inplace(other):
        return self._record_inplace(compute)
    with no_grad():
        r = compute(self)
    self._data[...] = r._data
    self._version[0] += 1
    return self


def scatter_(self, dim, index, src=None, value=None, *, reduce=None):
    """In-place scatter.

    Args:
        dim: the dimension indexed.
        index: an int64 tensor of positions.
        src: the values written.
        value: a number written instead of src.
        reduce: ``"add"`` or ``"multiply"``.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: scatter(t, dim, index, src, value, reduce=reduce), src)


def scatter_add_(self, dim, index, src):
    """In-place scatter_add.

    Args:
        dim: the dimension indexed.
        index: an int64 tensor of positions.
        src: the values added.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: scatter_add(t, dim, index, src), src)


def scatter_reduce_(self, dim, index, src, reduce, *, include_self=True):
    """In-place scatter_reduce.

    Args:
        dim: the dimension indexed.
        index: an int64 tensor of positions.
        src: the values.
        reduce: ``"sum"``, ``"prod"``, ``"mean"``, ``"amax"`` or ``"amin"``.
        include_self: include the tensor's own values.

    Returns:
        Tensor: self
    """
    return _inplace_from(
        self, lambda t: scatter_reduce(t, dim, index, src, reduce, include_self=include_self), src)


def index_add_(self, dim, index, source, *, alpha=1):
    """In-place index_add.

    Args:
        dim: the dimension indexed.
        index: a 1-D int64 tensor.
        source: the values added.
        alpha: the multiplier.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: index_add(t, dim, index, source, alpha=alpha), source)


def index_copy_(self, dim, index, source):
    """In-place index_copy.

    Args:
        dim: the dimension indexed.
        index: a 1-D int64 tensor.
        source: the values written.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: index_copy(t, dim, index, source), source)


def index_fill_(self, dim, index, value):
    """In-place index_fill.

    Args:
        dim: the dimension indexed.
        index: a 1-D int64 tensor.
        value: the value.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: index_fill(t, dim, index, value), value)


def index_put_(self, indices, values, accumulate=False):
    """In-place index_put.

    Args:
        indices: a tuple of index tensors.
        values: the values written.
        accumulate: add instead of overwrite.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: index_put(t, indices, values, accumulate), values)


def put_(self, index, source, accumulate=False):
    """In-place put.

    Args:
        index: int64 flat positions.
        source: the values.
        accumulate: add instead of overwrite.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: put(t, index, source, accumulate), source)


def masked_scatter_(self, mask, source):
    """In-place masked_scatter.

    Args:
        mask: a bool tensor broadcastable to self.
        source: the values.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: masked_scatter(t, mask, source), source)


def masked_fill_(self, mask, value):
    """In-place masked_fill.

    Args:
        mask: a bool tensor broadcastable to self.
        value: a number or a 0-d tensor.

    Returns:
        Tensor: self
    """
    return _inplace_from(self, lambda t: masked_fill(t, mask, value), value)


for _name in ("take_along_dim", "gather", "scatter", "scatter_add", "scatter_reduce", "index_add",
              "index_copy", "index_fill", "index_put", "put", "take", "masked_select",
              "masked_scatter", "argwhere", "scatter_", "scatter_add_", "scatter_reduce_",
              "index_add_", "index_copy_", "index_fill_", "index_put_", "put_",
              "masked_scatter_", "masked_fill_"):
    setattr(Tensor, _name, globals()[_name])
del _name


def _tensor_fill_(self, value):
    """Fill with value in place.

    Args:
        value: a number or a 0-d tensor.

    Returns:
        Tensor: self
    """
    if self._check_inplace(value):
        return self._record_inplace(lambda old: Fill.apply(old, value))
    self._data.fill(value.item() if isinstance(value, Tensor) else value)
    self._version[0] += 1
    return self


def _tensor_copy_(self, src):
    """Copy src's values into this tensor in place (broadcast, cast to its dtype, across
    devices).

    Args:
        src: the source tensor.

    Returns:
        Tensor: self
    """
    src_t = src if isinstance(src, Tensor) else None
    if self._check_inplace(src_t):
        s = src_t.to(self.device)
        return self._record_inplace(lambda old: CopyFrom.apply(old, s))
    b = src._data if src_t is not None else src
    if src_t is not None and src_t.device != self.device:
        b = backend.to_device(b, self.device)  # copy_ is the explicit cross-device copy
    try:
        self._xp().copyto(self._data, b, casting="unsafe")
    except ValueError:
        raise self._inplace_error(b, "copy_") from None
    self._version[0] += 1
    return self


def _tensor_setitem(self, key, value):
    setitem(self, key, value)


tensor_method("fill_", _tensor_fill_)
tensor_method("copy_", _tensor_copy_)
tensor_method("__setitem__", _tensor_setitem)


# ---------------------------------------------------------------- repeat_interleave


def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """Repeats each element (or each slice along dim) repeats times.

    Args:
        input: the input tensor.
        repeats: an int or a tensor of counts.
        dim: the dimension (None: the flattened input).
        output_size: the total length, if known.

    Returns:
        Tensor.
    """
    if repeats is None:  # repeat_interleave(repeats): the indices 0.., each repeated
        reps = input._data
        if reps.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if reps.size and int(reps.min()) < 0:
            raise RuntimeError("repeats can not be negative")
        xp = array_module(reps)
        return _wrap(_repeat_index(xp, reps, reps.size))
    if dim is None:
        input, axis = flatten(input), 0
    else:
        axis = normalize_dims(dim, input.ndim, "repeat_interleave")[0]
    n = input.shape[axis] if input.ndim else 1
    xp = array_module(input._data)
    if isinstance(repeats, Tensor):
        reps = repeats._data
        if reps.ndim > 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if reps.size == 1:
            reps = reps.reshape(())
        elif reps.size != n:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{reps.size} and input.size({axis}) = {n}")
        if reps.size and int(reps.min()) < 0:
            raise RuntimeError("repeats can not be negative")
    else:
        if repeats < 0:
            raise RuntimeError("Repeats must be non-negative")
        reps = int(repeats)
    index = _repeat_index(xp, reps, n)
    key = (slice(None),) * axis + (index,)
    # (PyTorch repeats by a number through expand and a reshape: ViewBackward0)
    return take_at(input, key, name="IndexSelectBackward0" if isinstance(repeats, Tensor)
                   else "ViewBackward0")


def _repeat_index(xp, reps, n):
    """0..n-1, each i repeated reps[i] times (reps a number or an array): the row to read for
    every output position. (CuPy's repeat takes no array of counts: a position p reads the
    first row whose running count exceeds p.)"""
    if not hasattr(reps, "shape") or reps.ndim == 0:
        return xp.repeat(xp.arange(n), int(reps))
    ends = xp.cumsum(reps)
    total = int(ends[-1]) if ends.size else 0
    return xp.searchsorted(ends, xp.arange(total), side="right")


Tensor.repeat_interleave = repeat_interleave
