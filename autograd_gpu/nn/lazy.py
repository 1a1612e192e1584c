"""Lazy modules: LazyLinear, whose in_features is taken from the first input, as torch.nn's.

Until the first call its weight and bias are UninitializedParameters (no data, shape (0,));
the first forward (or loading a state_dict with the shapes) materializes them in place (the
same objects, now Parameters, so an optimizer built before the first call holds the real
ones), initializes them as Linear does, and the module becomes a Linear."""
from ..creation import empty
from .layers import Linear
from .module import Module, Parameter


class UninitializedParameter(Parameter):
    """A parameter whose shape is not known yet; ``materialize(shape)`` gives it data.

    Args:
        requires_grad: whether the parameter requires grad.
        device: the device of the placeholder (and of the data, by default).
        dtype: the dtype of the placeholder (and of the data, by default).
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return super().__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def materialize(self, shape, device=None, dtype=None):
        """Gives the parameter uninitialized data of `shape`, in place; it becomes a
        Parameter.

        Args:
            shape: the shape.
            device: the device (None: the placeholder's).
            dtype: the dtype (None: the placeholder's).
        """
        # the placeholder's device and dtype (module.to() moves and casts it) by default
        data = empty(*shape, device=device or self.device, dtype=dtype or self.dtype)
        self._data = data._data
        self._version[0] += 1
        self.__class__ = self.cls_to_become

    def __repr__(self):
        return "<UninitializedParameter>"


def is_lazy(param):
    return isinstance(param, UninitializedParameter)


class LazyLinear(Module):
    """Linear(in_features inferred at the first call, out_features, bias).

    Args:
        out_features: H_out, the size of each output's last dim.
        bias: learn an additive bias.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - Input: ``(*, H_in)``, H_in fixed by the first call.
        - Output: ``(*, H_out)``.
    """

    cls_to_become = Linear

    def __init__(self, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features = 0
        self.out_features = out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def has_uninitialized_params(self):
        return any(is_lazy(p) for p in self._parameters.values() if p is not None)

    def _materialize(self, in_features):
        self.in_features = in_features
        self.weight.materialize((self.out_features, in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.__class__ = self.cls_to_become
        self.reset_parameters()

    def initialize_parameters(self, input):
        if self.has_uninitialized_params():
            from ..autograd.grad_mode import no_grad

            with no_grad():
                self._materialize(input.shape[-1])

    def forward(self, input):
        self.initialize_parameters(input)
        return self.forward(input)  # (now Linear's forward)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.in_features != 0:
            Linear.reset_parameters(self)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        # shapes from the checkpoint materialize the parameters first (PyTorch's load hook)
        w = state_dict.get("weight")
        if self.has_uninitialized_params() and w is not None and w.dim() == 2:
            self._materialize(w.shape[1])
        return Module.load_state_dict(self, state_dict, strict, assign)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


