"""cupy.linalg: batch dimensions are not broadcast by solve; singular input gives NaN."""
import numpy as _np

from . import _core

LinAlgError = _np.linalg.LinAlgError


def _nan_if_singular(f, *arrays):
    try:
        return f(*arrays)
    except _np.linalg.LinAlgError:  # cuSOLVER's status is not checked: no error, NaN out
        shape = _np.broadcast_shapes(*[a.shape for a in arrays]) if len(arrays) > 1 else arrays[0].shape
        return _np.full(shape, _np.nan, dtype=_np.result_type(*arrays))


def solve(a, b):
    ha, hb = _core.operands(a, b)
    if ha.ndim > 2 and ha.shape[:-2] != hb.shape[:ha.ndim - 2]:
        raise ValueError(
            f"cupy.linalg.solve: a of shape {ha.shape} and b of shape {hb.shape} have different "
            "batch dimensions (CuPy does not broadcast them)")
    return _core.wrap(_nan_if_singular(_np.linalg.solve, ha, hb))


def inv(a):
    (ha,) = _core.operands(a)
    return _core.wrap(_nan_if_singular(_np.linalg.inv, ha))


def __getattr__(name):
    return _core.module_attr(name, "cupy.linalg", _np.linalg)
