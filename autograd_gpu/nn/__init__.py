"""Neural-network layers, losses, and initializers (``torch.nn``'s surface)."""
from . import functional, init
from .layers import (
    ELU, GELU, Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid, SiLU,
    Softmax, Softplus, Tanh,
)
from .loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
)
from .module import Module, ModuleList, Parameter, Sequential
from .normalization import (
    BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d,
    InstanceNorm3d, LayerNorm,
)
from .sparse import Embedding

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "Linear", "Identity", "ReLU",
    "LeakyReLU", "Sigmoid", "Tanh", "GELU", "SiLU", "ELU", "Softplus", "Softmax", "LogSoftmax",
    "Dropout", "Flatten", "MSELoss", "L1Loss", "HuberLoss", "BCELoss", "BCEWithLogitsLoss",
    "CrossEntropyLoss", "NLLLoss", "functional", "init",
]
__all__ += [
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d", "InstanceNorm2d",
    "InstanceNorm3d", "LayerNorm", "GroupNorm", "Embedding",
]
