"""repr of a tensor, laid out as PyTorch lays it out (precision 4, line width 80,
summarized above 1000 elements), so printed results read the same."""
import math

import numpy as np

from . import backend
from .tensor import Tensor

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80


class _Formatter:
    def __init__(self, values, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        if not floating:
            for v in values.tolist():
                self.max_width = max(self.max_width, len(str(v)))
            return
        vals = values.astype(np.float64)
        finite = vals[np.isfinite(vals) & (vals != 0)]
        if finite.size == 0:
            return
        absv = np.abs(finite)
        lo, hi = absv.min(), absv.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if self.int_mode:
            if hi / lo > 1000.0 or hi > 1.0e8:
                self.sci_mode = True
                fmt = f"{{:.{PRECISION}e}}"
                self.max_width = max(len(fmt.format(v)) for v in finite.tolist())
            else:
                self.max_width = max(len(f"{v:.0f}") + 1 for v in finite.tolist())
        else:
            if hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
                self.sci_mode = True
                fmt = f"{{:.{PRECISION}e}}"
            else:
                fmt = f"{{:.{PRECISION}f}}"
            self.max_width = max(len(fmt.format(v)) for v in finite.tolist())

    def format(self, value):
        if self.floating:
            if self.sci_mode:
                ret = f"{{:{self.max_width}.{PRECISION}e}}".format(value)
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{{:.{PRECISION}f}}".format(value)
        else:
            ret = str(value)
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a):
    """The elements a summarized print shows (edge items of every dimension)."""
    if a.ndim == 0:
        return a
    if a.shape[0] > 2 * EDGEITEMS:
        parts = [_summarized(x) for x in list(a[:EDGEITEMS]) + list(a[-EDGEITEMS:])]
    else:
        parts = [_summarized(x) for x in a]
    return np.concatenate([p.reshape(-1) for p in parts]) if parts else a.reshape(-1)


def _vector(a, indent, summarize, fmt):
    element_length = fmt.max_width + 2
    per_line = max(1, int(math.floor((LINEWIDTH - indent) / element_length)))
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        data = ([fmt.format(v) for v in a[:EDGEITEMS].tolist()] + [" ..."]
                + [fmt.format(v) for v in a[-EDGEITEMS:].tolist()])
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _body(a, indent, summarize, fmt):
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector(a, indent, summarize, fmt)
    if summarize and a.shape[0] > 2 * EDGEITEMS:
        slices = ([_body(a[i], indent + 1, summarize, fmt) for i in range(EDGEITEMS)] + ["..."]
                  + [_body(a[i], indent + 1, summarize, fmt)
                     for i in range(a.shape[0] - EDGEITEMS, a.shape[0])])
    else:
        slices = [_body(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _on_host(a):
    """The array to print, on the host. Of a large device array only what a summarized print
    shows is copied: along each long axis its first and last EDGEITEMS entries and one entry
    between them (never printed: it stands for the "..."), so the copy is small and the
    layout code sees an axis longer than 2 * EDGEITEMS, as in the whole array."""
    if backend.is_cuda_array(a) and a.size > THRESHOLD:
        xp = backend.array_module(a)
        for axis, n in enumerate(a.shape):
            if n > 2 * EDGEITEMS + 1:
                keep = list(range(EDGEITEMS)) + list(range(n - EDGEITEMS - 1, n))
                a = xp.take(a, xp.asarray(keep), axis=axis)
    return backend.execute.host_copy(a)


def tensor_repr(t):
    from .creation import get_default_dtype

    a = _on_host(t._data)
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    dev = t.device
    if dev != backend.get_default_device():
        suffixes.append(f"device='{dev}'")
    dt = t.dtype
    default_dtype = dt in (get_default_dtype(), backend.int64, backend.bool)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if dt is not get_default_dtype():
            suffixes.append(f"dtype={dt!r}")
        body = "[]"
    else:
        if not default_dtype:
            suffixes.append(f"dtype={dt!r}")
        summarize = t._data.size > THRESHOLD  # (a may hold only the printed part)
        if a.dtype == np.float16:
            a = a.astype(np.float32)
        fmt = _Formatter(_summarized(a) if summarize else a.reshape(-1), a.dtype.kind == "f")
        body = _body(a, indent, summarize, fmt)
    if t._grad_fn is not None:
        suffixes.append(f"grad_fn=<{t._grad_fn.name}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


Tensor.__repr__ = Tensor.__str__ = tensor_repr
