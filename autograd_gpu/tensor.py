"""The Tensor: an array (NumPy or CuPy) plus its place on the tape."""
import itertools
import weakref

import numpy as np

from . import backend
from .autograd import _tape, engine, grad_mode, node
from .autograd.node import AccumulateGrad

_state = grad_mode._state
_is_cuda_array = backend.is_cuda_array
_array_module = backend.array_module


class Tensor:
    """A multi-dimensional array on a device (a NumPy or CuPy array) that records the operations
    applied to it for autograd, as ``torch.Tensor``. Make one with
    ``autograd_gpu.tensor(data)``; ``Tensor(data)`` copies data as float32, ``Tensor(2, 3)`` is
    an uninitialized 2x3 float32 tensor.

    Args:
        args: the data, or the sizes of an uninitialized tensor.
        device: the result's device (None: the default device).
        dtype: the result's dtype (None: as PyTorch picks it).
    """
    __slots__ = (
        "_data",
        "_requires_grad",
        "_grad_fn",
        "_output_nr",
        "_grad",
        "_version",
        "_hooks",
        "_accumulator",
        "_retains_grad",
        "_base",
        "__weakref__",
        "__dict__",  # lets nn.Parameter and users attach attributes
    )
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected op

    # ------------------------------------------------------------------ basic attributes
    @property
    def data(self):
        """The same array without history. It shares memory but not the version counter, as
        in PyTorch: writes through ``.data`` are hidden from autograd (``detach()`` is the
        checked way)."""
        return _wrap(self._data)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be set to a Tensor, got {type(value).__name__}")
        self._data = value._data

    @property
    def shape(self):
        """The shape, a Size (a tuple subclass).

        Returns:
            Size.
        """
        return Size(self._data.shape)

    def size(self, dim=None):
        """The shape, or the size of one dimension.

        Args:
            dim: a dimension.

        Returns:
            Size, or int with dim.
        """
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    @property
    def ndim(self):
        """The number of dimensions.

        Returns:
            int.
        """
        return self._data.ndim

    def dim(self):
        """The number of dimensions.

        Returns:
            int.
        """
        return self._data.ndim

    ndimension = dim

    def numel(self):
        """The number of elements.

        Returns:
            int.
        """
        return self._data.size

    nelement = numel

    @property
    def dtype(self):
        """The element type.

        Returns:
            dtype.
        """
        return backend.from_numpy_dtype(self._data.dtype)

    @property
    def device(self):
        """The device the data lives on.

        Returns:
            device.
        """
        return backend.device_of(self._data)

    @property
    def is_cuda(self):
        """True if the data lives on a CUDA device.

        Returns:
            bool.
        """
        return _is_cuda_array(self._data)

    def is_floating_point(self):
        """True for float16, float32 and float64 tensors.

        Returns:
            bool.
        """
        return self._data.dtype.kind == "f"

    @property
    def itemsize(self):
        """The size of one element in bytes.

        Returns:
            int.
        """
        return self._data.itemsize

    def element_size(self):
        """The size of one element in bytes.

        Returns:
            int.
        """
        return self._data.itemsize

    @property
    def nbytes(self):
        """The size of the data in bytes.

        Returns:
            int.
        """
        return self._data.nbytes

    def _xp(self):
        return _array_module(self._data)

    # ------------------------------------------------------------------ autograd attributes
    @property
    def requires_grad(self):
        """True if operations on this tensor are recorded for autograd (settable on leaves).

        Returns:
            bool.
        """
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        value = bool(value)
        if self._grad_fn is not None:
            if value:
                return
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients "
                f"(this tensor is {self.dtype}; convert it with .float() or .double() first)"
            )
        self._requires_grad = value

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place (floating-point tensors only).

        Args:
            requires_grad: the new value.

        Returns:
            Tensor: self
        """
        self.requires_grad = requires_grad
        return self

    @property
    def is_leaf(self):
        """True for tensors made by the user (not by a recorded op), whose .grad backward fills.

        Returns:
            bool.
        """
        return self._grad_fn is None

    @property
    def grad_fn(self):
        """The node that made this tensor (``MulBackward0``, ...), or None for leaves.

        Returns:
            Node or None.
        """
        return self._grad_fn

    @property
    def output_nr(self):
        """Which output of its grad_fn this tensor is.

        Returns:
            int.
        """
        return self._output_nr

    @property
    def grad(self):
        """The gradient backward accumulated (leaves and retain_grad tensors), or None.

        Returns:
            Tensor or None.
        """
        if self._grad_fn is not None and not self._retains_grad:
            engine.warn_nonleaf_grad()
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None, got {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(
                    f"assigned grad has data of a different size: {list(value.shape)} "
                    f"vs the tensor's {list(self.shape)}"
                )
            if type(value._data) is not type(self._data):
                raise RuntimeError(
                    f"assigned grad has data located on a different device ({value.device}) "
                    f"than the tensor ({self.device})"
                )
        self._grad = value

    @property
    def retains_grad(self):
        """True if retain_grad() was called on this non-leaf tensor.

        Returns:
            bool.
        """
        return self._retains_grad

    @property
    def _version_number(self):
        return self._version[0]

    def retain_grad(self):
        """Keeps the gradient of a non-leaf tensor in ``.grad`` after backward.

        A leaf that requires grad keeps its gradient already (nothing to do); a tensor that
        does not require grad raises.

        Returns:
            None.

        Examples:
            >>> import autograd_gpu as torch
            >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
            >>> y = x * 3
            >>> y.retain_grad()
            >>> y.sum().backward()
            >>> y.grad
            tensor([1., 1.])
        """
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def retain(g):
            t = ref()
            if t is not None:
                t._grad = g.detach() if t._grad is None else t._grad + g.detach()
            return None

        retain.runs_last = True  # sees the gradient after every other hook (as PyTorch)
        self._retain_hook = retain

        self._grad_fn.register_prehook(self._output_nr, retain)

    def register_hook(self, hook):
        """Calls ``hook(grad)`` when this tensor's gradient is computed; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            self._grad_fn.register_prehook(self._output_nr, hook)
            hooks = self._grad_fn._pre_hooks[self._output_nr]
        else:
            if self._hooks is None:
                self._hooks = []
            self._hooks.append(hook)
            hooks = self._hooks
            if self._accumulator is not None:
                self._accumulator._pre_hooks = {0: hooks}
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Calls ``hook(tensor)`` on a leaf once a backward has accumulated its gradient into
        ``.grad`` (not for autograd.grad, which writes no ``.grad``). As in PyTorch, such a
        leaf's ``.grad`` is written, and the hook runs, as soon as all its gradients have
        arrived, while the rest of the backward goes on (a leaf without one is written at
        the end of the pass). Returns a handle with ``remove()``."""
        if self._grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = self.__dict__.get("_post_accumulate_grad_hooks")
        if hooks is None:
            hooks = self.__dict__["_post_accumulate_grad_hooks"] = {}
            ref = weakref.ref(self)

            def queue(grad):  # a gradient hook: the leaf's .grad is written after it
                t = ref()
                if t is not None:
                    engine._queue_post_accumulate(t)

            queue.runs_last = True
            self.register_hook(queue)
            engine._post_accumulate_leaves[0] += 1
            weakref.finalize(self, engine._hooked_leaf_died)  # (a backward checks the count)
        key = next(_post_hook_ids)
        hooks[key] = hook
        return _KeyedHandle(hooks, key)

    def _get_accumulator(self):
        acc = self._accumulator
        if acc is None:
            acc = self._accumulator = AccumulateGrad(self)
            if self._hooks:
                acc._pre_hooks = {0: self._hooks}
        return acc

    def _accumulate(self, g, create_graph):
        """Adds an incoming gradient into ``.grad`` (the leaf's AccumulateGrad), in the cases
        the engine's C loop leaves to Python: under create_graph, a first gradient that must
        be copied (the array, or one it views, may be seen elsewhere), and a ``.grad`` that
        requires grad. (The loop itself adopts a first gradient nothing else can see, and
        adds into an existing ``.grad`` in place.)"""
        grad = self._grad
        if create_graph:
            self._grad = g if grad is None else grad + g
        elif grad is None:
            d = self._data
            self._grad = _wrap(_array_module(d).array(g, dtype=d.dtype))
        else:
            self._grad = _wrap(grad._data + g)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Computes the gradient of this tensor with respect to graph leaves.

        The gradients are accumulated (added) into the leaves' ``.grad``.

        Args:
            gradient: the gradient of the loss with respect to this tensor, of its shape
                (None: allowed for a one-element tensor only, meaning 1).
            retain_graph: keep the graph's saved tensors for another backward (None: as
                create_graph).
            create_graph: record the backward pass itself, so the gradients are
                differentiable (for higher-order derivatives).
            inputs: the tensors (or one tensor) to accumulate gradients into (None: every
                leaf of the graph).

        Returns:
            None: the gradients are written to the leaves' ``.grad``.

        Examples:
            >>> import autograd_gpu as torch
            >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
            >>> (x ** 2).sum().backward()
            >>> x.grad
            tensor([2., 4.])
            >>> (x ** 2).sum().backward()      # accumulates
            >>> x.grad
            tensor([4., 8.])
        """
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            if not inputs:
                raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        engine.run_backward(
            (self,), None if gradient is None else (gradient,), retain_graph, create_graph,
            inputs=inputs, accumulate=True, allow_unused=True,
        )

    def detach(self):
        """A new leaf sharing this tensor's data (and version counter), with no history.

        Returns:
            Tensor: with ``requires_grad=False``; in-place changes to either show in both.

        Examples:
            >>> import autograd_gpu as torch
            >>> x = torch.tensor([1.0, 2.0], requires_grad=True)
            >>> y = (x * 3).detach()
            >>> y, y.requires_grad
            (tensor([3., 6.]), False)
        """
        t = _wrap(self._data)
        t._version = self._version
        return t

    def detach_(self):
        """Detach this tensor from the graph in place (it becomes a leaf).

        Returns:
            Tensor: self
        """
        if self._base is not None and self._grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self._grad_fn = None
        self._requires_grad = False
        return self

    # ------------------------------------------------------------------ conversions
    def numpy(self, force=False):
        """The data as a NumPy array (sharing memory on the CPU).

        Args:
            force: copy a CUDA tensor to the host, and allow a tensor that requires grad.

        Returns:
            numpy.ndarray.
        """
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
            )
        if _is_cuda_array(self._data):
            if force:
                return self._data.get()
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        return self._data

    def __array__(self, dtype=None, copy=None):
        if _is_cuda_array(self._data):
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                "copy the tensor to host memory first."
            )
        a = self._data
        return a if dtype is None else a.astype(dtype, copy=False)

    def item(self):
        """The value of a one-element tensor as a Python number.

        Returns:
            int, float or bool.
        """
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return backend.execute.item(self._data)

    def tolist(self):
        """The data as (nested) Python lists of numbers.

        Returns:
            list or number.
        """
        return self._data.tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
            )
        return bool(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __hash__(self):
        return id(self)

    def __format__(self, spec):
        if self._data.ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self)

    def __reduce_ex__(self, proto):
        raise TypeError(
            "autograd_gpu tensors are not pickled; use autograd_gpu.save(obj, path), which "
            "never executes code on load"
        )

    # ------------------------------------------------------------------ devices and dtypes

    def cpu(self):
        """This tensor on the CPU (self when already there).

        Returns:
            Tensor.
        """
        return self.to("cpu")

    def cuda(self, device=None):
        """This tensor on a CUDA device (self when already there).

        Args:
            device: the device (None: the current one).

        Returns:
            Tensor.
        """
        return self.to(backend.device("cuda", device) if isinstance(device, int) else (device or "cuda"))

    def float(self):
        """A float32 copy (self when already float32).

        Returns:
            Tensor.
        """
        return self.to(backend.float32)

    def double(self):
        """A float64 copy (self when already float64).

        Returns:
            Tensor.
        """
        return self.to(backend.float64)

    def half(self):
        """A float16 copy (self when already float16).

        Returns:
            Tensor.
        """
        return self.to(backend.float16)

    def long(self):
        """An int64 copy (self when already int64).

        Returns:
            Tensor.
        """
        return self.to(backend.int64)

    def int(self):
        """An int32 copy (self when already int32).

        Returns:
            Tensor.
        """
        return self.to(backend.int32)

    def bool(self):
        """A bool copy (self when already bool).

        Returns:
            Tensor.
        """
        return self.to(backend.bool)

    # ------------------------------------------------------------------ in place
    def _check_inplace(self, other=None):
        """Validates an in-place op; True when it must be recorded on the tape."""
        if self._base is not None and backend.self_overlapping(self._data):
            raise RuntimeError(_OVERLAPPING_WRITE)
        record = _state.enabled and (
            self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)
        )
        if record:
            if self._grad_fn is None and self._requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation. "
                    "(Wrap the update in `with autograd_gpu.no_grad():`, as optimizers do.)"
                )
            base = self._base
            if base is not None and base._grad_fn is None and base._requires_grad:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place "
                    "operation. (Wrap the update in `with autograd_gpu.no_grad():`.)"
                )
            if base is not None:
                raise RuntimeError(
                    f"an in-place operation with grad mode on was applied to a view of shape "
                    f"{tuple(self.shape)}; recording in-place writes through views is not "
                    "supported. Use an out-of-place op, or clone() the view first."
                )
        return record

    def _as_view_of(self, base):
        """Marks this tensor as a view of `base` when its array is one: it shares the version
        counter, and remembers its root base's history (grad_fn) of the moment. If a recorded
        in-place op later rewrites that history, ops refuse the view as an input: its values
        would include the change while its own history does not."""
        if isinstance(base, Tensor) and self._data.base is not None:
            root = base if base._base is None else base._base
            self._version = base._version
            self._base = root
            self._base_fn = root._grad_fn
        return self

    def zero_(self):
        """Fill with zeros in place.

        Returns:
            Tensor: self
        """
        return self.fill_(0)






class Size(tuple):
    """The shape of a tensor; a tuple that prints as ``torch.Size([2, 3])`` does.

    Args:
        iterable: the sizes of the dimensions (ints).

    Examples:
        >>> import autograd_gpu as torch
        >>> s = torch.zeros(2, 3).shape
        >>> s
        autograd_gpu.Size([2, 3])
        >>> s[0], s.numel()
        (2, 6)
    """

    __slots__ = ()

    def __repr__(self):
        return "autograd_gpu.Size([" + ", ".join(str(n) for n in self) + "])"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


_OVERLAPPING_WRITE = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)

_TORCH_TYPE_NAMES = {
    "float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int",
    "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
}

_TYPE_NAMES = {
    "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
    "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor",
    "int16": "ShortTensor", "int8": "CharTensor", "uint8": "ByteTensor",
}


class _HookHandle:
    __slots__ = ("hooks", "hook")

    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


class _KeyedHandle:
    """A hook kept in a dict under a key: ``remove()`` deletes it."""

    __slots__ = ("hooks", "key")

    def __init__(self, hooks, key):
        self.hooks, self.key = hooks, key

    def remove(self):
        self.hooks.pop(self.key, None)


_post_hook_ids = itertools.count()


# _init(t, data, grad_fn=None, requires_grad=False) sets every field of a new tensor `t`
# around `data` and returns `t`; _wrap(data, grad_fn=None, requires_grad=False) is a new
# Tensor around an existing array (no copy). Both are C (_tape), as every op makes one.
_init = _tape.init
_wrap = _tape.wrap

def tensor_method(name, fn):
    """Installs `fn` as ``Tensor.<name>``, named as a method of Tensor: for the methods that
    the modules above this one define (they need ops or creation, which this module does not
    import)."""
    fn.__name__, fn.__qualname__ = name, "Tensor." + name
    setattr(Tensor, name, fn)
    return fn


node.Tensor = Tensor
node._new_tensor = _wrap
_tape.setup(
    Tensor=Tensor, AccumulateGrad=AccumulateGrad, ndarray=backend.ndarray, generic=np.generic,
    asarray=np.asarray, Node=node.Node,
    grad_state=_state, sequence=node._sequence, no_edge=node._NO_EDGE,
    raise_device_mismatch=node._raise_device_mismatch,
    raise_stale_view=node._raise_stale_view, as_array=node.as_array,
    replace=node._replace, SavedOutput=node._SavedOutput,
    run_hooks=engine._run_hooks,
    materialize=engine._materialize, check_anomaly=engine._check_anomaly,
    modified_message=node._modified_message, second_backward=node._SECOND_BACKWARD,
    enter_device=backend.enter_device_of, restore_device=backend.restore_device,
    is_device_array=backend.is_device_array, seed_like=engine._seed_like,
)
