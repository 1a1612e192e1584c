"""Dimension arguments: PyTorch's dim (an int, a sequence, negatives) as NumPy axes."""
import numpy as np


def normalize_dims(dim, ndim, op="reduction"):
    """`dim` (None, int or sequence, negatives allowed) as a sorted tuple of axes, or None."""
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    out = []
    for d in dims:
        d = int(d)
        if not lo <= d <= hi:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {d}) "
                f"in {op}"
            )
        out.append(d % ndim if ndim else 0)
    return tuple(sorted(set(out)))
