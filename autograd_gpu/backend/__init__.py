"""The backend: NumPy arrays on the CPU, CuPy arrays on CUDA devices, and how work on them runs.

Layers, lowest first (each imports only those before it):

* ``dtypes``: the tensor element types and their NumPy equivalents;
* ``devices``: CPU and CUDA devices, the lazy CUDA probe (the only code that imports CuPy),
  the default device, and which device an array lives on;
* ``host_pool`` and ``host_threads``: NumPy's allocator for large arrays, reusing freed
  blocks, and blockwise work spread across the host's cores (one-pass work on the C
  threads of ``_host_arith``); ``memory``: out-of-memory errors and freeing cached memory;
* the fused CUDA kernels (``autograd_gpu.fused``: kernels/*.cuh built into CuPy kernels on
  first use, registered by the name of the formula each accelerates);
* ``execute``: the one place that chooses, from the arrays' types and sizes, how an op's,
  an optimizer's or the engine's array work runs (NumPy with the host threads,
  CuPy's ufuncs, or a fused kernel).

Availability of CUDA is decided once, lazily, on the first question about it, so importing
the library on a machine without a GPU compiles nothing and allocates nothing.
"""
from .dtypes import (
    _dtype_by_name, bfloat16, bool, double, dtype, finfo, float, float16, float32, float64,
    from_numpy_dtype, half, iinfo, int, int8, int16, int32, int64, long, short, to_numpy_dtype,
    uint8,
)
from .devices import (
    CPU, array_module, check_device, cuda_device_count, cuda_is_available,
    cuda_unavailable_reason, cupy_if_loaded, cupy_module, data_ptr, device, device_of,
    enter_device_of, get_default_device, is_cuda_array, is_device_array, ndarray,
    normalize_device, on_device, restore_device, self_overlapping, set_default_device,
    storage_offset, synchronize, to_device, xp_for,
)
from .host_pool import empty_host_cache, host_pool_stats, set_host_pool_limit
from .memory import (
    OutOfMemoryError, format_bytes, memory_held, release_free_memory, requested_bytes,
)
from .host_threads import get_num_threads, set_num_threads
from . import execute
