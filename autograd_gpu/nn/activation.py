"""More activation layers (torch.nn's): Hardtanh, ReLU6, Hardsigmoid, Hardswish, Mish,
Softsign, Tanhshrink, LogSigmoid, Softmin, CELU, SELU, Softshrink, Hardshrink, Threshold,
GLU, and PReLU with its learnable slope."""
from ..creation import full
from ..ops import nn_functional as F
from .module import Module, Parameter


def _inplace(m, first=False):
    if not m.inplace:
        return ""
    return "inplace=True" if first else ", inplace=True"


class Hardtanh(Module):
    """Clamps to [min_val, max_val] (``F.hardtanh``).

    Args:
        min_val: the lower bound.
        max_val: the upper bound.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace
        if max_val <= min_val:
            raise AssertionError(f"max_val ({max_val}) must be greater than min_val ({min_val})")

    def forward(self, input):
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace(self)


class ReLU6(Hardtanh):
    """min(max(0, x), 6).

    Args:
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return _inplace(self, True)


class _Simple(Module):
    """An activation without parameters; `inplace` is kept but not shown (as PyTorch)."""

    fn = None

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return type(self).fn(input, inplace=self.inplace)


class Hardsigmoid(_Simple):
    """relu6(x + 3) / 6.

    Args:
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    fn = staticmethod(F.hardsigmoid)


class Hardswish(_Simple):
    """x * relu6(x + 3) / 6.

    Args:
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    fn = staticmethod(F.hardswish)


class Mish(_Simple):
    """x * tanh(softplus(x)).

    Args:
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    fn = staticmethod(F.mish)


class Softsign(Module):
    """x / (1 + abs(x)).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def forward(self, input):
        return F.softsign(input)


class Tanhshrink(Module):
    """x - tanh(x).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def forward(self, input):
        return F.tanhshrink(input)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed stably.

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def forward(self, input):
        return F.log_sigmoid(input)


class Softmin(Module):
    """softmax(-x) along dim.

    Args:
        dim: the dimension the result sums to 1 over.

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.softmin(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class CELU(Module):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)).

    Args:
        alpha: the scale of the negative part.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input):
        return F.celu(input, self.alpha, self.inplace)

    def extra_repr(self):
        return f"alpha={self.alpha}" + _inplace(self)


class SELU(Module):
    """scale * elu(x, alpha) with SELU's fixed constants.

    Args:
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def forward(self, input):
        return F.selu(input, self.inplace)

    def extra_repr(self):
        return _inplace(self, True)


class Softshrink(Module):
    """x - lambd above lambd, x + lambd below -lambd, 0 between.

    Args:
        lambd: the threshold (>= 0).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def __init__(self, lambd=0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input):
        return F.softshrink(input, self.lambd)

    def extra_repr(self):
        return str(self.lambd)


class Hardshrink(Softshrink):
    """x where abs(x) > lambd, else 0.

    Args:
        lambd: the threshold (>= 0).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def forward(self, input):
        return F.hardshrink(input, self.lambd)


class Threshold(Module):
    """x where x > threshold, else value.

    Args:
        threshold: the threshold.
        value: the replacement.
        inplace: write the result into input (PyTorch's in-place rules apply).

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input):
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + _inplace(self)


class GLU(Module):
    """The gated linear unit: a * sigmoid(b), a and b the halves of the input along dim.

    Args:
        dim: the dimension split in two (its size must be even).

    Shape:
        - Input: ``(*1, M, *2)``, M even and at dim.
        - Output: ``(*1, M / 2, *2)``.
    """
    def __init__(self, dim=-1):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return F.glu(input, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class PReLU(Module):
    """max(0, x) + weight * min(0, x), with one learnable slope or one per channel (dim 1),
    initialized to `init`.

    Args:
        num_parameters: 1 (one slope for all) or C, the size of the input's dim 1.
        init: the initial value of the slopes.
        device: the device of the weight.
        dtype: the dtype of the weight.

    Shape:
        - Input: ``(*)``, any shape (with num_parameters > 1, dim 1 of size num_parameters).
        - Output: ``(*)``, the input's shape.
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(full((num_parameters,), float(init), device=device, dtype=dtype))

    def reset_parameters(self):
        from ..autograd.grad_mode import no_grad

        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input):
        return F.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"
