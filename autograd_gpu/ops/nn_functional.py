"""The rest of ``torch.nn.functional``: more activations (log_sigmoid, hardtanh, hardsigmoid,
hardswish, mish, celu, selu, prelu, glu, the shrinks, threshold, softsign, tanhshrink,
softmin), channel-wise and alpha dropout, ``pad`` (constant, reflect, replicate, circular),
``interpolate`` (nearest, nearest-exact, linear, bilinear, trilinear), and ``normalize``,
``cosine_similarity``, ``pairwise_distance``.

Each backward is written with operators and the library's functions (masks and index arrays
are constants), so it runs on raw arrays in a first-order pass and records a graph under
``create_graph``: second derivatives work everywhere. Conventions at kinks follow PyTorch's
kernels (a gradient mask is strict where PyTorch's is).
"""
import math
import numbers

import numpy as np

from ..autograd.node import Node
from ..backend import array_module, device_of
from ..tensor import Tensor
from .arithmetic import sum_to
from ..backend.execute import matmul, unary
from .elementwise import _sigmoid, exp, sigmoid, softplus, tanh, where
from .indexing import IndexAdd
from .reduction import normalize_dims, norm, softmax


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _num(v):
    """A number argument as a Python float (a NumPy float64 would promote float32 data)."""
    return float(v)


# ---------------------------------------------------------------- activations


class LogSigmoid(Node):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)): exp never sees a large positive."""

    name = "LogSigmoidBackward0"

    def forward(self, x):
        xp = array_module(x)
        self.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * sigmoid(-x)


class Hardtanh(Node):
    """clip(x, min_val, max_val); the gradient passes where min_val < x < max_val."""

    name = "HardtanhBackward0"

    def forward(self, x, lo, hi):
        self.mask = (x > lo) & (x < hi)
        return array_module(x).clip(x, lo, hi)

    def backward(self, g):
        return g * self.mask


class Hardsigmoid(Node):
    """relu6(x + 3) / 6; gradient 1/6 on the open interval (-3, 3). PyTorch's kernel takes
    that 1/6 as a float32 constant, for float64 data too; so does this one."""

    name = "HardsigmoidBackward0"

    def forward(self, x):
        xp = array_module(x)
        self.mask = ((x > -3) & (x < 3)).astype(x.dtype) * _ONE_SIXTH_F32
        return xp.clip(x / 6 + 0.5, 0, 1).astype(x.dtype, copy=False)

    def backward(self, g):
        return g * self.mask


_ONE_SIXTH_F32 = float(np.float32(1.0 / 6.0))


class Hardswish(Node):
    """x relu6(x + 3) / 6. PyTorch's gradient: x / 3 + 1/2 on the open interval (-3, 3),
    1 from 3 up, 0 from -3 down."""

    name = "HardswishBackward0"

    def forward(self, x):
        xp = array_module(x)
        self.save_for_backward(x)
        return (x * xp.clip(x + 3, 0, 6) / 6).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        r = _raw(x)
        inner = ((r > -3) & (r < 3)).astype(r.dtype)
        return g * (inner * (x / 3 + 0.5) + (r >= 3).astype(r.dtype))


class Mish(Node):
    """x tanh(softplus(x))."""

    name = "MishBackward0"

    def forward(self, x):
        xp = array_module(x)
        self.save_for_backward(x)
        sp = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))  # stable softplus
        return (x * xp.tanh(sp)).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        t = tanh(softplus(x))
        return g * (t + x * sigmoid(x) * (1 - t * t))


class ScaledElu(Node):
    """scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1)): CELU (alpha, 1, 1/alpha)
    and SELU (its two constants, 1) as PyTorch's elu kernel computes them."""

    name = "EluBackward0"

    def forward(self, x, alpha, scale, input_scale, name, grad_input_scale=None):
        xp = array_module(x)
        self.name = name
        self.save_for_backward(x)
        self.alpha, self.scale = alpha, scale
        self.input_scale = input_scale if grad_input_scale is None else grad_input_scale
        neg = alpha * xp.expm1(xp.minimum(x, 0) * input_scale)
        return (xp.where(x > 0, x, neg) * scale).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        r = _raw(x)
        pos = r > 0
        # exp of x on the negative side only (x * 0 elsewhere: no overflow for large x)
        e = exp(x * (~pos).astype(r.dtype) * self.input_scale)
        k = self.scale * self.alpha * self.input_scale
        return where(pos, g * self.scale, g * e * k)


class _Masked(Node):
    """An activation whose gradient is g times a constant mask."""

    def backward(self, g):
        return g * self.mask


class Softshrink(_Masked):
    def forward(self, x, lambd):
        xp = array_module(x)
        self.mask = (x > lambd) | (x < -lambd)
        return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0)).astype(
            x.dtype, copy=False)


class Hardshrink(_Masked):
    def forward(self, x, lambd):
        self.mask = (x > lambd) | (x < -lambd)
        return x * self.mask


class Threshold(_Masked):
    def forward(self, x, threshold, value):
        self.mask = x > threshold
        return array_module(x).where(self.mask, x, value).astype(x.dtype, copy=False)


class Prelu(Node):
    """x where x > 0, else w x, with w one value or one per channel (dim 1)."""

    name = "PreluKernelBackward0"

    def forward(self, x, w):
        xp = array_module(x)
        self.w_shape = w.shape
        self.wb_shape = _prelu_shape(x.ndim, w.size)
        self.save_for_backward(x, w)
        return xp.where(x > 0, x, x * w.reshape(self.wb_shape))

    def backward(self, g):
        x, w = self.saved_tensors
        pos = _raw(x) > 0
        need = self.needs_input_grad
        gx = gw = None
        if need[0]:
            gx = where(pos, g, g * w.reshape(self.wb_shape))
        if need[1]:
            gxw = where(pos, 0.0, g * x)
            gw = sum_to(gxw, self.wb_shape).reshape(self.w_shape)
        return gx, gw


def _prelu_shape(ndim, n):
    if n == 1 or ndim < 2:
        return (1,) * ndim if n == 1 else (n,)
    return (1, n) + (1,) * (ndim - 2)


class Glu(Node):
    """a * sigmoid(b) with (a, b) the two halves of `dim`."""

    name = "GluBackward0"

    def forward(self, x, axis):
        xp = array_module(x)
        self.axis = axis
        a, b = xp.split(x, 2, axis=axis)
        self.save_for_backward(x)
        from .elementwise import _sigmoid

        return a * _sigmoid(b)

    def backward(self, g):
        (x,) = self.saved_tensors
        from .shape import cat, split

        a, b = split(x, x.shape[self.axis] // 2, self.axis)
        s = sigmoid(b)
        return cat([g * s, g * a * s * (1 - s)], self.axis)


def log_sigmoid(input):
    """log(sigmoid(x)) = min(x, 0) - log1p(exp(-abs(x))).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return LogSigmoid.apply(input)


logsigmoid = log_sigmoid


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """clamp(x, min_val, max_val).

    Args:
        input: the input tensor.
        min_val: the lower bound.
        max_val: the upper bound.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return in_place(Hardtanh.apply, input, inplace, lo=_num(min_val), hi=_num(max_val))


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    """relu6(x + 3) / 6.

    Args:
        input: the input tensor.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    return in_place(Hardsigmoid.apply, input, inplace)


def hardswish(input, inplace=False):
    """x * relu6(x + 3) / 6.

    Args:
        input: the input tensor.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    return in_place(Hardswish.apply, input, inplace)


def mish(input, inplace=False):
    """x * tanh(softplus(x)).

    Args:
        input: the input tensor.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    return in_place(Mish.apply, input, inplace)


def celu(input, alpha=1.0, inplace=False):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)).

    Args:
        input: the input tensor.
        alpha: the scale of the negative part (not 0).
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    # PyTorch's CELU backward takes 1 / alpha with alpha rounded to float32 (its formula
    # calls alpha.toFloat()); the forward uses the double. Both are kept, for its numbers.
    return in_place(ScaledElu.apply, input, inplace, alpha=_num(alpha), scale=1.0,
                    input_scale=1.0 / alpha, name="CeluBackward0",
                    grad_input_scale=1.0 / float(np.float32(alpha)))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    """scale * elu(x, alpha) with SELU's constants.

    Args:
        input: the input tensor.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    return in_place(ScaledElu.apply, input, inplace, alpha=_SELU_ALPHA, scale=_SELU_SCALE,
                    input_scale=1.0, name="EluBackward0")


def softshrink(input, lambd=0.5):
    """x - lambd above lambd, x + lambd below -lambd, 0 between.

    Args:
        input: the input tensor.
        lambd: the threshold (>= 0).

    Returns:
        Tensor.
    """
    if lambd < 0:
        big, kind = ("1.79769e+308", "Double") if _raw(input).dtype == np.float64 else (
            "3.40282e+38", "Float")
        raise RuntimeError(
            f"lambda must be in range [0, {big}] for input dtype {kind}, but found {lambd:g}")
    return Softshrink.apply(input, lambd=_num(lambd))


def hardshrink(input, lambd=0.5):
    """x where abs(x) > lambd, else 0.

    Args:
        input: the input tensor.
        lambd: the threshold.

    Returns:
        Tensor.
    """
    return Hardshrink.apply(input, lambd=_num(lambd))


def threshold(input, threshold, value, inplace=False):
    """x where x > threshold, else value.

    Args:
        input: the input tensor.
        threshold: the threshold.
        value: the replacement.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    return in_place(Threshold.apply, input, inplace, threshold=_num(threshold),
                    value=_num(value))


def softsign(input):
    """x / (1 + abs(x)).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    from .elementwise import abs as _abs

    return input / (_abs(input) + 1)


def tanhshrink(input):
    """x - tanh(x).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return input - tanh(input)


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    """softmax(-x) along dim.

    Args:
        input: the input tensor.
        dim: the dimension that sums to 1.
        _stacklevel: accepted for PyTorch's signature; unused.
        dtype: cast the input to this dtype first.

    Returns:
        Tensor.
    """
    if dtype is not None:
        input = input.to(dtype)
    return softmax(-input, dim)


def prelu(input, weight):
    """x where x >= 0, else weight * x (one slope, or one per channel of dim 1).

    Args:
        input: the input tensor.
        weight: the slopes, a scalar or 1-D tensor.

    Returns:
        Tensor.
    """
    w = _raw(weight)
    if w.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w.ndim}")
    n = w.size
    channels = input.shape[1] if input.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(
            "Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{n} and channel size = {channels}.")
    return Prelu.apply(input, weight)


def glu(input, dim=-1):
    """a * sigmoid(b), a and b the halves of input along dim.

    Args:
        input: the input tensor.
        dim: the dimension split (its size must be even).

    Returns:
        Tensor: half the size along dim
    """
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = normalize_dims(dim, input.ndim)[0]
    n = input.shape[axis]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {n}")
    return Glu.apply(input, axis=axis)


def in_place(fn, input, inplace, *args, **kwargs):
    """fn(input, *args, **kwargs), or with `inplace` its values written into `input`, as
    PyTorch's in-place forms (refused for a leaf that requires grad; the gradient flows
    through the write). The op then runs on a copy, which its backward may have saved and
    the write must not touch."""
    if not inplace:
        return fn(input, *args, **kwargs)
    out = fn(input.clone(), *args, **kwargs)
    input.copy_(out)
    return input


# ---------------------------------------------------------------- dropout


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _keep_mask(input, p, shape):
    """Bernoulli(1 - p) in `shape`, from the device's generator (seeded by manual_seed)."""
    from ..creation import _generator

    u = _generator(device_of(input._data))._uniform(shape)  # the device's stream
    return (u >= p).astype(input._data.dtype)


def _feature_shape(input, batched):
    """The mask's shape for channel-wise dropout: (N, C, 1, ...) or unbatched (C, 1, ...)."""
    lead = 2 if batched else 1
    return tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)


def _dropout_with(input, p, training, inplace, shape, alpha):
    if not training or p == 0.0:
        return input
    return in_place(_dropped, input, inplace, p, shape, alpha)


def _dropped(input, p, shape, alpha):
    if p == 1.0:  # PyTorch: input * 0 (the alpha forms too)
        return input * 0.0
    keep = _keep_mask(input, p, shape)
    if alpha:
        # the values keep mean 0 and variance 1 for SELU activations
        a = 1.0 / math.sqrt((_ALPHA_DROP ** 2 * p + 1) * (1 - p))
        b = (keep - 1) * (_ALPHA_DROP * a) + _ALPHA_DROP * a * p
        return input * (keep * a) + b.astype(keep.dtype, copy=False)
    return input * (keep * (1.0 / (1.0 - p)))


_ALPHA_DROP = 1.7580993408473766  # -SELU's scale * alpha: its saturation value


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability p.

    Args:
        input: the input tensor.
        p: the probability that a channel is zeroed.
        training: apply dropout (False returns input).
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor: the kept channels scaled by 1 / (1 - p).
    """
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, "
            "a channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _dropout_with(input, p, training, inplace, _feature_shape(input, input.ndim == 3), False)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) input with probability p.

    Args:
        input: the input tensor.
        p: the probability that a channel is zeroed.
        training: apply dropout (False returns input).
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor: the kept channels scaled by 1 / (1 - p).
    """
    import warnings

    _check_p(p)
    nd = input.ndim
    if nd not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {nd}-D input to dropout2d, which is deprecated and will result "
            "in an error in a future release. To retain the behavior and silence this warning, "
            "please use dropout instead. Note that dropout2d exists to provide channel-wise "
            "dropout on inputs with 2 spatial dimensions, a channel dimension, and an optional "
            "batch dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            UserWarning, stacklevel=2)
    if nd < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _dropout_with(input, p, training, inplace, _feature_shape(input, True), False)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability p.

    Args:
        input: the input tensor.
        p: the probability that a channel is zeroed.
        training: apply dropout (False returns input).
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor: the kept channels scaled by 1 / (1 - p).
    """
    import warnings

    _check_p(p)
    nd = input.ndim
    if nd not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {nd}-D input to dropout3d, which is deprecated and will result "
            "in an error in a future release. To retain the behavior and silence this warning, "
            "please use dropout instead. Note that dropout3d exists to provide channel-wise "
            "dropout on inputs with 3 spatial dimensions, a channel dimension, and an optional "
            "batch dimension (i.e. 4D or 5D inputs).", UserWarning, stacklevel=2)
    if nd < 1:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _dropout_with(input, p, training, inplace, _feature_shape(input, input.ndim == 5), False)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped values go to SELU's saturation value and the
    result is rescaled to keep the input's mean and variance.

    Args:
        input: the input tensor.
        p: the drop probability.
        training: apply dropout (False returns input).
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    _check_p(p)
    return _dropout_with(input, p, training, inplace, tuple(input.shape), True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels (see AlphaDropout).

    Args:
        input: the input tensor.
        p: the drop probability.
        training: apply dropout (False returns input).
        inplace: write the result into input (PyTorch's in-place rules apply).

    Returns:
        Tensor.
    """
    _check_p(p)
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _dropout_with(input, p, training, inplace, _feature_shape(input, True), True)


# ---------------------------------------------------------------- pad


class ConstantPad(Node):
    """The input inside a block of `value` (negative pads crop)."""

    name = "ConstantPadNdBackward0"

    def forward(self, x, pads, value):
        xp = array_module(x)
        nd = x.ndim
        out_shape = list(x.shape)
        src, dst = [slice(None)] * nd, [slice(None)] * nd
        for k in range(len(pads) // 2):
            d = nd - 1 - k
            lo, hi, n = pads[2 * k], pads[2 * k + 1], x.shape[d]
            size = n + lo + hi
            if size < 0 or n + min(lo, 0) + min(hi, 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
            out_shape[d] = size
            s0, s1 = max(-lo, 0), n - max(-hi, 0)
            src[d] = slice(s0, s1)
            dst[d] = slice(max(lo, 0), max(lo, 0) + s1 - s0)
        self.src, self.dst, self.in_shape = tuple(src), tuple(dst), x.shape
        self.cropped = any(s != slice(0, n) and s != slice(None) for s, n in zip(src, x.shape))
        out = xp.full(tuple(out_shape), value, dtype=x.dtype)
        out[self.dst] = x[self.src]
        return out

    def backward(self, g):
        inner = g[self.dst]
        if not self.cropped:
            return inner
        # the cropped border got no gradient: zeros with the kept block set
        return IndexAdd.apply(inner, key=self.src, basic=True, shape=self.in_shape)


class IndexPad(Node):
    """Reflect / replicate / circular padding as a gather along each padded axis; its
    gradient scatters back, summing where one input element fed several outputs."""

    def forward(self, x, plan, name):
        xp = array_module(x)
        self.name = name
        self.steps = []
        for axis, idx in plan:
            idx = xp.asarray(idx)
            self.steps.append((axis, idx, x.shape))
            x = xp.take(x, idx, axis=axis)
        return x

    def backward(self, g):
        for axis, idx, shape in reversed(self.steps):
            key = (slice(None),) * axis + (idx,)
            g = IndexAdd.apply(g, key=key, basic=False, shape=shape)
        return g


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_index(n, lo, hi, mode):
    """Which input position along an axis of size n each padded output position reads."""
    if mode == "circular":
        # as PyTorch: crop first (negative pads), then wrap around what is left
        start = max(-lo, 0)
        m = n - start - max(-hi, 0)
        return np.mod(np.arange(-max(lo, 0), m + max(hi, 0), dtype=np.int64), m) + start
    i = np.arange(-lo, n + hi, dtype=np.int64)
    if mode == "reflect":
        i = np.abs(i)
        return np.where(i >= n, 2 * (n - 1) - i, i)
    return np.clip(i, 0, n - 1)  # replicate


def pad(input, pad, mode="constant", value=None):
    """Pads the last len(pad) // 2 dimensions: pad = (last_lo, last_hi, 2nd_last_lo, ...),
    as PyTorch. Negative pads crop. reflect, replicate and circular pad 1 to 3 dimensions of
    a (batched) input.

    Args:
        input: the input tensor.
        pad: the pads, an even number of ints, the last dimension's (before, after) first.
        mode: ``'constant'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        value: the fill value of constant padding (None: 0).

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> F.pad(torch.tensor([[1, 2]]), (1, 2))
        tensor([[0, 1, 2, 0, 0]])
        >>> F.pad(torch.tensor([[1.0, 2.0, 3.0]]), (2, 0), mode="reflect")
        tensor([[3., 2., 1., 2., 3.]])
    """
    pads = tuple(int(p) for p in pad)
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    nd = input.ndim
    k = len(pads) // 2
    if k > nd:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pads)} and input of dimension {nd}")
    if mode == "constant":
        return ConstantPad.apply(input, pads=pads, value=0.0 if value is None else float(value))
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or nd not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {nd}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    shape = tuple(input.shape)
    if mode != "circular" and 0 in (shape[1:] if nd == k + 2 else shape):
        # (only the batch dimension may be empty)
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {list(shape)}")
    plan = []
    for j in range(k):
        d = nd - 1 - j
        lo, hi, n = pads[2 * j], pads[2 * j + 1], shape[d]
        if mode == "reflect" and not (lo < n and hi < n):
            raise RuntimeError(
                f"Argument #{4 + 2 * j}: Padding size should be less than the corresponding "
                f"input dimension, but got: padding ({lo}, {hi}) at dimension {d} of input "
                f"{list(shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if n + lo + hi < 0 and mode == "replicate":
            axis_name = ("W", "H", "D")[j]
            raise RuntimeError(
                f"input ({axis_name}: {n}) is too small. Calculated output {axis_name}: {n + lo + hi}")
        if n + lo + hi < 0:
            raise RuntimeError(
                f"The input size {n}, plus negative padding {lo} and {hi} resulted in a negative "
                f"output size, which is invalid. Check dimension {d} of your input.")
        plan.append((d, _pad_index(n, lo, hi, mode)))
    if mode == "circular":
        name = "CopySlices"  # PyTorch builds circular padding from in-place slice copies
    else:
        name = ("ReflectionPad" if mode == "reflect" else "ReplicationPad") + f"{k}DBackward0"
    return IndexPad.apply(input, plan=tuple(plan), name=name)


# ---------------------------------------------------------------- interpolate


class Upsample(Node):
    """Resampling along each spatial axis in turn (last first): a gather (nearest) or the
    two-tap blend w0 x[i0] + w1 x[i1] (linear); the gradient scatters back in reverse."""

    def forward(self, x, plan, name):
        xp = array_module(x)
        self.name = name
        self.steps = []
        for axis, i0, i1, w0, w1 in plan:
            i0 = xp.asarray(i0)
            tail = (1,) * (x.ndim - axis - 1)
            if i1 is None:
                self.steps.append((axis, i0, None, None, None, x.shape))
                x = xp.take(x, i0, axis=axis)
                continue
            i1 = xp.asarray(i1)
            w0 = xp.asarray(w0.astype(x.dtype)).reshape((-1,) + tail)
            w1 = xp.asarray(w1.astype(x.dtype)).reshape((-1,) + tail)
            self.steps.append((axis, i0, i1, w0, w1, x.shape))
            x = w0 * xp.take(x, i0, axis=axis) + w1 * xp.take(x, i1, axis=axis)
        return x

    def backward(self, g):
        for axis, i0, i1, w0, w1, shape in reversed(self.steps):
            lead = (slice(None),) * axis
            if i1 is None:
                g = IndexAdd.apply(g, key=lead + (i0,), basic=False, shape=shape)
            else:
                g = (IndexAdd.apply(g * w0, key=lead + (i0,), basic=False, shape=shape)
                     + IndexAdd.apply(g * w1, key=lead + (i1,), basic=False, shape=shape))
        return g


_INTERP_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _nearest_index(n_in, n_out, scale, exact):
    """PyTorch's source index for nearest (floor(j * s)) and nearest-exact (floor((j + 1/2) s)),
    s = 1 / scale_factor or n_in / n_out, computed in float32 as its kernels do."""
    j = np.arange(n_out, dtype=np.int64)
    if not exact and n_out == n_in:
        return j
    if not exact and n_out == 2 * n_in:
        return j >> 1
    s = np.float32(1.0 / scale) if scale else np.float32(n_in) / np.float32(n_out)
    src = (j + 0.5) * np.float64(s) if exact else j.astype(np.float32) * s
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n_in - 1)


def _linear_taps(n_in, n_out, scale, align_corners, dtype):
    """Indices and weights of the two taps, computed as PyTorch's CPU kernel does (in
    float32 for float32 data)."""
    ft = np.float64 if dtype == np.float64 else np.float32
    j = np.arange(n_out).astype(ft)
    if align_corners:
        s = ft(n_in - 1) / ft(n_out - 1) if n_out > 1 else ft(0)
        src = s * j
    else:
        s = ft(1.0 / scale) if scale else ft(n_in) / ft(n_out)
        src = np.maximum(s * (j + ft(0.5)) - ft(0.5), ft(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    lam1 = np.clip(src - i0.astype(ft), 0, 1).astype(ft)
    i1 = i0 + (i0 < n_in - 1)
    return i0, i1, (ft(1) - lam1), lam1


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Up- or down-samples the spatial dimensions of (N, C, d1, ..., dK) input, K = 1..3.

    Args:
        input: the input, shape (N, C, d1, ..., dK).
        size: the output's spatial size, an int or K ints (or give scale_factor).
        scale_factor: the multiplier of the spatial sizes, a number or K of them.
        mode: ``'nearest'``, ``'nearest-exact'``, ``'linear'`` (K = 1), ``'bilinear'``
            (K = 2) or ``'trilinear'`` (K = 3); ``'bicubic'`` and ``'area'`` raise
            NotImplementedError here.
        align_corners: for the linear modes, align the corner pixels' centres of input and
            output (None: False); not allowed with the nearest modes.
        recompute_scale_factor: compute the sampling from the output size instead of
            scale_factor.
        antialias: must be False (True raises NotImplementedError).

    Returns:
        Tensor: shape (N, C, o1, ..., oK).

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> x = torch.tensor([[[1.0, 2.0]]])
        >>> F.interpolate(x, scale_factor=2)
        tensor([[[1., 1., 2., 2.]]])
        >>> F.interpolate(x, size=4, mode="linear", align_corners=True)
        tensor([[[1.0000, 1.3333, 1.6667, 2.0000]]])
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    nd = input.ndim
    dim = nd - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                    "output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, numbers.Integral) for s in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            out_size = [int(s) for s in size]
        else:
            out_size = [int(size)] * dim
        scales = [None] * dim
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {spatial} and scale_factor of shape "
                    f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    "format and scale_factor in (s1, s2, ...,sK) format.")
            scales = [float(s) for s in scale_factor]
        else:
            scales = [float(scale_factor)] * dim
        out_size = [int(math.floor(n * s)) for n, s in zip(spatial, scales)]
        if recompute_scale_factor:
            scales = [None] * dim
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if mode not in ("nearest", "nearest-exact", "linear", "bilinear", "trilinear") or not 1 <= dim <= 3:
        if mode in _LINEAR_DIMS and 1 <= dim <= 3:
            pass
        elif mode in _INTERP_MODES and 1 <= dim <= 3:
            raise NotImplementedError(f"interpolate: mode {mode!r} is not supported")
        else:
            raise NotImplementedError(
                f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd}D) for the "
                "modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                f"nearest-exact (got {mode})")
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != dim:
        raise NotImplementedError(f"Got {nd}D input, but {mode} mode needs {_LINEAR_DIMS[mode] + 2}D input")
    if any(n <= 0 for n in spatial) or any(n <= 0 for n in out_size):
        names = ("D", "H", "W")[3 - dim:]
        i = ", ".join(f"{a}: {n}" for a, n in zip(names, spatial))
        o = ", ".join(f"{a}: {n}" for a, n in zip(names, out_size))
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input ({i}) output ({o})")
    dtype = _raw(input).dtype
    plan = []
    for k in reversed(range(dim)):  # last axis first, as PyTorch's kernels nest the taps
        axis, n_in, n_out, s = 2 + k, spatial[k], out_size[k], scales[k]
        if mode in _LINEAR_DIMS:
            plan.append((axis,) + _linear_taps(n_in, n_out, s, align_corners, dtype))
        else:
            plan.append((axis, _nearest_index(n_in, n_out, s, mode == "nearest-exact"), None,
                         None, None))
    if mode == "nearest":
        name = f"UpsampleNearest{dim}DBackward0"
    elif mode == "nearest-exact":
        name = f"UpsampleNearestExact{dim}DBackward0"
    else:
        name = f"Upsample{mode.capitalize()}{dim}DBackward0"
    return Upsample.apply(input, plan=tuple(plan), name=name)


# ---------------------------------------------------------------- distances


class ClampedClone(Node):
    """max(x, lo) in the forward, the identity in the backward: PyTorch's clone followed by
    an in-place clamp under no_grad (cosine_similarity's norms, gaussian_nll_loss's var)."""

    name = "CloneBackward0"

    def forward(self, x, lo):
        return array_module(x).maximum(x, lo).astype(x.dtype, copy=False)

    def backward(self, g):
        return g


def _broadcast_check(a, b):
    sa, sb = tuple(a.shape), tuple(b.shape)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            raise RuntimeError(
                f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                f"non-singleton dimension {i}")
    return tuple(max(x, y) for x, y in zip(pa, pb))


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps).

    Args:
        input: the input tensor.
        p: the order of the norm.
        dim: the dimension normalized (an int or a tuple).
        eps: the least norm divided by.
        out: a tensor to write the result into (and return).

    Returns:
        Tensor: of input's shape.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> F.normalize(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    denom = norm(input, p, dim, keepdim=True).clamp(min=eps).expand_as(input)
    result = input / denom
    if out is not None:
        out.copy_(result)
        return out
    return result


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) over dim (PyTorch's order: each
    tensor divided by its norm first).

    Args:
        x1: the first tensor.
        x2: the second tensor, broadcast with x1.
        dim: the dimension of the vectors.
        eps: the least norm divided by.

    Returns:
        Tensor: the broadcast shape less dim.
    """
    shape = _broadcast_check(x1, x2)
    if tuple(x1.shape) != shape:
        x1 = x1.expand(shape)
    if tuple(x2.shape) != shape:
        x2 = x2.expand(shape)
    n1 = ClampedClone.apply(norm(x1, 2, dim, keepdim=True), lo=float(eps))
    n2 = ClampedClone.apply(norm(x2, 2, dim, keepdim=True), lo=float(eps))
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dimension.

    Args:
        x1: the first tensor, shape (N, D) or (D,).
        x2: the second tensor, broadcast with x1.
        p: the order of the norm.
        eps: added to the difference, so the norm's gradient is finite at 0.
        keepdim: keep the last dimension with size 1.

    Returns:
        Tensor: one distance per row.
    """
    _broadcast_check(x1, x2)
    nd = max(x1.ndim, x2.ndim)
    from ._names import named

    # (PyTorch's pairwise_distance calls the old at::norm: NormBackward1)
    return named(norm(x1 - x2 + eps, p, nd - 1 if nd else None, keepdim), "NormBackward1")


__all__ = [
    "log_sigmoid", "logsigmoid", "hardtanh", "relu6", "hardsigmoid", "hardswish", "mish",
    "celu", "selu", "softshrink", "hardshrink", "threshold", "softsign", "tanhshrink",
    "softmin", "prelu", "glu", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
    "feature_alpha_dropout", "pad", "interpolate", "normalize", "cosine_similarity",
    "pairwise_distance",
]


# ---------------------------------------------------------------- recurrent cells


class LstmCell(Node):
    """One LSTM step from its gate pre-activations: gates (N, 4H) in PyTorch's order i, f, g, o
    and the cell state c (N, H) give (h', c') with

        c' = s(f) c + s(i) tanh(g),    h' = s(o) tanh(c')

    in one node (the composite is ten), with the composite's operations in its order. The
    backward, from the saved activations:

        dc' = gc + gh s(o) (1 - tanh(c')^2)
        do = gh tanh(c') (1 - s(o)) s(o),   di = dc' tanh(g) (1 - s(i)) s(i),
        df = dc' c (1 - s(f)) s(f),         dg = dc' s(i) (1 - tanh(g)^2),    dc = dc' s(f)

    as a few passes over the whole (N, 4H) gradient (the step's arrays are small: the number
    of passes, not their length, sets its cost). Under create_graph the same formulas run on
    activations recomputed from the saved inputs with differentiable ops, so every order of
    derivative works."""

    name = "LstmCellBackward0"

    def forward(self, gates, c):
        n = c.shape[-1]
        xp = array_module(gates)
        s = _sigmoid(gates)  # every block's sigmoid in one pass (g's is not used)
        s_i, s_f, s_o = s[..., :n], s[..., n:2 * n], s[..., 3 * n:]
        t_g = unary(np.tanh, gates[..., 2 * n:3 * n])
        c_new = s_f * c + s_i * t_g
        t_c = unary(np.tanh, c_new)
        self.save_for_backward(gates, c, s, t_g, t_c)  # (freed with the node's saved values)
        return s_o * t_c, c_new

    def backward(self, gh, gc):
        gates, c, s, t_g, t_c = self.saved_tensors
        if gh is None and gc is None:  # neither output reached the loss
            return None, None
        need = self.needs_input_grad
        if isinstance(gates, Tensor):
            d_gates, d_c = _lstm_gate_grads(gates, c, gh, gc)
            return (d_gates if need[0] else None), (d_c if need[1] else None)
        n = c.shape[-1]
        s_i, s_f, s_o = s[..., :n], s[..., n:2 * n], s[..., 3 * n:]
        xp = array_module(s)
        grad = xp.empty_like(s)  # each gate's incoming factor, then times its derivative
        if gh is not None:
            xp.multiply(gh, t_c, out=grad[..., 3 * n:])
            t = t_c * t_c
            xp.subtract(1, t, out=t)
            dc_new = gh * s_o
            dc_new *= t
            if gc is not None:
                dc_new += gc
        else:
            grad[..., 3 * n:] = 0
            dc_new = gc
        xp.multiply(dc_new, t_g, out=grad[..., :n])
        xp.multiply(dc_new, c, out=grad[..., n:2 * n])
        xp.multiply(dc_new, s_i, out=grad[..., 2 * n:3 * n])
        d = 1 - s
        d *= s  # s (1 - s): the sigmoids' derivative
        t = xp.multiply(t_g, t_g, out=d[..., 2 * n:3 * n])
        xp.subtract(1, t, out=t)  # and tanh's for the g block
        grad *= d
        return (grad if need[0] else None), (dc_new * s_f if need[1] else None)


def _lstm_gate_grads(gates, c, gh, gc):
    """LstmCell's backward formulas with differentiable ops, the activations recomputed from
    the gates: (d gates, d c) of one step from gh, gc (either may be None). What a
    create_graph backward of LstmCell and of LstmLayer runs, so every order of derivative
    works."""
    from .shape import cat

    n = c.shape[-1]
    s_i = sigmoid(gates[..., :n])
    s_f = sigmoid(gates[..., n:2 * n])
    t_g = tanh(gates[..., 2 * n:3 * n])
    s_o = sigmoid(gates[..., 3 * n:])
    t_c = tanh(s_f * c + s_i * t_g)
    dc_new = gc
    d_o = s_o * 0
    if gh is not None:
        d_o = gh * t_c * (1 - s_o) * s_o
        t = gh * s_o * (1 - t_c * t_c)
        dc_new = t if gc is None else gc + t
    d_i = dc_new * t_g * (1 - s_i) * s_i
    d_f = dc_new * c * (1 - s_f) * s_f
    d_g = dc_new * s_i * (1 - t_g * t_g)
    return cat([d_i, d_f, d_g, d_o], -1), dc_new * s_f


def lstm_cell(gates, c):
    """(h', c') of one LSTM step from its gate pre-activations (N, 4H) and cell state (N, H)
    (see LstmCell)."""
    return LstmCell.apply(gates, c)


class LstmLayer(Node):
    """A whole LSTM layer in one direction as one node, as oneDNN's and cuDNN's RNNs: the
    input x (L * N, H_in), step after step, with h0, c0 (N, H) and the layer's weights gives
    (out (L * N, H), h_n, c_n), PyTorch's gate order and formulas (see LstmCell); `reverse`
    runs the steps from the last to the first.

    Forward: the input projection of every step, x W_ih^T + (b_ih + b_hh), is one matmul into
    the (L, N, 4H) gate buffer; each step then adds h W_hh^T and writes its activations, c' and
    h' into preallocated buffers with out= ufuncs: no tape and no new arrays in the loop
    (eleven elementwise calls and a matmul per step; for small layers the calls, not the
    arrays' work, set the cost). Backward: the factors each gate's gradient is (dc' or dh
    times them) are computed for all steps at once; the loop then only carries dh, dc back
    (six elementwise calls and dgates W_hh per step), and the gradients of x and of the
    weights are one matmul each over all steps (dW_hh: the stacked gate gradients against
    the stacked h_{t-1}), the biases' one sum.

    Under create_graph the backward recomputes the steps with the differentiable composite
    (addmm and LstmCell per step) and runs the same recurrence with differentiable ops, so
    every order of derivative works."""

    name = "LstmLayerBackward0"

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=False):
        xp = array_module(x)
        n, hid = h0.shape
        steps = x.shape[0] // n
        self.reverse = reverse
        gates = matmul(x, w_ih.T)  # (L N, 4H): every step's input projection at once
        if b_ih is not None:
            gates += b_ih + b_hh
        gates = gates.reshape(steps, n, 4 * hid)
        act = xp.empty((steps, n, 4, hid), gates.dtype)  # s(i), s(f), tanh(g), s(o)
        # h and c of every step, one slot more for the initial state: the first slot for the
        # forward direction, the last for the reverse one; the output is the other L slots
        hs = xp.empty((steps + 1, n, hid), gates.dtype)
        cs = xp.empty_like(hs)
        t_c = xp.empty((steps, n, hid), gates.dtype)  # tanh(c')
        start, order = (steps, range(steps - 1, -1, -1)) if reverse else (0, range(steps))
        hs[start], cs[start] = h0, c0
        rec, tmp = xp.empty((n, 4 * hid), gates.dtype), xp.empty((n, hid), gates.dtype)
        w_hh_t = xp.ascontiguousarray(w_hh.T)  # (once: a step's product is ~15% faster so)
        step = 1 - 2 * reverse  # where the step's new state goes, from its previous one's slot
        with np.errstate(over="ignore"):  # exp(-x) overflows to inf for very negative x: s = 0
            for t in order:
                prev = t + 1 if reverse else t
                g, a = gates[t], act[t]
                s = a.reshape(n, 4 * hid)
                xp.dot(hs[prev], w_hh_t, out=rec)
                g += rec
                # 1 / (1 + exp(-g)) over all four blocks in four calls, as _sigmoid (g's block
                # is then overwritten with its tanh: fewer calls than three blocks apart)
                xp.negative(g, out=s)
                xp.exp(s, out=s)
                s += 1
                xp.reciprocal(s, out=s)
                xp.tanh(g[:, 2 * hid:3 * hid], out=a[:, 2])
                c_new = cs[prev + step]
                xp.multiply(a[:, 1], cs[prev], out=c_new)
                xp.multiply(a[:, 0], a[:, 2], out=tmp)
                c_new += tmp
                xp.tanh(c_new, out=t_c[t])
                xp.multiply(a[:, 3], t_c[t], out=hs[prev + step])
        out = (hs[:steps] if reverse else hs[1:]).reshape(steps * n, hid)
        last = 0 if reverse else steps
        # (out is saved as an output, so an in-place change of it is caught; h_n and c_n are
        # copies, the buffers stay the node's own)
        self.save_for_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, out, act, hs, cs, t_c)
        return out, hs[last].copy(), cs[last].copy()

    def backward(self, g_out, g_h, g_c):
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, out, act, hs, cs, t_c = self.saved_tensors
        if g_out is None and g_h is None and g_c is None:
            return (None,) * 7
        need = self.needs_input_grad
        if isinstance(x, Tensor):
            grads = self._graph_backward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, g_out, g_h, g_c)
        else:
            grads = self._raw_backward(x, w_ih, w_hh, b_ih, act, hs, cs, t_c, g_out, g_h, g_c)
        return tuple(g if nd else None for g, nd in zip(grads, need))

    def _raw_backward(self, x, w_ih, w_hh, b_ih, act, hs, cs, t_c, g_out, g_h, g_c):
        xp = array_module(act)
        steps, n, _, hid = act.shape
        reverse = self.reverse
        s_i, s_f, t_g, s_o = act[:, :, 0], act[:, :, 1], act[:, :, 2], act[:, :, 3]
        c_prev = cs[1:] if reverse else cs[:-1]
        # each gate's gradient is dc' (i, f, g) or dh (o) times a factor known from forward:
        # t_g s_i(1-s_i), c s_f(1-s_f), s_i (1-t_g^2), tanh(c') s_o(1-s_o), for all steps at
        # once; likewise dc' = dc + dh s_o (1 - tanh(c')^2)
        fac = xp.subtract(1, act)
        fac *= act
        fac[:, :, 0] *= t_g
        fac[:, :, 1] *= c_prev
        f_g = xp.multiply(t_g, t_g, out=fac[:, :, 2])
        xp.subtract(1, f_g, out=f_g)
        f_g *= s_i
        fac[:, :, 3] *= t_c
        q = xp.multiply(t_c, t_c)
        xp.subtract(1, q, out=q)
        q *= s_o
        d_gates = xp.empty_like(act)
        dh = xp.zeros((n, hid), act.dtype)
        dc = xp.zeros((n, hid), act.dtype)
        if g_h is not None:
            dh += g_h
        if g_c is not None:
            dc += g_c
        g_steps = g_out.reshape(steps, n, hid) if g_out is not None else None
        cur, tmp = xp.empty_like(dh), xp.empty_like(dh)
        for t in (range(steps) if reverse else range(steps - 1, -1, -1)):
            gh = dh
            if g_steps is not None:
                gh = xp.add(g_steps[t], dh, out=cur)
            d = d_gates[t]
            xp.multiply(gh, fac[t, :, 3], out=d[:, 3])
            xp.multiply(gh, q[t], out=tmp)
            dc += tmp
            xp.multiply(fac[t, :, :3], dc[:, None], out=d[:, :3])
            dc *= s_f[t]
            xp.dot(d.reshape(n, 4 * hid), w_hh, out=dh)  # to h_{t-1}
        d_all = d_gates.reshape(steps * n, 4 * hid)
        d_t = d_all.T
        h_prev = (hs[1:] if reverse else hs[:-1]).reshape(steps * n, hid)
        db = d_all.sum(0) if b_ih is not None else None
        return (matmul(d_all, w_ih), dh, dc, matmul(d_t, x), matmul(d_t, h_prev),
                db, (db.copy() if db is not None else None))

    def _graph_backward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, g_out, g_h, g_c):
        from .linalg import addmm
        from .linalg import matmul as mm
        from .shape import cat, split

        n = h0.shape[0]
        steps = x.shape[0] // n
        order = range(steps - 1, -1, -1) if self.reverse else range(steps)
        gi = mm(x, w_ih.T)
        if b_ih is not None:
            gi = gi + (b_ih + b_hh)
        gi = split(gi, n, 0) if steps > 1 else (gi,)
        w_hh_t = w_hh.T
        gates, h_prev, c_prev = [None] * steps, [None] * steps, [None] * steps
        h, c = h0, c0
        for t in order:  # the forward again, as the composite: each step's state in the graph
            h_prev[t], c_prev[t] = h, c
            gates[t] = addmm(gi[t], h, w_hh_t)
            h, c = lstm_cell(gates[t], c)
        g_steps = (split(g_out, n, 0) if steps > 1 else (g_out,)) if g_out is not None else None
        d_gates = [None] * steps
        dh, dc = g_h, g_c
        for t in reversed(order):
            gh = dh
            if g_steps is not None:
                gh = g_steps[t] if dh is None else g_steps[t] + dh
            d_gates[t], dc = _lstm_gate_grads(gates[t], c_prev[t], gh, dc)
            dh = mm(d_gates[t], w_hh)
        d_all = cat(d_gates, 0) if steps > 1 else d_gates[0]
        d_t = d_all.T
        h_all = cat(h_prev, 0) if steps > 1 else h_prev[0]
        db = (d_all.sum(0), d_all.sum(0)) if b_ih is not None else (None, None)
        return (mm(d_all, w_ih), dh, dc, mm(d_t, x), mm(d_t, h_all)) + db


def lstm_layer(x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
    """(out, h_n, c_n) of one LSTM layer in one direction over x (L * N, H_in), step after
    step, from h0, c0 (N, H) (see LstmLayer)."""
    return LstmLayer.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse=reverse)
