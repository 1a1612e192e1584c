"""Public ops run on their inputs' device, as PyTorch's: the one wrapper that makes it so.

CuPy runs array work on its *current* device. The tape enters a CUDA tensor's device around
every node's forward and backward, but many ops also work on raw arrays outside their nodes
(bounds checks of indices, argsort before a gather, a bool mask's reduction, the composites
of linalg and the losses). ``_tape.OnDevice(fn)`` calls ``fn`` with the device of its first
CUDA tensor argument current (one level into lists and tuples, keyword values too) and
restores the caller's after; with a CPU tensor first it is one type test, in C.

``install()`` wraps, once the package is imported, every public function of the op modules
named below wherever the package holds it: the modules' own names (their internal calls),
the package namespace, ``nn.functional``, ``linalg``, the nn layers' imports and the Tensor
methods. Elementwise and arithmetic ops are not wrapped, but for their in-place Tensor
methods (``add_``, ``__iadd__``, ``clamp_``, ..., which write raw arrays when nothing
requires grad): the rest of their array work is inside their nodes, which the tape places,
and they are the hot path.
"""
import importlib
import sys

from ..autograd._tape import OnDevice
from ..tensor import Tensor

# modules whose public functions do array work outside their nodes
MODULES = frozenset("autograd_gpu." + m for m in """
    ops.construct ops.conv ops.decompositions ops.embedding ops.indexing ops.linalg ops.loss
    ops.nn_functional ops.normalization ops.reduction ops.scan ops.shape ops.sorting
    ops.special linalg nn.functional nn.init creation _deepcopy
""".split())

# functions of ops.elementwise that reduce to a Python value outside any node
ALSO = frozenset(("allclose", "equal"))

# modules whose in-place Tensor methods alone are wrapped
IN_PLACE = frozenset(("autograd_gpu.ops.arithmetic", "autograd_gpu.ops.elementwise"))
_IN_PLACE_DUNDERS = frozenset(f"__i{op}__" for op in (
    "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift".split()))


def _is_in_place(key, obj):
    return type(obj).__name__ == "function" and obj.__module__ in IN_PLACE and (
        key.endswith("_") and not key.startswith("_") or key in _IN_PLACE_DUNDERS)


def _is_op(obj, key=None):
    """A public function of MODULES, or out='s wrapper around one. For a Tensor method,
    `key` is its name there: a public one, or a dunder such as __getitem__ (but the
    constructor's)."""
    if key is not None:
        public = not key.startswith("_") or key.startswith("__") and key not in ("__init__", "__new__")
    while type(obj).__name__ == "function":
        name = obj.__name__
        if obj.__module__ in MODULES and (public if key is not None else not name.startswith("_")):
            return True
        if name in ALSO and obj.__module__ == "autograd_gpu.ops.elementwise":
            return True
        obj = getattr(obj, "__wrapped__", None)
    return False


def _resolve(module, qualname):
    """What a pickled wrapper names: `qualname` (dotted) in `module`, imported."""
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def install():
    """Wraps the public functions of MODULES everywhere the package refers to them (once).
    Each wrapper pickles as the first place it was put (a module attribute, or a Tensor
    method), where unpickling finds it again."""
    wrapped = {}

    def on_device(obj, module, qualname):
        w = wrapped.get(obj)
        if w is None:
            w = wrapped[obj] = OnDevice(obj, (_resolve, (module, qualname)))
        return w

    for name, module in sorted(sys.modules.items()):  # (the package first: the shortest names)
        if module is None or not (name == "autograd_gpu" or name.startswith("autograd_gpu.")):
            continue
        space = vars(module)
        for key, obj in list(space.items()):
            if not key.startswith("__") and _is_op(obj):
                space[key] = on_device(obj, name, key)
    for key, obj in list(vars(Tensor).items()):
        if _is_op(obj, key) or _is_in_place(key, obj):
            setattr(Tensor, key, on_device(obj, "autograd_gpu", "Tensor." + key))
