"""Gamma-function family: lgamma, digamma, polygamma (torch.lgamma / digamma / polygamma).

NumPy has none of them (SciPy and cupyx.scipy do, but neither is a dependency), so they are
written here once in xp terms: lgamma by the Lanczos approximation (g = 7, 9 terms, about
1e-15 relative error for x >= 0.5) with the reflection formula below 0.5; digamma and the
polygammas of order n >= 1 by shifting x up by 12 with the recurrence and summing the
asymptotic (Euler-Maclaurin) series there, digamma with reflection for x < 0.5. Each one's
derivative is the next (lgamma' = digamma, digamma' = polygamma(1, .), polygamma(n)' =
polygamma(n + 1)), so all of them are differentiable to any order. At the poles they give
PyTorch's values: lgamma(0) = lgamma(-1) = inf, digamma(0) = -inf, digamma(-1) = nan.
"""
import math

import numpy as np

from ..autograd.node import Node
from ..backend import array_module, to_numpy_dtype
from ..tensor import Tensor

_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
# the Bernoulli numbers B_2k for k = 1..8, the asymptotic series' coefficients
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_SHIFT = 12  # the series is summed at x + 12, where 8 terms reach float64 precision


def _as_float(x):
    if x.dtype.kind in "biu":
        from ..creation import get_default_dtype

        return x.astype(to_numpy_dtype(get_default_dtype()))
    return x


def _lgamma(xp, x):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        reflect = x < 0.5
        z = xp.where(reflect, 1.0 - x, x) - 1.0  # z >= -0.5: the Lanczos sum is valid
        acc = xp.full(x.shape, _LANCZOS[0], dtype=x.dtype)
        for k in range(1, len(_LANCZOS)):
            acc = acc + _LANCZOS[k] / (z + k)
        t = z + _LANCZOS_G + 0.5
        right = 0.5 * math.log(2 * math.pi) + (z + 0.5) * xp.log(t) - t + xp.log(acc)
        # reflection: lgamma(x) = log(pi / |sin(pi x)|) - lgamma(1 - x); poles at 0, -1, ...
        left = math.log(math.pi) - xp.log(xp.abs(xp.sin(math.pi * x))) - right
        pole = reflect & (x == xp.floor(x))
        out = xp.where(reflect, xp.where(pole, xp.inf, left), right)
    return out.astype(x.dtype, copy=False)


def _digamma(xp, x):
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        reflect = x < 0.5
        y = xp.where(reflect, 1.0 - x, x)  # y >= 0.5
        acc = xp.zeros(x.shape, dtype=x.dtype)
        for k in range(_SHIFT):  # psi(y) = psi(y + 12) - sum 1 / (y + k)
            acc = acc - 1.0 / (y + k)
        w = y + _SHIFT
        w2 = 1.0 / (w * w)
        series = xp.zeros(x.shape, dtype=x.dtype)
        for k in range(len(_BERNOULLI), 0, -1):  # sum_k B_2k / (2k w^2k), by Horner
            series = (series + _BERNOULLI[k - 1] / (2 * k)) * w2
        right = acc + xp.log(w) - 0.5 / w - series
        # reflection: psi(x) = psi(1 - x) - pi / tan(pi x); at 0 -inf, at -1, -2, ... nan
        left = right - math.pi / xp.tan(math.pi * x)
        out = xp.where(reflect, left, right)
        out = xp.where(x == 0, -xp.inf, out)
        out = xp.where(reflect & (x < 0) & (x == xp.floor(x)), xp.nan, out)
    return out.astype(x.dtype, copy=False)


def _polygamma(xp, n, x):
    """psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x), zeta by the shift and Euler-Maclaurin."""
    s = n + 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        acc = xp.zeros(x.shape, dtype=x.dtype)
        for k in range(_SHIFT):
            acc = acc + (x + k) ** (-s)
        w = x + _SHIFT
        tail = w ** (1 - s) / (s - 1) + 0.5 * w ** (-s)
        # + sum_k B_2k / (2k)! * s (s+1) ... (s+2k-2) * w^(-s-2k+1)
        rising, fact = 1.0, 1.0
        for k in range(1, len(_BERNOULLI) + 1):
            b2k = _BERNOULLI[k - 1]
            rising *= (s + 2 * k - 2) * ((s + 2 * k - 3) if k > 1 else 1)
            fact *= (2 * k) * (2 * k - 1)
            tail = tail + b2k / fact * rising * w ** (-s - 2 * k + 1)
        zeta = acc + tail
        out = ((-1) ** (n + 1) * math.factorial(n)) * zeta
        pole = (x <= 0) & (x == xp.floor(x))
        out = xp.where(pole, xp.inf if n % 2 else -xp.inf, out)
    return out.astype(x.dtype, copy=False)


class Lgamma(Node):
    def forward(self, x):
        x = _as_float(x)
        self.save_for_backward(x)
        return _lgamma(array_module(x), x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * digamma(x)


class Digamma(Node):
    def forward(self, x):
        x = _as_float(x)
        self.save_for_backward(x)
        return _digamma(array_module(x), x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * polygamma(1, x)


class Polygamma(Node):
    def forward(self, x, n):
        x = _as_float(x)
        self.n = n
        self.save_for_backward(x)
        if n == 0:
            return _digamma(array_module(x), x)
        return _polygamma(array_module(x), n, x)

    def backward(self, g):
        (x,) = self.saved_tensors
        return g * polygamma(self.n + 1, x)


def lgamma(input):
    """log(abs(Gamma(x))).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Lgamma.apply(input)


def digamma(input):
    """The derivative of lgamma.

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return Digamma.apply(input)


def polygamma(n, input):
    """The n-th derivative of digamma.

    Args:
        n: the order (>= 0).
        input: the input tensor.

    Returns:
        Tensor.
    """
    if isinstance(n, Tensor) or not isinstance(n, (int, np.integer)) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(input, n=int(n))


def mvlgamma(input, p):
    """The multivariate log-gamma: sum_i lgamma(x - i/2) + p (p - 1)/4 log(pi).

    Args:
        input: the input tensor.
        p: the dimension, an int >= 1 (the sum runs over i = 0 .. p-1).

    Returns:
        Tensor.
    """
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    out = lgamma(input)
    for i in range(1, p):
        out = out + lgamma(input - i / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)


for _name in ("lgamma", "digamma", "mvlgamma"):
    if not hasattr(Tensor, _name):  # (another family may bind its own first)
        setattr(Tensor, _name, globals()[_name])
if not hasattr(Tensor, "polygamma"):
    Tensor.polygamma = lambda self, n: polygamma(n, self)
    Tensor.polygamma.__doc__ = """The n-th derivative of digamma at self: ``polygamma(n, self)``.

        Args:
            n: the order (an int >= 0).

        Returns:
            Tensor: of self's shape.
        """
del _name


# ---------------------------------------------------------------- implicit reparameterization
# A sample x = F^-1(u; theta) of a distribution with CDF F moves with theta as
# dx/dtheta = -(dF/dtheta)(x; theta) / pdf(x; theta) (Figurnov et al. 2018, "Implicit
# reparameterization gradients"), the gradient PyTorch's Gamma and Beta rsample use. The
# CDF derivatives come from series of positive terms (no cancellation), summed until the
# terms no longer change the sum in float64; PyTorch uses fitted approximations of the same
# quantities, so the two agree to about 1e-4 relative where its approximations hold.
_MAX_TERMS = 100000


def standard_gamma_grad(xp, a, x):
    """dx/da for x ~ Gamma(a, 1): P(a, x) = T0 sum_n r_n, r_n = x^n / ((a+1)...(a+n)),
    T0 = x^a e^-x / Gamma(a+1); T0 / pdf(x) = x / a, and d log(T0 r_n)/da = log x -
    psi(a + 1) - H_n with H_n = sum_{k<=n} 1/(a+k), so dx/da = -(x/a) sum_n r_n (log x -
    psi(a+1) - H_n)."""
    a, x = xp.broadcast_arrays(a.astype(np.float64), x.astype(np.float64))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        logx = xp.log(x)
        c = logx - _digamma(xp, a + 1.0)
        r = xp.ones(a.shape)
        h = xp.zeros(a.shape)
        total = c.copy()
        for n in range(1, _MAX_TERMS):
            r = r * (x / (a + n))
            h = h + 1.0 / (a + n)
            term = r * (c - h)
            total = total + term
            if n % 16 == 0 and not bool((xp.abs(term) > 1e-17 * xp.abs(total)).any()):
                break
        out = -(x / a) * total
        return xp.where(x > 0, out, 0.0)


def _beta_series_grads(xp, x, a, b):
    """(dx/da, dx/db) for x ~ Beta(a, b), by I_x(a, b) = x^a (1-x)^b / (a B(a, b)) *
    sum_n t_n, t_n = (a+b)_n / (a+1)_n x^n (DLMF 8.17.8); fast for x below the mean."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        dab = _digamma(xp, a + b)
        la = xp.log(x) - 1.0 / a - _digamma(xp, a) + dab  # d/da of the prefactor's log
        lb = xp.log1p(-x) - _digamma(xp, b) + dab
        t = xp.ones(x.shape)
        ha = xp.zeros(x.shape)
        hb = xp.zeros(x.shape)
        s = t.copy()
        sa = xp.zeros(x.shape)
        sb = xp.zeros(x.shape)
        for n in range(1, _MAX_TERMS):
            k = n - 1
            ha = ha + 1.0 / (a + b + k) - 1.0 / (a + 1 + k)
            hb = hb + 1.0 / (a + b + k)
            t = t * x * (a + b + k) / (a + 1 + k)
            s = s + t
            sa = sa + t * ha
            sb = sb + t * hb
            if n % 16 == 0 and not bool((t > 1e-17 * s).any()):
                break
        scale = -x * (1 - x) / a
        return scale * (la * s + sa), scale * (lb * s + sb)


def beta_grads(xp, a, b, x):
    """(dx/da, dx/db) for x ~ Beta(a, b); above the mean through I_x(a, b) = 1 - I_{1-x}(b, a)."""
    a, b, x = xp.broadcast_arrays(a.astype(np.float64), b.astype(np.float64), x.astype(np.float64))
    lower = x <= (a + 1) / (a + b + 2)
    xs = xp.where(lower, x, 1 - x)
    p, q = xp.where(lower, a, b), xp.where(lower, b, a)
    dp, dq = _beta_series_grads(xp, xs, p, q)
    # above: y = 1 - x ~ Beta(b, a): dx/da = -dy/dq, dx/db = -dy/dp
    da = xp.where(lower, dp, -dq)
    db = xp.where(lower, dq, -dp)
    edge = (x <= 0) | (x >= 1)
    return xp.where(edge, 0.0, da), xp.where(edge, 0.0, db)


class _ReparamGrad(Node):
    """The implicit-gradient factors as a recorded constant: PyTorch defines no derivative
    for them (aten::_standard_gamma_grad, _dirichlet_grad), so a second backward raises."""

    def forward(self, *arrays, kind):
        self.kind = kind
        xp = array_module(arrays[-1])
        if kind == "gamma":
            alpha, x = arrays
            return standard_gamma_grad(xp, alpha, x).astype(x.dtype, copy=False)
        a, b, x = arrays
        da, db = beta_grads(xp, a, b, x)
        return da.astype(x.dtype, copy=False), db.astype(x.dtype, copy=False)

    def backward(self, *grads):
        op = "_standard_gamma_grad" if self.kind == "gamma" else "_dirichlet_grad"
        raise RuntimeError(f"derivative for aten::{op} is not implemented")


class StandardGammaSample(Node):
    """A Gamma(alpha, 1) sample drawn beforehand (`values`), differentiable in alpha by the
    implicit gradient (standard_gamma_grad)."""

    name = "StandardGammaBackward0"

    def forward(self, alpha, values):
        self.shape = alpha.shape
        out = values.astype(alpha.dtype, copy=False)
        self.save_for_backward(alpha, out)
        return out

    def backward(self, g):
        alpha, x = self.saved_tensors
        return g * _ReparamGrad.apply(alpha, x, kind="gamma")


class BetaSample(Node):
    """A Beta(a, b) sample drawn beforehand (`values`), differentiable in a and b by the
    implicit gradient (beta_grads); a, b and the sample share one shape."""

    name = "DirichletBackward0"

    def forward(self, a, b, values):
        out = values.astype(a.dtype, copy=False)
        self.save_for_backward(a, b, out)
        return out

    def backward(self, g):
        a, b, x = self.saved_tensors
        da, db = _ReparamGrad.apply(a, b, x, kind="beta")
        return g * da, g * db
