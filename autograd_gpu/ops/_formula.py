"""Backward formulas that are themselves differentiable (gradients of gradients).

An elementwise op whose gradient is ``g * f'(v)`` writes ``f'`` once, as a formula
``fn(xp, v, g, *scalars)`` beside its forward; `linear_in_g` turns it into the function its
backward calls. On raw arrays that runs the formula through the execution layer
(backend.execute.formula: a fused CUDA kernel where one is registered, the host threads for
large NumPy arrays); under create_graph, where `v` or `g` is a Tensor, it records a node
(``*Grad``) whose forward is the same formula and whose backward is ``second``, so
double backward works on both devices.
"""
from ..autograd.node import Node
from ..backend.execute import formula
from ..tensor import Tensor

# PyTorch's names for these double-backward nodes
_NODE_NAMES = {
    "relu": "ThresholdBackwardBackward0", "leaky_relu": "LeakyReluBackwardBackward0",
    "sigmoid": "SigmoidBackwardBackward0", "tanh": "TanhBackwardBackward0",
    "gelu": "GeluBackwardBackward0", "gelu_tanh": "GeluBackwardBackward0",
    "silu": "SiluBackwardBackward0", "softplus": "SoftplusBackwardBackward0",
    "elu": "EluBackwardBackward0",
}


def is_graph(*values):
    """True when any value is a Tensor (a create_graph backward records its operations)."""
    for v in values:
        if isinstance(v, Tensor):
            return True
    return False


def linear_in_g(name, fn, second):
    """The backward of op `name` whose input gradient is ``fn(xp, v, g, *scalars)``, linear
    in the incoming gradient g. `second(v, g, gg, *scalars)` is d/dv of that times gg (Tensor
    code; None where it is zero). The formula's name is ``name + "_backward"`` (the fused
    kernel registered under it, see autograd_gpu.fused._grad, runs on CUDA arrays)."""
    run = formula(fn, name=name + "_backward", by_blocks=True)

    class Grad(Node):
        def forward(self, v, g, scalars):
            self.scalars = scalars
            self.save_for_backward(v, g)
            return run(v, g, *scalars)

        def backward(self, gg):
            v, g = self.saved_tensors
            s = self.scalars
            need = self.needs_input_grad
            gv = second(v, g, gg, *s) if need[0] else None
            return gv, (backward(v, gg, *s) if need[1] else None)

    Grad.__name__ = Grad.__qualname__ = name.title().replace("_", "") + "Grad"
    Grad.name = _NODE_NAMES.get(name, Grad.__name__ + "Backward0")

    def backward(v, g, *s):
        if isinstance(v, Tensor) or isinstance(g, Tensor):
            return Grad.apply(v, g, scalars=s)
        return run(v, g, *s)

    backward.__name__ = name + "_backward"
    backward.formula = run
    backward.node = Grad
    return backward
