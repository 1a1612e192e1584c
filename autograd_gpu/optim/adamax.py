"""Adamax (Kingma & Ba): Adam with the infinity norm."""
from . import _functional as F
from .optimizer import Optimizer, _check_betas, _check_nonneg


def adamax_update(xp, param, grad, exp_avg, exp_inf, *, step, lr, beta1, beta2, eps,
                  weight_decay, maximize):
    """One Adamax step in place, in torch.optim.Adamax's order (single-tensor path):

        g = (maximize ? -grad : grad) + wd param                    (fma)
        m = lerp(m, g, 1 - beta1)                                   (fma)
        u = max(beta2 u, |g| + eps)
        param += ((-lr / (1 - beta1^t)) m) / u
    """
    g = F._effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = F._lerp_(xp, exp_avg, g, 1 - beta1)
    exp_inf *= beta2
    xp.abs(g, out=tmp)
    tmp += eps
    xp.maximum(exp_inf, tmp, out=exp_inf)
    xp.multiply(exp_avg, -(lr / (1 - beta1 ** step)), out=tmp)
    tmp /= exp_inf
    param += tmp


class Adamax(Optimizer):
    """As ``torch.optim.Adamax``; state ``step``, ``exp_avg``, ``exp_inf``::

        m = beta1 * m + (1 - beta1) * g;   u = max(beta2 * u, abs(g) + eps)
        p -= lr / (1 - beta1^t) * m / u

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        betas: (beta1, beta2), the decay rates of the gradient's average and of its
            infinity norm.
        eps: added for numerical stability.
        weight_decay: the L2 penalty added to the gradient.
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, *,
                 maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_betas(group["betas"])
        _check_nonneg(group["eps"], "epsilon")
        _check_nonneg(group["weight_decay"], "weight_decay")

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        kw = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"], maximize=group["maximize"])
        for p, g, state, step in self._stepping(group, ("exp_avg", "exp_inf")):
            adamax_update(F._xp(p._data), p._data, g._data, state["exp_avg"]._data,
                          state["exp_inf"]._data, step=step, **kw)
