"""torch.cuda's device utilities on CuPy: device names and properties, the current device,
memory statistics, streams and events. (Re-exported by autograd_gpu.cuda.)

Without a usable CUDA device, the calls that need one raise the library's RuntimeError that
says why (CuPy missing, no driver, no device); the statistics return 0 and empty_cache does
nothing, as PyTorch's do before CUDA is initialized.

Memory numbers are the CuPy memory pool's: memory_allocated is the bytes held by arrays,
memory_reserved the bytes the pool holds. CuPy keeps no peak, so max_memory_allocated and
max_memory_reserved are the highest values seen by this module's calls (each call to one
of the statistics above or to empty_cache looks at the pool) since reset_peak_memory_stats: a lower bound of the true peak.
"""
import threading

from . import backend


def _cp():
    return backend.cupy_module()


def _index(device):
    """A device index from None (the current device), an int, a str or a device."""
    if device is None:
        return _cp().cuda.runtime.getDevice()
    if isinstance(device, int) and not isinstance(device, bool):
        return device
    dev = backend.device(device) if not isinstance(device, backend.device) else device
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return dev.index if dev.index is not None else _cp().cuda.runtime.getDevice()


class _CudaDeviceProperties:
    """What get_device_properties returns (PyTorch's attribute names)."""

    def __init__(self, props):
        name = props.get("name", b"")
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.total_memory = int(props.get("totalGlobalMem", 0))
        self.major = int(props.get("major", 0))
        self.minor = int(props.get("minor", 0))
        self.multi_processor_count = int(props.get("multiProcessorCount", 0))
        self.L2_cache_size = int(props.get("l2CacheSize", 0))
        self.is_integrated = bool(props.get("integrated", 0))
        self.is_multi_gpu_board = bool(props.get("isMultiGpuBoard", 0))

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, "
                f"minor={self.minor}, total_memory={self.total_memory // (1 << 20)}MB, "
                f"multi_processor_count={self.multi_processor_count}, "
                f"L2_cache_size={self.L2_cache_size // (1 << 20)}MB)")


def get_device_properties(device=None):
    """The properties of a CUDA device (name, memory, compute capability).

    Args:
        device: a device, its index or None for the current one.

    Returns:
        the device's properties.
    """
    i = _index(device)
    n = backend.cuda_device_count()
    if not 0 <= i < n:
        raise AssertionError("Invalid device id")
    return _CudaDeviceProperties(_cp().cuda.runtime.getDeviceProperties(i))


def get_device_name(device=None):
    """The name of a CUDA device.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        str.
    """
    return get_device_properties(device).name


def get_device_capability(device=None):
    """The compute capability of a CUDA device.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        tuple: (major, minor)
    """
    p = get_device_properties(device)
    return p.major, p.minor


def set_device(device):
    """Makes `device` (an index, "cuda:i" or a device) the current CUDA device; a negative
    index does nothing, as PyTorch.

    Args:
        device: an index, ``"cuda:i"`` or a device.

    Returns:
        None.
    """
    i = _index(device)
    if i >= 0:
        _cp().cuda.runtime.setDevice(i)


class device:
    """``with cuda.device(i):`` makes device i current inside the block (None or a negative
    index: no change).

    Args:
        device: an index, ``"cuda:i"``, a device or None.
    """

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            rt = _cp().cuda.runtime
            self.prev_idx = rt.getDevice()
            if self.prev_idx != self.idx:
                rt.setDevice(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            _cp().cuda.runtime.setDevice(self.prev_idx)
        return False


class device_of(device):
    """``with cuda.device_of(tensor):``: the tensor's device is current inside (a CPU
    tensor: no change).

    Args:
        obj: a Tensor.
    """

    def __init__(self, obj):
        super().__init__(obj.device.index if obj.is_cuda else -1)


# ---------------------------------------------------------------- memory

_peak_lock = threading.Lock()
_peaks = {}  # device index -> [max allocated seen, max reserved seen]


def _pool_numbers(i):
    cp = backend.cupy_if_loaded()
    if cp is None:
        return 0, 0
    pool = cp.get_default_memory_pool()
    with cp.cuda.Device(i):
        used, total = int(pool.used_bytes()), int(pool.total_bytes())
    with _peak_lock:
        peak = _peaks.setdefault(i, [0, 0])
        peak[0], peak[1] = max(peak[0], used), max(peak[1], total)
    return used, total


def _stat_index(device):
    if backend.cupy_if_loaded() is None and not backend.cuda_is_available():
        return None
    return _index(device)


def memory_allocated(device=None):
    """Bytes held by CUDA arrays on the device (CuPy's pool: used_bytes).

    Args:
        device: a device, its index or None for the current one.

    Returns:
        int (0 where CUDA is not usable).
    """
    i = _stat_index(device)
    return 0 if i is None else _pool_numbers(i)[0]


def memory_reserved(device=None):
    """Bytes the CuPy pool holds on the device (in use and cached free).

    Args:
        device: a device, its index or None for the current one.

    Returns:
        int (0 where CUDA is not usable).
    """
    i = _stat_index(device)
    return 0 if i is None else _pool_numbers(i)[1]


def max_memory_allocated(device=None):
    """The peak bytes held by tensors on a CUDA device since start or the last reset.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        int.
    """
    i = _stat_index(device)
    if i is None:
        return 0
    _pool_numbers(i)
    return _peaks[i][0]


def max_memory_reserved(device=None):
    """The peak bytes held by the memory pool on a CUDA device since start or the last reset.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        int.
    """
    i = _stat_index(device)
    if i is None:
        return 0
    _pool_numbers(i)
    return _peaks[i][1]


def reset_peak_memory_stats(device=None):
    """Reset the peak memory statistics of a CUDA device.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        None.
    """
    i = _stat_index(device)
    if i is None:
        return
    with _peak_lock:
        _peaks.pop(i, None)
    _pool_numbers(i)


reset_max_memory_allocated = reset_peak_memory_stats


def memory_stats(device=None):
    """The few keys of PyTorch's memory_stats this library can fill.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        dict: ``allocated_bytes.all.current`` / ``.peak`` and ``reserved_bytes.all.current``
        / ``.peak`` (empty where CUDA is not usable).
    """
    i = _stat_index(device)
    if i is None:
        return {}
    used, total = _pool_numbers(i)
    return {"allocated_bytes.all.current": used, "allocated_bytes.all.peak": _peaks[i][0],
            "reserved_bytes.all.current": total, "reserved_bytes.all.peak": _peaks[i][1]}


def empty_cache():
    """Frees the CuPy pools' cached free blocks (every device) and pinned host blocks.

    Returns:
        None.
    """
    cp = backend.cupy_if_loaded()
    if cp is None:
        return
    for i in range(backend.cuda_device_count()):
        _pool_numbers(i)
    backend.release_free_memory()


def mem_get_info(device=None):
    """(free, total) bytes of the device, from the driver.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        tuple: (free, total), ints.
    """
    with _DeviceScope(_index(device)):
        return tuple(int(n) for n in _cp().cuda.runtime.memGetInfo())


class _DeviceScope:
    def __init__(self, i):
        self.i = i

    def __enter__(self):
        self.ctx = _cp().cuda.Device(self.i)
        return self.ctx.__enter__()

    def __exit__(self, *exc):
        return self.ctx.__exit__(*exc)


def is_bf16_supported(including_emulation=True):
    """False: CuPy (and NumPy) have no bfloat16 array type, whatever the GPU can do.

    Args:
        including_emulation: accepted, changes nothing.

    Returns:
        bool: False.
    """
    return False


# ---------------------------------------------------------------- streams and events


class Stream:
    """A CUDA stream (CuPy's, in ``.cupy_stream``) on `device` (the current one by default).
    ``priority`` is accepted and not used.

    Args:
        device: a device, its index or None for the current one.
        priority: accepted, not used.
        kwargs: accepted, not used.
    """

    def __init__(self, device=None, priority=0, **kwargs):
        cp = _cp()
        i = _index(device)
        with cp.cuda.Device(i):
            self.cupy_stream = kwargs.get("_cupy_stream") or cp.cuda.Stream(non_blocking=True)
        self.device = backend.device("cuda", i)
        self.priority = priority

    @classmethod
    def _wrap(cls, cupy_stream, index):
        s = object.__new__(cls)
        s.cupy_stream, s.device, s.priority = cupy_stream, backend.device("cuda", index), 0
        return s

    @property
    def cuda_stream(self):
        """The stream's raw CUDA handle (an int)."""
        return self.cupy_stream.ptr

    def synchronize(self):
        """Waits until all the work queued on the stream is done."""
        self.cupy_stream.synchronize()

    def query(self):
        """True when all the work queued on the stream is done.

        Returns:
            bool.
        """
        return bool(self.cupy_stream.done)

    def record_event(self, event=None):
        """Records an event on the stream.

        Args:
            event: the Event (None: a new one).

        Returns:
            Event: the recorded event.
        """
        event = Event() if event is None else event
        event.record(self)
        return event

    def wait_event(self, event):
        """Makes the stream's later work wait for `event`.

        Args:
            event: a recorded Event.
        """
        self.cupy_stream.wait_event(event._event)

    def wait_stream(self, stream):
        """Makes the stream's later work wait for the work queued on `stream` so far.

        Args:
            stream: another Stream.
        """
        self.wait_event(stream.record_event())

    def __eq__(self, other):
        return isinstance(other, Stream) and other.cupy_stream is self.cupy_stream

    def __hash__(self):
        return hash(id(self.cupy_stream))

    def __repr__(self):
        return f"<autograd_gpu.cuda.Stream device={self.device} cuda_stream={self.cuda_stream:#x}>"


def current_stream(device=None):
    """The current CUDA stream of a device.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        the stream.
    """
    cp = _cp()
    i = _index(device)
    return Stream._wrap(cp.cuda.get_current_stream(i), i)


def default_stream(device=None):
    """The default CUDA stream of a device.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        the stream.
    """
    cp = _cp()
    return Stream._wrap(cp.cuda.Stream.null, _index(device))


class stream:
    """``with cuda.stream(s):`` queues the block's CUDA work on `s` (None: no change).

    Args:
        stream: a Stream or None.
    """

    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        if self.stream is not None:
            self._dev = device(self.stream.device.index)
            self._dev.__enter__()
            self.stream.cupy_stream.__enter__()
        return self.stream

    def __exit__(self, *exc):
        if self.stream is not None:
            self.stream.cupy_stream.__exit__(*exc)
            self._dev.__exit__(*exc)
        return False


def set_stream(stream):
    """Make stream the current CUDA stream.

    Args:
        stream: the stream to use.

    Returns:
        None.
    """
    if stream is not None:
        stream.cupy_stream.use()


class Event:
    """A CUDA event: ``record(stream)``, ``synchronize()``, ``query()``, ``wait(stream)``
    and ``elapsed_time(end)`` in milliseconds (both events made with enable_timing=True).

    Args:
        enable_timing: the event records time (for elapsed_time).
        blocking: synchronize() blocks the thread instead of spinning (CuPy's block).
        interprocess: the event may be shared between processes.
    """

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        cp = _cp()
        self.enable_timing = bool(enable_timing)
        self._event = cp.cuda.Event(block=blocking, disable_timing=not enable_timing,
                                    interprocess=interprocess)
        self._recorded = False

    def record(self, stream=None):
        """Records the event on a stream.

        Args:
            stream: the Stream (None: the current one).
        """
        s = current_stream() if stream is None else stream
        self._event.record(s.cupy_stream)
        self._recorded = True

    def wait(self, stream=None):
        """Makes a stream's later work wait for this event.

        Args:
            stream: the Stream (None: the current one).
        """
        s = current_stream() if stream is None else stream
        s.cupy_stream.wait_event(self._event)

    def query(self):
        """Whether the work before the event's record is done.

        Returns:
            bool.
        """
        return bool(self._event.done)

    def synchronize(self):
        """Waits until the event has happened."""
        self._event.synchronize()

    def elapsed_time(self, end_event):
        """The time from this event to `end_event`.

        Args:
            end_event: a later recorded Event (both made with enable_timing=True).

        Returns:
            float: milliseconds.
        """
        if not (self.enable_timing and end_event.enable_timing):
            raise RuntimeError("Both events must be created with argument 'enable_timing=True'.")
        if not (self._recorded and end_event._recorded):
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return float(_cp().cuda.get_elapsed_time(self._event, end_event._event))

    def __repr__(self):
        return f"<autograd_gpu.cuda.Event enable_timing={self.enable_timing}>"


def is_initialized():
    """True once CUDA has been probed and set up in this process.

    Returns:
        bool.
    """
    return backend.cupy_if_loaded() is not None


def init():
    """Probe and set up CUDA now (it is otherwise done lazily on first use).

    Returns:
        None.
    """
    _cp()


__all__ = [
    "get_device_properties", "get_device_name", "get_device_capability", "set_device",
    "device", "device_of", "memory_allocated", "memory_reserved", "max_memory_allocated",
    "max_memory_reserved", "reset_peak_memory_stats", "reset_max_memory_allocated",
    "memory_stats", "empty_cache", "mem_get_info", "is_bf16_supported", "Stream",
    "current_stream", "default_stream", "stream", "set_stream", "Event", "is_initialized",
    "init",
]
