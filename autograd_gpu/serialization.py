"""``save`` / ``load`` for tensors and (nested) containers of them, such as a module's or an
optimizer's ``state_dict()``.

The file is a NumPy ``.npz`` archive: one ``.npy`` entry per distinct tensor and one JSON
entry describing the structure (dicts with str/int keys, lists, tuples, numbers, strings,
booleans, None, dtypes, devices). Loading uses ``numpy.load(allow_pickle=False)`` and
``json``, so a file can never execute code. Arbitrary Python objects (modules, functions)
are refused at save time: save ``model.state_dict()`` instead.

Saving to a path is atomic: the archive is written to a temporary file in the same folder,
flushed to disk, and renamed over the path, so the path always holds either the complete
old file or the complete new one (a save killed midway leaves the old file and a
``.<name>.*.tmp`` file beside it). Saving to a file object writes into it as it is.
"""
import json
import math
import os
import tempfile
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
    (a path or a writable binary file).

    Args:
        obj: what to save: a tensor, or (nested) dicts, lists and tuples of tensors, numbers,
            strings, None, dtypes and devices (a state_dict, a checkpoint).
        f: a path, or a binary file object open for writing.

    Returns:
        None.

    Examples:
        >>> import io
        >>> import autograd_gpu as torch
        >>> buf = io.BytesIO()
        >>> torch.save({"w": torch.tensor([1.0, 2.0]), "step": 3}, buf)
        >>> _ = buf.seek(0)
        >>> torch.load(buf)
        {'w': tensor([1., 2.]), 'step': 3}
    """
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
        _save_atomically(os.fspath(f), entries)
    else:
        np.savez(f, **entries)


def _save_atomically(path, entries):
    """Writes the archive to a temporary file beside `path`, fsyncs it, renames it over
    `path` and fsyncs the folder (so the rename itself survives a power cut)."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **entries)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would differ from open()'s mode
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, Exception):
            raise RuntimeError(
                f"autograd_gpu.save: writing {path} failed ({type(e).__name__}: {e}); the "
                "file there, if any, is unchanged"
            ) from e
        raise
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # (a folder that cannot be opened for reading: the rename stands anyway)
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None,
         **pickle_load_args):
    """Reads what `save` wrote.

    ``map_location`` says where each tensor goes: a device (or its name) for every tensor; a
    dict mapping saved device names to devices (names it does not list stay where they were
    saved); or a callable ``f(tensor, saved_location)`` called with each tensor on the CPU
    and the name of the device it was saved from, returning the tensor to use (``lambda t,
    loc: t`` keeps everything on the CPU) or a device. By default tensors go back to the
    device they were saved from. ``pickle_module``, ``weights_only`` and ``mmap`` are
    accepted for PyTorch's signature: nothing here is pickled, so every load is a weights-only
    load."""
    if pickle_module is not None or pickle_load_args:
        raise TypeError(
            "autograd_gpu.load: files hold no pickled objects, so pickle_module and pickle "
            "arguments have no meaning here"
        )
    if not (map_location is None or callable(map_location)
            or isinstance(map_location, (str, dict, backend.device))):
        raise TypeError(
            "autograd_gpu.load: map_location must be a device, a device name, a dict or a "
            f"callable, got {type(map_location).__name__}"
        )
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
                        try:
                            arr = _placed(arr, o["device"], map_location)
                        except Exception as e:  # the user's mapping or device, not the file
                            raise _Placement(e) from None
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
        except _Placement as e:
            raise e.args[0] from None
        except RuntimeError as e:
            if str(e).startswith("autograd_gpu.load"):
                raise
            raise RuntimeError(f"autograd_gpu.load: {name} is corrupted: {e}") from None
        except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as e:
            raise RuntimeError(
                f"autograd_gpu.load: {name} is truncated or corrupted ({type(e).__name__}: {e})"
            ) from None


class _Placement(Exception):
    """Carries an error raised while putting a tensor where map_location says (a device that
    is not usable, a callable that fails) past the handlers for damaged files."""


def _placed(arr, saved, map_location):
    """The host array `arr`, saved from device `saved`, where map_location puts it."""
    if map_location is None:
        target = saved
    elif isinstance(map_location, dict):
        target = map_location.get(saved, saved)
    elif isinstance(map_location, (str, backend.device)):
        target = map_location
    else:
        target = map_location(_wrap(arr), saved)
        if isinstance(target, Tensor):
            return target._data
        if target is None:
            raise TypeError(
                "autograd_gpu.load: map_location(tensor, location) returned None; return the "
                "tensor (moved where it should go) or a device"
            )
    try:
        dev = backend.normalize_device(target)
        return arr if dev.type == "cpu" else backend.to_device(arr, dev)
    except RuntimeError as e:
        raise RuntimeError(
            f"autograd_gpu.load: a tensor saved on {saved} cannot be put on {target}: {e} On a "
            "machine without that device, load with map_location='cpu' (or a dict or callable)."
        ) from None
