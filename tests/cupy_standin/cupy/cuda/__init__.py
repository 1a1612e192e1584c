"""cupy.cuda: devices (the current one per thread), streams, events, memory pools."""
import time

from .. import _core
from . import memory, runtime  # noqa: F401
from .memory import MemoryPool, OutOfMemoryError  # noqa: F401


def is_available():
    return True


class Device:
    """A device; as a context manager it is the current device inside the block."""

    def __init__(self, device=None):
        self.id = _core.current_device() if device is None else int(device)
        self._prev = []

    def __enter__(self):
        self._prev.append(_core.current_device())
        _core.set_current_device(self.id)
        return self

    def __exit__(self, *exc):
        _core.set_current_device(self._prev.pop())

    def use(self):
        _core.set_current_device(self.id)

    def synchronize(self):
        pass

    @property
    def compute_capability(self):
        return "90"

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __int__(self):
        return self.id

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    null = None

    def __init__(self, null=False, non_blocking=False, ptr=None):
        self.device_id = _core.current_device()
        self.ptr = 0 if null else id(self)

    def synchronize(self):
        pass

    def use(self):
        _current_stream[0] = self
        return self

    def __enter__(self):
        self._prev = _current_stream[0]
        _current_stream[0] = self
        return self

    def __exit__(self, *exc):
        _current_stream[0] = self._prev

    def record(self, event=None):
        event = event or Event()
        event.record(self)
        return event

    def wait_event(self, event):
        pass

    def done(self):
        return True


Stream.null = Stream(null=True)
_current_stream = [Stream.null]


def get_current_stream(device_id=None):
    return _current_stream[0]


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self._t = None

    def record(self, stream=None):
        self._t = time.perf_counter()

    def synchronize(self):
        pass

    @property
    def done(self):
        return True


def get_elapsed_time(start, end):
    return (end._t - start._t) * 1e3
