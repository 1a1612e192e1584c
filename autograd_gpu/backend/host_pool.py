"""The host buffer pool: large NumPy arrays for op results, reused once free."""
import os
import threading
from sys import getrefcount as _getrefcount

import numpy as np

from .devices import array_module, ndarray
from .dtypes import _builtin_float, _builtin_int

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
    references to decide whether it alone holds an array subtracts these.

    Args:
        a: an array.

    Returns:
        int: 1 when `a` is one of the pool's arrays (in use or free), else 0.
    """
    return 1 if id(a) in _host_pool.held else 0


def host_pool_stats():
    """What the host buffer pool holds: counts and bytes of free and handed-out arrays, and its
    limit.

    Returns:
        dict.
    """
    return _host_pool.stats()


def set_host_pool_limit(nbytes):
    """Caps the bytes the host pool keeps (0 turns it off); free arrays over the cap go.

    Args:
        nbytes: the limit in bytes (taken as an int; ValueError when negative).

    Returns:
        None.
    """
    nbytes = _builtin_int(nbytes)
    if nbytes < 0:
        raise ValueError(f"the pool limit must be >= 0 bytes, got {nbytes}")
    with _host_pool.lock:
        _host_pool.limit = nbytes
        if _host_pool.nbytes > nbytes:
            _host_pool._drop_free(_host_pool.nbytes - nbytes)


def empty_host_cache():
    """Releases every free array the host pool keeps (arrays in use stay tracked).

    Returns:
        None.
    """
    with _host_pool.lock:
        _host_pool._drop_free(_host_pool.nbytes)


