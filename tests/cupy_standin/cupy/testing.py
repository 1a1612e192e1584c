"""cupy.testing: NumPy's assertions on the host copies of device arrays."""
import numpy as _np

from . import _core


def _host(x):
    return x.get() if isinstance(x, _core.ndarray) else _np.asarray(x)


def assert_allclose(actual, desired, rtol=1e-7, atol=0, err_msg="", verbose=True):
    _np.testing.assert_allclose(_host(actual), _host(desired), rtol=rtol, atol=atol,
                                err_msg=err_msg, verbose=verbose)


def assert_array_equal(x, y, err_msg="", verbose=True, strides_check=False):
    _np.testing.assert_array_equal(_host(x), _host(y), err_msg=err_msg, verbose=verbose)
