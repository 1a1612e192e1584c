"""Padding layers: ConstantPad1d/2d/3d, ZeroPad1d/2d/3d, ReflectionPad1d/2d/3d,
ReplicationPad1d/2d/3d, CircularPad1d/2d/3d, each F.pad with a fixed mode."""
from ..ops import nn_functional as F
from .module import Module


def _ntuple(padding, n):
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    return tuple(padding)


class _PadNd(Module):
    mode = "constant"
    n = 1

    def __init__(self, padding):
        super().__init__()
        self.padding = _ntuple(padding, self.n)

    def forward(self, input):
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


_WHAT = {"constant": "a constant value", "reflect": "the input's reflection at the border",
         "replicate": "copies of the border values", "circular": "the input wrapped around"}
_DIMS = {1: "last dimension", 2: "last 2 dimensions", 3: "last 3 dimensions"}
_SHAPES = {1: ("(C, W_in) or (N, C, W_in)", "W_out = W_in + left + right"),
           2: ("(C, H_in, W_in) or (N, C, H_in, W_in)",
               "H_out = H_in + top + bottom, W_out = W_in + left + right"),
           3: ("(C, D_in, H_in, W_in) or (N, C, D_in, H_in, W_in)",
               "D_out = D_in + front + back, and H_out, W_out as for 2-d")}


def _doc(base, mode, n, name):
    order = {1: "(left, right)", 2: "(left, right, top, bottom)",
             3: "(left, right, top, bottom, front, back)"}[n]
    what = "zeros" if base is _ZeroPadNd else _WHAT[mode]
    value = "\n        value: the fill value." if base is _ConstantPadNd else ""
    ins, outs = _SHAPES[n]
    return (f"Pads the {_DIMS[n]} of the input with {what} (``F.pad`` with mode "
            f"``'{mode}'``).\n\n    Args:\n        padding: an int (the same on every side) or a "
            f"{2 * n}-tuple {order}.{value}\n\n    Shape:\n        - Input: ``{ins}``.\n"
            f"        - Output: the same with ``{outs}``.\n")


def _make(base, mode, n, name):
    return type(name, (base,), {"mode": mode, "n": n, "__module__": __name__,
                                "__qualname__": name, "__doc__": _doc(base, mode, n, name)})


ConstantPad1d = _make(_ConstantPadNd, "constant", 1, "ConstantPad1d")
ConstantPad2d = _make(_ConstantPadNd, "constant", 2, "ConstantPad2d")
ConstantPad3d = _make(_ConstantPadNd, "constant", 3, "ConstantPad3d")
ZeroPad1d = _make(_ZeroPadNd, "constant", 1, "ZeroPad1d")
ZeroPad2d = _make(_ZeroPadNd, "constant", 2, "ZeroPad2d")
ZeroPad3d = _make(_ZeroPadNd, "constant", 3, "ZeroPad3d")
ReflectionPad1d = _make(_PadNd, "reflect", 1, "ReflectionPad1d")
ReflectionPad2d = _make(_PadNd, "reflect", 2, "ReflectionPad2d")
ReflectionPad3d = _make(_PadNd, "reflect", 3, "ReflectionPad3d")
ReplicationPad1d = _make(_PadNd, "replicate", 1, "ReplicationPad1d")
ReplicationPad2d = _make(_PadNd, "replicate", 2, "ReplicationPad2d")
ReplicationPad3d = _make(_PadNd, "replicate", 3, "ReplicationPad3d")
CircularPad1d = _make(_PadNd, "circular", 1, "CircularPad1d")
CircularPad2d = _make(_PadNd, "circular", 2, "CircularPad2d")
CircularPad3d = _make(_PadNd, "circular", 3, "CircularPad3d")
