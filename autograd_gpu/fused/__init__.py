"""Fused CUDA kernels: elementwise and loss backward, and optimizer updates.

The CUDA sources live in ``kernels/`` (packaged as ``autograd_gpu/kernels``). Each op's
math is a ``__host__ __device__`` template there; :mod:`._loader` turns it into a CuPy
ElementwiseKernel on first use (nothing is imported or compiled before that, and never on
a machine without CUDA). :mod:`._grad` registers the kernels of the backward formulas (the formulas themselves
live beside their ops), and the optimizer entry points below update a parameter and its state
in one pass. The execution layer (autograd_gpu.backend.execute) chooses a kernel when its
arrays are CuPy arrays of one float dtype; nothing else calls these.
"""
from ._loader import built, kernel_dir, source
from ._optim import (
    adadelta_update,
    adagrad_update,
    adam_update,
    rmsprop_update,
    sgd_update,
)

__all__ = [
    "sgd_update",
    "adam_update",
    "rmsprop_update",
    "adagrad_update",
    "adadelta_update",
    "kernel_dir",
    "source",
    "built",
]
