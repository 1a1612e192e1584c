"""Shape ops: reshape/view, flatten, transpose/permute, squeeze/unsqueeze, expand/broadcast_to,
cat/stack/split/chunk, clone, and the explicit device copy. Results that NumPy returns as
views are views here too (they share memory and the version counter)."""
import numpy as np

from .. import backend
from ..autograd.node import Node
from ..backend import array_module
from ..tensor import Tensor
from .arithmetic import sum_to
from .reduction import normalize_dims


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _kwarg(kw, name, op):
    """PyTorch's keyword spelling of a shape argument (x.reshape(shape=...)), as a 1-tuple."""
    extra = set(kw) - {name}
    if extra or name not in kw:
        raise TypeError(f"{op}() got an unexpected keyword argument {sorted(extra)[0]!r}" if extra
                        else f"{op}() missing its {name} argument")
    return (kw[name],)


def _view_of(out, base):
    """`out`, marked as a view of `base` when it is one (for raw arrays: as is)."""
    return out._as_view_of(base) if isinstance(out, Tensor) else out


class Reshape(Node):
    name = "ViewBackward0"

    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {x.size}"
            ) from None

    def backward(self, g):
        return g.reshape(self.in_shape)


class Transpose(Node):
    def forward(self, x, d0, d1):
        self.dims = (d0, d1)
        return x.swapaxes(d0, d1)

    def backward(self, g):
        return g.swapaxes(*self.dims)


class Permute(Node):
    def forward(self, x, dims):
        self.inverse = tuple(np.argsort(dims))
        return x.transpose(dims)

    def backward(self, g):
        return permute(g, self.inverse)


class Expand(Node):
    def forward(self, x, shape):
        self.in_shape = x.shape
        try:
            return array_module(x).broadcast_to(x, shape)
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor must match the existing size at non-singleton "
                f"dimensions: cannot expand {tuple(x.shape)} to {tuple(shape)}"
            ) from None

    def backward(self, g):
        return sum_to(g, self.in_shape)


class Cat(Node):
    def forward(self, *arrays, axis):
        xp = array_module(arrays[0])
        self.sizes = [a.shape[axis] for a in arrays]
        self.axis = axis
        try:
            return xp.concatenate(arrays, axis=axis)
        except ValueError:
            shapes = [tuple(a.shape) for a in arrays]
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {axis} (cat of shapes {shapes})"
            ) from None

    def backward(self, g):
        out, start = [], 0
        lead = (slice(None),) * self.axis
        for n, need in zip(self.sizes, self.needs_input_grad):
            out.append(g[lead + (slice(start, start + n),)] if need else None)
            start += n
        return tuple(out)


class Stack(Node):
    def forward(self, *arrays, axis):
        xp = array_module(arrays[0])
        self.axis = axis
        shapes = {tuple(a.shape) for a in arrays}
        if len(shapes) > 1:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {[tuple(a.shape) for a in arrays]}"
            )
        return xp.stack(arrays, axis=axis)

    def backward(self, g):
        lead = (slice(None),) * self.axis
        return tuple(
            g[lead + (i,)] if need else None for i, need in enumerate(self.needs_input_grad)
        )


class Split(Node):
    def forward(self, x, sizes, axis):
        self.axis = axis
        xp = array_module(x)
        bounds = np.cumsum(sizes)[:-1].tolist()
        outs = tuple(xp.split(x, bounds, axis=axis))
        self._output_meta = [(o.shape, o.dtype, xp) for o in outs]
        return outs

    def backward(self, *grads):
        return cat(list(grads), self.axis)


class Clone(Node):
    def forward(self, x):
        return x.copy()

    def backward(self, g):
        return g


class ToDevice(Node):
    name = "ToCopyBackward0"

    def forward(self, x, dev):
        self.src = backend.device_of(x)
        return backend.to_device(x, dev)

    def backward(self, g):
        return to_device(g, self.src)


# ---------------------------------------------------------------- plain functions


def reshape(input, *shape, **kw):
    shape = _shape_arg(shape or (_kwarg(kw, "shape", "reshape") if kw else ()))
    return _view_of(Reshape.apply(input, shape=shape), input)


def view(input, *shape):
    shape = _shape_arg(shape)
    if shape and isinstance(shape[0], backend.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return reshape(input, shape)


def flatten(input, start_dim=0, end_dim=-1):
    shape = input.shape
    if not shape:
        return reshape(input, (1,))
    s = start_dim % len(shape)
    e = end_dim % len(shape)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    n = 1
    for k in shape[s : e + 1]:
        n *= k
    return reshape(input, tuple(shape[:s]) + (n,) + tuple(shape[e + 1 :]))


def unflatten(input, dim, sizes):
    shape = list(input.shape)
    d = dim % len(shape)
    return reshape(input, tuple(shape[:d]) + tuple(sizes) + tuple(shape[d + 1 :]))


def transpose(input, dim0, dim1):
    nd = input.ndim
    d0, d1 = (normalize_dims(d, nd, "transpose")[0] if nd else 0 for d in (dim0, dim1))
    if not nd:  # a 0-d tensor: dims 0/-1 are allowed and change nothing
        return reshape(input, ())
    return _view_of(Transpose.apply(input, d0=d0, d1=d1), input)


swapaxes = swapdims = transpose


def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return input if input.ndim < 2 else transpose(input, 0, 1)


def permute(input, *dims, **kw):
    dims = _shape_arg(dims or (_kwarg(kw, "dims", "permute") if kw else ()))
    nd = len(input.shape)
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    dims = tuple(d % nd for d in dims)
    if isinstance(input, Tensor):
        return _view_of(Permute.apply(input, dims=dims), input)
    return Permute.apply(input, dims=dims)


def squeeze(input, dim=None):
    shape = input.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = normalize_dims(dim, len(shape), "squeeze") or ()
        new = tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))
    return reshape(input, new)


def unsqueeze(input, dim):
    nd = len(input.shape) + 1
    if not -nd <= dim < nd:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})"
        )
    d = dim % nd
    shape = list(input.shape)
    shape.insert(d, 1)
    return reshape(input, tuple(shape))


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    shape = input.shape
    lead = len(sizes) - len(shape)
    full = tuple(
        (shape[i - lead] if s == -1 else s) for i, s in enumerate(sizes)
    )
    return _view_of(Expand.apply(input, shape=full), input)


def broadcast_to(input, shape):
    return Expand.apply(input, shape=tuple(shape))


def expand_as(input, other):
    return expand(input, other.shape)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


def _tensors_arg(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    return tensors


def cat(tensors, dim=0, *, axis=None):
    tensors = _tensors_arg(tensors, "cat")
    dim = axis if axis is not None else dim
    axis = normalize_dims(dim, tensors[0].ndim, "cat")[0]
    return Cat.apply(*tensors, axis=axis)


concatenate = concat = cat


def stack(tensors, dim=0, *, axis=None):
    tensors = _tensors_arg(tensors, "stack")
    dim = axis if axis is not None else dim
    axis = normalize_dims(dim, tensors[0].ndim + 1, "stack")[0]
    return Stack.apply(*tensors, axis=axis)


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    if split_size_or_sections is None:  # Tensor.split(split_size=...), PyTorch's keyword
        split_size_or_sections = split_size
    axis = normalize_dims(dim, tensor.ndim, "split")[0]
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0:
            raise RuntimeError(f"split expects split_size be positive, but got split_size={step}")
        sizes = [step] * (n // step) + ([n % step] if n % step else [])
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {dim}), but got split_sizes={sizes}"
            )
    if len(sizes) == 1:
        return (tensor,)
    return Split.apply(tensor, sizes=sizes, axis=axis)


def chunk(input, chunks, dim=0):
    axis = normalize_dims(dim, input.ndim, "chunk")[0]
    n = input.shape[axis]
    step = -(-n // chunks)
    return split(input, step if step else 1, axis)


def clone(input):
    return Clone.apply(input)


def to_device(input, dev):
    return ToDevice.apply(input, dev=dev)


def _contiguous(self):
    if type(self._data) is np.ndarray and self._data.flags.c_contiguous:
        return self
    if type(self._data) is not np.ndarray and self._data.flags.c_contiguous:
        return self
    return clone(self)


def _is_contiguous(self):
    return bool(self._data.flags.c_contiguous)


def _T(self):
    nd = self.ndim
    return self if nd < 2 else permute(self, tuple(range(nd - 1, -1, -1)))


def _mT(self):
    return transpose(self, -2, -1)


for _name in ("reshape", "view", "flatten", "unflatten", "transpose", "swapaxes", "swapdims",
              "t", "permute", "squeeze", "unsqueeze", "expand", "expand_as", "broadcast_to",
              "split", "chunk", "clone"):
    setattr(Tensor, _name, globals()[_name])
del _name
Tensor.contiguous = _contiguous
Tensor.is_contiguous = _is_contiguous
Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.view_as = lambda self, other: reshape(self, other.shape)
Tensor.reshape_as = lambda self, other: reshape(self, other.shape)
