"""The autocast state that the matmul-family ops read (``autograd_gpu.amp`` sets it).

A leaf module (it imports nothing of the library) so that the ops layer can read it without
importing ``amp``, which sits on top. ``active`` is a plain module attribute: the number of
autocast regions entered across all threads; while it is 0 an op's whole cost is one
attribute read. Inside a region, the per-thread state says, per device type, whether
autocast is on and to which dtype the lower-precision ops cast.
"""
import threading

active = 0  # regions entered (any thread); 0 means no op looks further
_count_lock = threading.Lock()


class _ThreadState(threading.local):
    def __init__(self):
        self.enabled = {"cpu": False, "cuda": False}
        self.dtype = {"cpu": None, "cuda": None}  # NumPy dtypes to cast to
        self.cache_enabled = True
        self.cache = None  # {leaf tensor: its cast}, for the outermost region's lifetime
        self.depth = 0


state = _ThreadState()


def enter():
    global active
    with _count_lock:
        active += 1


def leave():
    global active
    with _count_lock:
        active -= 1


def cast_inputs(tensors):
    """`tensors` (a tuple; None and non-Tensors pass through) with every float32 tensor on a
    device whose autocast is on cast to that device's lower-precision dtype. float64 and
    non-float tensors are left alone, as PyTorch's autocast leaves them. Leaves that require
    grad (parameters) are cast once per region when caching is on."""
    st = state
    out = []
    for t in tensors:
        data = getattr(t, "_data", None)
        if data is None or data.dtype.kind != "f" or data.dtype.itemsize != 4:
            out.append(t)
            continue
        kind = "cpu" if type(data).__module__ == "numpy" else "cuda"
        if not st.enabled[kind] or st.dtype[kind] is None:
            out.append(t)
            continue
        target = st.dtype[kind]
        cacheable = st.cache_enabled and t._requires_grad and t._grad_fn is None
        cached = st.cache.get(t) if cacheable and st.cache is not None else None
        if cached is None:
            from .ops.arithmetic import cast

            cached = cast(t, target)
            if cacheable:
                if st.cache is None:
                    st.cache = {}
                st.cache[t] = cached
        out.append(cached)
    return tuple(out)


def fp32_inputs(tensors):
    """For the ops autocast runs in float32 (softmax, losses, norms): float16 tensors on a
    device whose autocast is on are cast up to float32."""
    st = state
    out = []
    for t in tensors:
        data = getattr(t, "_data", None)
        kind = None if data is None else ("cpu" if type(data).__module__ == "numpy" else "cuda")
        if kind is not None and data.dtype.kind == "f" and data.dtype.itemsize == 2 and st.enabled[kind]:
            from .ops.arithmetic import cast
            import numpy as np

            t = cast(t, np.dtype(np.float32))
        out.append(t)
    return tuple(out)
