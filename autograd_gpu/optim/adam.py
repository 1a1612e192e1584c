"""Adam and AdamW."""
from . import _functional as F
from .optimizer import Optimizer, _check_beta, _check_nonneg

_STATE_KEYS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")


class Adam(Optimizer):
    """As ``torch.optim.Adam`` (Kingma & Ba, with PyTorch's placement of eps)::

        g = maximize ? -grad : grad;   g += weight_decay * p   (L2, coupled)
        m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g^2
        vmax = max(vmax, v) and v := vmax   (amsgrad)
        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    eps is added after the bias-corrected square root, as PyTorch does.

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        betas: (beta1, beta2), the decay rates of the averages of the gradient and of its
            square.
        eps: added to the denominator for numerical stability.
        weight_decay: the L2 penalty added to the gradient.
        amsgrad: use the maximum of the past second moments (AMSGrad).
        maximize: maximize the objective (step along the gradient) instead of minimizing.

    Examples:
        >>> import autograd_gpu as torch
        >>> w = torch.tensor([1.0, -2.0], requires_grad=True)
        >>> opt = torch.optim.Adam([w], lr=0.1)
        >>> for _ in range(3):
        ...     opt.zero_grad()
        ...     loss = (w ** 2).sum()
        ...     loss.backward()
        ...     opt.step()
        >>> w
        tensor([ 0.7016, -1.7006], requires_grad=True)
        >>> sorted(opt.state[w])
        ['exp_avg', 'exp_avg_sq', 'step']
    """

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        _check_beta(betas[0], 0)
        _check_beta(betas[1], 1)
        _check_nonneg(group["eps"], "epsilon")
        _check_nonneg(group["weight_decay"], "weight_decay")

    def _update_group(self, group):
        beta1, beta2 = group["betas"]
        amsgrad = group["amsgrad"]
        kw = dict(lr=group["lr"], beta1=beta1, beta2=beta2, eps=group["eps"],
                  weight_decay=group["weight_decay"], amsgrad=amsgrad,
                  maximize=group["maximize"], decoupled_weight_decay=self._decoupled)
        buffers = _STATE_KEYS if amsgrad else _STATE_KEYS[:2]
        for p, g, state, step in self._stepping(group, buffers):
            mx = state["max_exp_avg_sq"]._data if amsgrad else None
            F.adam_update(p._data, g._data, state["exp_avg"]._data, state["exp_avg_sq"]._data, mx,
                          step=step, **kw)


class AdamW(Adam):
    """As ``torch.optim.AdamW`` (Loshchilov & Hutter): Adam with decoupled weight decay,
    ``p *= 1 - lr * weight_decay`` before the Adam step (default weight_decay 1e-2).

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        betas: (beta1, beta2), the decay rates of the averages of the gradient and of its
            square.
        eps: added to the denominator for numerical stability.
        weight_decay: the decoupled weight decay factor.
        amsgrad: use the maximum of the past second moments (AMSGrad).
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
