"""autograd_gpu: PyTorch-style reverse-mode autograd on NumPy (CPU) and CuPy (CUDA) arrays.

    import autograd_gpu as ag
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    x.grad  # tensor([2., 4.])
"""
from . import backend, cuda
from .backend import (
    bool, device, double, dtype, float, float16, float32, float64, half, int, int8, int16,
    int32, int64, long, short, uint8,
)
from .backend import get_default_device, get_num_threads, set_default_device, set_num_threads
from .tensor import Size, Tensor
from . import _formatting  # noqa: F401  (Tensor's repr)
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .ops.arithmetic import add, div, divide, mul, multiply, neg, negative, pow, sub, subtract, true_divide
from .ops.elementwise import (
    abs, ceil, clamp, clip, cos, elu, eq, exp, floor, ge, gelu, gt, isfinite,
    isinf, isnan, le, leaky_relu, log, log1p, logical_and, logical_not, logical_or, logical_xor, lt, maximum, minimum, ne, relu, round,
    rsqrt, sigmoid, sign, silu, sin, softplus, sqrt, square, tan, tanh, trunc, where,
)
from .ops.reduction import (
    amax, amin, argmax, argmin, log_softmax, logsumexp, max, mean, min, norm, prod, softmax, std,
    sum, var,
)
from .ops.shape import (
    broadcast_tensors, broadcast_to, cat, chunk, clone, concat, concatenate, expand, flatten,
    permute, reshape, split, squeeze, stack, swapaxes, swapdims, t, transpose, unflatten,
    unsqueeze,
)
from .ops.shape import (  # flips, repeats, triangles, diagonals, stacks and splits
    atleast_1d, atleast_2d, atleast_3d, block_diag, cartesian_prod, column_stack, combinations,
    diag, diag_embed, diagonal, dsplit, dstack, flip, fliplr, flipud, hsplit, hstack, meshgrid,
    moveaxis, movedim, narrow, roll, rot90, row_stack, select, tensor_split,
    tile, trace, tril, tril_indices, triu, triu_indices, unbind, vsplit, vstack,
)
from .ops.indexing import gather, index_select, masked_fill, nonzero, repeat_interleave
from .ops.indexing import (  # gather / scatter family
    argwhere, index_add, index_copy, index_fill, index_put, masked_scatter, masked_select, put,
    scatter, scatter_add, scatter_reduce, take, take_along_dim,
)
from .ops.scan import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.sorting import (
    argsort, bucketize, kthvalue, median, mode, msort, nanmedian, nanquantile, quantile,
    searchsorted, sort, topk, unique, unique_consecutive,
)
from .ops.sorting import bincount, histc  # noqa: E402  (counts and histograms)
from .ops.linalg import bmm, dot, ger, inner, inverse, matmul, mm, mv, outer, pinv, pinverse, solve
from .ops.arithmetic import addcdiv, addcmul, lerp  # fused multiply-adds, interpolation
from .ops.elementwise import (  # more math, tests and comparisons
    acos, acosh, allclose, arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, asin,
    asinh, atan, atan2, atanh, clamp_max, clamp_max_, clamp_min, clamp_min_, copysign, cosh,
    equal, erf, erfc, erfinv,
    exp2, expm1, floor_divide, fmod, frac, heaviside, hypot, isclose, isneginf, isposinf,
    isreal, log2, log10, logaddexp, logaddexp2, logit, nan_to_num, reciprocal, remainder,
    signbit, sinc, sinh, xlogy,
)
from .ops.reduction import (  # NaN-aware, logical and paired reductions
    aminmax, all, any, count_nonzero, dist, nanmean, nansum, std_mean, var_mean,
)
from .ops.linalg import (  # products with an added input, einsum, determinants
    addbmm, addmm, addmv, baddbmm, cdist, cross, det, einsum, kron, logdet, matrix_power,
    slogdet, tensordot,
)
from .ops import construct as _construct  # noqa: F401  (new_*, resize_, stride, ... on Tensor)
from .backend import bfloat16, finfo, iinfo
import math as _math

pi, e, inf, nan = _math.pi, _math.e, _math.inf, _math.nan  # as torch.pi, torch.e, ...
from .creation import (
    Generator, arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,
    get_default_dtype, initial_seed, linspace, logspace, manual_seed, ones, ones_like, rand,
    rand_like, randint, randn, randn_like, randperm, seed, set_default_dtype, tensor, zeros,
    zeros_like,
)
from .creation import (  # samplers
    bernoulli, get_rng_state, multinomial, normal, poisson, randint_like, set_rng_state,
)
from . import autograd
from . import accelerator  # noqa: E402
from ._legacy import (  # noqa: E402  (legacy tensor types: constructors and type tests)
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor,
    LongTensor, ShortTensor,
)

__version__ = "0.1.0"


def is_tensor(obj):
    """True if obj is an autograd_gpu Tensor.

    Args:
        obj: any object.

    Returns:
        bool.
    """
    return isinstance(obj, Tensor)


def is_floating_point(input):
    """True if input's dtype is a floating-point one (float16, float32, float64).

    Args:
        input: the input tensor.

    Returns:
        bool.
    """
    return input.is_floating_point()


def numel(input):
    """The number of elements of input.

    Args:
        input: the input tensor.

    Returns:
        int.
    """
    return input.numel()


def detach(input):
    """A new tensor sharing input's data, cut off from the graph (``input.detach()``).

    Args:
        input: the input tensor.

    Returns:
        Tensor.
    """
    return input.detach()


from . import nn, optim  # noqa: E402
from .serialization import load, save  # noqa: E402


from . import func, viz  # noqa: E402  (transforms and graph drawings on top of the core)
from . import utils  # noqa: E402  (utils.data: datasets, samplers, DataLoader)
from . import distributed  # noqa: E402  (torch.distributed's API; loads mpi4py/CuPy only at init)
from . import random  # noqa: E402  (torch.random: fork_rng, get/set_rng_state, seeds)
from .backend import OutOfMemoryError  # noqa: E402  (also autograd_gpu.cuda.OutOfMemoryError)
from . import amp, backends, version  # noqa: E402  (mixed precision, backend switches, versions)
from .amp import autocast, get_autocast_dtype, is_autocast_enabled  # noqa: E402
from .backends import get_float32_matmul_precision, set_float32_matmul_precision  # noqa: E402
from ._eager_api import compile, inference_mode, is_inference_mode_enabled  # noqa: E402
from .amp import _cuda_alias as _cuda_amp  # noqa: E402  (torch.cuda.amp's deprecated names)

cuda.amp = _cuda_amp
import sys as _sys  # noqa: E402

_sys.modules[__name__ + ".cuda.amp"] = _cuda_amp  # so `from autograd_gpu.cuda.amp import ...` works
from .ops.special import digamma, lgamma, mvlgamma, polygamma  # noqa: E402  (gamma-function family)
from . import linalg, distributions  # noqa: E402  (torch.linalg, torch.distributions)
from . import return_types  # noqa: E402  (torch.return_types: after every op module)
from .utils.dlpack import from_dlpack  # noqa: E402  (zero-copy exchange through DLPack)
from .ops import _out  # noqa: E402  (out= on the public functions that take it in PyTorch)

_out.install(globals())
from .ops import _device  # noqa: E402  (ops that work on raw arrays run on their inputs' device)

_device.install()
