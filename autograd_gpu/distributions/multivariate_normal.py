"""MultivariateNormal(loc, covariance_matrix | precision_matrix | scale_tril)."""
import math

from ..tensor import Size
from . import constraints
from .distribution import Distribution
from .utils import lazy_property

__all__ = ["MultivariateNormal"]


def _batch_mv(bmat, bvec):
    return (bmat @ bvec.unsqueeze(-1)).squeeze(-1)


def _batch_mahalanobis(L, x):
    """x^T (L L^T)^-1 x for the batch, by one triangular solve (L broadcast over x's batch)."""
    from ..linalg import solve_triangular

    n = x.shape[-1]
    batch = tuple(Size(_broadcast(tuple(L.shape[:-2]), tuple(x.shape[:-1]))))
    Le = L.expand(*batch, n, n)
    xe = x.expand(*batch, n)
    y = solve_triangular(Le, xe.unsqueeze(-1), upper=False).squeeze(-1)
    return (y * y).sum(-1)


def _broadcast(*shapes):
    import numpy as np

    return np.broadcast_shapes(*shapes)


def _precision_to_scale_tril(P):
    """The lower Cholesky factor of P^-1, without forming the inverse: flip(cholesky(flip(P)))
    gives P = U U^T with U upper, and L = U^-T."""
    from .. import linalg
    from ..creation import eye
    from ..ops.shape import flip

    Lf = linalg.cholesky(flip(P, (-2, -1)))
    L_inv = flip(Lf, (-2, -1)).mT
    Id = eye(P.shape[-1], dtype=P.dtype, device=P.device)
    return linalg.solve_triangular(L_inv, Id.expand(*L_inv.shape), upper=False)


class MultivariateNormal(Distribution):
    """The multivariate normal distribution, parameterized by one of the covariance matrix, its
    inverse or its Cholesky factor.

    Args:
        loc: the mean, (..., k).
        covariance_matrix: positive-definite (..., k, k).
        precision_matrix: the inverse covariance.
        scale_tril: the lower-triangular Cholesky factor of the covariance.
        validate_args: check the arguments against their constraints.
    """
    arg_constraints = {"loc": constraints.real_vector,
                       "covariance_matrix": constraints.positive_definite,
                       "precision_matrix": constraints.positive_definite,
                       "scale_tril": constraints.lower_cholesky}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, loc, covariance_matrix=None, precision_matrix=None, scale_tril=None,
                 validate_args=None):
        from .. import linalg

        if loc.ndim < 1:
            raise ValueError("loc must be at least one-dimensional.")
        if (covariance_matrix is not None) + (scale_tril is not None) + (precision_matrix is not None) != 1:
            raise ValueError("Exactly one of covariance_matrix or precision_matrix or scale_tril "
                             "may be specified.")
        given = [(n, m) for n, m in (("scale_tril", scale_tril),
                                     ("covariance_matrix", covariance_matrix),
                                     ("precision_matrix", precision_matrix)) if m is not None]
        name, matrix = given[0]
        if matrix.ndim < 2:
            raise ValueError(f"{name} matrix must be at least two-dimensional, with optional "
                             "leading batch dimensions" if name == "scale_tril" else
                             f"{name} must be at least two-dimensional, with optional leading "
                             "batch dimensions")
        batch_shape = tuple(_broadcast(tuple(matrix.shape[:-2]), tuple(loc.shape[:-1])))
        setattr(self, name, matrix.expand(*batch_shape, *matrix.shape[-2:]))
        self.loc = loc.expand(*batch_shape, loc.shape[-1])
        event_shape = self.loc.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            self._unbroadcasted_scale_tril = linalg.cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(MultivariateNormal, _instance)
        batch_shape = Size(batch_shape)
        loc_shape = tuple(batch_shape) + tuple(self.event_shape)
        cov_shape = loc_shape + tuple(self.event_shape)
        new.loc = self.loc.expand(*loc_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(*cov_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @lazy_property
    def scale_tril(self):
        shape = tuple(self._batch_shape) + tuple(self._event_shape) * 2
        return self._unbroadcasted_scale_tril.expand(*shape)

    @lazy_property
    def covariance_matrix(self):
        L = self._unbroadcasted_scale_tril
        shape = tuple(self._batch_shape) + tuple(self._event_shape) * 2
        return (L @ L.mT).expand(*shape)

    @lazy_property
    def precision_matrix(self):
        from ..linalg import inv

        return inv(self.covariance_matrix)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        L = self._unbroadcasted_scale_tril
        return (L ** 2).sum(-1).expand(*(tuple(self._batch_shape) + tuple(self._event_shape)))

    def rsample(self, sample_shape=Size()):
        from ..creation import randn

        shape = self._extended_shape(sample_shape)
        eps = randn(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + _batch_mv(self._unbroadcasted_scale_tril, eps)

    def log_prob(self, value):
        from ..ops.shape import diagonal

        if self._validate_args:
            self._validate_sample(value)
        diff = value - self.loc
        M = _batch_mahalanobis(self._unbroadcasted_scale_tril, diff)
        half_log_det = diagonal(self._unbroadcasted_scale_tril, 0, -2, -1).log().sum(-1)
        return -0.5 * (self._event_shape[0] * math.log(2 * math.pi) + M) - half_log_det

    def entropy(self):
        from ..ops.shape import diagonal

        half_log_det = diagonal(self._unbroadcasted_scale_tril, 0, -2, -1).log().sum(-1)
        H = 0.5 * self._event_shape[0] * (1.0 + math.log(2 * math.pi)) + half_log_det
        if len(self._batch_shape) == 0:
            return H
        return H.expand(*self._batch_shape)
