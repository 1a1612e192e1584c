"""Adadelta."""
from . import _functional as F
from .optimizer import Optimizer, _check_nonneg


class Adadelta(Optimizer):
    """As ``torch.optim.Adadelta`` (Zeiler), with PyTorch's extra ``lr`` factor::

        g = (maximize ? -grad : grad) + weight_decay * p
        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p -= lr * delta

    eps is added INSIDE both square roots.

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the factor of delta.
        rho: the decay rate of the running averages.
        eps: added inside the square roots for numerical stability.
        weight_decay: the L2 penalty added to the gradient.
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        if not 0.0 <= group["rho"] <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']} (must be in [0, 1])")
        _check_nonneg(group["eps"], "epsilon")
        _check_nonneg(group["weight_decay"], "weight_decay")

    def _update_group(self, group):
        kw = dict(lr=group["lr"], rho=group["rho"], eps=group["eps"],
                  weight_decay=group["weight_decay"], maximize=group["maximize"])
        for p, g, state, _ in self._stepping(group, ("square_avg", "acc_delta")):
            F.adadelta_update(p._data, g._data, state["square_avg"]._data,
                              state["acc_delta"]._data, **kw)
