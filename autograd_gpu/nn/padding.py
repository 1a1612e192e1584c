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


def _make(base, mode, n, name):
    return type(name, (base,), {"mode": mode, "n": n, "__module__": __name__,
                                "__qualname__": name})


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
