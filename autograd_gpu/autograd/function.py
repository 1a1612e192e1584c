"""PyTorch's custom-Function API: ``class F(autograd.Function)`` with static ``forward`` and
``backward``, called as ``F.apply(*args)``.

    class Exp(Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

Each subclass gets a node class of its own, ``<Name>Backward`` (a `Node` on the tape, as the
library's ops are); one instance per call is both the ``ctx`` the user's methods see and the
output's ``grad_fn``, as in PyTorch. The user's code works on Tensors, the tape's on raw
arrays: `_FunctionApply.run` wraps the inputs as detached Tensors (so ``forward`` may call any
library op, ``.numpy()`` or ``from_numpy``) and runs ``forward`` with grad mode off; the node's
``backward`` wraps the incoming gradients, calls the user's ``backward`` and checks and unwraps
what it returns. Under ``create_graph=True`` the gradients and saved tensors are
graph-connected Tensors, so a ``backward`` written with library ops is itself differentiated.
"""
import functools
import inspect
import warnings

from . import grad_mode
from . import node as _node
from .node import Node, _SavedOutput

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


def _tensor_type():
    return _node.Tensor  # set by tensor.py (which imports this package first)


def _shape_list(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


class FunctionCtx:
    """What ``forward`` / ``setup_context`` / ``backward`` receive as ``ctx``. Any other
    attribute may be set on it to carry values from forward to backward."""

    def save_for_backward(self, *tensors):
        """Keeps input, output or intermediate Tensors (or None) for backward, where
        ``ctx.saved_tensors`` returns them; they are checked against in-place changes.

        Args:
            tensors: the Tensors (or None) to keep.
        """
        Tensor = _tensor_type()
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type "
                    f"{type(t).__name__}"
                )
        self._to_save = tensors

    def mark_dirty(self, *tensors):
        """Declares inputs that forward modified in place (they must be returned as outputs).

        Args:
            tensors: those inputs.
        """
        self._dirty = tensors

    def mark_non_differentiable(self, *tensors):
        """Declares outputs that get no gradient: they do not require grad, and backward
        receives zeros (or None without materialization) for them.

        Args:
            tensors: those outputs.
        """
        self._non_differentiable = tensors

    def set_materialize_grads(self, value):
        """With True (the default), a gradient backward would receive as None (an output
        that was not used) is passed as zeros of the output's shape.

        Args:
            value: materialize (True) or pass None (False).
        """
        self._materialize = bool(value)

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, as a tuple (in backward; raises if a
        backward has freed them or one was changed in place since)."""
        # the tape's reader does the checks: freed after a backward, changed in place since
        # forward (PyTorch's message); it gives raw arrays in a first-order backward and
        # graph-connected Tensors under create_graph
        wrap = _node._new_tensor
        Tensor = _tensor_type()
        return tuple(
            s if s is None or isinstance(s, Tensor) else wrap(_node.as_array(s))
            for s in _tape_saved(self)
        )

    saved_variables = saved_tensors


_tape_saved = Node.saved_tensors.fget


class BackwardCFunction(FunctionCtx, Node):
    """The base of every ``<Name>Backward`` node: the tape's side of a custom Function."""

    name = "BackwardCFunction"
    _fn_cls = None  # the user's Function subclass
    _to_save = ()
    _dirty = ()
    _non_differentiable = ()
    _materialize = True
    _in_meta = ()   # per forward input: (shape, dtype, device) of a Tensor, else None
    _out_meta = ()  # per forward output: (shape, array dtype, xp) of a Tensor, else None

    def backward(self, *grads):
        Tensor = _tensor_type()
        wrap = _node._new_tensor
        graph = grad_mode.is_grad_enabled()  # on in a create_graph backward
        tgrads = []
        for g, meta in zip(grads, self._out_meta):
            if g is None:
                if meta is not None and self._materialize:
                    shape, dtype, xp = meta
                    g = wrap(xp.zeros(shape, dtype))
            elif not isinstance(g, Tensor):
                g = wrap(_node.as_array(g))
            tgrads.append(g)
        result = self._fn_cls._backward_fn()(self, *tgrads)
        return self._check_grads(result, graph, Tensor)

    def _check_grads(self, result, graph, Tensor):
        """PyTorch's checks of what a backward returned: one gradient per forward input
        (extra Nones allowed), None for non-Tensor inputs, a Tensor whose shape is the
        input's or broadcasts to it (summed down then), the input's device; cast to the
        input's dtype. Raw arrays back to the tape in a first-order pass, one per Tensor input."""
        if not isinstance(result, tuple):
            result = (result,)
        n = len(self._in_meta)
        if len(result) != n:
            if len(result) > n and all(r is None for r in result[n:]):
                result = result[:n]
            else:
                raise RuntimeError(
                    f"function {self.name} returned an incorrect number of gradients (expected "
                    f"{n}, got {len(result)})"
                )
        out = []
        for i, (g, meta) in enumerate(zip(result, self._in_meta)):
            if g is None:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                if meta is None:
                    raise RuntimeError(
                        f"function {self.name} returned a gradient different than None at "
                        f"position {i + 1}, but the corresponding forward input was not a "
                        "Variable"
                    )
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if meta is None:
                raise RuntimeError(
                    f"function {self.name} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable"
                )
            if not self.needs_input_grad[i]:
                out.append(None)  # nothing upstream takes it
                continue
            shape, dtype, device = meta
            if g.device != device:
                raise RuntimeError(
                    f"Function {self.name} returned an invalid gradient at index {i} - "
                    f"expected device {device} but got {g.device}"
                )
            if tuple(g.shape) != shape:
                if not _expandable(shape, tuple(g.shape)):
                    raise RuntimeError(
                        f"Function {self.name} returned an invalid gradient at index {i} - got "
                        f"{_shape_list(g.shape)} but expected shape compatible with "
                        f"{_shape_list(shape)}"
                    )
                g = _sum_to(g, shape)
            if g.dtype != dtype:
                g = g.to(dtype)
            out.append(g if graph else g._data)
        # the tape's edges are the Tensor inputs' only (next_functions, as PyTorch)
        return tuple(g for g, meta in zip(out, self._in_meta) if meta is not None)


def _expandable(shape, target):
    """True when `shape` broadcasts to `target` (a gradient of `target` sums down to it)."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(shape), reversed(target)))


def _sum_to(g, shape):
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(dim=tuple(range(lead)))
    axes = tuple(k for k, (s, t) in enumerate(zip(shape, g.shape)) if s == 1 and t != 1)
    if axes:
        g = g.sum(dim=axes, keepdim=True)
    return g


class _FunctionMeta(type):
    """Gives each Function subclass its ``<Name>Backward`` node class."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(
            name + "Backward", (BackwardCFunction,),
            {"name": name + "Backward", "_fn_cls": cls, "__module__": cls.__module__},
        )


class Function(metaclass=_FunctionMeta):
    """Base class of custom differentiable operations (see the module docstring).

    ``forward(ctx, *args, **kwargs)`` computes the outputs (a Tensor, or a tuple whose
    non-Tensor entries pass through untracked); or ``forward(*args)`` plus
    ``setup_context(ctx, inputs, output)``. ``backward(ctx, *grad_outputs)`` gets one
    gradient per output and returns one per forward input (None for non-Tensor inputs and
    inputs that need none).

    Call it as ``MyFunction.apply(*args)``, never by instantiating it. forward runs with
    grad mode off on detached inputs; under ``create_graph=True`` backward's library ops
    are themselves recorded, so gradients of any order work unless it is
    ``once_differentiable``.

    Examples:
        >>> import autograd_gpu as torch
        >>> class Exp(torch.autograd.Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         y = x.exp()
        ...         ctx.save_for_backward(y)
        ...         return y
        ...     @staticmethod
        ...     def backward(ctx, grad):
        ...         (y,) = ctx.saved_tensors
        ...         return grad * y
        >>> x = torch.tensor([0.0, 1.0], requires_grad=True)
        >>> y = Exp.apply(x)
        >>> y
        tensor([1.0000, 2.7183], grad_fn=<ExpBackward>)
        >>> y.sum().backward()
        >>> x.grad
        tensor([1.0000, 2.7183])
        >>> x64 = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
        >>> torch.autograd.gradcheck(Exp.apply, (x64,))
        True
    """

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(*args, **kwargs):
        """Computes the outputs; a subclass defines it as ``forward(ctx, *args)`` (or
        ``forward(*args)`` with setup_context).

        Returns:
            A Tensor or a tuple (non-Tensor entries pass through untracked).
        """
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Saves what backward needs, for a forward without ctx (optional).

        Args:
            ctx: the FunctionCtx.
            inputs: the tuple of forward's arguments.
            output: what forward returned.
        """
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """The vector-Jacobian product, defined by a subclass (``vjp`` is an alias).

        Args:
            ctx: the FunctionCtx forward filled.
            grad_outputs: one gradient per output of forward.

        Returns:
            One gradient per input of forward (a tuple for several), None for inputs that
            need none; each of its input's shape (or broadcastable to it).
        """
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        """A forward-mode rule, as PyTorch's; the library never calls it (its forward mode,
        ``func.jvp``, is built from backward), so defining it changes nothing.

        Args:
            ctx: the FunctionCtx.
            grad_inputs: one tangent per input.

        Returns:
            One tangent per output.
        """
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @classmethod
    def _backward_fn(cls):
        backward, vjp = cls.backward, cls.vjp
        base_backward = Function.__dict__["backward"].__func__
        if backward is not base_backward and vjp is not base_backward:
            if backward is not vjp:  # both overridden (not one set to the other)
                raise RuntimeError(
                    "Implementing both 'backward' and 'vjp' for a custom Function is not "
                    "allowed. You should only implement one of them."
                )
        return vjp if vjp is not base_backward else backward

    @classmethod
    def apply(cls, *args, **kwargs):
        """Runs ``forward`` on `args` and records one node when grad mode is on and a
        Tensor argument requires grad.

        Args:
            args: forward's arguments (without ctx).
            kwargs: forward's keyword arguments.

        Returns:
            forward's outputs, with ``grad_fn`` the ``<Name>Backward`` node when recorded.
        """
        if cls is Function:
            raise NotImplementedError(
                "You must implement the forward function for custom autograd.Function."
            )
        return _FunctionApply(cls, args, kwargs).run()


class _FunctionApply:
    """One call of ``F.apply``: the forward pass and the recording of its node."""

    def __init__(self, cls, args, kwargs):
        self.cls = cls
        self.setup = cls.setup_context is not Function.__dict__["setup_context"].__func__
        if self.setup:  # setup_context sees every positional input, defaults filled in
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        self.args, self.kwargs = args, kwargs

    def run(self):
        Tensor = _tensor_type()
        cls, args = self.cls, self.args
        ctx = cls._backward_cls()
        needs, aliases, in_meta = [], [], []
        self.alias_of = {}  # id(alias seen by forward) -> input position
        for i, a in enumerate(args):
            if isinstance(a, Tensor):
                _check_fresh_view(cls, a)
                alias = a.detach()  # the same data and version counter, no history
                self.alias_of[id(alias)] = i
                aliases.append(alias)
                needs.append(a._requires_grad)
                in_meta.append((tuple(a._data.shape), a.dtype, a.device))
            else:
                aliases.append(a)
                needs.append(False)
                in_meta.append(None)
        ctx.needs_input_grad = tuple(needs)
        ctx._in_meta = tuple(in_meta)
        record = grad_mode.is_grad_enabled() and any(needs)
        with grad_mode.no_grad():
            if self.setup:
                output = cls.forward(*aliases, **self.kwargs)
                cls.setup_context(ctx, tuple(aliases), output)
            else:
                output = cls.forward(ctx, *aliases, **self.kwargs)
        single = not isinstance(output, tuple)
        outs = (output,) if single else output
        results = self._wrap_outputs(ctx, outs, record)
        return results[0] if single else results

    def _wrap_outputs(self, ctx, outs, record):
        Tensor = _tensor_type()
        args = self.args
        dirty = {id(t): t for t in ctx._dirty}
        non_diff = {id(t) for t in ctx._non_differentiable}
        for t in ctx._dirty:
            if id(t) not in self.alias_of:
                warnings.warn(
                    "ctx.mark_dirty() received a tensor that was not an input. Only input "
                    "Tensors that have been mutated should be passed to ctx.mark_dirty().",
                    UserWarning,
                    stacklevel=4,
                )
        if sum(1 for o in outs if id(o) in dirty and id(o) in self.alias_of) != len(dirty):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as "
                "output. The inputs that are modified inplace must all be outputs of the "
                "Function."
            )
        if record:
            ctx.next_functions = tuple(
                _edge(a) if a._requires_grad else _node._NO_EDGE
                for a in args if isinstance(a, Tensor)
            )
            ctx.sequence_nr = next(_node._sequence)
            if Node._record_trace:
                ctx._record_stack()
            ctx._n_outputs = len(outs)
        results, out_meta = [], []
        by_output = {}  # id(tensor forward returned) -> (result tensor, position)
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                results.append(o)  # non-Tensor outputs pass through untracked
                out_meta.append(None)
                continue
            d = o._data
            out_meta.append((d.shape, d.dtype, o._xp()))
            differentiable = record and id(o) not in non_diff and d.dtype.kind in "fc"
            k = self.alias_of.get(id(o))
            if k is not None and id(o) in dirty:
                r = _rebase_dirty(args[k], ctx, i, differentiable)
            elif k is not None:  # an input returned as it is: a view of it, as PyTorch
                r = _node._new_tensor(d.view(), ctx if differentiable else None, differentiable)
                r._as_view_of(args[k])
            else:
                r = _node._new_tensor(d, ctx if differentiable else None, differentiable)
                r._version = o._version  # saved as an output: in-place changes are seen
            if differentiable:
                r._output_nr = i
            results.append(r)
            by_output.setdefault(id(o), (r, i))
        if record:
            ctx._out_meta = tuple(out_meta)
            ctx._saved = self._resolve_saved(ctx, by_output)
            ctx._to_save = ()
        return tuple(results)

    def _resolve_saved(self, ctx, by_output):
        """The saved tensors tied to what they are: an output by its array, index and version
        counter (not the output itself: no reference cycle through grad_fn), an input by the
        graph-connected input itself, anything else (an intermediate) as it is; each with its
        version now, which backward checks."""
        saved = []
        for t in ctx._to_save:
            if t is None:
                saved.append(None)
                continue
            hit = by_output.get(id(t))
            k = self.alias_of.get(id(t))
            if hit is not None and (k is None or hit[0] is self.args[k]):
                r, i = hit
                if r._grad_fn is ctx:
                    saved.append(_SavedOutput(r._data, i, r._version, r._version[0]))
                else:  # a non-differentiable output: a constant
                    saved.append((r, r._version[0]))
            elif k is not None:
                a = self.args[k]
                saved.append((a, a._version[0]))
            else:
                saved.append((t, t._version[0]))
        return tuple(saved)


def _edge(t):
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    return (t._get_accumulator(), 0)


def _check_fresh_view(cls, t):
    # as the library's ops: a view taken before a recorded in-place op on its base is refused
    base = t._base
    if base is not None and base._grad_fn is not t.__dict__.get("_base_fn", base._grad_fn):
        _node._raise_stale_view(cls._backward_cls, t)


def _rebase_dirty(t, ctx, i, differentiable):
    """An input that forward changed in place (ctx.mark_dirty) becomes output `i` itself."""
    if differentiable:
        if t._grad_fn is None and t._requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place operation."
            )
        if t._base is not None:
            raise RuntimeError(
                f"{ctx.name}: an input marked dirty is a view (shape {tuple(t.shape)}); "
                "recording in-place writes through views is not supported. Pass a tensor that "
                "is not a view, or clone() the view first."
            )
        if t._retains_grad:  # the retained .grad follows the tensor to its new node
            hook = t.__dict__["_retain_hook"]
            t._grad_fn._pre_hooks[t._output_nr].remove(hook)
            ctx.register_prehook(i, hook)
        t._grad_fn = ctx
        t._requires_grad = True
    t._version[0] += 1
    return t


# ---------------------------------------------------------------- once_differentiable


class _DelayedError(Node):
    """Identity on the results of a once_differentiable backward: differentiating them
    again raises."""

    name = "Error"

    def forward(self, *arrays):
        return arrays if len(arrays) > 1 else arrays[0]

    def backward(self, *grads):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def once_differentiable(fn):
    """For a ``backward`` that is not itself differentiable (NumPy code, say): it runs with
    grad mode off, and under ``create_graph=True`` its results raise if differentiated.

    Args:
        fn: the backward (a staticmethod's function, decorated below @staticmethod).

    Returns:
        The wrapped backward.
    """

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with grad_mode.no_grad():
            outputs = fn(ctx, *args)
        if not grad_mode.is_grad_enabled():
            return outputs
        Tensor = _tensor_type()
        if not any(isinstance(a, Tensor) and a._requires_grad for a in args):
            return outputs
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        marked = [o for o in outs if isinstance(o, Tensor) and o._data.dtype.kind in "fc"]
        if not marked:
            return outputs
        fakes = []
        for o in marked:  # detached aliases that require grad, so that the node records
            f = o.detach()
            f._requires_grad = True
            fakes.append(f)
        wrapped = _DelayedError.apply(*fakes)
        wrapped = iter(wrapped if isinstance(wrapped, tuple) else (wrapped,))
        new = tuple(next(wrapped) if any(o is m for m in marked) else o for o in outs)
        return new[0] if single else new

    return wrapper
