"""NAdam (Dozat): Adam with Nesterov momentum and a momentum schedule."""
import numpy as np

from . import _functional as F
from .optimizer import Optimizer, _check_betas, _check_nonneg


def nadam_update(xp, param, grad, exp_avg, exp_avg_sq, mu_product, *, step, lr, beta1, beta2,
                 eps, weight_decay, momentum_decay, decoupled_weight_decay, maximize):
    """One NAdam step in place, in torch.optim.NAdam's order (single-tensor path):

        g = maximize ? -grad : grad
        param *= 1 - lr wd  (decoupled)   or   g = g + wd param          (fma)
        mu_t = beta1 (1 - 0.96^(t psi) / 2);  mu_{t+1} likewise;  mu_product *= mu_t (float32)
        m = lerp(m, g, 1 - beta1);  v = beta2 v + ((1 - beta2) g) g     (fma)
        denom = sqrt(v / (1 - beta2^t)) + eps
        param += (-lr (1 - mu_t) / (1 - mu_product)) g / denom
        param += (-lr mu_{t+1} / (1 - mu_product mu_{t+1})) m / denom

    `mu_product` is the 0-d float32 state array (PyTorch keeps it as a float32 tensor, so
    its running product rounds to float32 each step)."""
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
        g = xp.negative(grad) if maximize else grad
    else:
        g = F._effective_grad(xp, param, grad, weight_decay, maximize)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product *= mu
    prod = float(mu_product)
    tmp = F._lerp_(xp, exp_avg, g, 1 - beta1)
    F._decay_add_square_(xp, exp_avg_sq, g, beta2, tmp)
    xp.divide(exp_avg_sq, 1 - beta2 ** step, out=tmp)
    xp.sqrt(tmp, out=tmp)
    tmp += eps  # denom
    num = xp.multiply(g, -lr * (1.0 - mu) / (1.0 - prod))
    xp.divide(num, tmp, out=num)
    param += num
    xp.multiply(exp_avg, (-lr * mu_next) / (1.0 - prod * mu_next), out=num)
    xp.divide(num, tmp, out=num)
    param += num


class NAdam(Optimizer):
    """As ``torch.optim.NAdam`` (``momentum_decay`` psi, ``decoupled_weight_decay`` for
    NAdamW); state ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        betas: (beta1, beta2), the decay rates of the averages of the gradient and of its
            square.
        eps: added to the denominator for numerical stability.
        weight_decay: the weight decay (an L2 penalty, or decoupled).
        momentum_decay: psi, the momentum decay.
        decoupled_weight_decay: decay the parameters directly, as AdamW (NAdamW).
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_betas(group["betas"])
        _check_nonneg(group["eps"], "epsilon")
        _check_nonneg(group["weight_decay"], "weight_decay")
        _check_nonneg(group["momentum_decay"], "momentum_decay")

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        kw = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"], momentum_decay=group["momentum_decay"],
                  decoupled_weight_decay=group["decoupled_weight_decay"],
                  maximize=group["maximize"])
        for p, g, state, step in self._stepping(group, ("exp_avg", "exp_avg_sq")):
            if "mu_product" not in state:
                state["mu_product"] = self._scalar_state(1.0)
            nadam_update(F._xp(p._data), p._data, g._data, state["exp_avg"]._data,
                         state["exp_avg_sq"]._data, state["mu_product"]._data, step=step, **kw)
