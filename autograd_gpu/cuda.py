"""``autograd_gpu.cuda``: is a GPU usable here, and how many."""
from . import backend


def is_available():
    """True when CuPy is installed and a CUDA device is usable (probed once, lazily).

    Returns:
        bool.
    """
    return backend.cuda_is_available()


def device_count():
    """The number of usable CUDA devices (0 where CUDA is not usable).

    Returns:
        int.
    """
    return backend.cuda_device_count()


def unavailable_reason():
    """Why CUDA is not usable here (None when it is).

    Returns:
        str or None.
    """
    return backend.cuda_unavailable_reason()


def synchronize(device=None):
    """Wait until all work queued on a CUDA device has finished.

    Args:
        device: a device, its index or None for the current one.

    Returns:
        None.
    """
    backend.synchronize(device)


def current_device():
    """The index of the current CUDA device.

    Returns:
        int.
    """
    return backend.cupy_module().cuda.runtime.getDevice()


# ---------------------------------------------------------------- random state
# As torch.cuda: each device has its own stream (creation._generator); seeding functions are
# silently ignored where CUDA is not usable (so a CPU run of a CUDA script proceeds), and
# set_rng_state is too, as PyTorch queues it for a CUDA that never comes; reading a state
# or a seed needs a device. A state is a CPU uint8 tensor of 16 bytes: the stream's seed
# and offset (the number of draws so far), which is what it restores (see creation.py).

OutOfMemoryError = backend.OutOfMemoryError


def _stream(device="cuda"):
    from .creation import _generator

    if isinstance(device, int) and not isinstance(device, bool):
        device = backend.device("cuda", device)
    dev = backend.normalize_device(device)
    if dev.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {dev}")
    return _generator(dev)


def _seed_streams(devices, seed):
    if not is_available():
        return
    for i in devices:
        _stream(i).manual_seed(seed)


def get_rng_state(device="cuda"):
    """The random state of a CUDA device (the current one by default), a uint8 tensor.

    Args:
        device: a CUDA device, its index, or ``"cuda"`` (the current one).

    Returns:
        Tensor: a CPU uint8 tensor of 16 bytes (the stream's seed and offset).
    """
    return _stream(device).get_state()


def get_rng_state_all():
    """The random states of every CUDA device.

    Returns:
        list of uint8 Tensor.
    """
    return [get_rng_state(i) for i in range(device_count())]


def set_rng_state(new_state, device="cuda"):
    """Restores a CUDA device's random stream to a state from ``get_rng_state``.

    Args:
        new_state: the uint8 tensor get_rng_state returned.
        device: a CUDA device, its index, or ``"cuda"`` (the current one).

    Returns:
        None (nothing happens where CUDA is not usable).
    """
    if is_available():
        _stream(device).set_state(new_state)


def set_rng_state_all(new_states):
    """Set the random state of every CUDA device.

    Args:
        new_states: one state per device, as get_rng_state_all returns.

    Returns:
        None.
    """
    for i, state in enumerate(new_states):
        set_rng_state(state, i)


def manual_seed(seed):
    """Seeds the current CUDA device's stream (``autograd_gpu.manual_seed`` seeds all).

    Args:
        seed: an int.

    Returns:
        None (nothing happens where CUDA is not usable).
    """
    from .creation import _check_seed

    seed = _check_seed(seed)
    if is_available():
        _seed_streams([current_device()], seed)


def manual_seed_all(seed):
    """Seeds every CUDA device's stream.

    Args:
        seed: an int.

    Returns:
        None (nothing happens where CUDA is not usable).
    """
    from .creation import _check_seed

    seed = _check_seed(seed)
    if is_available():
        _seed_streams(range(device_count()), seed)


def seed():
    """Seeds the current CUDA device's stream with a non-deterministic number.

    Returns:
        None (nothing happens where CUDA is not usable).
    """
    if is_available():
        _stream().seed()


def seed_all():
    """Seeds every CUDA device's stream with one non-deterministic number.

    Returns:
        None (nothing happens where CUDA is not usable).
    """
    if is_available():
        manual_seed_all(_stream().seed())


def initial_seed():
    """The seed of the current CUDA device's stream.

    Returns:
        int (raises where CUDA is not usable).
    """
    return _stream().initial_seed()


# ---------------------------------------------------------------- device utilities
# names and properties, set_device / device(i), memory statistics, streams and events
from ._cuda_utils import (  # noqa: E402
    Event, Stream, current_stream, default_stream, device, device_of, empty_cache,
    get_device_capability, get_device_name, get_device_properties, init, is_bf16_supported,
    is_initialized, max_memory_allocated, max_memory_reserved, mem_get_info, memory_allocated,
    memory_reserved, memory_stats, reset_max_memory_allocated, reset_peak_memory_stats,
    set_device, set_stream, stream,
)
