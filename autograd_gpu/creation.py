"""Creating tensors: from data, filled, ranges, identity, and random (reproducible per device).

dtype inference follows PyTorch: Python floats (and float lists) give float32, Python ints
int64, bools bool; NumPy arrays and scalars keep their dtype.
"""
import builtins
import threading

import numpy as np

from . import backend
from .tensor import Tensor, _wrap

_default_dtype = [backend.float32]


def get_default_dtype():
    return _default_dtype[0]


def set_default_dtype(d):
    if not isinstance(d, backend.dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype only supports floating point dtypes, got {d!r}")
    _default_dtype[0] = d


def _infer_np(data, np_dtype=None):
    """A host array for Python data, with PyTorch's dtype inference (or `np_dtype` when
    given: Python numbers then convert once, straight to it)."""
    if np_dtype is not None and not isinstance(data, (Tensor, np.ndarray, np.generic)) and not (
        hasattr(data, "__cuda_array_interface__")
    ):
        if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
            data = _untensor(data)
        return np.asarray(data, dtype=np_dtype)
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        return np.asarray(data)
    if hasattr(data, "__cuda_array_interface__"):
        return data
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _untensor(data)
    arr = np.asarray(data)
    if arr.dtype == np.float64 and not _has_np_float64(data):
        arr = arr.astype(_default_dtype[0].np)
    elif arr.dtype.kind in "iu" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "fiub":
        raise TypeError(
            f"Could not infer dtype of {type(data).__name__} (got NumPy dtype {arr.dtype}); "
            "pass numbers, nested lists of numbers, or an array"
        )
    return arr


def _flat(data):
    for x in data:
        if isinstance(x, (list, tuple)):
            yield from _flat(x)
        else:
            yield x


def _untensor(data):
    if isinstance(data, (list, tuple)):
        return [_untensor(x) for x in data]
    if isinstance(data, Tensor):
        return data._data.item() if data._data.size == 1 and data._data.ndim == 0 else data._data.tolist()
    return data


def _has_np_float64(data):
    if isinstance(data, np.float64):
        return True
    if isinstance(data, (list, tuple)):
        return builtins.any(_has_np_float64(x) for x in data[:1])
    return False


def _make_array(data, dtype, device, copy):
    """An array on `device` (default device if None) with `dtype` (inferred if None)."""
    np_dtype = backend.to_numpy_dtype(dtype) if dtype is not None else None
    arr = _infer_np(data, np_dtype)
    dev = backend.device_of(arr) if device is None and isinstance(data, Tensor) else (
        backend.normalize_device(device)
    )
    if np_dtype is None:
        np_dtype = arr.dtype
    if dev.type == "cpu":
        if type(arr) is not np.ndarray:
            raise TypeError(
                "a CUDA array was given for a CPU tensor; copy it explicitly with .cpu() / .get()"
            )
        return np.array(arr, dtype=np_dtype, copy=True) if copy else np.asarray(arr, np_dtype)
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        return xp.array(arr, dtype=np_dtype, copy=copy) if copy else xp.asarray(arr, np_dtype)


def _finish(arr, requires_grad):
    t = _wrap(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of `data`."""
    return _finish(_make_array(data, dtype, device, copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but shares memory with an array or tensor when no conversion is needed."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return _finish(_make_array(data, dtype, device, copy=False), False)


def from_numpy(ndarray):
    """A CPU tensor sharing memory with the NumPy array."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    backend.from_numpy_dtype(ndarray.dtype)
    return _wrap(ndarray)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _filled(fill, size, dtype, device, requires_grad):
    dev = backend.normalize_device(device)
    np_dtype = backend.to_numpy_dtype(dtype if dtype is not None else _default_dtype[0])
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        arr = getattr(xp, fill)(_size(size), np_dtype)
    return _finish(arr, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    return _filled("zeros", size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    return _filled("ones", size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    return _filled("empty", size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = (backend.bool if isinstance(fill_value, bool) else backend.int64
                 if isinstance(fill_value, int) else _default_dtype[0])
    dev = backend.normalize_device(device)
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        arr = xp.full(_size((size,) if isinstance(size, int) else size), fill_value,
                      backend.to_numpy_dtype(dtype))
    return _finish(arr, requires_grad)


def _like(fn, input, dtype, device, requires_grad, *extra):
    return fn(*((input.shape,) + extra), dtype=dtype or input.dtype,
              device=device or input.device, requires_grad=requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False):
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    return _like(full, input, dtype, device, requires_grad, fill_value)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = backend.int64 if builtins.all(isinstance(v, (int, np.integer)) for v in vals) else (
            _default_dtype[0]
        )
    dev = backend.normalize_device(device)
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        arr = xp.arange(*vals, dtype=backend.to_numpy_dtype(dtype))
    return _finish(arr, requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    dev = backend.normalize_device(device)
    xp = backend.xp_for(dev)
    np_dtype = backend.to_numpy_dtype(dtype or _default_dtype[0])
    steps = int(steps)
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    # PyTorch's recipe in the target dtype: the first half counts up from start, the second
    # half down from end, so both ends are exact and the printed values agree with PyTorch's
    with backend.on_device(dev):
        if np_dtype.kind != "f":
            arr = xp.linspace(start, end, steps).astype(np_dtype)
        else:
            # (step in the target dtype; start + step * i fused, i.e. rounded once)
            s, e = np_dtype.type(start), np_dtype.type(end)
            step = float((e - s) / np_dtype.type(max(steps - 1, 1)))
            i = xp.arange(steps, dtype=np.float64)
            arr = xp.where(i < steps // 2, float(s) + step * i, float(e) - step * (steps - 1 - i))
            arr = arr.astype(np_dtype)
    return _finish(arr, requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    return _finish((base ** linspace(start, end, steps, dtype=backend.float64, device=device))
                   .to(dtype or _default_dtype[0])._data, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    dev = backend.normalize_device(device)
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        arr = xp.eye(n, m, dtype=backend.to_numpy_dtype(dtype or _default_dtype[0]))
    return _finish(arr, requires_grad)


# ---------------------------------------------------------------- random


class Generator:
    """A random stream for one device, seeded by `manual_seed`.

    CPU streams are NumPy's PCG64; CUDA streams CuPy's. The same seed gives the same numbers
    on the same device and library version (not the numbers PyTorch's generator gives)."""

    def __init__(self, device="cpu"):
        self.device = backend.device(device) if not isinstance(device, backend.device) else device
        self._seed = None
        self._rng = None
        self.manual_seed(np.random.SeedSequence().entropy % (2**63))

    def manual_seed(self, seed):
        self._seed = int(seed)
        if self.device.type == "cpu":
            self._rng = np.random.Generator(np.random.PCG64(self._seed))
        else:
            cp = backend.cupy_module()
            with cp.cuda.Device(self.device.index or 0):
                self._rng = cp.random.RandomState(self._seed)
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        return self.manual_seed(np.random.SeedSequence().entropy % (2**63)).initial_seed()


_generators = {}
_gen_lock = threading.Lock()
_last_seed = [None]


def _generator(dev):
    g = _generators.get(dev)
    if g is None:
        with _gen_lock:
            g = _generators.get(dev)
            if g is None:
                g = Generator(dev)
                if _last_seed[0] is not None:
                    g.manual_seed(_last_seed[0])
                _generators[dev] = g
    return g


def manual_seed(seed):
    """Seeds the generators of every device; returns the CPU generator (as PyTorch does)."""
    seed = int(seed)
    _last_seed[0] = seed
    for g in list(_generators.values()):
        g.manual_seed(seed)
    return _generator(backend.CPU)


def seed():
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed():
    return _generator(backend.CPU).initial_seed()


def _random(kind, size, dtype, device, requires_grad, generator, low=None, high=None):
    dev = backend.normalize_device(device)
    gen = generator if generator is not None else _generator(dev)
    rng = gen._rng
    shape = _size(size)
    if kind == "randint":
        np_dtype = backend.to_numpy_dtype(dtype or backend.int64)
    else:
        np_dtype = backend.to_numpy_dtype(dtype or _default_dtype[0])
        if np_dtype.kind != "f":
            raise RuntimeError(f"{kind} is only implemented for floating types, got {np_dtype}")
    with backend.on_device(dev):
        if dev.type == "cpu":
            if kind == "randint":
                arr = rng.integers(low, high, shape, dtype=np.int64).astype(np_dtype, copy=False)
            else:
                gen_dtype = np_dtype if np_dtype in (np.float32, np.float64) else np.float32
                f = rng.standard_normal if kind == "randn" else rng.random
                arr = f(shape, dtype=gen_dtype).astype(np_dtype, copy=False)
        else:
            if kind == "randint":
                arr = rng.randint(low, high, shape).astype(np_dtype, copy=False)
            elif kind == "randn":
                arr = rng.standard_normal(shape, dtype=np_dtype if np_dtype != np.float16 else np.float32).astype(np_dtype, copy=False)
            else:
                arr = rng.random_sample(shape, dtype=np_dtype if np_dtype != np.float16 else np.float32).astype(np_dtype, copy=False)
    return _finish(arr, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _random("rand", size, dtype, device, requires_grad, generator)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _random("randn", size, dtype, device, requires_grad, generator)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    return _random("randint", (size,), dtype, device, requires_grad, generator, low, high)


def rand_like(input, dtype=None, device=None, requires_grad=False):
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, dtype=None, device=None, requires_grad=False):
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randperm(n, dtype=None, device=None, generator=None):
    dev = backend.normalize_device(device)
    gen = generator if generator is not None else _generator(dev)
    with backend.on_device(dev):
        arr = gen._rng.permutation(n).astype(backend.to_numpy_dtype(dtype or backend.int64))
    return _wrap(arr)


def _fill_random(self, kind, a, b, generator):
    """In-place random fill from the device's stream (PyTorch's Tensor.uniform_/normal_)."""
    record = self._check_inplace()  # raises for a leaf requiring grad, before any draw
    dev = self.device
    gen = generator if generator is not None else _generator(dev)
    with backend.on_device(dev):  # NumPy's Generator and CuPy's RandomState share these names
        vals = (gen._rng.uniform if kind == "uniform" else gen._rng.normal)(a, b, self._data.shape)
    if record:  # a non-leaf in grad mode: recorded, the old values get no gradient (as PyTorch)
        from .ops.indexing import CopyFrom

        return self._record_inplace(lambda old: CopyFrom.apply(old, vals))
    self._xp().copyto(self._data, vals, casting="unsafe")
    self._version[0] += 1
    return self


def _uniform_(self, a=0.0, b=1.0, generator=None):
    return _fill_random(self, "uniform", a, b, generator)


def _normal_(self, mean=0.0, std=1.0, generator=None):
    return _fill_random(self, "normal", mean, std, generator)


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
