"""Linear algebra: matmul (1-D, 2-D, batched with broadcast batch dims), dot, mv, mm, outer,
inverse, solve, pinverse."""
import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..tensor import Tensor
from .arithmetic import sum_to

_ndarray = np.ndarray


def _mm(x, y):
    """x @ y; for raw arrays of at most 2 dims NumPy's dot, which has far less call overhead
    than the matmul ufunc and gives the same result."""
    if x.__class__ is _ndarray and y.__class__ is _ndarray and x.ndim <= 2 and y.ndim <= 2:
        return x.dot(y)
    return x @ y


def _mat_str(shape):
    return "x".join(str(n) for n in shape)


class MatMul(Node):
    """``a @ b`` with NumPy's rules. Named as PyTorch names the node for each case."""

    def forward(self, a, b):
        na, nb = a.ndim, b.ndim
        if na == 0 or nb == 0:
            raise RuntimeError(
                f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D"
            )
        self.save_for_backward(a, b)
        if na == 1 and nb == 1:
            self.name = "DotBackward0"
        elif na == 2 and nb == 1:
            self.name = "MvBackward0"
        elif na == 2 and nb == 2:
            self.name = "MmBackward0"
        elif na <= 2 and nb <= 2:
            self.name = "MmBackward0"
        else:
            self.name = "BmmBackward0"
        try:
            return _mm(a, b)
        except ValueError:
            raise RuntimeError(_matmul_shape_error(a.shape, b.shape)) from None

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        na, nb = a.ndim, b.ndim
        ga = gb = None
        if na == 1 and nb == 1:  # dot: g is 0-d
            return (g * b if need[0] else None, g * a if need[1] else None)
        if na == 2 and nb == 2:
            return (_mm(g, b.T) if need[0] else None, _mm(a.T, g) if need[1] else None)
        if na == 2 and nb == 1:  # mv
            return (
                g.reshape((-1, 1)) * b.reshape((1, -1)) if need[0] else None,
                _mm(g, a) if need[1] else None,
            )
        # general: promote 1-D operands to matrices, then undo
        a2 = a.reshape((1, -1)) if na == 1 else a
        b2 = b.reshape((-1, 1)) if nb == 1 else b
        g2 = g
        if na == 1:
            g2 = g2.reshape(g2.shape[:-1] + (1,) + g2.shape[-1:])
        if nb == 1:
            g2 = g2.reshape(g2.shape + (1,))
        if need[0]:
            ga = sum_to(g2 @ b2.swapaxes(-1, -2), a2.shape).reshape(a.shape)
        if need[1]:
            gb = sum_to(a2.swapaxes(-1, -2) @ g2, b2.shape).reshape(b.shape)
        return ga, gb


def _matmul_shape_error(sa, sb):
    if len(sa) <= 2 and len(sb) <= 2:
        a = sa if len(sa) == 2 else (1,) + tuple(sa)
        b = sb if len(sb) == 2 else tuple(sb) + (1,)
        return (
            f"mat1 and mat2 shapes cannot be multiplied ({_mat_str(a)} and {_mat_str(b)}) "
            f"in matmul"
        )
    ka, kb = sa[-1], (sb[-2] if len(sb) > 1 else sb[0])
    if ka != kb:
        return (
            f"Expected size for first two dimensions of batch2 tensor to be: [{ka}] but got: "
            f"[{kb}] (matmul of shapes {tuple(sa)} and {tuple(sb)}: the inner dimensions {ka} "
            f"and {kb} must be equal)"
        )
    ba, bb = tuple(sa[:-2]), tuple(sb[:-2])
    n = max(len(ba), len(bb))
    pa, pb = (1,) * (n - len(ba)) + ba, (1,) * (n - len(bb)) + bb
    for i in range(n - 1, -1, -1):
        if pa[i] != pb[i] and pa[i] != 1 and pb[i] != 1:
            return (
                f"The size of tensor a ({pa[i]}) must match the size of tensor b ({pb[i]}) at "
                f"non-singleton dimension {i} (the batch dimensions of matmul of shapes "
                f"{tuple(sa)} and {tuple(sb)} do not broadcast)"
            )
    return f"matmul of shapes {tuple(sa)} and {tuple(sb)} failed"


class Inverse(Node):
    name = "LinalgInvExBackward0"

    def forward(self, a):
        xp = array_module(a)
        if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
            raise RuntimeError(
                "linalg.inv: A must be batches of square matrices, but they are "
                + (f"{a.shape[-2]} by {a.shape[-1]} matrices" if a.ndim >= 2 else f"{a.ndim}-D")
            )
        try:
            y = xp.linalg.inv(a)
        except Exception as e:  # numpy.linalg.LinAlgError
            raise RuntimeError(
                f"linalg.inv: The matrix of shape {tuple(a.shape)} is singular and cannot be "
                f"inverted ({e})"
            ) from None
        self.save_for_backward(y)
        return y

    def backward(self, g):
        (y,) = self.saved_tensors
        yt = y.swapaxes(-1, -2)
        return -(yt @ g @ yt)


class Solve(Node):
    """x = A^-1 b. gb = A^-T g, gA = -gb x^T (b a vector or a matrix of columns)."""

    name = "LinalgSolveExBackward0"

    def forward(self, a, b):
        xp = array_module(a)
        # PyTorch's rule: B is a (batch of) vector(s) when it is 1-D or has A's batch shape
        # plus n; otherwise a (batch of) matrices. Batch dimensions broadcast.
        self.vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
        self.shapes = (a.shape, b.shape)
        try:
            x = xp.linalg.solve(a, b[..., None] if self.vector else b)
        except Exception as e:
            bm = (tuple(b.shape) + (1,)) if self.vector else tuple(b.shape)
            if a.ndim >= 2 and a.shape[-1] == a.shape[-2] == bm[-2]:
                raise RuntimeError(
                    f"linalg.solve: The solver failed because the input matrix is singular "
                    f"(A of shape {tuple(a.shape)}: {e})"
                ) from None
            raise RuntimeError(
                f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                f"({_mat_str(a.shape[-2:])} and {_mat_str(bm[-2:])}): A of shape "
                f"{tuple(a.shape)}, B of shape {tuple(b.shape)} ({e})"
            ) from None
        if self.vector:
            x = x[..., 0]
        self.save_for_backward(a, x)
        return x

    def backward(self, g):
        a, x = self.saved_tensors
        need = self.needs_input_grad
        at = a.swapaxes(-1, -2)
        gb = solve(at, g)
        ga = None
        if need[0]:
            if self.vector:
                ga = -(gb.reshape(gb.shape + (1,)) @ x.reshape(x.shape[:-1] + (1, -1)))
            else:
                ga = -(gb @ x.swapaxes(-1, -2))
            ga = sum_to(ga, self.shapes[0])  # (A or B may have been broadcast over batches)
        return ga, (sum_to(gb, self.shapes[1]) if need[1] else None)


class Pinverse(Node):
    """Moore-Penrose pseudo-inverse (via SVD). Its gradient is the standard one for a matrix
    of constant rank (Golub and Pereyra): with P = A+ and G the output gradient,
    gA = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)."""

    name = "PinverseBackward0"

    def forward(self, a, rcond):
        xp = array_module(a)
        p = xp.linalg.pinv(a, rcond=rcond)
        self.save_for_backward(a, p)
        return p

    def backward(self, g):
        a, p = self.saved_tensors
        xp = array_module(a._data if isinstance(a, Tensor) else a)
        m, n = a.shape[-2], a.shape[-1]
        pt = p.swapaxes(-1, -2)
        gt = g.swapaxes(-1, -2)
        eye_m = xp.eye(m, dtype=a.dtype if not isinstance(a, Tensor) else a._data.dtype)
        eye_n = xp.eye(n, dtype=eye_m.dtype)
        return (
            -(pt @ g @ pt)
            + (eye_m - a @ p) @ gt @ p @ pt
            + pt @ p @ gt @ (eye_n - p @ a)
        )


# ---------------------------------------------------------------- plain functions


def matmul(input, other):
    return MatMul.apply(input, other)


def _rmatmul(self, other):
    return MatMul.apply(other, self)


def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2-D, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: both arguments must be 3-D, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def mv(input, vec):
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input.ndim}D and {vec.ndim}D (in mv)"
        )
    return matmul(input, vec)


def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors (in dot)"
        )
    if input.shape[0] != other.shape[0]:
        raise RuntimeError(
            "inconsistent tensor size, expected tensor [%d] and src [%d] to have the same number "
            "of elements, but got %d and %d elements respectively (in dot)"
            % (input.shape[0], other.shape[0], input.shape[0], other.shape[0])
        )
    return matmul(input, other)


inner = dot


def outer(input, vec2):
    return input.reshape((-1, 1)) * vec2.reshape((1, -1))


ger = outer


def inverse(input):
    return Inverse.apply(input)


def solve(A, B):
    return Solve.apply(A, B)


def pinverse(input, rcond=1e-15):
    return Pinverse.apply(input, rcond=rcond)


pinv = pinverse

Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = _rmatmul
Tensor.matmul = matmul
Tensor.mm = mm
Tensor.bmm = bmm
Tensor.mv = mv
Tensor.dot = dot
Tensor.inner = inner
Tensor.outer = outer
Tensor.ger = ger
Tensor.inverse = inverse
Tensor.pinverse = pinverse
