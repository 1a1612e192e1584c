"""The Distribution base class (torch.distributions.Distribution)."""
import warnings

from ..tensor import Size, Tensor
from . import constraints

__all__ = ["Distribution"]


def _fmt(value):
    """A tensor as PyTorch's messages show it (a one-element tensor by its format, which for a
    0-d tensor is its number)."""
    if value.ndim == 0:
        return f"{value.item()}"
    return repr(value)


class Distribution:
    """batch_shape and event_shape, sampling (`sample` without a graph, `rsample`
    reparameterized), `log_prob`, moments, `entropy`, `expand`, and argument validation:
    with validate_args (on by default, as PyTorch's `__debug__`), each parameter is checked
    against `arg_constraints` and each log_prob value against `support`, with PyTorch's
    messages.

    Args:
        batch_shape: the shape of the batch of distributions.
        event_shape: the shape of one sample of one distribution.
        validate_args: check parameters and log_prob values (None: the default, see
            ``set_default_validate_args``).
    """

    has_rsample = False
    has_enumerate_support = False
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value):
        """Sets whether distributions validate by default.

        Args:
            value: True or False.
        """
        if value not in (True, False):
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            try:
                arg_constraints = self.arg_constraints
            except NotImplementedError:
                arg_constraints = {}
                warnings.warn(
                    f"{self.__class__} does not define `arg_constraints`. Please set "
                    "`arg_constraints = {}` or initialize the distribution with "
                    "`validate_args=False` to turn off validation.")
            for param, constraint in arg_constraints.items():
                if constraints.is_dependent(constraint):
                    continue
                if param not in self.__dict__ and isinstance(
                        getattr(type(self), param, None), _lazy_types()):
                    continue  # (a parameter not given, derived lazily)
                value = getattr(self, param)
                valid = constraint.check(value)
                if not bool(valid.all()):
                    raise ValueError(
                        f"Expected parameter {param} ({type(value).__name__} of shape "
                        f"{tuple(value.shape)}) of distribution {self!r} to satisfy the "
                        f"constraint {constraint!r}, but found invalid values:\n{_fmt(value)}")
        super().__init__()

    def expand(self, batch_shape, _instance=None):
        """The distribution with its parameters broadcast to a new batch shape.

        Args:
            batch_shape: the new batch shape.
            _instance: an instance to fill (subclasses' internal).

        Returns:
            Distribution: a new one of the same type.
        """
        raise NotImplementedError

    @property
    def batch_shape(self):
        """The shape of the batch of distributions (a Size)."""
        return self._batch_shape

    @property
    def event_shape(self):
        """The shape of one sample of one distribution (a Size)."""
        return self._event_shape

    @property
    def arg_constraints(self):
        """The constraint of each parameter, by name (a dict)."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint the samples satisfy."""
        raise NotImplementedError

    @property
    def mean(self):
        """The mean, of the batch and event shape."""
        raise NotImplementedError

    @property
    def mode(self):
        """The mode, of the batch and event shape."""
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        """The variance, of the batch and event shape."""
        raise NotImplementedError

    @property
    def stddev(self):
        """The standard deviation, sqrt(variance)."""
        return self.variance.sqrt()

    def sample(self, sample_shape=Size()):
        """Draws without a graph (no gradient to the parameters).

        Args:
            sample_shape: the leading shape of the draws (``()``: one per distribution).

        Returns:
            Tensor: of shape sample_shape + batch_shape + event_shape.
        """
        from ..autograd import no_grad

        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        """Reparameterized draws: differentiable with respect to the parameters (where
        has_rsample).

        Args:
            sample_shape: the leading shape of the draws (``()``: one per distribution).

        Returns:
            Tensor: of shape sample_shape + batch_shape + event_shape.
        """
        raise NotImplementedError

    def sample_n(self, n):
        """Deprecated: ``sample((n,))`` (warns).

        Args:
            n: the number of draws.

        Returns:
            Tensor: of shape (n,) + batch_shape + event_shape.
        """
        warnings.warn("sample_n will be deprecated. Use .sample((n,)) instead", UserWarning)
        return self.sample(Size((n,)))

    def log_prob(self, value):
        """The log of the density (or mass) at `value`.

        Args:
            value: a Tensor whose trailing dims are event_shape (validated against the
                support with validate_args).

        Returns:
            Tensor: value's shape without event_shape, broadcast with batch_shape.
        """
        raise NotImplementedError

    def cdf(self, value):
        """The cumulative distribution function at `value`.

        Args:
            value: a Tensor.

        Returns:
            Tensor.
        """
        raise NotImplementedError

    def icdf(self, value):
        """The inverse cumulative distribution function at `value`.

        Args:
            value: a Tensor of probabilities.

        Returns:
            Tensor.
        """
        raise NotImplementedError

    def enumerate_support(self, expand=True):
        """Every value of a discrete support, along a new leading dim.

        Args:
            expand: broadcast the values over batch_shape (False: size-1 batch dims).

        Returns:
            Tensor.
        """
        raise NotImplementedError

    def entropy(self):
        """The entropy, of the batch shape.

        Returns:
            Tensor.
        """
        raise NotImplementedError

    def perplexity(self):
        """exp(entropy), of the batch shape.

        Returns:
            Tensor.
        """
        return self.entropy().exp()

    def _extended_shape(self, sample_shape=Size()):
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value):
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = value.ndim - len(self._event_shape)
        if tuple(value.shape[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(
                f"The right-most size of value must match event_shape: {value.shape} vs "
                f"{self._event_shape}.")
        actual_shape = value.shape
        expected_shape = tuple(self._batch_shape) + tuple(self._event_shape)
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    f"Value is not broadcastable with batch_shape+event_shape: {actual_shape} vs "
                    f"{Size(expected_shape)}.")
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(
                f"{self.__class__} does not define `support` to enable sample validation. Please "
                "initialize the distribution with `validate_args=False` to turn off validation.")
            return
        valid = support.check(value)
        if not bool(valid.all()):
            raise ValueError(
                f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({support!r}) of the distribution {self!r}, but found "
                f"invalid values:\n{_fmt(value)}")

    def _get_checked_instance(self, cls, _instance=None):
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method.")
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self):
        names = [k for k in self.arg_constraints if k in self.__dict__]
        args = ", ".join(
            f"{p}: {_fmt(self.__dict__[p]) if self.__dict__[p].numel() == 1 else self.__dict__[p].size()}"
            for p in names)
        return self.__class__.__name__ + "(" + args + ")"


def _lazy_types():
    from .utils import lazy_property

    return (lazy_property,)
