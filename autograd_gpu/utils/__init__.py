"""Utilities on top of the library, as ``torch.utils``: ``data`` (datasets, samplers and the
DataLoader)."""
from . import data
from . import dlpack  # (torch.utils.dlpack: from_dlpack, to_dlpack; Tensor.__dlpack__)

__all__ = ["data", "dlpack"]
