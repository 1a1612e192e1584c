"""A strict stand-in for CuPy 14, for machines without a GPU (the test suite's cuda cases).

It keeps CuPy's semantics where they differ from NumPy's, so that code which runs here runs
on a GPU:
  * `cupy.ndarray` is not a `numpy.ndarray`; `__array__` refuses (use `.get()`), NumPy
    arrays are refused as operands of ufuncs and functions (as CuPy does), only names that
    CuPy 14 has exist (taken from an installed CuPy when there is one, with its functions'
    signatures checked), `flags` has no `writeable`;
  * every array lives on a device (0 .. n-1, n from AUTOGRAD_GPU_STANDIN_DEVICES, default 2);
    work runs on the *current* device (`cupy.cuda.Device(i)`), results are allocated there,
    and an operand on another device is refused (no kernel is launched across devices);
  * integer array indices wrap around instead of raising; views, broadcast ones included,
    are writeable; `linalg.solve` does not broadcast batch dimensions and, like `inv`, returns
    NaN for singular matrices instead of raising;
  * `ElementwiseKernel` compiles the kernel's own source for the host (g++), with float32
    denormals flushed to zero unless the options say `-ftz=false`, as NVRTC does.
It cannot show speed, asynchrony, real cuRAND streams or cuSOLVER's numerics.
"""
import numpy as _np

from . import _core
from ._core import (  # noqa: F401
    ElementwiseKernel, asarray, asnumpy, array, get_array_module, ndarray, ufunc,
)
from . import cuda, fft, lib, linalg, random, testing  # noqa: F401

__version__ = "14.2.0"
float16, float32, float64 = _np.float16, _np.float32, _np.float64
int8, int16, int32, int64, uint8, uint16, uint32, uint64 = (
    _np.int8, _np.int16, _np.int32, _np.int64, _np.uint8, _np.uint16, _np.uint32, _np.uint64)
bool_ = _np.bool_
complex64, complex128 = _np.complex64, _np.complex128
dtype, finfo, iinfo, newaxis, pi, e, inf, nan = (
    _np.dtype, _np.finfo, _np.iinfo, None, _np.pi, _np.e, _np.inf, _np.nan)
errstate = _np.errstate  # (CuPy has no errstate: this one does nothing on devices)
del errstate


def is_available():
    return True


def get_default_memory_pool():
    return _core.memory_pool


def get_default_pinned_memory_pool():
    return _core.pinned_pool


def __getattr__(name):
    return _core.module_attr(name, "cupy")
