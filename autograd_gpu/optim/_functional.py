"""Per-parameter update math, in place on raw arrays (NumPy here; CuPy arrays go to the
fused kernels in `autograd_gpu.fused`, one kernel per parameter update).

Every function takes the parameter, its gradient and its state buffers as arrays (unused
buffers are None) and the hyper-parameters as Python numbers, and updates `param` and the
buffers in place. The formulas are PyTorch's (torch.optim, single-tensor path), written so
that the NumPy path allocates at most one temporary array of the parameter's size (two when
`maximize` and `weight_decay` are combined with a gradient that must not be modified).
"""
import numpy as np

from ..backend import array_module

_ndarray = np.ndarray


def _fused(name):
    """The fused CUDA kernel for an update, when the kernels module is there; otherwise
    the same formula below runs with CuPy's ufuncs."""
    try:
        from .. import fused
    except ImportError:
        return None
    return getattr(fused, name, None)


def _effective_grad(xp, param, grad, weight_decay, maximize):
    """-grad if maximizing, plus weight_decay * param (L2); a new array only when needed."""
    if maximize:
        grad = xp.negative(grad)
        if weight_decay:
            grad += weight_decay * param
        return grad
    if weight_decay:
        return grad + weight_decay * param
    return grad


def _lerp_(xp, start, end, weight):
    """start += weight * (end - start) in place, rounded as PyTorch's lerp (which switches
    form at weight 0.5); returns the temporary it used."""
    tmp = xp.subtract(end, start)
    if weight < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(end, tmp, out=start)
    return tmp


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, nesterov,
               weight_decay, maximize, first_step):
    """SGD with momentum (PyTorch's convention: the buffer holds velocity without lr).

        g = (maximize ? -grad : grad) + weight_decay * param
        buf = g                                 on the first step
        buf = momentum * buf + (1 - dampening) * g      afterwards
        g = g + momentum * buf   (nesterov)   or   g = buf
        param -= lr * g
    """
    xp = np
    if type(param) is not _ndarray:
        f = _fused("sgd_update")
        if f is not None:
            return f(param, grad, momentum_buffer, lr=lr, momentum=momentum, dampening=dampening,
                nesterov=nesterov, weight_decay=weight_decay, maximize=maximize, first_step=first_step)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    if momentum:
        buf = momentum_buffer
        if first_step:
            xp.copyto(buf, g)
        else:
            buf *= momentum
            if dampening == 0:
                buf += g
            else:
                buf += (1 - dampening) * g
        if nesterov:
            g = g + momentum * buf
        else:
            g = buf
    if g is grad or g is momentum_buffer:
        param -= lr * g
    else:
        g *= lr
        param -= g


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """Adam (and AdamW when `decoupled_weight_decay`), PyTorch's formula:

        g = maximize ? -grad : grad
        param *= 1 - lr * weight_decay              (AdamW)  or  g += weight_decay * param
        m = m + (1 - beta1) * (g - m)
        v = beta2 * v + (1 - beta2) * g * g
        vmax = max(vmax, v)                          (amsgrad; then v := vmax below)
        denom = sqrt(v) / sqrt(1 - beta2^step) + eps
        param -= lr / (1 - beta1^step) * m / denom
    """
    xp = np
    if type(param) is not _ndarray:
        f = _fused("adam_update")
        if f is not None:
            return f(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step=step, lr=lr, beta1=beta1,
                beta2=beta2, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                decoupled_weight_decay=decoupled_weight_decay)
        xp = array_module(param)
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
        g = xp.negative(grad) if maximize else grad
    else:
        g = _effective_grad(xp, param, grad, weight_decay, maximize)
    # exp_avg.lerp_(g, 1 - beta1), inline (this is the hot path): tmp is the one temporary
    tmp = xp.subtract(g, exp_avg)
    if beta1 > 0.5:
        tmp *= 1 - beta1
        exp_avg += tmp
    else:
        tmp *= beta1
        xp.subtract(g, tmp, out=exp_avg)
    exp_avg_sq *= beta2
    xp.multiply(g, 1 - beta2, out=tmp)  # rounded as PyTorch's addcmul: (value * g) * g
    tmp *= g
    exp_avg_sq += tmp
    bias_correction1 = 1 - beta1 ** step
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    v = exp_avg_sq
    if amsgrad:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        v = max_exp_avg_sq
    # m / (sqrt(v) / c2 + eps) == c2 * m / (sqrt(v) + eps * c2): one pass fewer
    xp.sqrt(v, out=tmp)
    tmp += eps * bias_correction2_sqrt
    xp.divide(exp_avg, tmp, out=tmp)
    tmp *= lr / bias_correction1 * bias_correction2_sqrt
    param -= tmp


def rmsprop_update(param, grad, square_avg, momentum_buffer, grad_avg, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    """RMSprop, PyTorch's formula (eps is added OUTSIDE the square root, as in PyTorch and
    unlike TensorFlow/Keras, which add it inside):

        g = (maximize ? -grad : grad) + weight_decay * param
        v = alpha * v + (1 - alpha) * g * g
        gbar = gbar + (1 - alpha) * (g - gbar)        (centered)
        avg = sqrt(v - gbar * gbar) + eps   (centered)   or   sqrt(v) + eps
        buf = momentum * buf + g / avg;  param -= lr * buf     (momentum > 0)
        param -= lr * g / avg                                   (otherwise)
    """
    xp = np
    if type(param) is not _ndarray:
        f = _fused("rmsprop_update")
        if f is not None:
            return f(param, grad, square_avg, momentum_buffer, grad_avg, lr=lr, alpha=alpha, eps=eps,
                weight_decay=weight_decay, momentum=momentum, centered=centered, maximize=maximize)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    square_avg *= alpha
    tmp = xp.multiply(g, 1 - alpha)
    tmp *= g
    square_avg += tmp
    if centered:
        tmp = _lerp_(xp, grad_avg, g, 1 - alpha)
        xp.multiply(grad_avg, grad_avg, out=tmp)
        xp.subtract(square_avg, tmp, out=tmp)
        xp.sqrt(tmp, out=tmp)
    else:
        xp.sqrt(square_avg, out=tmp)
    tmp += eps
    xp.divide(g, tmp, out=tmp)
    if momentum > 0:
        momentum_buffer *= momentum
        momentum_buffer += tmp
        param -= lr * momentum_buffer
    else:
        tmp *= lr
        param -= tmp


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """Adagrad, PyTorch's formula:

        g = (maximize ? -grad : grad) + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        sum = sum + g * g
        param -= clr * g / (sqrt(sum) + eps)
    """
    xp = np
    if type(param) is not _ndarray:
        f = _fused("adagrad_update")
        if f is not None:
            return f(param, grad, state_sum, step=step, lr=lr, lr_decay=lr_decay,
                weight_decay=weight_decay, eps=eps, maximize=maximize)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    clr = lr / (1 + (step - 1) * lr_decay)
    tmp = xp.multiply(g, g)
    state_sum += tmp
    xp.sqrt(state_sum, out=tmp)
    tmp += eps
    xp.divide(g, tmp, out=tmp)
    tmp *= clr
    param -= tmp


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay,
                    maximize):
    """Adadelta, PyTorch's formula:

        g = (maximize ? -grad : grad) + weight_decay * param
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        param -= lr * delta
    """
    xp = np
    if type(param) is not _ndarray:
        f = _fused("adadelta_update")
        if f is not None:
            return f(param, grad, square_avg, acc_delta, lr=lr, rho=rho, eps=eps,
                weight_decay=weight_decay, maximize=maximize)
        xp = array_module(param)
    g = _effective_grad(xp, param, grad, weight_decay, maximize)
    square_avg *= rho
    tmp = xp.multiply(g, 1 - rho)
    tmp *= g
    square_avg += tmp
    xp.add(square_avg, eps, out=tmp)
    xp.sqrt(tmp, out=tmp)  # std
    delta = xp.add(acc_delta, eps)
    xp.sqrt(delta, out=delta)
    delta /= tmp
    delta *= g
    acc_delta *= rho
    xp.multiply(delta, 1 - rho, out=tmp)
    tmp *= delta
    acc_delta += tmp
    delta *= lr
    param -= delta
