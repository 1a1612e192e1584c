"""``autograd_gpu.random``: the random state as ``torch.random`` has it.

The CPU stream (the one ``rand``, ``randn``, ``Dropout`` and ``DataLoader`` shuffling draw
from on the CPU) is read and restored with ``get_rng_state`` / ``set_rng_state``; each CUDA
device's stream with ``autograd_gpu.cuda.get_rng_state`` / ``set_rng_state``. A state is a
uint8 tensor, so ``autograd_gpu.save`` stores it in a checkpoint beside the model's and the
optimizer's state. ``fork_rng`` restores the CPU state and the chosen CUDA devices' states
when its block ends, whatever the block drew.
"""
import contextlib
import warnings

from . import cuda as _cuda
from .creation import get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]

_fork_rng_warned_already = False


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices",
             device_type="cuda"):
    """Saves the CPU random state and the states of the CUDA `devices` (every CUDA device
    when None; ``[]`` for the CPU alone) and restores them when the block exits, also by an
    exception. ``enabled=False`` does nothing.

    Args:
        devices: the CUDA device indices whose states to save (None: every CUDA device,
            with a warning when there are several).
        enabled: False makes the block a no-op.
        _caller: the function name the warning about devices=None names (internal).
        _devices_kw: the keyword the warning about devices=None names (internal).
        device_type: ``'cuda'`` (or ``'meta'``, which saves nothing).

    Returns:
        A context manager; what the block draws is undone when it exits.
    """
    if device_type not in ("cuda", "meta"):
        raise RuntimeError(f"autograd_gpu has no module of `{device_type}`: only 'cuda' "
                           "devices have random streams besides the CPU's")
    if device_type == "meta" or not enabled:
        yield
        return
    global _fork_rng_warned_already
    if devices is None:
        count = _cuda.device_count()
        if count > 1 and not _fork_rng_warned_already:
            warnings.warn(
                f"CUDA reports that you have {count} available devices, and you have used "
                f"{_caller} without explicitly specifying which devices are being used. For "
                "safety, we initialize *every* CUDA device by default, which can be quite slow "
                "if you have a lot of CUDAs. If you know that you are only making use of a few "
                "CUDA devices, set the environment variable CUDA_VISIBLE_DEVICES or the "
                f"'{_devices_kw}' keyword argument of {_caller} with the set of devices you are "
                "actually using. For example, if you are using CPU only, set "
                "CUDA_VISIBLE_DEVICES= or devices=[]; if you are using device 0 only, set "
                "CUDA_VISIBLE_DEVICES=0 or devices=[0].  To initialize all devices and suppress "
                f"this warning, set the '{_devices_kw}' keyword argument to "
                "`range(torch.cuda.device_count())`.", stacklevel=3)
            _fork_rng_warned_already = True
        devices = list(range(count))
    else:
        devices = list(devices)  # (traversed twice: a generator would be spent)
    cpu_state = get_rng_state()
    device_states = [_cuda.get_rng_state(d) for d in devices]
    try:
        yield
    finally:
        set_rng_state(cpu_state)
        for d, state in zip(devices, device_states):
            _cuda.set_rng_state(state, d)
