"""``autograd_gpu.cuda``: is a GPU usable here, and how many."""
from . import backend


def is_available():
    """True when CuPy is installed and a CUDA device is usable (probed once, lazily)."""
    return backend.cuda_is_available()


def device_count():
    return backend.cuda_device_count()


def unavailable_reason():
    """Why CUDA is not usable here (None when it is)."""
    return backend.cuda_unavailable_reason()


def synchronize(device=None):
    backend.synchronize(device)


def current_device():
    return backend.cupy_module().cuda.runtime.getDevice()


def manual_seed(seed):
    from .creation import manual_seed as _seed

    _seed(seed)


manual_seed_all = manual_seed
