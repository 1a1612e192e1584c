"""Reverse-mode automatic differentiation: the tape, grad mode, and gradient checks."""
from .engine import run_backward
from .node import Node
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .anomaly import detect_anomaly, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable
from .variable import Variable


def _as_list(x):
    if x is None:
        return None
    from ..tensor import Tensor

    return [x] if isinstance(x, Tensor) else list(x)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Accumulates the gradients of `tensors` into the leaves' ``.grad``."""
    tensors = _as_list(tensors)
    grad_tensors = _as_list(grad_tensors)
    run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs=_as_list(inputs),
                 accumulate=True, allow_unused=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False, materialize_grads=False):
    """The gradients of `outputs` with respect to `inputs`, returned (``.grad`` untouched).

    With ``create_graph=True`` the results are themselves differentiable.

    Examples:
        >>> import autograd_gpu as torch
        >>> y = torch.tensor(3.0, requires_grad=True)
        >>> torch.autograd.grad(y ** 2, y)
        (tensor(6.),)
    """
    outputs = _as_list(outputs)
    inputs_list = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs)
    results = run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=inputs_list,
                           accumulate=False, allow_unused=allow_unused or materialize_grads)
    if materialize_grads:
        from ..creation import zeros_like

        results = [zeros_like(t) if g is None else g for g, t in zip(results, inputs_list)]
    return tuple(results)


__all__ = [
    "Node", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "gradcheck", "gradgradcheck", "detect_anomaly", "set_detect_anomaly",
    "Function", "FunctionCtx", "once_differentiable", "Variable", "functional",
]

from . import functional  # noqa: E402  (built on grad, above)
