"""Optimizer updates: parameter and state updated in place, in one pass.

Raw arrays in (the parameter, its gradient and its state buffers; buffers a variant does
not use are None). CuPy arrays of one float dtype run one fused kernel from
kernels/optim.cuh; anything else (NumPy arrays, mixed dtypes) runs the NumPy formula
below, which has the same operation order as the kernel and as PyTorch's single-tensor
implementation, so the two paths agree to rounding.
"""
import numpy as np

from ..backend import array_module
from . import _loader
from ._grad import _fused_dtype
from ._loader import Spec

_specs = {}

# per optimizer: the state buffers in kernel order, the scalars, the flags, and the call
_OPT = {
    "sgd": (("buf",), ("neg_lr", "momentum", "one_minus_dampening", "wd"),
            ("has_wd", "has_momentum", "nesterov", "maximize", "first_step"),
            "ag::sgd_step<C>(p_, g_, buf_, neg_lr, momentum, one_minus_dampening, wd, has_wd, "
            "has_momentum, nesterov, maximize, first_step);"),
    "adam": (("m", "v", "vmax"),
             ("decay", "wd", "one_minus_beta1", "beta2", "one_minus_beta2", "bc2_sqrt",
              "neg_step_size", "eps"),
             ("has_wd", "decoupled", "amsgrad", "maximize"),
             "ag::adam_step<C>(p_, g_, m_, v_, vmax_, decay, wd, one_minus_beta1, beta2, "
             "one_minus_beta2, bc2_sqrt, neg_step_size, eps, has_wd, decoupled, amsgrad, maximize);"),
    "rmsprop": (("sq", "buf", "gavg"),
                ("neg_lr", "alpha", "one_minus_alpha", "eps", "wd", "momentum"),
                ("has_wd", "centered", "has_momentum", "maximize"),
                "ag::rmsprop_step<C>(p_, g_, sq_, buf_, gavg_, neg_lr, alpha, one_minus_alpha, "
                "eps, wd, momentum, has_wd, centered, has_momentum, maximize);"),
    "adagrad": (("sum",), ("neg_clr", "eps", "wd"), ("has_wd", "maximize"),
                "ag::adagrad_step<C>(p_, g_, sum_, neg_clr, eps, wd, has_wd, maximize);"),
    "adadelta": (("sq", "acc"), ("neg_lr", "rho", "one_minus_rho", "eps", "wd"),
                 ("has_wd", "maximize"),
                 "ag::adadelta_step<C>(p_, g_, sq_, acc_, neg_lr, rho, one_minus_rho, eps, wd, "
                 "has_wd, maximize);"),
}


def optim_spec(kind, present):
    """The Spec of optimizer `kind` with the state buffers `present` (a tuple of bools)."""
    key = (kind, present)
    s = _specs.get(key)
    if s is None:
        bufs, scalars, flags, call = _OPT[kind]
        used = tuple(b for b, on in zip(bufs, present) if on)
        missing = [b for b, on in zip(bufs, present) if not on]
        body = "".join(f"C {b}_ = 0;\n" for b in missing) + call
        name = kind + "".join("_" + b for b in used)
        s = _specs[key] = Spec(name, "optim.cuh", body, ins=("g",), scalars=scalars,
                               inouts=("p",) + used, flags=flags)
    return s


def _fused(kind, param, grad, buffers, scalars, flags):
    """Runs the kernel and returns True when every array is CuPy of one float dtype."""
    present = tuple(b is not None for b in buffers)
    arrays = [param, grad] + [b for b in buffers if b is not None]
    dt = _fused_dtype(*arrays)
    if dt is None:
        return False
    k = _loader.get(optim_spec(kind, present), dt, tuple(bool(f) for f in flags))
    k(grad, *[float(s) for s in scalars], param, *[b for b in buffers if b is not None])
    return True


def _ctype(a):
    """NumPy scalar type of the kernel's compute type for `a` (float for float16 data)."""
    return np.float64 if a.dtype == np.float64 else np.float32


def _lerp(start, end, w, ct):
    w = ct(w)
    if np.abs(w) < 0.5:
        return start + w * (end - start)
    return end - (end - start) * (ct(1) - w)


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, nesterov,
               weight_decay, maximize, first_step):
    """torch.optim.SGD's update of one parameter (momentum_buffer None when momentum == 0;
    on the first step with momentum the buffer is set to the gradient)."""
    if momentum != 0 and momentum_buffer is None:
        raise ValueError("sgd_update: momentum != 0 needs a momentum_buffer array")
    buf = momentum_buffer if momentum != 0 else None
    if _fused("sgd", param, grad, (buf,), (-lr, momentum, 1 - dampening, weight_decay),
              (weight_decay != 0, momentum != 0, nesterov, maximize, first_step)):
        return
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    if momentum != 0:
        if first_step:
            buf[...] = d
        else:
            buf[...] = buf * momentum + (1 - dampening) * d
        d = d + momentum * buf if nesterov else buf
    param[...] = param + (-lr) * d


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """torch.optim.Adam's (decoupled_weight_decay=False) or AdamW's update; `step` counts
    from 1 and includes this step; max_exp_avg_sq is None unless amsgrad."""
    if amsgrad and max_exp_avg_sq is None:
        raise ValueError("adam_update: amsgrad=True needs a max_exp_avg_sq array")
    vmax = max_exp_avg_sq if amsgrad else None
    bc1 = 1 - beta1 ** step
    bc2 = 1 - beta2 ** step
    step_size = lr / bc1
    bc2_sqrt = bc2 ** 0.5
    decay = 1 - lr * weight_decay
    if _fused("adam", param, grad, (exp_avg, exp_avg_sq, vmax),
              (decay, weight_decay, 1 - beta1, beta2, 1 - beta2, bc2_sqrt, -step_size, eps),
              (weight_decay != 0, decoupled_weight_decay, amsgrad, maximize)):
        return
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        if decoupled_weight_decay:
            param[...] = param * decay
        else:
            d = d + weight_decay * param
    exp_avg[...] = _lerp(exp_avg, d, 1 - beta1, _ctype(param))
    exp_avg_sq[...] = exp_avg_sq * beta2 + (1 - beta2) * d * d
    v = exp_avg_sq
    if amsgrad:
        xp.maximum(vmax, exp_avg_sq, out=vmax)
        v = vmax
    denom = xp.sqrt(v) / bc2_sqrt + eps
    param[...] = param + (-step_size) * exp_avg / denom


def rmsprop_update(param, grad, square_avg, momentum_buffer, grad_avg, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    """torch.optim.RMSprop's update; momentum_buffer None unless momentum > 0, grad_avg
    None unless centered."""
    if momentum > 0 and momentum_buffer is None:
        raise ValueError("rmsprop_update: momentum > 0 needs a momentum_buffer array")
    if centered and grad_avg is None:
        raise ValueError("rmsprop_update: centered=True needs a grad_avg array")
    buf = momentum_buffer if momentum > 0 else None
    gavg = grad_avg if centered else None
    if _fused("rmsprop", param, grad, (square_avg, buf, gavg),
              (-lr, alpha, 1 - alpha, eps, weight_decay, momentum),
              (weight_decay != 0, centered, momentum > 0, maximize)):
        return
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    square_avg[...] = square_avg * alpha + (1 - alpha) * d * d
    if centered:
        gavg[...] = _lerp(gavg, d, 1 - alpha, _ctype(param))
        avg = xp.sqrt(square_avg - gavg * gavg)
    else:
        avg = xp.sqrt(square_avg)
    avg = avg + eps
    if momentum > 0:
        buf[...] = buf * momentum + d / avg
        param[...] = param + (-lr) * buf
    else:
        param[...] = param + (-lr) * d / avg


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """torch.optim.Adagrad's update; `step` counts from 1 and includes this step."""
    clr = lr / (1 + (step - 1) * lr_decay)
    if _fused("adagrad", param, grad, (state_sum,), (-clr, eps, weight_decay),
              (weight_decay != 0, maximize)):
        return
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    state_sum[...] = state_sum + d * d
    std = xp.sqrt(state_sum) + eps
    param[...] = param + (-clr) * d / std


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """torch.optim.Adadelta's update."""
    if _fused("adadelta", param, grad, (square_avg, acc_delta), (-lr, rho, 1 - rho, eps,
              weight_decay), (weight_decay != 0, maximize)):
        return
    xp = array_module(param)
    d = -grad if maximize else grad
    if weight_decay != 0:
        d = d + weight_decay * param
    square_avg[...] = square_avg * rho + (1 - rho) * d * d
    std = xp.sqrt(square_avg + eps)
    delta = xp.sqrt(acc_delta + eps) / std * d
    acc_delta[...] = acc_delta * rho + (1 - rho) * delta * delta
    param[...] = param + (-lr) * delta
