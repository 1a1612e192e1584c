"""Tensor methods that make tensors like another (new_zeros, new_tensor, type_as, ...), change a
tensor's shape in place (resize_, unsqueeze_, squeeze_, t_, transpose_), and describe its
memory (stride, storage_offset, data_ptr, is_complex).

new_* take this tensor's dtype and device unless told otherwise, as PyTorch's do. The in-place
shape ops keep the tensor object (and its memory); on a non-leaf tensor in grad mode they are
recorded like any in-place op: the tensor takes the out-of-place op's place on the tape.
"""
import math
import warnings

from .. import backend
from .. import creation
from ..autograd.grad_mode import _state, no_grad
from ..tensor import Tensor, _wrap
from . import shape as _shape_ops
from .reduction import normalize_dims

backend.finfo.default_dtype = creation.get_default_dtype  # finfo() describes the default dtype


def _size_arg(size, op):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    size = tuple(int(s) for s in size)
    if any(s < 0 for s in size):
        bad = next(s for s in size if s < 0)
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {list(size)}")
    return size


def _like_self(self, dtype, device):
    return (self.dtype if dtype is None else dtype), (self.device if device is None else device)


def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
    """Zeros of the given size, with this tensor's dtype and device unless given.

    Args:
        size: the shape.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    dtype, device = _like_self(self, dtype, device)
    return creation.zeros(_size_arg(size, "new_zeros"), dtype=dtype, device=device,
                          requires_grad=requires_grad)


def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
    """Ones of the given size, with this tensor's dtype and device unless given.

    Args:
        size: the shape.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    dtype, device = _like_self(self, dtype, device)
    return creation.ones(_size_arg(size, "new_ones"), dtype=dtype, device=device,
                         requires_grad=requires_grad)


def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
    """An uninitialized tensor of the given size, with this tensor's dtype and device unless given.

    Args:
        size: the shape.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    dtype, device = _like_self(self, dtype, device)
    return creation.empty(_size_arg(size, "new_empty"), dtype=dtype, device=device,
                          requires_grad=requires_grad)


def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """fill_value everywhere, with this tensor's dtype and device unless given.

    Args:
        size: the shape.
        fill_value: the value.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    dtype, device = _like_self(self, dtype, device)
    return creation.full(_size_arg((size,), "new_full"), fill_value, dtype=dtype, device=device,
                         requires_grad=requires_grad)


def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
    """A copy of `data` with this tensor's dtype and device (not `data`'s).

    Args:
        data: the initial data (a number, a sequence, an array or a tensor).
        dtype: the result's dtype (None: this tensor's).
        device: the result's device (None: this tensor's).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor: a new leaf.
    """
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=2)
        data = data.detach()
    dtype, device = _like_self(self, dtype, device)
    return creation.tensor(data, dtype=dtype, device=device, requires_grad=requires_grad)


def type_as(self, other):
    """This tensor in `other`'s dtype, on `other`'s device (itself when they match).

    Args:
        other: the tensor whose dtype and device to take.

    Returns:
        Tensor.
    """
    return self.to(device=other.device, dtype=other.dtype)


# ---------------------------------------------------------------- shape changes in place


def _take_over(self, out):
    """Makes `self` the tensor `out` is: its array, and (when recorded) its place on the tape."""
    if out._grad_fn is not None and self._retains_grad:  # the retained .grad follows
        hook = self.__dict__["_retain_hook"]
        self._grad_fn._pre_hooks[self._output_nr].remove(hook)
        out._grad_fn.register_prehook(out._output_nr, hook)
    self._data = out._data
    if out._grad_fn is not None:
        self._grad_fn, self._output_nr = out._grad_fn, out._output_nr
    self._version[0] += 1
    return self


def _shape_inplace(self, op):
    """self = op(self), sharing memory: recorded on a non-leaf tensor in grad mode; PyTorch's
    error on a leaf (or a view of one) that requires grad."""
    if self._check_inplace(None):
        alias = _wrap(self._data, self._grad_fn, self._requires_grad)
        alias._output_nr = self._output_nr
        return _take_over(self, op(alias))
    with no_grad():
        return _take_over(self, op(self))


def unsqueeze_(self, dim):
    """Insert a dimension of size 1 at dim, in place (same object).

    Args:
        dim: where the new dimension goes.

    Returns:
        Tensor: self
    """
    return _shape_inplace(self, lambda t: _shape_ops.unsqueeze(t, dim))


def squeeze_(self, dim=None):
    """Remove dimensions of size 1, in place (same object).

    Args:
        dim: only this dimension (or these); None: all of size 1.

    Returns:
        Tensor: self
    """
    return _shape_inplace(self, lambda t: _shape_ops.squeeze(t) if dim is None
                          else _shape_ops.squeeze(t, dim))


def t_(self):
    """Transpose a matrix in place (same object).

    Returns:
        Tensor: self
    """
    if self.ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
    return _shape_inplace(self, _shape_ops.t)


def transpose_(self, dim0, dim1):
    """Swap dimensions dim0 and dim1 in place (same object).

    Args:
        dim0: the first dimension.
        dim1: the second.

    Returns:
        Tensor: self
    """
    return _shape_inplace(self, lambda t: _shape_ops.transpose(t, dim0, dim1))


def resize_(self, *size):
    """Gives the tensor the shape `size`, C-contiguous, as PyTorch's resize_: the same
    elements in memory order, the first prod(size) of them; kept in place (views share the
    change) when they fit in the tensor's memory (for a tensor shrunk before, the memory it
    had), else copied into a larger array whose new elements are uninitialized. The same
    shape leaves the tensor unchanged. A tensor that requires grad cannot be resized."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = _size_arg(size, "resize_")
    d = self._data
    if shape == d.shape:
        return self
    n = math.prod(shape)
    xp = self._xp()
    # the elements in memory order: a view when the memory is dense (also a transposed view)
    flat = d.reshape(-1) if d.flags.c_contiguous else d.ravel(order="K")
    root = d
    while getattr(root.base, "flags", None) is not None:  # (NumPy and CuPy bases are arrays)
        root = root.base
    if root is not d and root.flags.c_contiguous and d.flags.c_contiguous:
        # a tensor shrunk before: its memory goes on past its elements, as a PyTorch storage
        # does, and growing again finds the old values there
        # (both C-contiguous: d's elements are the first of the memory from its offset on)
        storage = root.reshape(-1)[backend.storage_offset(d):]
        if storage.size > flat.size:
            flat = storage
    if n <= flat.size:
        new = flat[:n].reshape(shape)
    else:
        with backend.on_device(self.device):
            grown = xp.empty(n, dtype=d.dtype)
        grown[: flat.size] = flat
        new = grown.reshape(shape)
    self._data = new
    self._version[0] += 1
    return self


# ---------------------------------------------------------------- memory layout


def stride(self, dim=None):
    """Steps in elements between neighbours along each dimension (NumPy's strides are bytes).

    Args:
        dim: one dimension (None: all of them).

    Returns:
        tuple of int, or an int with dim.
    """
    d = self._data
    steps = tuple(s // d.itemsize for s in d.strides)
    if dim is None:
        return steps
    (axis,) = normalize_dims(dim, d.ndim, "stride") if d.ndim else (0,)
    return steps[axis] if d.ndim else 1


def storage_offset(self):
    """The offset of the first element in the underlying memory, in elements.

    Returns:
        int.
    """
    return backend.storage_offset(self._data)


def data_ptr(self):
    """The address of the first element.

    Returns:
        int.
    """
    return backend.data_ptr(self._data)


def is_complex(self):
    """False: complex dtypes do not exist here.

    Returns:
        bool.
    """
    return self._data.dtype.kind == "c"


def bfloat16(self):
    """Raises: NumPy and CuPy have no bfloat16 arrays (use float32 or float16).

    Returns:
        Tensor.
    """
    return self.to(backend.bfloat16)  # (raises: NumPy has no bfloat16; the error says what to use)


for _name in ("new_zeros", "new_ones", "new_empty", "new_full", "new_tensor", "type_as",
              "unsqueeze_", "squeeze_", "t_", "transpose_", "resize_", "stride",
              "storage_offset", "data_ptr", "is_complex", "bfloat16"):
    if _name not in Tensor.__dict__:  # (tensor.py's own, where it has one, stays)
        setattr(Tensor, _name, globals()[_name])
del _name
Tensor.resize_as_ = lambda self, other: resize_(self, tuple(other.shape))
Tensor.resize_as_.__doc__ = """Resizes this tensor in place to other's shape:
    ``self.resize_(other.shape)`` (see ``resize_`` for what is kept).

    Args:
        other: the tensor whose shape this one takes.

    Returns:
        Tensor: this tensor.
    """
Tensor.swapaxes_ = Tensor.swapdims_ = transpose_
