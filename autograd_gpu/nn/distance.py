"""CosineSimilarity and PairwiseDistance layers."""
from ..ops import nn_functional as F
from .module import Module


class CosineSimilarity(Module):
    """The cosine similarity of two inputs along dim (``F.cosine_similarity``).

    Args:
        dim: the dimension of the vectors.
        eps: the lower bound of each norm.

    Shape:
        - Input1, Input2: ``(*1, D, *2)``, broadcastable to each other, D at dim.
        - Output: ``(*1, *2)``.
    """
    def __init__(self, dim=1, eps=1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return F.cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm distance of rows, norm(x1 - x2 + eps) (``F.pairwise_distance``).

    Args:
        p: the norm's order.
        eps: added to the difference.
        keepdim: keep the reduced dimension.

    Shape:
        - Input1, Input2: (N, D) or (D,), broadcastable to each other.
        - Output: (N,) or () ((N, 1) or (1,) with keepdim).
    """
    def __init__(self, p=2.0, eps=1e-6, keepdim=False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
