"""Gradient clipping, as torch.nn.utils: the total norm is the norm of the per-gradient
norms (every gradient's own p-norm, then the p-norm of those), and each gradient is scaled
in place by min(1, max_norm / (total_norm + 1e-6)). Nothing here is recorded on the tape.
`foreach` is accepted and changes nothing: each gradient is one array operation anyway."""
import types
import warnings

import numpy as np

from ...autograd.grad_mode import no_grad
from ...tensor import Tensor


def _as_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The norm_type-norm of the tensors' norms (a 0-d tensor on the first one's device;
    tensor(0.) for none).

    Args:
        tensors: the tensors (usually gradients), or one tensor.
        norm_type: the p of the norms (may be ``inf``).
        error_if_nonfinite: raise RuntimeError when the total norm is inf or NaN.
        foreach: accepted, changes nothing.

    Returns:
        Tensor: the 0-d total norm (not recorded on the tape).
    """
    from ...creation import tensor
    from ...ops.reduction import norm
    from ...ops.shape import stack

    tensors = _as_list(tensors)
    norm_type = float(norm_type)
    with no_grad():
        if not tensors:
            return tensor(0.0)
        first = tensors[0].device
        norms = [norm(t, norm_type).to(first) for t in tensors]
        dtypes = {n.dtype for n in norms}
        if len(dtypes) > 1:  # PyTorch's stack promotes mixed float types
            wide = max(dtypes, key=lambda d: d.itemsize)
            norms = [n.to(wide) for n in norms]
        total = norm(stack(norms), norm_type)
        if error_if_nonfinite and not bool(total.isfinite().item()):
            raise RuntimeError(
                f"The total norm of order {norm_type} for gradients from `parameters` is "
                "non-finite, so it cannot be clipped. To disable this error and scale the "
                "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scales the gradients in place by min(1, max_norm / (total_norm + 1e-6)).

    Args:
        parameters: tensors whose ``.grad`` is scaled, or one tensor.
        max_norm: the largest total norm allowed.
        total_norm: the gradients' total norm (from ``get_total_norm``).
        foreach: accepted, changes nothing.

    Returns:
        None: the gradients are changed in place.
    """
    from ...ops.elementwise import clamp

    grads = [p.grad for p in _as_list(parameters) if p.grad is not None]
    max_norm = float(max_norm)
    if not grads:
        return
    # a non-finite norm scales by 0 or nan, as PyTorch does, without NumPy's warning
    with no_grad(), np.errstate(invalid="ignore"):
        coef = clamp(max_norm / (total_norm + 1e-6), max=1.0)
        for g in grads:
            c = coef if coef.device == g.device else coef.to(g.device)
            g.mul_(c if c.dtype == g.dtype else c.to(g.dtype))


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Clips the gradients of `parameters` (a tensor or an iterable) to a total norm of at
    most `max_norm` (norm_type may be inf); returns the total norm before clipping.

    Args:
        parameters: tensors whose ``.grad`` is clipped, or one tensor.
        max_norm: the largest total norm allowed.
        norm_type: the p of the norm (may be ``inf``).
        error_if_nonfinite: raise RuntimeError when the total norm is inf or NaN.
        foreach: accepted, changes nothing.

    Returns:
        Tensor: the 0-d total norm of the gradients before clipping.
    """
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    else:
        was_generator = isinstance(parameters, types.GeneratorType)
        parameters = list(parameters)
        if was_generator and not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_norm(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The deprecated name of ``clip_grad_norm_`` (warns, then clips).

    Args:
        parameters: tensors or one tensor.
        max_norm: the largest total norm allowed.
        norm_type: the p of the norm.
        error_if_nonfinite: raise when the total norm is inf or NaN.
        foreach: accepted, changes nothing.

    Returns:
        Tensor: the total norm
    """
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of "
                  "`torch.nn.utils.clip_grad_norm_`.", FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamps every gradient in place to [-clip_value, clip_value].

    Args:
        parameters: tensors whose ``.grad`` is clamped, or one tensor.
        clip_value: the largest absolute value allowed.
        foreach: accepted, changes nothing.

    Returns:
        None: the gradients are changed in place.
    """
    clip_value = float(clip_value)
    with no_grad():
        for p in _as_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
