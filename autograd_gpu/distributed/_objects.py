"""Objects for broadcast_object_list / all_gather_object, as bytes, without pickle.

An object travels as JSON; tensors and NumPy arrays inside it travel as their raw bytes
(base64) with dtype and shape. Only data is accepted (None, bool, int, float, str, list,
tuple, dict, Tensor, NumPy array and scalar, dtype, device); anything else (functions,
modules, arbitrary classes) is refused, so decoding never runs code.
"""
import base64
import json
import math

import numpy as np

from .. import backend
from ..tensor import Tensor, _wrap

_ACCEPTED = ("None, bool, int, float, str, list, tuple, dict, Tensor, NumPy arrays and scalars, "
             "dtypes and devices")


def _array_entry(kind, arr, **extra):
    arr = np.ascontiguousarray(arr)
    return {"T": kind, "dtype": arr.dtype.str, "shape": list(arr.shape),
            "b64": base64.b64encode(arr.tobytes()).decode("ascii"), **extra}


def _enc(o):
    if o is None or isinstance(o, (bool, str)):
        return o
    if isinstance(o, Tensor):
        d = o._data
        host = backend.to_device(d, backend.CPU)
        return _array_entry("tensor", host, device=str(o.device),
                            requires_grad=bool(o._requires_grad))
    if isinstance(o, (int, np.integer)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        o = float(o)
        return o if math.isfinite(o) else {"T": "float", "v": repr(o)}
    if isinstance(o, np.ndarray):
        return _array_entry("ndarray", o)
    if isinstance(o, list):
        return [_enc(v) for v in o]
    if isinstance(o, tuple):
        return {"T": "tuple", "v": [_enc(v) for v in o]}
    if isinstance(o, dict):
        return {"T": "dict", "v": [[_enc(k), _enc(v)] for k, v in o.items()]}
    if isinstance(o, backend.dtype):
        return {"T": "dtype", "v": str(o).rsplit(".", 1)[-1]}
    if isinstance(o, backend.device):
        return {"T": "device", "v": str(o)}
    raise TypeError(
        f"cannot send an object of type {type(o).__module__}.{type(o).__qualname__} between "
        f"processes: object collectives carry data only ({_ACCEPTED}), never pickled code"
    )


def _key(k):
    # dict keys decode to hashable forms (a tuple key stays a tuple)
    return tuple(_key(v) for v in k) if isinstance(k, list) else k


def _dec(o, device):
    if isinstance(o, list):
        return [_dec(v, device) for v in o]
    if not isinstance(o, dict):
        return o
    kind = o["T"]
    if kind in ("tensor", "ndarray"):
        raw = base64.b64decode(o["b64"])
        arr = np.frombuffer(raw, dtype=np.dtype(o["dtype"])).reshape(o["shape"]).copy()
        if kind == "ndarray":
            return arr
        dev = backend.normalize_device(device if device is not None else _usable(o["device"]))
        t = _wrap(backend.to_device(arr, dev))
        if o["requires_grad"]:
            t.requires_grad_(True)
        return t
    if kind == "float":
        return float(o["v"])
    if kind == "tuple":
        return tuple(_dec(v, device) for v in o["v"])
    if kind == "dict":
        return {_key(_dec(k, device)): _dec(v, device) for k, v in o["v"]}
    if kind == "dtype":
        return getattr(__import__("autograd_gpu"), o["v"])
    if kind == "device":
        return backend.device(o["v"])
    raise ValueError(f"unknown entry {kind!r} in a received object")


def _usable(dev):
    """The sender's device, or the CPU where this process has no GPU."""
    return dev if dev == "cpu" or backend.cuda_is_available() else "cpu"


def encode(obj):
    """`obj` as UTF-8 JSON bytes (raises TypeError for anything that is not data)."""
    return json.dumps(_enc(obj), separators=(",", ":")).encode("utf-8")


def decode(data, device=None):
    """The object `encode` made; tensors go to `device`, else to the sender's device."""
    return _dec(json.loads(bytes(data).decode("utf-8")), device)
