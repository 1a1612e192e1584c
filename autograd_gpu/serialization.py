"""``save`` / ``load`` for tensors and (nested) containers of them, such as a module's or an
optimizer's ``state_dict()``.

The file is a NumPy ``.npz`` archive: one ``.npy`` entry per distinct tensor and one JSON
entry describing the structure (dicts with str/int keys, lists, tuples, numbers, strings,
booleans, None, dtypes, devices). Loading uses ``numpy.load(allow_pickle=False)`` and
``json``, so a file can never execute code. Arbitrary Python objects (modules, functions)
are refused at save time: save ``model.state_dict()`` instead.
"""
import json
import math
import os
import zipfile
from collections import OrderedDict

import numpy as np

from . import backend
from .tensor import Tensor, _wrap

_HEADER = "__autograd_gpu__"
_FORMAT = "autograd_gpu.save"
_VERSION = 1


def save(obj, f):
    """Writes `obj` (tensors, and dicts/lists/tuples of tensors, numbers, strings) to `f`
    (a path or a writable binary file)."""
    arrays = {}
    ids = {}

    def enc(o):
        if isinstance(o, Tensor):
            k = ids.get(id(o))
            if k is None:
                k = ids[id(o)] = f"t{len(ids)}"
                data = o._data
                arrays[k] = data if type(data) is np.ndarray else data.get()
            from .nn.module import Parameter

            return {"T": "tensor", "key": k, "device": str(o.device),
                    "requires_grad": bool(o.requires_grad), "parameter": isinstance(o, Parameter)}
        if o is None or isinstance(o, (bool, str)):
            return o
        if isinstance(o, (int, np.integer)):
            return int(o)
        if isinstance(o, (float, np.floating)):
            o = float(o)
            return o if math.isfinite(o) else {"T": "float", "v": repr(o)}
        if isinstance(o, backend.dtype):
            return {"T": "dtype", "v": o.name if hasattr(o, "name") else str(o)}
        if isinstance(o, backend.device):
            return {"T": "device", "v": str(o)}
        if isinstance(o, np.ndarray):
            k = f"a{len(arrays)}"
            arrays[k] = o
            return {"T": "ndarray", "key": k}
        if isinstance(o, dict):
            items = []
            for key, v in o.items():
                if isinstance(key, bool) or not isinstance(key, (str, int)):
                    raise TypeError(
                        f"autograd_gpu.save: dict keys must be str or int, got {type(key).__name__}"
                    )
                items.append([key, enc(v)])
            return {"T": "odict" if isinstance(o, OrderedDict) else "dict", "items": items}
        if isinstance(o, tuple):
            return {"T": "tuple", "items": [enc(v) for v in o]}
        if isinstance(o, list):
            return {"T": "list", "items": [enc(v) for v in o]}
        raise TypeError(
            f"autograd_gpu.save cannot store a {type(o).__name__}: only tensors, numbers, "
            "strings, None, and dicts/lists/tuples of them are saved (files never hold code). "
            "For a model or optimizer, save its state_dict()."
        )

    header = {"format": _FORMAT, "version": _VERSION, "root": enc(obj)}
    entries = dict(arrays)
    entries[_HEADER] = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            np.savez(fh, **entries)
    else:
        np.savez(f, **entries)


def load(f, map_location=None, weights_only=True):
    """Reads what `save` wrote. ``map_location``: a device (or its name) to put every tensor
    on, or a dict mapping saved device names to devices; by default tensors go back to the
    device they were saved from."""
    name = f if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "<file object>")
    try:
        npz = np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise RuntimeError(
            f"autograd_gpu.load: {name} is not a file written by autograd_gpu.save, or it is "
            f"truncated or corrupted ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise RuntimeError(
            f"autograd_gpu.load: {name} is a bare .npy array, not a file written by "
            "autograd_gpu.save (load it with numpy.load and wrap it with autograd_gpu.from_numpy)"
        )
    with npz:
        try:
            if _HEADER + ".npy" not in npz.zip.namelist() and _HEADER not in npz.files:
                raise RuntimeError(
                    f"autograd_gpu.load: {name} has no autograd_gpu header: it is a zip/npz "
                    "archive written by something else (a PyTorch checkpoint holds pickled "
                    "code and is not read here; load it with torch and convert the arrays)"
                )
            header = json.loads(bytes(npz[_HEADER]).decode("utf-8"))
            if header.get("format") != _FORMAT:
                raise RuntimeError(f"autograd_gpu.load: {name} has an unknown header format")
            if header.get("version", 0) > _VERSION:
                raise RuntimeError(
                    f"autograd_gpu.load: {name} was written by a newer format version "
                    f"({header.get('version')}); this library reads version {_VERSION}"
                )
            cache = {}

            def array(key):
                return npz[key]

            def dec(o):
                if not isinstance(o, dict):
                    if isinstance(o, list):
                        raise RuntimeError("malformed structure")
                    return o
                t = o.get("T")
                if t == "tensor":
                    k = o["key"]
                    if k not in cache:
                        arr = array(k)
                        dev = _target_device(o["device"], map_location)
                        if dev.type != "cpu":
                            arr = backend.to_device(arr, dev)
                        if o.get("parameter"):
                            from .nn.module import Parameter

                            tt = Parameter(_wrap(arr), requires_grad=o["requires_grad"])
                        else:
                            tt = _wrap(arr)
                            if o["requires_grad"]:
                                tt.requires_grad_(True)
                        cache[k] = tt
                    return cache[k]
                if t == "float":
                    return float(o["v"])
                if t == "dtype":
                    return backend._dtype_by_name(o["v"])
                if t == "device":
                    return backend.device(o["v"])
                if t == "ndarray":
                    return array(o["key"])
                if t in ("dict", "odict"):
                    d = OrderedDict() if t == "odict" else {}
                    for key, v in o["items"]:
                        d[key] = dec(v)
                    return d
                if t == "tuple":
                    return tuple(dec(v) for v in o["items"])
                if t == "list":
                    return [dec(v) for v in o["items"]]
                raise RuntimeError(f"unknown entry type {t!r}")

            return dec(header["root"])
        except RuntimeError as e:
            if str(e).startswith("autograd_gpu.load"):
                raise
            raise RuntimeError(f"autograd_gpu.load: {name} is corrupted: {e}") from None
        except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise RuntimeError(
                f"autograd_gpu.load: {name} is truncated or corrupted ({type(e).__name__}: {e})"
            ) from None


def _target_device(saved, map_location):
    if map_location is None:
        return backend.normalize_device(saved)
    if isinstance(map_location, dict):
        return backend.normalize_device(map_location.get(saved, saved))
    if callable(map_location) and not isinstance(map_location, (str, backend.device)):
        raise TypeError("autograd_gpu.load: map_location must be a device, a device name, or a dict")
    return backend.normalize_device(map_location)
