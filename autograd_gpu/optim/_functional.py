"""Per-parameter update math, in place on raw arrays: the one formula of each optimizer.

Every function takes the parameter, its gradient and its state buffers as arrays (unused
buffers are None) and the hyper-parameters as Python numbers, and updates `param` and the
buffers in place. The execution layer (backend.execute.update) runs it: the fused kernel of
`autograd_gpu.fused` for CuPy arrays of one float dtype (one pass over the data), else the
array code below (``_*_step``), with NumPy or CuPy ufuncs; `np` below is the host's module
(the one name the tests swap to give these formulas torch's sqrt). The code below performs the very operations of
kernels/optim.cuh in the same order, so the CPU and the GPU agree (bit for bit where the
host build of the kernel is compared with it, in tests/test_kernels.py).

The operations and their order are those of PyTorch's CPU implementation (torch.optim's
single-tensor path, `_single_tensor_*`), rounded as its ATen kernels round them:

* ``add(x, alpha=a)``, ``addcmul`` and ``lerp`` are vectorized with fused multiply-adds on
  AVX2/AVX-512 machines (``self + (value * t1) * t2`` and ``start + w (end - start)`` with the
  last product unrounded; a lerp weight >= 0.5 gives ``end + (w - 1)(end - start)``). For
  float32 (and float16) arrays `_fma_` computes them correctly rounded, as a true fused
  multiply-add: the product of two float32 numbers is exact in float64, the float64 sum and
  its exact error (TwoSum) give the sum rounded to odd, and that rounds once more to the
  correctly rounded float32 (rounding the float64 sum itself would round twice, wrong where
  it lands exactly on a float32 rounding midpoint). float64 arrays have no wider type to do
  this in: there the product and the sum round separately (within an ulp of PyTorch's).
* ``addcdiv(self, t1, t2, value=v)`` is ``self + (v * t1) / t2``, three roundings.
* scalars are rounded to the array's type before use, as ATen does with a Python number.

torch.sqrt on the CPU goes through MKL's vector math where PyTorch is built with it (the
x86-64 wheels), which is not correctly rounded on every CPU (up to 0.75 ulp measured on an
AMD EPYC); NumPy's sqrt is. That is the one operation of these formulas where a float32 step
can differ from PyTorch's (tests/test_optim.py names it and bounds it).

Each update allocates at most two temporaries of the parameter's size (one more when
`maximize` meets weight decay), plus, for float32, three float64 scratch arrays per thread
(`_fma_`'s) that are kept between calls (up to `_SCRATCH_KEEP_BYTES` each); those of a large
parameter come from the freed blocks of the host pool (backend/host_pool.py), so they cost no
page faults.

A large NumPy parameter is updated block by block (backend.execute.update), the blocks spread across the
host threads: the formula's passes then run over one block while it sits in cache, and
main memory sees each array about once. Every operation is elementwise, so the result is the
same bit for bit.
"""
import threading

import numpy as np
import numpy as _numpy  # (the real module, whatever `np` is set to)

from ..backend import array_module
from ..backend.execute import update
from ..fused._optim import adam_scalars

_float64 = np.dtype(np.float64)
_SCRATCH_KEEP_BYTES = 1 << 23  # a float64 scratch up to this size is kept per thread
_SCRATCH_KEPT = 3  # float64 scratch arrays kept per thread (`_fma_`'s)
_scratch = threading.local()


def _xp(a):
    """The array module the update math of array `a` runs with: this module's `np` for host
    arrays (the one name the tests swap to give these formulas torch's sqrt)."""
    xp = array_module(a)
    return np if xp is _numpy else xp


def _compute_type(a):
    """The type PyTorch's CPU kernels (and kernels/optim.cuh) compute `a`'s dtype in."""
    return np.float64 if a.dtype == _float64 else np.float32


def _rounded(a, c):
    """Python number `c` rounded to `a`'s compute type, as ATen rounds a scalar argument."""
    return float(_compute_type(a)(c))


def _wide(xp, like, k=0):
    """A float64 scratch array shaped like `like` (for NumPy, this thread's `k`-th kept one,
    k < _SCRATCH_KEPT)."""
    n = like.size
    if xp is not np or n * 8 > _SCRATCH_KEEP_BYTES:
        return xp.empty(like.shape, _float64)
    kept = getattr(_scratch, "kept", None)
    if kept is None:
        kept = _scratch.kept = [None] * _SCRATCH_KEPT
    buf = kept[k]
    if buf is None or buf.size < n:
        buf = kept[k] = np.empty(n, _float64)
    return buf[:n].reshape(like.shape)


def _fma_(xp, out, a, b, c, sub=False, tmp=None):
    """out = c + a * b (c - a * b when `sub`), with PyTorch's rounding: `a` an array, `b` an
    array or a Python number (rounded to the arrays' type first), `c` an array; `out` may be
    `c` or `a`. float32/float16: rounded once, as a fused multiply-add (see the module
    docstring); float64: product and sum rounded separately (`tmp`, an array like `c` other
    than `out`, is used when `out` is `c`)."""
    scalar = not hasattr(b, "dtype")
    if scalar:
        b = _rounded(c, b)
        if b == 1.0 or b == -1.0:  # (no product to round)
            (xp.add if (b == 1.0) != sub else xp.subtract)(c, a, out=out)
            return
    if c.dtype == _float64:
        if out is c:
            t = xp.multiply(a, b, out=tmp)
        else:
            t = xp.multiply(a, b, out=out)
        if sub:
            xp.subtract(c, t, out=out)
        else:
            xp.add(c, t, out=out)
        return
    if sub and scalar:
        b, sub = -b, False
    # In float64 the product is exact (two float32 factors) and c + p rounds once; rounding
    # that sum again to c's type is wrong only where it lands exactly on a rounding midpoint
    # of the type (and the exact sum is not there): found by its bits, rare, and redone
    # correctly rounded (_rounded_to_odd). Below the type's normal range the midpoints sit
    # elsewhere: those sums are redone too.
    p, s, w = _wide(xp, c, 0), _wide(xp, c, 1), _wide(xp, c, 2)
    xp.multiply(a, b, out=p, dtype=_float64)
    if sub:
        xp.negative(p, out=p)
    xp.add(c, p, out=s, dtype=_float64)
    info = _numpy.finfo(c.dtype)
    below = 52 - info.nmant  # float64 mantissa bits below the type's last one
    masks = p.reshape(-1).view(xp.bool_)  # (p's bytes are free now)
    on_midpoint = masks[:c.size].reshape(c.shape)
    subnormal = masks[c.size:2 * c.size].reshape(c.shape)
    low = w.view(xp.int64)
    xp.bitwise_and(s.view(xp.int64), (1 << below) - 1, out=low)
    xp.equal(low, 1 << (below - 1), out=on_midpoint)  # those bits 1, then zeros
    xp.less(xp.abs(s, out=w), float(info.tiny), out=subnormal)
    xp.logical_or(on_midpoint, subnormal, out=on_midpoint)
    at = xp.nonzero(xp.atleast_1d(on_midpoint))  # (a 0-d parameter as one element)
    if at[0].size:
        b_at = b if scalar else xp.atleast_1d(b)[at]
        xp.atleast_1d(s)[at] = _rounded_to_odd(xp, xp.atleast_1d(a)[at], b_at,
                                               xp.atleast_1d(c)[at], sub)
    xp.copyto(out, s, casting="same_kind")  # the one rounding to c's type


def _rounded_to_odd(xp, a, b, c, sub):
    """c + a * b (c - a * b when `sub`) in float64 rounded to odd (kernels/optim.cuh's fmadd
    says why that rounds once more to the correctly rounded float32): the sum s, its exact
    error e (TwoSum), then, where e != 0, s's bits less one where e points from s towards 0,
    and the last bit set. For the few sums `_fma_` finds on a midpoint (a, c and an array b
    of them, 1-D)."""
    p = xp.multiply(a, b, dtype=_float64)
    if sub:
        p = -p
    s = c + p
    with _numpy.errstate(invalid="ignore"):  # (an infinite operand: NaN error terms)
        bb = s - p
        e = (p - (s - bb)) + (c - bb)
        # e * s: e's sign against s's, and 0 only where e is (a nonzero e is at least 2^-298
        # and its s at least 2^-245: nothing underflows)
        t = e * s
    bits = s.view(xp.int64)
    bits -= t < 0
    bits |= xp.abs(t) > 0  # (NaN for an infinite or NaN sum, which stays as it is)
    return s


def _effective_grad(xp, param, grad, weight_decay, maximize):
    """-grad if maximizing, then + weight_decay * param (``grad.add(param, alpha=wd)``, a
    fused multiply-add); a new array only when needed."""
    if maximize:
        grad = xp.negative(grad)
        if weight_decay:
            _fma_(xp, grad, param, weight_decay, grad)
        return grad
    if weight_decay:
        t = xp.empty_like(param)
        _fma_(xp, t, param, weight_decay, grad)
        return t
    return grad


def _decay_add_square_(xp, v, g, decay, tmp=None):
    """v = decay * v + (1 - decay) * g * g in place, as ``v.mul_(decay).addcmul_(g, g,
    value=1 - decay)`` rounds it (``v * decay + ((1 - decay) * g) * g``, the last product
    unrounded); returns the scratch array it used (`tmp`, or a new one)."""
    v *= decay
    tmp = xp.multiply(g, 1 - decay, out=tmp)
    _fma_(xp, v, tmp, g, v, tmp=tmp)
    return tmp


def _lerp_(xp, start, end, weight, tmp=None):
    """start = lerp(start, end, weight) in place, as torch.lerp_ with a number weight rounds
    it: start + w (end - start) for |w| < 0.5, else end + (w - 1)(end - start), each a fused
    multiply-add, w rounded to the array's type and w - 1 computed in it. Returns the
    scratch array it used."""
    tmp = xp.subtract(end, start, out=tmp)
    ct = _compute_type(start)
    w = ct(weight)
    if abs(w) < 0.5:
        _fma_(xp, start, tmp, float(w), start, tmp=tmp)
    else:
        _fma_(xp, start, tmp, float(w - ct(1)), end)
    return tmp


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, nesterov,
               weight_decay, maximize, first_step):
    """SGD with momentum (PyTorch's convention: the buffer holds velocity without lr).

        g = (maximize ? -grad : grad) + weight_decay * param        (fma)
        buf = g                                 on the first step
        buf = momentum * buf + (1 - dampening) * g      afterwards  (fma)
        g = g + momentum * buf   (nesterov)   or   g = buf          (fma)
        param = param + (-lr) * g                                   (fma)
    """
    if momentum != 0 and momentum_buffer is None:
        raise ValueError("sgd_update: momentum != 0 needs a momentum_buffer array")
    update("sgd", _sgd_step, param, grad, (momentum_buffer,), dict(
        lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
        weight_decay=weight_decay, maximize=maximize, first_step=first_step), np)


def _sgd_step(xp, param, grad, momentum_buffer, *, lr, momentum, dampening, nesterov,
               weight_decay, maximize, first_step):
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    if momentum:
        buf = momentum_buffer
        if first_step:
            xp.copyto(buf, g)
        else:
            buf *= momentum
            _fma_(xp, buf, g, 1 - dampening, buf)
        if nesterov:
            t = xp.empty_like(buf)
            _fma_(xp, t, buf, momentum, g)
            g = t
        else:
            g = buf
    _fma_(xp, param, g, -lr, param)


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """Adam (and AdamW when `decoupled_weight_decay`), PyTorch's formula and order; `step`
    counts from 1 and includes this step:

        g = maximize ? -grad : grad
        param *= 1 - lr * weight_decay            (AdamW)  or  g += weight_decay * param (fma)
        m = lerp(m, g, 1 - beta1)                                                       (fma)
        v = beta2 * v + ((1 - beta2) * g) * g                                           (fma)
        vmax = max(vmax, v)                        (amsgrad; then v := vmax below)
        denom = sqrt(v) / sqrt(1 - beta2^step) + eps
        param = param + (-lr / (1 - beta1^step)) * m / denom
    """
    if amsgrad and max_exp_avg_sq is None:
        raise ValueError("adam_update: amsgrad=True needs a max_exp_avg_sq array")
    update("adam", _adam_step, param, grad, (exp_avg, exp_avg_sq, max_exp_avg_sq), dict(
        step=step, lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay,
        amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay), np)


def _adam_step(xp, param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
        g = xp.negative(grad) if maximize else grad
    else:
        g = _effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = _lerp_(xp, exp_avg, g, 1 - beta1)
    _decay_add_square_(xp, exp_avg_sq, g, beta2, tmp)
    v = exp_avg_sq
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    bc2_sqrt, neg_step_size = adam_scalars(lr, beta1, beta2, step)
    xp.sqrt(v, out=tmp)
    tmp /= bc2_sqrt
    tmp += eps  # denom
    num = xp.multiply(exp_avg, neg_step_size)
    xp.divide(num, tmp, out=tmp)
    param += tmp


def rmsprop_update(param, grad, square_avg, momentum_buffer, grad_avg, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    """RMSprop, PyTorch's formula and order (eps is added OUTSIDE the square root, as in
    PyTorch and unlike TensorFlow/Keras, which add it inside):

        g = (maximize ? -grad : grad) + weight_decay * param                  (fma)
        v = alpha * v + ((1 - alpha) * g) * g                                 (fma)
        gbar = lerp(gbar, g, 1 - alpha)                       (centered)      (fma)
        avg = sqrt(v - gbar * gbar) + eps   (centered, fma)   or   sqrt(v) + eps
        buf = momentum * buf + g / avg;  param = param + (-lr) * buf    (momentum > 0; fma)
        param = param + ((-lr) * g) / avg                                (otherwise)
    """
    if momentum > 0 and momentum_buffer is None:
        raise ValueError("rmsprop_update: momentum > 0 needs a momentum_buffer array")
    if centered and grad_avg is None:
        raise ValueError("rmsprop_update: centered=True needs a grad_avg array")
    update("rmsprop", _rmsprop_step, param, grad, (square_avg, momentum_buffer, grad_avg), dict(
        lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
        centered=centered, maximize=maximize), np)


def _rmsprop_step(xp, param, grad, square_avg, momentum_buffer, grad_avg, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = _decay_add_square_(xp, square_avg, g, alpha)
    if centered:
        _lerp_(xp, grad_avg, g, 1 - alpha, tmp)
        _fma_(xp, tmp, grad_avg, grad_avg, square_avg, sub=True)  # (addcmul, value=-1)
        xp.sqrt(tmp, out=tmp)
    else:
        xp.sqrt(square_avg, out=tmp)
    tmp += eps  # avg
    if momentum > 0:
        momentum_buffer *= momentum
        xp.divide(g, tmp, out=tmp)
        momentum_buffer += tmp
        _fma_(xp, param, momentum_buffer, -lr, param, tmp=tmp)
    else:
        num = xp.multiply(g, -lr)
        xp.divide(num, tmp, out=tmp)
        param += tmp


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """Adagrad, PyTorch's formula and order; `step` counts from 1 and includes this step:

        g = (maximize ? -grad : grad) + weight_decay * param      (fma)
        clr = lr / (1 + (step - 1) * lr_decay)
        sum = sum + g * g                                         (fma)
        param = param + ((-clr) * g) / (sqrt(sum) + eps)
    """
    update("adagrad", _adagrad_step, param, grad, (state_sum,), dict(
        step=step, lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
        maximize=maximize), np)


def _adagrad_step(xp, param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = xp.empty_like(g)
    _fma_(xp, state_sum, g, g, state_sum, tmp=tmp)
    xp.sqrt(state_sum, out=tmp)
    tmp += eps  # std
    num = xp.multiply(g, -(lr / (1 + (step - 1) * lr_decay)))
    xp.divide(num, tmp, out=tmp)
    param += tmp


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                    maximize):
    """Adadelta, PyTorch's formula and order:

        g = (maximize ? -grad : grad) + weight_decay * param      (fma)
        v = rho * v + ((1 - rho) * g) * g                         (fma)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + ((1 - rho) * delta) * delta                 (fma)
        param = param + (-lr) * delta                             (fma)
    """
    update("adadelta", _adadelta_step, param, grad, (square_avg, acc_delta), dict(
        lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize), np)


def _adadelta_step(xp, param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                    maximize):
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = _decay_add_square_(xp, square_avg, g, rho)
    xp.add(square_avg, eps, out=tmp)
    xp.sqrt(tmp, out=tmp)  # std
    delta = xp.add(acc_delta, eps)
    xp.sqrt(delta, out=delta)
    delta /= tmp
    delta *= g
    _decay_add_square_(xp, acc_delta, delta, rho, tmp)
    _fma_(xp, param, delta, -lr, param, tmp=tmp)
