"""Grad mode: whether ops record themselves on the tape. Per thread, as in PyTorch."""
import functools
import threading


class _State(threading.local):
    enabled = True


_state = _State()


def is_grad_enabled():
    """True if operations are recorded for autograd on this thread.

    Returns:
        bool.
    """
    return _state.enabled


class _GradModeContext:
    """Base for context managers that are also decorators."""

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__(*self._args()):
                return fn(*args, **kwargs)

        return wrapper

    def _args(self):
        return ()

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False


class no_grad(_GradModeContext):
    """Ops inside do not record; their results do not require grad.

    Examples:
        >>> import autograd_gpu as torch
        >>> x = torch.ones(2, requires_grad=True)
        >>> with torch.no_grad():
        ...     y = x * 2
        >>> y.requires_grad
        False
    """

    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = False
        return self


class enable_grad(_GradModeContext):
    """Context manager and decorator that turns gradient recording on (inside no_grad, too)."""
    def __enter__(self):
        self._prev = _state.enabled
        _state.enabled = True
        return self


class set_grad_enabled(_GradModeContext):
    """Takes effect at construction (like PyTorch), so it works as a plain call too.

    Args:
        mode: True to record operations, False not to.
    """

    def __init__(self, mode):
        self._prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def _args(self):
        return (self.mode,)

    def __enter__(self):
        return self

    def __call__(self, fn):
        _state.enabled = self._prev  # used as a decorator: undo the effect of construction
        return super().__call__(fn)
