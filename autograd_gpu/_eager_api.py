"""``inference_mode`` and ``compile``, as torch's, for programs that use them.

``inference_mode(mode=True)`` (a context manager and a decorator) is ``no_grad`` here: ops
inside record nothing and their results do not require grad. PyTorch's inference tensors
(``is_inference()`` True, refused later by autograd) are not made: results are ordinary
tensors, so using one in a later graph works here where PyTorch raises.

``compile(model_or_fn, **options)`` returns its argument unchanged: the program runs
eagerly, exactly as without it (the library has no graph capture yet). Used as a decorator,
with or without options, it returns the function.
"""
import functools
import threading

from .autograd import grad_mode

_state = grad_mode._state


class inference_mode:
    """Context manager and decorator that turns gradient recording off, as
    ``torch.inference_mode`` (here the same as no_grad, and also recorded as inference mode).

    Args:
        mode: turn inference mode on (True) or leave recording as it is (False).
    """
    def __init__(self, mode=True):
        self.mode = bool(mode)

    def __enter__(self):
        self._prev = _state.enabled
        if self.mode:
            _state.enabled = False
        _modes.stack.append(self.mode)
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        _modes.stack.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(self.mode):
                return fn(*args, **kwargs)

        return wrapper

    def clone(self):
        return inference_mode(self.mode)


class _Modes(threading.local):
    def __init__(self):
        self.stack = []


_modes = _Modes()  # per thread, as grad mode


def is_inference_mode_enabled():
    """True inside an enabled inference_mode block on this thread.

    Returns:
        bool.
    """
    return bool(_modes.stack) and _modes.stack[-1]


def compile(model=None, *, fullgraph=False, dynamic=None, backend="inductor", mode=None,
            options=None, disable=False):
    """Returns `model` (a module or a function) unchanged: it runs eagerly.

    The signature is ``torch.compile``'s, so code that compiles its model runs here as is;
    every option is accepted and ignored.

    Args:
        model: the module or function (None: ``compile`` is used as a decorator with
            options, ``@compile(mode=...)``).
        fullgraph: ignored.
        dynamic: ignored.
        backend: ignored.
        mode: ignored.
        options: ignored.
        disable: ignored (the model runs eagerly either way).

    Returns:
        `model` itself; with model None, a function that returns its argument unchanged.
    """
    if model is None:
        return lambda m: m
    return model
