"""Per-parameter update math, in place on raw arrays: the one formula of each optimizer.

Every function takes the parameter, its gradient and its state buffers as arrays (unused
buffers are None) and the hyper-parameters as Python numbers, and updates `param` and the
buffers in place. CuPy arrays of one float dtype go to the fused kernel of
`autograd_gpu.fused` (one pass over the data); anything else runs the array code below,
with NumPy or CuPy ufuncs. The formulas are PyTorch's (torch.optim, single-tensor path),
and the code below performs the very operations of kernels/optim.cuh in the same order,
so the CPU and the GPU agree to rounding (bit for bit where the host build of the kernel
is compared with it, in tests/test_kernels.py). Where PyTorch's order would cost an extra
pass over the data here (Adam's bias corrections, the scaling after a division), both
this code and the kernel take the cheaper order, a few ulp from PyTorch.

Each update allocates at most two temporaries of the parameter's size (one more when
`maximize` meets weight decay); those of a large parameter come from the host buffer pool
(see backend.pooled_out), so they cost no page faults.

A large NumPy parameter is updated block by block (`_blocked`), the blocks spread across the
host threads: the formula's dozen passes then run over one block while it sits in cache, and
main memory sees each array about once. Every operation is elementwise, so the result is the
same bit for bit.
"""
import functools

import numpy as np

from ..backend import array_module, host_blockwise, pooled_out
from ..fused import _optim as _fused

_ndarray = np.ndarray


def _blocked(update):
    """`update(param, *arrays, **hyper)`, block by block on the host threads for a large
    NumPy parameter (see backend.host_blockwise); whole otherwise."""

    @functools.wraps(update)
    def run(param, *arrays, **hyper):
        if not host_blockwise(functools.partial(update, **hyper), param, *arrays):
            update(param, *arrays, **hyper)

    return run


def _effective_grad(xp, param, grad, weight_decay, maximize):
    """-grad if maximizing, plus weight_decay * param (L2); a new array only when needed."""
    if maximize:
        grad = xp.negative(grad, out=pooled_out(grad))
        if weight_decay:
            grad += weight_decay * param
        return grad
    if weight_decay:
        t = xp.multiply(param, weight_decay, out=pooled_out(param))
        t += grad  # (grad + weight_decay * param: the same sum)
        return t
    return grad


def _scaled(xp, a, c):
    """c * a in a new array (from the host pool when `a` is large: no page faults)."""
    return xp.multiply(a, c, out=pooled_out(a))


def _decay_add_square_(xp, v, g, decay, tmp=None):
    """v = decay * v + (1 - decay) * g * g in place, rounded as the kernel computes it
    (((1 - decay) * g) * g); returns the scratch array it used (`tmp`, or a new one)."""
    v *= decay
    tmp = xp.multiply(g, 1 - decay, out=pooled_out(g) if tmp is None else tmp)
    tmp *= g
    v += tmp
    return tmp


def _lerp_(xp, start, end, weight, tmp=None):
    """start = lerp(start, end, weight) in place, rounded as torch.lerp (which switches form
    at weight 0.5): start + w (end - start), or end - (end - start)(1 - w) with 1 - w taken
    in the array's precision as the kernel does. Returns the scratch array it used."""
    tmp = xp.subtract(end, start, out=pooled_out(start) if tmp is None else tmp)
    if weight < 0.5:
        tmp *= weight  # (a Python float: rounded to the array's type, as the kernel's w)
        start += tmp
    else:
        ct = np.float64 if start.dtype == np.float64 else np.float32  # the kernel's type
        tmp *= ct(1) - ct(weight)
        xp.subtract(end, tmp, out=start)
    return tmp


@_blocked
def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, nesterov,
               weight_decay, maximize, first_step):
    """SGD with momentum (PyTorch's convention: the buffer holds velocity without lr).

        g = (maximize ? -grad : grad) + weight_decay * param
        buf = g                                 on the first step
        buf = momentum * buf + (1 - dampening) * g      afterwards
        g = g + momentum * buf   (nesterov)   or   g = buf
        param = param + (-lr) * g
    """
    if momentum != 0 and momentum_buffer is None:
        raise ValueError("sgd_update: momentum != 0 needs a momentum_buffer array")
    xp = np
    if type(param) is not _ndarray:
        if _fused.sgd_update(
                param, grad, momentum_buffer, lr=lr, momentum=momentum, dampening=dampening,
                nesterov=nesterov, weight_decay=weight_decay, maximize=maximize,
                first_step=first_step):
            return  # (one fused kernel)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    if momentum:
        buf = momentum_buffer
        if first_step:
            xp.copyto(buf, g)
        else:
            buf *= momentum
            buf += _scaled(xp, g, 1 - dampening)
        if nesterov:
            t = _scaled(xp, buf, momentum)
            t += g  # (g + momentum * buf: the same sum)
            g = t
        else:
            g = buf
    param += _scaled(xp, g, -lr)


@_blocked
def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """Adam (and AdamW when `decoupled_weight_decay`), PyTorch's formula; `step` counts from 1
    and includes this step:

        g = maximize ? -grad : grad
        param *= 1 - lr * weight_decay              (AdamW)  or  g += weight_decay * param
        m = lerp(m, g, 1 - beta1)
        v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v)                          (amsgrad; then v := vmax below)
        c1, c2 = 1 - beta1^step, sqrt(1 - beta2^step)
        param -= m / (sqrt(v) + eps * c2) * (lr * c2 / c1)
                 (= lr / c1 * m / (sqrt(v) / c2 + eps), PyTorch's form, to a few ulp)
    """
    if amsgrad and max_exp_avg_sq is None:
        raise ValueError("adam_update: amsgrad=True needs a max_exp_avg_sq array")
    xp = np
    if type(param) is not _ndarray:
        if _fused.adam_update(
                param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr, beta1=beta1,
                beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                decoupled_weight_decay=decoupled_weight_decay):
            return  # (one fused kernel)
        xp = array_module(param)
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
    # m / (sqrt(v) / c2 + eps) * lr / c1 == m / (sqrt(v) + eps c2) * (lr c2 / c1): one
    # pass fewer than PyTorch's order (a few ulp apart; the kernel computes the same)
    eps_c2, step_c2 = _fused.adam_scalars(lr, beta1, beta2, eps, step)
    xp.sqrt(v, out=tmp)
    tmp += eps_c2
    xp.divide(exp_avg, tmp, out=tmp)
    tmp *= step_c2
    param -= tmp


@_blocked
def rmsprop_update(param, grad, square_avg, momentum_buffer, grad_avg, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    """RMSprop, PyTorch's formula (eps is added OUTSIDE the square root, as in PyTorch and
    unlike TensorFlow/Keras, which add it inside):

        g = (maximize ? -grad : grad) + weight_decay * param
        v = alpha * v + (1 - alpha) * g * g
        gbar = lerp(gbar, g, 1 - alpha)                       (centered)
        avg = sqrt(v - gbar * gbar) + eps   (centered)   or   sqrt(v) + eps
        buf = momentum * buf + g / avg;  param = param + (-lr) * buf     (momentum > 0)
        param = param + g / avg * (-lr)                                   (otherwise)
    """
    if momentum > 0 and momentum_buffer is None:
        raise ValueError("rmsprop_update: momentum > 0 needs a momentum_buffer array")
    if centered and grad_avg is None:
        raise ValueError("rmsprop_update: centered=True needs a grad_avg array")
    xp = np
    if type(param) is not _ndarray:
        if _fused.rmsprop_update(
                param, grad, square_avg, momentum_buffer, grad_avg, lr=lr, alpha=alpha, eps=eps,
                weight_decay=weight_decay, momentum=momentum, centered=centered, maximize=maximize):
            return  # (one fused kernel)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = _decay_add_square_(xp, square_avg, g, alpha)
    if centered:
        _lerp_(xp, grad_avg, g, 1 - alpha, tmp)
        xp.multiply(grad_avg, grad_avg, out=tmp)
        xp.subtract(square_avg, tmp, out=tmp)
        xp.sqrt(tmp, out=tmp)
    else:
        xp.sqrt(square_avg, out=tmp)
    tmp += eps  # avg
    xp.divide(g, tmp, out=tmp)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += tmp
        xp.multiply(momentum_buffer, -lr, out=tmp)
    else:
        tmp *= -lr
    param += tmp


@_blocked
def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """Adagrad, PyTorch's formula; `step` counts from 1 and includes this step:

        g = (maximize ? -grad : grad) + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        sum = sum + g * g
        param = param + g / (sqrt(sum) + eps) * (-clr)
    """
    xp = np
    if type(param) is not _ndarray:
        if _fused.adagrad_update(
                param, grad, state_sum, step=step, lr=lr, lr_decay=lr_decay,
                weight_decay=weight_decay, eps=eps, maximize=maximize):
            return  # (one fused kernel)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = xp.multiply(g, g, out=pooled_out(g))
    state_sum += tmp
    xp.sqrt(state_sum, out=tmp)
    tmp += eps  # std
    xp.divide(g, tmp, out=tmp)
    tmp *= -(lr / (1 + (step - 1) * lr_decay))
    param += tmp


@_blocked
def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                    maximize):
    """Adadelta, PyTorch's formula:

        g = (maximize ? -grad : grad) + weight_decay * param
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        param = param + (-lr) * delta
    """
    xp = np
    if type(param) is not _ndarray:
        if _fused.adadelta_update(
                param, grad, square_avg, acc_delta, lr=lr, rho=rho, eps=eps,
                weight_decay=weight_decay, maximize=maximize):
            return  # (one fused kernel)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = _decay_add_square_(xp, square_avg, g, rho)
    xp.add(square_avg, eps, out=tmp)
    xp.sqrt(tmp, out=tmp)  # std
    delta = xp.add(acc_delta, eps, out=pooled_out(acc_delta))
    xp.sqrt(delta, out=delta)
    delta /= tmp
    delta *= g
    _decay_add_square_(xp, acc_delta, delta, rho, tmp)
    delta *= -lr
    param += delta
