"""PyTorch's ``torch.return_types``: the named tuples some ops return (``values`` and
``indices``, ``sign`` and ``logabsdet``, ...), one type per op name, printed as PyTorch prints
them (``torch.return_types.max(\\nvalues=...,\\nindices=...)``, so that a renamed PyTorch
program prints the same text) and reachable as ``autograd_gpu.return_types.<name>``."""
import collections

TYPES = {}


def return_type(name, fields=("values", "indices")):
    """The result type of op `name`: a namedtuple of `fields` (made once per name)."""
    t = TYPES.get(name)
    if t is None:
        base = collections.namedtuple(name, fields)
        t = TYPES[name] = type(name, (base,), {
            "__slots__": (), "__repr__": _repr, "__module__": "autograd_gpu.return_types",
            "__doc__": f"The results of {name}: {', '.join(fields)}."})
    return t


def _repr(self):
    fields = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
    return f"torch.return_types.{type(self).__name__}(\n{fields})"
