"""The stand-in's arrays, devices, ufuncs, functions and ElementwiseKernel (see cupy/__init__)."""
import ctypes
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading

import numpy as np

# ---------------------------------------------------------------- what real CuPy 14 has

#: set by install(): {"cupy": names, "cupy.linalg": names, ...}, "ndarray": method names,
#: and signatures of CuPy's Python-level functions (checked on every call)
_manifest = None


def install(manifest):
    global _manifest
    _manifest = manifest


def _has(module, name):
    return _manifest is None or name in _manifest.get(module, ())


# ---------------------------------------------------------------- devices

N_DEVICES = int(os.environ.get("AUTOGRAD_GPU_STANDIN_DEVICES", "2"))
_tls = threading.local()


def current_device():
    return getattr(_tls, "device", 0)


def set_current_device(i):
    if not 0 <= i < N_DEVICES:
        from .cuda.runtime import CUDARuntimeError

        raise CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {i}")
    _tls.device = i


class _Pool:
    """cupy.cuda.MemoryPool's accounting (no real pooling). `refuse` makes every allocation
    raise OutOfMemoryError, for the tests of out-of-memory handling."""

    def __init__(self):
        self.refuse = False
        self._limit = 0

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_bytes(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass

    def set_limit(self, size=None, fraction=None):
        self._limit = size or 0

    def get_limit(self):
        return self._limit

    def n_free_blocks(self):
        return 0


memory_pool = _Pool()
pinned_pool = _Pool()


def _allocated(a, nbytes=None):
    if memory_pool.refuse:
        from .cuda.memory import OutOfMemoryError

        raise OutOfMemoryError(a.nbytes if nbytes is None else nbytes, 0)
    return a


# ---------------------------------------------------------------- arrays


class _Flags:
    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, a, owndata):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = owndata

    def __getitem__(self, key):
        return getattr(self, {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous",
                              "OWNDATA": "owndata"}[key])


class _Memory:
    __slots__ = ("ptr", "device_id", "size")

    def __init__(self, a, dev):
        self.ptr = a.__array_interface__["data"][0]
        self.device_id = dev
        self.size = a.nbytes


class _MemoryPointer:
    __slots__ = ("ptr", "device_id", "mem")

    def __init__(self, a, dev):
        self.ptr = a.__array_interface__["data"][0]
        self.device_id = dev
        self.mem = _Memory(a, dev)


def _writeable(a):
    """`a`, or a writeable alias of its memory: CuPy's views (broadcast ones too) always are."""
    # (a broadcast view's writeable flag is deprecated and warns when read: alias those)
    if 0 not in a.strides and a.flags.writeable:
        return a
    root = a
    while isinstance(root.base, np.ndarray):
        root = root.base
    if not root.flags.writeable or not root.flags.c_contiguous:
        return a
    offset = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return np.ndarray(a.shape, a.dtype, buffer=root, offset=offset, strides=a.strides)


class ndarray:
    """An array on a stand-in device: NumPy memory that NumPy code cannot take implicitly."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_priority__ = 100

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        a = np.empty(shape, dtype, order=order)
        self._a, self._dev = _allocated(a), current_device()

    # -- what CuPy arrays refuse or lack
    def __array__(self, *args, **kwargs):
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
            "construct a NumPy array explicitly.")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # a NumPy ufunc called on a CuPy array (np.exp(x)): CuPy runs its own; operands
        # that are NumPy arrays are refused there
        f = globals_ufuncs().get(ufunc.__name__)
        if f is None:
            return NotImplemented
        return getattr(f, method)(*inputs, **kwargs) if method != "__call__" else f(*inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        if not _has("cupy", name):
            return NotImplemented
        return module_attr(name, "cupy")(*args, **kwargs)

    def __reduce__(self):
        raise TypeError("the CuPy stand-in does not pickle device arrays")

    # -- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    nbytes = property(lambda self: self._a.nbytes)
    itemsize = property(lambda self: self._a.itemsize)
    strides = property(lambda self: self._a.strides)
    T = property(lambda self: wrap_on(self._a.T, self._dev))
    mT = property(lambda self: wrap_on(np.swapaxes(self._a, -1, -2), self._dev))
    flags = property(lambda self: _Flags(self._a, self._a.base is None))
    data = property(lambda self: _MemoryPointer(self._a, self._dev))
    real = property(lambda self: wrap_on(self._a.real, self._dev))
    imag = property(lambda self: wrap_on(self._a.imag, self._dev))

    @property
    def base(self):
        return None if self._a.base is None else wrap_on(self._a.base, self._dev)

    @property
    def device(self):
        from .cuda import Device

        return Device(self._dev)

    @property
    def __cuda_array_interface__(self):
        a = self._a
        return {"shape": a.shape, "typestr": a.dtype.str, "data": (self.data.ptr, False),
                "version": 3, "strides": None if a.flags.c_contiguous else a.strides}

    # -- host transfers (explicit)
    def get(self, stream=None, order="C", out=None, blocking=True):
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order)

    def set(self, arr, stream=None):
        if not isinstance(arr, np.ndarray):
            raise TypeError(f"Only numpy.ndarray can be set to cupy.ndarray, got {type(arr)}")
        if arr.shape != self.shape:
            raise ValueError("Shape mismatch")
        self._a[...] = arr

    def __dlpack_device__(self):
        return (2, self._dev)  # kDLCUDA

    # -- conversions that synchronize on a GPU
    def item(self, *args):
        return self._a.item(*args)

    def tolist(self):
        return self._a.tolist()

    def __bool__(self):
        return bool(self._a)

    def __float__(self):
        return float(self._a)

    def __int__(self):
        return int(self._a)

    def __index__(self):
        return self._a.__index__()

    def __complex__(self):
        return complex(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self)))

    def __repr__(self):
        return repr(self._a).replace("array(", "array(", 1)

    def __str__(self):
        return str(self._a)

    def __format__(self, spec):
        return format(self._a, spec) if self.ndim == 0 else str(self)

    __hash__ = None

    # -- indexing: integer array indices wrap around (CuPy's default mode)
    def __getitem__(self, key):
        _check_on_current(self)
        return wrap(self._a[_wrapped_key(key, self.shape)])

    def __setitem__(self, key, value):
        # (a NumPy value is copied to the device, as CuPy's scatter does)
        _check_on_current(self)
        v = _host(value, allow_host=True)
        _writeable(self._a)[_wrapped_key(key, self.shape)] = v

    # -- methods CuPy arrays have, run by NumPy on the current device
    def __getattr__(self, name):
        if name.startswith("__") or not _has("ndarray", name) or not hasattr(self._a, name):
            raise AttributeError(f"'cupy.ndarray' object has no attribute '{name}'")
        method = getattr(self._a, name)

        def call(*args, **kwargs):
            _check_on_current(self)
            args, kwargs = host_args(args, kwargs)
            if name in ("take",) and "mode" not in kwargs:
                kwargs["mode"] = "wrap"
            if name == "fill":
                _writeable(self._a).fill(*args)
                return None
            return wrap(method(*args, **kwargs))

        call.__name__ = name
        return call

    def astype(self, dtype, order="K", casting=None, subok=None, copy=True):
        _check_on_current(self)
        return wrap(self._a.astype(dtype, order=order, copy=copy))

    def copy(self, order="C"):
        _check_on_current(self)
        return wrap(self._a.copy(order=order))

    def reshape(self, *shape, order="C"):
        _check_on_current(self)
        return wrap(self._a.reshape(*shape, order=order))

    def view(self, dtype=None, array_class=None):
        return wrap_on(self._a.view() if dtype is None else self._a.view(dtype), self._dev)


def _check_on_current(a):
    cur = current_device()
    if a._dev != cur:
        raise ValueError(
            f"Array device must be same as the current device: array device = {a._dev} while "
            f"current = {cur}")


def _wrapped_key(key, shape):
    """The index with every integer array component taken modulo its axis (CuPy wraps)."""
    if not isinstance(key, tuple):
        key = (key,)
    key = tuple(k._a if isinstance(k, ndarray) else k for k in key)
    for k in key:
        if isinstance(k, np.ndarray) and type(k) is np.ndarray and k.dtype.kind in "iu":
            break
        if isinstance(k, list):
            break
    else:
        return key if len(key) != 1 else key[0]
    n_axes = sum(1 if k is not None and k is not Ellipsis else 0 for k in key
                 if not (isinstance(k, np.ndarray) and k.dtype == bool))
    n_axes += sum(k.ndim for k in key if isinstance(k, np.ndarray) and k.dtype == bool)
    out, axis = [], 0
    for k in key:
        if k is Ellipsis:
            out.append(k)
            axis += len(shape) - n_axes
            continue
        if k is None:
            out.append(k)
            continue
        if isinstance(k, list):
            k = np.asarray(k)
        if isinstance(k, np.ndarray) and k.dtype.kind in "iu" and axis < len(shape):
            k = np.mod(k, shape[axis]) if shape[axis] else k
            axis += 1
        elif isinstance(k, np.ndarray) and k.dtype == bool:
            axis += k.ndim
        else:
            axis += 1
        out.append(k)
    return tuple(out)


# ---------------------------------------------------------------- crossing the boundary


def operands(*xs):
    """The NumPy memory of each CuPy array (on the current device) or scalar; NumPy arrays
    are refused, as CuPy refuses them."""
    out = []
    cur = current_device()
    for x in xs:
        if isinstance(x, ndarray):
            if x._dev != cur:
                _check_on_current(x)
            out.append(x._a)
        elif isinstance(x, np.ndarray):
            raise TypeError(f"Unsupported type {type(x)}")
        else:
            out.append(x)
    return out


def _host(x, allow_host):
    if isinstance(x, ndarray):
        _check_on_current(x)
        return x._a
    if isinstance(x, np.ndarray):
        if not allow_host:
            raise TypeError(f"Unsupported type {type(x)}")
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(_host(v, allow_host) for v in x)
    return x


def host_args(args, kwargs, allow_host=False):
    return ([_host(a, allow_host) for a in args],
            {k: _host(v, allow_host) for k, v in kwargs.items()})


def wrap_on(a, dev):
    r = ndarray.__new__(ndarray)
    r._a, r._dev = _writeable(a), dev
    return r


def wrap(x):
    """NumPy results as arrays on the current device (scalars as 0-d arrays, as CuPy)."""
    if isinstance(x, np.ndarray):
        return wrap_on(x, current_device())
    if isinstance(x, np.generic):
        return wrap_on(np.asarray(x), current_device())
    if isinstance(x, tuple):
        return tuple(wrap(v) for v in x)
    if isinstance(x, list):
        return [wrap(v) for v in x]
    return x


def asarray(a, dtype=None, order=None, *, blocking=False):
    if isinstance(a, ndarray):
        if a._dev != current_device():  # a copy to the current device, as CuPy makes
            return wrap(np.array(a._a, dtype=dtype))
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    return wrap(_allocated(np.array(_host(a, True), dtype=dtype, order=order or "K")))


def array(obj, dtype=None, copy=True, order="K", subok=False, ndmin=0, *, blocking=False):
    if isinstance(obj, ndarray):
        return wrap(np.array(obj._a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
    return wrap(_allocated(np.array(_host(obj, True), dtype=dtype, order=order, ndmin=ndmin)))


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


def get_array_module(*args):
    import cupy

    return cupy if any(isinstance(a, ndarray) for a in args) else np


# ---------------------------------------------------------------- ufuncs and functions


class ufunc:
    """A CuPy ufunc: CuPy arrays on the current device and scalars; out= a CuPy array."""

    def __init__(self, npfunc):
        self._f = npfunc
        self.__name__ = npfunc.__name__
        self.nin, self.nout, self.nargs = npfunc.nin, npfunc.nout, npfunc.nargs
        self.types = npfunc.types

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"

    @staticmethod
    def _outs(out):
        if out is None:
            return None, None
        outs = out if isinstance(out, tuple) else (out,)
        for o in outs:
            if not isinstance(o, ndarray):
                raise TypeError(f"Output arguments must be cupy.ndarray, got {type(o)}")
        hosts = tuple(_writeable(h) for h in operands(*outs))
        return outs, hosts

    def __call__(self, *args, out=None, dtype=None, casting="same_kind", **kwargs):
        ins = operands(*args)
        outs, hosts = self._outs(out)
        kw = dict(kwargs, casting=casting)
        if dtype is not None:
            kw["dtype"] = dtype
        if hosts is not None:
            self._f(*ins, out=hosts if len(hosts) > 1 else hosts[0], **kw)
            return outs if len(outs) > 1 else outs[0]
        return wrap(self._f(*ins, **kw))

    def reduce(self, a, axis=0, dtype=None, out=None, keepdims=False):
        (h,) = operands(a)
        return wrap(self._f.reduce(h, axis=axis, dtype=dtype, keepdims=keepdims))

    def accumulate(self, a, axis=0, dtype=None, out=None):
        (h,) = operands(a)
        return wrap(self._f.accumulate(h, axis=axis, dtype=dtype))

    def outer(self, a, b, **kwargs):
        return wrap(self._f.outer(*operands(a, b), **kwargs))

    def at(self, a, indices, b=None):
        (h,) = operands(a)
        key = _wrapped_key(_host(indices, allow_host=True), a.shape)
        if b is None:
            self._f.at(_writeable(h), key)
        else:
            (hb,) = operands(b)
            self._f.at(_writeable(h), key, hb)


_ufuncs = {}


def globals_ufuncs():
    return _ufuncs


_signatures = {}


def _signature_of(qualname):
    if _manifest is None:
        return None
    return _manifest.get("signatures", {}).get(qualname)


_CREATION = {"asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray",
             "copyto", "frombuffer", "fromfunction"}
_FILLED = {"empty", "zeros", "ones", "full", "empty_like", "zeros_like", "ones_like",
           "full_like", "arange", "linspace", "logspace", "eye", "identity", "indices", "tri"}


def _function(name, npfunc, qualname):
    sig = _signature_of(qualname)

    def call(*args, **kwargs):
        if sig is not None:
            try:
                sig.bind(*args, **kwargs)
            except TypeError as e:
                raise TypeError(f"{qualname}(): {e}") from None
        hargs, hkwargs = host_args(args, kwargs, allow_host=name in _CREATION and name != "copyto")
        if name == "take" and "mode" not in hkwargs:
            hkwargs["mode"] = "wrap"
        if name == "copyto":
            hargs[0] = _writeable(hargs[0])
        if "out" in hkwargs and hkwargs["out"] is not None:
            hkwargs["out"] = _writeable(hkwargs["out"])
            npfunc(*hargs, **hkwargs)
            return kwargs["out"]
        r = npfunc(*hargs, **hkwargs)
        if name in _FILLED:
            _allocated(np.empty(0), getattr(r, "nbytes", 0))
        return wrap(r)

    call.__name__ = name
    call.__qualname__ = qualname
    return call


_cache = {}


def module_attr(name, module, npmod=np):
    key = (module, name)
    if key in _cache:
        return _cache[key]
    if name.startswith("_") or not _has(module, name) or not hasattr(npmod, name):
        raise AttributeError(f"module '{module}' has no attribute '{name}'")
    obj = getattr(npmod, name)
    if isinstance(obj, np.ufunc):
        obj = _ufuncs.setdefault(obj.__name__, ufunc(obj))
    elif callable(obj) and not isinstance(obj, type):
        obj = _function(name, obj, f"{module}.{name}")
    _cache[key] = obj
    return obj


# ---------------------------------------------------------------- ElementwiseKernel

_C_TYPES = {"float16": "float16", "float32": "float", "float64": "double", "int8": "signed char",
            "int16": "short", "int32": "int", "int64": "long long", "uint8": "unsigned char",
            "uint32": "unsigned int", "uint64": "unsigned long long", "bool": "bool"}
_HOST_PRELUDE = """#include <math.h>
#include <xmmintrin.h>
typedef _Float16 float16;
"""
_build_lock = threading.Lock()
_BUILD_DIR = os.path.join(tempfile.gettempdir(), "autograd_gpu_cupy_standin")


def _params(text):
    out = []
    for p in filter(None, (s.strip() for s in text.split(","))):
        dtype, name = p.split()
        out.append((dtype, name))
    return out


class ElementwiseKernel:
    """Builds the kernel's operation, with its preamble, as host C++ (one loop over the
    broadcast elements), compiled once per kernel; float32 kernels run with denormals
    flushed to zero (MXCSR FTZ and DAZ) unless `options` holds "-ftz=false"."""

    def __init__(self, in_params, out_params, operation, name="kernel", reduce_dims=True,
                 preamble="", no_return=False, return_tuple=False, loop_prep="", after_loop="",
                 options=()):
        self.ins, self.outs = _params(in_params), _params(out_params)
        self.operation, self.name, self.preamble = operation, name, preamble
        self.no_return, self.return_tuple = no_return, return_tuple
        self.options = tuple(options)
        self._lib = None

    def _source(self):
        lines = [_HOST_PRELUDE, self.preamble,
                 f'extern "C" void {self.name}(void** _ag_ptrs, long long _ag_n, int _ag_ftz) {{',
                 "  unsigned int _ag_csr = _mm_getcsr();",
                 "  if (_ag_ftz) _mm_setcsr(_ag_csr | 0x8040);",
                 "  for (long long i = 0; i < _ag_n; ++i) {"]
        for k, (dt, nm) in enumerate(self.ins):
            lines.append(f"    const {_C_TYPES[dt]} {nm} = (({_C_TYPES[dt]}*)_ag_ptrs[{k}])[i];")
        for k, (dt, nm) in enumerate(self.outs):
            lines.append(f"    {_C_TYPES[dt]} &{nm} = (({_C_TYPES[dt]}*)_ag_ptrs[{len(self.ins) + k}])[i];")
        lines += ["    {", self.operation, "    }", "  }", "  _mm_setcsr(_ag_csr);", "}"]
        return "\n".join(lines)

    def _compiled(self):
        if self._lib is None:
            with _build_lock:
                if self._lib is None:
                    self._lib = _compile(self._source(), self.name)
        return self._lib

    def __call__(self, *args, size=None, stream=None):
        n_in = len(self.ins)
        if len(args) not in (n_in, n_in + len(self.outs)):
            raise TypeError(f"Wrong number of arguments for {self.name!r}")
        given = args[n_in:]
        arrays = [a for a in args if isinstance(a, ndarray)]
        hosts = operands(*args)
        shape = np.broadcast_shapes(*[np.shape(h) for h in hosts if isinstance(h, np.ndarray)])
        bufs = [np.ascontiguousarray(np.broadcast_to(np.asarray(h, dtype=dt), shape))
                for h, (dt, _) in zip(hosts[:n_in], self.ins)]
        outs = []
        for k, (dt, _) in enumerate(self.outs):
            if k < len(given):
                if given[k].shape != shape:
                    raise ValueError(f"Out shape is mismatched: {given[k].shape} vs {shape}")
                outs.append(np.ascontiguousarray(hosts[n_in + k], dtype=dt).copy())
            else:
                outs.append(_allocated(np.empty(shape, dtype=dt)))
        ptrs = (ctypes.c_void_p * (len(bufs) + len(outs)))(
            *[b.ctypes.data for b in bufs + outs])
        ftz = any(dt in ("float32", "float16") for dt, _ in self.ins + self.outs) and \
            "-ftz=false" not in self.options
        del arrays
        n = int(np.prod(shape, dtype=np.int64))
        self._compiled()(ptrs, ctypes.c_longlong(n), ctypes.c_int(int(ftz)))
        results = []
        for k, o in enumerate(outs):
            if k < len(given):
                _writeable(hosts[n_in + k])[...] = o
                results.append(given[k])
            else:
                results.append(wrap(o))
        if self.no_return:
            return None
        if len(results) == 1 and not self.return_tuple:
            return results[0]
        return tuple(results)


def _compile(source, name):
    cxx = next((c for c in (os.environ.get("CXX"), "g++", "c++", "clang++") if c and shutil.which(c)), None)
    if cxx is None:
        raise RuntimeError("the CuPy stand-in needs a host C++ compiler (g++) for ElementwiseKernel")
    key = hashlib.sha256((cxx + source).encode()).hexdigest()[:20]
    os.makedirs(_BUILD_DIR, exist_ok=True)
    lib = os.path.join(_BUILD_DIR, f"{name}-{key}.so")
    if not os.path.exists(lib):
        src = os.path.join(_BUILD_DIR, f"{name}-{key}.{os.getpid()}.cpp")
        with open(src, "w") as f:
            f.write(source)
        tmp = lib + f".{os.getpid()}.tmp"
        r = subprocess.run([cxx, "-O1", "-ffp-contract=off", "-std=c++17", "-shared", "-fPIC",
                            "-o", tmp, src], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"ElementwiseKernel {name}: compile failed\n{r.stderr}")
        os.replace(tmp, lib)
        os.unlink(src)
    fn = ctypes.CDLL(lib)[name]
    fn.restype = None
    return fn



# ---------------------------------------------------------------- operators (CuPy's ufuncs)


def _uf(name):
    return module_attr(name, "cupy")


def _binary(name, reflected=False, inplace=False):
    def op(self, other):
        if isinstance(other, np.ndarray) and not isinstance(other, ndarray):
            raise TypeError(f"Unsupported type {type(other)}")
        if inplace:
            return _uf(name)(self, other, out=self)
        return _uf(name)(other, self) if reflected else _uf(name)(self, other)

    return op


for _op, _name in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                   ("truediv", "true_divide"), ("floordiv", "floor_divide"), ("mod", "remainder"),
                   ("pow", "power"), ("and", "bitwise_and"), ("or", "bitwise_or"),
                   ("xor", "bitwise_xor"), ("lshift", "left_shift"), ("rshift", "right_shift"),
                   ("matmul", "matmul")]:
    setattr(ndarray, f"__{_op}__", _binary(_name))
    setattr(ndarray, f"__r{_op}__", _binary(_name, reflected=True))
    setattr(ndarray, f"__i{_op}__", _binary(_name, inplace=True))
for _op, _name in [("eq", "equal"), ("ne", "not_equal"), ("lt", "less"), ("le", "less_equal"),
                   ("gt", "greater"), ("ge", "greater_equal")]:
    setattr(ndarray, f"__{_op}__", _binary(_name))
ndarray.__neg__ = lambda self: _uf("negative")(self)
ndarray.__pos__ = lambda self: _uf("positive")(self)
ndarray.__abs__ = lambda self: _uf("absolute")(self)
ndarray.__invert__ = lambda self: _uf("invert")(self)
ndarray.__divmod__ = lambda self, other: _uf("divmod")(self, other)
