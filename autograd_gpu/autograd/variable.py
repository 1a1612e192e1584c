"""``Variable``: the pre-0.4 PyTorch wrapper, kept as PyTorch keeps it. ``Variable(t)``
returns a Tensor (a detached alias of `t`) and every Tensor is an instance of Variable."""
import warnings

from . import node as _node


class _VariableMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _node.Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(data, requires_grad=False, volatile=False)``: `data` (a Tensor) without its
    history, sharing its memory, with ``requires_grad`` as given. ``Variable()`` is an empty
    float32 tensor."""

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        Tensor = _node.Tensor
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` "
                "instead.",
                UserWarning,
                stacklevel=2,
            )
        if data is None:
            return Tensor()
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)
