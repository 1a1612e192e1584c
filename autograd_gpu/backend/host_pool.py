"""The host pool: NumPy's allocator for large host arrays, keeping freed blocks for reuse.

A fresh large array is paid for twice on first touch: a page fault per page and the kernel
zeroing it (for a 40 MB float32 array about as long as one pass over the data), because the C
allocator maps big blocks anew and unmaps them when freed. A training step allocates and frees
the same sizes every time: an op's result, a matmul's, an im2col matrix, a gradient. The pool
(_host_memory.c) is installed as NumPy's data-memory handler when the library is imported, so
every large NumPy array of the importing thread is served from its freed blocks, whichever code
makes it: no op asks for it. Requests below POOL_MIN_BYTES go to NumPy's own allocator (its free
lists serve those well); larger ones are rounded up to one of eight size classes per power of
two. The limit bounds the bytes the pool keeps, in use and free together: past it, free blocks
of other sizes are released first, then new arrays are NumPy's as usual.
"""
import os

from . import _host_memory
from .dtypes import _builtin_float, _builtin_int

#: requests smaller than this are left to NumPy's own allocator
POOL_MIN_BYTES = _host_memory.MIN_BYTES


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


def _numpy_hugepages():
    """Whether NumPy's own allocator offers large arrays for huge pages (True on Linux unless
    switched off with numpy's _set_madvise_hugepage); the pool does as NumPy does."""
    try:
        from numpy._core.multiarray import _get_madvise_hugepage
    except ImportError:
        return False
    return bool(_get_madvise_hugepage())


_host_memory.set_limit(_pool_limit_from_env())
_host_memory.set_hugepages(_numpy_hugepages())
_host_memory.install()


def host_pool_stats():
    """What the host pool holds: its bytes (in use and free together, and free), its blocks,
    its limit, and how many requests a free block served (hits) or not (misses).

    Returns:
        dict: pooled_bytes, free_bytes, limit_bytes, blocks, hits, misses.
    """
    return _host_memory.stats()


def set_host_pool_limit(nbytes):
    """Caps the bytes the host pool keeps (0 turns it off); free blocks over the cap go.

    Args:
        nbytes: the limit in bytes (taken as an int; ValueError when negative).

    Returns:
        None.
    """
    nbytes = _builtin_int(nbytes)
    if nbytes < 0:
        raise ValueError(f"the pool limit must be >= 0 bytes, got {nbytes}")
    _host_memory.set_limit(nbytes)


def empty_host_cache():
    """Releases every free block the host pool keeps (blocks in use stay the pool's).

    Returns:
        None.
    """
    _host_memory.empty()
