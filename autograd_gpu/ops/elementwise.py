"""Elementwise math and activations, and comparisons (which have no gradient).

Conventions at kinks, as PyTorch: abs'(0) = 0, relu'(0) = 0, clamp passes the gradient
where min <= x <= max, maximum/minimum split it evenly between equal inputs.
Stable forms: sigmoid and softplus never evaluate exp of a large positive number.
"""
import math

import numpy as np

from ..autograd.node import Node
from ..backend import array_module, to_numpy_dtype
from ..backend.execute import special_function, unary, unary_chain
from ..tensor import Tensor, tensor_method
from ._formula import linear_in_g
from .arithmetic import _broadcast_error, _shape, sum_to
from ._names import named


def _map(f, x, *args, floating=True):
    """The NumPy ufunc `f` (or CuPy's namesake) of `x`, run by the execution layer (see
    backend.execute.unary). `floating`: integer and bool inputs are computed in the default
    float type, as PyTorch does (NumPy gives float64)."""
    if floating:
        x = _as_float(x)
    return unary(f, x, *args)


def _as_float(x):
    """`x` itself, or an integer or bool `x` in the default float type."""
    if x.dtype.kind not in "biu":
        return x
    from ..creation import get_default_dtype

    return x.astype(to_numpy_dtype(get_default_dtype()))


# ---------------------------------------------------------------- backward formulas
# (the same operations, in the same order, as the fused kernels of kernels/elementwise_grad.cuh,
# registered under each formula's name in autograd_gpu/fused/_grad.py)

# the same bits as the AG_* constants in kernels/elementwise_grad.cuh
SQRT1_2 = 0.7071067811865476
INV_SQRT_2PI = 0.3989422804014327
SQRT_2_OVER_PI = 0.7978845608028654
GELU_KAPPA = 0.044715
GELU_3KAPPA = 0.134145


# NumPy formulas: the same operations, in the same order, as kernels/elementwise_grad.cuh.


def _np_relu(xp, y, g):
    # a mask multiply (far faster than where() in NumPy); y = max(x, 0) is 0, positive or
    # NaN, and y != 0 lets a NaN input pass its gradient, as PyTorch does
    return g * (y != 0)


def _np_leaky_relu(xp, x, g, slope):
    return xp.where(x > 0, g, g * slope)


def _np_sigmoid(xp, y, g):
    if g.dtype != y.dtype or g.shape != y.shape or not y.ndim:  # (0-d: NumPy returns scalars)
        return g * (1 - y) * y
    t = xp.subtract(1, y)  # the same operations, in one new array, not three
    xp.multiply(g, t, out=t)
    t *= y
    return t


def _np_tanh(xp, y, g):
    if g.dtype != y.dtype or g.shape != y.shape or not y.ndim:  # (0-d: NumPy returns scalars)
        return g * (1 - y * y)
    t = xp.multiply(y, y)  # the same operations, in one new array, not three
    xp.subtract(1, t, out=t)
    t *= g
    return t


def _np_gelu(xp, x, g):
    cdf = 0.5 * (1 + erf(x * SQRT1_2))
    pdf = xp.exp(x * x * -0.5) * INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _np_gelu_tanh(xp, x, g):
    x_sq = x * x
    x_cube = x_sq * x
    t = xp.tanh(SQRT_2_OVER_PI * (x + GELU_KAPPA * x_cube))
    left = 0.5 * x
    right = 1 + t
    left_d = 0.5 * right
    right_d = 1 - t * t
    inner_d = SQRT_2_OVER_PI * (1 + GELU_3KAPPA * x_sq)
    return g * (left_d + left * right_d * inner_d)


def _np_silu(xp, x, g):
    s = _sigmoid(x)
    return g * s * (1 + x * (1 - s))


def _np_softplus(xp, x, g, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, g, g * _sigmoid(bx))


def _np_elu(xp, x, g, alpha):
    # exp of min(x, 0): the branch not taken must not overflow
    return xp.where(x <= 0, g * alpha * xp.exp(xp.minimum(x, 0)), g)  # (NaN passes g)


def _np_exp(xp, y, g):
    return g * y


def _np_log(xp, x, g):
    return g / x


def _np_sqrt(xp, y, g):
    return g / (2 * y)


def _np_abs(xp, x, g):
    return g * xp.nan_to_num(xp.sign(x), nan=0.0)  # PyTorch's sgn(NaN) is 0, NumPy's NaN


def _np_clamp(xp, x, g, lo, hi):
    if lo is not None and hi is not None:
        mask = (x >= lo) & (x <= hi)
    elif lo is not None:
        mask = x >= lo
    else:
        mask = x <= hi
    return g * mask


# Second derivatives (Tensor code under create_graph; `where` and friends take Tensors).


def _d_zero(v, g, gg, *s):
    # piecewise-linear ops: the derivative of g f'(v) in v is zero (zeros, as PyTorch), an
    # array in a first-order pass and a Tensor under create_graph
    if not isinstance(v, Tensor):
        return array_module(v).zeros_like(v)
    from ..creation import zeros_like

    return zeros_like(v)


def _d_sigmoid(y, g, gg):
    return g * gg * (1 - 2 * y)


def _d_tanh(y, g, gg):
    return g * gg * (-2 * y)


def _d_gelu(x, g, gg):
    pdf = exp(x * x * -0.5) * INV_SQRT_2PI
    return g * gg * pdf * (2 - x * x)


def _d_gelu_tanh(x, g, gg):
    x_sq = x * x
    t = tanh(SQRT_2_OVER_PI * (x + GELU_KAPPA * (x_sq * x)))
    du = SQRT_2_OVER_PI * (1 + GELU_3KAPPA * x_sq)
    d2u = (6 * GELU_KAPPA * SQRT_2_OVER_PI) * x
    return g * gg * ((1 - t * t) * (du - x * t * du * du + 0.5 * x * d2u))


def _d_silu(x, g, gg):
    s = sigmoid(x)
    return g * gg * (s * (1 - s) * (2 + x * (1 - 2 * s)))


def _d_softplus(x, g, gg, beta, threshold):
    bx = x * beta
    s = sigmoid(bx)
    # (0 from the threshold on, as PyTorch's softplus_double_backward: beta x < threshold)
    return where(bx >= threshold, 0.0, g * gg * (beta * s * (1 - s)))


def _d_elu(x, g, gg, alpha):
    # (0 at x == 0, as PyTorch's elu_double_backward: x < 0)
    return where(x < 0, g * gg * alpha * exp(minimum(x, 0)), 0.0)


def _d_exp(y, g, gg):
    return g * gg


def _d_log(x, g, gg):
    return -(g * gg) / (x * x)


def _d_sqrt(y, g, gg):
    return -(g * gg) / (2 * y * y)



_relu_backward = linear_in_g("relu", _np_relu, _d_zero)
_leaky_relu_backward = linear_in_g("leaky_relu", _np_leaky_relu, _d_zero)
_sigmoid_backward = linear_in_g("sigmoid", _np_sigmoid, _d_sigmoid)
_tanh_backward = linear_in_g("tanh", _np_tanh, _d_tanh)
_gelu_backward = linear_in_g("gelu", _np_gelu, _d_gelu)
_gelu_tanh_backward = linear_in_g("gelu_tanh", _np_gelu_tanh, _d_gelu_tanh)
_silu_backward = linear_in_g("silu", _np_silu, _d_silu)
_softplus_backward = linear_in_g("softplus", _np_softplus, _d_softplus)
_elu_backward = linear_in_g("elu", _np_elu, _d_elu)
_exp_backward = linear_in_g("exp", _np_exp, _d_exp)
_log_backward = linear_in_g("log", _np_log, _d_log)
_sqrt_backward = linear_in_g("sqrt", _np_sqrt, _d_sqrt)
_abs_backward = linear_in_g("abs", _np_abs, _d_zero)
_clamp_backward = linear_in_g("clamp", _np_clamp, _d_zero)


class Exp(Node):
    def forward(self, x):
        y = _map(np.exp, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _exp_backward(y, g)


class Log(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.log, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _log_backward(x, g)


class Log1p(Node):
    name = "Log1PBackward0"

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
        return _sqrt_backward(y, g)


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
        return _tanh_backward(y, g)


# 1 / (1 + exp(-x)), as one chain of steps (on the host one pass over memory). exp(-x)
# overflows to inf for very negative x, giving exactly the limit 0 (as PyTorch does), and
# underflows for large x, giving 1: both are silenced.
_sigmoid = unary_chain(np.negative, np.exp, (np.add, 1), np.reciprocal, ignore=("over", "under"))


class Sigmoid(Node):
    def forward(self, x):
        x = _as_float(x)
        y = _sigmoid(x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _sigmoid_backward(y, g)


class Relu(Node):
    name = "ReluBackward0"

    def forward(self, x):
        y = _map(np.maximum, x, 0, floating=False)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return _relu_backward(y, g)


class LeakyRelu(Node):
    name = "LeakyReluBackward0"

    def forward(self, x, negative_slope):
        self.save_for_backward(x)
        self.slope = negative_slope
        return array_module(x).where(x > 0, x, x * negative_slope)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _leaky_relu_backward(x, g, self.slope)


class Elu(Node):
    def forward(self, x, alpha):
        xp = array_module(x)
        self.save_for_backward(x)
        self.alpha = alpha
        return xp.where(x > 0, x, alpha * xp.expm1(xp.minimum(x, 0)))

    def backward(self, g):
        (x,) = self.saved_tensors
        return _elu_backward(x, g, self.alpha)


class Silu(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return x * _sigmoid(x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _silu_backward(x, g)


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
        return _softplus_backward(x, g, self.beta, self.threshold)


def erf(input):
    """The error function: a differentiable op of a Tensor; of a raw array (as the fused
    formulas' NumPy twins call it) its values, on either device (SciPy's erf when installed,
    else math.erf).

    Args:
        input: the input tensor (or a raw NumPy / CuPy array).

    Returns:
        Tensor (an array for an array input).
    """
    if isinstance(input, Tensor):
        return _Erf.apply(input)
    return _special("erf", input)


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
            return _gelu_tanh_backward(x, g)
        return _gelu_backward(x, g)


class _Erf(Node):
    name = "ErfBackward0"

    def forward(self, x):
        x = _as_float(x)
        self.save_for_backward(x)
        return _special("erf", x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * (2 / math.sqrt(math.pi)) * exp(-x * x)


class Abs(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.abs, x, floating=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _abs_backward(x, g)


class Sign(Node):
    """Piecewise constant: the gradient is zero everywhere (PyTorch's convention)."""

    def forward(self, x):
        self.shape = x.shape
        return array_module(x).sign(x)

    def backward(self, g):
        return g * 0


class Clamp(Node):
    name = "ClampBackward1"  # (PyTorch's overload with number bounds)

    def forward(self, x, lo, hi):
        xp = array_module(x)
        self.save_for_backward(x)
        self.lo, self.hi = lo, hi
        if lo is not None and hi is not None and lo > hi:
            return xp.full_like(x, hi)
        return xp.clip(x, lo, hi)

    def backward(self, g):
        (x,) = self.saved_tensors
        return _clamp_backward(x, g, self.lo, self.hi)


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


def _compare(op, doc=None):
    def f(input, other):
        return _Compare.apply(input, other, op=op)

    f.__doc__ = doc
    return f


def _compare_doc(summary):
    return f"""{summary}

    Args:
        input: a tensor (or a number, when other is a tensor).
        other: a tensor or a number, broadcast against input.

    Returns:
        Tensor: bool, of the broadcast shape (no gradient).
    """


eq = _compare(lambda a, b: a == b, _compare_doc("True where input == other, elementwise."))
ne = _compare(lambda a, b: a != b, _compare_doc("True where input != other, elementwise."))
lt = _compare(lambda a, b: a < b, _compare_doc("True where input < other, elementwise."))
le = _compare(lambda a, b: a <= b, _compare_doc("True where input <= other, elementwise."))
gt = _compare(lambda a, b: a > b, _compare_doc("True where input > other, elementwise."))
ge = _compare(lambda a, b: a >= b, _compare_doc("True where input >= other, elementwise."))
bitwise_and = _compare(lambda a, b: a & b)
bitwise_or = _compare(lambda a, b: a | b)
bitwise_xor = _compare(lambda a, b: a ^ b)
# the logical forms take any dtype as PyTorch does (nonzero is true) and give bool
logical_and = _compare(lambda a, b: (a != 0) & (b != 0), _compare_doc(
    "Elementwise logical AND: True where input and other are both nonzero (any dtype)."))
logical_or = _compare(lambda a, b: (a != 0) | (b != 0), _compare_doc(
    "Elementwise logical OR: True where input or other is nonzero (any dtype)."))
logical_xor = _compare(lambda a, b: (a != 0) ^ (b != 0), _compare_doc(
    "Elementwise logical XOR: True where exactly one of input and other is nonzero (any dtype)."))


class _Unary(Node):
    """Elementwise functions without a gradient (rounding, tests, logical not)."""

    def forward(self, x, fname):
        return getattr(array_module(x), fname)(x)


def _no_grad_unary(fname, doc=None):
    def f(input):
        return _Unary.apply(input, fname=fname)

    f.__name__ = fname
    f.__doc__ = doc
    return f


class Rounding(Node):
    """floor, ceil, round (to `decimals` places) and trunc: piecewise constant, so their
    gradient is zero everywhere (PyTorch's, also at the steps), of every order."""

    def forward(self, x, fname, decimals):
        self.name = fname.title() + ("Backward1" if decimals else "Backward0")
        xp = array_module(x)
        if x.dtype.kind in "biu":  # integers are their own floor, ceil, ... (as PyTorch)
            return x.copy()
        if decimals:
            return xp.round(x, decimals)
        return getattr(xp, fname)(x)

    def backward(self, g):
        return g * 0


def _rounding(fname, doc):
    def f(input):
        return Rounding.apply(input, fname=fname, decimals=0)

    f.__name__, f.__doc__ = fname, doc
    return f


def _rounding_doc(summary):
    return f"""{summary}

    Args:
        input: the input tensor.

    Returns:
        Tensor: of input's shape (and dtype, for a floating input); its gradient is zero,
        as PyTorch's.
    """


def _test_doc(summary):
    return f"""{summary}

    Args:
        input: the input tensor.

    Returns:
        Tensor: bool, of input's shape (no gradient).
    """


floor = _rounding("floor", _rounding_doc("The largest integer value <= input, elementwise."))
ceil = _rounding("ceil", _rounding_doc("The smallest integer value >= input, elementwise."))
trunc = _rounding("trunc", _rounding_doc("input rounded towards zero, elementwise."))


def round(input, *, decimals=0):
    """input rounded to the nearest integer, halves to even (``round(2.5) == 2``), or to
    `decimals` decimal places (negative: to tens, hundreds, ...), elementwise.

    Args:
        input: the input tensor.
        decimals: the number of decimal places.

    Returns:
        Tensor: of input's shape and dtype; its gradient is zero, as PyTorch's.
    """
    return Rounding.apply(input, fname="round", decimals=int(decimals))
isnan = _no_grad_unary("isnan", _test_doc("True where input is NaN (never for an integer dtype)."))
isinf = _no_grad_unary("isinf", _test_doc("True where input is +inf or -inf."))
isfinite = _no_grad_unary("isfinite", _test_doc("True where input is neither infinite nor NaN."))
logical_not = _no_grad_unary("logical_not", _test_doc(
    "Elementwise logical NOT: True where input is zero (any dtype)."))

# ---------------------------------------------------------------- plain functions


def exp(input):
    """exp(x).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Exp.apply(input)


def log(input):
    """The natural logarithm.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Log.apply(input)


def log1p(input):
    """log(1 + x), accurate near 0.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Log1p.apply(input)


def sqrt(input):
    """The square root.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Sqrt.apply(input)


def rsqrt(input):
    """1 / sqrt(x).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return 1 / Sqrt.apply(input)


def square(input):
    """x * x.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return input * input


def sin(input):
    """The sine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Sin.apply(input)


def cos(input):
    """The cosine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Cos.apply(input)


def tan(input):
    """The tangent.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Tan.apply(input)


def tanh(input):
    """The hyperbolic tangent.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Tanh.apply(input)


def sigmoid(input):
    """1 / (1 + exp(-x)), stable at any input (sigmoid(-1000) is 0 with no warning).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Sigmoid.apply(input)


def relu(input):
    """max(x, 0); the gradient at 0 is 0.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Relu.apply(input)


def _num(v):
    """A NumPy float64 scalar as a Python float: like PyTorch, a number argument does not
    promote a float32 tensor (NumPy would make the result float64)."""
    return float(v) if type(v) is np.float64 else v


def leaky_relu(input, negative_slope=0.01):
    """x where x >= 0, else negative_slope * x.

    Args:
        input: the input tensor.
        negative_slope: the slope below 0.

    Returns:
        Tensor.
    """
    return LeakyRelu.apply(input, negative_slope=_num(negative_slope))


def elu(input, alpha=1.0):
    """x where x > 0, else alpha (exp(x) - 1).

    Args:
        input: the input tensor.
        alpha: the scale of the negative part.

    Returns:
        Tensor.
    """
    return Elu.apply(input, alpha=_num(alpha))


def silu(input):
    """x * sigmoid(x).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Silu.apply(input)


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta x)) / beta, x itself where beta x > threshold.

    Args:
        input: the input tensor.
        beta: the sharpness.
        threshold: where the result turns linear.

    Returns:
        Tensor.
    """
    return Softplus.apply(input, beta=_num(beta), threshold=_num(threshold))


def gelu(input, approximate="none"):
    """x * Phi(x), Phi the standard normal CDF.

    Args:
        input: the input tensor.
        approximate: ``"none"`` (erf) or ``"tanh"``.

    Returns:
        Tensor.
    """
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return Gelu.apply(input, approximate=approximate)


def abs(input):
    """The absolute value; the gradient at 0 is 0.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Abs.apply(input)


def sign(input):
    """-1, 0 or 1 by the sign of x (zero gradient).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Sign.apply(input)


def clamp(input, min=None, max=None):
    """x limited to [min, max]; the gradient passes where min <= x <= max.

    Args:
        input: the input tensor.
        min: the lower bound (a number, tensor or None).
        max: the upper bound (a number, tensor or None).

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.clamp(torch.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)
        tensor([0.0000, 0.5000, 1.0000])
    """
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
        return named(out, "ClampBackward0")
    return Clamp.apply(input, lo=_num(min), hi=_num(max))


clip = clamp


def maximum(input, other):
    """The elementwise maximum (ties share the gradient).

    Args:
        input: the input tensor.
        other: a tensor broadcastable with input.

    Returns:
        Tensor.
    """
    return Maximum.apply(input, other)


def minimum(input, other):
    """The elementwise minimum (ties share the gradient).

    Args:
        input: the input tensor.
        other: a tensor broadcastable with input.

    Returns:
        Tensor.
    """
    return Minimum.apply(input, other)


def where(condition, input=None, other=None):
    """input where condition is True, else other; ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.

    Args:
        condition: a bool tensor.
        input: the values where True (a tensor or a number).
        other: the values where False (a tensor or a number).

    Returns:
        Tensor, or a tuple of index tensors.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> torch.where(x > 2, x, 0.0)
        tensor([[0., 0.],
                [3., 4.]])
        >>> torch.where(torch.tensor([True, False, True]))
        (tensor([0, 2]),)
    """
    if input is None and other is None:
        return Tensor.nonzero(condition, as_tuple=True)  # (installed by ops.indexing)
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
    Tensor.where.__doc__ = """self where condition is True, else other.

        As ``torch.where(condition, self, other)``.

        Args:
            condition: a bool tensor, broadcast against self and other.
            other: a tensor or a number, the values where condition is False.

        Returns:
            Tensor: of the broadcast shape; the gradient flows to self where condition is
            True and to other where it is False.
        """


_bind()


# ---------------------------------------------------------------- more math: unary functions
# Each backward is written with the library's functions, so it serves a first-order pass on
# raw arrays and, under create_graph, records its own graph (derivatives of any order). Masks
# (where a formula has a hole, or a piecewise-constant factor) are computed from the raw
# values: they are constants of the graph, as in PyTorch's formulas.

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _raw(x):
    """The array behind `x` (a Tensor under create_graph, else already an array)."""
    return x._data if isinstance(x, Tensor) else x


def _mask(cond, like):
    """A boolean mask as a 0/1 array of `like`'s float dtype (NumPy would make bool * 0.5
    float64; a bool mask times a float32 Tensor must stay float32)."""
    return cond.astype(_raw(like).dtype)


def _special(fname, x):
    """erf / erfc / erfinv of a raw array: cupyx.scipy.special on CUDA, scipy.special on the
    CPU when SciPy is installed, else the standard library (erfinv by Newton's method)."""
    xp = array_module(x)
    f = special_function(fname, x)
    if f is not None:
        return f(x).astype(x.dtype, copy=False)
    if fname == "erfinv":  # (a special-function library without erfinv, or none)
        return _erfinv_newton(xp, x, lambda v: _special("erf", v), lambda v: _special("erfc", v))
    if not x.size:
        return x.copy()
    return np.vectorize(getattr(math, fname), otypes=[x.dtype])(x)


def _erfinv_newton(xp, x, erf_f, erfc_f):
    """erfinv from erf: Giles' single-precision approximation (2010), then three Newton steps
    in float64 on erf(y) = |x| (the residual taken through erfc near 1, where 1 - |x| is
    exact), which reach double precision from its ~4e-7."""
    a = xp.abs(x.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -xp.log((1.0 - a) * (1.0 + a))
        small = w < 5.0
        ws = xp.where(small, w - 2.5, xp.sqrt(xp.where(small, 5.0, w)) - 3.0)
        p = xp.where(small, 2.81022636e-08, -0.000200214257)
        for cs, cl in ((3.43273939e-07, 0.000100950558), (-3.5233877e-06, 0.00134934322),
                       (-4.39150654e-06, -0.00367342844), (0.00021858087, 0.00573950773),
                       (-0.00125372503, -0.0076224613), (-0.00417768164, 0.00943887047),
                       (0.246640727, 1.00167406), (1.50140941, 2.83297682)):
            p = xp.where(small, cs, cl) + p * ws
        inside = a < 1.0
        y = xp.where(inside, p * a, 0.0)
        for _ in range(3 if y.size else 0):
            resid = xp.where(a > 0.5, (1.0 - a) - erfc_f(y), erf_f(y) - a)
            y = y - resid / (_TWO_OVER_SQRT_PI * xp.exp(-y * y))
        y = xp.where(inside, y, xp.where(a == 1.0, math.inf, math.nan))
    return xp.copysign(y, x).astype(x.dtype, copy=False)


class Log2(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.log2, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (x * _LN2)


class Log10(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.log10, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (x * _LN10)


class Exp2(Node):
    def forward(self, x):
        y = _map(np.exp2, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return g * y * _LN2


class Expm1(Node):
    def forward(self, x):
        y = _map(np.expm1, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return g * (y + 1)


class Asin(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.arcsin, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / sqrt(1 - x * x)


class Acos(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.arccos, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return -g / sqrt(1 - x * x)


class Atan(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.arctan, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (x * x + 1)


class Sinh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.sinh, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * cosh(x)


class Cosh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.cosh, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * sinh(x)


class Asinh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.arcsinh, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / sqrt(x * x + 1)


class Acosh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.arccosh, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / sqrt((x - 1) * (x + 1))  # (PyTorch's form: x * x - 1 cancels near 1)


class Atanh(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _map(np.arctanh, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g / (1 - x * x)


class Erfc(Node):
    def forward(self, x):
        self.save_for_backward(x)
        return _special("erfc", _as_float(x))

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * -_TWO_OVER_SQRT_PI * exp(-x * x)


class Erfinv(Node):
    def forward(self, x):
        y = _special("erfinv", _as_float(x))
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return g * (math.sqrt(math.pi) / 2) * exp(y * y)


class Reciprocal(Node):
    def forward(self, x):
        y = _map(np.reciprocal, x)
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        return -g * (y * y)


class Frac(Node):
    """x - trunc(x) (the sign of x kept, as PyTorch); the gradient passes unchanged."""

    def forward(self, x):
        return x - array_module(x).trunc(x)

    def backward(self, g):
        return g


class Sinc(Node):
    """sin(pi x) / (pi x), 1 at 0. The derivative (pi x cos(pi x) - sin(pi x)) / (pi x^2) is
    taken as 0 at x = 0, as PyTorch does; so is the second (PyTorch's is NaN there)."""

    def forward(self, x):
        x = _as_float(x)
        self.save_for_backward(x)
        return array_module(x).sinc(x).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        at0 = _raw(x) == 0
        safe = where(at0, 1.0, x) if at0.any() else x
        px = safe * math.pi
        d = (px * cos(px) - sin(px)) / (px * safe)
        return g * (d * _mask(~at0, x) if at0.any() else d)


class Logit(Node):
    """log(x / (1 - x)), x first clamped to [eps, 1 - eps] when eps is given. The gradient is
    1 / (x (1 - x)); 0 outside [eps, 1 - eps], and NaN outside [0, 1] without eps (PyTorch)."""

    def forward(self, x, eps):
        x = _as_float(x)
        xp = array_module(x)
        self.save_for_backward(x)
        self.eps = eps
        xc = x if eps is None else xp.clip(x, eps, 1 - eps)
        return xp.log(xc / (1 - xc)).astype(x.dtype, copy=False)

    def backward(self, g):
        (x,) = self.saved_tensors
        raw = _raw(x)
        d = g / (x * (1 - x))
        if self.eps is None:
            outside = (raw < 0) | (raw > 1)
            return where(outside, math.nan, d) if outside.any() else d
        outside = (raw < self.eps) | (raw > 1 - self.eps)
        return where(outside, 0.0, d) if outside.any() else d


class NanToNum(Node):
    def forward(self, x, nan, posinf, neginf):
        xp = array_module(x)
        self.finite = xp.isfinite(x)
        return xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return g * _mask(self.finite, g)


class ClampMin(Node):
    """max(x, min) for a number `min`; the gradient passes where x >= min (PyTorch)."""

    name = "ClampMinBackward0"

    def forward(self, x, lo):
        self.keep = x >= lo
        return array_module(x).maximum(x, lo)

    def backward(self, g):
        return g * _mask(self.keep, g)


class ClampMax(Node):
    name = "ClampMaxBackward0"

    def forward(self, x, hi):
        self.keep = x <= hi
        return array_module(x).minimum(x, hi)

    def backward(self, g):
        return g * _mask(self.keep, g)


class _ClampBound(Node):
    """clamp_min / clamp_max with a tensor bound: x where it is kept (ties included), else
    the bound; each takes the gradient where it is the value."""

    def forward(self, x, bound, is_min):
        xp = array_module(x)
        self.shapes = (_shape(x), _shape(bound))
        self.name = "ClampMinBackward1" if is_min else "ClampMaxBackward1"
        try:
            self.keep = (x >= bound) if is_min else (x <= bound)
            return (xp.maximum if is_min else xp.minimum)(x, bound)
        except ValueError:
            raise _broadcast_error("clamp_min" if is_min else "clamp_max", x, bound) from None

    def backward(self, g):
        need = self.needs_input_grad
        keep = _mask(self.keep, g)
        return (sum_to(g * keep, self.shapes[0]) if need[0] else None,
                sum_to(g * (1 - keep), self.shapes[1]) if need[1] else None)


# ---------------------------------------------------------------- more math: binary functions


def _float_operands(a, b):
    """`a`, `b` with integer and bool arrays in the float type PyTorch computes in: the float
    arrays' type, or the default float type when neither is a float array (Python numbers
    never promote, and NumPy would make int64 with float32 float64)."""
    da, db = getattr(a, "dtype", None), getattr(b, "dtype", None)
    floats = [d for d in (da, db) if d is not None and d.kind == "f"]
    if floats:
        target = floats[0] if len(floats) == 1 or floats[0].itemsize >= floats[1].itemsize else floats[1]
    else:
        from ..creation import get_default_dtype

        target = to_numpy_dtype(get_default_dtype())
    if da is not None and da.kind in "biu":
        a = a.astype(target)
    if db is not None and db.kind in "biu":
        b = b.astype(target)
    return a, b


def _binary(op, a, b, f):
    """f(a, b), PyTorch's broadcasting error if the shapes do not broadcast."""
    try:
        return f(a, b)
    except ValueError:
        raise _broadcast_error(op, a, b) from None


class Logaddexp(Node):
    def forward(self, a, b):
        a, b = _float_operands(a, b)
        self.save_for_backward(a, b)
        self.shapes = (_shape(a), _shape(b))
        return _binary("logaddexp", a, b, array_module(a if hasattr(a, "shape") else b).logaddexp)

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        # d/da = exp(a) / (exp(a) + exp(b)) = sigmoid(a - b): no overflow for large inputs
        return (sum_to(g * sigmoid(a - b), self.shapes[0]) if need[0] else None,
                sum_to(g * sigmoid(b - a), self.shapes[1]) if need[1] else None)


class Logaddexp2(Node):
    def forward(self, a, b):
        a, b = _float_operands(a, b)
        self.save_for_backward(a, b)
        self.shapes = (_shape(a), _shape(b))
        return _binary("logaddexp2", a, b, array_module(a if hasattr(a, "shape") else b).logaddexp2)

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        # d/da = 2^a / (2^a + 2^b) = sigmoid((a - b) ln 2)
        return (sum_to(g * sigmoid((a - b) * _LN2), self.shapes[0]) if need[0] else None,
                sum_to(g * sigmoid((b - a) * _LN2), self.shapes[1]) if need[1] else None)


def _log_number(v):
    """log of a Python number as a Python number (NumPy's would be a float64 scalar, which
    promotes a float32 tensor)."""
    return math.log(v) if v > 0 else -math.inf if v == 0 else math.nan


class Xlogy(Node):
    """x log(y), 0 where x == 0 (unless y is NaN), as PyTorch. d/dx = log(y) (0 where x == 0
    and y <= 0), d/dy = x / y."""

    def forward(self, x, y):
        x, y = _float_operands(x, y)
        xp = array_module(x if hasattr(x, "shape") else y)
        self.save_for_backward(x, y)
        self.shapes = (_shape(x), _shape(y))
        self.name = ("XlogyBackward1" if not hasattr(x, "shape") else
                     "XlogyBackward2" if not hasattr(y, "shape") else "XlogyBackward0")
        with np.errstate(divide="ignore", invalid="ignore"):  # log(0) only where x == 0
            v = _binary("xlogy", x, y, lambda p, q: p * (
                xp.log(q) if hasattr(q, "shape") else _log_number(q)))
            out = xp.where((xp.asarray(x) == 0) & ~xp.isnan(y), 0, v)
        return out.astype(v.dtype, copy=False)

    def backward(self, g):
        x, y = self.saved_tensors
        need = self.needs_input_grad
        gx = gy = None
        if need[0]:
            # log(y), taken as 0 where x == 0 and y <= 0 (the limit of x log(y) there), as
            # PyTorch; where x == 0 and y > 0 it is log(y) all the same
            xp = array_module(_raw(y) if hasattr(y, "shape") else _raw(x))
            ry = _raw(y)
            hole = (xp.asarray(_raw(x)) == 0) & (xp.asarray(ry) <= 0)
            if not hasattr(y, "shape"):  # a number y: log(y) is a number
                log_y = _log_number(y)
                gx = g * where(hole, 0.0, log_y) if hole.any() else g * log_y
            elif hole.any():
                gx = g * where(hole, 0.0, log(where(hole, 1.0, y)))
            else:
                gx = g * log(y)
            gx = sum_to(gx, self.shapes[0])
        if need[1]:
            gy = sum_to(g * x / y, self.shapes[1])
        return gx, gy


class Hypot(Node):
    def forward(self, a, b):
        a, b = _float_operands(a, b)
        y = _binary("hypot", a, b, array_module(a).hypot)
        self.save_for_backward(a, b, y)
        self.shapes = (a.shape, _shape(b))
        return y

    def backward(self, g):
        a, b, y = self.saved_tensors
        need = self.needs_input_grad
        return (sum_to(g * a / y, self.shapes[0]) if need[0] else None,
                sum_to(g * b / y, self.shapes[1]) if need[1] else None)


class Atan2(Node):
    def forward(self, a, b):
        a, b = _float_operands(a, b)
        self.save_for_backward(a, b)
        self.shapes = (a.shape, _shape(b))
        return _binary("atan2", a, b, array_module(a).arctan2)

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        r2 = a * a + b * b
        return (sum_to(g * b / r2, self.shapes[0]) if need[0] else None,
                sum_to(-g * a / r2, self.shapes[1]) if need[1] else None)


class Copysign(Node):
    """|a| with the sign of b. d/da = copysign(1, a) * copysign(1, b) (0 where a == 0, as
    PyTorch), a piecewise constant kept as a constant; b gets a zero gradient."""

    def forward(self, a, b):
        a, b = _float_operands(a, b)
        xp = array_module(a)
        y = _binary("copysign", a, b, xp.copysign)
        self.shapes = (a.shape, _shape(b))
        self.name = "CopysignBackward0" if hasattr(b, "shape") else "CopysignBackward1"
        with np.errstate(invalid="ignore", divide="ignore"):
            self.ratio = xp.where(a == 0, 0, y / xp.where(a == 0, 1, a)).astype(y.dtype, copy=False)
        return y

    def backward(self, g):
        need = self.needs_input_grad
        return (sum_to(g * self.ratio, self.shapes[0]) if need[0] else None,
                sum_to(g * 0, self.shapes[1]) if need[1] else None)


class _FmodRemainder(Node):
    """fmod (C's, the sign of a) or remainder (Python's, the sign of b). d/da = 1;
    d/db = -trunc(a / b) (fmod) or -floor(a / b) (remainder), piecewise constant."""

    def forward(self, a, b, floor):
        xp = array_module(a)
        self.floor = floor
        self.shapes = (a.shape, _shape(b))
        other_tensor = hasattr(b, "shape")
        base = "Remainder" if floor else "Fmod"
        self.name = f"{base}Backward1" if other_tensor else f"{base}Backward0"
        if other_tensor:
            self.save_for_backward(a, b)
        out = _binary("remainder" if floor else "fmod", a, b, xp.remainder if floor else xp.fmod)
        if out.dtype == np.float64 and a.dtype != np.float64 and getattr(b, "dtype", None) != np.float64:
            out = out.astype(np.float32 if a.dtype.kind != "f" else a.dtype)  # (int (op) float)
        if floor and out.dtype.kind == "f":
            # PyTorch's remainder is fmod moved by b where the signs differ, so a zero keeps
            # a's sign (NumPy's remainder gives b's: 5 % -2.5 would print as -0.)
            m = _binary("fmod", a, b, xp.fmod).astype(out.dtype, copy=False)
            out = xp.where((m != 0) & ((xp.asarray(b) < 0) != (m < 0)), m + b, m).astype(
                out.dtype, copy=False)
        return out

    def backward(self, g):
        need = self.needs_input_grad
        ga = sum_to(g, self.shapes[0]) if need[0] else None
        gb = None
        if len(need) > 1 and need[1]:
            a, b = (_raw(t) for t in self.saved_tensors)
            xp = array_module(a)
            with np.errstate(divide="ignore", invalid="ignore"):
                q = a / b
                q = xp.floor(q) if self.floor else xp.trunc(q)
            gb = sum_to(-g * q.astype(_raw(g).dtype, copy=False), self.shapes[1])
        return ga, gb


class _NotDifferentiable(Node):
    """An op PyTorch gives no derivative (floor_divide, heaviside): the result is recorded,
    as PyTorch records it, and a backward through it raises PyTorch's error."""

    name = "NotImplemented"

    def forward(self, a, b, fname):
        self.fname = fname
        xp = array_module(a if hasattr(a, "shape") else b)
        if any(type(v) is float or getattr(v, "dtype", np.dtype(int)).kind == "f" for v in (a, b)):
            a, b = _float_operands(a, b)  # (int // float is float32 in PyTorch, NumPy's float64)
        return _binary(fname, a, b, getattr(xp, fname))

    def backward(self, *grads):
        raise RuntimeError(f"derivative for aten::{self.fname} is not implemented")


class _Predicate(Node):
    """An elementwise test without a gradient (isposinf, isneginf, isreal, signbit)."""

    def forward(self, x, test):
        return test(array_module(x), x)


# ---------------------------------------------------------------- more math: plain functions


def log2(input):
    """The base-2 logarithm.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Log2.apply(input)


def log10(input):
    """The base-10 logarithm.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Log10.apply(input)


def exp2(input):
    """2 ** x.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Exp2.apply(input)


def expm1(input):
    """exp(x) - 1, accurate near 0.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Expm1.apply(input)


def asin(input):
    """The inverse sine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Asin.apply(input)


def acos(input):
    """The inverse cosine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Acos.apply(input)


def atan(input):
    """The inverse tangent.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Atan.apply(input)


def sinh(input):
    """The hyperbolic sine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Sinh.apply(input)


def cosh(input):
    """The hyperbolic cosine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Cosh.apply(input)


def asinh(input):
    """The inverse hyperbolic sine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Asinh.apply(input)


def acosh(input):
    """The inverse hyperbolic cosine.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Acosh.apply(input)


def atanh(input):
    """The inverse hyperbolic tangent.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Atanh.apply(input)


def erfc(input):
    """The complementary error function 1 - erf(x).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Erfc.apply(input)


def erfinv(input):
    """The inverse error function.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Erfinv.apply(input)


def reciprocal(input):
    """1 / x.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Reciprocal.apply(input)


def frac(input):
    """The fractional part x - trunc(x).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Frac.apply(input)


def sinc(input):
    """sin(pi x) / (pi x), 1 at 0.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Sinc.apply(input)


def logit(input, eps=None):
    """log(p / (1 - p)), p clamped to [eps, 1 - eps] when eps is given.

    Args:
        input: the input tensor.
        eps: the clamp bound, or None.

    Returns:
        Tensor.
    """
    return Logit.apply(input, eps=None if eps is None or eps < 0 else float(eps))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """x with NaN, +inf and -inf replaced by numbers.

    Args:
        input: the input tensor.
        nan: the value for NaN.
        posinf: the value for +inf (None: the dtype's largest).
        neginf: the value for -inf (None: the dtype's lowest).

    Returns:
        Tensor.
    """
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


def clamp_min(input, min):
    """max(x, min).

    Args:
        input: the input tensor.
        min: a number or tensor.

    Returns:
        Tensor.
    """
    if isinstance(min, Tensor):
        return _ClampBound.apply(input, min, is_min=True)
    return ClampMin.apply(input, lo=_num(min))


def clamp_max(input, max):
    """min(x, max).

    Args:
        input: the input tensor.
        max: a number or tensor.

    Returns:
        Tensor.
    """
    if isinstance(max, Tensor):
        return _ClampBound.apply(input, max, is_min=False)
    return ClampMax.apply(input, hi=_num(max))


def _operand(x):
    return float(x) if type(x) is np.float64 else x


def _first_tensor(op, a, b):
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(a).__name__}")


def _integers_refused(op, *xs):
    for x in xs:
        if isinstance(x, Tensor) and x._data.dtype.kind in "biu":
            raise NotImplementedError(
                f'"{op}_cpu" not implemented for \'{_TORCH_NAMES.get(x._data.dtype.name)}\''
            )


_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char",
                "uint8": "Byte", "bool": "Bool"}


def logaddexp(input, other):
    """log(exp(x) + exp(y)), computed stably.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    _integers_refused("logaddexp", input, other)
    return Logaddexp.apply(input, _operand(other))


def logaddexp2(input, other):
    """log2(2**x + 2**y), computed stably.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    _integers_refused("logaddexp2", input, other)
    return Logaddexp2.apply(input, _operand(other))


def xlogy(input, other):
    """x * log(y), 0 where x is 0.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    _first_tensor("xlogy", input, other)
    return Xlogy.apply(_operand(input), _operand(other))


def hypot(input, other):
    """sqrt(x² + y²).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    _integers_refused("hypot", input, other)
    return Hypot.apply(input, other)


def atan2(input, other):
    """The angle of the point (other, input): atan(input / other) in the right quadrant.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    return Atan2.apply(input, other)


def copysign(input, other):
    """abs(input) with other's sign.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    return Copysign.apply(input, _operand(other))


def fmod(input, other):
    """The remainder of division with the dividend's sign (C's fmod).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    return _FmodRemainder.apply(input, _operand(other), floor=False)


def remainder(input, other):
    """The remainder of division with the divisor's sign (Python's %).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    return _FmodRemainder.apply(input, _operand(other), floor=True)


def floor_divide(input, other):
    """floor(input / other); recorded without a derivative, as in PyTorch.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    return _NotDifferentiable.apply(input, _operand(other), fname="floor_divide")


def heaviside(input, values):
    """0 below 0, 1 above, values at 0; recorded without a derivative.

    Args:
        input: the input tensor.
        values: the result where input is 0.

    Returns:
        Tensor.
    """
    if isinstance(values, Tensor) and isinstance(input, Tensor) and values.dtype != input.dtype:
        raise RuntimeError(
            "heaviside is not yet implemented for tensors with different dtypes.")
    return _NotDifferentiable.apply(input, values, fname="heaviside")


def signbit(input):
    """True where the sign bit is set (-0.0 included).

    Args:
        input: the input tensor.

    Returns:
        Tensor: bool
    """
    return _Predicate.apply(input, test=lambda xp, x: xp.signbit(x))


def isposinf(input):
    """True where x is +inf.

    Args:
        input: the input tensor.

    Returns:
        Tensor: bool
    """
    return _Predicate.apply(input, test=lambda xp, x: x == math.inf)


def isneginf(input):
    """True where x is -inf.

    Args:
        input: the input tensor.

    Returns:
        Tensor: bool
    """
    return _Predicate.apply(input, test=lambda xp, x: x == -math.inf)


def isreal(input):
    """True everywhere: no tensor here is complex.

    Args:
        input: the input tensor.

    Returns:
        Tensor: bool, of input's shape.
    """
    return _Predicate.apply(input, test=lambda xp, x: xp.ones(x.shape, dtype=bool))


class _IsClose(Node):
    def forward(self, a, b, rtol, atol, equal_nan):
        return _binary("isclose", a, b, lambda p, q: array_module(p).isclose(
            p, q, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _same_dtype(op, a, b):
    if isinstance(b, Tensor) and a.dtype != b.dtype:
        from ..tensor import _TORCH_TYPE_NAMES

        na, nb = (_TORCH_TYPE_NAMES.get(t._data.dtype.name) for t in (a, b))
        raise RuntimeError(f"{na} did not match {nb}")


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True where abs(input - other) <= atol + rtol abs(other).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.
        rtol: the relative tolerance.
        atol: the absolute tolerance.
        equal_nan: count NaN == NaN as close.

    Returns:
        Tensor: bool
    """
    _same_dtype("isclose", input, other)
    return _IsClose.apply(input, _operand(other), rtol=rtol, atol=atol, equal_nan=equal_nan)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """A Python bool: whether every element pair is close (PyTorch's rule, as isclose).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.
        rtol: the relative tolerance.
        atol: the absolute tolerance.
        equal_nan: count NaN == NaN as close.

    Returns:
        bool: True if ``abs(input - other) <= atol + rtol * abs(other)`` everywhere.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.allclose(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.000001]))
        True
    """
    return bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


def equal(input, other):
    """A Python bool: the same shape and the same values (dtypes may differ, as PyTorch).

    Args:
        input: the first tensor.
        other: the second tensor.

    Returns:
        bool.
    """
    if tuple(input.shape) != tuple(other.shape):
        return False
    return bool((input._data == other._data).all())


def _reflected(number, like):
    """The Python number on the left of `number % tensor` as a 0-d tensor on the tensor's
    device, of the dtype the pair computes in (PyTorch's promotion of a wrapped number)."""
    from ..creation import tensor

    t = tensor(number, device=like.device)
    return t if t.dtype.is_floating_point and not like.dtype.is_floating_point else t.to(
        like.dtype if like.dtype.is_floating_point or not t.dtype.is_floating_point else t.dtype)


def _bind_math():
    names = (
        "log2", "log10", "exp2", "expm1", "asin", "acos", "atan", "sinh", "cosh", "asinh",
        "acosh", "atanh", "erf", "erfc", "erfinv", "reciprocal", "frac", "sinc", "logit",
        "nan_to_num", "clamp_min", "clamp_max", "logaddexp", "logaddexp2", "xlogy", "hypot",
        "atan2", "copysign", "fmod", "remainder", "floor_divide", "heaviside", "signbit",
        "isposinf", "isneginf", "isreal", "isclose", "allclose", "equal",
    )
    for name in names:
        setattr(Tensor, name, globals()[name])
    for alias, name in (("arcsin", "asin"), ("arccos", "acos"), ("arctan", "atan"),
                        ("arcsinh", "asinh"), ("arccosh", "acosh"), ("arctanh", "atanh"),
                        ("arctan2", "atan2"), ("special_erfinv", "erfinv")):
        globals()[alias] = globals()[name]
        if not alias.startswith("special"):
            setattr(Tensor, alias, globals()[name])
    # Python's % and // (as torch.Tensor: remainder, which takes the divisor's sign, and
    # floor_divide)
    Tensor.__mod__ = remainder
    Tensor.__rmod__ = lambda self, other: remainder(_reflected(other, self), self)
    Tensor.__floordiv__ = floor_divide
    Tensor.__rfloordiv__ = lambda self, other: floor_divide(_reflected(other, self), self)

    # the in-place forms: computed out of place, written back (recorded on non-leaf tensors)
    def _inplace_method(f):
        def method(self, *args, **kwargs):
            from . import arithmetic  # (this module is imported while arithmetic loads)

            others = [a for a in args if isinstance(a, Tensor)]
            return arithmetic.inplace(self, lambda t: f(t, *args, **kwargs), *others)

        method.__name__ = f.__name__ + "_"
        return method

    for name in (
        "log2", "log10", "exp2", "expm1", "asin", "acos", "atan", "sinh", "cosh", "asinh",
        "acosh", "atanh", "erf", "erfc", "erfinv", "reciprocal", "frac", "sinc", "logit",
        "nan_to_num", "clamp_min", "clamp_max", "xlogy", "hypot", "atan2", "copysign", "fmod",
        "remainder", "floor_divide", "heaviside", "arcsin", "arccos", "arctan", "arcsinh",
        "arccosh", "arctanh", "arctan2", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos",
        "tan", "tanh", "sigmoid", "relu", "abs", "sign", "square", "neg", "floor", "ceil",
        "round", "trunc",
    ):
        f = globals().get(name) or getattr(Tensor, name)
        if not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", _inplace_method(f))


_bind_math()


def clamp_min_(input, min):
    """max(x, min), in place.

    Args:
        input: the input tensor.
        min: a number or tensor.

    Returns:
        Tensor: input
    """
    return input.clamp_min_(min)


def clamp_max_(input, max):
    """min(x, max), in place.

    Args:
        input: the input tensor.
        max: a number or tensor.

    Returns:
        Tensor: input
    """
    return input.clamp_max_(max)


def _tensor_clamp_(self, min=None, max=None):
    """Clamp in place to [min, max].

    Args:
        min: the lower bound (a number, tensor or None).
        max: the upper bound (a number, tensor or None).

    Returns:
        Tensor: self
    """
    if self._check_inplace(None):
        return self._record_inplace(lambda old: clamp(old, min, max))
    self._xp().clip(self._data, min, max, out=self._data)
    self._version[0] += 1
    return self


tensor_method("clamp_", _tensor_clamp_)
Tensor.clip_ = Tensor.clamp_
