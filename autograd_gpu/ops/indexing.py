"""Indexing: ``x[key]`` (slices, integers, None, Ellipsis, integer and boolean arrays) and
``x[key] = value``. The gradient of a read scatters back with repeated indices accumulating;
the two ops are each other's backward, so gradients of any order work."""
import numpy as np

from ..autograd.node import Node, _raise_device_mismatch
from ..backend import array_module
from ..tensor import Tensor, _wrap
from .arithmetic import sum_to


def _raw_key(key):
    """The key with Tensors replaced by their arrays; True when it is basic (view) indexing."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
        if isinstance(k, (list, np.ndarray)) or hasattr(k, "__cuda_array_interface__"):
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


class GetItem(Node):
    name = "IndexBackward0"

    def forward(self, x, key, basic):
        self.in_shape, self.key, self.basic = x.shape, key, basic
        if basic:
            self.name = "SliceBackward0"
        try:
            return x[key]
        except IndexError as e:
            raise _index_error(x, key, e) from None

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
        elif xp is np:
            np.add.at(out, key, g)
        else:
            import cupyx

            cupyx.scatter_add(out, key, g)
        return out

    def backward(self, g):
        return GetItem.apply(g, key=self.key, basic=self.basic)


class IndexPut(Node):
    """``x[key] = v`` computed out of place (the recorded form of __setitem__)."""

    name = "IndexPutBackward0"

    def forward(self, x, v, key, basic):
        self.key, self.basic = key, basic
        self.v_shape = getattr(v, "shape", ())
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


def getitem(self, key):
    raw, basic = _raw_key(key)
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
    host = tuple(k.get() if hasattr(k, "get") and not isinstance(k, np.ndarray) else k for k in raw)
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
    raw, basic = _raw_key(key)
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
    xp = input._xp()
    idx = xp.nonzero(input._data)
    if as_tuple:
        return tuple(_wrap(i) for i in idx)
    return _wrap(xp.stack(idx, axis=1) if idx else xp.zeros((0, 0), np.int64))


def masked_fill(input, mask, value):
    from .elementwise import where

    return where(mask, value, input)


def gather(input, dim, index):
    """``out[i][j] = input[index[i][j]][j]`` for dim=0 (and so on), as torch.gather."""
    xp = input._xp()
    idx = index._data if isinstance(index, Tensor) else index
    grids = list(xp.indices(idx.shape, sparse=True))
    grids[dim % input.ndim] = idx
    return getitem(input, tuple(_wrap(g) if not isinstance(g, np.ndarray) else g for g in grids))


def index_select(input, dim, index):
    key = (slice(None),) * (dim % input.ndim) + (index,)
    return getitem(input, key)


Tensor.__getitem__ = getitem
Tensor.nonzero = nonzero
Tensor.masked_fill = masked_fill
Tensor.gather = gather
Tensor.index_select = index_select
