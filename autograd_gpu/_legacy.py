"""PyTorch's legacy tensor types: ``FloatTensor``, ``DoubleTensor``, ``HalfTensor``,
``LongTensor``, ``IntTensor``, ``ShortTensor``, ``CharTensor``, ``ByteTensor``, ``BoolTensor``.

As in PyTorch they are not Tensor subclasses but constructors and type tests of CPU tensors:
``FloatTensor([1, 2])`` (from data), ``FloatTensor(2, 3)`` (uninitialized, from sizes),
``isinstance(t, FloatTensor)`` (a float32 CPU tensor). `tensor_type` is ``Tensor.type``:
the type's name (``'torch.FloatTensor'``, ``'torch.cuda.DoubleTensor'``), or a conversion to
a type given by name, legacy class or dtype.
"""
import numbers

import numpy as np

from . import backend
from .tensor import Size, Tensor, _TYPE_NAMES, _wrap, tensor_method

__all__ = [
    "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
    "CharTensor", "ByteTensor", "BoolTensor",
]

# the C++ type names PyTorch's constructor errors print
_C_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
    "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
    "bool": "bool",
}


def _options(dtype_name, device):
    return (
        f"TensorOptions(dtype={_C_NAMES.get(dtype_name, dtype_name)}, device={device}, "
        "layout=Strided, requires_grad=false (default), pinned_memory=false (default), "
        "memory_format=(nullopt))"
    )


class _TensorType(type):
    """The metaclass of the legacy types: calling one constructs a CPU Tensor of its dtype;
    isinstance tests dtype and device."""

    def __instancecheck__(cls, obj):
        return (isinstance(obj, Tensor) and not obj.is_cuda
                and obj._data.dtype == cls.dtype.np)

    def __repr__(cls):
        return f"<class 'torch.{cls.__name__}'>"

    def __call__(cls, *args, device=None):
        if device is not None and backend.normalize_device(device).type != "cpu":
            raise RuntimeError(
                "legacy constructor expects device type: cpu but device type: "
                f"{backend.normalize_device(device).type} was passed"
            )
        np_dtype = cls.dtype.np
        if not args:
            return _wrap(np.empty((0,), np_dtype))
        if len(args) == 1 and isinstance(args[0], Tensor):
            t = args[0]
            if t._data.dtype != np_dtype or t.is_cuda:
                raise TypeError(
                    f"expected {_options(np_dtype.name, 'cpu')} (got "
                    f"{_options(t._data.dtype.name, t.device)})"
                )
            return _wrap(t._data)  # an alias, as PyTorch's
        if len(args) == 1 and isinstance(args[0], Size):
            args = tuple(args[0])
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            if any(a < 0 for a in args):
                bad = next(a for a in args if a < 0)
                raise RuntimeError(
                    f"Trying to create tensor with negative dimension {bad}: {list(args)}"
                )
            return _wrap(np.empty(tuple(int(a) for a in args), np_dtype))
        if len(args) > 1:
            raise TypeError(
                f"new() received an invalid combination of arguments - got "
                f"({', '.join(type(a).__name__ for a in args)})"
            )
        data = args[0]
        if isinstance(data, (numbers.Number, str)):
            raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
        from .creation import tensor

        return tensor(data, dtype=cls.dtype, device="cpu")


def _legacy(name, dtype):
    return _TensorType(name, (), {"dtype": dtype, "is_cuda": False, "is_sparse": False,
                                  "__module__": __name__,
                                  "__doc__": f"Legacy constructor and type test of {dtype} CPU "
                                             "tensors.\n\n"
                                             "Args:\n"
                                             "    *args: data (a sequence or a tensor of this "
                                             "type, aliased), or sizes (ints or one Size) of "
                                             "an uninitialized tensor; none gives an empty "
                                             "one.\n"
                                             "    device: None or the CPU (legacy types are CPU "
                                             "types).\n"})


FloatTensor = _legacy("FloatTensor", backend.float32)
DoubleTensor = _legacy("DoubleTensor", backend.float64)
HalfTensor = _legacy("HalfTensor", backend.float16)
LongTensor = _legacy("LongTensor", backend.int64)
IntTensor = _legacy("IntTensor", backend.int32)
ShortTensor = _legacy("ShortTensor", backend.int16)
CharTensor = _legacy("CharTensor", backend.int8)
ByteTensor = _legacy("ByteTensor", backend.uint8)
BoolTensor = _legacy("BoolTensor", backend.bool)

_BY_TYPE_NAME = {cls.__name__: cls for cls in (
    FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor,
    ByteTensor, BoolTensor,
)}


def type_name(t):
    """``'torch.FloatTensor'``, ``'torch.cuda.FloatTensor'``, ... for a Tensor."""
    name = _TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)
    return "torch." + ("cuda." if t.is_cuda else "") + name


def tensor_type(t, dtype=None, non_blocking=False):
    """``Tensor.type(dtype=None)``: the type's name, or `t` converted to `dtype` (a name such
    as ``'torch.DoubleTensor'`` or ``'torch.cuda.FloatTensor'``, a legacy type, or a dtype);
    `t` itself when it is of that type already. A name or legacy type also sets the device
    (``'torch.FloatTensor'`` is a CPU type); a dtype keeps it."""
    if dtype is None:
        return type_name(t)
    if isinstance(dtype, backend.dtype):
        return t.to(dtype)
    if isinstance(dtype, _TensorType):
        return t.to("cpu", dtype.dtype)
    if isinstance(dtype, str):
        cuda = dtype.startswith("torch.cuda.")
        short = dtype[len("torch.cuda."):] if cuda else (
            dtype[len("torch."):] if dtype.startswith("torch.") else None)
        cls = _BY_TYPE_NAME.get(short)
        if cls is not None:
            device = t.device if cuda and t.is_cuda else ("cuda" if cuda else "cpu")
            return t.to(device, cls.dtype)
    raise ValueError(f"invalid type: '{getattr(dtype, '__name__', dtype)}'")


def _tensor_type_method(self, dtype=None, non_blocking=False, **kwargs):
    """``'torch.FloatTensor'`` (PyTorch's legacy type name) with no argument; else this
    tensor as the type given by name (``'torch.DoubleTensor'``), legacy type
    (``DoubleTensor``) or dtype (itself if it is of that type already).

    Args:
        dtype: a type name (``'torch.cuda.FloatTensor'``), a legacy type or a dtype (None:
            return the type's name). A name or legacy type also sets the device; a dtype
            keeps it.
        non_blocking: accepted for PyTorch compatibility; the copy is synchronous.

    Returns:
        str (the type's name) or Tensor.
    """
    return tensor_type(self, dtype, non_blocking)


tensor_method("type", _tensor_type_method)
