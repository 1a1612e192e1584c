"""DLPack: zero-copy exchange of tensors with PyTorch, NumPy, CuPy, JAX and others, as
``torch.utils.dlpack``.

- ``from_dlpack(obj)``: a tensor on the memory of ``obj``, an object with ``__dlpack__`` and
  ``__dlpack_device__`` (a PyTorch tensor, a NumPy or CuPy array, ...) or a DLPack capsule
  (the legacy form ``to_dlpack`` returns). CPU memory becomes a NumPy-backed tensor, CUDA
  memory a CuPy-backed one (NumPy's and CuPy's own ``from_dlpack`` import it); no copy.
- ``to_dlpack(tensor)``: the tensor's memory as a legacy DLPack capsule (for consumers that
  take capsules, e.g. ``torch.utils.dlpack.from_dlpack``); a capsule is consumed once.
- ``Tensor.__dlpack__`` / ``Tensor.__dlpack_device__``: the protocol itself, so that
  ``torch.from_dlpack(t)``, ``numpy.from_dlpack(t)`` and ``cupy.from_dlpack(t)`` take our
  tensors. A tensor that requires grad is refused (PyTorch's BufferError: detach() it); the
  exported memory is shared, not its autograd history or version counter.
"""
import ctypes

from .. import backend
from ..tensor import Tensor, _wrap

# DLPack's device types (dlpack.h): the ones the library's arrays can live on
_KDL_CPU, _KDL_CUDA, _KDL_CUDA_HOST = 1, 2, 3


def _capsule_device(capsule):
    """(device_type, device_id, versioned) of a DLPack capsule: DLManagedTensor begins with DLTensor,
    which begins with the data pointer and then DLDevice {int32 type; int32 id}."""
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    is_valid = ctypes.pythonapi.PyCapsule_IsValid
    is_valid.restype, is_valid.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
    versioned = False
    if is_valid(capsule, b"dltensor"):
        ptr = get(capsule, b"dltensor")
    elif is_valid(capsule, b"dltensor_versioned"):  # (a version struct comes first)
        ptr, versioned = get(capsule, b"dltensor_versioned") + 8, True
    else:
        raise RuntimeError(
            "from_dlpack received an invalid capsule. Note that DLTensor capsules can be "
            "consumed only once, so you might have already constructed a tensor from it once.")
    dev = (ctypes.c_int32 * 2).from_address(ptr + ctypes.sizeof(ctypes.c_void_p))
    return int(dev[0]), int(dev[1]), versioned


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32),
                ("device_id", ctypes.c_int32), ("ndim", ctypes.c_int32),
                ("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    pass


_DLManagedTensor._fields_ = [
    ("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
    ("deleter", ctypes.CFUNCTYPE(None, ctypes.POINTER(_DLManagedTensor)))]

_DL_KINDS = {0: "i", 1: "u", 2: "f", 6: "b"}  # DLDataTypeCode: int, uint, float, bool


class _LegacyHost:
    """Host memory of a consumed legacy capsule, as NumPy's ``__array_interface__``, kept
    alive by the array built on it and released through the producer's deleter when that
    array goes. (NumPy imports legacy capsules read-only, since they cannot say whether the
    memory may be written; PyTorch, like DLPack before 1.0, takes them as writable.)"""

    def __init__(self, capsule):
        get = ctypes.pythonapi.PyCapsule_GetPointer
        get.restype, get.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
        self.managed = ctypes.cast(get(capsule, b"dltensor"), ctypes.POINTER(_DLManagedTensor))
        t = self.managed.contents.dl_tensor
        if t.code not in _DL_KINDS or t.lanes != 1:
            raise BufferError(f"from_dlpack: unsupported DLPack data type (code {t.code}, "
                              f"{t.bits} bits, {t.lanes} lanes)")
        typestr = "|b1" if t.code == 6 else f"<{_DL_KINDS[t.code]}{t.bits // 8}"
        itemsize = max(t.bits // 8, 1)
        shape = tuple(t.shape[i] for i in range(t.ndim))
        strides = None if not t.strides else tuple(t.strides[i] * itemsize for i in range(t.ndim))
        self.__array_interface__ = {
            "version": 3, "shape": shape, "typestr": typestr, "strides": strides,
            "data": ((t.data or 0) + t.byte_offset, False)}
        rename = ctypes.pythonapi.PyCapsule_SetName
        rename.restype, rename.argtypes = ctypes.c_int, [ctypes.py_object, ctypes.c_char_p]
        rename(capsule, b"used_dltensor")  # consumed: the capsule no longer frees it

    def __del__(self):
        deleter = self.managed.contents.deleter
        if deleter:
            deleter(self.managed)


class _CapsuleSource:
    """A capsule presented through the protocol, for NumPy's and CuPy's from_dlpack."""

    def __init__(self, capsule):
        self.capsule, self.device = capsule, _capsule_device(capsule)
        self.capsule_name = b"dltensor_versioned" if self.device[2] else b"dltensor"
        self.device = self.device[:2]

    def __dlpack__(self, stream=None):  # (the legacy signature: the capsule is legacy too)
        return self.capsule

    def __dlpack_device__(self):
        return self.device


def _is_capsule(obj):
    return type(obj).__name__ == "PyCapsule"


def from_dlpack(ext_tensor):
    """A tensor sharing memory with `ext_tensor` (see the module docstring).

    Args:
        ext_tensor: an object with ``__dlpack__`` and ``__dlpack_device__``, or a DLPack
            capsule.

    Returns:
        Tensor: a leaf that does not require grad.
    """
    if isinstance(ext_tensor, Tensor):
        return ext_tensor.detach()
    src = _CapsuleSource(ext_tensor) if _is_capsule(ext_tensor) else ext_tensor
    if _is_capsule(ext_tensor) and src.device[0] == _KDL_CPU and src.capsule_name == b"dltensor":
        import numpy as np

        return _wrap(np.asarray(_LegacyHost(ext_tensor)))
    if not hasattr(src, "__dlpack__") or not hasattr(src, "__dlpack_device__"):
        raise TypeError(
            f"from_dlpack expects an object with __dlpack__ and __dlpack_device__ or a DLPack "
            f"capsule, got {type(ext_tensor).__name__}")
    kind, index = src.__dlpack_device__()
    kind = int(kind)
    if kind == _KDL_CPU or kind == _KDL_CUDA_HOST:
        dev = backend.CPU
    elif kind == _KDL_CUDA:
        dev = backend.device("cuda", int(index))
    else:
        raise RuntimeError(
            f"from_dlpack: unsupported device type {kind} (this library holds CPU memory and "
            "CUDA memory only)")
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        array = xp.from_dlpack(src)
    backend.from_numpy_dtype(array.dtype)  # (PyTorch's dtypes only: a clear error otherwise)
    return _wrap(array)


def to_dlpack(tensor):
    """The tensor's memory as a DLPack capsule (consumed once by the receiver)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack expects a Tensor, got {type(tensor).__name__}")
    return tensor.__dlpack__()


def _dlpack(self, stream=None, *, max_version=None, dl_device=None, copy=None):
    """The DLPack capsule of this tensor's memory (the array's own ``__dlpack__``)."""
    if self._requires_grad:
        raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
    kwargs = {k: v for k, v in (("max_version", max_version), ("dl_device", dl_device),
                                ("copy", copy)) if v is not None}
    if stream is not None:
        kwargs["stream"] = stream
    return self._data.__dlpack__(**kwargs)


def _dlpack_device(self):
    """(device type, device index) as DLPack numbers them: (1, 0) for the CPU, (2, i) for
    cuda:i."""
    kind, index = self._data.__dlpack_device__()
    return int(kind), int(index)


Tensor.__dlpack__ = _dlpack
Tensor.__dlpack_device__ = _dlpack_device

__all__ = ["from_dlpack", "to_dlpack"]
