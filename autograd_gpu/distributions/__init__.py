"""torch.distributions: parameterized probability distributions, their samples (from this
library's generators: seeded by `manual_seed`, not PyTorch's numbers), reparameterized
samples (`rsample`, differentiable), log densities, moments, entropies and KL divergences
with PyTorch's formulas, argument validation with PyTorch's messages."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical, OneHotCategorical
from .distribution import Distribution
from .gamma import Beta, Gamma
from .independent import Independent
from .kl import kl_divergence, register_kl
from .multivariate_normal import MultivariateNormal
from .normal import Normal
from .uniform import Uniform

__all__ = [
    "Bernoulli", "Beta", "Categorical", "Distribution", "Gamma", "Independent",
    "MultivariateNormal", "Normal", "OneHotCategorical", "Uniform", "constraints",
    "kl_divergence", "register_kl",
]
