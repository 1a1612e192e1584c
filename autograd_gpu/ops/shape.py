"""Shape ops: reshape/view, flatten, transpose/permute, squeeze/unsqueeze, expand/broadcast_to,
cat/stack/split/chunk, clone, and the explicit device copy. Results that NumPy returns as
views are views here too (they share memory and the version counter)."""
import numpy as np

from .. import backend
from ..autograd.node import Node
from ..backend import array_module
from ..tensor import Tensor, tensor_method
from .arithmetic import cast, sum_to
from ._names import named
from ._dims import normalize_dims


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


def _viewable(shape, strides, new_shape):
    """Whether an array of `shape` and `strides` can take `new_shape` without a copy: each
    run of old dims that merges into new dims must be laid out contiguously."""
    if 0 in shape:
        return True
    old = [(n, st) for n, st in zip(shape, strides) if n != 1]
    new = [n for n in new_shape if n != 1]
    i = j = 0
    while i < len(old) and j < len(new):
        p, q, i2, j2 = old[i][0], new[j], i + 1, j + 1
        while p != q:
            if p < q:
                p, i2 = p * old[i2][0], i2 + 1
            else:
                q, j2 = q * new[j2], j2 + 1
        if any(old[k][1] != old[k + 1][1] * old[k + 1][0] for k in range(i, i2 - 1)):
            return False
        i, j = i2, j2
    return True


class Reshape(Node):
    """Every reshaping view (view, reshape, flatten, squeeze, unsqueeze, ...); `name` is the
    node PyTorch records for the calling op. reshape() itself names it as PyTorch does: a
    view of a contiguous input, an alias of a strided one that can take the shape, else a
    copy (UnsafeViewBackward0)."""

    name = "ViewBackward0"

    def forward(self, x, shape, name=None):
        self.in_shape = x.shape
        try:
            y = x.reshape(shape)
        except ValueError:
            raise RuntimeError(
                f"shape '{list(shape)}' is invalid for input of size {x.size}"
            ) from None
        if name is not None:
            self.name = name
        elif not x.flags.c_contiguous:
            self.name = ("ReshapeAliasBackward0" if _viewable(x.shape, x.strides, y.shape)
                         else "UnsafeViewBackward0")
        return y

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
    def forward(self, x, sizes, axis, with_sizes=False):
        self.axis = axis
        if with_sizes:  # split([sizes]) is PyTorch's split_with_sizes
            self.name = "SplitWithSizesBackward0"
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
    """input with a new shape (a view when possible); one size may be -1.

    Args:
        input: the input tensor.
        shape: the new shape, as ints or one sequence.
        kw: ``shape=`` by name.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.reshape(torch.arange(6), (2, 3))
        tensor([[0, 1, 2],
                [3, 4, 5]])
        >>> torch.arange(6).reshape(-1, 2).shape
        autograd_gpu.Size([3, 2])
    """
    shape = _shape_arg(shape or (_kwarg(kw, "shape", "reshape") if kw else ()))
    return _view_of(Reshape.apply(input, shape=shape), input)


def _reshaped(input, shape, name):
    """A reshaping view recorded under PyTorch's node name for the calling op."""
    return _view_of(Reshape.apply(input, shape=tuple(shape), name=name), input)


def view(input, *shape):
    """A view of the same data with a new shape (the tensor must be contiguous enough); one size may be -1.

    Args:
        input: the input tensor.
        shape: the new shape, as ints or one sequence.

    Returns:
        Tensor.
    """
    shape = _shape_arg(shape)
    if shape and isinstance(shape[0], backend.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    return _reshaped(input, shape, "ViewBackward0")


def flatten(input, start_dim=0, end_dim=-1):
    """Flattens dimensions start_dim .. end_dim into one.

    Args:
        input: the input tensor.
        start_dim: the first dimension flattened.
        end_dim: the last one.

    Returns:
        Tensor.
    """
    shape = input.shape
    if not shape:
        return reshape(input, (1,))
    s = start_dim % len(shape)
    e = end_dim % len(shape)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:  # nothing to merge: the input itself, as PyTorch returns it
        return input
    n = 1
    for k in shape[s : e + 1]:
        n *= k
    return reshape(input, tuple(shape[:s]) + (n,) + tuple(shape[e + 1 :]))


def unflatten(input, dim, sizes):
    """Splits dimension dim into sizes.

    Args:
        input: the input tensor.
        dim: the dimension split.
        sizes: the shape it becomes (one may be -1).

    Returns:
        Tensor.
    """
    shape = list(input.shape)
    d = dim % len(shape)
    return reshape(input, tuple(shape[:d]) + tuple(sizes) + tuple(shape[d + 1 :]))


def transpose(input, dim0, dim1):
    """Swaps dimensions dim0 and dim1 (a view).

    Args:
        input: the input tensor.
        dim0: the first dimension.
        dim1: the second.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.transpose(torch.tensor([[1, 2], [3, 4]]), 0, 1)
        tensor([[1, 3],
                [2, 4]])
    """
    nd = input.ndim
    d0, d1 = (normalize_dims(d, nd, "transpose")[0] if nd else 0 for d in (dim0, dim1))
    if not nd:  # a 0-d tensor: dims 0/-1 are allowed and change nothing
        return _reshaped(input, (), "TransposeBackward0")
    return _view_of(Transpose.apply(input, d0=d0, d1=d1), input)


swapaxes = swapdims = transpose


def t(input):
    """The transpose of a matrix (0-d and 1-D tensors unchanged).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    if input.ndim < 2:  # a new view all the same, as PyTorch's
        return _reshaped(input, input.shape, "TBackward0")
    return named(transpose(input, 0, 1), "TBackward0")


def permute(input, *dims, **kw):
    """Reorders the dimensions (a view).

    Args:
        input: the input tensor.
        dims: the new order, as ints or one sequence.
        kw: ``dims=`` by name.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.permute(torch.zeros(2, 3, 4), (2, 0, 1)).shape
        autograd_gpu.Size([4, 2, 3])
    """
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
    """Removes dimensions of size 1 (all, or dim).

    Args:
        input: the input tensor.
        dim: an int or tuple; None: all of size 1.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.squeeze(torch.zeros(2, 1, 3)).shape
        autograd_gpu.Size([2, 3])
    """
    shape = input.shape
    if dim is None:
        new = tuple(n for n in shape if n != 1)
    else:
        axes = normalize_dims(dim, len(shape), "squeeze") or ()
        new = tuple(n for i, n in enumerate(shape) if not (i in axes and n == 1))
    # PyTorch's overloads: squeeze(), squeeze(int), squeeze(tuple of ints)
    form = "0" if dim is None else "2" if isinstance(dim, (tuple, list)) else "1"
    return _reshaped(input, new, "SqueezeBackward" + form)


def unsqueeze(input, dim):
    """Inserts a dimension of size 1 at dim.

    Args:
        input: the input tensor.
        dim: the position of the new dimension.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.unsqueeze(torch.tensor([1, 2]), 0)
        tensor([[1, 2]])
        >>> torch.tensor([1, 2]).unsqueeze(1).shape
        autograd_gpu.Size([2, 1])
    """
    nd = len(input.shape) + 1
    if not -nd <= dim < nd:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})"
        )
    d = dim % nd
    shape = list(input.shape)
    shape.insert(d, 1)
    return _reshaped(input, shape, "UnsqueezeBackward0")


def expand(input, *sizes):
    """A broadcast view with the given sizes (-1 keeps a size).

    Args:
        input: the input tensor.
        sizes: the new sizes, as ints or one sequence.

    Returns:
        Tensor.
    """
    sizes = _shape_arg(sizes)
    shape = input.shape
    lead = len(sizes) - len(shape)
    full = tuple(
        (shape[i - lead] if s == -1 else s) for i, s in enumerate(sizes)
    )
    return _view_of(Expand.apply(input, shape=full), input)


def broadcast_to(input, shape):
    """A broadcast view with the given shape.

    Args:
        input: the input tensor.
        shape: the shape.

    Returns:
        Tensor.
    """
    return Expand.apply(input, shape=tuple(shape))


def expand_as(input, other):
    """expand to other's shape.

    Args:
        input: the input tensor.
        other: the tensor whose shape is used.

    Returns:
        Tensor.
    """
    return expand(input, other.shape)


def broadcast_tensors(*tensors):
    """The tensors broadcast to one shape.

    Args:
        tensors: the tensors.

    Returns:
        tuple of Tensor.
    """
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(broadcast_to(t, shape) for t in tensors)


def _tensors_arg(tensors, op):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op}(): expected a non-empty list of Tensors")
    return tensors


def cat(tensors, dim=0, *, axis=None):
    """Concatenates tensors along an existing dimension.

    Args:
        tensors: a sequence of tensors of equal shapes except in dim.
        dim: the dimension.
        axis: NumPy's name of dim.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> a = torch.tensor([[1, 2], [3, 4]])
        >>> torch.cat([a, a])
        tensor([[1, 2],
                [3, 4],
                [1, 2],
                [3, 4]])
        >>> torch.cat([a, a], dim=1)
        tensor([[1, 2, 1, 2],
                [3, 4, 3, 4]])
    """
    tensors = _tensors_arg(tensors, "cat")
    dim = axis if axis is not None else dim
    axis = normalize_dims(dim, tensors[0].ndim, "cat")[0]
    return Cat.apply(*tensors, axis=axis)


concatenate = concat = cat


def stack(tensors, dim=0, *, axis=None):
    """Stacks tensors of one shape along a new dimension.

    Args:
        tensors: a sequence of tensors of one shape.
        dim: the position of the new dimension.
        axis: NumPy's name of dim.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> a, b = torch.tensor([1, 2]), torch.tensor([3, 4])
        >>> torch.stack([a, b])
        tensor([[1, 2],
                [3, 4]])
        >>> torch.stack([a, b], dim=1)
        tensor([[1, 3],
                [2, 4]])
    """
    tensors = _tensors_arg(tensors, "stack")
    dim = axis if axis is not None else dim
    axis = normalize_dims(dim, tensors[0].ndim + 1, "stack")[0]
    return Stack.apply(*tensors, axis=axis)


def split(tensor, split_size_or_sections=None, dim=0, *, split_size=None):
    """Splits into chunks of split_size (the last may be smaller) or of the given sizes, as views.

    Args:
        tensor: the input tensor.
        split_size_or_sections: an int size or a list of sizes.
        dim: the dimension split.
        split_size: ``split_size_or_sections`` by another name.

    Returns:
        tuple of Tensor.
    """
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
    return Split.apply(tensor, sizes=sizes, axis=axis,
                       with_sizes=not isinstance(split_size_or_sections, int))


def chunk(input, chunks, dim=0):
    """Splits into chunks pieces (the last may be smaller), as views.

    Args:
        input: the input tensor.
        chunks: the number of pieces.
        dim: the dimension split.

    Returns:
        tuple of Tensor.
    """
    axis = normalize_dims(dim, input.ndim, "chunk")[0]
    n = input.shape[axis]
    step = -(-n // chunks)
    return split(input, step if step else 1, axis)


def clone(input):
    """A copy of input, recorded on the graph (its gradient flows back).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Clone.apply(input)


def to_device(input, dev):
    return ToDevice.apply(input, dev=dev)


def _contiguous(self):
    """self if it is C-contiguous, else a contiguous copy.

    Returns:
        Tensor.
    """
    if self._data.flags.c_contiguous:
        return self
    return clone(self)


def _is_contiguous(self):
    """True if the elements are laid out in C order without gaps.

    Returns:
        bool.
    """
    return bool(self._data.flags.c_contiguous)


def _T(self):
    """The dimensions reversed (a view).

    Returns:
        Tensor.
    """
    nd = self.ndim
    return self if nd < 2 else permute(self, tuple(range(nd - 1, -1, -1)))


def _mT(self):
    """The last two dimensions transposed (a view).

    Returns:
        Tensor.
    """
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
Tensor.view_as.__doc__ = """self with other's shape: ``self.reshape(other.shape)``.

    Args:
        other: the tensor whose shape the result takes (of self's number of elements).

    Returns:
        Tensor: a view of self where its strides allow one, else a copy (as ``reshape``).
    """
Tensor.reshape_as.__doc__ = """self reshaped to other's shape: ``self.reshape(other.shape)``.

    Args:
        other: the tensor whose shape the result takes (of self's number of elements).

    Returns:
        Tensor: a view of self when possible, else a copy.
    """


# ---------------------------------------------------------------- more shape ops
# flip, roll, rot90, repeat/tile, repeat_interleave, tril/triu, diagonal/diag/diag_embed,
# trace, narrow/select/unbind, movedim, the stacks and splits, meshgrid and friends. Ops that
# PyTorch gives a node of their own (Flip, Roll, Repeat, Tril, Diagonal, ...) have one here;
# the others are compositions of differentiable ops (their grad_fn is the last op's).


def _axes(dims, ndim, op):
    dims = (dims,) if isinstance(dims, (int, np.integer)) else tuple(dims)
    axes = [normalize_dims(d, ndim, op)[0] for d in dims]
    return tuple(axes)


class Flip(Node):
    def forward(self, x, axes):
        self.axes = axes
        return array_module(x).flip(x, axes).copy() if axes else x.copy()

    def backward(self, g):
        return Flip.apply(g, axes=self.axes)


class Roll(Node):
    def forward(self, x, shifts, axes):
        self.shifts, self.axes = shifts, axes
        return array_module(x).roll(x, shifts, axes)

    def backward(self, g):
        return Roll.apply(g, shifts=tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple)
                          else -self.shifts, axes=self.axes)


class Repeat(Node):
    def forward(self, x, reps):
        xp = array_module(x)
        lead = len(reps) - x.ndim
        self.in_shape = (1,) * lead + tuple(x.shape)
        self.reps, self.x_shape = reps, x.shape
        return xp.tile(x.reshape(self.in_shape), reps)

    def backward(self, g):
        # out[r0*s0 + i0, ...]: split every dim into (repeat, size) and sum the repeats
        split = []
        for r, s in zip(self.reps, self.in_shape):
            split += [r, s]
        g = g.reshape(tuple(split))
        return g.sum(axis=tuple(range(0, len(split), 2))).reshape(self.x_shape)


class Tri(Node):
    """tril / triu over the last two dims: a constant mask, so the gradient is masked alike."""

    def forward(self, x, k, lower):
        xp = array_module(x)
        self.name = "TrilBackward0" if lower else "TriuBackward0"
        n, m = x.shape[-2:]
        mask = xp.tri(n, m, k, dtype=bool)
        self.mask = mask if lower else ~xp.tri(n, m, k - 1, dtype=bool)
        return xp.where(self.mask, x, xp.zeros((), x.dtype))

    def backward(self, g):
        from .elementwise import where

        return where(self.mask, g, 0.0)


def _diag_view(xp, a, offset, d1, d2):
    """The diagonal of `a` over dims (d1, d2) as a strided view of `a` (writeable when `a`
    is), laid out as PyTorch's diagonal: the other dims in order, then the diagonal."""
    n1, n2 = a.shape[d1], a.shape[d2]
    start = [slice(None)] * a.ndim
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        start[d2] = slice(min(offset, n2), None)
    else:
        length = max(0, min(n1 + offset, n2))
        start[d1] = slice(min(-offset, n1), None)
    b = a[tuple(start)]
    rest = [d for d in range(a.ndim) if d not in (d1, d2)]
    shape = tuple(a.shape[d] for d in rest) + (length,)
    strides = tuple(b.strides[d] for d in rest) + (b.strides[d1] + b.strides[d2],)
    return xp.lib.stride_tricks.as_strided(b, shape, strides)


class Diagonal(Node):
    def forward(self, x, offset, d1, d2):
        self.in_shape, self.args = x.shape, (offset, d1, d2)
        return _diag_view(array_module(x), x, offset, d1, d2)

    def backward(self, g):
        return DiagEmbed.apply(g, shape=self.in_shape, args=self.args)


class DiagEmbed(Node):
    """Zeros of `shape` with `g` on the diagonal (offset, d1, d2): diagonal's backward, and
    diag_embed itself."""

    def forward(self, g, shape, args):
        xp = array_module(g)
        self.args = args
        out = xp.zeros(shape, g.dtype)
        _diag_view(xp, out, *args)[...] = g
        return out

    def backward(self, g):
        offset, d1, d2 = self.args
        return Diagonal.apply(g, offset=offset, d1=d1, d2=d2)


class Trace(Node):
    def forward(self, x):
        self.shape = x.shape
        return array_module(x).trace(x)

    def backward(self, g):
        eye = array_module(_raw_of(g)).eye(*self.shape, dtype=_raw_of(g).dtype)
        return g * eye  # (g first: a CuPy array would try to convert a Tensor operand)


def _raw_of(x):
    return x._data if isinstance(x, Tensor) else x


class BlockDiag(Node):
    def forward(self, *blocks):
        xp = array_module(blocks[0])
        self.spans = []
        rows = sum(b.shape[0] for b in blocks)
        cols = sum(b.shape[1] for b in blocks)
        out = xp.zeros((rows, cols), np.result_type(*blocks))
        r = c = 0
        for b in blocks:
            self.spans.append((r, r + b.shape[0], c, c + b.shape[1]))
            out[r:r + b.shape[0], c:c + b.shape[1]] = b
            r, c = r + b.shape[0], c + b.shape[1]
        return out

    def backward(self, g):
        return tuple(g[r0:r1, c0:c1] if need else None
                     for (r0, r1, c0, c1), need in zip(self.spans, self.needs_input_grad))


# ---------------------------------------------------------------- their plain functions


def flip(input, *dims):
    """Reverses the order along dims (a copy).

    Args:
        input: the input tensor.
        dims: the dimensions, as ints or one sequence.

    Returns:
        Tensor.
    """
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = tuple(dims[0])
    axes = _axes(dims, input.ndim, "flip")
    seen = set()
    for a in axes:
        if a in seen:
            raise RuntimeError(f"dim {a} appears multiple times in the list of dims")
        seen.add(a)
    return Flip.apply(input, axes=axes)


def fliplr(input):
    """Reverses the order along dim 1.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input):
    """Reverses the order along dim 0.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def roll(input, shifts, dims=None):
    """Shifts elements along dims, wrapping around (a copy).

    Args:
        input: the input tensor.
        shifts: an int or a tuple, one per dim.
        dims: the dimensions (None: the flattened tensor).

    Returns:
        Tensor.
    """
    if dims is None or (isinstance(dims, (tuple, list)) and len(dims) == 0):
        if isinstance(shifts, (tuple, list)) and len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        s = int(shifts[0] if isinstance(shifts, (tuple, list)) else shifts)
        return named(reshape(Roll.apply(flatten(input), shifts=s, axes=0), tuple(input.shape)),
                     "RollBackward0")
    shifts_t = (shifts,) if isinstance(shifts, (int, np.integer)) else tuple(shifts)
    axes = _axes(dims, input.ndim, "roll")
    if len(shifts_t) != len(axes):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts_t)}, dims:{len(axes)}")
    return Roll.apply(input, shifts=tuple(int(s) for s in shifts_t), axes=axes)


def rot90(input, k=1, dims=(0, 1)):
    """Rotates by 90 degrees k times in the plane of dims.

    Args:
        input: the input tensor.
        k: the number of rotations.
        dims: the two dimensions of the plane.

    Returns:
        Tensor.
    """
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _axes(dims, input.ndim, "rot90")
    if d0 == d1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}")
    k %= 4
    if k == 1:
        out = transpose(flip(input, d1), d0, d1)
    elif k == 2:
        out = flip(input, d0, d1)
    elif k == 3:
        out = flip(transpose(input, d0, d1), d1)
    else:
        out = clone(input)
    return named(out, "Rot90Backward0")


def repeat(input, *sizes):
    """Tiles the tensor sizes[i] times along each dimension (a copy).

    Args:
        input: the input tensor.
        sizes: the repeats per dimension, as ints or one sequence.

    Returns:
        Tensor.
    """
    reps = _shape_arg(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor")
    if any(r < 0 for r in reps):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(reps)}: {list(reps)}")
    return Repeat.apply(input, reps=reps)


def tile(input, *dims):
    """Like repeat, with dims padded by ones in front when shorter than the tensor's.

    Args:
        input: the input tensor.
        dims: the repeats per dimension.

    Returns:
        Tensor.
    """
    reps = _shape_arg(dims)
    if len(reps) < input.ndim:
        reps = (1,) * (input.ndim - len(reps)) + reps
    return repeat(input, reps)


def _wrap_array(a):
    from ..tensor import _wrap

    return _wrap(a)


def tril(input, diagonal=0):
    """The lower triangle of the last two dimensions, the rest zero.

    Args:
        input: the input tensor.
        diagonal: the diagonal the triangle ends at (0 main, >0 above).

    Returns:
        Tensor.
    """
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tri.apply(input, k=int(diagonal), lower=True)


def triu(input, diagonal=0):
    """The upper triangle of the last two dimensions, the rest zero.

    Args:
        input: the input tensor.
        diagonal: the diagonal the triangle starts at (0 main, >0 above).

    Returns:
        Tensor.
    """
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Tri.apply(input, k=int(diagonal), lower=False)


def _tri_indices(row, col, offset, dtype, device, lower):
    from .. import backend

    dt = backend.to_numpy_dtype(dtype) if dtype is not None else np.dtype(np.int64)
    if dt.kind not in "iu":
        name = "tril_indices" if lower else "triu_indices"
        from ..tensor import _TORCH_TYPE_NAMES

        raise NotImplementedError(
            f"\"{name}\" not implemented for '{_TORCH_TYPE_NAMES.get(dt.name, dt.name)}'")
    dev = backend.normalize_device(device)
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        mask = xp.tri(row, col, offset, dtype=bool)
        if not lower:
            mask = ~xp.tri(row, col, offset - 1, dtype=bool)
        r, c = xp.nonzero(mask)
        return _wrap_array(xp.stack([r, c]).astype(dt))


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The indices of the lower triangle of a row x col matrix.

    Args:
        row: the number of rows.
        col: the number of columns.
        offset: the diagonal the triangle ends at.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).

    Returns:
        Tensor: (2, count), int64
    """
    return _tri_indices(row, col, offset, dtype, device, True)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The indices of the upper triangle of a row x col matrix.

    Args:
        row: the number of rows.
        col: the number of columns.
        offset: the diagonal the triangle starts at.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).

    Returns:
        Tensor: (2, count), int64
    """
    return _tri_indices(row, col, offset, dtype, device, False)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """A view of a diagonal of dims dim1 and dim2 (moved to the last dimension).

    Args:
        input: the input tensor.
        offset: which diagonal (0 main, >0 above, <0 below).
        dim1: the first dimension.
        dim2: the second.

    Returns:
        Tensor.
    """
    d1, d2 = _axes((dim1, dim2), input.ndim, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return _view_of(Diagonal.apply(input, offset=int(offset), d1=d1, d2=d2), input)


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Matrices whose diagonal (in dims dim1, dim2) is the last dimension of input.

    Args:
        input: the input tensor.
        offset: which diagonal.
        dim1: the first dimension of the matrices.
        dim2: the second.

    Returns:
        Tensor.
    """
    nd = input.ndim + 1
    d1, d2 = _axes((dim1, dim2), nd, "diag_embed")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = (input.shape[-1] if input.ndim else 1) + abs(int(offset))
    rest = iter(tuple(input.shape[:-1]))
    shape = tuple(n if d in (d1, d2) else next(rest) for d in range(nd))
    src = input if input.ndim else reshape(input, (1,))
    return DiagEmbed.apply(src, shape=shape, args=(int(offset), d1, d2))


def diag(input, diagonal=0):
    """A 1-D input as the diagonal of a matrix, or a matrix's diagonal as 1-D.

    Args:
        input: the input tensor.
        diagonal: which diagonal (0 main, >0 above, <0 below).

    Returns:
        Tensor.
    """
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return named(clone(globals()["diagonal"](input, diagonal)), "DiagonalBackward0_copy")
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input):
    """The sum of a matrix's diagonal.

    Args:
        input: the input tensor.

    Returns:
        Tensor: 0-d
    """
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return Trace.apply(input)


def narrow(input, dim, start, length):
    """The slice start .. start + length along dim (a view).

    Args:
        input: the input tensor.
        dim: the dimension.
        start: the first index.
        length: the number of elements.

    Returns:
        Tensor.
    """
    axis = normalize_dims(dim, input.ndim, "narrow")[0]
    n = input.shape[axis]
    start = int(start)
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    if start < 0:
        start += n
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return input[(slice(None),) * axis + (slice(start, start + length),)]


def select(input, dim, index):
    """The slice at index along dim, that dimension removed (a view).

    Args:
        input: the input tensor.
        dim: the dimension.
        index: the index.

    Returns:
        Tensor.
    """
    axis = normalize_dims(dim, input.ndim, "select")[0]
    n = input.shape[axis]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
            f"dimension {axis}")
    return input[(slice(None),) * axis + (int(index),)]


def unbind(input, dim=0):
    """The slices along dim, that dimension removed (views).

    Args:
        input: the input tensor.
        dim: the dimension.

    Returns:
        tuple of Tensor.
    """
    axis = normalize_dims(dim, input.ndim, "unbind")[0]
    return tuple(named(select(input, axis, i), "UnbindBackward0") for i in range(input.shape[axis]))


def movedim(input, source, destination):
    """Moves dimensions source to positions destination (a view).

    Args:
        input: the input tensor.
        source: an int or a sequence.
        destination: an int or a sequence of the same length.

    Returns:
        Tensor.
    """
    src = (source,) if isinstance(source, (int, np.integer)) else tuple(source)
    dst = (destination,) if isinstance(destination, (int, np.integer)) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)")
    nd = input.ndim
    s = [normalize_dims(d, nd, "movedim")[0] for d in src]
    d = [normalize_dims(x, nd, "movedim")[0] for x in dst]
    if len(set(s)) != len(s):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(src)})")
    if len(set(d)) != len(d):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(dst)})")
    order = [i for i in range(nd) if i not in s]
    perm = [None] * nd
    for a, b in zip(s, d):
        perm[b] = a
    rest = iter(order)
    perm = [p if p is not None else next(rest) for p in perm]
    if perm == list(range(nd)):
        return input
    return permute(input, tuple(perm))


moveaxis = movedim


def _atleast(n, tensors):
    single = len(tensors) == 1 and not isinstance(tensors[0], (tuple, list))
    items = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)) else tensors
    out = []
    for t in items:
        shape = tuple(t.shape)
        if len(shape) < n:
            if n == 3 and len(shape) == 2:
                shape = shape + (1,)
            elif n == 3 and len(shape) == 1:
                shape = (1,) + shape + (1,)
            else:
                shape = (1,) * (n - len(shape)) + shape
            # PyTorch reshapes a 0-d tensor and unsqueezes the others
            t = _reshaped(t, shape, "ViewBackward0" if t.ndim == 0 else "UnsqueezeBackward0")
        out.append(t)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each tensor with at least 1 dimension.

    Args:
        tensors: tensors, or one sequence of them.

    Returns:
        Tensor, or a tuple for several.
    """
    return _atleast(1, tensors)


def atleast_2d(*tensors):
    """Each tensor with at least 2 dimensions.

    Args:
        tensors: tensors, or one sequence of them.

    Returns:
        Tensor, or a tuple for several.
    """
    return _atleast(2, tensors)


def atleast_3d(*tensors):
    """Each tensor with at least 3 dimensions.

    Args:
        tensors: tensors, or one sequence of them.

    Returns:
        Tensor, or a tuple for several.
    """
    return _atleast(3, tensors)


def hstack(tensors):
    """Concatenates horizontally (dim 1, or dim 0 for 1-D tensors).

    Args:
        tensors: a sequence of tensors.

    Returns:
        Tensor.
    """
    ts = atleast_1d(*tensors) if len(tensors) != 1 else (atleast_1d(tensors[0]),)
    return cat(list(ts), 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Concatenates vertically (dim 0, 1-D tensors as rows).

    Args:
        tensors: a sequence of tensors.

    Returns:
        Tensor.
    """
    return cat(list(_atleast(2, tuple(tensors))) if len(tensors) > 1 else [atleast_2d(tensors[0])], 0)


row_stack = vstack


def dstack(tensors):
    """Concatenates along dim 2 (after atleast_3d).

    Args:
        tensors: a sequence of tensors.

    Returns:
        Tensor.
    """
    return cat(list(_atleast(3, tuple(tensors))) if len(tensors) > 1 else [atleast_3d(tensors[0])], 2)


def column_stack(tensors):
    """Stacks 1-D tensors as columns, concatenating 2-D ones horizontally.

    Args:
        tensors: a sequence of tensors.

    Returns:
        Tensor.
    """
    cols = [reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors]
    return cat(cols, 1)


def block_diag(*tensors):
    """A block-diagonal matrix of the inputs.

    Args:
        tensors: 0-, 1- or 2-D tensors.

    Returns:
        Tensor: 2-D
    """
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(
                f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                f"{t.ndim} dimensions")
        blocks.append(reshape(t, (1, t.numel())) if t.ndim == 1 else
                      reshape(t, (1, 1)) if t.ndim == 0 else t)
    if not blocks:
        from ..creation import zeros

        return zeros((0, 0))
    return BlockDiag.apply(*blocks)


def tensor_split(input, indices_or_sections, dim=0):
    """Splits into pieces at the given indices, or into n near-equal pieces, as views.

    Args:
        input: the input tensor.
        indices_or_sections: an int n or a sequence of split indices.
        dim: the dimension split.

    Returns:
        tuple of Tensor.
    """
    axis = normalize_dims(dim, input.ndim, "tensor_split")[0]
    n = input.shape[axis]
    if isinstance(indices_or_sections, Tensor):
        raw = indices_or_sections._data
        indices_or_sections = int(raw.item()) if raw.ndim == 0 else [int(v) for v in raw.tolist()]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        big, size = n % k, n // k
        bounds, at = [], 0
        for i in range(k - 1):
            at += size + (1 if i < big else 0)
            bounds.append(at)
    else:
        bounds = [int(b) for b in indices_or_sections]
    lead = (slice(None),) * axis
    edges = [0] + bounds + [n]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        lo = min(max(lo + n if lo < 0 else lo, 0), n)
        hi = min(max(hi + n if hi < 0 else hi, 0), n)
        out.append(input[lead + (slice(lo, max(lo, hi)),)])
    return tuple(out)


def _split_along(input, sections, dim, op, need):
    if input.ndim < need:
        s = "" if need == 1 else ""
        raise RuntimeError(
            f"torch.{op} requires a tensor with at least {need} dimension{s}, but got a tensor "
            f"with {input.ndim} dimensions!")
    if isinstance(sections, (int, np.integer)):
        n = input.shape[dim]
        if sections == 0 or n % sections:
            raise RuntimeError(
                f"torch.{op} attempted to split along dimension {dim}, but the size of the "
                f"dimension {n} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


def hsplit(input, sections):
    """tensor_split along dim 1 (dim 0 for 1-D tensors).

    Args:
        input: the input tensor.
        sections: an int or a sequence of indices.

    Returns:
        tuple of Tensor.
    """
    return _split_along(input, sections, 1 if input.ndim > 1 else 0, "hsplit", 1)


def vsplit(input, sections):
    """tensor_split along dim 0.

    Args:
        input: the input tensor.
        sections: an int or a sequence of indices.

    Returns:
        tuple of Tensor.
    """
    return _split_along(input, sections, 0, "vsplit", 2)


def dsplit(input, sections):
    """tensor_split along dim 2.

    Args:
        input: the input tensor.
        sections: an int or a sequence of indices.

    Returns:
        tuple of Tensor.
    """
    return _split_along(input, sections, 2, "dsplit", 3)


def meshgrid(*tensors, indexing=None):
    """Coordinate grids from 1-D tensors.

    Args:
        tensors: 1-D tensors, or one sequence of them.
        indexing: ``"ij"`` (matrix) or ``"xy"`` (Cartesian); None warns and uses ``"ij"``.

    Returns:
        tuple of Tensor.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (tuple, list)):
        tensors = tuple(tensors[0])
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing is None:
        import warnings

        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor "
                f"of shape {list(t.shape)}")
    ts = [reshape(t, (-1,)) for t in tensors]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    out = []
    for i, t in enumerate(ts):
        view = [1] * len(ts)
        view[i] = shape[i]
        out.append(expand(reshape(t, tuple(view)), shape))
    if swap:  # xy: the grids of (b, a, ...) in ij order, handed back as (a, b, ...)
        out[0], out[1] = out[1], out[0]
    return tuple(out)


def cartesian_prod(*tensors):
    """The Cartesian product of 1-D tensors, one row per combination.

    Args:
        tensors: 1-D tensors.

    Returns:
        Tensor.
    """
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([flatten(g) for g in grids], 1)


def combinations(input, r=2, with_replacement=False):
    """The r-element combinations of a 1-D tensor's elements, one row each.

    Args:
        input: a 1-D tensor.
        r: the size of each combination.
        with_replacement: allow repeated elements.

    Returns:
        Tensor.
    """
    import itertools

    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _wrap_array(array_module(input._data).zeros((0,), input._data.dtype))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    xp = array_module(input._data)
    if not rows:
        return named(reshape(input[xp.zeros(0, np.int64)], (0, r)), "StackBackward0")
    idx = np.array(rows, dtype=np.int64)
    cols = [input[xp.asarray(idx[:, j])] for j in range(r)]
    return stack(cols, 1)


for _name in ("flip", "fliplr", "flipud", "roll", "rot90", "repeat", "tile",
              "tril", "triu", "diagonal", "diag_embed", "diag", "trace", "narrow", "select",
              "unbind", "movedim", "moveaxis", "tensor_split", "hsplit", "vsplit", "dsplit"):
    setattr(Tensor, _name, globals()[_name])
del _name


def _tensor_to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other_tensor)``.

    Args:
        args: a device (or its name or index), a dtype, both, or a tensor whose device and
            dtype to take.
        dtype: the dtype by name.
        device: the device by name.
        copy: return a new tensor even when nothing changes.
        non_blocking: accepted for PyTorch compatibility; copies are synchronous.

    Returns:
        Tensor: this tensor itself when device and dtype already match (and copy is
        False), else a differentiable copy.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([1, 2])
        >>> x.to(torch.float32)
        tensor([1., 2.])
        >>> x.to("cpu") is x
        True
    """
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, backend.dtype) or (isinstance(a, type) and a in (float, int, bool)):
            dtype = a
        elif isinstance(a, (str, backend.device, int)):
            device = a
        else:
            raise TypeError(f"to() received an invalid argument: {a!r}")
    out = self
    if device is not None:
        dev = backend.normalize_device(device)
        if dev != self.device:
            out = to_device(out, dev)
    if dtype is not None and backend.to_numpy_dtype(dtype) != out._data.dtype:
        out = cast(out, backend.to_numpy_dtype(dtype))
    if copy and out is self:
        out = self.clone()
    return out


tensor_method("to", _tensor_to)
