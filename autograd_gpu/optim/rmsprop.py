"""RMSprop."""
from . import _functional as F
from .optimizer import Optimizer, _check_nonneg


class RMSprop(Optimizer):
    """As ``torch.optim.RMSprop``::

        g = (maximize ? -grad : grad) + weight_decay * p
        v = alpha * v + (1 - alpha) * g^2
        gbar = alpha * gbar + (1 - alpha) * g              (centered)
        avg = sqrt(v - gbar^2) + eps  (centered)   or   sqrt(v) + eps
        buf = momentum * buf + g / avg;  p -= lr * buf     (momentum > 0)
        p -= lr * g / avg                                   (otherwise)

    eps is added OUTSIDE the square root (PyTorch's placement; TensorFlow and Keras put it
    inside, sqrt(v + eps), which gives different steps when v is small).

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        alpha: the smoothing constant of the average of the squared gradient.
        eps: added to the denominator for numerical stability.
        weight_decay: the L2 penalty added to the gradient.
        momentum: the momentum factor (0: none).
        centered: normalize by the estimated variance of the gradient.
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        _check_nonneg(group["eps"], "epsilon")
        _check_nonneg(group["momentum"], "momentum")
        _check_nonneg(group["weight_decay"], "weight_decay")
        _check_nonneg(group["alpha"], "alpha")

    def _update_group(self, group):
        momentum = group["momentum"]
        centered = group["centered"]
        kw = dict(lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                  weight_decay=group["weight_decay"], momentum=momentum, centered=centered,
                  maximize=group["maximize"])
        buffers = ("square_avg",) + (("momentum_buffer",) if momentum > 0 else ()) + (
            ("grad_avg",) if centered else ())
        for p, g, state, _ in self._stepping(group, buffers):
            buf = state["momentum_buffer"]._data if momentum > 0 else None
            gavg = state["grad_avg"]._data if centered else None
            F.rmsprop_update(p._data, g._data, state["square_avg"]._data, buf, gavg, **kw)
