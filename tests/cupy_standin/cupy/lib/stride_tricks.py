"""cupy.lib.stride_tricks: views of a device array's memory (always writeable in CuPy)."""
import numpy as _np

from .. import _core


def as_strided(x, shape=None, strides=None):
    (h,) = _core.operands(x)
    return _core.wrap(_np.lib.stride_tricks.as_strided(h, shape, strides))


def sliding_window_view(x, window_shape, axis=None, *, subok=False, writeable=False):
    (h,) = _core.operands(x)
    return _core.wrap(_np.lib.stride_tricks.sliding_window_view(h, window_shape, axis))
