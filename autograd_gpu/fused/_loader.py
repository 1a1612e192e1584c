"""Builds CuPy ElementwiseKernels from the CUDA sources in ``kernels/``, lazily.

Nothing here runs at import: a kernel is built on its first call, from the headers'
text inlined into the kernel's preamble (so CuPy's on-disk cache is keyed by the very
source that is compiled), and kept in a table keyed by op, dtype and the op's
compile-time flags. CuPy compiles each kernel once per device, on first use there.

Data types: float16, float32 and float64 arrays. The math runs in float for float16 and
float32 and in double for float64 (each element is converted on load and on store).
"""
import os
import re
import threading

from ..backend.devices import cupy_module, is_device_array, ndarray

_KERNEL_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "kernels")
_INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$', re.M)

#: compute type for each storage type: C name of the storage type, compute dtype, C compute type
_TYPES = {
    "float16": ("float16", "float32", "float"),
    "float32": ("float", "float32", "float"),
    "float64": ("double", "float64", "double"),
}

_FLOATS = {"float16", "float32", "float64"}

_lock = threading.Lock()
_kernels = {}
_sources = {}


def fused_dtype(*arrays):
    """The dtype name a kernel is built for when every array is a CuPy array of one float
    dtype, else None."""
    a0 = arrays[0]
    if a0.__class__ is ndarray or not is_device_array(a0):
        return None
    dt = a0.dtype
    for a in arrays[1:]:
        if not is_device_array(a) or a.dtype != dt:
            return None
    name = dt.name
    return name if name in _FLOATS else None


def kernel_dir():
    """Where the CUDA sources are: inside the installed package, or the source checkout.

    Returns:
        str: the path of ``autograd_gpu/kernels`` when that directory exists, else of the
        checkout's top-level ``kernels/``.
    """
    if os.path.isdir(_KERNEL_DIR):
        return _KERNEL_DIR
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(here, "kernels")


def source(header):
    """The text of `header` with its local #includes inlined, each file once.

    Args:
        header: a file name in `kernel_dir` ("optim.cuh").

    Returns:
        str: the file's text, ``#pragma once`` removed and each ``#include "name"`` replaced
        by that file's text (nothing for a file already inlined); kept for later calls.
        A missing file raises RuntimeError.
    """
    text = _sources.get(header)
    if text is None:
        text = _sources[header] = _inline(header, set())
    return text


def _inline(name, seen):
    if name in seen:
        return ""
    seen.add(name)
    path = os.path.join(kernel_dir(), name)
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise RuntimeError(
            f"the CUDA kernel source {name} was not found at {path} ({e}); the package was "
            "installed without its kernels/ directory"
        ) from None
    text = text.replace("#pragma once", "")
    return _INCLUDE.sub(lambda m: _inline(m.group(1), seen), text)


class Spec:
    """One fused op: its arrays, scalars, compile-time flags and a body over compute-type locals.

    ins:     float arrays read (a local ``name_`` of compute type C holds each element);
    typed:   (name, dtype) arrays read as they are (integer targets, class indices);
    scalars: compute-type scalars, passed as Python numbers;
    outs:    new arrays written (the body assigns ``name_``);
    inouts:  arrays updated in place (read into ``name_``, written back);
    flags:   bools fixed at compile time (one kernel per combination used).
    """

    __slots__ = ("name", "header", "ins", "typed", "scalars", "outs", "inouts", "flags", "body")

    def __init__(self, name, header, body, ins=(), typed=(), scalars=(), outs=(), inouts=(),
                 flags=()):
        self.name, self.header, self.body = name, header, body
        self.ins, self.typed, self.scalars = tuple(ins), tuple(typed), tuple(scalars)
        self.outs, self.inouts, self.flags = tuple(outs), tuple(inouts), tuple(flags)

    def code(self, dtype, flag_values):
        """(in_params, out_params, operation) for storage dtype `dtype` (a name)."""
        ctype_store, cdtype, ctype = _TYPES[dtype]
        in_params = [f"{dtype} {a}" for a in self.ins]
        in_params += [f"{dt} {a}" for a, dt in self.typed]
        in_params += [f"{cdtype} {s}" for s in self.scalars]
        out_params = [f"{dtype} {a}" for a in self.inouts + self.outs]
        lines = [f"typedef {ctype} C;"]
        lines += [
            f"const bool {f} = {'true' if v else 'false'};" for f, v in zip(self.flags, flag_values)
        ]
        lines += [f"C {a}_ = (C){a};" for a in self.ins + self.inouts]
        lines += [f"C {a}_;" for a in self.outs]
        lines.append(self.body)
        lines += [f"{a} = ({ctype_store}){a}_;" for a in self.inouts + self.outs]
        return ", ".join(in_params), ", ".join(out_params), "\n".join(lines)


def get(spec, dtype, flag_values=()):
    """The CuPy ElementwiseKernel for `spec` on `dtype` arrays (built once)."""
    key = (spec.name, dtype, flag_values)
    k = _kernels.get(key)
    if k is not None:
        return k
    with _lock:
        k = _kernels.get(key)
        if k is None:
            cp = cupy_module()
            in_params, out_params, op = spec.code(dtype, flag_values)
            suffix = "".join("1" if v else "0" for v in flag_values)
            k = cp.ElementwiseKernel(
                in_params,
                out_params,
                op,
                name=f"ag_{spec.name}_{dtype}" + (f"_{suffix}" if suffix else ""),
                preamble=source(spec.header),
                no_return=not spec.outs,
            )
            _kernels[key] = k
    return k


def built():
    """The kernels built so far in this process, as (op, dtype, flags) keys.

    Returns:
        list: the sorted keys, each (the op's name, the storage dtype's name, the tuple of
        its compile-time flag values).
    """
    return sorted(_kernels)
