"""The op base class. Each call of an op that records is one node on the tape.

An op is a subclass of `Node` with

    forward(self, *arrays, **params) -> array or tuple of arrays
    backward(self, *grad_outputs)    -> one gradient per positional input (None where not needed)

`forward` sees raw arrays (NumPy or CuPy) and may call `self.save_for_backward(...)` with
inputs or outputs it needs later; anything else it needs (shapes, masks, axes) it keeps as an
attribute. `backward` is written once for both passes: in a first-order backward its grads and
`saved_tensors` are raw arrays; under `create_graph=True` they are Tensors and the same code
records a graph of its own, which is how derivatives of any order work. Code in `backward`
therefore uses Python operators and the library's functions, which take either kind.

Recording rules (Node.apply, the C function _tape.apply, follows them; stated here once):

* Inputs: Tensors give their arrays; numbers and other constants pass as they are. A NumPy
  array mixed with CUDA tensors (or the reverse) raises the device-mismatch error
  (_raise_device_mismatch) before forward runs.
* Device: forward runs inside the device of the first CUDA array among the inputs
  (backend.enter_device_of / restore_device); CuPy would otherwise use its current device.
* A node is recorded when grad mode is on and an input requires grad; its outputs then
  require grad and point to it. Otherwise the outputs are plain Tensors and nothing is kept.
* NumPy returns scalars from ops on 0-d arrays: outputs are made 0-d arrays again (as_array),
  and saved values that were those scalars are replaced by the arrays.
* Saved inputs remember their version counter; backward raises when one was modified in
  place since (_modified_message). Saved outputs are held as _SavedOutput (the array, which
  output it is, its version), so a node does not keep its own output Tensor alive.
"""
import itertools
import weakref

from ..backend import OutOfMemoryError as _OutOfMemoryError, device_of, is_device_array
from ..backend import release_free_memory as _release_free_memory
from . import _tape

_sequence = itertools.count()
Tensor = None  # set by tensor.py (import cycle)
_new_tensor = None


class Node:
    """Base class of the backward nodes: ``forward(self, *arrays, **params)`` on raw arrays,
    ``backward(self, *grads)`` returning one gradient per input; call an op as
    ``MyOp.apply(*inputs, **params)``."""
    # What the tape reads and writes on every node are slots, which the C tape reaches at
    # their offsets (a dict lookup each cost more than NumPy's work on a small array); an
    # op's own attributes (shapes, axes, masks) go in the instance dict. The tape sets the
    # defaults of a node it makes; __new__ sets them for one made in Python.
    __slots__ = ("next_functions", "needs_input_grad", "sequence_nr", "_saved", "_freed",
                 "_pre_hooks", "_n_outputs", "__dict__", "__weakref__")
    _anomaly_trace = None
    #: set by anomaly mode: records a stack trace per node when True
    _record_trace = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        # a class may say `name = "MvBackward0"`; the descriptor below serves it
        own = cls.__dict__.get("name")
        if isinstance(own, str):
            delattr(cls, "name")
        cls._default_name = NodeName(own if isinstance(own, str) else cls.__name__ + "Backward0")

    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self._saved = None
        self._freed = False
        self._pre_hooks = None
        self._n_outputs = 1
        return self

    # -- the op contract -------------------------------------------------------------
    def forward(self, *arrays, **params):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, *grad_outputs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{self.name} has no backward")

    def save_for_backward(self, *arrays):
        self._saved = arrays

    # -- running an op ---------------------------------------------------------------
    # apply(*inputs, **params) runs forward on the inputs' arrays and, in grad mode with an
    # input that requires grad, records a node: its next_functions (the edge each input's
    # gradient flows along), needs_input_grad, a sequence number, and the saved values
    # tied to the inputs and outputs they are. Inputs that are not Tensors (Python scalars,
    # raw arrays) are constants. Called with no Tensor at all (as backward code does in a
    # first-order pass) it returns raw arrays. It is the C function _tape.apply: this
    # bookkeeping runs once per op, and in Python it cost more than NumPy's work on small
    # arrays. Set below the class, as a classmethod.

    def _wrap_outputs(self, outs, inputs, nexts, needs, record):
        raws, outs = outs, tuple([as_array(o) for o in outs])
        if self._saved is not None:  # NumPy scalars from 0-d ops: save the arrays instead
            for raw, out in zip(raws, outs):
                if raw is not out:
                    self._saved = _replace(self._saved, raw, out)
        if not record:
            return tuple(_new_tensor(o) for o in outs)
        self.next_functions = tuple(nexts)
        self.needs_input_grad = tuple(needs)
        self.sequence_nr = next(_sequence)
        if Node._record_trace:
            self._record_stack()
        self._n_outputs = len(outs)
        result = []
        for i, o in enumerate(outs):
            if o.dtype.kind in "fc":
                t = _new_tensor(o, self, True)
                t._output_nr = i
            else:
                t = _new_tensor(o)
            result.append(t)
        if self._saved is not None:
            _tape.resolve_saved(self, inputs, result)
        return tuple(result)

    def _record_stack(self):
        import os
        import traceback

        # the caller's stack, up to the line that called into the library
        frames = traceback.extract_stack()
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
        while frames and os.path.abspath(frames[-1].filename).startswith(package):
            frames.pop()
        self._anomaly_trace = "".join(traceback.format_list(frames))

    # saved_tensors (a property): what forward saved, as raw arrays in a first-order
    # backward and as graph-connected Tensors (for inputs and outputs) under create_graph;
    # an input or output changed in place since forward raises PyTorch's error. It is C
    # (_tape.saved_tensors, set below the class): nearly every backward reads it.

    def release(self):
        """Frees what forward saved; a later backward through this node raises."""
        self._saved = None
        self._freed = True

    def register_prehook(self, output_nr, hook):
        _register_prehook(self, output_nr, hook)

    def __repr__(self):
        return f"<{self.name} object at {hex(id(self))}>"

    __str__ = __repr__


Node.apply = classmethod(_tape.apply)
Node.saved_tensors = property(_tape.saved_tensors)
_NO_EDGE = (None, 0)


def _register_prehook(node, output_nr, hook):
    """A hook run on the gradient of the node's output `output_nr` before the node runs."""
    if node._pre_hooks is None:
        node._pre_hooks = {}
    node._pre_hooks.setdefault(output_nr, []).append(hook)


def _replace(items, old, new):
    # (a plain function: a generator closing over the caller's locals left one object per
    # call behind with the cyclic collector off)
    return tuple([new if x is old else x for x in items])


class NodeName(str):
    """A node's name: a string (``MulBackward0``) that can also be called, as PyTorch's
    ``grad_fn.name()`` is."""

    __slots__ = ()

    def __call__(self):
        return str(self)


class _NameDescriptor:
    """``node.name``: the per-node name if forward set one (matmul's MvBackward0 or
    MmBackward0), else the class's."""

    def __get__(self, node, cls):
        if node is not None:
            own = node.__dict__.get("_name")
            if own is not None:
                return NodeName(own)
        return cls._default_name

    def __set__(self, node, value):
        node.__dict__["_name"] = value


Node.name = _NameDescriptor()
Node._default_name = NodeName("Node")


class _SavedOutput:
    """A saved output of a node: its array, which output it is, and its version then."""

    __slots__ = ("array", "index", "version", "expected")

    def __init__(self, array, index, version, expected):
        self.array, self.index, self.version, self.expected = array, index, version, expected


class AccumulateGrad:
    """The sink node of a leaf: adds the incoming gradient into ``leaf.grad``.

    The leaf holds its accumulator; the accumulator holds the leaf weakly, so there is no
    reference cycle (a gradient for a leaf nobody holds any more goes nowhere)."""

    __slots__ = ("_ref", "sequence_nr", "_pre_hooks", "__weakref__")
    name = NodeName("AccumulateGrad")
    _n_outputs = 1
    next_functions = ()

    def __init__(self, variable):
        self._ref = weakref.ref(variable)
        # below every op's number: a leaf's sink runs after all that feed it
        self.sequence_nr = -next(_sequence) - 1
        self._pre_hooks = None

    @property
    def variable(self):
        return self._ref()

    def register_prehook(self, output_nr, hook):
        _register_prehook(self, output_nr, hook)

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"

    __str__ = __repr__

    def release(self):
        pass


_SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward. (If a value from an earlier iteration feeds this one, detach() it.)"
)


def _modified_message(node, saved, expected):
    """PyTorch's message for a saved input (a Tensor) or output (_SavedOutput) changed in place."""
    if type(saved) is _SavedOutput:
        arr, now = saved.array, saved.version[0]
        where = f", which is output {saved.index} of {node.name},"
    else:
        arr, now = saved._data, saved._version[0]
        where = "" if saved._grad_fn is None else (
            f", which is output {saved._output_nr} of {saved._grad_fn.name},"
        )
    shape = "(" + ", ".join(str(n) for n in arr.shape) + ("," if arr.ndim == 1 else "") + ")"
    return (
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{arr.dtype.name} {shape}]{where} is at version {now}; "
        f"expected version {expected} instead. Hint: the backward of {node.name} needs it "
        "unchanged; use an out-of-place op (x = x + y instead of x += y) or clone() it first."
    )


def _raise_stale_view(cls, view):
    raise RuntimeError(
        f"{cls._default_name}: an input is a view (shape {tuple(view._data.shape)}) of a tensor "
        "that was modified by an in-place operation in grad mode after the view was taken; "
        "the view's values include that change but its gradient history does not. Take the "
        "view again after the in-place operation (or clone() it before)."
    )


def _raise_device_mismatch(cls, inputs):
    devs = []
    for a in inputs:  # tensors first (PyTorch names their devices), then raw arrays
        if isinstance(a, Tensor):
            d = str(device_of(a._data))
            if d not in devs:
                devs.append(d)
    for a in inputs:
        if not isinstance(a, Tensor) and (type(a) is _ndarray or is_device_array(a)):
            d = str(device_of(a))
            if d not in devs:
                devs.append(d)
    raise RuntimeError(
        "Expected all tensors to be on the same device, but found at least two devices, "
        f"{devs[0]} and {devs[1]}! (in {cls.name}; move one with .to(device) first)"
    )


def _forward_out_of_memory(error, node, values, kwnames):
    """An op's forward raised MemoryError (called by _tape.apply on that failure only): frees
    the cached memory and runs forward once more; if that fails too, raises OutOfMemoryError
    naming the op. Forward writes nothing the caller sees until it returns, so the inputs are
    as they were. One from an op inside this one has had its retry and passes unchanged."""
    if isinstance(error, _OutOfMemoryError):
        raise error
    n = len(values) - (len(kwnames) if kwnames is not None else 0)
    arrays, params = values[:n], dict(zip(kwnames, values[n:])) if kwnames is not None else {}
    _release_free_memory()
    try:
        with retry_device(arrays):  # (the tape ran forward there; the retry must too)
            return node.forward(*arrays, **params)
    except MemoryError as again:
        if isinstance(again, _OutOfMemoryError):
            raise
        raise out_of_memory(type(node).__name__, "forward", arrays, again) from error


def retry_device(items):
    """The device an op's retry runs on, as the tape chose it: that of the first CUDA array
    (or Tensor) among `items`; the CPU (nothing to enter) when there is none."""
    from .. import backend

    for x in items:
        a = getattr(x, "_data", x)
        if is_device_array(a):
            return backend.on_device(device_of(a))
    return backend.on_device(backend.CPU)


def out_of_memory(op, phase, arrays, error):
    """The library's OutOfMemoryError for `op` (its `phase`, forward or backward), given the
    arrays it worked on and the MemoryError of its second try."""
    from .. import backend

    found = [getattr(a, "_data", a) for a in arrays]
    found = [a for a in found if hasattr(a, "shape") and hasattr(a, "dtype")]
    dev = device_of(found[0]) if found else None
    asked = backend.requested_bytes(error)
    what = "CUDA" if dev is not None and dev.type == "cuda" else "CPU"
    shapes = ", ".join(f"{a.dtype} {tuple(a.shape)}" for a in found) or "none"
    noun = "gradients" if phase == "backward" else "inputs"
    msg = (f"{what} out of memory in {op} ({phase}{'' if dev is None else ' on ' + str(dev)}): "
           + (f"tried to allocate {backend.format_bytes(asked)} ({asked} bytes)" if asked is not None
              else "an allocation failed")
           + f"; {noun}: {shapes}. The library's cached free memory was released and the op "
           f"tried once more. Now {backend.memory_held(dev)}. ({type(error).__name__}: {error}) "
           "Free tensors you no longer need (and the graphs they hold), or use smaller batches.")
    return _OutOfMemoryError(msg, op=op, phase=phase, device=dev, requested_bytes=asked)


import numpy as _np  # noqa: E402

_ndarray = _np.ndarray


def as_array(x):
    """`x` as an array: NumPy returns scalars from ops on 0-d arrays; CuPy arrays pass."""
    if type(x) is _ndarray or is_device_array(x):
        return x
    return _np.asarray(x)
