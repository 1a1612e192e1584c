"""cupy.random: RandomState and the module-level samplers, on the current device."""
import numpy as _np

from . import _core


class RandomState:
    """Draws with NumPy's generator seeded by `seed` (not cuRAND's stream)."""

    def __init__(self, seed=None, method=None):
        self._rng = _np.random.RandomState(None if seed is None else int(seed) % (2**32))
        self._device = _core.current_device()

    def seed(self, seed=None):
        self._rng.seed(None if seed is None else int(seed) % (2**32))

    def __getattr__(self, name):
        f = getattr(self._rng, name)
        if not callable(f) or name.startswith("_"):
            raise AttributeError(name)

        def draw(*args, **kwargs):
            dtype = kwargs.pop("dtype", None)
            args, kwargs = _core.host_args(args, kwargs)
            out = f(*args, **kwargs)
            if dtype is not None:
                out = _np.asarray(out).astype(dtype)
            return _core.wrap(_np.asarray(out))

        return draw


_global = None


def get_random_state():
    global _global
    if _global is None:
        _global = RandomState()
    return _global


def seed(seed=None):
    get_random_state().seed(seed)


def __getattr__(name):
    if name.startswith("_"):
        raise AttributeError(name)
    return getattr(get_random_state(), name)
