"""Module, Parameter, Sequential, ModuleList, and module hooks."""
import itertools
from collections import OrderedDict

from .. import backend
from ..autograd.node import Node
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor, _init, _wrap


class Parameter(Tensor):
    """A tensor that a Module registers as a parameter when assigned as an attribute.
    Shares the array of ``data``; requires grad unless told otherwise.

    Args:
        data: the Tensor whose array the parameter shares (None: an empty float32 one).
        requires_grad: whether the parameter requires grad.
    """

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            import numpy as np

            arr = np.empty((0,), dtype=np.float32)
        elif isinstance(data, Tensor):
            arr = data._data
        else:
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        t = object.__new__(cls)
        _init(t, arr)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, data=None, requires_grad=True):
        pass

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__


class _HandleDict:
    """What register_*_hook returns: ``remove()`` takes the hook out again."""

    _ids = itertools.count()

    def __init__(self, hooks):
        self.hooks = hooks
        self.id = next(self._ids)

    def remove(self):
        self.hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Module:
    """Base of all layers, as ``torch.nn.Module``: attributes that are Parameters, Modules
    or registered buffers are tracked, in assignment order.

    A subclass calls ``super().__init__()`` first, assigns its parameters and submodules
    as attributes, and defines ``forward``; calling the module calls ``forward`` (with the
    registered hooks around it).

    Examples:
        >>> import autograd_gpu as torch
        >>> class Net(torch.nn.Module):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.fc = torch.nn.Linear(4, 2)
        ...     def forward(self, x):
        ...         return torch.relu(self.fc(x))
        >>> net = Net()
        >>> net
        Net(
          (fc): Linear(in_features=4, out_features=2, bias=True)
        )
        >>> [name for name, _ in net.named_parameters()]
        ['fc.weight', 'fc.bias']
        >>> net(torch.ones(3, 4)).shape
        autograd_gpu.Size([3, 2])
        >>> net.eval().training
        False
    """

    training = True
    _version = 1

    def __init__(self):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()

    def forward(self, *args, **kwargs):
        """The computation of the module, defined by every subclass (call the module, not
        this, so that hooks run).

        Returns:
            The module's output (what the subclass returns).
        """
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ---------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks or self._backward_hooks):
            return self.forward(*args, **kwargs)
        return self._call_with_hooks(args, kwargs)

    def _call_with_hooks(self, args, kwargs):
        for hook in list(self._forward_pre_hooks.values()):
            r = hook(self, args)
            if r is not None:
                args = r if isinstance(r, tuple) else (r,)
        bw = None
        if self._backward_hooks:
            bw = _BackwardHookState(self)
            args = bw.wrap_inputs(args)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            r = hook(self, args, out)
            if r is not None:
                out = r
        if bw is not None:
            out = bw.wrap_outputs(out)
        return out

    def register_forward_pre_hook(self, hook):
        """``hook(module, args)`` runs before forward; a returned value replaces the args.

        Args:
            hook: the callable.

        Returns:
            A handle whose ``remove()`` takes the hook out again.
        """
        h = _HandleDict(self._forward_pre_hooks)
        self._forward_pre_hooks[h.id] = hook
        return h

    def register_forward_hook(self, hook):
        """``hook(module, args, output)`` runs after forward; a returned value replaces the output.

        Args:
            hook: the callable.

        Returns:
            A handle whose ``remove()`` takes the hook out again.
        """
        h = _HandleDict(self._forward_hooks)
        self._forward_hooks[h.id] = hook
        return h

    def register_full_backward_hook(self, hook):
        """``hook(module, grad_input, grad_output)`` runs when the gradients with respect to
        the module's tensor inputs are computed; a returned tuple replaces grad_input.

        Args:
            hook: the callable.

        Returns:
            A handle whose ``remove()`` takes the hook out again.
        """
        h = _HandleDict(self._backward_hooks)
        self._backward_hooks[h.id] = hook
        return h

    # ---------------------------------------------------------------- attributes
    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            _discard(d, name)
            params[name] = value
        elif params is not None and name in params:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    "(autograd_gpu.nn.Parameter or None expected)"
                )
            params[name] = value
        elif isinstance(value, Module):
            if d.get("_modules") is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            _discard(d, name)
            d["_modules"][name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module '{name}'")
            d["_modules"][name] = None
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}'")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d[store]:
                del d[store][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers)
                      | set(self._modules))

    def register_parameter(self, name, param):
        """Adds a parameter under `name` (as assigning an attribute does).

        Args:
            name: the attribute name (no dot, not empty).
            param: a Parameter, or None (a parameter slot without a value, skipped by
                ``parameters()`` and ``state_dict()``).
        """
        if "." in name or name == "":
            raise KeyError(f'parameter name can\'t contain "." and can\'t be empty, got {name!r}')
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                "(autograd_gpu.nn.Parameter or None required)"
            )
        _discard(self.__dict__, name)
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """A tensor that is state but not a parameter (moved by ``to()``, saved in
        ``state_dict()`` unless ``persistent=False``).

        Args:
            name: the attribute name (no dot, not empty).
            tensor: the Tensor, or None.
            persistent: include it in ``state_dict()``.
        """
        if "." in name or name == "":
            raise KeyError(f'buffer name can\'t contain "." and can\'t be empty, got {name!r}')
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}'")
        _discard(self.__dict__, name)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        """Adds a submodule under `name` (as assigning an attribute does).

        Args:
            name: the attribute name.
            module: a Module, or None.
        """
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        _discard(self.__dict__, name)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at a dotted path.

        Args:
            target: the path, e.g. ``"encoder.layers.0"`` (``""``: self).

        Returns:
            Module: that submodule (AttributeError if there is none).
        """
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target):
        """The parameter at a dotted path.

        Args:
            target: the path, e.g. ``"fc.weight"``.

        Returns:
            Parameter: that parameter (AttributeError if there is none).
        """
        mod_path, _, name = target.rpartition(".")
        mod = self.get_submodule(mod_path)
        if name not in mod._parameters:
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return mod._parameters[name]

    # ---------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Every module of the tree, self first (depth first, in registration order).

        Args:
            memo: ids of modules already yielded (internal).
            prefix: prepended to every name.
            remove_duplicate: yield a module reachable by several paths once.

        Yields:
            (name, module) pairs, name the dotted path (``""`` for self).
        """
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name, remove_duplicate)

    def modules(self):
        """Every module of the tree, self first.

        Yields:
            Module: each module once.
        """
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        """The direct submodules.

        Yields:
            (name, module) pairs.
        """
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        """The direct submodules.

        Yields:
            Module: each child once.
        """
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        for mp, m in mods:
            for k, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mp + ("." if mp else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """The parameters with their dotted names, as in ``state_dict()``.

        Args:
            prefix: prepended to every name.
            recurse: include the submodules' parameters (False: this module's own only).
            remove_duplicate: yield a shared parameter once.

        Yields:
            (name, Parameter) pairs.
        """
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """The parameters (what an optimizer takes).

        Args:
            recurse: include the submodules' parameters.

        Yields:
            Parameter: each parameter once.
        """
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """The buffers with their dotted names.

        Args:
            prefix: prepended to every name.
            recurse: include the submodules' buffers.
            remove_duplicate: yield a shared buffer once.

        Yields:
            (name, Tensor) pairs.
        """
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """The buffers (running statistics and the like).

        Args:
            recurse: include the submodules' buffers.

        Yields:
            Tensor: each buffer once.
        """
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        """Calls `fn` on every submodule (children first) and on self.

        Args:
            fn: a callable taking a Module (e.g. an initializer).

        Returns:
            Module: self.
        """
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---------------------------------------------------------------- modes and devices
    def train(self, mode=True):
        """Sets training mode (dropout active, batch statistics) on self and every submodule.

        Args:
            mode: True for training mode, False for eval mode.

        Returns:
            Module: self.
        """
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Sets eval mode, ``train(False)``.

        Returns:
            Module: self.
        """
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Sets requires_grad on every parameter (False freezes them).

        Args:
            requires_grad: the flag.

        Returns:
            Module: self.
        """
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Resets the parameters' gradients.

        Args:
            set_to_none: set ``.grad`` to None (False: fill it with zeros).
        """
        for p in self.parameters():
            if p._grad is not None:
                if set_to_none:
                    p._grad = None
                else:
                    g = p._grad.detach()
                    g._data.fill(0)
                    p._grad = g

    def _apply(self, fn):
        """Applies `fn` (array -> array) to every parameter, gradient and buffer, keeping the
        Parameter objects (so optimizers built earlier still hold them)."""
        for m in self.modules():
            for k, p in m._parameters.items():
                if p is None:
                    continue
                p._data = fn(p._data)
                p._version[0] += 1
                if p._grad is not None:
                    p._grad = _wrap(fn(p._grad._data))
            for k, b in m._buffers.items():
                if b is not None:
                    m._buffers[k] = _wrap(fn(b._data))
        return self

    def to(self, *args, device=None, dtype=None, non_blocking=False):
        """``to(device)``, ``to(dtype)`` (floating tensors only), ``to(device, dtype)``,
        ``to(tensor)``; in place, returns self.

        Args:
            args: a device, a dtype, both, or a tensor (its device and dtype).
            device: the target device.
            dtype: the target floating dtype (integer tensors keep theirs).
            non_blocking: accepted, changes nothing.

        Returns:
            Module: self, its parameters (the same objects) and buffers converted.
        """
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, backend.dtype):
                dtype = a
            elif isinstance(a, (str, backend.device, int)):
                device = a
            else:
                raise TypeError(f"to() received an invalid argument: {a!r}")
        dev = backend.normalize_device(device) if device is not None else None
        np_dtype = backend.to_numpy_dtype(dtype) if dtype is not None else None
        if np_dtype is not None and np_dtype.kind not in "fc":
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got desired dtype={dtype}")

        def convert(arr):
            if dev is not None and backend.device_of(arr) != dev:
                arr = backend.to_device(arr, dev)
            if np_dtype is not None and arr.dtype.kind in "fc" and arr.dtype != np_dtype:
                arr = arr.astype(np_dtype)
            return arr

        return self._apply(convert)

    def cpu(self):
        """Moves the parameters and buffers to the CPU.

        Returns:
            Module: self.
        """
        return self.to("cpu")

    def cuda(self, device=None):
        """Moves the parameters and buffers to a CUDA device.

        Args:
            device: an index, a device or None (the current CUDA device).

        Returns:
            Module: self.
        """
        return self.to("cuda" if device is None else f"cuda:{device}" if isinstance(device, int) else device)

    def float(self):
        """Casts the floating parameters and buffers to float32.

        Returns:
            Module: self.
        """
        return self.to(backend.float32)

    def double(self):
        """Casts the floating parameters and buffers to float64.

        Returns:
            Module: self.
        """
        return self.to(backend.float64)

    def half(self):
        """Casts the floating parameters and buffers to float16.

        Returns:
            Module: self.
        """
        return self.to(backend.float16)

    # ---------------------------------------------------------------- state dicts
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Parameters and persistent buffers by dotted name, detached (sharing memory).

        Args:
            destination: the dict filled (None: a new OrderedDict).
            prefix: prepended to every key.
            keep_vars: keep the Parameters themselves instead of detached tensors.

        Returns:
            OrderedDict: name -> tensor.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copies values into parameters and buffers (shapes must match). Returns
        ``(missing_keys, unexpected_keys)``; with ``strict`` either one is an error.

        Args:
            state_dict: name -> tensor, as ``state_dict()`` gives.
            strict: raise RuntimeError on a missing or unexpected key.
            assign: accepted; values are always copied into the existing tensors.

        Returns:
            A named tuple (missing_keys, unexpected_keys).
        """
        own = OrderedDict()

        def walk(m, pre):  # as state_dict: a module reachable by two names has both keys
            for k, p in m._parameters.items():
                if p is not None:
                    own[pre + k] = (m, "_parameters", k)
            for k, b in m._buffers.items():
                if b is not None and k not in m._non_persistent:
                    own[pre + k] = (m, "_buffers", k)
            for k, c in m._modules.items():
                if c is not None:
                    walk(c, pre + k + ".")

        walk(self, "")
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        errors = []
        for key, (m, store, k) in own.items():
            if key not in state_dict:
                continue
            src = state_dict[key]
            dst = getattr(m, store)[k]
            if not isinstance(src, Tensor):
                errors.append(f'While copying the parameter named "{key}", expected a Tensor, got {type(src).__name__}')
                continue
            if tuple(src.shape) != tuple(dst.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {tuple(src.shape)} from "
                    f"checkpoint, the shape in current model is {tuple(dst.shape)}."
                )
                continue
            with no_grad():
                dst.copy_(src)
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(errors)
            )
        return _IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- printing
    def extra_repr(self):
        """What the module's repr shows in its parentheses (subclasses override it).

        Returns:
            str: ``""`` here.
        """
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        t = super().__new__(cls, (missing, unexpected))
        t.missing_keys, t.unexpected_keys = missing, unexpected
        return t

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def _discard(d, name):
    for store in ("_parameters", "_buffers", "_modules"):
        s = d.get(store)
        if s is not None and name in s:
            del s[name]
    d.pop(name, None)


# ---------------------------------------------------------------- backward hooks


class _BackwardHookState:
    """Identity nodes around a module's call: the one on its outputs records grad_output,
    the one on its tensor inputs then calls the hooks with (grad_input, grad_output)."""

    def __init__(self, module):
        self.module = module
        self.grad_output = None
        self.n_inputs = 0
        self.inputs_hooked = False

    def wrap_inputs(self, args):
        idx = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.n_inputs = len(idx)
        if not any(args[i].requires_grad for i in idx):
            return args
        from ..autograd.grad_mode import is_grad_enabled

        if not is_grad_enabled():
            return args
        self.inputs_hooked = True
        outs = _HookIdentity.apply(*[args[i] for i in idx], state=self, role="input")
        outs = outs if isinstance(outs, tuple) else (outs,)
        args = list(args)
        for i, o in zip(idx, outs):
            args[i] = o
        return tuple(args)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        outs = (out,) if single else out
        if not isinstance(outs, (tuple, list)):
            return out
        tensors = [o for o in outs if isinstance(o, Tensor) and o.requires_grad]
        if not tensors:
            return out
        wrapped = _HookIdentity.apply(*tensors, state=self, role="output")
        wrapped = list(wrapped) if isinstance(wrapped, tuple) else [wrapped]
        result = []
        for o in outs:
            if isinstance(o, Tensor) and o.requires_grad:
                result.append(wrapped.pop(0))
            else:
                result.append(o)
        return result[0] if single else type(outs)(result)

    def call_hooks(self, grad_input):
        for hook in list(self.module._backward_hooks.values()):
            r = hook(self.module, grad_input, self.grad_output)
            if r is not None:
                r = tuple(r) if isinstance(r, (tuple, list)) else (r,)
                if len(r) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook returned {len(r)} gradients, expected {len(grad_input)} "
                        "(one per tensor input of the module)"
                    )
                grad_input = r
        return grad_input


class _HookIdentity(Node):
    name = "BackwardHookFunctionBackward"

    def forward(self, *arrays, state, role):
        self.state, self.role = state, role
        return arrays if len(arrays) != 1 else arrays[0]

    def backward(self, *grads):
        st = self.state
        if self.role == "output":
            st.grad_output = tuple(_as_tensor(g) for g in grads)
            if not st.inputs_hooked:
                st.call_hooks((None,) * st.n_inputs)
            return grads if len(grads) != 1 else grads[0]
        gi = st.call_hooks(tuple(_as_tensor(g) for g in grads))
        gi = tuple(g._data if isinstance(g, Tensor) and not isinstance(grads[i], Tensor) else g
                   for i, g in enumerate(gi))
        return gi if len(gi) != 1 else gi[0]


def _as_tensor(g):
    return g if g is None or isinstance(g, Tensor) else _wrap(g)


# ---------------------------------------------------------------- containers


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: length, iteration and append, in order."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Adds `module` at the end (named by its index).

        Args:
            module: the Module.

        Returns:
            self.
        """
        self.add_module(str(len(self)), module)
        return self


class Sequential(_ModuleSequence):
    """Calls its modules in order, each on the previous one's output.

    Args:
        args: the modules, named "0", "1", ...; or one OrderedDict of name -> module.

    Shape:
        - Input: what the first module takes.
        - Output: what the last module returns.

    Examples:
        >>> import autograd_gpu as torch
        >>> model = torch.nn.Sequential(
        ...     torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        >>> model
        Sequential(
          (0): Linear(in_features=4, out_features=8, bias=True)
          (1): ReLU()
          (2): Linear(in_features=8, out_features=2, bias=True)
        )
        >>> model(torch.randn(3, 4)).shape
        autograd_gpu.Size([3, 2])
        >>> model[0]
        Linear(in_features=4, out_features=8, bias=True)
        >>> sum(p.numel() for p in model.parameters())
        58
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for k, m in args[0].items():
                self.add_module(k, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        mods = list(self._modules.values())
        return mods[idx]


class ModuleList(_ModuleSequence):
    """A list of modules, registered (so their parameters are found).

    Args:
        modules: an iterable of modules to start with (None: empty).
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return ModuleList(mods[idx])
        return mods[idx]

    def __setitem__(self, idx, module):
        key = list(self._modules.keys())[idx]
        self.add_module(key, module)

    def extend(self, modules):
        """Appends every module of an iterable.

        Args:
            modules: the modules.

        Returns:
            ModuleList: self.
        """
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        """Inserts `module` before position `index` (the modules after it are renumbered).

        Args:
            index: the position.
            module: the Module.
        """
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def forward(self, *args):
        raise NotImplementedError("ModuleList is a container; call its modules")
