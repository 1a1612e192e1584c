"""Channel-wise and alpha dropout layers: Dropout1d, Dropout2d, Dropout3d (whole channels
zeroed with probability p), AlphaDropout and FeatureAlphaDropout (for SELU networks). All
are the identity in eval mode."""
from ..ops import nn_functional as F
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    """Zeros whole channels of (N, C, L) input with probability p in training, scaling the rest
    by 1/(1-p).

    Args:
        p: the probability of a channel to be zeroed (in [0, 1]).
        inplace: in training mode, write the result into input.

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: the input's shape.
    """
    def forward(self, input):
        return F.dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zeros whole channels of (N, C, H, W) input with probability p in training, scaling the
    rest by 1/(1-p).

    Args:
        p: the probability of a channel to be zeroed (in [0, 1]).
        inplace: in training mode, write the result into input.

    Shape:
        - Input: (N, C, H, W) or (C, H, W) (a 3-D input warns and is read as (N, C, L), as
          PyTorch's).
        - Output: the input's shape.
    """
    def forward(self, input):
        return F.dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    """Zeros whole channels of (N, C, D, H, W) input with probability p in training, scaling the
    rest by 1/(1-p).

    Args:
        p: the probability of a channel to be zeroed (in [0, 1]).
        inplace: in training mode, write the result into input.

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W).
        - Output: the input's shape.
    """
    def forward(self, input):
        return F.dropout3d(input, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: dropped values are set to SELU's saturation value and the
    result is rescaled so mean and variance stay.

    Args:
        p: the probability of an element to be dropped (in [0, 1]).
        inplace: write the result into the input and return it.

    Shape:
        - Input: ``(*)``, any shape.
        - Output: ``(*)``, the input's shape.
    """
    def forward(self, input):
        return F.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(_DropoutNd):
    """Alpha dropout of whole channels (dim 1 of ``(N, C, *)`` input).

    Args:
        p: the probability of a channel to be dropped (in [0, 1]).
        inplace: write the result into the input and return it.

    Shape:
        - Input: ``(N, C, *)`` or ``(C, *)``.
        - Output: the input's shape.
    """
    def forward(self, input):
        return F.feature_alpha_dropout(input, self.p, self.training, self.inplace)
