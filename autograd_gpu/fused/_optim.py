"""Optimizer updates as one fused kernel: parameter and state updated in place, in one pass.

Raw arrays in (the parameter, its gradient and its state buffers; buffers a variant does
not use are None). Each entry point runs the kernel from kernels/optim.cuh and returns True:
on CUDA when every array is a CuPy array of one float dtype; on the host when every array is
a C-contiguous NumPy float32 or float64 array of one dtype and the host build of the same
kernels (autograd_gpu.backend._host_optim, built on install where a C++ compiler is found) is
present, split across the host threads for a large parameter. Otherwise it returns False
(touching nothing) and the caller, autograd_gpu.optim._functional, runs the same operations,
in the same order (PyTorch's), with array ufuncs. The scalars PyTorch computes
in Python double precision (bias corrections, 1 - beta, -lr / c1, ...) are computed here the
same way.
"""
from ..backend.devices import ndarray
from ..backend.host_threads import get_num_threads
from . import _loader
from ._loader import Spec, fused_dtype

try:
    from ..backend import _host_optim
except ImportError:  # (built without a C++ compiler: the NumPy formulas run)
    _host_optim = None

_HOST_KIND = {"sgd": 0, "adam": 1, "rmsprop": 2, "adagrad": 3, "adadelta": 4}

_specs = {}

# per optimizer: the state buffers in kernel order, the scalars, the flags, and the call
_OPT = {
    "sgd": (("buf",), ("neg_lr", "momentum", "one_minus_dampening", "wd"),
            ("has_wd", "has_momentum", "nesterov", "maximize", "first_step"),
            "ag::sgd_step<C>(p_, g_, buf_, neg_lr, momentum, one_minus_dampening, wd, has_wd, "
            "has_momentum, nesterov, maximize, first_step);"),
    "adam": (("m", "v", "vmax"),
             ("decay", "wd", "lerp_w", "beta2", "one_minus_beta2", "bc2_sqrt", "eps",
              "neg_step_size"),
             ("has_wd", "decoupled", "amsgrad", "maximize"),
             "ag::adam_step<C>(p_, g_, m_, v_, vmax_, decay, wd, lerp_w, beta2, "
             "one_minus_beta2, bc2_sqrt, eps, neg_step_size, has_wd, decoupled, amsgrad, "
             "maximize);"),
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
    """Runs the kernel and returns True when every array is CuPy of one float dtype (or, on
    the host, a NumPy float32/float64 array the host build takes)."""
    if param.__class__ is ndarray:
        return _on_host(kind, param, grad, buffers, scalars, flags)
    present = tuple(b is not None for b in buffers)
    arrays = [param, grad] + [b for b in buffers if b is not None]
    dt = fused_dtype(*arrays)
    if dt is None:
        return False
    k = _loader.get(optim_spec(kind, present), dt, tuple(bool(f) for f in flags))
    k(grad, *[float(s) for s in scalars], param, *[b for b in buffers if b is not None])
    return True


# Elements per thread below which the host build runs a step on the calling thread alone.
# Its threads (backend/_host_arith.c's) are handed a part without the GIL: SGD over float32 parameters on the
# 2-core benchmark machine, one part -> two, back to back, 65,536 elements 7.1 -> 4.3 us,
# 16,384 2.3 -> 1.9 us; the margin covers waking a thread that has gone to sleep.
HOST_STEP_THREAD_MIN = 1 << 15


def _on_host(kind, param, grad, buffers, scalars, flags):
    if (_host_optim is None or grad.__class__ is not ndarray or param.dtype.char not in "fd"
            or param.size == 0):
        return False
    if param.dtype != grad.dtype or param.shape != grad.shape or not param.flags.c_contiguous:
        return False
    for b in buffers:
        if b is not None and (b.__class__ is not ndarray or b.shape != param.shape
                              or not b.flags.c_contiguous):
            return False
    bufs = tuple(buffers) + (None,) * (3 - len(buffers))
    parts = max(1, min(get_num_threads(), param.size // HOST_STEP_THREAD_MIN))
    # (the scalars and flags go as they are: the C side reads any number and truth value)
    return _host_optim.step(_HOST_KIND[kind], param, grad, *bufs, tuple(scalars),
                            tuple(flags), parts)


def sgd_update(param, grad, momentum_buffer, *, lr, momentum, dampening, nesterov,
               weight_decay, maximize, first_step):
    """torch.optim.SGD's update of one parameter (momentum_buffer None when momentum == 0;
    on the first step with momentum the buffer is set to the gradient).

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient.
        momentum_buffer: the momentum buffer, updated in place (not used when momentum == 0).
        lr: the learning rate.
        momentum: the momentum factor (0: plain SGD).
        dampening: the buffer takes the gradient times 1 - dampening.
        nesterov: step along grad + momentum * buffer instead of the buffer.
        weight_decay: the L2 penalty: weight_decay * param is added to the gradient (0: none).
        maximize: ascend (the gradient is negated first).
        first_step: the buffer's first step (it is set to the gradient, not blended).

    Returns:
        bool: True when the fused kernel ran (parameter and state updated in place), False
        when it does not apply to these arrays (nothing touched; the caller runs the array
        formulas).
    """
    buf = momentum_buffer if momentum != 0 else None
    return _fused("sgd", param, grad, (buf,), (-lr, momentum, 1 - dampening, weight_decay),
                  (weight_decay != 0, momentum != 0, nesterov, maximize, first_step))


def adam_scalars(lr, beta1, beta2, step):
    """Adam's step scalars for both paths, in double precision as torch.optim.Adam computes
    them: (sqrt(1 - beta2^step), -lr / (1 - beta1^step))."""
    return (1 - beta2 ** step) ** 0.5, -(lr / (1 - beta1 ** step))


def adam_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, *, step, lr, beta1, beta2,
                eps, weight_decay, amsgrad, maximize, decoupled_weight_decay):
    """torch.optim.Adam's (decoupled_weight_decay=False) or AdamW's update; `step` counts
    from 1 and includes this step; max_exp_avg_sq is None unless amsgrad.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient.
        exp_avg: the first moment, updated in place.
        exp_avg_sq: the second moment, updated in place.
        max_exp_avg_sq: the running maximum of exp_avg_sq, updated in place (used with
            amsgrad only).
        step: the step number, for the bias corrections 1 - beta1^step and 1 - beta2^step.
        lr: the learning rate.
        beta1: the first moment's decay (it moves towards the gradient by 1 - beta1).
        beta2: the second moment's decay.
        eps: added to the bias-corrected square root of the second moment.
        weight_decay: the L2 penalty added to the gradient, or with decoupled_weight_decay
            the parameter is first multiplied by 1 - lr * weight_decay (0: none).
        amsgrad: divide by the root of the running maximum of the second moment.
        maximize: ascend (the gradient is negated first).
        decoupled_weight_decay: AdamW's weight decay.

    Returns:
        bool: True when the fused kernel ran (parameter and state updated in place), False
        when it does not apply to these arrays (nothing touched; the caller runs the array
        formulas).
    """
    vmax = max_exp_avg_sq if amsgrad else None
    bc2_sqrt, neg_step_size = adam_scalars(lr, beta1, beta2, step)
    decay = 1 - lr * weight_decay
    return _fused("adam", param, grad, (exp_avg, exp_avg_sq, vmax),
                  (decay, weight_decay, 1 - beta1, beta2, 1 - beta2, bc2_sqrt, eps,
                   neg_step_size),
                  (weight_decay != 0, decoupled_weight_decay, amsgrad, maximize))


def rmsprop_update(param, grad, square_avg, momentum_buffer, grad_avg, *, lr, alpha, eps,
                   weight_decay, momentum, centered, maximize):
    """torch.optim.RMSprop's update; momentum_buffer None unless momentum > 0, grad_avg
    None unless centered.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient.
        square_avg: the running average of the squared gradient, updated in place.
        momentum_buffer: the momentum buffer, updated in place (used when momentum > 0).
        grad_avg: the running average of the gradient, updated in place (used when centered).
        lr: the learning rate.
        alpha: the averages' smoothing constant (they keep alpha of their value).
        eps: added to the square root in the denominator.
        weight_decay: the L2 penalty: weight_decay * param is added to the gradient (0: none).
        momentum: the momentum factor (0: none).
        centered: divide by sqrt(square_avg - grad_avg^2), the estimated deviation.
        maximize: ascend (the gradient is negated first).

    Returns:
        bool: True when the fused kernel ran (parameter and state updated in place), False
        when it does not apply to these arrays (nothing touched; the caller runs the array
        formulas).
    """
    buf = momentum_buffer if momentum > 0 else None
    gavg = grad_avg if centered else None
    return _fused("rmsprop", param, grad, (square_avg, buf, gavg),
                  (-lr, alpha, 1 - alpha, eps, weight_decay, momentum),
                  (weight_decay != 0, centered, momentum > 0, maximize))


def adagrad_update(param, grad, state_sum, *, step, lr, lr_decay, weight_decay, eps, maximize):
    """torch.optim.Adagrad's update; `step` counts from 1 and includes this step.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient.
        state_sum: the sum of the squared gradients, updated in place.
        step: the step number (the learning rate is lr / (1 + (step - 1) * lr_decay)).
        lr: the learning rate.
        lr_decay: the learning rate's decay per step.
        weight_decay: the L2 penalty: weight_decay * param is added to the gradient (0: none).
        eps: added to sqrt(state_sum) in the denominator.
        maximize: ascend (the gradient is negated first).

    Returns:
        bool: True when the fused kernel ran (parameter and state updated in place), False
        when it does not apply to these arrays (nothing touched; the caller runs the array
        formulas).
    """
    clr = lr / (1 + (step - 1) * lr_decay)
    return _fused("adagrad", param, grad, (state_sum,), (-clr, eps, weight_decay),
                  (weight_decay != 0, maximize))


def adadelta_update(param, grad, square_avg, acc_delta, *, lr, rho, eps, weight_decay, maximize):
    """torch.optim.Adadelta's update.

    Args:
        param: the parameter's array, updated in place.
        grad: its gradient.
        square_avg: the running average of the squared gradient, updated in place.
        acc_delta: the running average of the squared updates, updated in place.
        lr: the factor the update is scaled by before it is applied.
        rho: the averages' decay (they keep rho of their value).
        eps: added inside both square roots.
        weight_decay: the L2 penalty: weight_decay * param is added to the gradient (0: none).
        maximize: ascend (the gradient is negated first).

    Returns:
        bool: True when the fused kernel ran (parameter and state updated in place), False
        when it does not apply to these arrays (nothing touched; the caller runs the array
        formulas).
    """
    return _fused("adadelta", param, grad, (square_avg, acc_delta),
                  (-lr, rho, 1 - rho, eps, weight_decay), (weight_decay != 0, maximize))


_UPDATES = {"sgd": sgd_update, "adam": adam_update, "rmsprop": rmsprop_update,
            "adagrad": adagrad_update, "adadelta": adadelta_update}


def update(kind, param, grad, buffers, hyper):
    """Optimizer `kind`'s fused update (buffers in the entry point's order, hyper-parameters
    by name); True when it ran (every array a CuPy array of one float dtype)."""
    return _UPDATES[kind](param, grad, *buffers, **hyper)
