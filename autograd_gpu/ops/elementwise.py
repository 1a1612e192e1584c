"""Elementwise math and activations, and comparisons (which have no gradient).

Conventions at kinks, as PyTorch: abs'(0) = 0, relu'(0) = 0, clamp passes the gradient
where min <= x <= max, maximum/minimum split it evenly between equal inputs.
Stable forms: sigmoid and softplus never evaluate exp of a large positive number.
"""
import functools
import math

import numpy as np

from ..autograd.node import Node
from ..backend import (
    POOL_MIN_BYTES, array_module, host_block_size, host_blockwise, host_ufunc, pooled_empty_like,
    pooled_out, to_numpy_dtype,
)
from ..fused import _grad
from ..tensor import Tensor
from .arithmetic import _broadcast_error, _shape, sum_to


def _map(f, x, *args, floating=True):
    """The NumPy ufunc `f` (or CuPy's namesake) of `x`; a large NumPy result is written into
    an array from the host pool (see backend.pooled_out), by the host threads where `f` is
    costly (see backend.host_ufunc). `floating`: integer and bool inputs are computed in
    the default float type, as PyTorch does (NumPy gives float64)."""
    if floating:
        x = _as_float(x)
    if x.__class__ is np.ndarray:
        if not args and x.dtype.kind == "f" and host_block_size(x):
            out = pooled_out(x)  # (None below the pool's size, or with the pool off)
            return host_ufunc(f, x, np.empty_like(x) if out is None else out)
        if x.nbytes >= POOL_MIN_BYTES:
            out = pooled_out(x)  # (None for an integer x, or with the pool off)
            if out is not None:
                return f(x, *args, out=out)
        return f(x, *args)
    return getattr(array_module(x), f.__name__)(x, *args)


def _as_float(x):
    """`x` itself, or an integer or bool `x` in the default float type."""
    if x.dtype.kind not in "biu":
        return x
    from ..creation import get_default_dtype

    return x.astype(to_numpy_dtype(get_default_dtype()))


class Exp(Node):
    def forward(self, x):
        y = _map(np.exp, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _grad.exp(y, g)


class Log(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.log, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _grad.log(x, g)


class Log1p(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.log1p, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (x + 1)


class Sqrt(Node):
    def forward(self, x):
        y = _map(np.sqrt, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _grad.sqrt(y, g)


class Sin(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.sin, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * cos(x)


class Cos(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.cos, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return -g * sin(x)


class Tan(Node):
    def forward(self, x):
        y = _map(np.tan, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return g * (1 + y * y)


class Tanh(Node):
    def forward(self, x):
        y = _map(np.tanh, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _grad.tanh(y, g)


def _sigmoid(xp, x):
    """1 / (1 + exp(-x)) in four in-place passes (for a large NumPy x, block by block on the
    host threads). exp(-x) overflows to inf for very negative x, giving exactly the limit 0
    (as PyTorch does), so that warning is silenced."""
    t = pooled_empty_like(x)  # (an array even for 0-d x)
    with np.errstate(over="ignore"):
        if not host_blockwise(_sigmoid_into_np, x, t):
            _sigmoid_into(xp, x, t)
    return t


def _sigmoid_into(xp, x, t):
    xp.negative(x, out=t)
    xp.exp(t, out=t)
    t += 1
    xp.reciprocal(t, out=t)


_sigmoid_into_np = functools.partial(_sigmoid_into, np)


class Sigmoid(Node):
    def forward(self, x):
        x = _as_float(x)
        y = _sigmoid(array_module(x), x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _grad.sigmoid(y, g)


class Relu(Node):
    name = "ReluBackward0"

    def forward(self, x):
        y = _map(np.maximum, x, 0, floating=False)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _grad.relu(y, g)


class LeakyRelu(Node):
    name = "LeakyReluBackward0"

    def forward(self, x, negative_slope):
        self.save_for_backward(x)
        self.slope = negative_slope
        return array_module(x).where(x > 0, x, x * negative_slope)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _grad.leaky_relu(x, g, self.slope)


class Elu(Node):
    def forward(self, x, alpha):
        xp = array_module(x)
        self.save_for_backward(x)
        self.alpha = alpha
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, g):
        (x,) = self.saved_tensors
        return _grad.elu(x, g, self.alpha)


class Silu(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return x * _sigmoid(array_module(x), x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _grad.silu(x, g)


class Softplus(Node):
    """log(1 + exp(beta x)) / beta, linear above `threshold` (as PyTorch)."""

    def forward(self, x, beta, threshold):
        xp = array_module(x)
        self.save_for_backward(x)
        self.beta, self.threshold = beta, threshold
        bx = x * beta
        soft = (xp.log1p(xp.exp(-xp.abs(bx))) + xp.maximum(bx, 0)) / beta
        return xp.where(bx > threshold, x, soft).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _grad.softplus(x, g, self.beta, self.threshold)


def erf(x):
    """The error function on either device (SciPy's when installed, else math.erf)."""
    xp = array_module(x)
    if xp is not np:
        from cupyx.scipy.special import erf as cerf

        return cerf(x)
    try:
        from scipy.special import erf as serf
    except ImportError:
        return np.vectorize(math.erf, otypes=[x.dtype])(x) if x.size else x.copy()
    return serf(x).astype(x.dtype, copy=False)


class Gelu(Node):
    """x Phi(x) ('none'), or the tanh approximation ('tanh'), as PyTorch."""

    def forward(self, x, approximate):
        xp = array_module(x)
        self.save_for_backward(x)
        self.approximate = approximate
        if approximate == "tanh":
            k = math.sqrt(2 / math.pi)
            return 0.5 * x * (1 + xp.tanh(k * (x + 0.044715 * x * x * x)))
        return (0.5 * x * (1 + erf(x * (1 / math.sqrt(2))))).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        if self.approximate == "tanh":
            return _grad.gelu_tanh(x, g)
        return _grad.gelu(x, g)


class _Erf(Node):
    name = "ErfBackward0"

    def forward(self, x):
        self.save_for_backward(x)
        return erf(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * exp(-x * x)


class Abs(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.abs, x, floating=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _grad.abs(x, g)


class Sign(Node):
    """Piecewise constant: the gradient is zero everywhere (PyTorch's convention)."""

    def forward(self, x):
        self.shape = x.shape
        return array_module(x).sign(x)

    def backward(self, g):
        return g * 0


class Clamp(Node):
    def forward(self, x, lo, hi):
        xp = array_module(x)
        self.save_for_backward(x)
        self.lo, self.hi = lo, hi
        if lo is not None and hi is not None and lo > hi:
            return xp.full_like(x, hi)
        return xp.clip(x, lo, hi)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _grad.clamp(x, g, self.lo, self.hi)


class Maximum(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        try:
            return array_module(a).maximum(a, b)
        except ValueError:
            raise _broadcast_error("maximum", a, b) from None

    def backward(self, g):
        a, b = self.saved_tensors
        return _split_between(self, g, a, b, a > b, a < b)


def _split_between(node, g, a, b, a_wins, b_wins):
    """The gradients of maximum/minimum: all of g to the winner, half to each at a tie,
    and all of it to both where one is NaN (neither wins nor ties), as PyTorch."""
    half_tie = (a == b) * 0.5
    need = node.needs_input_grad
    grads = []
    for k, (x, other_wins) in enumerate(((a, b_wins), (b, a_wins))):
        if not need[k]:
            grads.append(None)
            continue
        w = 1 - (other_wins + half_tie)
        if not isinstance(w, Tensor):  # (NumPy makes bool * 0.5 float64: keep g's dtype)
            w = w.astype(g.dtype, copy=False)
        grads.append(sum_to(g * w, _shape(x)))
    return tuple(grads)


class Minimum(Node):
    def forward(self, a, b):
        self.save_for_backward(a, b)
        try:
            return array_module(a).minimum(a, b)
        except ValueError:
            raise _broadcast_error("minimum", a, b) from None

    def backward(self, g):
        a, b = self.saved_tensors
        return _split_between(self, g, a, b, a < b, a > b)


class Where(Node):
    name = "WhereBackward0"

    def forward(self, cond, a, b):
        xp = array_module(cond)
        self.cond = cond
        self.shapes = (_shape(a), _shape(b))
        try:
            out = xp.where(cond, a, b)
        except ValueError:
            raise _broadcast_error("where", a, b) from None
        if out.dtype == np.float64 and not (
            getattr(a, "dtype", None) == np.float64 or getattr(b, "dtype", None) == np.float64
        ):
            dt = getattr(a, "dtype", None) or getattr(b, "dtype", None)
            out = out.astype(dt if dt is not None and dt.kind == "f" else np.float32)
        return out

    def backward(self, g):
        need = self.needs_input_grad
        c = self.cond
        return (
            None,
            sum_to(g * c, self.shapes[0]) if need[1] else None,
            sum_to(g * (c == 0), self.shapes[1]) if need[2] else None,
        )


# ---------------------------------------------------------------- comparisons (no gradient)


class _Compare(Node):
    def forward(self, a, b, op):
        try:
            return op(a, b)
        except ValueError:
            raise _broadcast_error("comparison", a, b) from None


def _compare(op):
    def f(input, other):
        return _Compare.apply(input, other, op=op)

    return f


eq = _compare(lambda a, b: a == b)
ne = _compare(lambda a, b: a != b)
lt = _compare(lambda a, b: a < b)
le = _compare(lambda a, b: a <= b)
gt = _compare(lambda a, b: a > b)
ge = _compare(lambda a, b: a >= b)
logical_and = bitwise_and = _compare(lambda a, b: a & b)
logical_or = bitwise_or = _compare(lambda a, b: a | b)
logical_xor = bitwise_xor = _compare(lambda a, b: a ^ b)


class _Unary(Node):
    """Elementwise functions without a gradient (rounding, tests, logical not)."""

    def forward(self, x, fname):
        return getattr(array_module(x), fname)(x)


def _no_grad_unary(fname):
    def f(input):
        return _Unary.apply(input, fname=fname)

    f.__name__ = fname
    return f


floor = _no_grad_unary("floor")
ceil = _no_grad_unary("ceil")
round = _no_grad_unary("round")
trunc = _no_grad_unary("trunc")
isnan = _no_grad_unary("isnan")
isinf = _no_grad_unary("isinf")
isfinite = _no_grad_unary("isfinite")
logical_not = _no_grad_unary("logical_not")

# ---------------------------------------------------------------- plain functions


def exp(input):
    return Exp.apply(input)


def log(input):
    return Log.apply(input)


def log1p(input):
    return Log1p.apply(input)


def sqrt(input):
    return Sqrt.apply(input)


def rsqrt(input):
    return 1 / Sqrt.apply(input)


def square(input):
    return input * input


def sin(input):
    return Sin.apply(input)


def cos(input):
    return Cos.apply(input)


def tan(input):
    return Tan.apply(input)


def tanh(input):
    return Tanh.apply(input)


def sigmoid(input):
    return Sigmoid.apply(input)


def relu(input):
    return Relu.apply(input)


def _num(v):
    """A NumPy float64 scalar as a Python float: like PyTorch, a number argument does not
    promote a float32 tensor (NumPy would make the result float64)."""
    return float(v) if type(v) is np.float64 else v


def leaky_relu(input, negative_slope=0.01):
    return LeakyRelu.apply(input, negative_slope=_num(negative_slope))


def elu(input, alpha=1.0):
    return Elu.apply(input, alpha=_num(alpha))


def silu(input):
    return Silu.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    return Softplus.apply(input, beta=_num(beta), threshold=_num(threshold))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


def abs(input):
    return Abs.apply(input)


def sign(input):
    return Sign.apply(input)


def clamp(input, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        # as PyTorch: the input keeps the gradient where min <= input <= max (ties included),
        # a bound takes it where it is the value (maximum/minimum would split ties)
        out = input
        if min is not None:
            out = where(input < min, min, out)
        if max is not None:
            out = where(input > max, max, out)
        return out
    return Clamp.apply(input, lo=_num(min), hi=_num(max))


clip = clamp


def maximum(input, other):
    return Maximum.apply(input, other)


def minimum(input, other):
    return Minimum.apply(input, other)


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    cond = condition._data if isinstance(condition, Tensor) else condition
    return Where.apply(cond, input, other)


def _bind():
    for name in (
        "exp", "log", "log1p", "sqrt", "rsqrt", "square", "sin", "cos", "tan", "tanh", "sigmoid",
        "relu", "abs", "sign", "clamp", "clip", "maximum", "minimum", "floor", "ceil", "round",
        "trunc", "isnan", "isinf", "isfinite", "logical_not", "eq", "ne", "lt", "le", "gt", "ge",
    ):
        setattr(Tensor, name, globals()[name])
    Tensor.__abs__ = abs
    Tensor.__eq__ = eq
    Tensor.__ne__ = ne
    Tensor.__lt__ = lt
    Tensor.__le__ = le
    Tensor.__gt__ = gt
    Tensor.__ge__ = ge
    Tensor.__and__ = Tensor.__rand__ = bitwise_and
    Tensor.__or__ = Tensor.__ror__ = bitwise_or
    Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
    Tensor.__invert__ = _no_grad_unary("invert")
    Tensor.logical_and, Tensor.logical_or, Tensor.logical_xor = logical_and, logical_or, logical_xor
    Tensor.__hash__ = lambda self: id(self)
    Tensor.greater = gt
    Tensor.less = lt
    Tensor.absolute = abs
    Tensor.where = lambda self, condition, other: where(condition, self, other)


_bind()
