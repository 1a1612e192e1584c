"""Device-agnostic array backend: NumPy on the CPU, CuPy on CUDA devices.

This is the only module that imports CuPy. Everything else asks it for the array
module (`xp`) of an array or a device. Availability of CUDA is decided once, lazily,
on the first question about it, so importing the library on a machine without a GPU
compiles nothing and allocates nothing.
"""
import functools
import os
import threading

import numpy as np

# ---------------------------------------------------------------- dtypes


class dtype:
    """A tensor element type; prints as ``autograd_gpu.float32`` like ``torch.float32``."""

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
    name). ``finfo()`` describes the default dtype."""

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
    """Limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min``, ``dtype``."""

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
    """Our dtype for a NumPy dtype; other NumPy types (uint16, complex) are refused."""
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


import builtins as _builtins  # noqa: E402  (the dtype names above shadow float/int/bool)

_builtin_float, _builtin_int, _builtin_bool = _builtins.float, _builtins.int, _builtins.bool


def to_numpy_dtype(d):
    """Accepts our dtype, a NumPy dtype or type, a dtype name, or Python's float/int/bool."""
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


# ---------------------------------------------------------------- devices


class device:
    """``device("cpu")``, ``device("cuda")``, ``device("cuda:1")`` or ``device("cuda", 1)``."""

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
    """The CuPy module, or a RuntimeError that says why CUDA cannot be used here."""
    cp, reason = _probe_cuda()
    if cp is None:
        raise RuntimeError(
            f"CUDA was requested but is not available: {reason}. "
            "Use device='cpu', or install CuPy (pip install 'autograd_gpu[cuda12]' or "
            "'[cuda13]') on a machine with an NVIDIA GPU and driver."
        )
    return cp


def cupy_if_loaded():
    """CuPy when it has already been found usable, else None; never triggers the probe."""
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
    """Sets the device that creation functions use when none is given (process-wide)."""
    global _global_default
    d = normalize_device(dev)
    _global_default = d
    _default.device = None


def normalize_device(dev):
    """A `device` with a concrete index for CUDA; checks that CUDA is usable when asked for."""
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
    """`numpy` for NumPy arrays, `cupy` for CuPy arrays."""
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
    such a view are refused on both devices: NumPy marks it read-only, CuPy would write."""
    for n, s in zip(arr.shape, arr.strides):
        if s == 0 and n > 1:
            return True
    return False


def is_cuda_array(arr):
    """True if arr is a CuPy array.

    Args:
        arr: an array.

    Returns:
        bool.
    """
    return type(arr) is not ndarray


def data_ptr(arr):
    """The address of an array's first element, host or device memory."""
    if type(arr) is ndarray:
        return arr.__array_interface__["data"][0]
    return arr.data.ptr


def storage_offset(arr):
    """How many elements into the memory it views an array starts (PyTorch's
    storage_offset): NumPy's outermost base array, or CuPy's allocation."""
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
    """Copies `arr` to `dev` (explicitly asked for: the only place host/device copies happen)."""
    if dev.type == "cpu":
        return arr if type(arr) is ndarray else arr.get()
    cp = cupy_module()
    with cp.cuda.Device(dev.index):
        return cp.asarray(arr)


def synchronize(dev=None):
    """Waits for the work queued on a CUDA device (the current one by default)."""
    cp = cupy_if_loaded()
    if cp is None:
        return
    if dev is None:
        cp.cuda.get_current_stream().synchronize()
    else:
        cp.cuda.Device(normalize_device(dev).index).synchronize()


# ---------------------------------------------------------------- the host buffer pool


#: arrays smaller than this are left to the C allocator, whose free lists serve them well
POOL_MIN_BYTES = 1 << 20


class _HostPool:
    """Large NumPy arrays for op results, handed out again once nobody else holds them.

    A fresh large array is paid for twice on first touch: a page fault per page and the
    kernel zeroing it (for a 40 MB float32 array about as long as one pass over the data),
    because the C allocator maps big blocks anew and unmaps them when freed. The pool keeps
    every array it handed out, bucketed by (shape, dtype). An array is free again when its
    reference count shows the pool's reference alone; nothing has to return it. Arrays below
    POOL_MIN_BYTES are left to the allocator (its free lists serve those well). `limit` bounds
    the bytes the pool keeps (in use and free together); past it, free arrays of other
    shapes are dropped first, then new arrays go untracked.
    """

    def __init__(self, limit):
        self.limit = limit
        self.buckets = {}
        self.held = set()  # id() of every array the pool holds (kept alive, so ids stay unique)
        self.nbytes = 0
        self.hits = self.misses = 0
        self.lock = threading.Lock()

    def take(self, shape, dt):
        key = (shape, dt)
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is not None:
                for a in bucket:
                    if _getrefcount(a) == 3:  # the bucket, `a`, the call: free
                        self.hits += 1
                        return a
            a = np.empty(shape, dt)
            self.misses += 1
            if self.nbytes + a.nbytes > self.limit:
                self._drop_free(self.nbytes + a.nbytes - self.limit)
                if self.nbytes + a.nbytes > self.limit:
                    return a  # untracked: the allocator frees it as usual
            self.buckets.setdefault(key, []).append(a)
            self.held.add(id(a))
            self.nbytes += a.nbytes
            return a

    def _drop_free(self, needed):
        """Drops free arrays until `needed` bytes are released (or none is free)."""
        for key in list(self.buckets):
            if needed <= 0:
                return
            kept = []
            for a in self.buckets[key]:
                if needed > 0 and _getrefcount(a) == 3:  # the bucket, `a`, the call: free
                    self.held.discard(id(a))
                    self.nbytes -= a.nbytes
                    needed -= a.nbytes
                else:
                    kept.append(a)
            if kept:
                self.buckets[key] = kept
            else:
                del self.buckets[key]

    def stats(self):
        with self.lock:
            free = sum(a.nbytes for b in self.buckets.values() for a in b if _getrefcount(a) == 3)
            return {"pooled_bytes": self.nbytes, "free_bytes": free, "limit_bytes": self.limit,
                    "arrays": len(self.held), "hits": self.hits, "misses": self.misses}


def _pool_limit_from_env():
    mb = os.environ.get("AUTOGRAD_GPU_CPU_POOL_MB")
    if mb is None:
        return 1 << 30
    try:
        return max(0, _builtin_int(_builtin_float(mb) * (1 << 20)))
    except ValueError:
        raise ValueError(
            f"AUTOGRAD_GPU_CPU_POOL_MB must be a number of megabytes (0 turns the pool off), "
            f"got {mb!r}"
        ) from None


from sys import getrefcount as _getrefcount  # noqa: E402

_host_pool = _HostPool(_pool_limit_from_env())


def pooled_out(a, b=None):
    """Where the result of an elementwise op on NumPy array `a` (and `b`: a same-shape,
    same-dtype array or a Python number) may be written: an array from the host pool when
    `a` is large, else None (the op allocates as usual; CuPy arrays use CuPy's own pool)."""
    if (a.__class__ is not ndarray or a.nbytes < POOL_MIN_BYTES or not _host_pool.limit
            or a.dtype.kind != "f"):  # (integer inputs may give a float result)
        return None
    if b is not None:
        if b.__class__ is ndarray:
            if b.shape != a.shape or b.dtype != a.dtype:
                return None
        elif b.__class__ is not _builtin_float and b.__class__ is not _builtin_int:
            return None
    return _host_pool.take(a.shape, a.dtype)


def pooled_empty_like(a):
    """An uninitialized array like `a` (from the host pool when `a` is a large NumPy array)."""
    out = pooled_out(a)
    return array_module(a).empty_like(a) if out is None else out


def extra_refs(a):
    """References to array `a` held by the library's own pool (1 or 0): code that counts
    references to decide whether it alone holds an array subtracts these."""
    return 1 if id(a) in _host_pool.held else 0


def host_pool_stats():
    """What the host buffer pool holds: counts and bytes of free and handed-out arrays, and its
    limit.

    Returns:
        dict.
    """
    return _host_pool.stats()


def set_host_pool_limit(nbytes):
    """Caps the bytes the host pool keeps (0 turns it off); free arrays over the cap go."""
    nbytes = _builtin_int(nbytes)
    if nbytes < 0:
        raise ValueError(f"the pool limit must be >= 0 bytes, got {nbytes}")
    with _host_pool.lock:
        _host_pool.limit = nbytes
        if _host_pool.nbytes > nbytes:
            _host_pool._drop_free(_host_pool.nbytes - nbytes)


def empty_host_cache():
    """Releases every free array the host pool keeps (arrays in use stay tracked)."""
    with _host_pool.lock:
        _host_pool._drop_free(_host_pool.nbytes)


# ---------------------------------------------------------------- out of memory


class OutOfMemoryError(RuntimeError, MemoryError):
    """An op ran out of host or device memory, after the cached blocks were freed and the op
    tried once more. A RuntimeError, as ``torch.cuda.OutOfMemoryError``; also a MemoryError,
    so code that catches MemoryError still catches it. Attributes: ``op`` (the op's name),
    ``phase`` ("forward" or "backward"), ``device``, ``requested_bytes`` (None if unknown)."""

    def __init__(self, message, op=None, phase=None, device=None, requested_bytes=None):
        super().__init__(message)
        self.op, self.phase, self.device, self.requested_bytes = op, phase, device, requested_bytes


def release_free_memory():
    """Frees memory that is cached but unused: arrays only garbage cycles still hold, the
    host pool's free arrays, and CuPy's free device blocks (every device) and pinned host
    blocks, where CuPy is in use. The out-of-memory path runs this before its one retry."""
    import gc

    gc.collect()  # (cycles may hold the last reference to pooled arrays)
    empty_host_cache()
    cp = cupy_if_loaded()
    if cp is None:
        return
    pool = cp.get_default_memory_pool()
    for i in range(cuda_device_count()):
        with cp.cuda.Device(i):  # (a pool frees the current device's blocks only)
            pool.free_all_blocks()
    cp.get_default_pinned_memory_pool().free_all_blocks()


def requested_bytes(error):
    """The bytes a failed allocation asked for, from NumPy's or CuPy's MemoryError (None when
    the error does not say)."""
    n = getattr(error, "_total_size", None)  # NumPy's _ArrayMemoryError
    if isinstance(n, _builtin_int):
        return n
    import re

    m = re.search(r"allocat\w* ([\d,]+) bytes", str(error))  # CuPy's message
    return _builtin_int(m.group(1).replace(",", "")) if m else None


def format_bytes(n):
    """``1.50 GiB``, ``20.00 MiB``, ``512 B``: PyTorch's style of sizes in its OOM messages."""
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def memory_held(dev):
    """What the library's pools hold, in words, for an out-of-memory message about `dev`:
    the device pool of a CUDA device (in use, cached free, limit) and the host pool."""
    parts = []
    cp = cupy_if_loaded()
    if dev is not None and dev.type == "cuda" and cp is not None:
        pool = cp.get_default_memory_pool()
        with cp.cuda.Device(dev.index):
            used, total, limit = pool.used_bytes(), pool.total_bytes(), pool.get_limit()
        parts.append(f"the device pool on {dev} holds {format_bytes(total)} "
                     f"({format_bytes(used)} in use by arrays, "
                     f"{format_bytes(total - used)} cached free; limit "
                     f"{format_bytes(limit) if limit else 'none'})")
    s = _host_pool.stats()
    parts.append(f"the host pool holds {format_bytes(s['pooled_bytes'])} "
                 f"({format_bytes(s['free_bytes'])} free; limit {format_bytes(s['limit_bytes'])})")
    return "; ".join(parts)


# ---------------------------------------------------------------- host threads


#: NumPy ufuncs whose loops cost several times a pass over memory (transcendentals): on a
#: large array, splitting one across cores pays. Cheap ufuncs (add, multiply, sqrt) are
#: bound by memory bandwidth, which more threads on the same memory do not raise.
_THREADED_UFUNCS = frozenset((
    np.exp, np.expm1, np.exp2, np.log, np.log1p, np.log2, np.log10,
    np.sin, np.cos, np.tan, np.arcsin, np.arccos, np.arctan,
    np.sinh, np.cosh, np.tanh, np.arcsinh, np.arccosh, np.arctanh,
))
#: elements per thread below which waking another thread costs more than it saves: the
#: threads contend for the GIL between the ufunc calls of a formula, and measured on the
#: 2-core benchmark machine, Adam over 1e5 parameters was no faster on two threads
THREAD_MIN_ELEMENTS = 1 << 17
#: the bytes of each array in one block of a blockwise update or formula (host_blockwise):
#: the block's arrays and temporaries stay in cache across the formula's passes
HOST_BLOCK_BYTES = 1 << 20
#: block boundaries fall on multiples of this many elements, so that every block starts as
#: aligned as the array does and NumPy's SIMD loops see the same runs as on the whole array
_BLOCK_ALIGN = 1024


def _threads_from_env():
    n = os.environ.get("OMP_NUM_THREADS", "").strip()  # the variable PyTorch reads, too
    if n.isdigit() and _builtin_int(n) > 0:
        return _builtin_int(n)
    try:
        return len(os.sched_getaffinity(0))  # the cores this process may run on
    except AttributeError:  # (not on every platform)
        return os.cpu_count() or 1


_num_threads = _threads_from_env()
_executor = None  # made on first use; the calling thread runs one share itself
_executor_lock = threading.Lock()


def get_num_threads():
    """Threads the host's blockwise work runs on (as ``torch.get_num_threads()``)."""
    return _num_threads


def set_num_threads(n):
    """Sets the threads the host's blockwise work runs on (elementwise backward formulas,
    optimizer updates, costly ufuncs such as exp and tanh), as ``torch.set_num_threads``.
    The default is OMP_NUM_THREADS when set, else the cores this process may use; 1 runs
    everything on the calling thread."""
    global _num_threads, _executor
    if n.__class__ is _builtin_bool or not isinstance(n, (_builtin_int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    with _executor_lock:
        _num_threads = _builtin_int(n)
        _executor = None  # the old pool's threads exit once the calls using it are done


def _reset_executor_in_child():
    # a forked child has the executor object but none of its threads: start afresh
    global _executor, _executor_lock
    _executor, _executor_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_executor_in_child)


def _executor_now():
    global _executor
    with _executor_lock:
        if _executor is None:
            from concurrent.futures import ThreadPoolExecutor

            _executor = ThreadPoolExecutor(_num_threads - 1, thread_name_prefix="autograd_gpu-host")
        return _executor


# set on a thread while it runs a share: a host_for_blocks called from inside one (a formula
# that calls another) runs on that thread alone, since the pool's threads may all be busy
# with the outer call's shares and would never pick the inner ones up
_in_share = threading.local()


def _run_share(fn, lo, hi, block, err):
    _in_share.active = True  # (a pool thread only ever runs shares)
    with np.errstate(**err):  # the caller's error handling (a thread starts with the defaults)
        for i in range(lo, hi, block):
            fn(i, min(i + block, hi))


def host_for_blocks(fn, n, block):
    """Calls ``fn(lo, hi)`` on consecutive ranges that cover ``range(n)``, each at most
    `block` long, dealt out in contiguous shares to the host threads; the calling thread
    runs the first share. `fn` must touch only its own range, and it should spend its time in
    NumPy, which releases the GIL inside a ufunc. The caller's ``np.errstate`` holds on every
    thread; an error is re-raised once no thread is still running."""
    blocks = -(-n // block)
    k = min(_num_threads, blocks)
    if k < 2 or getattr(_in_share, "active", False):
        for lo in range(0, n, block):
            fn(lo, min(lo + block, n))
        return
    executor = _executor_now()
    share = -(-blocks // k) * block
    err = np.geterr()
    futures = [executor.submit(_run_share, fn, lo, min(lo + share, n), block, err)
               for lo in range(share, n, share)]
    _in_share.active = True
    try:
        for lo in range(0, share, block):
            fn(lo, min(lo + block, share))
    except BaseException:
        for fut in futures:
            fut.exception()  # waits: no thread may still be writing
        raise
    finally:
        _in_share.active = False
    for fut in futures:
        fut.result()  # re-raises a share's error


def host_blockwise(fn, *arrays):
    """Runs ``fn(*blocks)`` on matching blocks of `arrays` (a None stays None), spread across
    the host threads, when they are C-contiguous NumPy arrays of one shape; returns whether
    it did (if not, the caller runs `fn` on the whole arrays). Blocks hold HOST_BLOCK_BYTES
    of the first array: a formula of several elementwise passes then runs each block's
    passes while it is in cache, and main memory sees each array about once. Every thread
    gets as many blocks, and at least THREAD_MIN_ELEMENTS; arrays too small for two threads
    or two blocks are left whole. Elementwise formulas compute every element as they would
    on the whole arrays."""
    first = arrays[0]
    if first.__class__ is not ndarray:
        return False
    block = host_block_size(first)
    if not block or not all(
            a is None or a.__class__ is ndarray and a.flags.c_contiguous and a.shape == first.shape
            for a in arrays):
        return False
    flat = [None if a is None else a.reshape(-1) for a in arrays]  # views: all are contiguous

    def run(lo, hi):
        fn(*[None if a is None else a[lo:hi] for a in flat])

    host_for_blocks(run, first.size, block)
    return True


def host_block_size(a):
    """The elements per block host_blockwise cuts NumPy array `a` into, or 0 where it leaves
    `a` whole (too small for two threads or two blocks): callers ask it before allocating."""
    n = a.size
    k = min(_num_threads, n // THREAD_MIN_ELEMENTS)  # the threads worth waking
    most = HOST_BLOCK_BYTES // a.itemsize
    if k < 2 and n < 2 * most:
        return 0
    k = max(k, 1)
    blocks = k * -(-n // (k * most))  # a multiple of k: every thread gets as many blocks
    block = -(-n // blocks)
    return block + -block % _BLOCK_ALIGN


def _ufunc_into(f, x, out):
    f(x, out=out)


def host_ufunc(f, x, out):
    """``f(x, out=out)`` for NumPy arrays `x` and `out`; split across the host threads
    (host_blockwise) when `f` is a costly ufunc. Returns `out`."""
    if f not in _THREADED_UFUNCS or not host_blockwise(functools.partial(_ufunc_into, f), x, out):
        f(x, out=out)
    return out
