"""Optimizers (``torch.optim``'s surface) and learning-rate schedules.

Updates run under no_grad, in place, one parameter at a time through the array functions
in `_functional` (on CUDA, one fused kernel per parameter update)."""
from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "NAdam",
           "RAdam", "Adamax", "ASGD", "Rprop", "LBFGS", "lr_scheduler"]
