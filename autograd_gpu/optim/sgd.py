"""Stochastic gradient descent with momentum, dampening, Nesterov, weight decay."""
from ..backend import device_of, on_device
from . import _functional as F
from .optimizer import Optimizer, _check_nonneg


class SGD(Optimizer):
    """As ``torch.optim.SGD``::

        g = (maximize ? -grad : grad) + weight_decay * p
        buf = g (first step), then buf = momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov) or g = buf (momentum != 0)
        p -= lr * g

    The momentum buffer holds velocity without the learning rate (PyTorch's convention,
    unlike Sutskever et al., who fold lr into it).

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        momentum: the momentum factor (0: none).
        dampening: the dampening of the momentum.
        weight_decay: the L2 penalty added to the gradient.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: maximize the objective (step along the gradient) instead of minimizing.

    Examples:
        >>> import autograd_gpu as torch
        >>> w = torch.tensor([1.0], requires_grad=True)
        >>> opt = torch.optim.SGD([w], lr=0.1)
        >>> (2 * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.8000], requires_grad=True)

    With parameter groups, momentum, and the usual loop:

        >>> model = torch.nn.Linear(2, 1)
        >>> opt = torch.optim.SGD([{"params": [model.weight]},
        ...                        {"params": [model.bias], "lr": 0.01}], lr=0.1, momentum=0.9)
        >>> [group["lr"] for group in opt.param_groups]
        [0.1, 0.01]
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     loss = model(torch.ones(4, 2)).pow(2).mean()
        ...     loss.backward()
        ...     opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_nonneg(group["momentum"], "momentum")
        _check_nonneg(group["weight_decay"], "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group):
        lr = group["lr"]
        momentum = group["momentum"]
        kw = dict(lr=lr, momentum=momentum, dampening=group["dampening"],
                  nesterov=group["nesterov"], weight_decay=group["weight_decay"],
                  maximize=group["maximize"])
        state_all = self.state
        for p in group["params"]:
            g = p._grad
            if g is None:
                continue
            buf = None
            first = False
            if momentum:
                state = state_all[p]
                b = state.get("momentum_buffer")
                if b is None:
                    b = self._buffer(p)
                    state["momentum_buffer"] = b
                    first = True
                else:
                    self._check_state_device(p, state, ("momentum_buffer",))
                buf = b._data
            with on_device(device_of(p._data)):  # (CuPy works on the current device)
                F.sgd_update(p._data, g._data, buf, first_step=first, **kw)
            p._version[0] += 1
