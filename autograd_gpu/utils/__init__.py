"""Utilities on top of the library, as ``torch.utils``: ``data`` (datasets, samplers and the
DataLoader)."""
from . import data

__all__ = ["data"]
