"""torch.linalg: norms, inverses and solvers, determinants, decompositions, products.

Names, signatures, named-tuple results and error messages are PyTorch 2.13's. The ops that
already existed (inverse, solve, pinverse, det, slogdet, matrix_power, cross, matmul) are
used as they are; the decompositions are in ops/decompositions.py. Gradients are PyTorch's,
including at its documented degenerate cases (see ops/decompositions.py: svd / eigh
gradients through singular vectors / eigenvectors are inf or nan at repeated values).
"""
import builtins
import math

import numpy as np

from .ops import decompositions as _dec
from .ops import linalg as _la
from .ops.decompositions import LinAlgError, solve_triangular  # noqa: F401
from .ops._return_types import return_type
from .ops.reduction import amax as _amax, amin as _amin, named as _named, norm as _norm
from .ops.reduction import normalize_dims as _normalize_dims, sum as _sum
from .tensor import Tensor, _wrap

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eigh",
    "eigvalsh", "inv", "inv_ex", "lstsq", "matmul", "matrix_norm", "matrix_power", "matrix_rank",
    "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd",
    "svdvals", "vecdot", "vector_norm",
]

# the result types, named as PyTorch's torch.return_types.linalg_*
SvdResult = return_type("linalg_svd", ("U", "S", "Vh"))
EighResult = return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))
QrResult = return_type("linalg_qr", ("Q", "R"))
SlogdetResult = return_type("linalg_slogdet", ("sign", "logabsdet"))
CholeskyExResult = return_type("linalg_cholesky_ex", ("L", "info"))
InvExResult = return_type("linalg_inv_ex", ("inverse", "info"))
SolveExResult = return_type("linalg_solve_ex", ("result", "info"))
LstsqResult = return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))


def _type_name(t):
    from .tensor import _TORCH_TYPE_NAMES

    return _TORCH_TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)


def _tensor_arg(A, op, name="A"):
    if not isinstance(A, Tensor):
        raise TypeError(f"{op}(): argument '{name}' (position 1) must be Tensor, not "
                        f"{type(A).__name__}")


def _matrix(A, op, square=True, floating=True, name="A"):
    """PyTorch's checks for a (batch of) matrices, in its order and words."""
    _tensor_arg(A, op)
    if A.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if floating and A._data.dtype.kind != "f":
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(A)}")
    if square and A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")


def _info_tensor(info_raw):
    return _wrap(info_raw.astype(np.int32, copy=False))


def _singular_error(op, info_raw, batched, what):
    host = _dec._host(info_raw)
    k = _dec._first_index(host != 0)
    order = int(host.reshape(-1)[k])
    prefix = _dec._batch_prefix(k, batched)
    if what == "inv":
        return LinAlgError(f"{op}: {prefix}The diagonal element {order} is zero, the inversion "
                           "could not be completed because the input matrix is singular.")
    return LinAlgError(f"torch.linalg.solve: {prefix}The solver failed because the input matrix "
                       "is singular.")


def _eps(A):
    return float(np.finfo(A._data.dtype).eps)


# ---------------------------------------------------------------- products


def matmul(input, other, *, out=None):
    """The matrix product of input and other (``torch.matmul``).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.
        out: accepted for PyTorch's signature and ignored (the result is returned).

    Returns:
        Tensor.
    """
    return _la.matmul(input, other)


def vecdot(x, y, *, dim=-1):
    """sum(x * y, dim) (the inputs broadcast; real tensors, so no conjugation).

    Args:
        x: the first tensor.
        y: the second tensor, broadcast with x.
        dim: the dimension along which the dot products are taken.

    Returns:
        Tensor: the broadcast shape less dim.
    """
    if x.ndim == 1 and y.ndim == 1 and x.shape[0] != y.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{x.shape[0]}] and src [{y.shape[0]}] to "
            f"have the same number of elements, but got {x.shape[0]} and {y.shape[0]} elements "
            "respectively")
    return _sum(x * y, dim)


def cross(input, other, *, dim=-1):
    """The cross product of 3-vectors along dim (inputs broadcast).

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.
        dim: the dimension of size 3.

    Returns:
        Tensor.
    """
    return _la.linalg_cross(input, other, dim=dim)


def multi_dot(tensors, *, out=None):
    """The product of 2 or more matrices, multiplied in the order of fewest flops (the
    first may be 1-D, a row vector; the last 1-D, a column vector).

    Args:
        tensors: a sequence of 2 or more tensors, 2-D except possibly the first and last.

    Returns:
        Tensor: the product, with the 1-D ends' dimensions dropped.
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    mats = list(tensors)
    if first.ndim == 1:
        mats[0] = first.reshape(1, -1)
    if last.ndim == 1:
        mats[-1] = last.reshape(-1, 1)
    for i in range(len(mats) - 1):
        if mats[i].shape[1] != mats[i + 1].shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i} and {i + 1} with shapes {list(tensors[i].shape)} and "
                f"{list(tensors[i + 1].shape)} cannot be multiplied")
    dims = [m.shape[0] for m in mats] + [mats[-1].shape[1]]
    order = _chain_order(dims)

    def product(i, j):
        if i == j:
            return mats[i]
        k = order[i][j]
        return _la.matmul(product(i, k), product(k + 1, j))

    out = product(0, len(mats) - 1)
    if first.ndim == 1 and last.ndim == 1:
        return out.reshape(())
    if first.ndim == 1:
        return out.reshape(-1)
    if last.ndim == 1:
        return out.reshape(-1)
    return out


def _chain_order(dims):
    """The matrix-chain split points (dynamic programming over the flops)."""
    n = len(dims) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + dims[i] * dims[k + 1] * dims[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal of the last two dimensions (a view).

    Args:
        A: the input tensor.
        offset: which diagonal (0 main, >0 above, <0 below).
        dim1: the first dimension of the matrices.
        dim2: the second one.

    Returns:
        Tensor.
    """
    from .ops.shape import diagonal as _diagonal

    return _diagonal(A, offset, dim1, dim2)


# ---------------------------------------------------------------- norms


def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """The vector ord-norm over `dim` (all elements when None): ord in R or +-inf; 0 counts
    the nonzero elements. Gradients as PyTorch's: 0 where the norm is 0; inf-norms split
    between the tied largest (smallest) magnitudes.

    Args:
        x: the input tensor (floating).
        ord: the order of the norm, a number or +-inf.
        dim: the dimension, or a tuple of them (None: all elements, as one vector).
        keepdim: keep reduced dimensions with size 1.
        dtype: x is cast to this dtype first (None: x's dtype).

    Returns:
        Tensor.
    """
    _tensor_arg(x, "linalg_vector_norm", "input")
    if isinstance(ord, str) or isinstance(ord, bool) or not isinstance(ord, (int, float)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not "
                        f"{type(ord).__name__}")
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(x)}")
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(dim, (list, tuple)) and len(dim) == 0:
        dim = None
    if dim is None and keepdim:
        out = vector_norm(x, ord, tuple(range(x.ndim)), True)
        return out
    if dim is None:
        x, dim = x.reshape(-1), 0
    ord = float(ord)
    if ord == 0:  # the count, with the zero gradient PyTorch gives it
        from .ops.elementwise import where

        never = x._xp().zeros((), dtype=bool)
        out = _sum((x != 0).to(x.dtype), dim, keepdim) + _sum(where(never, x, 0.0), dim, keepdim)
    elif ord == 1:
        from .ops.elementwise import abs as _abs

        out = _sum(_abs(x), dim, keepdim)
    else:
        out = _norm(x, 2 if ord == 2 else ord, dim, keepdim)
    return _named(out, "LinalgVectorNormBackward0")


def _two_dims(dim, ndim, op="linalg.matrix_norm"):
    if not isinstance(dim, (list, tuple)) or len(dim) != 2:
        raise RuntimeError(f"{op}: dim must be a 2-tuple. Got {dim if not isinstance(dim, (list, tuple)) else ' '.join(str(d) for d in dim)}")
    d0, d1 = (_normalize_dims(d, ndim, op)[0] for d in dim)
    if d0 == d1:
        raise RuntimeError(f"{op}: dims must be different. Got ({dim[0]}, {dim[1]})")
    return d0, d1


def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """The matrix norms 'fro', 'nuc' (sum of singular values), 2 / -2 (largest / smallest
    singular value), 1 / -1 (max / min column sum of |A|), inf / -inf (max / min row sum).

    Args:
        A: the matrices, shape (..., m, n) (floating).
        ord: the norm: ``'fro'``, ``'nuc'``, 2, -2, 1, -1, inf or -inf.
        dim: the 2 dimensions that hold the matrices.
        keepdim: keep the 2 reduced dimensions with size 1.
        dtype: A is cast to this dtype first (None: A's dtype).

    Returns:
        Tensor: one norm per matrix.
    """
    _tensor_arg(A, "linalg_matrix_norm")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(A)}")
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = _two_dims(dim, A.ndim)
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
        if ord == "fro":
            return vector_norm(A, 2, (d0, d1), keepdim)
        s = svdvals(A.movedim((d0, d1), (-2, -1)))
        out = _sum(s, -1)
    else:
        if ord not in (1, -1, 2, -2, math.inf, -math.inf):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord:g} not supported.")
        if abs(ord) == 2:
            s = svdvals(A.movedim((d0, d1), (-2, -1)))
            out = (_amax if ord > 0 else _amin)(s, -1)
        else:
            from .ops.elementwise import abs as _abs

            # 1: the largest column sum (sum over rows d0, then max over d1); inf: rows
            over, pick = (d0, d1) if abs(ord) == 1 else (d1, d0)
            sums = _sum(_abs(A), over, keepdim)
            if not keepdim and pick > over:
                pick -= 1
            return (_amax if ord > 0 else _amin)(sums, pick, keepdim)
    if keepdim:
        lo, hi = builtins.min(d0, d1), builtins.max(d0, d1)
        out = out.unsqueeze(lo).unsqueeze(hi)
    return out


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """vector_norm or matrix_norm, as PyTorch chooses: a 2-tuple `dim` (or a 2-D input with an
    `ord` and no `dim`) is a matrix norm; otherwise a vector norm (ord=None: the 2-norm of
    all elements).

    Args:
        A: the input tensor (floating).
        ord: the order of the norm (see vector_norm and matrix_norm; None: 2 / ``'fro'``).
        dim: an int or a 1-tuple (a vector norm), a 2-tuple (a matrix norm), or None.
        keepdim: keep reduced dimensions with size 1.
        dtype: A is cast to this dtype first (None: A's dtype).

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> torch.linalg.norm(torch.tensor([3.0, 4.0]))
        tensor(5.)
        >>> torch.linalg.norm(torch.tensor([[1.0, -2.0], [3.0, 4.0]]), ord=1)
        tensor(6.)
    """
    _tensor_arg(A, "linalg_norm")
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        if len(dim) == 1:
            if isinstance(ord, str):
                raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. "
                                   f"Got {list(dim)}")
            return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
        if len(dim) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dim, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it mut be of length 1 or 2. Got "
                           f"{list(dim)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1:
        if isinstance(ord, str):
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.")
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D "
                       f"or 2D. Got {A.ndim}D.")


def cond(A, p=None):
    """The condition number: s_max / s_min for p None or 2 (s_min / s_max for -2), else
    norm(A, p) * norm(inv(A), p).

    Args:
        A: the matrices, shape (..., m, n) (square unless p is None, 2 or -2).
        p: the matrix norm's order (see matrix_norm; None: 2).

    Returns:
        Tensor: one condition number per matrix.
    """
    _matrix(A, "linalg.cond", square=p not in (None, 2, -2))
    if p in (None, 2, -2):
        s = svdvals(A)
        big, small = _amax(s, -1), _amin(s, -1)
        return big / small if p != -2 else small / big
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


# ---------------------------------------------------------------- inverses and solvers


def inv(A, *, out=None):
    """The inverse of a square matrix (or a batch).

    Args:
        A: the matrices, shape (..., n, n).
        out: accepted for PyTorch's signature and ignored (the result is returned).

    Returns:
        Tensor.
    """
    _matrix(A, "linalg.inv")
    try:
        return _la.inverse(A)
    except RuntimeError as e:
        if "singular" not in str(e):
            raise
        raise _singular_error("linalg.inv", _dec.lu_info(A._data), A.ndim > 2, "inv") from None


def inv_ex(A, *, check_errors=False, out=None):
    """(inverse, info): info is 0, or the index of the first zero pivot of LU (the
    inverse of such a matrix is NaN here; PyTorch leaves it undefined).

    Args:
        A: the square matrices, shape (..., n, n).
        check_errors: raise, as inv does, when a matrix is singular.

    Returns:
        (inverse, info): a named tuple; info is int32, one per matrix.
    """
    _matrix(A, "linalg.inv_ex")
    info = _dec.lu_info(A._data)
    singular = info != 0
    if not bool(singular.any()):
        return InvExResult(_la.inverse(A), _info_tensor(info))
    if check_errors:
        raise _singular_error("linalg.inv_ex", info, A.ndim > 2, "inv")
    from .ops.elementwise import where

    xp = A._xp()
    eye = xp.eye(A.shape[-1], dtype=A._data.dtype)
    mask = singular[..., None, None]
    y = _la.inverse(where(mask, eye, A))
    return InvExResult(where(mask, math.nan, y), _info_tensor(info))


def _is_vector_rhs(A, B):
    return B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))


def solve(A, B, *, left=True, out=None):
    """X with A X = B (left=False: X A = B). B is a (batch of) vector(s) when it is 1-D or
    has A's batch shape plus n, as PyTorch decides; batch dimensions broadcast.

    Args:
        A: the square matrices, shape (..., n, n).
        B: the right-hand sides, shape (..., n, k), or (..., n) for vectors.
        left: solve A X = B (True) or X A = B (False).

    Returns:
        Tensor: X, of B's (broadcast) shape.

    Examples:
        >>> import autograd_gpu as torch
        >>> A = torch.tensor([[2.0, 0.0], [0.0, 4.0]])
        >>> torch.linalg.solve(A, torch.tensor([2.0, 2.0]))
        tensor([1.0000, 0.5000])
    """
    _matrix(A, "linalg.solve")
    if not left:
        return solve(A.mT, B.mT, left=True).mT
    vector = _is_vector_rhs(A, B)
    # (batch dims broadcast explicitly: CuPy's solve does not broadcast them)
    if vector:
        batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-1]))
        Ae = A.expand(*batch, *A.shape[-2:]) if tuple(A.shape[:-2]) != batch else A
        Be = B.expand(*batch, B.shape[-1]) if tuple(B.shape[:-1]) != batch else B
    else:
        if B.ndim >= 2:
            try:
                batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
            except ValueError:
                batch = None
        else:
            batch = None
        Ae, Be = A, B
        if batch is not None:
            if tuple(A.shape[:-2]) != batch:
                Ae = A.expand(*batch, *A.shape[-2:])
            if tuple(B.shape[:-2]) != batch:
                Be = B.expand(*batch, *B.shape[-2:])
    try:
        return _la.solve(Ae, Be)
    except RuntimeError as e:
        if "singular" not in str(e):
            raise
        raise _singular_error("linalg.solve", _dec.lu_info(A._data), A.ndim > 2, "solve") from None


def solve_ex(A, B, *, left=True, check_errors=False, out=None):
    """solve that also returns an info tensor (zeros where solved).

    Args:
        A: the matrices (..., n, n).
        B: the right-hand sides.
        left: solve A X = B (True) or X A = B.
        check_errors: raise on a singular matrix.
        out: accepted for PyTorch's signature and ignored (the result is returned).

    Returns:
        named tuple (result, info).
    """
    _matrix(A, "linalg.solve_ex")
    info = _dec.lu_info(A._data)
    if bool((info != 0).any()) and check_errors:
        raise _singular_error("linalg.solve_ex", info, A.ndim > 2, "solve")
    return SolveExResult(solve(A, B, left=left), _info_tensor(info))


def det(A, *, out=None):
    """The determinant of square matrices.

    Args:
        A: the matrices (..., n, n).
        out: accepted for PyTorch's signature and ignored (the result is returned).

    Returns:
        Tensor.
    """
    return _la.det(A)


def slogdet(A, *, out=None):
    """The sign and log of the absolute determinant.

    Args:
        A: the matrices (..., n, n).
        out: accepted for PyTorch's signature and ignored (the result is returned).

    Returns:
        named tuple (sign, logabsdet).
    """
    sign, logabs = _la.slogdet(A)
    return SlogdetResult(sign, logabs)


def matrix_power(A, n, *, out=None):
    """The n-th power of a square matrix (negative n through the inverse).

    Args:
        A: the matrices (..., m, m).
        n: the integer power.
        out: accepted for PyTorch's signature and ignored (the result is returned).

    Returns:
        Tensor.
    """
    return _la.matrix_power(A, n)


def pinv(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The pseudo-inverse; singular values <= max(atol, rtol * s_max) count as 0, rtol by
    default eps * max(m, n) (0 when only a positive atol is given), as PyTorch.

    Args:
        A: the matrices, shape (..., m, n) (floating).
        atol: the absolute tolerance, a number or a tensor (None: 0).
        rtol: the tolerance relative to the largest singular value (None: as above).
        hermitian: A is symmetric (its eigendecomposition is used).

    Returns:
        Tensor: shape (..., n, m).
    """
    _tensor_arg(A, "linalg_pinv")
    if A.ndim < 2 or A._data.dtype.kind != "f":
        shape = ", ".join(str(n) for n in A.shape)
        name = {"float32": "Float", "float64": "Double"}.get(A._data.dtype.name, _type_name(A))
        raise RuntimeError(f"linalg.pinv({name}{{[{shape}]}}): expected a tensor with 2 or more "
                           "dimensions of float, double, cfloat or cdouble types")
    atol_raw, rtol_raw = _tolerances(A, atol, rtol)
    return _dec.LinalgPinv.apply(A, atol=atol_raw, rtol=rtol_raw, hermitian=bool(hermitian))


def _tolerances(A, atol, rtol):
    def raw(t):
        return t._data if isinstance(t, Tensor) else (None if t is None else float(t))

    atol_raw, rtol_raw = raw(atol), raw(rtol)
    if rtol_raw is None:
        positive_atol = atol_raw is not None and (
            bool((atol_raw > 0).all()) if hasattr(atol_raw, "shape") else atol_raw > 0)
        rtol_raw = 0.0 if positive_atol else _eps(A) * builtins.max(A.shape[-2], A.shape[-1])
    return atol_raw, rtol_raw


def matrix_rank(A, *, atol=None, rtol=None, hermitian=False, out=None):
    """The number of singular values (|eigenvalues| when hermitian) above max(atol,
    rtol * s_max), int64.

    Args:
        A: the matrices, shape (..., m, n).
        atol: the absolute tolerance, a number or a tensor (None: 0).
        rtol: the tolerance relative to the largest singular value (None: eps * max(m, n),
            or 0 when only a positive atol is given).
        hermitian: A is symmetric (its eigenvalues are used).

    Returns:
        Tensor: int64, one rank per matrix.
    """
    _tensor_arg(A, "linalg_matrix_rank")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 "
                           "dimensions.")
    atol_raw, rtol_raw = _tolerances(A, atol, rtol)
    xp = A._xp()
    a = A._data
    s = xp.abs(xp.linalg.eigvalsh(a)) if hermitian else xp.linalg.svd(a, compute_uv=False)
    return _wrap(xp.asarray((s > _dec._cutoff(xp, s, atol_raw, rtol_raw)).sum(axis=-1)).astype(np.int64))


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A, B, rcond=None, *, driver=None):
    """The least-squares solution of A X = B (minimum-norm where A is rank-deficient), with
    PyTorch's CPU outputs per driver: residuals (||A X - B||^2 per column) for gels, gelsd
    and gelss when m > n and A has full rank; rank for gelsy (the default), gelsd and gelss;
    singular values for gelsd and gelss; the others are empty. The solution is computed
    through the SVD for every driver (its value agrees with LAPACK's to rounding).

    Args:
        A: the matrices, shape (..., m, n) (floating).
        B: the right-hand sides, shape (..., m, k), or (..., m) for vectors; A's dtype.
        rcond: singular values <= rcond * s_max count as 0 (None: eps * max(m, n)).
        driver: ``'gelsy'`` (None), ``'gels'``, ``'gelsd'`` or ``'gelss'``: which of the
            other outputs are filled.

    Returns:
        (solution, residuals, rank, singular_values): a named tuple.
    """
    _tensor_arg(A, "linalg_lstsq")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    if B.ndim < 1:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if A._data.dtype != B._data.dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same "
                           f"dtype, but got input's dtype {_type_name(A)} and other's dtype "
                           f"{_type_name(B)}")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"torch.linalg.lstsq: Expected a floating point or complex tensor as "
                           f"input. Got {_type_name(A)}")
    driver = "gelsy" if driver is None else driver
    if driver not in _DRIVERS:
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of "
                           "(gels, gelsy, gelsd, gelss)")
    vector = _is_vector_rhs(A, B)
    m, n = A.shape[-2], A.shape[-1]
    rows = B.shape[-1] if vector else B.shape[-2]
    if rows != m:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    if rcond is None:
        rcond = _eps(A) * builtins.max(m, n)
    rcond = float(rcond)
    solution = _dec.LstsqSolution.apply(A, B, rcond=rcond, vector=vector)
    xp = A._xp()
    s = xp.linalg.svd(A._data, compute_uv=False)
    rank = xp.asarray((s > _dec._cutoff(xp, s, None, rcond)).sum(axis=-1)).astype(np.int64)
    empty = xp.zeros((0,), dtype=A._data.dtype)
    residuals = _wrap(empty)
    if driver != "gelsy" and m > n and bool((rank == n).all()):
        x = solution.unsqueeze(-1) if vector else solution
        bm = B.unsqueeze(-1) if vector else B
        r = _la.matmul(A, x) - bm
        residuals = _sum(r * r, -2)
        if vector:
            residuals = residuals.reshape(tuple(residuals.shape[:-1]))
    rank_t = _wrap(rank) if driver != "gels" else _wrap(xp.zeros((0,), dtype=np.int64))
    sv = _wrap(s) if driver in ("gelsd", "gelss") else _wrap(empty)
    return LstsqResult(solution, residuals, rank_t, sv)


# ---------------------------------------------------------------- decompositions


def cholesky(A, *, upper=False, out=None):
    """L (lower, A = L L^T) or U (upper=True, A = U^T U) from A's lower triangle; a matrix
    that is not positive-definite raises LinAlgError naming the failing leading minor.

    Args:
        A: the symmetric positive-definite matrices, shape (..., n, n).
        upper: return the upper factor U instead of L.

    Returns:
        Tensor: the triangular factor, of A's shape.
    """
    _matrix(A, "linalg.cholesky")
    L, _ = _dec.Cholesky.apply(A, upper=bool(upper), check_errors=True, op="linalg.cholesky")
    return L


def cholesky_ex(A, *, upper=False, check_errors=False, out=None):
    """(L, info): info is 0, or the order of the first leading minor that is not
    positive-definite (L is then the partial factor).

    Args:
        A: the symmetric matrices, shape (..., n, n).
        upper: return the upper factor U (A = U^T U) instead of L.
        check_errors: raise, as cholesky does, when a matrix is not positive-definite.

    Returns:
        (L, info): a named tuple; info is int32, one per matrix.
    """
    _matrix(A, "linalg.cholesky_ex")
    L, info = _dec.Cholesky.apply(A, upper=bool(upper), check_errors=bool(check_errors),
                                  op="linalg.cholesky_ex")
    return CholeskyExResult(L, info)


def svd(A, full_matrices=True, *, driver=None, out=None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending.

    Args:
        A: the matrices, shape (..., m, n).
        full_matrices: U is (..., m, m) and Vh (..., n, n); False: the reduced factors,
            with k = min(m, n) columns of U and rows of Vh.
        driver: accepted for PyTorch's signature (a CUDA option there); unused.

    Returns:
        (U, S, Vh): a named tuple.
    """
    _matrix(A, "linalg.svd", square=False)
    return SvdResult(*_dec.Svd.apply(A, full_matrices=bool(full_matrices)))


def svdvals(A, *, driver=None, out=None):
    """The singular values, descending; their gradient U diag(gS) Vh is finite also where
    they repeat.

    Args:
        A: the matrices, shape (..., m, n).
        driver: accepted for PyTorch's signature (a CUDA option there); unused.

    Returns:
        Tensor: shape (..., min(m, n)).
    """
    _matrix(A, "linalg.svdvals", square=False)
    if A.ndim >= 2 and A._data.dtype.kind == "f" and not A.requires_grad:
        xp = A._xp()
        return _wrap(xp.linalg.svd(A._data, compute_uv=False))
    return _dec.Svd.apply(A, full_matrices=False)[1]


def _uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A, UPLO="L", *, out=None):
    """(eigenvalues ascending, orthonormal eigenvectors) of a symmetric matrix, from its
    lower (UPLO='L') or upper triangle.

    Args:
        A: the symmetric matrices, shape (..., n, n).
        UPLO: which triangle is read, ``"L"`` or ``"U"``.

    Returns:
        (eigenvalues, eigenvectors): a named tuple; the eigenvectors are the columns.
    """
    _matrix(A, "linalg.eigh")
    _uplo(UPLO)
    return EighResult(*_dec.Eigh.apply(A, uplo=UPLO))


def eigvalsh(A, UPLO="L", *, out=None):
    """The eigenvalues of symmetric matrices, in ascending order.

    Args:
        A: the symmetric matrices (..., n, n).
        UPLO: which triangle is read, ``"L"`` or ``"U"``.
        out: accepted for PyTorch's signature and ignored (the result is returned).

    Returns:
        Tensor.
    """
    _matrix(A, "linalg.eigvalsh")
    _uplo(UPLO)
    if not A.requires_grad:
        return _wrap(A._xp().linalg.eigvalsh(A._data, UPLO=UPLO))
    return _dec.Eigh.apply(A, uplo=UPLO)[0]


def qr(A, mode="reduced", *, out=None):
    """(Q, R) with A = Q R: mode 'reduced' (Q m x k), 'complete' (Q m x m), or 'r' (R only,
    Q empty; not differentiable, as PyTorch).

    Args:
        A: the matrices, shape (..., m, n) (floating).
        mode: ``'reduced'``, ``'complete'`` or ``'r'``.

    Returns:
        (Q, R): a named tuple.
    """
    _tensor_arg(A, "linalg_qr")
    if A.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           "'reduced' (default), 'r', or 'complete'")
    if A._data.dtype.kind != "f":
        raise RuntimeError(f"linalg.qr: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(A)}")
    return QrResult(*_dec.Qr.apply(A, mode=mode))
