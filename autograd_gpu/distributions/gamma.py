"""Gamma(concentration, rate) and Beta(concentration1, concentration0).

Samples are drawn with Marsaglia and Tsang's method (2000) from this library's generator
(`manual_seed`); `rsample` is differentiable in the parameters by implicit
reparameterization (ops/special.py: the exact dx/dalpha of the CDF, where PyTorch uses a
fitted approximation of the same quantity)."""
import numbers

import numpy as np

from ..tensor import Size, _wrap
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Beta", "Gamma"]


def _standard_gamma_draw(alpha, device):
    """Gamma(alpha, 1) draws (float64 raw array of alpha's shape) by Marsaglia-Tsang; for
    alpha < 1 from alpha + 1, times U^(1/alpha). Rejected entries are drawn again until
    none is left."""
    from ..creation import rand, randn

    xp = array_module_of(alpha)
    a = alpha.astype(np.float64)
    boost = a < 1
    d = xp.where(boost, a + 1, a) - 1.0 / 3
    c = 1.0 / xp.sqrt(9 * d)
    out = xp.zeros(a.shape)
    pending = xp.ones(a.shape, dtype=bool)
    while bool(pending.any()):
        z = randn(a.shape, dtype=_f64(), device=device)._data
        u = rand(a.shape, dtype=_f64(), device=device)._data
        v = (1 + c * z) ** 3
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = (v > 0) & (xp.log(u) < 0.5 * z * z + d - d * v + d * xp.log(xp.where(v > 0, v, 1)))
        take = pending & accept
        out = xp.where(take, d * v, out)
        pending = pending & ~accept
    if bool(boost.any()):
        u = rand(a.shape, dtype=_f64(), device=device)._data
        with np.errstate(divide="ignore", under="ignore"):
            out = xp.where(boost, out * u ** (1.0 / xp.where(boost, a, 1)), out)
    return xp.maximum(out, np.finfo(alpha.dtype).tiny)  # (PyTorch clamps to tiny too)


def array_module_of(a):
    from ..backend import array_module

    return array_module(a)


def _f64():
    from ..backend import float64

    return float64


def _standard_gamma(concentration):
    """A differentiable Gamma(concentration, 1) sample of concentration's shape."""
    from ..ops.special import StandardGammaSample

    values = _standard_gamma_draw(concentration._data, concentration.device)
    return StandardGammaSample.apply(concentration, values)


class Gamma(Distribution):
    """The Gamma distribution with shape concentration and rate rate.

    Args:
        concentration: the shape parameter (> 0).
        rate: the rate, 1 / scale (> 0).
        validate_args: check the arguments against their constraints.
    """
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        numbers_only = isinstance(concentration, numbers.Number) and isinstance(rate, numbers.Number)
        batch_shape = Size() if numbers_only else self.concentration.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Gamma, _instance)
        batch_shape = Size(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        new.rate = self.rate.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate ** 2

    def rsample(self, sample_shape=Size()):
        shape = tuple(self._extended_shape(sample_shape))
        x = _standard_gamma(self.concentration.expand(shape)) / self.rate.expand(shape)
        tiny = float(np.finfo(x._data.dtype).tiny)
        return x.clamp(min=tiny)

    def log_prob(self, value):
        from ..ops.elementwise import xlogy
        from ..ops.special import lgamma

        if self._validate_args:
            self._validate_sample(value)
        value = _as_tensor_like(value, self.rate)
        return (xlogy(self.concentration, self.rate) + xlogy(self.concentration - 1, value)
                - self.rate * value - lgamma(self.concentration))

    def entropy(self):
        from ..ops.special import digamma, lgamma

        c = self.concentration
        return c - self.rate.log() + lgamma(c) + (1.0 - c) * digamma(c)


def _as_tensor_like(value, like):
    from ..tensor import Tensor

    if isinstance(value, Tensor):
        return value
    from ..creation import tensor

    return tensor(value, dtype=like.dtype, device=like.device)


class Beta(Distribution):
    """The Beta distribution on [0, 1].

    Args:
        concentration1: the first shape parameter, alpha (> 0).
        concentration0: the second, beta (> 0).
        validate_args: check the arguments against their constraints.
    """
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        numbers_only = isinstance(concentration1, numbers.Number) and isinstance(concentration0, numbers.Number)
        batch_shape = Size() if numbers_only else self.concentration1.shape
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Beta, _instance)
        batch_shape = Size(batch_shape)
        new.concentration1 = self.concentration1.expand(batch_shape)
        new.concentration0 = self.concentration0.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return (self.concentration1 - 1) / (self.concentration1 + self.concentration0 - 2)

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total ** 2 * (total + 1))

    def rsample(self, sample_shape=Size()):
        """x = G1 / (G1 + G0) with G1, G0 Gamma draws; the gradient is Beta's own implicit
        one, d x / d concentration = -(dI_x / d concentration) / pdf(x), as PyTorch's."""
        from ..ops.special import BetaSample

        shape = tuple(self._extended_shape(sample_shape))
        a = self.concentration1.expand(shape)
        b = self.concentration0.expand(shape)
        dev = a.device
        g1 = _standard_gamma_draw(a._data, dev)
        g0 = _standard_gamma_draw(b._data, dev)
        xp = array_module_of(g1)
        x = g1 / (g1 + g0)
        eps = float(np.finfo(a._data.dtype).eps)
        x = xp.clip(x, np.finfo(a._data.dtype).tiny, 1 - eps / 2)
        return BetaSample.apply(a, b, x)

    def log_prob(self, value):
        from ..ops.elementwise import xlogy
        from ..ops.special import lgamma

        if self._validate_args:
            self._validate_sample(value)
        value = _as_tensor_like(value, self.concentration1)
        a, b = self.concentration1, self.concentration0
        return (xlogy(a - 1.0, value) + xlogy(b - 1.0, 1 - value)
                + lgamma(a + b) - lgamma(a) - lgamma(b))

    def entropy(self):
        from ..ops.special import digamma, lgamma

        a, b = self.concentration1, self.concentration0
        total = a + b
        log_beta = lgamma(a) + lgamma(b) - lgamma(total)
        return (log_beta - (a - 1) * digamma(a) - (b - 1) * digamma(b)
                + (total - 2) * digamma(total))

    @property
    def concentration(self):
        from ..ops.shape import stack

        return stack([self.concentration1, self.concentration0], -1)


del _wrap
