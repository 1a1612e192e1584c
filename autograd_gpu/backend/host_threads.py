"""The host threads: blockwise work on large NumPy arrays, spread across the cores."""
import os
import threading

import numpy as np

from . import _host_arith
from .devices import ndarray
from .dtypes import _builtin_bool, _builtin_int

# ---------------------------------------------------------------- host threads


#: elements per part below which _host_arith's C loops (+ - * /, NumPy's unary loops, the
#: gradient accumulation, the optimizers' host kernels use their own count) run on the
#: calling thread alone. Their threads take a part without the GIL; on the 2-core benchmark
#: machine (an Intel Xeon) the elementwise chain over 1e5 float32 elements, every pass in C,
#: took 0.47 to 0.50 ms split in two parts of 50,000 elements, against 0.57 to 0.76 ms in one
C_THREAD_MIN_ELEMENTS = 1 << 15
#: elements per thread below which waking another Python thread (the blockwise formulas
#: below) costs more than it saves: the threads contend for the GIL between the ufunc calls of a formula, and measured on the
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
_host_arith.set_threads(_num_threads, C_THREAD_MIN_ELEMENTS)
_executor = None  # made on first use; the calling thread runs one share itself
_executor_lock = threading.Lock()


def get_num_threads():
    """Threads the host's blockwise work runs on (as ``torch.get_num_threads()``).

    Returns:
        int: the number set by `set_num_threads`, else OMP_NUM_THREADS, else the cores this
        process may use.
    """
    return _num_threads


def set_num_threads(n):
    """Sets the threads the host's blockwise work runs on (elementwise backward formulas,
    optimizer updates, elementwise arithmetic and ufuncs of large arrays), as ``torch.set_num_threads``.
    The default is OMP_NUM_THREADS when set, else the cores this process may use; 1 runs
    everything on the calling thread.

    Args:
        n: the number of threads, a positive int (ValueError otherwise).

    Returns:
        None.
    """
    global _num_threads, _executor
    if n.__class__ is _builtin_bool or not isinstance(n, (_builtin_int, np.integer)) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    with _executor_lock:
        _num_threads = _builtin_int(n)
        _host_arith.set_threads(_num_threads, C_THREAD_MIN_ELEMENTS)
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
