"""The optimizer base class: parameter groups, per-parameter state, state_dict."""
import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..backend import device_of, is_cuda_array, on_device
from ..tensor import Tensor, _wrap

class _RequiredParameter:
    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _check_lr(lr, name="learning rate"):
    if isinstance(lr, Tensor):
        lr = lr.item()
    if not isinstance(lr, (int, float)) or isinstance(lr, bool):
        raise TypeError(f"Invalid {name}: expected a number, got {type(lr).__name__}")
    if math.isnan(lr) or lr < 0.0:
        raise ValueError(f"Invalid {name}: {lr} (must be a non-negative number)")


def _check_nonneg(value, name):
    if math.isnan(value) or value < 0.0:
        raise ValueError(f"Invalid {name} value: {value} (must be >= 0)")


def _check_beta(beta, index):
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"Invalid beta parameter at index {index}: {beta} (must be in [0, 1))")


def _check_betas(betas):
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    _check_beta(betas[0], 0)
    _check_beta(betas[1], 1)


class Optimizer:
    """Base of all optimizers, as ``torch.optim.Optimizer``.

    ``params`` is an iterable of tensors or of dicts (parameter groups, each with a
    ``"params"`` entry and optional per-group hyper-parameters). ``state[p]`` holds each
    parameter's buffers as tensors, keyed by the parameter itself.

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        defaults: the default hyper-parameters of every group (a dict; a group's own
            entries override them).
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = _State()
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [self.__class__.__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def add_param_group(self, param_group):
        """Adds a group of parameters (a dict with ``"params"``) with its own options.

        Args:
            param_group: a dict with ``"params"`` (a tensor or an ordered iterable of leaf
                tensors, none already in another group) and any hyper-parameters; the
                others come from the defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (this one was produced by {p.grad_fn.name}); "
                    "optimize the leaf it was computed from, or use .detach().requires_grad_()"
                )
        group = dict(param_group)
        group["params"] = params
        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}"
                )
            group.setdefault(name, default)
        if "lr" in group:
            _check_lr(group["lr"])
        self._validate_group(group)
        seen = set()
        for g in self.param_groups:
            seen.update(id(p) for p in g["params"])
        if len({id(p) for p in params}) != len(params):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        if any(id(p) in seen for p in params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def _validate_group(self, group):
        """Checks a group's hyper-parameters (overridden per optimizer)."""

    def zero_grad(self, set_to_none=True):
        """Clears every parameter's ``.grad`` (to None by default, as PyTorch).

        Args:
            set_to_none: set ``.grad`` to None (False: fill it with zeros in place).
        """
        for group in self.param_groups:
            for p in group["params"]:
                g = p._grad
                if g is not None:
                    if set_to_none:
                        p._grad = None
                    else:
                        if g._grad_fn is not None:
                            g = g.detach()
                            p._grad = g
                        g._requires_grad = False
                        g._data.fill(0)
                        g._version[0] += 1

    def step(self, closure=None):
        """Performs one update; ``closure`` re-evaluates the model and returns the loss.

        Args:
            closure: a callable that recomputes the loss (and its gradients) and returns
                it, called with gradients enabled (required by LBFGS).

        Returns:
            The closure's loss, or None without a closure.
        """
        loss = None
        if closure is not None:
            from ..autograd.grad_mode import enable_grad

            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group):  # pragma: no cover - abstract
        raise NotImplementedError

    # ---------------------------------------------------------------- helpers for subclasses
    def _stepping(self, group, buffers, initial=0.0):
        """(param, grad, state, step) for each parameter of `group` that has a gradient.
        State is created on first use (a step count), and each named buffer when it is
        missing (filled with `initial`; a buffer can appear later, e.g. when amsgrad or
        momentum is switched on); the buffers are checked to be on the parameter's device,
        and the step count is advanced. After the caller's in-place update, the parameter's
        version is bumped."""
        state_all = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            state = state_all[p]
            if not state:
                state["step"] = self._new_step()
            t = type(p._data)
            on_cuda = is_cuda_array(p._data)
            if on_cuda:  # the update runs on the parameter's device (CuPy's current one)
                scope = on_device(device_of(p._data))
                scope.__enter__()
            try:
                for name in buffers:
                    b = state.get(name)
                    if b is None:
                        state[name] = self._buffer(p, initial)
                    elif type(b._data) is not t or (on_cuda and b._data.device != p._data.device):
                        self._check_state_device(p, state, buffers)
                yield p, g, state, self._incr_step(state)
            finally:
                if on_cuda:
                    scope.__exit__(None, None, None)
            p._version[0] += 1

    @staticmethod
    def _buffer(p, value=0.0):
        """A state tensor shaped like `p` on its device, filled with `value`."""
        xp = p._xp()
        with on_device(device_of(p._data)):  # (CuPy allocates on the current device)
            arr = xp.zeros_like(p._data) if value == 0 else xp.full_like(p._data, value)
        return _wrap(arr)

    @staticmethod
    def _check_state_device(p, state, keys):
        for k in keys:
            s = state.get(k)
            if s is not None and s.device != p.device:
                raise RuntimeError(
                    f"{k} state of a parameter is on {s.device} but the parameter is on "
                    f"{p.device}; expected all tensors to be on the same device. Move the "
                    "parameters before creating the optimizer, or load the state_dict after "
                    "moving them (load_state_dict moves state to each parameter's device)."
                )

    @staticmethod
    def _new_step():
        return _wrap(np.zeros((), dtype=np.float32))

    @staticmethod
    def _scalar_state(value):
        """A 0-d float32 state value on the host (PyTorch's scalar state tensors: NAdam's
        mu_product, ASGD's eta and mu), rounded to float32 as PyTorch's are."""
        return _wrap(np.array(value, dtype=np.float32))

    @staticmethod
    def _incr_step(state):
        a = state["step"]._data
        step = a.item() + 1
        a.fill(step)
        return int(step)

    # ---------------------------------------------------------------- state dicts
    def state_dict(self):
        """``{"state": {index: {name: tensor}}, "param_groups": [{..., "params": [index]}]}``,
        with parameters numbered in group order, as PyTorch.

        Returns:
            dict: the state (tensors shared, not copied) and the groups' hyper-parameters.
        """
        index_of = {}
        groups = []
        start = 0
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                if id(p) not in index_of:
                    index_of[id(p)] = start
                    start += 1
                ids.append(index_of[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index_of[id(p)]] = dict(self.state[p])
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restores hyper-parameters and state; state tensors are copied onto each parameter's
        device and (except ``step``) cast to its dtype.

        Args:
            state_dict: what ``state_dict()`` returned (the same group layout).
        """
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, sg in zip(groups, saved_groups):
            if len(g["params"]) != len(sg["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of optimizer's group"
                )
        id_map = {}
        for g, sg in zip(groups, saved_groups):
            for p, i in zip(g["params"], sg["params"]):
                id_map[i] = p
        new_state = _State()
        for k, v in state_dict["state"].items():
            key = int(k) if isinstance(k, str) else k
            if key not in id_map:
                continue
            p = id_map[key]
            entry = {}
            for name, value in v.items():
                if isinstance(value, Tensor):
                    value = _cast_state(value, p, name)
                entry[name] = value
            new_state[p] = entry
        self.state = new_state
        new_groups = []
        for g, sg in zip(groups, saved_groups):
            ng = {k: v for k, v in sg.items() if k != "params"}
            ng["params"] = g["params"]
            new_groups.append(ng)
        self.param_groups = new_groups


def _cast_state(value, p, name):
    if name == "step":
        return _wrap(np.array(value.detach().cpu()._data, dtype=np.float32))
    v = value.detach().to(p.device)
    if v._data.dtype != p._data.dtype:
        v = v.to(p.dtype)
    if v is value or v._data is value._data:
        v = _wrap(v._data.copy())
    return v


class _State(dict):
    """``state[p]``: a dict keyed by the parameter tensor itself (tensors hash by identity);
    missing entries read as a new empty dict, as PyTorch's defaultdict."""

    def __missing__(self, key):
        d = {}
        self[key] = d
        return d
