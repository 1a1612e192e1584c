"""Collation: a list of samples into a batch (``default_collate``), and the conversion of
single samples when batching is off (``default_convert``), as ``torch.utils.data``.

Tensors are stacked with the library's own ``stack``, so a batch of samples on a GPU stays
there; NumPy arrays and numbers become tensors (Python floats float64, ints int64, bools
bool); strings and bytes stay lists; mappings, namedtuples and sequences are collated
field by field into the same kind of container (a tuple sample gives a list)."""
import collections.abc
import copy
import re

import numpy as np

from ...tensor import Tensor

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

# NumPy dtypes of strings and objects, which have no tensor type ("S", "a", "U", "O")
_np_str_obj = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}")


def default_convert(data):
    """Each NumPy array (not of strings or objects) and NumPy scalar in `data` as a tensor,
    through mappings, namedtuples and sequences (a tuple becomes a list); the rest as is.

    Args:
        data: a sample (or a batch the sampler fetched at once).

    Returns:
        The same structure with arrays as tensors.
    """
    from ...creation import as_tensor

    t = type(data)
    if isinstance(data, Tensor):
        return data
    if t.__module__ == "numpy" and t.__name__ not in ("str_", "bytes_", "string_"):
        if isinstance(data, np.ndarray) and _np_str_obj.search(data.dtype.str):
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(data[k]) for k in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # a namedtuple
        return t(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like, items):
    """A mapping of the type of `like` holding `items` (a dict where that type refuses)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            out = copy.copy(like)  # keeps the type and its other state (defaultdict's factory)
            out.update(items)
            return out
        return type(like)(items)
    except TypeError:
        return items


def _rebuild_sequence(like, items):
    try:
        if isinstance(like, collections.abc.MutableSequence):
            out = copy.copy(like)
            for i, v in enumerate(items):
                out[i] = v
            return out
        return type(like)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collates `batch` (a list of samples), looking each element's type up in
    `collate_fn_map` (its exact type first, then each key in order by isinstance), and
    recursing into mappings, namedtuples and sequences."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for key, fn in collate_fn_map.items():
            if isinstance(elem, key):
                return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(
            elem, {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # a namedtuple
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        # (each field's samples as the tuple zip gives: a batch of strings stays one)
        fields = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch has always given
        return _rebuild_sequence(elem, fields)
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    from ...ops.shape import stack

    return stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    from ...creation import as_tensor

    if _np_str_obj.search(batch[0].dtype.str):
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    from ...creation import as_tensor

    return as_tensor(np.array(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    from ... import backend
    from ...creation import tensor

    return tensor(batch, dtype=backend.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    from ...creation import tensor

    return tensor(batch)  # int64, or bool for a batch of bools


def collate_str_fn(batch, *, collate_fn_map=None):
    return batch


default_collate_fn_map = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number, np.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """A batch of samples as tensors with a new leading batch dimension (see the module).

    Args:
        batch: a list of samples (tensors, arrays, numbers, strings, or mappings,
            namedtuples and sequences of them, all alike).

    Returns:
        The samples' structure with each field stacked: tensors and arrays into one tensor
        (N, ...), numbers into a 1-D tensor, strings into a list.
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)
