"""``autocast``: mixed precision for a region of code, as torch.amp.autocast.

Inside ``with autocast("cuda"):`` the matmul-like ops (matmul / @, mm, bmm, mv, addmm,
baddbmm, addbmm, addmv, linear, the convolutions) cast their float32 tensor inputs to
float16 (a ToCopyBackward0 node: gradients come back in float32), and the ops PyTorch keeps
in float32 (softmax, log_softmax, layer_norm, group_norm, the losses, exp, log, pow, sum,
prod, cumsum, cumprod, norm) cast float16 inputs up to float32. float64 tensors are left
alone. Parameters (leaves that require grad) are cast once per region (cache_enabled).

How: the thread-local state lives in autograd_gpu._autocast_state; while at least one
region is open (in any thread), the op classes of the two lists get a class-level `apply`
that casts their tensor inputs by that state and then runs the tape's apply; when the last
region closes the classes get their own apply back, so with autocast off no op pays
anything. Only CUDA tensors are cast in a "cuda" region and only CPU tensors in a "cpu" one.

On the CPU, PyTorch's default autocast dtype is bfloat16, which NumPy has no type for: a
"cpu" region with bfloat16 warns once and computes in float32 (it changes nothing). A
"cpu" region with dtype=float16 is honoured (NumPy float16). On CUDA, float16 is the
default; bfloat16 is refused the same way (CuPy has no bfloat16 either).
"""
import functools
import threading
import warnings

import numpy as np

from .. import _autocast_state as _st
from .. import backend

__all__ = ["autocast", "is_autocast_available", "custom_fwd", "custom_bwd"]

_DEVICE_TYPES = ("cpu", "cuda")
_warned = set()
_install_lock = threading.Lock()
_installed = {}  # op class -> "lower" or "fp32", while patched


def is_autocast_available(device_type):
    """True if autocast supports the device type.

    Args:
        device_type: ``"cpu"`` or ``"cuda"``.

    Returns:
        bool.
    """
    return device_type in _DEVICE_TYPES


def _op_lists():
    from ..nn import functional as F
    from ..ops import arithmetic, conv, elementwise, linalg, loss, normalization, reduction, scan

    lower = [linalg.MatMul, linalg._AddProduct, F.Linear, conv.Convolution]
    fp32 = [reduction.Softmax, reduction.LogSoftmax, normalization.LayerNorm,
            normalization.GroupNorm, loss.MseLoss, loss.L1Loss, loss.HuberLoss,
            loss.BinaryCrossEntropyWithLogits, loss.CrossEntropy, loss.CrossEntropyProbs,
            loss.NllLoss, loss.SmoothL1Loss, loss.SoftMarginLoss, loss.MultiMarginLoss,
            elementwise.Exp, elementwise.Log, arithmetic.Pow, reduction.Sum, reduction.Prod,
            reduction.Norm2, scan.Cumsum, scan.Cumprod]
    return lower, fp32


def _tape_apply():
    from ..autograd.node import Node

    return Node.__dict__["apply"].__func__


def _make_apply(kind, tape_apply):
    cast = _st.cast_inputs if kind == "lower" else _st.fp32_inputs

    def apply(cls, *inputs, **params):
        if _st.state.depth:
            inputs = cast(inputs)
        return tape_apply(cls, *inputs, **params)

    return classmethod(apply)


def _install():
    with _install_lock:
        if _installed:
            return
        tape_apply = _tape_apply()
        lower, fp32 = _op_lists()
        for kind, classes in (("lower", lower), ("fp32", fp32)):
            for cls in classes:
                if "apply" in cls.__dict__:  # (a class with its own apply is left alone)
                    continue
                cls.apply = _make_apply(kind, tape_apply)
                _installed[cls] = kind


def _uninstall():
    with _install_lock:
        if _st.active:
            return
        for cls in list(_installed):
            del cls.apply  # the inherited tape apply again
        _installed.clear()


def _np_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, backend.dtype):
        return dtype.np
    return np.dtype(dtype)


class autocast:
    """``autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context
    manager and decorator. device_type is "cuda" or "cpu"; dtype defaults to float16 on
    CUDA and bfloat16 on the CPU (which runs in float32 here, see the module's notes).

    Args:
        device_type: ``"cuda"`` or ``"cpu"``: only tensors of that kind are cast.
        dtype: the lower precision (None: float16 on CUDA, bfloat16 on the CPU); only
            float16 computes in it, bfloat16 warns and turns the region off.
        enabled: False makes the region a no-op.
        cache_enabled: cast each parameter once per outermost region (None: True).
    """

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type not in _DEVICE_TYPES:
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'")
        self.device = device_type
        if dtype is None:
            dtype = backend.float16 if device_type == "cuda" else backend.bfloat16
        self.fast_dtype = dtype
        self._enabled = bool(enabled)
        self._cache_enabled = True if cache_enabled is None else bool(cache_enabled)
        self._np = None
        if self._enabled:
            if getattr(dtype, "name", None) == "bfloat16":
                if device_type not in _warned:
                    _warned.add(device_type)
                    warnings.warn(
                        f"autocast({device_type!r}) with bfloat16: NumPy and CuPy have no "
                        "bfloat16 type, so this region computes in float32 (autocast off). "
                        + ("Pass dtype=autograd_gpu.float16 for half precision."
                           if device_type == "cuda" else
                           "Pass dtype=autograd_gpu.float16 to compute in float16 on the CPU."),
                        UserWarning, stacklevel=2)
                self._enabled = False
            elif _np_dtype(dtype) != np.dtype(np.float16):
                warnings.warn(
                    f"In {'CUDA' if device_type == 'cuda' else 'CPU'} autocast, but the target "
                    f"dtype {dtype} is not supported. Disabling autocast.\n"
                    f"{device_type.upper()} Autocast only supports dtype of torch.float16 here.",
                    UserWarning, stacklevel=2)
                self._enabled = False
            else:
                self._np = np.dtype(np.float16)

    def __enter__(self):
        st = _st.state
        self._prev = (st.enabled[self.device], st.dtype[self.device], st.cache_enabled)
        st.enabled[self.device] = self._enabled
        st.dtype[self.device] = self._np if self._enabled else st.dtype[self.device]
        st.cache_enabled = self._cache_enabled
        st.depth += 1
        _st.enter()
        _install()
        return self

    def __exit__(self, *exc):
        st = _st.state
        st.enabled[self.device], st.dtype[self.device], st.cache_enabled = self._prev
        st.depth -= 1
        if st.depth == 0:
            st.cache = None  # the casts of parameters live as long as the outermost region
        _st.leave()
        if not _st.active:
            _uninstall()
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return wrapper


def is_autocast_enabled(device_type=None):
    """Whether autocast is on in this thread (for `device_type`, "cuda" by default).

    Args:
        device_type: ``"cpu"`` or ``"cuda"`` (None: ``"cuda"``).

    Returns:
        bool.
    """
    st = _st.state
    return bool(st.depth) and st.enabled["cuda" if device_type is None else device_type]


def get_autocast_dtype(device_type):
    """The dtype autocast casts to on a device type.

    Args:
        device_type: ``"cpu"`` or ``"cuda"``.

    Returns:
        dtype.
    """
    d = _st.state.dtype.get(device_type)
    if d is None:
        return backend.float16 if device_type == "cuda" else backend.bfloat16
    return backend.from_numpy_dtype(d)


def custom_fwd(fwd=None, *, device_type="cuda", cast_inputs=None):
    """For a custom autograd.Function's forward: with cast_inputs, runs it with autocast off
    and its floating tensor inputs cast to that dtype (when autocast is on); else as is.

    Args:
        fwd: the forward (None: returns a decorator taking it).
        device_type: the autocast device type checked.
        cast_inputs: a floating dtype, or None (run forward as it is).

    Returns:
        The wrapped forward (or the decorator).
    """
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def wrapper(*args, **kwargs):
        if cast_inputs is None or not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        from ..tensor import Tensor

        args = [a.to(cast_inputs) if isinstance(a, Tensor) and a.is_floating_point() else a
                for a in args]
        with autocast(device_type, enabled=False):
            return fwd(*args, **kwargs)

    return wrapper


def custom_bwd(bwd=None, *, device_type="cuda"):
    """For a custom Function's backward (runs it as it is: backward already runs outside
    the forward's autocast region here).

    Args:
        bwd: the backward (None: returns a decorator taking it).
        device_type: accepted, changes nothing.

    Returns:
        bwd itself (or the decorator).
    """
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd
