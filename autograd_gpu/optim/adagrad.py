"""Adagrad."""
from . import _functional as F
from .optimizer import Optimizer, _check_nonneg


class Adagrad(Optimizer):
    """As ``torch.optim.Adagrad``::

        g = (maximize ? -grad : grad) + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        sum = sum + g^2          (sum starts at initial_accumulator_value)
        p -= clr * g / (sqrt(sum) + eps)

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the learning rate.
        lr_decay: the learning rate decay.
        weight_decay: the L2 penalty added to the gradient.
        initial_accumulator_value: the starting value of the sum of squares.
        eps: added to the denominator for numerical stability.
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)
        # PyTorch creates the state up front
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p, group):
        state = self.state[p]
        if not state:
            state["step"] = self._new_step()
            state["sum"] = self._buffer(p, group["initial_accumulator_value"])
        return state

    def _validate_group(self, group):
        _check_nonneg(group["lr_decay"], "lr_decay")
        _check_nonneg(group["weight_decay"], "weight_decay")
        _check_nonneg(group["initial_accumulator_value"], "initial_accumulator_value")
        _check_nonneg(group["eps"], "epsilon")

    def _update_group(self, group):
        kw = dict(lr=group["lr"], lr_decay=group["lr_decay"], weight_decay=group["weight_decay"],
                  eps=group["eps"], maximize=group["maximize"])
        for p, g, state, step in self._stepping(group, ("sum",), group["initial_accumulator_value"]):
            F.adagrad_update(p._data, g._data, state["sum"]._data, step=step, **kw)
