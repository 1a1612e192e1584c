"""Backward formulas of the elementwise ops and the losses, on every path.

Each function takes the saved values and the incoming gradient and returns the input
gradient(s):
  * raw CuPy arrays (float16/32/64, one dtype) -> one fused kernel from kernels/*.cuh;
  * raw NumPy arrays -> the NumPy formula below (also the fallback for mixed dtypes);
  * Tensors (a create_graph backward) -> a differentiable node (``*Grad``) whose forward
    is this same function on the raw arrays and whose backward gives its derivative,
    so gradients of gradients work on both devices.
The NumPy formulas and the C++ functions are written in the same operation order; the
tests compile the C++ for the host and compare the two bit for bit (see tests/test_kernels.py).
"""
import numpy as np

from ..autograd.node import Node
from ..backend import (
    POOL_MIN_BYTES, array_module, host_block_size, host_blockwise, pooled_empty_like, pooled_out,
)
from ..tensor import Tensor
from . import _loader
from ._loader import Spec

_ndarray = np.ndarray
_FLOATS = {np.dtype(np.float16): "float16", np.dtype(np.float32): "float32",
           np.dtype(np.float64): "float64"}

# the same bits as the AG_* constants in kernels/elementwise_grad.cuh
SQRT1_2 = 0.7071067811865476
INV_SQRT_2PI = 0.3989422804014327
SQRT_2_OVER_PI = 0.7978845608028654
GELU_KAPPA = 0.044715
GELU_3KAPPA = 0.134145

_EW = "elementwise_grad.cuh"
_LOSS = "loss_grad.cuh"


def _fused_dtype(*arrays):
    """The dtype name when every array is a CuPy array of one float dtype, else None."""
    a0 = arrays[0]
    if type(a0) is _ndarray or not hasattr(a0, "__cuda_array_interface__"):
        return None
    dt = a0.dtype
    for a in arrays[1:]:
        if not hasattr(a, "__cuda_array_interface__") or a.dtype != dt:
            return None
    return _FLOATS.get(dt)


def fusable(*arrays):
    """True for raw CuPy arrays of one float dtype (the inputs a fused kernel takes)."""
    for a in arrays:
        if isinstance(a, Tensor):
            return False
    return _fused_dtype(*arrays) is not None


def _is_graph(*values):
    for v in values:
        if isinstance(v, Tensor):
            return True
    return False


_elementwise = None


def _ops():
    """autograd_gpu.ops.elementwise, imported on first use (it imports this module)."""
    global _elementwise
    if _elementwise is None:
        from ..ops import elementwise

        _elementwise = elementwise
    return _elementwise


def _sigmoid(xp, x):
    return _ops()._sigmoid(xp, x)


# ---------------------------------------------------------------- unary, linear in g


def _unary(name, arg, body, scalars=(), flags=()):
    return Spec(name, _EW, f"out_ = ag::{body};", ins=(arg, "g"), scalars=scalars,
                outs=("out",), flags=flags)


_SPECS = {
    "relu": _unary("relu", "y", "relu_grad<C>(y_, g_)"),
    "leaky_relu": _unary("leaky_relu", "x", "leaky_relu_grad<C>(x_, g_, slope)", ("slope",)),
    "sigmoid": _unary("sigmoid", "y", "sigmoid_grad<C>(y_, g_)"),
    "tanh": _unary("tanh", "y", "tanh_grad<C>(y_, g_)"),
    "gelu": _unary("gelu", "x", "gelu_grad<C>(x_, g_)"),
    "gelu_tanh": _unary("gelu_tanh", "x", "gelu_tanh_grad<C>(x_, g_)"),
    "silu": _unary("silu", "x", "silu_grad<C>(x_, g_)"),
    "softplus": _unary("softplus", "x", "softplus_grad<C>(x_, g_, beta, threshold)",
                       ("beta", "threshold")),
    "elu": _unary("elu", "x", "elu_grad<C>(x_, g_, alpha)", ("alpha",)),
    "exp": _unary("exp", "y", "exp_grad<C>(y_, g_)"),
    "log": _unary("log", "x", "log_grad<C>(x_, g_)"),
    "sqrt": _unary("sqrt", "y", "sqrt_grad<C>(y_, g_)"),
    "abs": _unary("abs", "x", "abs_grad<C>(x_, g_)"),
    "clamp": _unary("clamp", "x", "clamp_grad<C>(x_, g_, lo, hi, has_lo, has_hi)",
                    ("lo", "hi"), ("has_lo", "has_hi")),
    "pow_base": _unary("pow_base", "a", "pow_base_grad<C>(a_, b, g_)", ("b",)),
    "pow": Spec("pow", _EW, "ga_ = ag::pow_base_grad<C>(a_, b_, g_);\n"
                "gb_ = ag::pow_exponent_grad<C>(a_, b_, y_, g_);",
                ins=("a", "b", "y", "g"), outs=("ga", "gb")),
    "mul": Spec("mul", _EW, "ag::mul_grad<C>(a_, b_, g_, ga_, gb_);", ins=("a", "b", "g"),
                outs=("ga", "gb")),
    "div": Spec("div", _EW, "ag::div_grad<C>(a_, b_, g_, ga_, gb_);", ins=("a", "b", "g"),
                outs=("ga", "gb")),
    "mse": Spec("mse", _LOSS, "ag::mse_grad<C>(x_, t_, norm, g_, gx_, gt_);", ins=("x", "t", "g"),
                scalars=("norm",), outs=("gx", "gt")),
    # the input's gradient only (targets rarely need one): one array less written
    "mse_x": Spec("mse_x", _LOSS, "C gt_;\nag::mse_grad<C>(x_, t_, norm, g_, gx_, gt_);",
                  ins=("x", "t", "g"), scalars=("norm",), outs=("gx",)),
    "bce_logits": Spec("bce_logits", _LOSS,
                       "ag::bce_logits_grad<C>(x_, t_, w_, pw_, has_pw, g_, gx_, gt_);",
                       ins=("x", "t", "w", "pw", "g"), outs=("gx", "gt"), flags=("has_pw",)),
    "bce_logits_x": Spec("bce_logits_x", _LOSS,
                         "C gt_;\nag::bce_logits_grad<C>(x_, t_, w_, pw_, has_pw, g_, gx_, gt_);",
                         ins=("x", "t", "w", "pw", "g"), outs=("gx",), flags=("has_pw",)),
    "cross_entropy": Spec("cross_entropy", _LOSS,
                          "out_ = ag::cross_entropy_grad<C>(lp_, cls == tgt, sA_, b_, c_, wc_);",
                          ins=("lp", "sA", "b", "c", "wc"), typed=(("cls", "int64"), ("tgt", "int64")),
                          outs=("out",)),
}


def spec(name):
    return _SPECS[name]


def specs():
    return dict(_SPECS)


def _k(name, dt, flags=()):
    return _loader.get(_SPECS[name], dt, flags)


# PyTorch's names for these double-backward nodes
_NODE_NAMES = {
    "relu": "ThresholdBackwardBackward0", "leaky_relu": "LeakyReluBackwardBackward0",
    "sigmoid": "SigmoidBackwardBackward0", "tanh": "TanhBackwardBackward0",
    "gelu": "GeluBackwardBackward0", "gelu_tanh": "GeluBackwardBackward0",
    "silu": "SiluBackwardBackward0", "softplus": "SoftplusBackwardBackward0",
    "elu": "EluBackwardBackward0",
}


def _on_host(numpy_formula, v, g, s):
    """numpy_formula(np, v, g, *s); for large arrays of one shape and dtype, block by block
    on the host threads (see backend.host_blockwise), into an array from the host pool."""
    if g.dtype == v.dtype and host_block_size(v):
        out = pooled_empty_like(v)

        def block(vb, gb, ob):
            ob[...] = numpy_formula(np, vb, gb, *s)

        if host_blockwise(block, v, g, out):
            return out
    return numpy_formula(np, v, g, *s)


def _linear(name, numpy_formula, second, *, scalars=(), flags=None):
    """Builds f(v, g) -> the input gradient, for an op whose backward is g times f'(v).

    numpy_formula(xp, v, g, *scalars); second(v, g, gg, *scalars) -> d/dv of g f'(v) times gg
    (Tensor ops; None where that is zero); flags(*scalars) -> compile-time flags.
    """

    def raw(v, g, *s):
        dt = _fused_dtype(v, g)
        if dt is not None:
            fl = flags(*s) if flags is not None else ()
            return _k(name, dt, fl)(v, g, *[0.0 if x is None else float(x) for x in s])
        return numpy_formula(array_module(g), v, g, *s)

    class Grad(Node):
        def forward(self, v, g, scalars):
            self.scalars = scalars
            self.save_for_backward(v, g)
            return raw(v, g, *scalars)

        def backward(self, gg):
            v, g = self.saved_tensors
            s = self.scalars
            need = self.needs_input_grad
            gv = second(v, g, gg, *s) if need[0] else None
            return gv, (fn(v, gg, *s) if need[1] else None)

    Grad.__name__ = Grad.__qualname__ = name.title().replace("_", "") + "Grad"
    Grad.name = _NODE_NAMES.get(name, Grad.__name__ + "Backward0")

    def fn(v, g, *s):
        if type(g) is _ndarray and type(v) is _ndarray:  # the CPU's first-order pass
            return _on_host(numpy_formula, v, g, s)
        if isinstance(v, Tensor) or isinstance(g, Tensor):
            return Grad.apply(v, g, scalars=s)
        return raw(v, g, *s)

    fn.__name__ = name
    fn.raw = raw
    fn.node = Grad
    return fn


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
    t = xp.subtract(1, y, out=pooled_out(y))  # the same operations, in one new array, not three
    xp.multiply(g, t, out=t)
    t *= y
    return t


def _np_tanh(xp, y, g):
    if g.dtype != y.dtype or g.shape != y.shape or not y.ndim:  # (0-d: NumPy returns scalars)
        return g * (1 - y * y)
    t = xp.multiply(y, y, out=pooled_out(y))  # the same operations, in one new array, not three
    xp.subtract(1, t, out=t)
    t *= g
    return t


def _np_gelu(xp, x, g):
    cdf = 0.5 * (1 + _ops().erf(x * SQRT1_2))
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
    s = _sigmoid(xp, x)
    return g * s * (1 + x * (1 - s))


def _np_softplus(xp, x, g, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, g, g * _sigmoid(xp, bx))


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


def _np_pow_base(xp, a, g, b):
    if b == 0:
        return xp.zeros_like(g * a)
    if b == 2 and g.dtype == a.dtype and g.shape == a.shape and a.ndim:
        # g * (2 * a) (a ** 1 is a, exactly), in one new array; a + a is 2 * a exactly,
        # without NumPy's slower path for a Python-float operand
        t = a + a if a.nbytes < POOL_MIN_BYTES else xp.add(a, a, out=pooled_out(a))
        t *= g
        return t
    return g * (b * a ** (b - 1))


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
    e = _ops()
    pdf = e.exp(x * x * -0.5) * INV_SQRT_2PI
    return g * gg * pdf * (2 - x * x)


def _d_gelu_tanh(x, g, gg):
    e = _ops()
    x_sq = x * x
    t = e.tanh(SQRT_2_OVER_PI * (x + GELU_KAPPA * (x_sq * x)))
    du = SQRT_2_OVER_PI * (1 + GELU_3KAPPA * x_sq)
    d2u = (6 * GELU_KAPPA * SQRT_2_OVER_PI) * x
    return g * gg * ((1 - t * t) * (du - x * t * du * du + 0.5 * x * d2u))


def _d_silu(x, g, gg):
    s = _ops().sigmoid(x)
    return g * gg * (s * (1 - s) * (2 + x * (1 - 2 * s)))


def _d_softplus(x, g, gg, beta, threshold):
    e = _ops()
    bx = x * beta
    s = e.sigmoid(bx)
    return e.where(bx > threshold, 0.0, g * gg * (beta * s * (1 - s)))


def _d_elu(x, g, gg, alpha):
    e = _ops()
    return e.where(x <= 0, g * gg * alpha * e.exp(e.minimum(x, 0)), 0.0)


def _d_exp(y, g, gg):
    return g * gg


def _d_log(x, g, gg):
    return -(g * gg) / (x * x)


def _d_sqrt(y, g, gg):
    return -(g * gg) / (2 * y * y)


def _d_pow_base(a, g, gg, b):
    if b == 0 or b == 1:
        return None
    return g * gg * (b * (b - 1)) * a ** (b - 2)


def _clamp_flags(lo, hi):
    return (lo is not None, hi is not None)


relu = _linear("relu", _np_relu, _d_zero)
leaky_relu = _linear("leaky_relu", _np_leaky_relu, _d_zero)
sigmoid = _linear("sigmoid", _np_sigmoid, _d_sigmoid)
tanh = _linear("tanh", _np_tanh, _d_tanh)
gelu = _linear("gelu", _np_gelu, _d_gelu)
gelu_tanh = _linear("gelu_tanh", _np_gelu_tanh, _d_gelu_tanh)
silu = _linear("silu", _np_silu, _d_silu)
softplus = _linear("softplus", _np_softplus, _d_softplus)
elu = _linear("elu", _np_elu, _d_elu)
exp = _linear("exp", _np_exp, _d_exp)
log = _linear("log", _np_log, _d_log)
sqrt = _linear("sqrt", _np_sqrt, _d_sqrt)
abs = _linear("abs", _np_abs, _d_zero)
clamp = _linear("clamp", _np_clamp, _d_zero, flags=_clamp_flags)
pow_base = _linear("pow_base", _np_pow_base, _d_pow_base)


# ---------------------------------------------------------------- binary, both grads in one pass


def _np_mul(xp, a, b, g):
    return g * b, g * a


def _np_div(xp, a, b, g):
    return g / b, -g * ((a / b) / b)


def _np_pow(xp, a, b, y, g):
    ga = xp.where(b == 0, 0, g * (b * a ** (b - 1)))
    # log(a) where a == 0 and b >= 0 is masked out; compute it only where it is used
    safe = (a == 0) & (b >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        gb = xp.where(safe, 0, g * (y * xp.log(a)))
    return ga, gb


def mul_raw(a, b, g):
    """(g * b, g * a) in one pass; the caller reduces each to its input's shape."""
    dt = _fused_dtype(a, b, g)
    if dt is not None:
        return _k("mul", dt)(a, b, g)
    return _np_mul(array_module(g), a, b, g)


def div_raw(a, b, g):
    """(g / b, -g (a / b) / b) in one pass."""
    dt = _fused_dtype(a, b, g)
    if dt is not None:
        return _k("div", dt)(a, b, g)
    return _np_div(array_module(g), a, b, g)


def pow_raw(a, b, y, g):
    """(d/da, d/db) of y = a ** b for array a and b, in one pass."""
    dt = _fused_dtype(a, b, y, g)
    if dt is not None:
        return _k("pow", dt)(a, b, y, g)
    return _np_pow(array_module(g), a, b, y, g)


class MulGrad(Node):
    def forward(self, a, b, g):
        self.save_for_backward(a, b, g)
        return mul_raw(a, b, g)

    def backward(self, gga, ggb):
        a, b, g = self.saved_tensors
        need = self.needs_input_grad
        da = ggb * g if need[0] and ggb is not None else None
        db = gga * g if need[1] and gga is not None else None
        dg = None
        if need[2]:
            dg = (gga * b if gga is not None else 0) + (ggb * a if ggb is not None else 0)
        return da, db, dg


class DivGrad(Node):
    def forward(self, a, b, g):
        self.save_for_backward(a, b, g)
        return div_raw(a, b, g)

    def backward(self, gga, ggb):
        a, b, g = self.saved_tensors
        need = self.needs_input_grad
        da = db = dg = None
        if ggb is not None:
            if need[0]:
                da = -(ggb * g) / (b * b)
            if need[1]:
                db = 2 * ggb * g * a / (b * b * b)
            if need[2]:
                dg = -ggb * a / (b * b)
        if gga is not None:
            if need[1]:
                t = -(gga * g) / (b * b)
                db = t if db is None else db + t
            if need[2]:
                dg = gga / b if dg is None else dg + gga / b
        return da, db, dg


def mul(a, b, g):
    if _is_graph(a, b, g):
        return MulGrad.apply(a, b, g)
    return mul_raw(a, b, g)


def div(a, b, g):
    if _is_graph(a, b, g):
        return DivGrad.apply(a, b, g)
    return div_raw(a, b, g)


# ---------------------------------------------------------------- losses (raw arrays)


def mse_raw(x, t, g, norm, need_t=True):
    """(d/dx, d/dt) of mse_loss; norm = 2/N for 'mean', 2 otherwise; g broadcasts.
    With need_t False the second is None (and not computed)."""
    dt = _fused_dtype(x, t, g)
    if dt is not None:
        if need_t:
            return _k("mse", dt)(x, t, g, float(norm))
        return _k("mse_x", dt)(x, t, g, float(norm)), None
    gx = norm * (x - t) * g
    return gx, (-gx if need_t else None)


def bce_logits_raw(x, t, g, weight=None, pos_weight=None, need_t=True):
    """(d/dx, d/dt) of binary_cross_entropy_with_logits; g carries the reduction's 1/N.
    With need_t False the second is None (on the GPU, not computed)."""
    xp = array_module(x)
    w = 1 if weight is None else weight
    pw = 1 if pos_weight is None else pos_weight
    has_pw = pos_weight is not None
    if _fused_dtype(x, t, g) is not None:
        dt = _FLOATS[x.dtype]
        w = xp.asarray(w, dtype=x.dtype) if weight is None else w
        pw = xp.asarray(pw, dtype=x.dtype) if pos_weight is None else pw
        if _fused_dtype(x, w, pw) is not None:
            if need_t:
                return _k("bce_logits", dt, (has_pw,))(x, t, w, pw, g)
            return _k("bce_logits_x", dt, (has_pw,))(x, t, w, pw, g), None
    s = _sigmoid(xp, x)
    if has_pw:
        pt = pw * t
        gx = ((pt + 1 - t) * s - pt) * g * w
        gt = -(pw * _log_sigmoid(xp, x) - _log_sigmoid(xp, -x)) * g * w
    else:
        gx = (s - t) * g * w
        gt = -x * g * w
    return gx, (gt if need_t else None)


def _log_sigmoid(xp, x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def cross_entropy_raw(lp, target, s, weight=None, label_smoothing=0.0, ignore_index=None):
    """d/dlogits of cross_entropy from the saved log-probabilities lp (N, C, ...).

    target: int64 class indices (N, ...); s: per-row factor (N, ...) = incoming gradient x
    reduction factor ('mean': 1 / sum of the kept targets' weights). Rows whose target is
    ignore_index get a zero gradient. See kernels/loss_grad.cuh for the formula.
    """
    xp = array_module(lp)
    C = lp.shape[1]
    if ignore_index is not None:
        keep = target != ignore_index
        target = xp.where(keep, target, 0)
        s = s * keep
    tgt = xp.expand_dims(target, 1)
    eps = float(label_smoothing)
    if weight is None:
        wt = 1.0
        wsum = float(C)
        wc = xp.ones((), lp.dtype)
    else:
        wt = xp.expand_dims(weight[target], 1)
        wsum = weight.sum()
        wc = weight.reshape((1, C) + (1,) * (lp.ndim - 2))
    s = xp.expand_dims(s, 1)
    sA = s * ((1 - eps) * wt + (eps / C) * wsum)
    b = s * ((1 - eps) * wt)
    c = s * (eps / C)
    cls = xp.arange(C, dtype=np.int64).reshape((1, C) + (1,) * (lp.ndim - 2))
    dt = _fused_dtype(lp)
    if dt is not None:
        sA, b, c, wc = (xp.asarray(v, dtype=lp.dtype) for v in (sA, b, c, wc))
        return _k("cross_entropy", dt)(lp, sA, b, c, wc, cls, tgt.astype(np.int64, copy=False))
    r = sA * xp.exp(lp)
    r = xp.where(cls == tgt, r - b, r)
    return (r - c * wc).astype(lp.dtype, copy=False)
