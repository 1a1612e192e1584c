"""RAdam (Liu et al.): Adam with the variance of the adaptive rate rectified."""
from . import _functional as F
from .optimizer import Optimizer, _check_betas, _check_nonneg


def radam_update(xp, param, grad, exp_avg, exp_avg_sq, *, step, lr, beta1, beta2, eps,
                 weight_decay, decoupled_weight_decay, maximize):
    """One RAdam step in place, in torch.optim.RAdam's order (single-tensor path):

        g as in Adam (L2 with fma, or param *= 1 - lr wd when decoupled)
        m = lerp(m, g, 1 - beta1);  v = beta2 v + ((1 - beta2) g) g     (fma)
        mhat = m / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        rho_t > 5:  param -= ((mhat lr) sqrt(1 - beta2^t) / (sqrt(v) + eps)) r_t,
                    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        otherwise:  param -= mhat lr
    """
    if weight_decay and decoupled_weight_decay:
        param *= 1 - lr * weight_decay
        g = xp.negative(grad) if maximize else grad
    else:
        g = F._effective_grad(xp, param, grad, weight_decay, maximize)
    tmp = F._lerp_(xp, exp_avg, g, 1 - beta1)
    F._decay_add_square_(xp, exp_avg_sq, g, beta2, tmp)
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    upd = xp.divide(exp_avg, bias_correction1)
    upd *= lr
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    if rho_t > 5.0:
        xp.sqrt(exp_avg_sq, out=tmp)
        tmp += eps
        xp.divide(F._rounded(tmp, bias_correction2 ** 0.5), tmp, out=tmp)  # adaptive lr
        upd *= tmp
        upd *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
    param -= upd


class RAdam(Optimizer):
    """As ``torch.optim.RAdam`` (``decoupled_weight_decay`` for RAdamW); state ``step``,
    ``exp_avg``, ``exp_avg_sq``. For the first steps (rho_t <= 5) the update is SGD with
    momentum on the bias-corrected average.

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        betas: (beta1, beta2), the decay rates of the averages of the gradient and of its
            square.
        eps: added to the denominator for numerical stability.
        weight_decay: the weight decay (an L2 penalty, or decoupled).
        decoupled_weight_decay: decay the parameters directly, as AdamW (RAdamW).
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_betas(group["betas"])
        _check_nonneg(group["eps"], "epsilon")
        _check_nonneg(group["weight_decay"], "weight_decay")

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        kw = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"],
                  decoupled_weight_decay=group["decoupled_weight_decay"],
                  maximize=group["maximize"])
        for p, g, state, step in self._stepping(group, ("exp_avg", "exp_avg_sq")):
            radam_update(F._xp(p._data), p._data, g._data, state["exp_avg"]._data,
                         state["exp_avg_sq"]._data, step=step, **kw)
