"""torch.return_types: the result types of the ops that return named tuples (``max``,
``sort``, ``topk``, ``linalg_svd``, ...), as ``autograd_gpu.return_types.<name>``."""
from .ops._return_types import TYPES as _TYPES

globals().update(_TYPES)
__all__ = sorted(_TYPES)
