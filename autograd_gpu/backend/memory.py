"""Out of memory: the error, freeing cached memory before a retry, and the message's facts."""
from . import host_pool
from .devices import cuda_device_count, cupy_if_loaded
from .dtypes import _builtin_int

# ---------------------------------------------------------------- out of memory


class OutOfMemoryError(RuntimeError, MemoryError):
    """An op ran out of host or device memory, after the cached blocks were freed and the op
    tried once more. A RuntimeError, as ``torch.cuda.OutOfMemoryError``; also a MemoryError,
    so code that catches MemoryError still catches it. Attributes: ``op`` (the op's name),
    ``phase`` ("forward" or "backward"), ``device``, ``requested_bytes`` (None if unknown).

    Args:
        message: the error's text.
        op: the name of the op that ran out of memory.
        phase: "forward" or "backward".
        device: the device the op ran on.
        requested_bytes: the size of the allocation that failed (None if unknown).
    """

    def __init__(self, message, op=None, phase=None, device=None, requested_bytes=None):
        super().__init__(message)
        self.op, self.phase, self.device, self.requested_bytes = op, phase, device, requested_bytes


def release_free_memory():
    """Frees memory that is cached but unused: arrays only garbage cycles still hold, the
    host pool's free blocks, and CuPy's free device blocks (every device) and pinned host
    blocks, where CuPy is in use. The out-of-memory path runs this before its one retry.

    Returns:
        None.
    """
    import gc

    gc.collect()  # (cycles may hold the last reference to large arrays)
    host_pool.empty_host_cache()
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
    the error does not say).

    Args:
        error: the MemoryError (NumPy's carries the size, CuPy's says it in its message).

    Returns:
        int or None: the bytes requested, or None.
    """
    n = getattr(error, "_total_size", None)  # NumPy's _ArrayMemoryError
    if isinstance(n, _builtin_int):
        return n
    import re

    m = re.search(r"allocat\w* ([\d,]+) bytes", str(error))  # CuPy's message
    return _builtin_int(m.group(1).replace(",", "")) if m else None


def format_bytes(n):
    """``1.50 GiB``, ``20.00 MiB``, ``512 B``: PyTorch's style of sizes in its OOM messages.

    Args:
        n: a number of bytes.

    Returns:
        str: `n` in the largest binary unit (KiB to TiB) it reaches, with two decimals, or
        in bytes below 1 KiB.
    """
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def memory_held(dev):
    """What the library's pools hold, in words, for an out-of-memory message about `dev`:
    the device pool of a CUDA device (in use, cached free, limit) and the host pool.

    Args:
        dev: the device of the failed op (None, or the CPU: the host pool only).

    Returns:
        str: the pools' sizes, joined by "; ".
    """
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
    s = host_pool.host_pool_stats()
    parts.append(f"the host pool holds {format_bytes(s['pooled_bytes'])} "
                 f"({format_bytes(s['free_bytes'])} free; limit {format_bytes(s['limit_bytes'])})")
    return "; ".join(parts)


