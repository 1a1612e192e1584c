"""Where and how the array work of an op runs.

Ops, optimizers and the engine say what to compute, in `xp` terms (NumPy's API, which CuPy
shares); the functions here decide how: NumPy on the host, with costly or multi-pass
formulas split across the host threads (host_threads.py) or done in one pass in C; CuPy's
ufuncs on a CUDA device; or a fused CUDA kernel where one is registered for the formula
(autograd_gpu.fused). This is the only code that looks at an array's type or size to choose
a path.

A *formula* is a function ``fn(xp, *arrays, *scalars)`` wrapped by `formula`: calling it runs
the fused kernel registered under its name when every array is a CuPy array of one float
dtype, its host build where there is one (kernels/host_grad.cpp) for NumPy float arrays, and
the function itself otherwise (the kernels' NumPy twin, written in the same operation
order). Its optional `by_blocks` lets the host threads split it block by block.
"""
import functools
import operator

import numpy as np

from ..fused import _grad as _grad_kernels
from ..fused import _optim as _optim_kernels
from ..fused._loader import fused_dtype, get as _kernel
from . import _host_arith
from .devices import CPU, array_module, cupyx_module, is_device_array, ndarray, to_device
from .host_pool import POOL_MIN_BYTES
from .host_threads import host_block_size, host_blockwise

try:  # the arithmetic backward formulas compiled for the host (built where C++ is found)
    from . import _host_grad
except ImportError:
    _host_grad = None

_OPERATOR = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
             np.true_divide: operator.truediv}


# ---------------------------------------------------------------- plain array work


def unary(f, x, *args):
    """The NumPy ufunc `f` (or CuPy's namesake) of array `x`; for a C-contiguous float NumPy
    `x`, NumPy's own loop called from C (_host_arith.ufunc: no per-call dispatch), a large `x`
    split across the host threads."""
    if x.__class__ is ndarray:
        if not args:
            r = _host_ufunc(f, x)
            if r is not NotImplemented:
                return r
        return f(x, *args)
    return getattr(array_module(x), f.__name__)(x, *args)


_F64 = np.dtype(np.float64)

# + - * /, whole-array sums and means and their gradients for NumPy arrays, done in C
# (_host_arith.c: NumPy's bits without its per-call dispatch, large arrays split across the
# host threads); the tape calls them through this capsule. A large sum's gradient is left
# to a broadcast view of its one value (spread).
_host_arith.set_max_bytes(POOL_MIN_BYTES)
HOST_ARITH = _host_arith.api_c
_host_ufunc = _host_arith.ufunc
_arith = _host_arith.arith
_ARITH_CODE = {np.add: 1, np.subtract: 2, np.multiply: 3, np.true_divide: 4}
_chain = _host_arith.chain
_FP_BITS = {"over": _host_arith.FP_OVERFLOW, "under": _host_arith.FP_UNDERFLOW,
            "invalid": _host_arith.FP_INVALID, "divide": _host_arith.FP_DIVBYZERO}


def binary(ufunc, on_float64=None):
    """``run(a, b, promote=False)``: ``ufunc(a, b)`` for arrays, numbers or Tensors (one of
    np.add, subtract, multiply, true_divide); a NumPy array first goes to _host_arith.arith
    (C, large arrays split across the host threads; NumPy's own call for what its loops do
    not take). With `promote`, a float64 result is passed through ``on_float64(result, a,
    b)`` (the ops' dtype rule: PyTorch keeps float32 where NumPy gives float64)."""
    op = _OPERATOR[ufunc]
    code = _ARITH_CODE[ufunc]

    def run(a, b, promote=False):
        r = _arith(code, a, b) if a.__class__ is ndarray else op(a, b)
        if promote and (r.dtype is _F64 or r.dtype == _F64):
            return on_float64(r, a, b)
        return r

    run.__name__ = ufunc.__name__
    return run


def spread(shape, g, n=1):
    """A new host array of `shape`, every element ``g / n`` (g itself when n is 1; the
    quotient in double, rounded once to g's type): the gradient of a whole-array sum or mean.
    None where g is not a float32/float64 host scalar or 0-d array, or where the array would
    be of the host pool's size or more (the caller broadcasts instead)."""
    r = _host_arith.fill(shape, g, n)
    return None if r is NotImplemented else r


def unary_chain(*steps, ignore=()):
    """``run(x)``: float array `x` through `steps` one after another, into one new array of
    its dtype: each step a unary ufunc, or ``(op, number)`` for ``t op number`` or ``(number,
    op)`` for ``number op t``, op one of np.add, subtract, multiply, true_divide (the number
    in x's dtype, NumPy 2's rule). `ignore`: the np.errstate categories ("over", "under",
    "invalid", "divide") the steps silence. On a C-contiguous float NumPy array one pass in
    C, block by block, each block's steps while it is in cache (_host_arith.chain: NumPy's
    loops, so NumPy's bits; large arrays split across the host threads); elsewhere each step
    in place on the new array."""
    c_steps, py_steps = [], []
    for s in steps:
        if isinstance(s, tuple):
            number_first = not isinstance(s[0], np.ufunc)
            op, number = (s[1], s[0]) if number_first else s
            c_steps.append((_ARITH_CODE[op], number, number_first))
            py_steps.append((2 if number_first else 1, op, number))
        else:
            c_steps.append(s)
            py_steps.append((0, s, None))
    c_steps = tuple(c_steps)
    mask = 0
    for k in ignore:
        mask |= _FP_BITS[k]
    errstate = dict.fromkeys(ignore, "ignore")

    def run(x):
        if x.__class__ is ndarray:
            r = _chain(x, c_steps, mask)
            if r is not NotImplemented:
                return r
            xp = np
        else:
            xp = array_module(x)
        t = xp.empty_like(x)  # (an array even for 0-d x)
        src = x
        with np.errstate(**errstate):
            for kind, op, number in py_steps:
                f = getattr(xp, op.__name__)
                if kind == 0:
                    f(src, out=t)
                elif kind == 1:
                    f(src, number, out=t)
                else:
                    f(number, src, out=t)
                src = t
        return t

    return run


def is_host_scalar(g):
    """True for a 0-d NumPy array or a NumPy scalar (a host value, no device work)."""
    return g.__class__ is ndarray and g.ndim == 0 or isinstance(g, np.generic)


def fill_from(shape, g, dtype):
    """A new array of `shape`, every element ``g`` (an array broadcastable to `shape`),
    on g's device."""
    out = array_module(g).empty(shape, dtype)
    if out.__class__ is ndarray and g.size == 1:  # (CuPy's fill would sync on a 0-d array)
        out.fill(g.reshape(()))
    else:
        out[...] = g
    return out


_np_add_reduce = np.add.reduce
_reduce_all = _host_arith.reduce_all


def sum_all(x):
    """The sum of every element of array `x`, as a 0-d array or NumPy scalar: for a
    C-contiguous float NumPy array NumPy's pairwise sum made in C (_host_arith.reduce_all:
    its bits, a large x split across the host threads), else add.reduce (NumPy's
    ndarray.sum is a Python wrapper around it)."""
    if x.__class__ is ndarray:
        r = _reduce_all(False, x)
        return _np_add_reduce(x, None) if r is NotImplemented else r
    return x.sum()


def sum_of_squares(d):
    """The sum of ``d * d`` over every element of array `d` (on the host one BLAS pass), or
    None where that is not the fast way (a CuPy or 0-d array: the caller reduces d * d)."""
    if d.__class__ is ndarray and d.ndim:
        f = d.reshape(-1)
        return np.dot(f, f)
    return None


def matmul(x, y):
    """x @ y; for NumPy arrays of at most 2 dims NumPy's dot, which has far less call
    overhead than the matmul ufunc and gives the same result."""
    if x.__class__ is ndarray and y.__class__ is ndarray and x.ndim <= 2 and y.ndim <= 2:
        return x.dot(y)
    return x @ y


def is_array(a):
    """True for a NumPy or CuPy array (an index a tensor can take)."""
    return isinstance(a, ndarray) or is_device_array(a)


def host_copy(a):
    """`a` as a NumPy array (a device array copied to the host; a NumPy array itself)."""
    return a if a.__class__ is ndarray else np.asarray(to_device(a, CPU))


def host_value(a):
    """A host index from one given for a device tensor's indexing: a CuPy array copied to the
    host, anything else as it is."""
    return a.get() if hasattr(a, "get") and not isinstance(a, ndarray) else a


def item(a):
    """The one element of array `a` as a Python number."""
    return a.item() if a.__class__ is ndarray else a.get().item()


def add_at(out, key, values):
    """``out[key] += values`` in place, repeated indices accumulating (NumPy's add.at, CuPy's
    scatter_add)."""
    if array_module(out) is np:
        np.add.at(out, key, values)
    else:
        cupyx_module().scatter_add(out, key, values)


def special_function(name, x):
    """scipy.special's function `name` for array `x`'s device (cupyx.scipy.special on CUDA;
    SciPy's on the host, None where SciPy is not installed or lacks it)."""
    if array_module(x) is np:  # (a NumPy array or scalar)
        try:
            import scipy.special as lib
        except ImportError:
            return None
    else:
        lib = cupyx_module("scipy.special")
    return getattr(lib, name, None)


# ---------------------------------------------------------------- formulas


class formula:
    """A named elementwise formula ``fn(xp, *arrays, *scalars)``: calling it runs the fused
    CUDA kernel registered under its name (autograd_gpu.fused) when the first `n_arrays`
    arguments are CuPy arrays of one float dtype; its host build (_host_grad, for the
    formulas that are pure arithmetic: NumPy's bits in one pass) for C-contiguous float NumPy
    arrays of one dtype and shape; and ``fn`` otherwise.

    by_blocks: on large NumPy arrays of one shape and dtype, run ``fn`` block by block on the
    host threads into one new result array.
    """

    def __init__(self, fn=None, *, name=None, by_blocks=False):
        if fn is None:  # used as @formula(...)
            self.fn = None
            self.name, self.by_blocks = name, by_blocks
            return
        self._bind(fn, name, by_blocks)

    def _bind(self, fn, name, by_blocks):
        self.fn = fn
        self.name = name or fn.__name__
        self.__name__, self.__doc__ = fn.__name__, fn.__doc__
        self.by_blocks = by_blocks
        self.host_code = _host_grad.FORMULAS.get(self.name) if _host_grad is not None else None
        reg = _grad_kernels.registered(self.name)
        if reg is None:
            self.kernel, self.flags, self.n_arrays, self.cast = None, None, 0, ()
        else:
            self.kernel, self.flags, self.cast = reg
            self.n_arrays = len(self.kernel.ins) + len(self.kernel.typed)

    def __call__(self, *args):
        if self.fn is None:  # the decorator's second step
            self._bind(args[0], self.name, self.by_blocks)
            return self
        a0 = args[0]
        if a0.__class__ is ndarray:
            if self.host_code is not None:
                r = _host_grad.run(self.host_code, a0, args[1], args[2:])
                if r is not NotImplemented:
                    return r
            if self.by_blocks:
                return self._on_host(args)
            return self.fn(np, *args)
        if self.kernel is not None:
            r = self._fused(args)
            if r is not None:
                return r
        return self.fn(array_module(a0), *args)

    def _on_host(self, args):
        v, g, s = args[0], args[1], args[2:]
        if g.__class__ is ndarray and g.dtype == v.dtype and host_block_size(v):
            out = np.empty_like(v)
            fn = self.fn

            def block(vb, gb, ob):
                ob[...] = fn(np, vb, gb, *s)

            if host_blockwise(block, v, g, out):
                return out
        return self.fn(np, *args)

    def _fused(self, args):
        n = self.n_arrays
        arrays, scalars = list(args[:n]), args[n:]
        spec = self.kernel
        n_float = len(spec.ins)
        cast = [i for i in range(n_float) if i in self.cast or not hasattr(arrays[i], "dtype")]
        if cast:  # (numbers, and the inputs `cast` names, in the first array's dtype)
            if fused_dtype(*[a for i, a in enumerate(arrays[:n_float]) if i not in cast]) is None:
                return None
            xp = array_module(arrays[0])
            for i in cast:
                arrays[i] = xp.asarray(arrays[i], dtype=arrays[0].dtype)
        dt = fused_dtype(*arrays[:n_float])
        if dt is None:
            return None
        fl = self.flags(*scalars) if self.flags is not None else ()
        k = _kernel(spec, dt, fl)
        # (trailing scalars beyond the kernel's own only choose its flags)
        return k(*arrays, *[0.0 if x is None else float(x)
                            for x in scalars[:len(spec.scalars)]])

    def accelerated(self, *args):
        """The fused kernel's result where one applies (CuPy arrays of one float dtype), else
        None: for an op whose host code computes the same gradient another way."""
        if self.kernel is None or args[0].__class__ is ndarray:
            return None
        return self._fused(args)


def fusable(*arrays):
    """True for CuPy arrays of one float dtype: the inputs a fused kernel takes."""
    return fused_dtype(*arrays) is not None


# ---------------------------------------------------------------- optimizer updates


def update(kind, fn, param, grad, buffers, hyper, host_xp=np):
    """Updates `param` and its state `buffers` (a None: unused) in place with optimizer
    `kind`'s step.

    ``fn(xp, param, grad, *buffers, **hyper)`` is the step in array code (PyTorch's order of
    operations; `host_xp` is the module it gets for NumPy arrays). The same step from
    kernels/optim.cuh runs instead where it can (one pass, the same result): as a fused
    kernel on CUDA arrays of one float dtype, and as its host build on NumPy float32/float64
    arrays (with `host_xp` NumPy itself; a test's stand-in module keeps ``fn``). Otherwise,
    on a large NumPy parameter ``fn`` runs block by block on the host threads, each block's
    passes while it is in cache (every operation is elementwise: the same result bit for
    bit)."""
    host = param.__class__ is ndarray
    if (not host or host_xp is np) and _optim_kernels.update(kind, param, grad, buffers, hyper):
        return
    if not host:
        fn(array_module(param), param, grad, *buffers, **hyper)
        return
    if not host_blockwise(functools.partial(fn, host_xp, **hyper), param, grad, *buffers):
        fn(host_xp, param, grad, *buffers, **hyper)
