"""Anomaly detection: find the op whose backward produced NaN or inf, and where it was made.

    with autograd_gpu.autograd.detect_anomaly():
        y = (x - x).sqrt()          # forward ops record a stack trace while enabled
        y.sum().backward()          # RuntimeError: Function 'SqrtBackward0' returned nan
                                    # values in its 0th output. + the forward trace

While enabled, every recorded node keeps the stack of the code that created it, and the
engine checks each gradient a node returns. Off (the default) it costs nothing: the engine
reads one class attribute per backward call and no trace is taken.
"""
import functools
import threading

from .node import Node

_lock = threading.Lock()
_check_nan = True


def is_anomaly_enabled():
    """Whether anomaly detection is on.

    Returns:
        bool.
    """
    return Node._record_trace


def is_anomaly_check_nan_enabled():
    """Whether anomaly detection is on and checks gradients for NaN and inf.

    Returns:
        bool.
    """
    return Node._record_trace and _check_nan


def _set(enabled, check_nan):
    global _check_nan
    with _lock:
        Node._record_trace = bool(enabled)
        _check_nan = bool(check_nan)


class detect_anomaly:
    """Context manager and decorator that turns anomaly detection on inside it.

    ``check_nan=False`` keeps the forward traces but skips the NaN/inf checks. The mode is
    global (all threads), as the engine reads it once per backward call.

    Args:
        check_nan: check every gradient a node returns for NaN and inf.
    """

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        self._prev = None

    def __enter__(self):
        self._prev = (Node._record_trace, _check_nan)
        _set(True, self.check_nan)
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)

        return wrapper


class set_detect_anomaly:
    """``set_detect_anomaly(True)`` switches anomaly detection on (or off) from here on; used
    in a ``with`` statement it restores the previous mode on exit.

    Args:
        mode: True to switch anomaly detection on, False off.
        check_nan: check every gradient a node returns for NaN and inf.
    """

    def __init__(self, mode, check_nan=True):
        self._prev = (Node._record_trace, _check_nan)
        _set(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _set(*self._prev)
        return False


def _bad_kind(g):
    """'nan', 'inf' or None for one gradient (raw array or Tensor)."""
    data = getattr(g, "_data", g)
    dtype = getattr(data, "dtype", None)
    if dtype is None or dtype.kind not in "fc":
        return None
    from ..backend import array_module

    xp = array_module(data)
    if bool(xp.isnan(data).any()):
        return "nan"
    if bool(xp.isinf(data).any()):
        return "inf"
    return None


def check_node_output(node, in_grads):
    """Called by the engine after each node's backward while anomaly mode is on: raises if
    a gradient the node returned holds NaN or inf, naming the node and showing the forward
    stack that created it."""
    if not _check_nan:
        return
    for i, g in enumerate(in_grads):
        if g is None:
            continue
        kind = _bad_kind(g)
        if kind is None:
            continue
        msg = f"Function '{node.name}' returned {kind} values in its {i}th output."
        trace = getattr(node, "_anomaly_trace", None)
        if trace:
            msg += (
                "\n\nTraceback of forward call that caused the error (the op that made "
                f"{node.name}):\n{trace}"
            )
        else:
            msg += (
                " (No forward trace: the node was created before anomaly detection was "
                "enabled; run the forward pass inside detect_anomaly() too.)"
            )
        raise RuntimeError(msg)
