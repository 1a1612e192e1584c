"""Tensor element types (``float32``, ``int64``, ...) and their NumPy equivalents."""
import builtins as _builtins

import numpy as np

# (the dtype names below shadow float/int/bool)
_builtin_float, _builtin_int, _builtin_bool = _builtins.float, _builtins.int, _builtins.bool

# ---------------------------------------------------------------- dtypes


class dtype:
    """A tensor element type; prints as ``autograd_gpu.float32`` like ``torch.float32``.

    The library's dtypes are module-level instances (``float32``, ``int64``, ...); the
    attributes ``name``, ``np`` (the NumPy dtype), ``is_floating_point`` and ``itemsize``
    describe one.

    Args:
        name: the dtype's name, as PyTorch spells it ("float32").
        np_dtype: the NumPy dtype (or anything ``numpy.dtype`` takes) of the arrays that
            hold it.
    """

    __slots__ = ("name", "np", "is_floating_point", "itemsize")

    def __init__(self, name, np_dtype):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.itemsize = self.np.itemsize

    def __repr__(self):
        return "autograd_gpu." + self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
uint8 = dtype("uint8", np.uint8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)

_DTYPES = {d.np: d for d in (float16, float32, float64, int8, uint8, int16, int32, int64, bool)}
_BY_NAME = {d.name: d for d in _DTYPES.values()}


def _dtype_by_name(name):
    return _BY_NAME[name]


class _HostlessDtype(dtype):
    """A PyTorch dtype that NumPy (and CuPy) cannot hold: it can be named and compared, and
    `finfo` describes it, but making a tensor of it raises an error that says what to use."""

    __slots__ = ()

    def __init__(self, name, itemsize):
        self.name, self.np, self.is_floating_point, self.itemsize = name, None, True, itemsize

    def error(self):
        return TypeError(
            f"autograd_gpu.{self.name} is not supported: NumPy and CuPy have no {self.name} "
            "array type, so no tensor can hold one. Use autograd_gpu.float32 (bfloat16's "
            "range, more precision) or autograd_gpu.float16 (the same 2 bytes, a narrower range)."
        )


bfloat16 = _HostlessDtype("bfloat16", 2)


class finfo:
    """Machine limits of a floating point dtype, as ``torch.finfo``: ``bits``, ``eps``,
    ``max``, ``min``, ``tiny`` (= ``smallest_normal``), ``resolution`` and ``dtype`` (its
    name). ``finfo()`` describes the default dtype.

    Args:
        type: a floating point dtype (also bfloat16, or a NumPy float dtype or its name;
            None: the default dtype); an integer or bool dtype raises TypeError.
    """

    #: the default dtype's getter, set by the creation layer above (ops/construct.py)
    default_dtype = None

    def __init__(self, type=None):
        if type is None:
            type = finfo.default_dtype() if finfo.default_dtype is not None else float32
        if type is bfloat16:  # NumPy has no bfloat16: its IEEE-style limits, exactly
            big = (2.0 - 2.0 ** -7) * 2.0 ** 127
            self.bits, self.eps, self.max, self.min = 16, 2.0 ** -7, big, -big
            self.tiny = self.smallest_normal = 2.0 ** -126
            self.resolution, self.dtype = 0.01, "bfloat16"
            return
        d = _info_dtype(type, "finfo", "iinfo", "f")
        info = np.finfo(d)
        self.bits, self.dtype = _builtin_int(info.bits), d.name
        self.eps, self.max, self.min = (_builtin_float(v) for v in (info.eps, info.max, info.min))
        self.tiny = self.smallest_normal = _builtin_float(info.smallest_normal)
        self.resolution = 10.0 ** -_builtin_int(info.precision)  # (float16's own 0.001 is inexact)

    def __repr__(self):
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, "
                f"tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min``, ``dtype``.

    Args:
        type: an integer dtype (or a NumPy integer dtype or its name); a floating point or
            bool dtype raises TypeError.
    """

    def __init__(self, type):
        d = _info_dtype(type, "iinfo", "finfo", "iu")
        info = np.iinfo(d)
        self.bits, self.max, self.min, self.dtype = (
            _builtin_int(info.bits), _builtin_int(info.max), _builtin_int(info.min), d.name)

    def __repr__(self):
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"


def _info_dtype(type, name, other, kinds):
    """The NumPy dtype that finfo/iinfo describe, or PyTorch's TypeError for a wrong kind."""
    if type is bfloat16:
        d_kind, label = "f", "autograd_gpu.bfloat16"
    else:
        d = to_numpy_dtype(type)
        d_kind, label = d.kind, repr(from_numpy_dtype(d))
    if d_kind == "b" and name == "iinfo":
        raise TypeError(f"{label} is not supported by autograd_gpu.{name}")
    if d_kind not in kinds:
        kind = "a floating point" if name == "finfo" else "an integer"
        raise TypeError(
            f"autograd_gpu.{name}() requires {kind} input type, got {label}. Use "
            f"autograd_gpu.{other} to handle it"
        )
    return d


def from_numpy_dtype(np_dtype):
    """Our dtype for a NumPy dtype; other NumPy types (uint16, complex) are refused.

    Args:
        np_dtype: a NumPy dtype, or anything ``numpy.dtype`` takes (a type, a name).

    Returns:
        dtype: the library's dtype of that NumPy dtype (TypeError for one it does not
        support).
    """
    try:
        return _DTYPES[np_dtype]
    except KeyError:
        pass
    try:
        return _DTYPES[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert array of dtype {np_dtype}: the supported types are "
            "float16, float32, float64, int8, uint8, int16, int32, int64 and bool"
        ) from None




def to_numpy_dtype(d):
    """Accepts our dtype, a NumPy dtype or type, a dtype name, or Python's float/int/bool.

    Args:
        d: the dtype in any of those forms, or None.

    Returns:
        numpy.dtype or None: the NumPy dtype (float64, int64 and bool for Python's float,
        int and bool; None for None); TypeError for bfloat16 and for a type the library
        does not support.
    """
    if d is None:
        return None
    if type(d) is dtype:
        return d.np
    if d is _builtin_float:
        return np.dtype(np.float64)
    if d is _builtin_int:
        return np.dtype(np.int64)
    if d is _builtin_bool:
        return np.dtype(np.bool_)
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d].np
    if type(d) is _HostlessDtype:
        raise d.error()
    return from_numpy_dtype(np.dtype(d)).np


