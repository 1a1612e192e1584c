"""Arithmetic: + - * / ** and negation, with broadcasting; dtype casts.

Every binary op's gradient goes through `sum_to`, which sums a gradient over the axes its
input was broadcast along, so each input's gradient has exactly the input's shape.
"""
import math

import numpy as np

from ..autograd.node import Node, _raise_device_mismatch
from ..backend import array_module, is_cuda_array as _is_cuda_array, self_overlapping
from ..autograd import _tape
from ..backend.execute import HOST_ARITH, binary, formula
from ..tensor import _OVERLAPPING_WRITE, _TORCH_TYPE_NAMES, Tensor, _wrap, tensor_method
from ._formula import linear_in_g

_f64 = np.dtype(np.float64)
_f32 = np.dtype(np.float32)


def _promote(out, a, b):
    """NumPy makes int (op) float, and int / int, float64; PyTorch gives the default float
    type, float32, unless an input is float64 already."""
    if out.dtype is not _f64 and out.dtype != _f64:  # identity first: the common case
        return out
    # (not getattr(x, "dtype", None) == _f64: NumPy says dtype('float64') == None is True,
    # which made every Python scalar count as a float64 input)
    if getattr(a, "dtype", _f32) == _f64 or getattr(b, "dtype", _f32) == _f64:
        return out
    return out.astype(_f32)


_NUMBER_TYPES = frozenset((int, float, bool, complex))


def _shape(x):
    if x.__class__ in _NUMBER_TYPES:  # (hasattr on a number raises and catches inside)
        return ()
    return x.shape if hasattr(x, "shape") else ()


def _is_number(x):
    """A Python number (a constant operand), not an array or Tensor."""
    return x.__class__ in _NUMBER_TYPES or not hasattr(x, "shape")


def _binary(ufunc):
    """`ufunc(a, b, promote=False)` for arrays, numbers or Tensors, run by the execution
    layer (a large NumPy result goes into an array from the host pool). With `promote` (an
    op's forward) the result takes PyTorch's dtype (see _promote)."""
    return binary(ufunc, _promote)


_add = _binary(np.add)
_sub = _binary(np.subtract)
_mul = _binary(np.multiply)
_div = _binary(np.true_divide)


def sum_to(g, shape):
    """Sums `g` (array or Tensor) down to `shape`, undoing broadcasting."""
    gshape = g.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if lead or g.shape != shape:
        g = g.reshape(shape)
    return g


def _broadcast_error(op, a, b):
    sa, sb = _shape(a), _shape(b)
    n = max(len(sa), len(sb))
    pa, pb = (1,) * (n - len(sa)) + tuple(sa), (1,) * (n - len(sb)) + tuple(sb)
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return RuntimeError(
                f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                f"non-singleton dimension {i} (in {op}: shapes {tuple(sa)} and {tuple(sb)})"
            )
    return RuntimeError(f"{op}: shapes {tuple(sa)} and {tuple(sb)} cannot be broadcast")


# The tape records and replays + - * / of host arrays itself (autograd/_tape.c, "host
# arithmetic"), the array work done by the execution layer (backend/_host_arith.c): the class
# attribute `_tape_op` names the op, and forward and backward below are what it computes,
# operation for operation. Every other case (CUDA, large or mixed-dtype arrays, views,
# create_graph, anomaly mode, errors) runs them as written.
_tape.set_host_arithmetic(sum_to, HOST_ARITH, _f32, _f64)


class Add(Node):
    _tape_op = 1  # (the tape's host arithmetic: see below)
    def forward(self, a, b):
        self.shapes = (_shape(a), _shape(b))
        try:
            return _add(a, b, True)
        except ValueError:
            raise _broadcast_error("add", a, b) from None

    def backward(self, g):
        sa, sb = self.shapes
        need = self.needs_input_grad
        return (sum_to(g, sa) if need[0] else None, sum_to(g, sb) if need[1] else None)


class Sub(Node):
    _tape_op = 2  # (the tape's host arithmetic: see below)
    def forward(self, a, b):
        self.shapes = (_shape(a), _shape(b))
        if _is_number(a):  # number - tensor: PyTorch's rsub
            self.name = "RsubBackward1"
        try:
            return _sub(a, b, True)
        except ValueError:
            raise _broadcast_error("sub", a, b) from None

    def backward(self, g):
        sa, sb = self.shapes
        need = self.needs_input_grad
        return (sum_to(g, sa) if need[0] else None, sum_to(-g, sb) if need[1] else None)


class Mul(Node):
    _tape_op = 3  # (the tape's host arithmetic: see below)
    def forward(self, a, b):
        self.save_for_backward(a, b)
        try:
            return _mul(a, b, True)
        except ValueError:
            raise _broadcast_error("mul", a, b) from None

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        if need[0] and need[1]:
            ga, gb = mul_backward(a, b, g)  # (CUDA: both gradients in one fused kernel)
            return sum_to(ga, _shape(a)), sum_to(gb, _shape(b))
        return (
            sum_to(_mul(g, b), _shape(a)) if need[0] else None,
            sum_to(_mul(g, a), _shape(b)) if need[1] else None,
        )


class Div(Node):
    _tape_op = 4  # (the tape's host arithmetic: see below)
    def forward(self, a, b):
        self.save_for_backward(a, b)
        if _is_number(a):  # number / tensor: PyTorch records reciprocal(b) * a
            self.name = "MulBackward0"
        try:
            return _div(a, b, True)
        except ValueError:
            raise _broadcast_error("div", a, b) from None

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        if need[0] and need[1]:
            ga, gb = div_backward(a, b, g)  # (CUDA: both gradients in one fused kernel)
            return sum_to(ga, _shape(a)), sum_to(gb, _shape(b))
        ga = gb = None
        if need[0]:
            ga = sum_to(_div(g, b), _shape(a))
        if need[1]:
            gb = sum_to(_div_b_grad(a, b, g), _shape(b))
        return ga, gb


@formula
def mul_backward(xp, a, b, g):
    """(g * b, g * a): both gradients of a * b (before each is summed to its input's shape)."""
    return _mul(g, b), _mul(g, a)


def _div_b_grad(a, b, g):
    # (a / b) / b, as PyTorch: a / (b * b) overflows for large |b| in float32
    return -g * (a / b / b)


@formula
def div_backward(xp, a, b, g):
    """(g / b, -g (a / b) / b): both gradients of a / b."""
    return _div(g, b), _div_b_grad(a, b, g)


@formula
def pow_backward(xp, a, b, y, g):
    """(d/da, d/db) of y = a ** b for array a and b: b a^(b-1) g, 0 where b == 0; and
    y log(a) g, 0 where a == 0 and b >= 0 (log(a) computed only where it is used)."""
    ga = xp.where(b == 0, 0, g * (b * a ** (b - 1)))
    safe = (a == 0) & (b >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        gb = xp.where(safe, 0, g * (y * xp.log(a)))
    return ga, gb


def _pow_base_grad(xp, a, g, b):
    """d/da of a ** b for a number b: g b a^(b-1)."""
    if b == 0:
        return xp.zeros_like(g * a)
    if b == 2 and g.dtype == a.dtype and g.shape == a.shape and a.ndim:
        # g * (2 * a) (a ** 1 is a, exactly), in one new array; a + a is 2 * a exactly,
        # without NumPy's slower path for a Python-float operand
        t = _add(a, a)
        t *= g
        return t
    return g * (b * a ** (b - 1))


def _pow_base_second(a, g, gg, b):
    if b == 0 or b == 1:
        return None
    return g * gg * (b * (b - 1)) * a ** (b - 2)


pow_base_backward = linear_in_g("pow_base", _pow_base_grad, _pow_base_second)


class Pow(Node):
    """``a ** b``. d/da = b a^(b-1), 0 where b == 0 in a first-order pass (as PyTorch);
    d/db = a^b log(a), taken as 0 where a == 0 and b >= 0 (as PyTorch; where a == 0 and
    b < 0 it is -inf, and nan where a < 0). A first-order backward on CUDA runs one fused
    kernel (both gradients in one pass when the exponent is a tensor); on the CPU the
    kernel's NumPy twin."""
    _tape_op = 8  # (the tape's host arithmetic, for a ** 2 only: see above)

    def forward(self, a, b):
        if not _is_number(b):  # PyTorch's overloads: Tensor ** Tensor, number ** Tensor
            self.name = "PowBackward2" if _is_number(a) else "PowBackward1"
        if type(b) is float and b == 2.0 or type(b) is int and b == 2:
            self.save_for_backward(a, b)
            return _mul(a, a)
        try:
            y = _promote(a ** b, a, b)
        except ValueError:
            raise _broadcast_error("pow", a, b) from None
        if not _is_number(b):  # d/db needs the output, y log(a) (PyTorch saves it too)
            self.save_for_backward(a, b, y)
        else:
            self.save_for_backward(a, b)
        return y

    def backward(self, g):
        saved = self.saved_tensors
        a, b = saved[0], saved[1]
        need = self.needs_input_grad
        raw = not isinstance(g, Tensor)
        if _is_number(b):  # a number exponent: only the base has a gradient
            if not need[0]:
                return None, None
            if raw:
                return sum_to(pow_base_backward(a, g, b), _shape(a)), None
            ga = g * a * 2.0 if b == 2 else (g * b * a ** (b - 1) if b != 0 else g * 0)
            return sum_to(ga, _shape(a)), None
        if raw and hasattr(a, "shape"):
            ga, gb = pow_backward(a, b, saved[2], g)
            return (sum_to(ga, _shape(a)) if need[0] else None,
                    sum_to(gb, _shape(b)) if need[1] else None)
        ga = gb = None
        if need[0]:
            # (not masked to 0 where b == 0 here: a mask would drop the mixed term of
            # the second derivative, which create_graph needs)
            ga = sum_to(g * b * a ** (b - 1), _shape(a))
        if need[1]:
            if hasattr(a, "shape"):
                log_a = a.where(((a == 0) * (b >= 0)).logical_not(), 1.0).log()
            else:  # a Python number raised to a tensor power
                log_a = 0.0 if a == 0 else math.log(a) if a > 0 else math.nan
                if a == 0:  # 0 ** b: d/db is 0 where b >= 0 (masked), -inf where b < 0
                    raw_b = b._data if isinstance(b, Tensor) else b
                    log_a = array_module(raw_b).where(raw_b >= 0, 0.0, -math.inf).astype(
                        raw_b.dtype, copy=False)
            gb = sum_to(g * saved[2] * log_a, _shape(b))
        return ga, gb


class Neg(Node):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Cast(Node):
    """A dtype conversion; the gradient is cast back to the input's dtype."""

    name = "ToCopyBackward0"

    def forward(self, a, dtype):
        self.in_dtype = a.dtype
        if a.dtype.kind == "f" and np.dtype(dtype).kind == "f":
            with np.errstate(over="ignore"):  # (beyond float16's range is inf, silently, as PyTorch)
                return a.astype(dtype)
        return a.astype(dtype)

    def backward(self, g):
        return cast(g, self.in_dtype)


# ---------------------------------------------------------------- plain functions


# A NumPy float64 scalar (np.sqrt(2), np.random.randn()) counts as a Python number, as in
# PyTorch: float32 * np.float64(2) stays float32. (Arrays, 0-d included, keep their dtype.)
_np_f64 = np.float64


def add(input, other, alpha=1):
    """input + alpha * other, broadcast.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.
        alpha: the multiplier of other.

    Returns:
        Tensor.
    """
    if type(other) is _np_f64:
        other = float(other)
    if alpha != 1:  # (a Python-number `other` is scaled directly: Mul needs an array or Tensor)
        other = mul(other, alpha) if hasattr(other, "shape") else other * alpha
    return Add.apply(input, other)


def sub(input, other, alpha=1):
    """input - alpha * other, broadcast.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.
        alpha: the multiplier of other.

    Returns:
        Tensor.
    """
    if type(other) is _np_f64:
        other = float(other)
    if alpha != 1:  # (a Python-number `other` is scaled directly: Mul needs an array or Tensor)
        other = mul(other, alpha) if hasattr(other, "shape") else other * alpha
    return Sub.apply(input, other)


def mul(input, other):
    """input * other, broadcast.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor.
    """
    if type(other) is _np_f64:
        other = float(other)
    return Mul.apply(input, other)


def div(input, other, rounding_mode=None):
    """input / other, broadcast (true division, or rounded).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.
        rounding_mode: None (true division), ``"trunc"`` or ``"floor"``.

    Returns:
        Tensor.
    """
    if type(other) is _np_f64:
        other = float(other)
    if rounding_mode is None:
        return Div.apply(input, other)
    a, b = (t._data if isinstance(t, Tensor) else t for t in (input, other))
    if _is_int(a) and _is_int(b):  # exact integer quotient, integer result (as PyTorch)
        xp = (input if isinstance(input, Tensor) else other)._xp()
        if rounding_mode == "floor":
            return _wrap(xp.asarray(xp.floor_divide(a, b)))
        return _wrap(xp.asarray(xp.sign(a) * xp.sign(b) * (xp.abs(a) // xp.abs(b))))
    q = Div.apply(input, other).detach()
    xp = q._xp()
    return _wrap(xp.floor(q._data) if rounding_mode == "floor" else xp.trunc(q._data))


def _is_int(x):
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    return kind in ("i", "u", "b") if kind else isinstance(x, (int, np.integer))


def pow(input, exponent):
    """input ** exponent, broadcast.

    Args:
        input: the input tensor.
        exponent: a tensor or a number.

    Returns:
        Tensor.
    """
    if type(exponent) is _np_f64:
        exponent = float(exponent)
    return Pow.apply(input, exponent)


def neg(input):
    """-input.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Neg.apply(input)


def cast(input, dtype):
    """Converts to a NumPy dtype; differentiable between floating types."""
    if not isinstance(input, Tensor):
        return input.astype(dtype)
    return Cast.apply(input, dtype=dtype)


def _rsub(self, other):
    return Sub.apply(float(other) if type(other) is _np_f64 else other, self)


def _rdiv(self, other):
    return Div.apply(float(other) if type(other) is _np_f64 else other, self)


def _rpow(self, other):
    return Pow.apply(float(other) if type(other) is _np_f64 else other, self)


Tensor.__add__ = Tensor.__radd__ = add
Tensor.__sub__ = sub
Tensor.__rsub__ = _rsub
Tensor.__mul__ = Tensor.__rmul__ = mul
Tensor.__truediv__ = div
Tensor.__rtruediv__ = _rdiv
Tensor.__pow__ = pow
Tensor.__rpow__ = _rpow
Tensor.__neg__ = neg
Tensor.__pos__ = lambda self: self
Tensor.add = add
Tensor.sub = sub
Tensor.subtract = sub
Tensor.mul = mul
Tensor.multiply = mul
Tensor.div = div
Tensor.divide = div
Tensor.true_divide = div
Tensor.pow = pow
Tensor.neg = neg
Tensor.negative = neg

subtract = sub
multiply = mul
divide = true_divide = div
negative = neg



# ---------------------------------------------------------------- in-place forms of any op


def inplace(self, compute, *others):
    """``self = compute(self)`` in place, as the in-place forms of ops do (``addcmul_``,
    ``lerp_``, ``clamp_min_``, ``log2_``, ...): recorded on the tape for a non-leaf tensor in
    grad mode (see Tensor._record_inplace), else computed out of place and written into this
    tensor's own memory, so its views see the change. `others` are the op's other inputs (a
    leaf or view that requires grad among them makes the write recorded, or refused)."""
    from ..autograd.grad_mode import no_grad

    other = next((o for o in others if isinstance(o, Tensor) and o._requires_grad), None)
    if self._check_inplace(other):
        return self._record_inplace(compute)
    with no_grad():
        result = compute(self)
    r, d = result._data, self._data
    if r.shape != d.shape:
        raise RuntimeError(
            f"output with shape {list(d.shape)} doesn't match the broadcast shape {list(r.shape)}")
    if r.dtype != d.dtype and d.dtype.kind not in "fc" and r.dtype.kind in "fc":
        from ..tensor import _TORCH_TYPE_NAMES as names

        raise RuntimeError(f"result type {names.get(r.dtype.name, r.dtype.name)} can't be cast "
                           f"to the desired output type {names.get(d.dtype.name, d.dtype.name)}")
    try:
        d[...] = r
    except ValueError:  # a broadcast (read-only) view
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        ) from None
    self._version[0] += 1
    return self


# ---------------------------------------------------------------- addcmul, addcdiv, lerp


def _broadcast_all(op, *xs):
    """PyTorch's broadcasting error for the first pair of operands that does not broadcast."""
    shape = ()
    for k, x in enumerate(xs):
        try:
            shape = np.broadcast_shapes(shape, _shape(x))
        except ValueError:
            raise _broadcast_error(op, np.empty(shape), x) from None


def _scalar(v):
    return float(v) if type(v) is _np_f64 else v


class Addcmul(Node):
    """input + value * tensor1 * tensor2."""

    def forward(self, x, t1, t2, value):
        _broadcast_all("addcmul", x, t1, t2)
        self.save_for_backward(t1, t2)
        self.value = value
        self.shapes = (_shape(x), _shape(t1), _shape(t2))
        p = _mul(t1, t2, True)
        return _add(x, p if value == 1 else p * value, True)

    def backward(self, g):
        t1, t2 = self.saved_tensors
        need, v = self.needs_input_grad, self.value
        gv = g if v == 1 else g * v
        return (sum_to(g, self.shapes[0]) if need[0] else None,
                sum_to(gv * t2, self.shapes[1]) if need[1] else None,
                sum_to(gv * t1, self.shapes[2]) if need[2] else None)


class Addcdiv(Node):
    """input + value * tensor1 / tensor2."""

    def forward(self, x, t1, t2, value):
        _broadcast_all("addcdiv", x, t1, t2)
        self.save_for_backward(t1, t2)
        self.value = value
        self.shapes = (_shape(x), _shape(t1), _shape(t2))
        q = _div(t1, t2, True)
        return _add(x, q if value == 1 else q * value, True)

    def backward(self, g):
        t1, t2 = self.saved_tensors
        need, v = self.needs_input_grad, self.value
        gv = g if v == 1 else g * v
        return (sum_to(g, self.shapes[0]) if need[0] else None,
                sum_to(gv / t2, self.shapes[1]) if need[1] else None,
                sum_to(-gv * t1 / (t2 * t2), self.shapes[2]) if need[2] else None)


class Lerp(Node):
    """start + weight (end - start), in PyTorch's two forms (from `end` when |weight| >= 0.5,
    so that weight 1 gives `end` exactly). A number weight: LerpBackward0; a tensor: 1."""

    def forward(self, start, end, weight):
        xp = array_module(start)
        _broadcast_all("lerp", start, end, weight)
        tensor_w = hasattr(weight, "shape")
        self.name = "LerpBackward1" if tensor_w else "LerpBackward0"
        self.shapes = (start.shape, _shape(end), _shape(weight))
        if tensor_w:
            self.save_for_backward(start, end, weight)
        self.weight = None if tensor_w else weight
        d = end - start
        if tensor_w:
            return xp.where(xp.abs(weight) < 0.5, start + weight * d, end - d * (1 - weight))
        return start + weight * d if abs(weight) < 0.5 else end - d * (1 - weight)

    def backward(self, g):
        need = self.needs_input_grad
        if self.weight is not None:
            w = self.weight
            return (sum_to(g * (1 - w), self.shapes[0]) if need[0] else None,
                    sum_to(g * w, self.shapes[1]) if need[1] else None, None)
        start, end, w = self.saved_tensors
        return (sum_to(g * (1 - w), self.shapes[0]) if need[0] else None,
                sum_to(g * w, self.shapes[1]) if need[1] else None,
                sum_to(g * (end - start), self.shapes[2]) if need[2] else None)


def addcmul(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 * tensor2.

    Args:
        input: the input tensor.
        tensor1: the first factor.
        tensor2: the second factor.
        value: the multiplier.

    Returns:
        Tensor.
    """
    return Addcmul.apply(input, tensor1, tensor2, value=_scalar(value))


def addcdiv(input, tensor1, tensor2, *, value=1):
    """input + value * tensor1 / tensor2.

    Args:
        input: the input tensor.
        tensor1: the numerator.
        tensor2: the denominator.
        value: the multiplier.

    Returns:
        Tensor.
    """
    if all(getattr(getattr(t, "_data", None), "dtype", _f32).kind in "biu" for t in (tensor1, tensor2)):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic "
            "addcdiv behavior can be implemented as (input + value * autograd_gpu.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    return Addcdiv.apply(input, tensor1, tensor2, value=_scalar(value))


def lerp(input, end, weight):
    """input + weight * (end - input), weight 1 giving end exactly.

    Args:
        input: the input tensor.
        end: the end points.
        weight: a number or a tensor.

    Returns:
        Tensor.
    """
    from ..tensor import _TORCH_TYPE_NAMES as names

    for what, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t._data.dtype != input._data.dtype:
            raise RuntimeError(
                f"expected dtype {names.get(input._data.dtype.name, '').lower()} for `{what}` "
                f"but got dtype {names.get(t._data.dtype.name, '').lower()}")
    return Lerp.apply(input, end, _scalar(weight))


Tensor.addcmul = addcmul
Tensor.addcdiv = addcdiv
Tensor.lerp = lerp
Tensor.addcmul_ = lambda self, tensor1, tensor2, *, value=1: inplace(
    self, lambda t: addcmul(t, tensor1, tensor2, value=value), tensor1, tensor2)
Tensor.addcdiv_ = lambda self, tensor1, tensor2, *, value=1: inplace(
    self, lambda t: addcdiv(t, tensor1, tensor2, value=value), tensor1, tensor2)
Tensor.lerp_ = lambda self, end, weight: inplace(self, lambda t: lerp(t, end, weight), end, weight)
Tensor.addcmul_.__doc__ = """self += value * tensor1 * tensor2, in place (:meth:`Tensor.addcmul`).

    Writes into this tensor's own memory (its views see the change); the other operands
    broadcast to its shape. In grad mode a non-leaf tensor records the write (see the
    in-place rules in :doc:`/guide/autograd`).

    Args:
        tensor1: the first factor.
        tensor2: the second factor.
        value: the multiplier.

    Returns:
        Tensor: this tensor.
    """
Tensor.addcdiv_.__doc__ = """self += value * tensor1 / tensor2, in place (:meth:`Tensor.addcdiv`).

    Writes into this tensor's own memory (its views see the change); the other operands
    broadcast to its shape. In grad mode a non-leaf tensor records the write (see the
    in-place rules in :doc:`/guide/autograd`).

    Args:
        tensor1: the numerator.
        tensor2: the denominator.
        value: the multiplier.

    Returns:
        Tensor: this tensor.
    """
Tensor.lerp_.__doc__ = """self += weight * (end - self), in place (:meth:`Tensor.lerp`).

    Writes into this tensor's own memory (its views see the change); the other operands
    broadcast to its shape. In grad mode a non-leaf tensor records the write (see the
    in-place rules in :doc:`/guide/autograd`).

    Args:
        end: the end points (a tensor of self's dtype).
        weight: a number or a tensor of self's dtype.

    Returns:
        Tensor: this tensor.
    """


# ---------------------------------------------------------------- in-place arithmetic on Tensor


def _tensor_record_inplace(self, compute):
    """An in-place op in grad mode. It is computed out of place from a copy of the old
    value (the op's backward may need it), written into this tensor's own array (so
    views see it), and this tensor takes over the op's place on the tape."""
    old = _wrap(self._data.copy(), self._grad_fn, self._requires_grad)
    old._output_nr = self._output_nr
    result = compute(old)
    r = result._data
    if r.shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
            f"{list(r.shape)}"
        )
    if r.dtype != self._data.dtype:
        if self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"result type {_TORCH_TYPE_NAMES.get(r.dtype.name, r.dtype.name)} can't be "
                f"cast to the desired output type "
                f"{_TORCH_TYPE_NAMES.get(self._data.dtype.name, self._data.dtype.name)}"
            )
        result = cast(result, self._data.dtype)
        r = result._data
    self._data[...] = r
    if self._retains_grad:  # the retained .grad follows the tensor to its new node
        hook = self.__dict__["_retain_hook"]
        self._grad_fn._pre_hooks[self._output_nr].remove(hook)
        result._grad_fn.register_prehook(result._output_nr, hook)
    self._grad_fn = result._grad_fn
    self._output_nr = result._output_nr
    self._requires_grad = result._requires_grad
    self._version[0] += 1
    return self


def _tensor_inplace(self, op, other, ufunc):
    if self._check_inplace(other):
        return self._record_inplace(lambda old: op(old, other))
    b = other._data if isinstance(other, Tensor) else other
    if isinstance(other, Tensor) and type(b) is not type(self._data):
        _raise_device_mismatch(Node, (self, other))
    d = self._data
    if _is_cuda_array(d):  # the CuPy ufunc of the same name
        ufunc = getattr(self._xp(), ufunc.__name__)
    try:
        ufunc(d, b, out=d)
    except (ValueError, TypeError):
        raise self._inplace_error(b, ufunc.__name__) from None
    self._version[0] += 1
    return self


def _tensor_inplace_error(self, b, op):
    """PyTorch's error for an in-place op that NumPy refused (shape, dtype, overlap)."""
    d = self._data
    b_shape = getattr(b, "shape", ())
    try:
        shape = np.broadcast_shapes(d.shape, b_shape)
    except ValueError:
        return _broadcast_error(op, d, b)
    if shape != d.shape:
        return RuntimeError(
            f"output with shape {list(d.shape)} doesn't match the broadcast shape {list(shape)}"
        )
    if self_overlapping(d):
        return RuntimeError(_OVERLAPPING_WRITE)
    result = _promote(np.empty((), np.result_type(d.dtype, b)), d, b).dtype
    return RuntimeError(
        f"result type {_TORCH_TYPE_NAMES.get(result.name, result.name)} can't be cast to the "
        f"desired output type {_TORCH_TYPE_NAMES.get(d.dtype.name, d.dtype.name)}"
    )


def _tensor_add_(self, other, alpha=1):
    """In place: self += alpha * other.

    Args:
        other: a tensor or a number.
        alpha: the multiplier of other.

    Returns:
        Tensor: self
    """
    if alpha != 1:
        other = other * alpha
    return self._inplace(add, other, np.add)


def _tensor_sub_(self, other, alpha=1):
    """In place: self -= alpha * other.

    Args:
        other: a tensor or a number.
        alpha: the multiplier of other.

    Returns:
        Tensor: self
    """
    if alpha != 1:
        other = other * alpha
    return self._inplace(sub, other, np.subtract)


def _tensor_mul_(self, other):
    """In place: ``self *= other``.

    Args:
        other: a tensor or a number.

    Returns:
        Tensor: self
    """
    return self._inplace(mul, other, np.multiply)


def _tensor_div_(self, other):
    """In place: self /= other.

    Args:
        other: a tensor or a number.

    Returns:
        Tensor: self
    """
    return self._inplace(div, other, np.true_divide)


def _tensor_pow_(self, other):
    """In place: ``self **= other``.

    Args:
        other: a tensor or a number.

    Returns:
        Tensor: self
    """
    return self._inplace(pow, other, np.power)


tensor_method("_record_inplace", _tensor_record_inplace)
tensor_method("_inplace", _tensor_inplace)
tensor_method("_inplace_error", _tensor_inplace_error)
tensor_method("add_", _tensor_add_)
tensor_method("sub_", _tensor_sub_)
tensor_method("mul_", _tensor_mul_)
tensor_method("div_", _tensor_div_)
tensor_method("pow_", _tensor_pow_)
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_
