"""``torch.accelerator``: the device-generic view of the machine's accelerator, which here is
CUDA when it is usable (CuPy installed, a driver and a device); otherwise there is none."""
from . import backend

__all__ = [
    "current_accelerator", "current_device_idx", "current_device_index", "device_count",
    "is_available", "synchronize",
]

_NONE = "Cannot access accelerator device when none is available."


def is_available():
    """True when a CUDA device is usable (probed once, lazily).

    Returns:
        bool.
    """
    return backend.cuda_is_available()


def current_accelerator(check_available=False):
    """``device(type='cuda')`` when CUDA is usable, else None. (PyTorch returns the device
    type it was built for unless `check_available`; here that is CUDA only where usable.)

    Args:
        check_available: accepted; the answer is the same either way.

    Returns:
        device or None.
    """
    return backend.device("cuda") if backend.cuda_is_available() else None


def device_count():
    """The number of usable CUDA devices (0 without one).

    Returns:
        int.
    """
    return backend.cuda_device_count()


def current_device_index():
    """The index of the current CUDA device (RuntimeError without one).

    Returns:
        int.
    """
    if not backend.cuda_is_available():
        raise RuntimeError(_NONE)
    return backend.cupy_module().cuda.runtime.getDevice()


current_device_idx = current_device_index


def synchronize(device=None):
    """Waits for the work queued on a CUDA device (the current one by default; an index, a
    ``cuda`` device or its name).

    Args:
        device: an index, a ``cuda`` device, its name, or None (the current one).

    Returns:
        None (RuntimeError without an accelerator).
    """
    if device is not None and not isinstance(device, int):
        device = backend.device(device)  # parsed only: no CUDA check before ours
        if not backend.cuda_is_available():
            raise RuntimeError("Accelerator expected")
        if device.type != "cuda":
            raise ValueError(f"{device.type} doesn't match the current accelerator cuda.")
    if not backend.cuda_is_available():
        raise RuntimeError(_NONE)
    if isinstance(device, int):
        device = backend.device("cuda", device)
    backend.synchronize(device)
