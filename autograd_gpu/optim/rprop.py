"""Rprop (Riedmiller & Braun): per-element step sizes from the signs of the gradients."""
from . import _functional as F
from .optimizer import Optimizer


def rprop_update(xp, param, grad, prev, step_size, *, etaminus, etaplus, step_size_min,
                 step_size_max, maximize):
    """One Rprop step in place, as torch.optim.Rprop (single-tensor path):

        s = sign(g prev): etaplus where > 0, etaminus where < 0, 1 where 0
        step_size = clamp(step_size s, step_size_min, step_size_max)
        g = 0 where the sign flipped;  param -= sign(g) step_size;  prev = g
    """
    g = xp.negative(grad) if maximize else grad
    prod = xp.multiply(g, prev)
    flipped = prod < 0
    factor = xp.where(prod > 0, xp.asarray(etaplus, dtype=param.dtype),
                      xp.where(flipped, xp.asarray(etaminus, dtype=param.dtype),
                               xp.asarray(1, dtype=param.dtype)))
    step_size *= factor
    xp.clip(step_size, step_size_min, step_size_max, out=step_size)
    g = xp.where(flipped, xp.zeros((), dtype=param.dtype), g)
    s = xp.sign(g)
    s *= step_size
    param -= s
    xp.copyto(prev, g)


class Rprop(Optimizer):
    """As ``torch.optim.Rprop``: ``etas=(etaminus, etaplus)``, ``step_sizes=(min, max)``;
    state ``step``, ``prev`` (the last gradient, zeroed where its sign flipped) and
    ``step_size`` (starting at ``lr``).

    Args:
        params: an iterable of tensors to optimize, or of dicts (parameter groups, each with
            a ``"params"`` entry and its own options).
        lr: the initial step size.
        etas: (etaminus, etaplus), the factors of the step size where the gradient's sign
            flips and where it stays.
        step_sizes: (min, max), the bounds of the step size.
        maximize: maximize the objective (step along the gradient) instead of minimizing.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *,
                 maximize=False):
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize)
        super().__init__(params, defaults)

    def _validate_group(self, group):
        etaminus, etaplus = group["etas"]
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"Invalid eta values: {etaminus}, {etaplus}")

    def _update_group(self, group):
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        for p, g, state, _ in self._stepping(group, ("prev",)):
            if "step_size" not in state:
                state["step_size"] = self._buffer(p, group["lr"])
            rprop_update(F._xp(p._data), p._data, g._data, state["prev"]._data,
                         state["step_size"]._data, etaminus=etaminus, etaplus=etaplus,
                         step_size_min=lo, step_size_max=hi, maximize=group["maximize"])
