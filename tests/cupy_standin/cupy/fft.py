"""cupy.fft, delegated to numpy.fft."""
import numpy as _np

from . import _core


def __getattr__(name):
    return _core.module_attr(name, "cupy.fft", _np.fft)
