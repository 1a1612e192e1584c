"""Creating tensors: from data, filled, ranges, identity, and random (reproducible per device).

dtype inference follows PyTorch: Python floats (and float lists) give float32, Python ints
int64, bools bool; NumPy arrays and scalars keep their dtype.
"""
import builtins
import threading

import numpy as np

from . import backend
from .tensor import Tensor, _init, _wrap, tensor_method

_default_dtype = [backend.float32]


def get_default_dtype():
    """The default floating-point dtype (float32 unless set).

    Returns:
        dtype.
    """
    return _default_dtype[0]


def set_default_dtype(d):
    """Set the default floating-point dtype (float32 or float64).

    Args:
        d: the new default dtype.

    Returns:
        None.
    """
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
    """A new tensor holding a copy of `data`.

    Args:
        data: the initial data: a number, a (nested) list or tuple, a NumPy or CuPy array,
            or a tensor.
        dtype: the result's dtype (None: inferred from data; Python floats give the default
            dtype, ints int64, bools bool).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.
        pin_memory: accepted for PyTorch compatibility; unused.

    Returns:
        Tensor: a new leaf tensor that shares no memory with data.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.tensor([[1, 2], [3, 4]])
        tensor([[1, 2],
                [3, 4]])
        >>> torch.tensor(2.5, dtype=torch.float64)
        tensor(2.5000, dtype=autograd_gpu.float64)
        >>> torch.tensor([1.0, 2.0], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
    """
    return _finish(_make_array(data, dtype, device, copy=True), requires_grad)


def as_tensor(data, dtype=None, device=None):
    """Like `tensor`, but shares memory with an array or tensor when no conversion is needed.

    Args:
        data: the initial data: a number, a (nested) sequence, a NumPy or CuPy array, or a
            tensor (returned as is when dtype and device are None).
        dtype: the result's dtype (None: data's own, or inferred as `tensor` does).
        device: the result's device (None: data's device, or the default device).

    Returns:
        Tensor: sharing memory with data when neither dtype nor device asks for a copy.

    Examples:
        >>> import numpy as np
        >>> import autograd_gpu as torch
        >>> a = np.array([1, 2, 3])
        >>> t = torch.as_tensor(a)
        >>> a[0] = -1
        >>> t
        tensor([-1,  2,  3])
    """
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    return _finish(_make_array(data, dtype, device, copy=False), False)


def from_numpy(ndarray):
    """A CPU tensor sharing memory with the NumPy array.

    Args:
        ndarray: a NumPy array of a supported dtype.

    Returns:
        Tensor: on the CPU, with the array's dtype and shape; writes to either show in both.
    """
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
    """A tensor filled with zeros.

    Args:
        size: the shape, as ints or one sequence.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.zeros(2, 3)
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
    """
    return _filled("zeros", size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor filled with ones.

    Args:
        size: the shape, as ints or one sequence.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.ones(2, 2, dtype=torch.int64)
        tensor([[1, 1],
                [1, 1]])
    """
    return _filled("ones", size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialized tensor.

    Args:
        size: the shape, as ints or one sequence.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    return _filled("empty", size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor filled with fill_value.

    Args:
        size: the shape (a sequence).
        fill_value: the value of every element (its type sets the dtype when dtype is None).
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.full((2, 2), 7)
        tensor([[7, 7],
                [7, 7]])
    """
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
    """Zeros with input's shape (and its dtype and device unless given).

    Args:
        input: the input tensor.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, dtype=None, device=None, requires_grad=False):
    """Ones with input's shape (and its dtype and device unless given).

    Args:
        input: the input tensor.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, dtype=None, device=None, requires_grad=False):
    """An uninitialized tensor with input's shape (and its dtype and device unless given).

    Args:
        input: the input tensor.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False):
    """fill_value everywhere, with input's shape (and its dtype and device unless given).

    Args:
        input: the input tensor.
        fill_value: the value of every element.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    return _like(full, input, dtype, device, requires_grad, fill_value)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from start to end (excluded) in steps of step; ``arange(n)`` is 0 .. n-1.

    Args:
        start: the first value (or end when end is None).
        end: the end, excluded.
        step: the spacing.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor: 1-D, int64 for integer arguments, else the default dtype

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.arange(5)
        tensor([0, 1, 2, 3, 4])
        >>> torch.arange(1, 2.5, 0.5)
        tensor([1.0000, 1.5000, 2.0000])
    """
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
    """steps values evenly spaced from start to end, both included.

    Args:
        start: the first value.
        end: the last value.
        steps: the number of values.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor: 1-D

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.linspace(0, 1, 5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
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
    """steps values base**x for x evenly spaced from start to end.

    Args:
        start: the first exponent.
        end: the last exponent.
        steps: the number of values.
        base: the base.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor: 1-D
    """
    return _finish((base ** linspace(start, end, steps, dtype=backend.float64, device=device))
                   .to(dtype or _default_dtype[0])._data, requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The identity matrix (ones on the diagonal).

    Args:
        n: the number of rows.
        m: the number of columns (n when None).
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor: n x m

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.eye(2)
        tensor([[1., 0.],
                [0., 1.]])
    """
    dev = backend.normalize_device(device)
    xp = backend.xp_for(dev)
    with backend.on_device(dev):
        arr = xp.eye(n, m, dtype=backend.to_numpy_dtype(dtype or _default_dtype[0]))
    return _finish(arr, requires_grad)


# ---------------------------------------------------------------- random

_MASK64 = (1 << 64) - 1


def _splitmix64(z):
    z = (z + 0x9E3779B97F4A7C15) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


class _CudaStream:
    """The draws of a CUDA Generator, with a state that can be read and restored.

    CuPy's RandomState keeps its cuRAND state on the device and cannot hand it out, so the
    state is defined as PyTorch defines its CUDA generator's: a seed and an offset. Each draw
    (one call, such as ``random_sample(shape)``) re-keys one cuRAND stream (Philox, whose
    re-seeding is cheap) from the pair and advances the offset by one; restoring the pair
    restores every later number. Use it as the RandomState it wraps."""

    __slots__ = ("seed", "offset", "_state")

    def __init__(self, seed, index):
        cp = backend.cupy_module()
        try:  # (cupy.cuda.curand loads the cuRAND library on first use)
            philox = cp.cuda.curand.CURAND_RNG_PSEUDO_PHILOX4_32_10
        except (AttributeError, ImportError):
            philox = None
        with cp.cuda.Device(index):
            self._state = (cp.random.RandomState(0) if philox is None
                           else cp.random.RandomState(0, method=philox))
        self.seed, self.offset = seed, 0

    def __getattr__(self, name):  # a draw: random_sample, standard_normal, randint, ...
        if name.startswith("_"):
            raise AttributeError(name)
        draw = getattr(self._state, name)
        self._state.seed(_splitmix64(_splitmix64(self.seed) ^ self.offset) >> 1)
        self.offset += 1
        return draw

    def get_state(self):
        raw = self.seed.to_bytes(8, "little") + self.offset.to_bytes(8, "little")
        return _wrap(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, raw):
        if len(raw) != 16:
            raise RuntimeError(
                f"Expected a CUDA generator state of size 16 (seed and offset) but found the "
                f"input RNG state size to be {len(raw)}")
        self.seed = int.from_bytes(raw[:8], "little")
        self.offset = int.from_bytes(raw[8:], "little")


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
        seed = _check_seed(seed)
        self._seed = seed
        if self.device.type == "cpu":
            self._rng = np.random.Generator(np.random.PCG64(self._seed))
        else:
            self._rng = _CudaStream(self._seed, self.device.index or 0)
        return self

    def initial_seed(self):
        return self._seed

    def seed(self):
        return self.manual_seed(np.random.SeedSequence().entropy % (2**63)).initial_seed()

    def __repr__(self):
        return f"<autograd_gpu.Generator object on {self.device}>"

    # the stream's state, as PyTorch's get_state()/set_state(): a uint8 tensor on the CPU.
    # A CUDA stream's state is its seed and offset (see _CudaStream), 16 bytes as PyTorch's
    _STATE_BYTES = 48  # PCG64's state and increment (16 bytes each), its cached 32-bit half

    def get_state(self):
        if self.device.type != "cpu":
            return self._rng.get_state()
        s = self._rng.bit_generator.state
        raw = (s["state"]["state"].to_bytes(16, "little") + s["state"]["inc"].to_bytes(16, "little")
               + int(s["has_uint32"]).to_bytes(8, "little") + int(s["uinteger"]).to_bytes(8, "little"))
        return _wrap(np.frombuffer(raw, np.uint8).copy())

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor) or new_state.dtype != backend.uint8:
            raise TypeError(
                f"expected a torch.ByteTensor, but got {type(new_state).__name__}"
                if not isinstance(new_state, Tensor) else
                f"expected a torch.ByteTensor, but got a tensor of dtype {new_state.dtype}")
        if self.device.type != "cpu":
            self._rng.set_state(bytes(backend.to_device(new_state._data, backend.CPU).reshape(-1)))
            return self
        raw = bytes(backend.to_device(new_state._data, backend.CPU).reshape(-1))
        if len(raw) != self._STATE_BYTES:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {self._STATE_BYTES} but found the "
                f"input RNG state size to be {len(raw)}")
        self._rng.bit_generator.state = {
            "bit_generator": "PCG64",
            "state": {"state": int.from_bytes(raw[:16], "little"),
                      "inc": int.from_bytes(raw[16:32], "little")},
            "has_uint32": int.from_bytes(raw[32:40], "little"),
            "uinteger": int.from_bytes(raw[40:48], "little"),
        }
        return self

    # the draws every sampler is built from, in float64 or int64 on the generator's device
    # (NumPy's Generator and CuPy's RandomState name them differently)
    def _uniform(self, shape):
        """Uniform on [0, 1)."""
        if self.device.type == "cpu":
            return self._rng.random(shape)
        return self._rng.random_sample(shape, dtype=np.float64)

    def _normal(self, shape):
        return self._rng.standard_normal(shape, dtype=np.float64)

    def _integers(self, low, high, shape):
        """Uniform integers on [low, high)."""
        if self.device.type == "cpu":
            return self._rng.integers(low, high, shape, dtype=np.int64)
        return self._rng.randint(low, high, shape, dtype=np.int64)

    def _poisson(self, lam):
        """Poisson counts with the rates of float64 array `lam`."""
        if self.device.type == "cpu":
            return self._rng.poisson(lam)
        return self._rng.poisson(lam, lam.shape)


def _check_seed(seed):
    """A seed as PyTorch takes it: an integer, negative ones wrapped to 64 bits."""
    if isinstance(seed, Tensor):
        seed = seed.item()
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = int(seed)
    if not -(2**63) <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return seed % 2**64


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
    """Seeds the generators of every device; returns the CPU generator (as PyTorch does).

    Args:
        seed: an integer (negative ones are wrapped to 64 bits, as PyTorch does).

    Returns:
        Generator: the CPU generator.
    """
    seed = _check_seed(seed)
    _last_seed[0] = seed
    for g in list(_generators.values()):
        g.manual_seed(seed)
    return _generator(backend.CPU)


def seed():
    """Seed every device's stream with a non-deterministic seed.

    Returns:
        int: the seed used
    """
    s = int(np.random.SeedSequence().entropy % (2**63))
    manual_seed(s)
    return s


def initial_seed():
    """The seed of the global CPU stream.

    Returns:
        int.
    """
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
    """Uniform random numbers in [0, 1).

    Args:
        size: the shape, as ints or one sequence.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor.
    """
    return _random("rand", size, dtype, device, requires_grad, generator)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal random numbers.

    Args:
        size: the shape, as ints or one sequence.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.randn(2, 3)
        >>> x.shape, x.dtype
        (autograd_gpu.Size([2, 3]), autograd_gpu.float32)
    """
    return _random("randn", size, dtype, device, requires_grad, generator)


def randint(low, high=None, size=None, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform random integers in [low, high).

    Args:
        low: the lowest value (or high when high is None).
        high: one above the highest value.
        size: the shape (a sequence).
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: int64 unless dtype is given
    """
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size), as torch
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    return _random("randint", (size,), dtype, device, requires_grad, generator, low, high)


def rand_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform random numbers in [0, 1) with input's shape (and dtype and device unless given).

    Args:
        input: the input tensor.
        generator: the Generator to draw from (None: the device's global one).
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal random numbers with input's shape (and dtype and device unless given).

    Args:
        input: the input tensor.
        generator: the Generator to draw from (None: the device's global one).
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad, generator=generator)


def randperm(n, dtype=None, device=None, generator=None):
    """A random permutation of 0 .. n-1.

    Args:
        n: the number of values.
        dtype: the result's dtype (None: as PyTorch picks it).
        device: the result's device (None: the default device).
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: int64 unless dtype is given
    """
    dev = backend.normalize_device(device)
    gen = generator if generator is not None else _generator(dev)
    with backend.on_device(dev):
        arr = gen._rng.permutation(n).astype(backend.to_numpy_dtype(dtype or backend.int64))
    return _wrap(arr)


# ---------------------------------------------------------------- samplers
#
# Every sampler draws float64 uniforms or normals (or int64 integers, Poisson counts) from
# the generator of the tensor's device and shapes them with xp math (inverse CDFs), so one
# formula serves NumPy and CuPy; the result is cast to the tensor's dtype at the end.
# PyTorch gives the parameters of a sampled tensor (normal's mean and std, bernoulli's
# probabilities, poisson's rates) a zero gradient: the draws are not reparameterized.

from .autograd.node import Node as _Node, _raise_device_mismatch  # noqa: E402

# PyTorch's names of dtypes in its kernels' errors: ScalarType names and C type names
_SCALAR_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                 "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}
_C_NAMES = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
            "uint8": "unsigned char", "int16": "short int", "int32": "int", "int64": "long int",
            "bool": "bool"}


def _gen_for(dev, generator):
    """`generator` (which must draw on `dev`'s device type), else the device's own stream."""
    if generator is None:
        return _generator(dev)
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an autograd_gpu.Generator, got {type(generator).__name__}")
    if generator.device.type != dev.type:
        raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator


def _not_implemented(kernel, dev, np_dtype):
    return NotImplementedError(
        f'"{kernel}_{dev.type}" not implemented for \'{_SCALAR_NAMES[np.dtype(np_dtype).name]}\'')


def _zeros_grad(g, shape, dtype):
    """A zero gradient of `shape` and `dtype` for the pass `g` belongs to (array or Tensor)."""
    raw = g._data if isinstance(g, Tensor) else g
    z = backend.array_module(raw).zeros(shape, dtype)
    return _wrap(z) if isinstance(g, Tensor) else z


class _Sampled(_Node):
    """The node of a draw whose parameters are tensors (`params`): it passes on `values`,
    computed from the parameters' arrays beforehand, and gives each parameter a zero
    gradient, as PyTorch does. `node_name` is PyTorch's name for the overload."""

    def forward(self, *params, values, node_name):
        self.name = node_name
        self.like = tuple(None if isinstance(p, (int, float)) else (p.shape, p.dtype) for p in params)
        return values

    def backward(self, g):
        return tuple(None if like is None else _zeros_grad(g, *like) for like in self.like)


class _NotDifferentiable(_Node):
    """PyTorch's placeholder for a sampler overload with no derivative formula: recorded,
    and raising if a backward reaches it (bernoulli(input, p) with a float p)."""

    name = "NotImplemented"

    def forward(self, x, *, values, op):
        self.op = op
        return values

    def backward(self, g):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


class _Resampled(_Node):
    """The recorded form of an in-place sampler on a non-leaf: the tensor's old values (and
    a tensor parameter, bernoulli_'s p) get a zero gradient; the output is the draw."""

    def forward(self, old, *params, values, node_name):
        self.name = node_name
        self.like = tuple((a.shape, a.dtype) for a in (old,) + params)
        return values.astype(old.dtype, copy=False)

    def backward(self, g):
        return tuple(_zeros_grad(g, *like) for like in self.like)


def _record_sampled(values, params, node_name):
    """`values` (an array) as a Tensor, recorded with `params` as inputs when one of them
    requires grad in grad mode."""
    tensors = [p for p in params if isinstance(p, Tensor)]
    if len(tensors) == 2 and type(tensors[0]._data) is not type(tensors[1]._data):
        _raise_device_mismatch(_Sampled, tensors)
    return _Sampled.apply(*params, values=values, node_name=node_name)


def _sample_into(self, node_name, draw, generator, param=None):
    """Fills `self` in place with ``draw(gen, shape)`` (an array on its device)."""
    record = self._check_inplace(param)  # raises for a leaf requiring grad, before any draw
    gen = _gen_for(self.device, generator)
    with backend.on_device(self.device):
        values = draw(gen, self._data.shape)
    if record:
        params = (param,) if isinstance(param, Tensor) else ()
        return self._record_inplace(
            lambda old: _Resampled.apply(old, *params, values=values, node_name=node_name))
    self._data[...] = values  # (casts to the tensor's dtype)
    self._version[0] += 1
    return self


def _xp_of(gen):
    return backend.xp_for(gen.device)


def _float_only(self, kernel):
    if self._data.dtype.kind != "f":
        raise _not_implemented(kernel, self.device, self._data.dtype)


def _uniform_(self, from_=0.0, to=1.0, *, generator=None, **kw):
    """Fill the tensor in place with uniform numbers in [``from_``, to).

    Args:
        from_: the lower bound.
        to: the upper bound.
        generator: the Generator to draw from (None: the device's global one).
        kw: ``from`` may be passed by name as in PyTorch.

    Returns:
        Tensor: self
    """
    from_ = kw.pop("from", from_)
    _no_extra("uniform_", kw)
    if self._data.dtype.kind != "f":
        raise NotImplementedError('"check_uniform_bounds" not implemented for '
                                  f"'{_SCALAR_NAMES[self._data.dtype.name]}'")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found "
                           f"from={from_:g} > to={to:g}")
    return _sample_into(self, "UniformBackward0",
                        lambda gen, shape: from_ + (to - from_) * gen._uniform(shape), generator)


def _normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill the tensor in place with normal numbers.

    Args:
        mean: the mean.
        std: the standard deviation.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: self
    """
    _float_only(self, "normal_kernel")
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    return _sample_into(self, "NormalBackward0",
                        lambda gen, shape: mean + std * gen._normal(shape), generator)


def _exponential_(self, lambd=1.0, *, generator=None):
    """Fill the tensor in place with exponential numbers of rate lambd.

    Args:
        lambd: the rate.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: self
    """
    if self._data.dtype.kind != "f":
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_SCALAR_NAMES[self._data.dtype.name]}")
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    # inverse CDF: 1 - u lies in (0, 1], so the log is finite
    return _sample_into(self, "ExponentialBackward0",
                        lambda gen, shape: -_xp_of(gen).log1p(
                            -gen._uniform(shape)) / lambd, generator)


def _geometric_(self, p, *, generator=None):
    """Fill the tensor in place with geometric numbers (trials until the first success, from 1).

    Args:
        p: the success probability.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: self
    """
    if self._data.dtype.kind == "b":
        raise _not_implemented("geometric", self.device, self._data.dtype)
    if not 0.0 < p < 1.0:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")

    def draw(gen, shape):  # the number of trials up to the first success, 1, 2, ...
        xp = _xp_of(gen)
        return xp.floor(xp.log1p(-gen._uniform(shape)) / np.log1p(-p)) + 1.0

    return _sample_into(self, "GeometricBackward0", draw, generator)


def _log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill the tensor in place with log-normal numbers (exp of a normal).

    Args:
        mean: the mean of the underlying normal.
        std: its standard deviation.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: self
    """
    _float_only(self, "log_normal")
    if not std > 0.0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    return _sample_into(self, "LogNormalBackward0", lambda gen, shape: _xp_of(gen).exp(
        mean + std * gen._normal(shape)), generator)


def _cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill the tensor in place with Cauchy numbers.

    Args:
        median: the median.
        sigma: the scale.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: self
    """
    if self._data.dtype.kind != "f":
        raise RuntimeError(
            "Cauchy distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {_C_NAMES[self._data.dtype.name]}")
    if not sigma > 0.0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    return _sample_into(self, "CauchyBackward0", lambda gen, shape: median + sigma * (
        _xp_of(gen).tan(np.pi * (gen._uniform(shape) - 0.5))), generator)


def _check_p(p):
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")


def _check_probabilities(xp, p):
    if p.size and not bool(xp.all((p >= 0) & (p <= 1))):  # (nan fails both)
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")


def _bernoulli_(self, p=0.5, *, generator=None):
    """Fill the tensor in place with 0/1 draws that are 1 with probability p.

    Args:
        p: a number or a tensor broadcastable to self, in [0, 1].
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: self
    """
    if isinstance(p, Tensor):
        if type(p._data) is not type(self._data):
            _raise_device_mismatch(_Resampled, (self, p))
        if p._data.dtype.kind != "f":
            raise NotImplementedError(f'"bernoulli_tensor_{self.device.type}_p_" not implemented '
                                      f"for '{_SCALAR_NAMES[p._data.dtype.name]}'")
        _check_probabilities(p._xp(), p._data)
        try:
            probs = p._xp().broadcast_to(p._data, self._data.shape)
        except ValueError:
            raise RuntimeError(
                f"The expanded size of the tensor ({list(self.shape)}) must match the existing "
                f"size ({list(p.shape)}): bernoulli_'s p must broadcast to the tensor's shape "
                f"(Target sizes: {list(self.shape)}.  Tensor sizes: {list(p.shape)})") from None
        return _sample_into(self, "BernoulliBackward1",
                            lambda gen, shape: gen._uniform(shape) < probs, generator, p)
    _check_p(p)
    return _sample_into(self, "BernoulliBackward2",
                        lambda gen, shape: gen._uniform(shape) < p, generator)


def _random_bounds(np_dtype):
    """The integers random_() draws by default for a dtype: [0, hi] with hi inclusive (the
    largest integer every smaller one of is exact, for floating types)."""
    if np_dtype.kind == "f":
        return 2 ** (np.finfo(np_dtype).nmant + 1)
    if np_dtype.kind == "b":
        return 1
    return int(np.iinfo(np_dtype).max)


def _random_(self, *args, generator=None, **kw):
    # PyTorch's overloads: random_(), random_(to), random_(from, to), to=None meaning the
    # dtype's largest value; `from` may come as a keyword
    """Fill the tensor in place with random integers in [from, to) (PyTorch's default ranges
    when omitted).

    Args:
        args: ``to``, or ``from, to``.
        generator: the Generator to draw from (None: the device's global one).
        kw: ``from``/``to`` by name.

    Returns:
        Tensor: self
    """
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    frm, to = 0, None
    kw_given = bool(kw)
    to_only = len(args) == 1 and "from" not in kw or not args and list(kw) == ["to"]
    if len(args) == 1 and "to" not in kw and "from" not in kw:
        to = args[0]
    elif args:
        frm, to = (args + (None,))[:2]
    frm, to = kw.pop("from", frm), kw.pop("to", to)
    _no_extra("random_", kw)
    if frm is None or isinstance(frm, float) or isinstance(to, float):
        raise TypeError(f"random_() received an invalid combination of arguments - got "
                        f"({type(frm).__name__}, {type(to).__name__}), but expected one of: "
                        "(), (int to), (int from, int to)")
    dt = self._data.dtype
    hi = _random_bounds(dt) + 1 if to is None else int(to)
    frm = int(frm)
    if dt.kind in "iub":
        lo_lim, hi_lim = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
        if not lo_lim <= frm <= hi_lim:
            raise RuntimeError(f"from is out of bounds for {_C_NAMES[dt.name]}")
        if not lo_lim <= hi - 1 <= hi_lim:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_NAMES[dt.name]}")
    if frm >= hi:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={frm} >= to={hi}")
    name = "RandomBackward" + ("2" if not args and not kw_given else "1" if to_only else "0")
    return _sample_into(self, name,
                        lambda gen, shape: gen._integers(frm, hi, shape), generator)


def _no_extra(op, kw):
    if kw:
        raise TypeError(f"{op}() got an unexpected keyword argument '{next(iter(kw))}'")


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.exponential_ = _exponential_
Tensor.geometric_ = _geometric_
Tensor.log_normal_ = _log_normal_
Tensor.cauchy_ = _cauchy_
Tensor.bernoulli_ = _bernoulli_
Tensor.random_ = _random_


def _type_names(*args):
    return ", ".join("Tensor" if isinstance(a, Tensor) else type(a).__name__ for a in args)


_NORMAL_OVERLOADS = ("\n * (Tensor mean, Tensor std, *, Generator generator)"
                     "\n * (Tensor mean, float std = 1, *, Generator generator)"
                     "\n * (float mean, Tensor std, *, Generator generator)"
                     "\n * (float mean, float std, tuple of ints size, *, Generator generator, "
                     "dtype dtype, device device, bool requires_grad)")
_MISSING = object()


def normal(mean=_MISSING, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False, layout=None, pin_memory=False):
    """Normal samples, PyTorch's four overloads: ``normal(mean_tensor, std_tensor)``
    (broadcast, the mean's dtype), ``normal(mean_tensor, std=1.0)``, ``normal(mean,
    std_tensor)`` and ``normal(mean, std, size)`` (the default dtype unless `dtype`).

    Args:
        mean: the mean, a tensor (one per element) or a number.
        std: the standard deviation (>= 0), a tensor or a number.
        size: the shape, with a number mean and std only.
        generator: the Generator to draw from (None: the device's global one).
        dtype: the result's dtype, with a size only (None: the default dtype).
        device: the result's device, with a size only (None: the default device).
        requires_grad: record operations on the result, with a size only.
        layout: accepted for PyTorch compatibility; unused.
        pin_memory: accepted for PyTorch compatibility; unused.

    Returns:
        Tensor: the samples, in the broadcast shape of the tensor arguments (or size); the
        tensor parameters get a zero gradient (the draws are not reparameterized).
    """
    if mean is _MISSING:
        raise TypeError('normal() missing 1 required positional arguments: "mean"')
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if (mean_t or std_t) == (size is not None) or (mean_t or std_t) and (
            dtype is not None or device is not None or requires_grad):
        got = (mean, std) + (() if size is None else (tuple(size),))
        raise TypeError("normal() received an invalid combination of arguments - got "
                        f"({_type_names(*got)}), but expected one of:{_NORMAL_OVERLOADS}")
    if not (mean_t or std_t):  # numbers and a size: a new leaf
        dev = backend.normalize_device(device)
        np_dtype = backend.to_numpy_dtype(dtype or _default_dtype[0])
        if np_dtype.kind != "f":
            raise _not_implemented("normal_kernel", dev, np_dtype)
        std = float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
        gen = _gen_for(dev, generator)
        with backend.on_device(dev):
            arr = (float(mean) + std * gen._normal(_size((size,) if isinstance(size, int) else size))
                   ).astype(np_dtype)
        return _finish(arr, requires_grad)
    first = mean if mean_t else std
    np_dtype = first._data.dtype  # the mean's dtype (the std's where the mean is a number)
    dev = first.device
    if np_dtype.kind != "f" or std_t and std._data.dtype.kind != "f" and not mean_t:
        raise _not_implemented("normal_kernel", dev, np_dtype if np_dtype.kind != "f" else std._data.dtype)
    if mean_t and std_t and type(mean._data) is not type(std._data):
        _raise_device_mismatch(_Sampled, (mean, std))
    xp = backend.xp_for(dev)
    if std_t:
        if std._data.size and not bool(xp.all(std._data >= 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    elif not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    m = mean._data if mean_t else float(mean)
    s = std._data if std_t else float(std)
    try:
        shape = np.broadcast_shapes(getattr(m, "shape", ()), getattr(s, "shape", ()))
    except ValueError:
        from .ops.arithmetic import _broadcast_error

        raise _broadcast_error("normal", m, s) from None
    gen = _gen_for(dev, generator)
    with backend.on_device(dev):
        values = (m + s * gen._normal(shape)).astype(np_dtype, copy=False)
    name = "NormalBackward3" if mean_t and std_t else "NormalBackward1" if mean_t else "NormalBackward2"
    return _record_sampled(values, (mean if mean_t else float(mean), std if std_t else float(std)), name)


def bernoulli(input, p=None, *, generator=None):
    """0/1 samples with the probabilities in `input` (or the one probability `p`), in
    `input`'s shape and dtype.

    Args:
        input: the probabilities, in [0, 1] (floating dtype unless p is given).
        p: one probability for every element (None: those of input).
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: 0s and 1s in input's shape and dtype (input gets a zero gradient; with p, a
        backward through the result raises, as in PyTorch).
    """
    if p is not None:  # the shape and dtype of input, probability p
        out = _wrap(input._xp().empty_like(input._data))
        out = _bernoulli_(out, p, generator=generator)
        if input.requires_grad and _grad_enabled():
            return _NotDifferentiable.apply(input, values=out._data, op="bernoulli")
        return out
    x = input._data
    if x.dtype.kind != "f":
        raise NotImplementedError(f'"bernoulli_tensor_{input.device.type}_p_" not implemented '
                                  f"for '{_SCALAR_NAMES[x.dtype.name]}'")
    _check_probabilities(input._xp(), x)
    gen = _gen_for(input.device, generator)
    with backend.on_device(input.device):
        values = (gen._uniform(x.shape) < x).astype(x.dtype)
    return _record_sampled(values, (input,), "BernoulliBackward0")


def _grad_enabled():
    from .autograd.grad_mode import is_grad_enabled

    return is_grad_enabled()


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices (int64) drawn from the categories of each row of `input` (1-D or 2-D,
    nonnegative weights, not necessarily normalized); without replacement each row's
    draws are distinct.

    Args:
        input: the weights of the categories, 1-D or one row per distribution (floating).
        num_samples: the number of draws per row (at most the number of categories
            without replacement).
        replacement: draw with replacement.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: int64 indices, of shape ``(num_samples,)`` or ``(rows, num_samples)``.
    """
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)):
        raise TypeError("multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{type(num_samples).__name__}")
    x = input._data
    if x.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if x.dtype.kind != "f":
        raise RuntimeError("multinomial only supports floating-point dtypes for input, got: "
                           f"{_SCALAR_NAMES[x.dtype.name]}")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    n, m = int(num_samples), x.shape[-1]
    if not replacement and n > m:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if m > 2**24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    xp = input._xp()
    p = x.reshape(-1, m).astype(np.float64)
    rows = p.shape[0]
    if p.size:
        if not bool(xp.all(xp.isfinite(p) & (p >= 0))):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        total = p.sum(axis=1, keepdims=True)
        if not bool(xp.all(total > 0)):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    gen = _gen_for(input.device, generator)
    with backend.on_device(input.device):
        if not p.size:
            idx = xp.zeros((rows, n), np.int64)
        elif replacement:
            idx = _draw_with_replacement(xp, gen, p / total, n)
        else:
            # the exponential race: each category's arrival time E / p (E ~ Exp(1)); the
            # first n to arrive are a draw without replacement (zero-weight categories
            # arrive last, as in PyTorch). tiny keeps E away from 0 (no division by it).
            e = xp.maximum(-xp.log1p(-gen._uniform(p.shape)), np.finfo(np.float64).tiny)
            idx = xp.argsort(-(p / total) / e, axis=1)[:, :n].astype(np.int64)
    return _wrap(idx.reshape(x.shape[:-1] + (n,)))


def _draw_with_replacement(xp, gen, p, n):
    """n categories per row of the normalized weights `p`, by inverting each row's CDF.
    All rows are searched at once: row r's CDF is shifted to (r, r + 1]."""
    rows, m = p.shape
    cdf = xp.cumsum(p, axis=1)
    cdf /= cdf[:, -1:]  # the last entry exactly 1
    offset = xp.arange(rows, dtype=np.float64)[:, None]
    u = gen._uniform((rows, n)) + offset
    pos = xp.searchsorted((cdf + offset).reshape(-1), u.reshape(-1), side="right").reshape(rows, n)
    pos = pos - (offset * m).astype(pos.dtype)
    # u + r may round up to r + 1 (u close to 1): that draw is the row's last positive category
    last = m - 1 - xp.argmax((p > 0)[:, ::-1], axis=1)[:, None]
    return xp.minimum(pos, last).astype(np.int64)


def poisson(input, generator=None):
    """Poisson counts with the rates in `input`, in its shape and (floating) dtype.

    Args:
        input: the rates (non-negative, floating).
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: the counts, in input's shape and dtype (input gets a zero gradient).
    """
    x = input._data
    if x.dtype.kind != "f":
        raise _not_implemented("poisson", input.device, x.dtype)
    xp = input._xp()
    if x.size and not bool(xp.all(x >= 0)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    gen = _gen_for(input.device, generator)
    with backend.on_device(input.device):
        values = gen._poisson(x.astype(np.float64)).astype(x.dtype)
    return _record_sampled(values, (input,), "PoissonBackward0")


def randint_like(input, low=None, high=None, *, generator=None, dtype=None, device=None,
                 requires_grad=False):
    """Integers on [low, high) in `input`'s shape, with its dtype and device unless given;
    ``randint_like(input, high)`` draws from [0, high).

    Args:
        input: the tensor whose shape (and dtype and device) the result takes.
        low: the lowest value (or high when high is None).
        high: one above the highest value.
        generator: the Generator to draw from (None: the device's global one).
        dtype: the result's dtype (None: input's).
        device: the result's device (None: input's).
        requires_grad: record operations on the result for autograd.

    Returns:
        Tensor.
    """
    if high is None:
        if low is None:
            raise TypeError("randint_like() missing required argument 'high'")
        low, high = 0, low
    elif low is None:
        low = 0
    out = empty_like(input, dtype=dtype, device=device)
    out = _random_(out, int(low), int(high), generator=generator)
    if requires_grad:
        out.requires_grad = True
    return out


Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
Tensor.multinomial = lambda self, num_samples, replacement=False, *, generator=None: multinomial(
    self, num_samples, replacement, generator=generator)
Tensor.bernoulli.__doc__ = """0/1 draws, each 1 with probability self (or p): ``torch.bernoulli``.

    Args:
        p: one probability for every element (None: those of self).
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: 0s and 1s in self's shape and dtype.
    """
Tensor.multinomial.__doc__ = """Indices drawn from the categories weighted by each row of self:
    ``torch.multinomial(self, num_samples, replacement)``.

    Args:
        num_samples: the number of draws per row (at most the number of categories
            without replacement).
        replacement: draw with replacement.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: int64 indices, of shape ``(num_samples,)`` or ``(rows, num_samples)``.
    """


def get_rng_state():
    """The CPU stream's state (a uint8 tensor), as ``torch.get_rng_state()``.

    Returns:
        Tensor: uint8, for `set_rng_state`.
    """
    return _generator(backend.CPU).get_state()


def set_rng_state(new_state):
    """Restores the CPU stream to a state from ``get_rng_state()``.

    Args:
        new_state: a uint8 tensor from `get_rng_state`.

    Returns:
        None.
    """
    _generator(backend.CPU).set_state(new_state)


# ---------------------------------------------------------------- Tensor(...)


def _tensor_init(self, *args, device=None, dtype=None):
    """As ``torch.Tensor``: ``Tensor(data)`` copies data as float32;
    ``Tensor(2, 3)`` is an uninitialized 2x3 float32 tensor."""
    if dtype is None:
        dtype = backend.float32
    if len(args) == 1 and not isinstance(args[0], int):
        data = _make_array(args[0], dtype, device, copy=True)
    else:  # a shape: Tensor(2, 3), or Tensor() for an empty one
        shape = args if args else (0,)
        dev = backend.normalize_device(device)
        with backend.on_device(dev):
            data = backend.xp_for(dev).empty(tuple(shape), backend.to_numpy_dtype(dtype))
    _init(self, data)


tensor_method("__init__", _tensor_init)
