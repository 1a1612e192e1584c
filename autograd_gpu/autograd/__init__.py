"""Reverse-mode automatic differentiation: the tape, grad mode, and gradient checks."""
from .engine import backward, grad, run_backward
from .node import Node
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import gradcheck, gradgradcheck
from .anomaly import detect_anomaly, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable
from .variable import Variable


__all__ = [
    "Node", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled",
    "is_grad_enabled", "gradcheck", "gradgradcheck", "detect_anomaly", "set_detect_anomaly",
    "Function", "FunctionCtx", "once_differentiable", "Variable", "functional",
]

from . import functional  # noqa: E402  (built on grad, above)
