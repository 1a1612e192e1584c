"""Helpers shared by the distributions (as torch.distributions.utils)."""
import functools
import numbers

import numpy as np

from ..tensor import Tensor

__all__ = ["broadcast_all", "clamp_probs", "lazy_property", "logits_to_probs", "probs_to_logits"]


def broadcast_all(*values):
    """The values as tensors of one broadcast shape; numbers become tensors of the first
    tensor's dtype and device (the default dtype when there is none)."""
    from .. import creation
    from ..ops.shape import broadcast_tensors

    if not all(isinstance(v, (Tensor, numbers.Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or "
                         "objects implementing __torch_function__.")
    tensors = [v for v in values if isinstance(v, Tensor)]
    if len(tensors) < len(values):
        like = tensors[0] if tensors else None
        dtype = like.dtype if like is not None else creation.get_default_dtype()
        device = like.device if like is not None else None
        values = [v if isinstance(v, Tensor) else creation.tensor(float(v), dtype=dtype, device=device)
                  for v in values]
    return tuple(broadcast_tensors(*values))


def _eps(t):
    return float(np.finfo(t._data.dtype).eps)


def clamp_probs(probs):
    """probs clamped to [eps, 1 - eps] of their dtype."""
    eps = _eps(probs)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    from ..ops.elementwise import sigmoid
    from ..ops.reduction import softmax

    return sigmoid(logits) if is_binary else softmax(logits, -1)


def probs_to_logits(probs, is_binary=False):
    from ..ops.elementwise import log, log1p

    ps = clamp_probs(probs)
    return log(ps) - log1p(-ps) if is_binary else log(ps)


class lazy_property:
    """A property computed on first access and then stored on the instance (the parameter
    a distribution was not given: probs from logits, scale_tril from a covariance)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        functools.update_wrapper(self, wrapped)

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return _lazy_property_and_property(self.wrapped)
        from ..autograd import enable_grad

        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


class _lazy_property_and_property(lazy_property, property):
    def __init__(self, wrapped):
        property.__init__(self, wrapped)
        lazy_property.__init__(self, wrapped)


def sum_rightmost(value, dim):
    """value summed over its rightmost `dim` dimensions."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:value.ndim - dim]) + (-1,)).sum(-1)
