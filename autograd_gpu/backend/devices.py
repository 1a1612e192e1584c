"""Devices: the CPU and CUDA devices, the CUDA probe, the default device, and which device
an array lives on. The only module that imports CuPy."""
import os
import threading

import numpy as np

from .dtypes import _builtin_int

# ---------------------------------------------------------------- devices


class device:
    """``device("cpu")``, ``device("cuda")``, ``device("cuda:1")`` or ``device("cuda", 1)``.

    Two devices are equal when their type and index are; a device also equals its name
    (``device("cuda:0") == "cuda:0"``). Nothing is checked here about CUDA being usable.

    Args:
        spec: "cpu", "cuda" or "cuda:<index>", or a device (copied; `index` is then ignored).
        index: the CUDA device's index when `spec` gives none (None: no index, the current
            device where it is used); for the CPU only None or 0, kept as None.
    """

    __slots__ = ("type", "index")

    def __init__(self, spec, index=None):
        if isinstance(spec, device):
            self.type, self.index = spec.type, spec.index
            return
        if not isinstance(spec, str):
            raise TypeError(f"device() expects a string such as 'cpu' or 'cuda:0', got {spec!r}")
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise RuntimeError(
                f"Expected one of cpu, cuda device type at start of device string: {spec}"
            )
        if idx:
            if index is not None or not idx.isdigit():
                raise RuntimeError(f"Invalid device string: '{spec}'")
            index = _builtin_int(idx)
        if kind == "cpu" and index not in (None, 0):
            raise RuntimeError(f"CPU device index must be 0 or absent, got {index}")
        self.type = kind
        self.index = None if kind == "cpu" else index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = device("cpu")

# ---------------------------------------------------------------- CUDA availability

_cuda_lock = threading.Lock()
_cuda_state = None  # None: not probed yet; else (cupy module or None, reason string or None)


def _probe_cuda():
    """Import CuPy and ask it for a usable device, once. Keeps the reason when there is none."""
    global _cuda_state
    if _cuda_state is not None:
        return _cuda_state
    with _cuda_lock:
        if _cuda_state is not None:
            return _cuda_state
        try:
            import cupy
        except Exception as e:  # ImportError, or a broken install
            _cuda_state = (None, f"CuPy is not installed or failed to import ({type(e).__name__}: {e})")
            return _cuda_state
        try:
            # cupy imports without a driver; every allocation then fails. Ask once here.
            count = cupy.cuda.runtime.getDeviceCount()
            if count < 1:
                _cuda_state = (None, "CuPy is installed but the CUDA driver reports no device")
            elif not cupy.is_available():
                _cuda_state = (None, "CuPy is installed but reports no usable CUDA device")
            else:
                _cuda_state = (cupy, None)
        except Exception as e:
            _cuda_state = (
                None,
                f"CuPy is installed but no CUDA driver or device is usable ({type(e).__name__}: {e})",
            )
        return _cuda_state


def cuda_is_available():
    """True if a CUDA device is usable (probed once, lazily).

    Returns:
        bool.
    """
    return _probe_cuda()[0] is not None


def cuda_device_count():
    """The number of usable CUDA devices (0 without CuPy, driver or device).

    Returns:
        int.
    """
    cp = _probe_cuda()[0]
    return 0 if cp is None else cp.cuda.runtime.getDeviceCount()


def cuda_unavailable_reason():
    """Why CUDA is not usable (CuPy missing, no driver, no device), or None when it is.

    Returns:
        str or None.
    """
    return _probe_cuda()[1]


def cupy_module():
    """The CuPy module, or a RuntimeError that says why CUDA cannot be used here.

    Returns:
        module: ``cupy`` (probed once, lazily; raises RuntimeError with the probe's reason
        when CUDA is not usable).
    """
    cp, reason = _probe_cuda()
    if cp is None:
        raise RuntimeError(
            f"CUDA was requested but is not available: {reason}. "
            "Use device='cpu', or install CuPy (pip install 'autograd_gpu[cuda12]' or "
            "'[cuda13]') on a machine with an NVIDIA GPU and driver."
        )
    return cp


def cupyx_module(submodule=None):
    """CuPy's extras (``cupyx``, or ``cupyx.<submodule>`` such as "scipy.special"); CUDA must
    be usable (see cupy_module)."""
    cupy_module()
    import importlib

    return importlib.import_module("cupyx" + ("." + submodule if submodule else ""))


def cupy_if_loaded():
    """CuPy when it has already been found usable, else None; never triggers the probe.

    Returns:
        module or None: ``cupy`` if an earlier probe found CUDA usable, else None (also
        when nothing has probed yet).
    """
    st = _cuda_state
    return None if st is None else st[0]


# ---------------------------------------------------------------- default device

_default = threading.local()
_global_default = None


def _initial_default():
    env = os.environ.get("AUTOGRAD_GPU_DEVICE")
    if env:
        d = device(env)
        if d.type == "cuda":
            check_device(d)
        return d
    # the CPU, as PyTorch's default: a program moves its work to a GPU by saying so (.cuda(),
    # device=), so what it prints (.numpy(), .item()) does not depend on the machine
    return CPU


def get_default_device():
    """The device new tensors are created on (the CPU unless set otherwise).

    Returns:
        device.
    """
    global _global_default
    d = getattr(_default, "device", None)
    if d is not None:
        return d
    if _global_default is None:
        _global_default = _initial_default()
    return _global_default


def set_default_device(dev):
    """Sets the device that creation functions use when none is given (process-wide).

    Args:
        dev: a device, its name ("cpu", "cuda", "cuda:1") or a CUDA index (an int); a
            CUDA device is checked to be usable and gets a concrete index.

    Returns:
        None.
    """
    global _global_default
    d = normalize_device(dev)
    _global_default = d
    _default.device = None


def normalize_device(dev):
    """A `device` with a concrete index for CUDA; checks that CUDA is usable when asked for.

    Args:
        dev: a device, its name ("cuda:1"), a CUDA index (an int), or None (the default
            device).

    Returns:
        device: `dev` as a device, a CUDA one given the current device's index when it
        names none (raises RuntimeError when CUDA or that index is not usable).
    """
    if dev is None:
        return get_default_device()
    if type(dev) is not device:
        if isinstance(dev, _builtin_int):
            dev = device("cuda", dev)
        else:
            dev = device(dev)
    if dev.type == "cuda":
        check_device(dev)
        if dev.index is None:
            dev = device("cuda", cupy_module().cuda.runtime.getDevice())
    return dev


def check_device(dev):
    """Check that a device is usable, raising the reason when it is not.

    Args:
        dev: a device or its name.

    Returns:
        device.
    """
    cp = cupy_module()
    n = cp.cuda.runtime.getDeviceCount()
    if dev.index is not None and not 0 <= dev.index < n:
        raise RuntimeError(f"CUDA device {dev.index} was requested but only {n} device(s) exist")


# ---------------------------------------------------------------- arrays on devices

ndarray = np.ndarray


def array_module(arr):
    """`numpy` for NumPy arrays, `cupy` for CuPy arrays.

    Args:
        arr: an array (anything that is not a CuPy array counts as NumPy's).

    Returns:
        module: ``cupy`` for a CuPy array (when CuPy is loaded), else ``numpy``.
    """
    if type(arr) is ndarray:
        return np
    cp = cupy_if_loaded()
    if cp is not None and isinstance(arr, cp.ndarray):
        return cp
    return np


def xp_for(dev):
    """The array module (NumPy or CuPy) of a device.

    Args:
        dev: a device.

    Returns:
        module.
    """
    return np if dev.type == "cpu" else cupy_module()


def device_of(arr):
    """The device an array lives on.

    Args:
        arr: a NumPy or CuPy array.

    Returns:
        device.
    """
    if type(arr) is ndarray:
        return CPU
    return device("cuda", arr.device.id)


def enter_device_of(arr):
    """Makes the device of the CuPy array `arr` current (CuPy runs work on the current device,
    whatever device the arrays are on); returns the device to restore, None when it already
    was current. The tape calls this around every CUDA op's forward and backward."""
    cp = cupy_module()
    want = arr.device.id
    cur = cp.cuda.runtime.getDevice()
    if want == cur:
        return None
    cp.cuda.runtime.setDevice(want)
    return cur


def restore_device(prev):
    """Make prev the current CUDA device again (the counterpart of entering an array's device).

    Args:
        prev: what entering returned.

    Returns:
        None.
    """
    cupy_module().cuda.runtime.setDevice(prev)


def self_overlapping(arr):
    """True when elements of `arr` share memory (a broadcast or expanded view). Writes through
    such a view are refused on both devices: NumPy marks it read-only, CuPy would write.

    Args:
        arr: a NumPy or CuPy array.

    Returns:
        bool: True when a dimension longer than 1 has stride 0.
    """
    for n, s in zip(arr.shape, arr.strides):
        if s == 0 and n > 1:
            return True
    return False


def is_device_array(obj):
    """True for a CuPy array, False for anything else (a NumPy array, a scalar, a Tensor).

    A type test against CuPy's ndarray once CuPy has been found usable (never probes it):
    ``hasattr(obj, "__cuda_array_interface__")`` would build that interface's dict inside
    CuPy on every call.

    Args:
        obj: any object.

    Returns:
        bool.
    """
    if type(obj) is ndarray:
        return False
    st = _cuda_state
    return st is not None and st[0] is not None and isinstance(obj, st[0].ndarray)


def is_cuda_array(arr):
    """True if arr is a CuPy array.

    Args:
        arr: an array.

    Returns:
        bool.
    """
    return type(arr) is not ndarray


def data_ptr(arr):
    """The address of an array's first element, host or device memory.

    Args:
        arr: a NumPy or CuPy array.

    Returns:
        int: the address (a device pointer for a CuPy array).
    """
    if type(arr) is ndarray:
        return arr.__array_interface__["data"][0]
    return arr.data.ptr


def storage_offset(arr):
    """How many elements into the memory it views an array starts (PyTorch's
    storage_offset): NumPy's outermost base array, or CuPy's allocation.

    Args:
        arr: a NumPy or CuPy array.

    Returns:
        int: the offset in elements of `arr`'s itemsize.
    """
    if type(arr) is ndarray:
        base = arr
        while isinstance(base.base, ndarray):
            base = base.base
        return (data_ptr(arr) - data_ptr(base)) // arr.itemsize
    return (arr.data.ptr - arr.data.mem.ptr) // arr.itemsize


class on_device:
    """Makes `dev` the current CUDA device for allocations; does nothing for the CPU."""

    __slots__ = ("dev", "ctx")

    def __init__(self, dev):
        self.dev = dev
        self.ctx = None

    def __enter__(self):
        if self.dev.type == "cuda":
            self.ctx = cupy_module().cuda.Device(self.dev.index)
            self.ctx.__enter__()
        return self

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)




def to_device(arr, dev):
    """Copies `arr` to `dev` (explicitly asked for: the only place host/device copies happen).

    Args:
        arr: a NumPy or CuPy array.
        dev: the target device (with a concrete index for CUDA).

    Returns:
        ndarray: a NumPy array for the CPU (`arr` itself when it is one already), else
        ``cupy.asarray(arr)`` made with `dev` current.
    """
    if dev.type == "cpu":
        return arr if type(arr) is ndarray else arr.get()
    cp = cupy_module()
    with cp.cuda.Device(dev.index):
        return cp.asarray(arr)


def synchronize(dev=None):
    """Waits for the work queued on a CUDA device (the current one by default).

    Args:
        dev: the device to wait for (None: the current device's current stream); nothing
            happens until CuPy has been found usable.

    Returns:
        None.
    """
    cp = cupy_if_loaded()
    if cp is None:
        return
    if dev is None:
        cp.cuda.get_current_stream().synchronize()
    else:
        cp.cuda.Device(normalize_device(dev).index).synchronize()


