"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky)."""
from . import _functional as F
from .optimizer import Optimizer, _check_nonneg


def asgd_update(xp, param, grad, ax, eta, mu, *, step, lr, lambd, alpha, t0, weight_decay,
                maximize):
    """One ASGD step in place, in torch.optim.ASGD's order (single-tensor path); `eta` and
    `mu` are the 0-d float32 state arrays (PyTorch's float32 scalar tensors):

        g = (maximize ? -grad : grad) + wd param                    (fma)
        param *= 1 - lambd eta;  param = param + (-eta) g            (fma)
        ax = ax + (param - ax) mu        (mu != 1)   or   ax = param
        eta = lr / (1 + lambd lr t)^alpha;  mu = 1 / max(1, t - t0)
    """
    g = F._effective_grad(xp, param, grad, weight_decay, maximize)
    eta_value = float(eta)
    param *= 1 - lambd * eta_value
    F._fma_(xp, param, g, -eta_value, param)
    if float(mu) != 1:
        d = xp.subtract(param, ax)
        d *= float(mu)  # (a float32 value, as PyTorch's 0-d mu tensor)
        ax += d
    else:
        xp.copyto(ax, param)
    eta.fill(lr / ((1 + lambd * lr * step) ** alpha))
    mu.fill(1 / max(1, step - t0))


class ASGD(Optimizer):
    """As ``torch.optim.ASGD``; state ``step``, ``eta``, ``mu`` (0-d) and ``ax``, the running
    average of the parameter (averaging starts at step ``t0``).

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        lambd: the decay term.
        alpha: the power of the eta update.
        t0: the step at which averaging starts.
        weight_decay: the L2 penalty added to the gradient.
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, *,
                 maximize=False):
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_nonneg(group["weight_decay"], "weight_decay")

    def _update_group(self, group):
        kw = dict(lr=group["lr"], lambd=group["lambd"], alpha=group["alpha"], t0=group["t0"],
                  weight_decay=group["weight_decay"], maximize=group["maximize"])
        for p, g, state, step in self._stepping(group, ("ax",)):
            if "eta" not in state:
                state["eta"] = self._scalar_state(group["lr"])
                state["mu"] = self._scalar_state(1.0)
            asgd_update(F._xp(p._data), p._data, g._data, state["ax"]._data, state["eta"]._data,
                        state["mu"]._data, step=step, **kw)
