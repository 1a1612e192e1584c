"""Convolutions and pooling: conv1d/2d, conv_transpose1d/2d, max/avg pooling (1d, 2d),
adaptive avg/max pooling (1d, 2d), as ``torch.nn.functional``.

Everything runs in one 2-D form: a 1-D op sees its length as a width under a unit height,
so one code path (and one set of tests) covers both.

Convolution: im2col through a strided window view (``as_strided``, in NumPy and CuPy
alike), copied once into (N, groups, C/groups*kh*kw, OH*OW) and multiplied by the weight
matrix in one batched matmul (BLAS on the CPU). The three linear maps of a convolution
close under differentiation: the input gradient is a transposed convolution, the weight
gradient a correlation of input and output gradient, and the adjoint of each is one of the
other two. So ``Convolution`` (forward or transposed) and ``ConvWeightGrad`` are the only
nodes, and each one's backward calls the others: gradients of any order.

Pooling works on (B, H, W) with the leading dims flattened (pooling is per channel); the
window is walked by kernel offset (kh*kw strided slices), both in the forward (running
max and its window offset, or running sum) and in the backward (the gradient added into a
padded buffer slice by slice: no scatter with repeated indices). Adaptive pooling has
windows of varying size: the average is two small matrix products, the max a gather of
every window's positions.
"""
import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..tensor import _TORCH_TYPE_NAMES, Tensor, _wrap

# ---------------------------------------------------------------- small helpers


def _as_strided(xp, x, shape, strides):
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def _type_name(dt):
    return _TORCH_TYPE_NAMES.get(np.dtype(dt).name, np.dtype(dt).name)


def _ntuple(value, n, what, op):
    """`value` (an int or a sequence of 1 or n ints) as an n-tuple of ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    vals = tuple(int(v) for v in value)
    if len(vals) == 1:
        return vals * n
    if len(vals) != n:
        raise RuntimeError(
            f"expected {what} to be a single integer value or a list of {n} values to match "
            f"the convolution dimensions, but got {what}={list(vals)}"
        )
    return vals


def _slices(offset, step, count):
    """The slice that picks `count` elements `step` apart, starting at `offset`."""
    return slice(offset, offset + step * (count - 1) + 1, step)


class _Unsqueeze(Node):
    """A unit dim inserted (how PyTorch runs 1-D and unbatched ops on the 2-D kernels)."""

    name = "UnsqueezeBackward0"

    def forward(self, x, dim):
        self.in_shape = x.shape
        return array_module(x).expand_dims(x, dim)

    def backward(self, g):
        return g.reshape(self.in_shape)


class _Squeeze(Node):
    name = "SqueezeBackward1"

    def forward(self, x, dim):
        self.in_shape = x.shape
        return x.squeeze(dim)

    def backward(self, g):
        return g.reshape(self.in_shape)


def _unsqueeze(t, dim):
    return _Unsqueeze.apply(t, dim=dim)


def _squeeze(t, dim):
    return _Squeeze.apply(t, dim=dim)


# ---------------------------------------------------------------- convolution geometry


class _ConvGeom:
    """Shapes of one convolution in its 2-D form. `in_hw` is the image side (the input of a
    convolution, the output of a transposed one), `out_hw` the other side; `pad` is
    ((top, bottom), (left, right)); `spatial` is 1 or 2 (the caller's form)."""

    __slots__ = ("spatial", "kernel", "stride", "dilation", "pad", "groups", "in_hw", "out_hw")

    def __init__(self, spatial, kernel, stride, dilation, pad, groups, in_hw, out_hw):
        self.spatial, self.kernel, self.stride, self.dilation = spatial, kernel, stride, dilation
        self.pad, self.groups, self.in_hw, self.out_hw = pad, groups, in_hw, out_hw


def _to4d(a, geom):
    return a[:, :, None, :] if geom.spatial == 1 else a


def _from4d(a, geom):
    return a[:, :, 0, :] if geom.spatial == 1 else a


def _padded(x, pad, value=0):
    """x (B..., H, W) inside a border of `value`: pad = ((top, bottom), (left, right))."""
    (t, b), (l, r) = pad
    if not (t or b or l or r):
        return x
    xp = array_module(x)
    H, W = x.shape[-2:]
    out = xp.full(x.shape[:-2] + (H + t + b, W + l + r), value, x.dtype)
    out[..., t:t + H, l:l + W] = x
    return out


def _im2col(x, geom):
    """x (N, C, H, W) as columns (N, G, C/G*kh*kw, OH*OW), one contiguous copy."""
    xp = array_module(x)
    N, C = x.shape[:2]
    (kh, kw), (sh, sw), (dh, dw) = geom.kernel, geom.stride, geom.dilation
    OH, OW = geom.out_hw
    xpad = _padded(x, geom.pad)
    s = xpad.strides
    win = _as_strided(xp, xpad, (N, C, kh, kw, OH, OW),
                      (s[0], s[1], dh * s[2], dw * s[3], sh * s[2], sw * s[3]))
    G = geom.groups
    return xp.ascontiguousarray(win).reshape(N, G, C // G * kh * kw, OH * OW)


def _conv(x, w, geom):
    """The correlation of x (N, C, H, W) with w (O, C/G, kh, kw); also its columns."""
    xp = array_module(x)
    cols = _im2col(x, geom)
    N, G = x.shape[0], geom.groups
    O = w.shape[0]
    y = xp.matmul(w.reshape(G, O // G, cols.shape[2]), cols)  # (N, G, O/G, OH*OW)
    return y.reshape((N, O) + tuple(geom.out_hw)), cols


def _conv_transposed(g, w, geom):
    """The adjoint of _conv in x: g (N, O, OH, OW) -> (N, C, H, W). Columns from one batched
    matmul, then summed into the padded image one kernel offset at a time."""
    xp = array_module(g)
    N, O = g.shape[:2]
    G = geom.groups
    Cg, kh, kw = w.shape[1:]
    OH, OW = geom.out_hw
    H, W = geom.in_hw
    (sh, sw), (dh, dw) = geom.stride, geom.dilation
    (t, b), (l, r) = geom.pad
    wT = w.reshape(G, O // G, Cg * kh * kw).transpose(0, 2, 1)
    Hp, Wp = H + t + b, W + l + r
    if sh == 1 and sw == 1 and OW <= 16 and kw > 1:
        # narrow images: the sums below would run NumPy's inner loop over rows of only OW
        # elements. On the padded plane flattened, offset (i, j) of every output is one
        # contiguous run instead, if g's rows are widened to Wp with zeros first (the
        # zeros carry no gradient wherever a run wraps into the next row)
        ge = xp.zeros((N, O, OH, Wp), g.dtype)
        ge[..., :OW] = g
        cols = xp.matmul(wT, ge.reshape(N, G, O // G, OH * Wp)).reshape(
            N, G * Cg, kh, kw, OH * Wp)
        run = (OH - 1) * Wp + OW
        buf = xp.zeros((N, G * Cg, Hp * Wp), cols.dtype)
        for i in range(kh):
            for j in range(kw):
                o = i * dh * Wp + j * dw
                buf[:, :, o:o + run] += cols[:, :, i, j, :run]
        buf = buf.reshape(N, G * Cg, Hp, Wp)
        if t or b or l or r:
            return xp.ascontiguousarray(buf[:, :, t:t + H, l:l + W])
        return buf
    cols = xp.matmul(wT, g.reshape(N, G, O // G, OH * OW)).reshape(N, G * Cg, kh, kw, OH, OW)
    buf = xp.zeros((N, G * Cg, Hp, Wp), cols.dtype)
    for i in range(kh):
        rows = _slices(i * dh, sh, OH)
        for j in range(kw):
            buf[:, :, rows, _slices(j * dw, sw, OW)] += cols[:, :, i, j]
    if t or b or l or r:
        return xp.ascontiguousarray(buf[:, :, t:t + H, l:l + W])
    return buf


def _conv_weight(x, g, geom, cols=None):
    """The gradient of _conv in w: sum over batch and positions of g times x's columns."""
    xp = array_module(g)
    if cols is None:
        cols = _im2col(x, geom)
    N, O = g.shape[:2]
    G = geom.groups
    K, P = cols.shape[2:]
    gw = xp.matmul(g.reshape(N, G, O // G, P), cols.swapaxes(-1, -2))  # (N, G, O/G, K)
    gw = gw.sum(axis=0) if N != 1 else gw[0]
    kh, kw = geom.kernel
    return gw.reshape(O, K // (kh * kw), kh, kw)


_CONV_BB = "ConvolutionBackwardBackward0"


class Convolution(Node):
    """y = conv(x, w) + b, or the transposed convolution of x (`transposed`); the 1-D form
    runs on a unit height."""

    name = "ConvolutionBackward0"

    def forward(self, x, w, b, geom, transposed, name=None):
        if name is not None:
            self.name = name
        self.geom, self.transposed = geom, transposed
        x4, w4 = _to4d(x, geom), _to4d(w, geom)
        if transposed:
            y = _conv_transposed(x4, w4, geom)
            self.save_for_backward(x, w)
        else:
            y, cols = _conv(x4, w4, geom)
            # the weight gradient needs the same columns: kept until backward frees them
            self.save_for_backward(x, w, cols)
        if b is not None:
            y += b.reshape(1, -1, 1, 1)
        return _from4d(y, geom)

    def backward(self, g):
        saved = self.saved_tensors
        x, w = saved[0], saved[1]
        need = self.needs_input_grad
        geom = self.geom
        gx = gw = gb = None
        if need[0]:
            gx = Convolution.apply(g, w, None, geom=geom, transposed=not self.transposed,
                                   name=_CONV_BB)
        if need[1]:
            if self.transposed:  # the image side is the output here
                gw = ConvWeightGrad.apply(g, x, geom=geom)
            else:
                cols = saved[2]  # (a raw array: under create_graph it comes back wrapped)
                cols = cols._data if isinstance(cols, Tensor) else cols
                gw = ConvWeightGrad.apply(x, g, geom=geom, cols=cols)
        if len(need) > 2 and need[2]:
            gb = g.sum(axis=(0, 2) if geom.spatial == 1 else (0, 2, 3))
        return gx, gw, gb


class ConvWeightGrad(Node):
    """gw(x, g): the weight gradient of conv(x, w) for the output gradient g; linear in
    each argument, its adjoints are a transposed convolution (in x) and a convolution (in g)."""

    name = _CONV_BB

    def forward(self, x, g, geom, cols=None):
        self.geom = geom
        self.save_for_backward(x, g)
        gw = _conv_weight(_to4d(x, geom), _to4d(g, geom), geom, cols)
        return _from4d(gw, geom)

    def backward(self, ggw):
        x, g = self.saved_tensors
        need = self.needs_input_grad
        gx = gg = None
        if need[0]:
            gx = Convolution.apply(g, ggw, None, geom=self.geom, transposed=True, name=_CONV_BB)
        if need[1]:
            gg = Convolution.apply(x, ggw, None, geom=self.geom, transposed=False, name=_CONV_BB)
        return gx, gg


# ---------------------------------------------------------------- conv: checks and functions


def _check_conv_args(input, weight, bias, nd, op, transposed, groups):
    """PyTorch's checks, in its order, of shapes and dtypes that every conv shares."""
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, but got "
            f"input of size: {list(input.shape)}"
        )
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if input.dtype != weight.dtype:
        raise RuntimeError(
            f"expected scalar type {_type_name(input._data.dtype)} but found "
            f"{_type_name(weight._data.dtype)}"
        )
    if bias is not None and bias.dtype != input.dtype:
        raise RuntimeError(
            f"Input type ({input._data.dtype.name.replace('float32', 'float').replace('float64', 'double')}) "
            f"and bias type ({bias._data.dtype.name.replace('float32', 'float').replace('float64', 'double')}) "
            "should be the same"
        )


def _check_weight(shape, weight, bias, groups, transposed):
    """shape is the batched input's; channel, group and bias checks with PyTorch's words."""
    ws = list(weight.shape)
    if ws[0] % groups:
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
            f"but got weight of size [{ws}] instead"
        )
    expected = ws[0] if transposed else ws[1] * groups
    if shape[1] != expected:
        given = f"transposed=1, weight of size {ws}" if transposed else (
            f"groups={groups}, weight of size {ws}")
        raise RuntimeError(
            f"Given {given}, expected input{list(shape)} to have {expected} channels, but got "
            f"{shape[1]} channels instead"
        )
    out_ch = ws[1] * groups if transposed else ws[0]
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != out_ch):
        given = f"transposed=1, weight of size {ws}" if transposed else f"weight of size {ws}"
        raise RuntimeError(
            f"Given {given}, expected bias to be 1-dimensional with {out_ch} elements, but got "
            f"bias of size {list(bias.shape)} instead"
        )


def _size_str(vals):
    return "(" + " x ".join(str(v) for v in vals) + ")"


def _convnd(input, weight, bias, stride, padding, dilation, groups, nd, op):
    _check_conv_args(input, weight, bias, nd, op, False, groups)
    if weight.ndim != nd + 2:
        k = weight.ndim - 2
        raise RuntimeError(
            f"expected stride to be a single integer value or a list of {k} values to match "
            f"the convolution dimensions, but got stride={list(_ntuple(stride, nd, 'stride', op))}"
        )
    stride = _ntuple(stride, nd, "stride", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            # PyTorch puts the odd element of an even total on the far side
            pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                         for d, k in zip(dilation, kernel))
        else:
            raise RuntimeError(f"Invalid padding string: {padding!r}")
    else:
        pads = tuple((p, p) for p in _ntuple(padding, nd, "padding", op))
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for pp in pads for p in pp):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    batched = input.ndim == nd + 2
    shape = tuple(input.shape) if batched else (1,) + tuple(input.shape)
    _check_weight(shape, weight, bias, groups, False)
    spatial = shape[2:]
    padded = [n + p0 + p1 for n, (p0, p1) in zip(spatial, pads)]
    eff = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(e > p for e, p in zip(eff, padded)):
        raise RuntimeError(
            f"Calculated padded input size per channel: {_size_str(padded)}. Kernel size: "
            f"{_size_str(eff)}. Kernel size can't be greater than actual input size"
        )
    out = tuple((p - e) // s + 1 for p, e, s in zip(padded, eff, stride))
    geom = _conv_geom(nd, kernel, stride, dilation, pads, groups, spatial, out)
    if not batched:
        y = Convolution.apply(_unsqueeze(input, 0), weight, bias, geom=geom, transposed=False)
        return _squeeze(y, 0)
    return Convolution.apply(input, weight, bias, geom=geom, transposed=False)


def _conv_geom(nd, kernel, stride, dilation, pads, groups, in_hw, out_hw):
    """A geometry in 2-D form (1-D: a unit height, no padding on it)."""
    if nd == 1:
        kernel, stride, dilation = (1,) + kernel, (1,) + stride, (1,) + dilation
        pads, in_hw, out_hw = ((0, 0),) + tuple(pads), (1,) + tuple(in_hw), (1,) + tuple(out_hw)
    return _ConvGeom(nd, tuple(kernel), tuple(stride), tuple(dilation), tuple(pads), groups,
                     tuple(in_hw), tuple(out_hw))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D cross-correlation over (N, C, L) or unbatched (C, L) input.

    Args:
        input: the input, shape (N, C_in, L) or unbatched (C_in, L).
        weight: the filters, shape (C_out, C_in / groups, k).
        bias: an optional (C_out,) tensor added to each output channel.
        stride: the step of the window, an int or a 1-tuple.
        padding: zeros added on both sides: an int, a 1-tuple, ``'valid'`` (none) or ``'same'``
            (the output as large as the input; stride 1 only).
        dilation: the spacing between kernel elements, an int or a 1-tuple.
        groups: split the input channels into this many groups, each with its own filters
            (C_in and C_out divisible by it).

    Returns:
        Tensor: shape (N, C_out, L_out) (no N for an unbatched input).
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D cross-correlation over (N, C, H, W) or unbatched (C, H, W) input; padding an int,
    a pair, 'valid' or 'same'.

    Args:
        input: the input, shape (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: the filters, shape (C_out, C_in / groups, kh, kw).
        bias: an optional (C_out,) tensor added to each output channel.
        stride: the step of the window, an int or a pair.
        padding: zeros added on both sides: an int, a pair, ``'valid'`` (none) or ``'same'``
            (the output as large as the input; stride 1 only).
        dilation: the spacing between kernel elements, an int or a pair.
        groups: split the input channels into this many groups, each with its own filters
            (C_in and C_out divisible by it).

    Returns:
        Tensor: shape (N, C_out, H_out, W_out) (no N for an unbatched input).

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> x = torch.randn(1, 2, 5, 5)
        >>> F.conv2d(x, torch.randn(4, 2, 3, 3), padding=1).shape
        autograd_gpu.Size([1, 4, 5, 5])
        >>> F.conv2d(x, torch.randn(4, 2, 3, 3), stride=2).shape
        autograd_gpu.Size([1, 4, 2, 2])
    """
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def _conv_transposend(input, weight, bias, stride, padding, output_padding, groups, dilation,
                      nd, op):
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    _check_conv_args(input, weight, bias, nd, op, True, groups)
    if weight.ndim != nd + 2:
        raise RuntimeError(
            f"expected stride to be a single integer value or a list of {weight.ndim - 2} "
            f"values to match the convolution dimensions, but got "
            f"stride={list(_ntuple(stride, nd, 'stride', op))}"
        )
    stride = _ntuple(stride, nd, "stride", op)
    padding = _ntuple(padding, nd, "padding", op)
    output_padding = _ntuple(output_padding, nd, "output_padding", op)
    dilation = _ntuple(dilation, nd, "dilation", op)
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(p < 0 for p in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(f"dilation should be greater than zero, but got {list(dilation)}")
    batched = input.ndim == nd + 2
    shape = tuple(input.shape) if batched else (1,) + tuple(input.shape)
    _check_weight(shape, weight, bias, groups, True)
    kernel = tuple(weight.shape[2:])
    # PyTorch's message names height and width even for 1-D (height 0, 1, 1)
    op2, s2, d2 = ((0,) + output_padding, (1,) + stride, (1,) + dilation) if nd == 1 else (
        output_padding, stride, dilation)
    if any(o >= s and o >= d for o, s, d in zip(op2, s2, d2)):
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            f"output_padding_height: {op2[0]} output_padding_width: {op2[1]} stride_height: "
            f"{s2[0]} stride_width: {s2[1]} dilation_height: {d2[0]} dilation_width: {d2[1]}"
        )
    spatial = shape[2:]
    out = tuple((n - 1) * s - 2 * p + d * (k - 1) + o + 1 for n, s, p, d, k, o in zip(
        spatial, stride, padding, dilation, kernel, output_padding))
    if any(n < 1 for n in out):
        raise RuntimeError(
            f"Given input size per channel: {_size_str(spatial)}. Calculated output size per "
            f"channel: {_size_str(out)}. Output size is too small"
        )
    geom = _conv_geom(nd, kernel, stride, dilation, tuple((p, p) for p in padding), groups,
                      out, spatial)
    if not batched:
        y = Convolution.apply(_unsqueeze(input, 0), weight, bias, geom=geom, transposed=True)
        return _squeeze(y, 0)
    return Convolution.apply(input, weight, bias, geom=geom, transposed=True)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transposed 1-D convolution (the gradient of conv1d in its input); weight
    (C_in, C_out/groups, k).

    Args:
        input: the input, shape (N, C_in, L) or unbatched (C_in, L).
        weight: the filters, shape (C_in, C_out / groups, k).
        bias: an optional (C_out,) tensor added to each output channel.
        stride: the step of the window, an int or a 1-tuple.
        padding: ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides
            of the input (as conv1d's padding, undone), an int or a 1-tuple.
        output_padding: extra size added to one side of the output, an int or a 1-tuple
            (smaller than stride or dilation).
        groups: split the input channels into this many groups.
        dilation: the spacing between kernel elements, an int or a 1-tuple.

    Returns:
        Tensor: shape (N, C_out, L_out), each out = (in - 1) * stride - 2 * padding +
        dilation * (kernel_size - 1) + output_padding + 1.
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 1, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """The transposed 2-D convolution; weight (C_in, C_out/groups, kh, kw).

    Args:
        input: the input, shape (N, C_in, H, W) or unbatched (C_in, H, W).
        weight: the filters, shape (C_in, C_out / groups, kh, kw).
        bias: an optional (C_out,) tensor added to each output channel.
        stride: the step of the window, an int or a pair.
        padding: ``dilation * (kernel_size - 1) - padding`` zeros are added to both sides
            of the input (as conv2d's padding, undone), an int or a pair.
        output_padding: extra size added to one side of the output, an int or a pair
            (smaller than stride or dilation).
        groups: split the input channels into this many groups.
        dilation: the spacing between kernel elements, an int or a pair.

    Returns:
        Tensor: shape (N, C_out, H_out, W_out), each out = (in - 1) * stride - 2 * padding +
        dilation * (kernel_size - 1) + output_padding + 1.
    """
    return _conv_transposend(input, weight, bias, stride, padding, output_padding, groups,
                             dilation, 2, "conv_transpose2d")


# ---------------------------------------------------------------- pooling geometry


class _PoolGeom:
    """A pooling window in 2-D form over (B, H, W): kernel, stride, dilation, pad (symmetric
    padding per dim), extra (more padding on the far side for ceil_mode's last window)."""

    __slots__ = ("kernel", "stride", "dilation", "pad", "extra", "in_hw", "out_hw")

    def __init__(self, kernel, stride, dilation, pad, in_hw, out_hw):
        self.kernel, self.stride, self.dilation, self.pad = kernel, stride, dilation, pad
        self.in_hw, self.out_hw = in_hw, out_hw
        self.extra = tuple(max(0, (o - 1) * s + d * (k - 1) + 1 - (n + 2 * p)) for o, s, d, k, n, p in
                           zip(out_hw, stride, dilation, kernel, in_hw, pad))

    def border(self):
        return tuple((p, p + e) for p, e in zip(self.pad, self.extra))

    def offsets(self):
        """(i*kw + j, rows, cols): each kernel offset and the slices it reads of the padded
        image."""
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        OH, OW = self.out_hw
        for i in range(kh):
            rows = _slices(i * dh, sh, OH)
            for j in range(kw):
                yield i * kw + j, rows, _slices(j * dw, sw, OW)

    def overlapping(self):
        return any(s < d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def crop(self, buf):
        (ph, pw), (H, W) = self.pad, self.in_hw
        if ph or pw or any(self.extra):
            return array_module(buf).ascontiguousarray(buf[..., ph:ph + H, pw:pw + W])
        return buf


def _pool_out(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size: floor (or ceil) of the window count, less a last
    window that would start in the far padding."""
    eff = d * (k - 1) + 1
    out = (n + 2 * p - eff + ((s - 1) if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _flat3(x):
    """(…, H, W) as (B, H, W) (pooling is per channel)."""
    return x.reshape((-1,) + x.shape[-2:])


def _scatter_offsets(g, geom, mask_of=None):
    """The sum over kernel offsets k of g (times `mask_of(k)`, when given) placed at the
    positions offset k reads: the adjoint of reading the windows, into (B, H, W)."""
    xp = array_module(g)
    (t, b), (l, r) = geom.border()
    H, W = geom.in_hw
    buf = xp.zeros((g.shape[0], H + t + b, W + l + r), g.dtype)
    disjoint = not geom.overlapping()
    for k, rows, cols in geom.offsets():
        dst = buf[:, rows, cols]
        if disjoint:  # each image element is in at most one window: written, not summed
            if mask_of is None:
                dst[...] = g
            else:
                xp.multiply(g, mask_of(k), out=dst)
        else:
            dst += g if mask_of is None else g * mask_of(k)
    return geom.crop(buf)


class MaxPool2d(Node):
    """Max over each window; the window offset of the max (PyTorch's choice: the first
    maximum, or the last NaN) routes the gradient. Returns the values and, with
    `return_indices`, the flat index of each max in its (H, W) plane."""

    name = "MaxPool2DWithIndicesBackward0"

    def forward(self, x, geom, return_indices):
        xp = array_module(x)
        self.geom, self.shape = geom, x.shape
        x3 = _flat3(x)
        OH, OW = geom.out_hw
        low = -np.inf if x.dtype.kind == "f" else (
            np.iinfo(x.dtype).min if x.dtype.kind in "iu" else False)
        xpad = _padded(x3, geom.border(), low)
        views = [(k, xpad[:, rows, cols]) for k, rows, cols in geom.offsets()]
        # the values: a running maximum (NaN propagates, as in PyTorch)
        best = views[0][1].copy()
        for _, v in views[1:]:
            xp.maximum(best, v, out=best)
        # the arg: PyTorch keeps the first maximum; walking the offsets backwards, the last
        # write is the first match (arithmetic: cheaper than masked copies)
        dt = np.int8 if len(views) < 127 else np.int32
        arg = None
        for k, v in reversed(views):
            eq = v == best
            if arg is None:
                arg = eq * dt(k)
            else:
                arg *= ~eq
                arg += eq * dt(k)
        if x.dtype.kind == "f":
            nan = best != best
            if nan.any():  # a NaN window: PyTorch's arg is its last NaN
                for k, v in views:
                    hit = nan & (v != v)
                    arg *= ~hit
                    arg += hit * dt(k)
        if any(geom.pad) or any(geom.extra):
            # a window whose values are all the lowest: PyTorch's arg is its first position
            # inside the image, never the padding
            low_win = best == low
            arg = xp.where(low_win, self._first_inside(xp, dt), arg)
        self.arg = arg
        y = best.reshape(x.shape[:-2] + (OH, OW))
        if return_indices:
            return y, self.flat_indices(xp).reshape(y.shape)
        return y

    def _first_inside(self, xp, dt):
        g = self.geom
        (kh, kw), (sh, sw), (dh, dw), (ph, pw) = g.kernel, g.stride, g.dilation, g.pad
        OH, OW = g.out_hw
        # first i with o*s - p + i*d >= 0 (padding is at most half a window: one exists)
        fi = np.maximum(0, -(-(ph - np.arange(OH) * sh) // dh))
        fj = np.maximum(0, -(-(pw - np.arange(OW) * sw) // dw))
        return xp.asarray((fi[:, None] * kw + fj[None, :]).astype(dt))

    def flat_indices(self, xp):
        g = self.geom
        kw = g.kernel[1]
        (sh, sw), (dh, dw), (ph, pw) = g.stride, g.dilation, g.pad
        OH, OW = g.out_hw
        a = self.arg.astype(np.int64)
        rows = xp.arange(OH, dtype=np.int64)[:, None] * sh - ph + (a // kw) * dh
        cols = xp.arange(OW, dtype=np.int64)[None, :] * sw - pw + (a % kw) * dw
        return rows * g.in_hw[1] + cols

    def backward(self, g, *unused):
        return _MaxPoolScatter.apply(g, arg=self.arg, geom=self.geom, shape=self.shape)


class _MaxPoolScatter(Node):
    """The max-pool gradient: each output's gradient to the position of its max."""

    name = "MaxPool2DWithIndicesBackwardBackward0"

    def forward(self, g, arg, geom, shape):
        self.arg, self.geom, self.out_shape = arg, geom, g.shape
        g3 = g.reshape(arg.shape)
        return _scatter_offsets(g3, geom, lambda k: arg == k).reshape(shape)

    def backward(self, gg):
        return _MaxPoolGather.apply(gg, arg=self.arg, geom=self.geom, shape=self.out_shape)


class _MaxPoolGather(Node):
    """The adjoint of _MaxPoolScatter: each output reads the value at its max's position."""

    name = "MaxPool2DWithIndicesBackward0"

    def forward(self, x, arg, geom, shape):
        xp = array_module(x)
        self.arg, self.geom, self.in_shape = arg, geom, x.shape
        xpad = _padded(_flat3(x), geom.border())
        out = xp.zeros(arg.shape, x.dtype)
        for k, rows, cols in geom.offsets():
            xp.copyto(out, xpad[:, rows, cols], where=arg == k)
        return out.reshape(shape)

    def backward(self, g):
        return _MaxPoolScatter.apply(g, arg=self.arg, geom=self.geom, shape=self.in_shape)


def _avg_divisor(geom, count_include_pad, divisor_override, xp, dtype):
    """PyTorch's divisor per output position: the window clipped to the padded image (or
    to the image itself without count_include_pad), or the override."""
    if divisor_override:
        return divisor_override
    sizes = []
    for o_n, n, k, s, p in zip(geom.out_hw, geom.in_hw, geom.kernel, geom.stride, geom.pad):
        start = np.arange(o_n) * s - p
        end = np.minimum(start + k, n + p)
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, n)
        sizes.append(end - start)
    div = sizes[0][:, None] * sizes[1][None, :]
    if (div == div.flat[0]).all():
        return int(div.flat[0])
    return xp.asarray(div.astype(dtype))


class AvgPool2d(Node):
    """The window sum over the divisor; linear, so its backward (_AvgPoolScatter) and that
    one's backward (this again) give every order."""

    name = "AvgPool2DBackward0"

    def forward(self, x, geom, divisor):
        self.geom, self.divisor, self.shape = geom, divisor, x.shape
        xpad = _padded(_flat3(x), geom.border())
        acc = None
        for k, rows, cols in geom.offsets():
            v = xpad[:, rows, cols]
            if acc is None:
                acc = v.copy()
            else:
                acc += v
        acc /= divisor if not hasattr(divisor, "dtype") else divisor.astype(acc.dtype, copy=False)
        return acc.reshape(x.shape[:-2] + tuple(geom.out_hw))

    def backward(self, g):
        return _AvgPoolScatter.apply(g, geom=self.geom, divisor=self.divisor, shape=self.shape)


class _AvgPoolScatter(Node):
    name = "AvgPool2DBackwardBackward0"

    def forward(self, g, geom, divisor, shape):
        self.geom, self.divisor, self.out_shape = geom, divisor, g.shape
        g3 = _flat3(g) / divisor
        return _scatter_offsets(g3, geom).reshape(shape)

    def backward(self, gg):
        return AvgPool2d.apply(gg, geom=self.geom, divisor=self.divisor)


# ---------------------------------------------------------------- pooling: checks and functions


def _pool_tuple(value, name, op, allow_empty=False):
    if value is None or (allow_empty and isinstance(value, (tuple, list)) and len(value) == 0):
        return None
    if isinstance(value, (int, np.integer)):
        return (int(value),) * 2
    vals = tuple(int(v) for v in value)
    if len(vals) == 1:
        return vals * 2
    if len(vals) != 2:
        what = {
            "kernel_size": "kernel_size must either be a single int, or a tuple of two ints",
            "stride": "stride must either be omitted, a single int, or a tuple of two ints",
            "padding": "padding must either be a single int, or a tuple of two ints",
            "dilation": "dilation must be either a single int, or a tuple of two ints",
        }[name]
        raise RuntimeError(f"{op}: {what}")
    return vals


def _pool_geom(shape, kernel, stride, padding, dilation, ceil_mode):
    """Output sizes with PyTorch's checks (its order and words) for a 2-D pool over the
    last two dims of `shape`."""
    H, W = shape[-2:]
    outs = []
    for n, k, s, p, d in zip((H, W), kernel, stride, padding, dilation):
        if s == 0:
            raise RuntimeError("stride should not be zero")
        if p < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {p}")
        if p > (d * (k - 1) + 1) // 2:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={p}, "
                f"kernel_size={k} and dilation={d}"
            )
        outs.append(_pool_out(n, k, s, p, d, ceil_mode))
    if any(k <= 0 for k in kernel):
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kH: {kernel[0]} kW: {kernel[1]}")
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"stride should be greater than zero, but got dH: {stride[0]} dW: {stride[1]}")
    if any(d <= 0 for d in dilation):
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilationH: {dilation[0]} "
            f"dilationW: {dilation[1]}"
        )
    if any(o < 1 for o in outs):
        C = shape[-3]
        raise RuntimeError(
            f"Given input size: ({C}x{H}x{W}). Calculated output size: "
            f"({C}x{outs[0]}x{outs[1]}). Output size is too small"
        )
    return _PoolGeom(tuple(kernel), tuple(stride), tuple(dilation), tuple(padding), (H, W),
                     tuple(outs))


def _check_pool_input(shape):
    shape = tuple(shape)
    if len(shape) not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(n == 0 for n in shape[-3:]):
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
            f"but got:{list(shape)}"
        )


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over kh x kw windows of (N, C, H, W) or (C, H, W) input, padded with -inf;
    stride defaults to the kernel size. With return_indices, also each max's flat index
    in its (H, W) plane.

    Args:
        input: the input, shape (N, C, H, W) or (C, H, W).
        kernel_size: the window's size, an int or a pair.
        stride: the window's step, an int or a pair (None: kernel_size).
        padding: -inf added on both sides, an int or a pair (at most half the kernel).
        dilation: the spacing between window elements, an int or a pair.
        ceil_mode: round the output size up (a last, partial window) instead of down.
        return_indices: also return the indices of the maxima (for max_unpool2d).

    Returns:
        Tensor, or (Tensor, indices) with return_indices.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> F.max_pool2d(torch.arange(16.0).reshape(1, 1, 4, 4), 2)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
    """
    op = "max_pool2d"
    kernel = _pool_tuple(kernel_size, "kernel_size", op)
    stride = _pool_tuple(stride, "stride", op, allow_empty=True) or kernel
    padding = _pool_tuple(padding, "padding", op)
    dilation = _pool_tuple(dilation, "dilation", op)
    _check_pool_input(input.shape)
    geom = _pool_geom(input.shape, kernel, stride, padding, dilation, ceil_mode)
    out = MaxPool2d.apply(input, geom=geom, return_indices=bool(return_indices))
    return tuple(out) if return_indices else out


def _pool1d_arg(value, name, op, default=None):
    if value is None or (isinstance(value, (tuple, list)) and len(value) == 0):
        return default
    if isinstance(value, (int, np.integer)):
        return int(value)
    vals = tuple(int(v) for v in value)
    if len(vals) != 1:
        raise RuntimeError(
            f"{op}() {name} must be an int, list of ints or tuple of ints of size 1 but got "
            f"size {len(vals)}"
        )
    return vals[0]


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Max over windows of (N, C, L) or (C, L) input (max_pool2d on a unit height).

    Args:
        input: the input, shape (N, C, L) or (C, L).
        kernel_size: the window's size.
        stride: the window's step (None: kernel_size).
        padding: -inf added on both sides (at most half the kernel).
        dilation: the spacing between window elements.
        ceil_mode: round the output size up (a last, partial window) instead of down.
        return_indices: also return the indices of the maxima.

    Returns:
        Tensor, or (Tensor, indices) with return_indices.
    """
    op = "max_pool1d"
    if input.ndim not in (2, 3) or 0 in tuple(input.shape[-2:]):
        raise RuntimeError(
            "max_pool1d: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size "
            f"for input, but got:{list(input.shape)}"
        )
    k = _pool1d_arg(kernel_size, "kernel_size", op)
    s = _pool1d_arg(stride, "stride", op, default=k)
    p = _pool1d_arg(padding, "padding", op)
    d = _pool1d_arg(dilation, "dilation", op)
    if k <= 0:
        raise RuntimeError(f"max_pool1d() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"max_pool1d() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"max_pool1d() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(
            f"max_pool1d() padding should be at most half of kernel size, but got padding={p} "
            f"and kernel_size={k}"
        )
    if d <= 0:
        raise RuntimeError(f"max_pool1d() dilation must be greater than zero, but got {d}")
    L = input.shape[-1]
    out = _pool_out(L, k, s, p, d, ceil_mode)
    if out <= 0:
        raise RuntimeError(f"max_pool1d() Invalid computed output size: {out}")
    geom = _PoolGeom((1, k), (1, s), (1, d), (0, p), (1, L), (1, out))
    x = _unsqueeze(input, -2)
    if return_indices:
        y, idx = MaxPool2d.apply(x, geom=geom, return_indices=True)
        return _squeeze(y, -2), _wrap(idx._data.squeeze(-2))
    return _squeeze(MaxPool2d.apply(x, geom=geom, return_indices=False), -2)


def _avg_pool(input, geom, ceil_mode, count_include_pad, divisor_override):
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    xp = input._xp()
    divisor = _avg_divisor(geom, count_include_pad, divisor_override, xp, input._data.dtype)
    return AvgPool2d.apply(input, geom=geom, divisor=divisor)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Mean over kh x kw windows of (N, C, H, W) or (C, H, W) input (zero padding counted
    unless count_include_pad=False; divisor_override replaces the count).

    Args:
        input: the input, shape (N, C, H, W) or (C, H, W).
        kernel_size: the window's size, an int or a pair.
        stride: the window's step, an int or a pair (None: kernel_size).
        padding: zeros added on both sides, an int or a pair.
        ceil_mode: round the output size up (a last, partial window) instead of down.
        count_include_pad: count the padding zeros in each window's divisor.
        divisor_override: divide every window's sum by this instead.

    Returns:
        Tensor.
    """
    op = "avg_pool2d"
    kernel = _pool_tuple(kernel_size, "kernel_size", op)
    stride = _pool_tuple(stride, "stride", op, allow_empty=True) or kernel
    padding = _pool_tuple(padding, "padding", op)
    if input.ndim < 3:
        nd = input.ndim
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got -3)")
    _check_pool_input(input.shape)
    geom = _pool_geom(input.shape, kernel, stride, padding, (1, 1), ceil_mode)
    return _avg_pool(input, geom, ceil_mode, count_include_pad, divisor_override)


def _check_1d_dims(input, op):
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument "
            f"#1 'self' (while checking arguments for {op})"
        )


def _one_int(value, name, op):
    if isinstance(value, (int, np.integer)):
        return int(value)
    vals = tuple(value)
    if len(vals) != 1:
        raise RuntimeError(f"{op}() argument '{name}' should contain one int (got {len(vals)})")
    return vals[0] if vals[0] is None else int(vals[0])


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Mean over windows of (N, C, L) or (C, L) input (avg_pool2d on a unit height).

    Args:
        input: the input, shape (N, C, L) or (C, L).
        kernel_size: the window's size.
        stride: the window's step (None: kernel_size).
        padding: zeros added on both sides.
        ceil_mode: round the output size up (a last, partial window) instead of down.
        count_include_pad: count the padding zeros in each window's divisor.

    Returns:
        Tensor.
    """
    op = "avg_pool1d"
    _check_1d_dims(input, op)
    k = _one_int(kernel_size, "kernel_size", op)
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _one_int(
        stride, "stride", op)
    p = _one_int(padding, "padding", op)
    shape = tuple(input.shape[:-1]) + (1, input.shape[-1])
    _check_pool_input(shape)
    geom = _pool_geom(shape, (1, k), (1, s), (0, p), (1, 1), ceil_mode)
    y = _avg_pool(_unsqueeze(input, -2), geom, ceil_mode, count_include_pad, None)
    return _squeeze(y, -2)


# ---------------------------------------------------------------- adaptive pooling


def _adaptive_bounds(n, out):
    """PyTorch's adaptive windows: [floor(i n / out), ceil((i + 1) n / out))."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def _avg_matrix(n, out, xp, dtype):
    start, end = _adaptive_bounds(n, out)
    m = np.zeros((out, n))
    for o in range(out):
        m[o, start[o]:end[o]] = 1.0 / (end[o] - start[o])
    return xp.asarray(m.astype(dtype))


class AdaptiveAvgPool2d(Node):
    """y = Ph x Pw^T per (H, W) plane, Ph and Pw the row and column averaging matrices;
    linear, the backward Ph^T g Pw is the same op with the matrices transposed."""

    name = "AdaptiveAvgPool2DBackward0"

    def forward(self, x, ph, pw, name=None):
        if name is not None:
            self.name = name
        xp = array_module(x)
        self.ph, self.pw = ph, pw
        self.in_shape = x.shape
        y = xp.matmul(ph, xp.matmul(_flat3(x), pw.T))
        return y.reshape(x.shape[:-2] + y.shape[-2:])

    def backward(self, g):
        return AdaptiveAvgPool2d.apply(g, ph=self.ph.T, pw=self.pw.T,
                                       name="AdaptiveAvgPool2DBackwardBackward0")


def _adaptive_sizes(input, output_size, op):
    out = (output_size,) * 2 if isinstance(output_size, (int, np.integer)) or output_size is None \
        else tuple(output_size)
    if len(out) == 1:
        out = out * 2
    if len(out) != 2:
        raise RuntimeError(f"{op}: output_size must be 2")
    H, W = input.shape[-2:]
    out = tuple(int(n) if o is None else int(o) for o, n in zip(out, (H, W)))
    return out


def _check_adaptive(input, out, op, colon):
    if input.ndim not in (3, 4):
        raise RuntimeError(
            f"{op}(): Expected 3D or 4D tensor, but got{':' if colon else ''} {list(input.shape)}")
    if any(o < 0 for o in out):
        raise RuntimeError(
            f"{op}: elements of output_size must be greater than or equal to 0 but received "
            f"{{{out[0]}, {out[1]}}}"
        )
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError(
                f"{op}(): Expected input to have non-zero size for non-batch dimensions, but "
                f"input has sizes {list(input.shape)} with dimension {d} being empty"
            )


def adaptive_avg_pool2d(input, output_size):
    """Averages over PyTorch's adaptive windows, to an (OH, OW) output; None keeps an
    input size. A 1x1 output is a mean (MeanBackward1, as PyTorch).

    Args:
        input: the input, shape (N, C, H, W) or (C, H, W).
        output_size: (OH, OW), or one int for both; None in it keeps that input size.

    Returns:
        Tensor: shape (N, C, OH, OW) (no N for a 3-D input).
    """
    op = "adaptive_avg_pool2d"
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    out = _adaptive_sizes(input, output_size, op)
    _check_adaptive(input, out, op, False)
    if out == (1, 1):
        return input.mean(dim=(-2, -1), keepdim=True)
    xp, dt = input._xp(), input._data.dtype
    H, W = input.shape[-2:]
    return AdaptiveAvgPool2d.apply(input, ph=_avg_matrix(H, out[0], xp, dt),
                                   pw=_avg_matrix(W, out[1], xp, dt))


def adaptive_avg_pool1d(input, output_size):
    """Average pooling of (N, C, L) input to output_size positions.

    Args:
        input: the input tensor.
        output_size: the output length.

    Returns:
        Tensor.
    """
    op = "adaptive_avg_pool1d"
    _check_1d_dims(input, op)
    o = _one_int(output_size, "output_size", op)
    return _squeeze(adaptive_avg_pool2d(_unsqueeze(input, -2), (1, o)), -2)


class AdaptiveMaxPool2d(Node):
    """Max over PyTorch's adaptive windows. Each window's positions are gathered (windows
    shorter than the longest repeat their last position, which cannot change a max); the
    gradient goes back through the flat index of each max."""

    name = "AdaptiveMaxPool2DBackward0"

    def forward(self, x, out):
        xp = array_module(x)
        self.shape = x.shape
        H, W = x.shape[-2:]
        OH, OW = out
        (h0, h1), (w0, w1) = _adaptive_bounds(H, OH), _adaptive_bounds(W, OW)
        kh, kw = int((h1 - h0).max()), int((w1 - w0).max())
        hidx = np.minimum(h0[:, None] + np.arange(kh), h1[:, None] - 1)  # (OH, kh)
        widx = np.minimum(w0[:, None] + np.arange(kw), w1[:, None] - 1)  # (OW, kw)
        x3 = _flat3(x)
        B = x3.shape[0]
        win = x3[:, xp.asarray(hidx)[:, :, None, None], xp.asarray(widx)[None, None, :, :]]
        best = xp.full((B, OH, OW), -np.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min,
                       x.dtype)
        arg = xp.zeros((B, OH, OW), np.int32)
        for i in range(kh):
            for j in range(kw):
                v = win[:, :, i, :, j]
                take = v > best
                if x.dtype.kind == "f":
                    take |= v != v
                xp.copyto(best, v, where=take)
                xp.copyto(arg, i * kw + j, where=take)
        rows = xp.asarray(hidx)[xp.arange(OH)[:, None], arg // kw]
        cols = xp.asarray(widx)[xp.arange(OW)[None, :], arg % kw]
        self.flat = (rows * W + cols).astype(np.int64)
        lead = x.shape[:-2]
        return best.reshape(lead + (OH, OW)), self.flat.reshape(lead + (OH, OW))

    def backward(self, g, *unused):
        return _IndexScatter.apply(g, flat=self.flat, shape=self.shape)


class _IndexScatter(Node):
    """Zeros of `shape` with g added at the flat (H, W)-plane indices `flat` (repeats sum:
    adaptive windows can overlap)."""

    name = "AdaptiveMaxPool2DBackwardBackward0"

    def forward(self, g, flat, shape):
        xp = array_module(g)
        self.flat, self.out_shape = flat, g.shape
        B, HW = flat.shape[0], shape[-2] * shape[-1]
        # one bincount over all planes (plane b's indices shifted by b*HW): a scatter-add
        # in one C loop, unlike add.at
        where = (flat.reshape(B, -1) + xp.arange(B, dtype=np.int64)[:, None] * HW).ravel()
        out = xp.bincount(where, weights=g.reshape(-1), minlength=B * HW)
        return out.astype(g.dtype, copy=False).reshape(shape)

    def backward(self, gg):
        return _IndexGather.apply(gg, flat=self.flat, shape=self.out_shape)


class _IndexGather(Node):
    name = "AdaptiveMaxPool2DBackward0"

    def forward(self, x, flat, shape):
        xp = array_module(x)
        self.flat, self.in_shape = flat, x.shape
        B = flat.shape[0]
        x2 = x.reshape(B, -1)
        return xp.take_along_axis(x2, flat.reshape(B, -1), axis=1).reshape(shape)

    def backward(self, g):
        return _IndexScatter.apply(g, flat=self.flat, shape=self.in_shape)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max over PyTorch's adaptive windows, to an (OH, OW) output; with return_indices also
    the flat index of each max in its (H, W) plane.

    Args:
        input: the input, shape (N, C, H, W) or (C, H, W).
        output_size: (OH, OW), or one int for both; None in it keeps that input size.
        return_indices: also return the indices of the maxima.

    Returns:
        Tensor, or (Tensor, indices) with return_indices.
    """
    op = "adaptive_max_pool2d"
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}(): Expected 3D or 4D tensor, but got: {list(input.shape)}")
    out = _adaptive_sizes(input, output_size, op)
    _check_adaptive(input, out, op, True)
    y, idx = AdaptiveMaxPool2d.apply(input, out=out)
    return (y, idx) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling of (N, C, L) input to output_size positions.

    Args:
        input: the input tensor.
        output_size: the output length.
        return_indices: also return the indices of the maxima.

    Returns:
        Tensor, or (Tensor, indices) with return_indices.
    """
    op = "adaptive_max_pool1d"
    _check_1d_dims(input, op)
    o = _one_int(output_size, "output_size", op)
    y, idx = adaptive_max_pool2d(_unsqueeze(input, -2), (1, o), return_indices=True)
    y = _squeeze(y, -2)
    return (y, _wrap(idx._data.squeeze(-2))) if return_indices else y


__all__ = [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
]
