"""Linear algebra: matmul (1-D, 2-D, batched with broadcast batch dims), dot, mv, mm, outer,
inverse, solve, pinverse; addmm and its kin, einsum, tensordot, kron, cross, det, slogdet,
logdet, matrix_power, cdist."""
import builtins
import math

import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..backend.execute import matmul
from ..tensor import Tensor
from ._names import named
from ._return_types import return_type
from .arithmetic import sum_to

_mm = matmul  # (the execution layer's x @ y: NumPy's dot for 2-d host arrays)


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
        elif na <= 2 and nb <= 2:  # vector @ matrix: PyTorch's unsqueeze, mm, squeeze(0)
            self.name = "SqueezeBackward4"
        else:  # a batch: PyTorch folds it into one mm or bmm and views the result back
            self.name = "UnsafeViewBackward0"
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
            if xp is not np and y.size and not bool(xp.isfinite(y).all()):
                raise ValueError("the inverse is not finite")  # (CuPy does not raise itself)
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
            am, bm = a, (b[..., None] if self.vector else b)
            if am.shape[:-2] != bm.shape[:-2]:  # (CuPy's solve does not broadcast batches)
                batch = np.broadcast_shapes(am.shape[:-2], bm.shape[:-2])
                am = xp.ascontiguousarray(xp.broadcast_to(am, batch + am.shape[-2:]))
                bm = xp.ascontiguousarray(xp.broadcast_to(bm, batch + bm.shape[-2:]))
            x = xp.linalg.solve(am, bm)
            if xp is not np and x.size and not bool(xp.isfinite(x).all()):
                raise ValueError("the solution is not finite")  # (CuPy does not raise itself)
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

    name = "LinalgPinvBackward0"  # (torch.pinverse is linalg.pinv)

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
        # (-(a @ p) + I rather than I - a @ p: the same values, and a Tensor on the left
        # under create_graph, where a raw CuPy array would try to convert the Tensor)
        return (
            -(pt @ g @ pt)
            + (-(a @ p) + eye_m) @ gt @ p @ pt
            + pt @ p @ gt @ (-(p @ a) + eye_n)
        )


# ---------------------------------------------------------------- plain functions


def matmul(input, other):
    """The matrix product with NumPy's rules: 1-D operands are vectors, leading dimensions
    broadcast.

    Args:
        input: the first tensor, shape (..., n, m), or (m,) for a vector.
        other: the second tensor, shape (..., m, p), or (m,) for a vector.

    Returns:
        Tensor: shape (broadcast ..., n, p), less the dimension of a vector operand.

    Examples:
        >>> import autograd_gpu as torch
        >>> a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        >>> torch.matmul(a, a)
        tensor([[ 7., 10.],
                [15., 22.]])
        >>> torch.matmul(a, torch.tensor([1.0, 1.0]))
        tensor([3., 7.])
        >>> torch.matmul(torch.ones(5, 2, 3), torch.ones(3, 4)).shape
        autograd_gpu.Size([5, 2, 4])
    """
    return _matmul_named(MatMul.apply(input, other), input, other)


def _matmul_named(out, a, b):
    """PyTorch computes a matrix that requires grad times a batch transposed, b^T a^T, and
    returns that made contiguous: a copy (CloneBackward0), or the transpose itself where it
    is contiguous already (TransposeBackward0). (Its node names only; the math is one op.)"""
    sa, sb = a.shape, getattr(b, "shape", ())
    matrix = len(sa) == 2 or (len(sa) == 3 and sa[0] == 1 and len(sb) == 3)
    if matrix and len(sb) >= 3 and getattr(a, "requires_grad", False):
        m, n = sa[-2], sb[-1]
        named(out, "TransposeBackward0" if 1 in (m, n) or out.numel() == 0 else "CloneBackward0")
    return out


def _rmatmul(self, other):
    return _matmul_named(MatMul.apply(other, self), other, self)


def mm(input, mat2):
    """The product of two matrices.

    Args:
        input: an (n, m) matrix.
        mat2: an (m, p) matrix.

    Returns:
        Tensor: (n, p)
    """
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: both arguments must be 2-D, got {input.ndim}D and {mat2.ndim}D")
    return matmul(input, mat2)


def bmm(input, mat2):
    """The batched matrix product.

    Args:
        input: (b, n, m).
        mat2: (b, m, p).

    Returns:
        Tensor: (b, n, p)
    """
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: both arguments must be 3-D, got {input.ndim}D and {mat2.ndim}D")
    return named(MatMul.apply(input, mat2), "BmmBackward0")


def mv(input, vec):
    """The matrix-vector product.

    Args:
        input: an (n, m) matrix.
        vec: an (m,) vector.

    Returns:
        Tensor: (n,)
    """
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input.ndim}D and {vec.ndim}D (in mv)"
        )
    return matmul(input, vec)


def dot(input, other):
    """The inner product of two 1-D tensors.

    Args:
        input: the input tensor.
        other: the second operand: a tensor or a number, broadcast with input.

    Returns:
        Tensor: 0-d
    """
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
    """The outer product of two 1-D tensors.

    Args:
        input: the input tensor.
        vec2: the second vector.

    Returns:
        Tensor: (n, m)
    """
    return input.reshape((-1, 1)) * vec2.reshape((1, -1))


ger = outer


def inverse(input):
    """The inverse of square matrices.

    Args:
        input: (..., n, n).

    Returns:
        Tensor.
    """
    return Inverse.apply(input)


def solve(A, B):
    """The solution X of A X = B (batch dimensions broadcast).

    Args:
        A: (..., n, n).
        B: (..., n) or (..., n, k).

    Returns:
        Tensor.
    """
    return Solve.apply(A, B)


def pinverse(input, rcond=1e-15):
    """The Moore-Penrose pseudo-inverse, through the SVD.

    Args:
        input: (..., m, n).
        rcond: singular values below rcond times the largest count as zero.

    Returns:
        Tensor: (..., n, m)
    """
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


# ---------------------------------------------------------------- beta * input + alpha * products


def _type_name(arr):
    from ..tensor import _TORCH_TYPE_NAMES

    return _TORCH_TYPE_NAMES.get(arr.dtype.name, arr.dtype.name)


def _expand_error(x_shape, target):
    """PyTorch's message when `input` does not broadcast to the product's shape."""
    xs, ts = tuple(x_shape), tuple(target)
    if len(xs) > len(ts):
        return RuntimeError(
            f"expand({list(xs)}, size={list(ts)}): the number of sizes provided ({len(ts)}) must "
            f"be greater or equal to the number of dimensions in the tensor ({len(xs)})")
    padded = (1,) * (len(ts) - len(xs)) + xs
    for i in range(len(ts) - 1, -1, -1):
        if padded[i] != ts[i] and padded[i] != 1:
            return RuntimeError(
                f"The expanded size of the tensor ({ts[i]}) must match the existing size "
                f"({padded[i]}) at non-singleton dimension {i}.  Target sizes: {list(ts)}.  "
                f"Tensor sizes: {list(xs)}")
    return None


class _AddProduct(Node):
    """beta * input + alpha * product(m1, m2), `kind` one of mm, mv, bmm (baddbmm) and
    summed bmm (addbmm). With beta == 0 the input is ignored (its NaN and inf do not reach the
    result, as PyTorch); its gradient is then 0."""

    def forward(self, x, m1, m2, beta, alpha, kind):
        xp = array_module(m1)
        self.kind, self.beta, self.alpha = kind, beta, alpha
        self.name = {"mm": "AddmmBackward0", "mv": "AddmvBackward0", "bmm": "BaddbmmBackward0",
                     "sum_bmm": "AddbmmBackward0"}[kind]
        self.x_shape = x.shape
        self.save_for_backward(m1, m2)
        if kind == "mm":
            p = _mm(m1, m2)
        elif kind == "mv":
            p = matmul(m1, m2)
        else:
            p = xp.matmul(m1, m2)
            if kind == "sum_bmm":
                p = p.sum(axis=0)
        err = _expand_error(x.shape, p.shape)
        if err is not None:
            raise err
        if alpha != 1:
            p = p * alpha
        if beta == 0:
            return p
        return (x if beta == 1 else x * beta) + p

    def backward(self, g):
        m1, m2 = self.saved_tensors
        need = self.needs_input_grad
        a = self.alpha
        ga = g if a == 1 else g * a
        gx = g1 = g2 = None
        if need[0]:
            gx = sum_to(g * self.beta if self.beta != 1 else g, self.x_shape)
        if self.kind == "mm":
            g1 = _mm(ga, m2.T) if need[1] else None
            g2 = _mm(m1.T, ga) if need[2] else None
        elif self.kind == "mv":
            g1 = ga.reshape((-1, 1)) * m2.reshape((1, -1)) if need[1] else None
            g2 = _mm(ga, m1) if need[2] else None
        else:  # (for addbmm, g broadcasts over the batch in the products)
            g1 = ga @ m2.swapaxes(-1, -2) if need[1] else None
            g2 = m1.swapaxes(-1, -2) @ ga if need[2] else None
        return gx, g1, g2


def _matrix_arg(t, what):
    if t.ndim != 2:
        raise RuntimeError(f"{what} must be a matrix, got {t.ndim}-D tensor")


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2).

    Args:
        input: the input tensor.
        mat1: (n, m).
        mat2: (m, p).
        beta: the multiplier of input (0 ignores it, NaN included).
        alpha: the multiplier of the product.

    Returns:
        Tensor.
    """
    _matrix_arg(mat1, "mat1")
    _matrix_arg(mat2, "mat2")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({_mat_str(mat1.shape)} and "
            f"{_mat_str(mat2.shape)})")
    return _AddProduct.apply(input, mat1, mat2, beta=beta, alpha=alpha, kind="mm")


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """beta * input + alpha * (mat @ vec).

    Args:
        input: the input tensor.
        mat: (n, m).
        vec: (m,).
        beta: the multiplier of input (0 ignores it).
        alpha: the multiplier of the product.

    Returns:
        Tensor.
    """
    if mat.ndim != 2 or vec.ndim != 1 or input.ndim > 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    n = mat.shape[0]
    if mat.shape[1] != vec.shape[0] or (input.ndim == 1 and input.shape[0] not in (1, n)):
        raise RuntimeError(
            f"size mismatch, got input ({input.shape[0] if input.ndim else ''}), mat "
            f"({_mat_str(mat.shape)}), vec ({vec.shape[0]})")
    return _AddProduct.apply(input, mat, vec, beta=beta, alpha=alpha, kind="mv")


def _batches_arg(b1, b2, op):
    for name, t in (("batch1", b1), ("batch2", b2)):
        if t.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    if op == "addbmm" and b1.shape[0] != b2.shape[0]:
        raise RuntimeError(
            f"batch1 and batch2 must have same number of batches, got {b1.shape[0]} and "
            f"{b2.shape[0]}")
    if op == "addbmm" and b1.shape[2] != b2.shape[1]:
        raise RuntimeError(
            f"Incompatible matrix sizes for bmm ({_mat_str(b1.shape[1:])} and "
            f"{_mat_str(b2.shape[1:])})")
    if (b1.shape[0], b1.shape[2]) != (b2.shape[0], b2.shape[1]):
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"[{b1.shape[0]}, {b1.shape[2]}] but got: [{b2.shape[0]}, {b2.shape[1]}].")


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * (batch1 @ batch2), batch by batch.

    Args:
        input: the input tensor.
        batch1: (b, n, m).
        batch2: (b, m, p).
        beta: the multiplier of input (0 ignores it).
        alpha: the multiplier of the product.

    Returns:
        Tensor.
    """
    _batches_arg(batch1, batch2, "baddbmm")
    return _AddProduct.apply(input, batch1, batch2, beta=beta, alpha=alpha, kind="bmm")


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """beta * input + alpha * sum of batch1[i] @ batch2[i].

    Args:
        input: the input tensor.
        batch1: (b, n, m).
        batch2: (b, m, p).
        beta: the multiplier of input (0 ignores it).
        alpha: the multiplier of the product.

    Returns:
        Tensor.
    """
    _batches_arg(batch1, batch2, "addbmm")
    return _AddProduct.apply(input, batch1, batch2, beta=beta, alpha=alpha, kind="sum_bmm")


# ---------------------------------------------------------------- einsum

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  # (sublist ints index these)


class Einsum(Node):
    """einsum over explicit subscripts (no ellipsis, no broadcasting: the wrapper expands
    both). The gradient of operand i is itself an einsum: of the output gradient with the
    other operands, into operand i's subscripts. A letter repeated in operand i (a diagonal)
    is tied to its first position by an identity matrix; a letter only operand i has (summed
    away by the forward) is brought back by a vector of ones. Being an einsum, it is
    differentiable again, to any order."""

    name = "EinsumBackward0"

    def forward(self, *ops, subs, out):
        self.subs, self.out = subs, out
        self.sizes = {c: n for s, o in zip(subs, ops) for c, n in zip(s, o.shape)}
        self.save_for_backward(*ops)
        xp = array_module(ops[0])
        return xp.einsum(",".join(subs) + "->" + out, *ops, optimize=len(ops) > 2)

    def backward(self, g):
        ops = self.saved_tensors
        need = self.needs_input_grad
        raw_g = g._data if isinstance(g, Tensor) else g
        xp = array_module(raw_g)
        used = set("".join(self.subs) + self.out)
        fresh = iter(c for c in _LETTERS if c not in used)
        grads = []
        for i, term in enumerate(self.subs):
            if not need[i]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(self.subs) if j != i]
            present = set(self.out).union(*others) if others else set(self.out)
            in_subs = [self.out] + others
            operands = [g] + [o for j, o in enumerate(ops) if j != i]
            target = []
            for c in term:
                n = self.sizes[c]
                if c in target:  # a repeated letter: a new one, tied to c on the diagonal
                    f = next(fresh)
                    target.append(f)
                    in_subs.append(c + f)
                    operands.append(xp.eye(n, dtype=raw_g.dtype))
                    continue
                if c not in present:  # summed over by this operand alone
                    in_subs.append(c)
                    operands.append(xp.ones(n, dtype=raw_g.dtype))
                    present.add(c)
                target.append(c)
            grads.append(Einsum.apply(*operands, subs=tuple(in_subs), out="".join(target)))
        return tuple(grads)


def _einsum_error(msg):
    return RuntimeError("einsum(): " + msg)


def _sublist_equation(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [out]) as an equation and operands."""
    ops, terms = list(args[0::2]), list(args[1::2])
    out = None
    if len(ops) > len(terms):  # an output sublist follows the last operand
        out = ops.pop()

    def letters(sub):
        s = ""
        for k in sub:
            if k is Ellipsis:
                s += "..."
            elif isinstance(k, int) and 0 <= k < 52:
                s += _LETTERS[k]
            else:
                raise _einsum_error(
                    f"expected subscript to be in range [0, 52) or an Ellipsis, but got {k}")
        return s

    eq = ",".join(letters(t) for t in terms)
    if out is not None:
        eq += "->" + letters(out)
    return eq, ops


def _parse_einsum(equation, shapes):
    """The equation with every ellipsis replaced by letters, as (terms, output)."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) > len(shapes):
        raise _einsum_error("fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise _einsum_error("more operands were provided than specified in the equation")
    for k, c in enumerate(eq):
        if not (c.isascii() and c.isalpha()) and c not in ".,->":
            raise _einsum_error(f"invalid subscript given at index {k} in the equation string, "
                                "subscripts must be in [a-zA-Z]")
    unused = [c for c in _LETTERS if c not in eq]
    n_ell, counts = 0, []
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        if "..." in t:
            if t.count(".") != 3:
                raise _einsum_error(f"found '.' for operand {i} that is not part of any ellipsis")
            k = len(t) - 3
            if k > len(shape):
                raise _einsum_error(
                    f"the number of subscripts in the equation ({k}) is more than the number of "
                    f"dimensions ({len(shape)}) for operand {i}")
            n_ell = builtins.max(n_ell, len(shape) - k)
        else:
            if "." in t:
                raise _einsum_error(f"found '.' for operand {i} that is not part of any ellipsis")
            if len(t) != len(shape):
                raise _einsum_error(
                    f"the number of subscripts in the equation ({len(t)}) does not match the "
                    f"number of dimensions ({len(shape)}) for operand {i} and no ellipsis was "
                    "given")
    ell = "".join(unused[:n_ell])
    expanded = []
    for t, shape in zip(terms, shapes):
        if "..." in t:
            k = len(shape) - (len(t) - 3)
            t = t.replace("...", ell[n_ell - k:])
        expanded.append(t)
    letters = "".join(expanded)
    if arrow:
        if "..." in rhs:
            rhs = rhs.replace("...", ell)
        elif "." in rhs:
            raise _einsum_error("found '.' for output but an ellipsis (...) was already found")
        for c in rhs:
            if rhs.count(c) > 1:
                raise _einsum_error(f"output subscript {c} appears more than once in the output")
            if c not in letters:
                raise _einsum_error(
                    f"output subscript {c} does not appear in the equation for any input operand")
        out = rhs
    else:  # implicit: the ellipsis, then the letters seen once, in alphabetical order
        once = sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell)
        out = ell + "".join(once)
    return expanded, out


def einsum(equation, *operands):
    """Einstein summation, as ``torch.einsum``: ``einsum('ij,jk->ik', a, b)``, operands as one
    list (``einsum('ij,jk', [a, b])``), or the sublist form ``einsum(a, [0, 1], b, [1, 2])``.
    Ellipses and size-1 broadcasting are supported; differentiable to any order.

    Args:
        equation: the subscripts, one letter per dimension of each operand, comma-separated,
            with ``->`` and the output's letters (without it: the letters that occur once, in
            alphabetical order); or, in the sublist form, the first operand.
        operands: the tensors (one per term), or one list of them.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> a = torch.arange(6.0).reshape(2, 3)
        >>> b = torch.arange(12.0).reshape(3, 4)
        >>> torch.einsum("ij,jk->ik", a, b)
        tensor([[20., 23., 26., 29.],
                [56., 68., 80., 92.]])
        >>> torch.einsum("ii", torch.eye(3))
        tensor(3.)
    """
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    elif len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    operands = list(operands)
    terms, out = _parse_einsum(equation, [tuple(o.shape) for o in operands])
    sizes = {}
    for i, (t, o) in enumerate(zip(terms, operands)):
        seen = {}
        for c, n in zip(t, o.shape):
            if c in seen and seen[c] != n:
                raise _einsum_error(
                    f"subscript {c} is repeated for operand {i} but the sizes don't match, "
                    f"{n} != {seen[c]}")
            seen[c] = n
            prev = sizes.get(c)
            if prev is None or prev == 1:
                sizes[c] = n
            elif n != 1 and n != prev:
                raise _einsum_error(
                    f"subscript {c} has size {n} for operand {i} which does not broadcast with "
                    f"previously seen size {prev}")
    floats = [o for o in operands if o.dtype.is_floating_point]
    for o in floats[1:]:
        if o.dtype != floats[0].dtype:
            raise RuntimeError(f"expected scalar type {_type_name(floats[0]._data)} but found "
                               f"{_type_name(o._data)}")
    for i, (t, o) in enumerate(zip(terms, operands)):
        full = tuple(sizes[c] for c in t)
        if tuple(o.shape) != full:  # size-1 broadcasting, made explicit (and differentiable)
            operands[i] = o.expand(*full)
    result = Einsum.apply(*operands, subs=tuple(terms), out=out)
    # PyTorch's einsum ends in the op its plan ends with: a sum or a permute for one operand,
    # a product when nothing is summed, else the view of a bmm
    summed = set("".join(terms)) - set(out)
    if len(operands) == 1:
        return named(result, "SumBackward1" if summed else "PermuteBackward0")
    return named(result, "ViewBackward0" if summed else "MulBackward0")


# ---------------------------------------------------------------- tensordot, kron, cross


def tensordot(a, b, dims=2):
    """Contracts dims of a with dims of b: an int n (a's last n with b's first n) or two
    lists. Built of permute, reshape and mm, so its graph is theirs.

    Args:
        a: the first tensor.
        b: the second tensor.
        dims: an int n, or two lists (a's dimensions, b's dimensions) of equal sizes.

    Returns:
        Tensor: a's free dimensions followed by b's.
    """
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
        shown_a, shown_b = [d - a.ndim for d in da], db
    else:
        da, db = ([int(d) for d in ([x] if isinstance(x, int) else x)] for x in dims)
        if len(da) != len(db):
            raise RuntimeError("both dimension lists should have same length")
        shown_a, shown_b = list(da), list(db)  # (the error names the dims as given)
        da, db = [d % a.ndim for d in da], [d % b.ndim for d in db]
    for ka, (i, j) in enumerate(zip(da, db)):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(
                f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                f"{shown_a[ka]} and second has size {b.shape[j]} in dim {shown_b[ka]}")
    free_a = [d for d in range(a.ndim) if d not in da]
    free_b = [d for d in range(b.ndim) if d not in db]
    k = math.prod(a.shape[d] for d in da)
    out_shape = [a.shape[d] for d in free_a] + [b.shape[d] for d in free_b]
    a2 = a.permute(*(free_a + da)).reshape(-1, k) if a.ndim else a.reshape(1, 1)
    b2 = b.permute(*(db + free_b)).reshape(k, -1) if b.ndim else b.reshape(1, 1)
    return matmul(a2, b2).reshape(*out_shape) if out_shape else matmul(a2, b2).reshape(())


def kron(input, other):
    """The Kronecker product: out[i * m + j] = input[i] * other[j] in every dimension (the
    shorter shape padded with leading 1s).

    Args:
        input: the first tensor.
        other: the second tensor.

    Returns:
        Tensor: each dimension the product of the two sizes.
    """
    n = builtins.max(input.ndim, other.ndim)
    sa = (1,) * (n - input.ndim) + tuple(input.shape)
    sb = (1,) * (n - other.ndim) + tuple(other.shape)
    a = input.reshape(*[v for s in sa for v in (s, 1)]) if n else input
    b = other.reshape(*[v for s in sb for v in (1, s)]) if n else other
    if not n:
        return a * b
    # (PyTorch's kron ends in a reshape that copies: UnsafeViewBackward0)
    return named((a * b).reshape(*[p * q for p, q in zip(sa, sb)]), "UnsafeViewBackward0")


class Cross(Node):
    """The cross product along `axis` (3 long), with broadcasting. ga = b x g, gb = g x a."""

    name = "LinalgCrossBackward0"

    def forward(self, a, b, axis):
        xp = array_module(a)
        self.axis, self.shapes = axis, (a.shape, b.shape)
        self.save_for_backward(a, b)
        return xp.cross(a, b, axis=axis)

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        return (sum_to(Cross.apply(b, g, axis=self.axis), self.shapes[0]) if need[0] else None,
                sum_to(Cross.apply(g, a, axis=self.axis), self.shapes[1]) if need[1] else None)


def cross(input, other, dim=None):
    """``torch.cross``: along `dim`, or (deprecated, with PyTorch's warning) the first
    dimension of size 3.

    Args:
        input: the first tensor.
        other: the second tensor, with input's number of dimensions (broadcast with it).
        dim: the dimension of size 3 (None: the first such, with a warning).

    Returns:
        Tensor: the cross products, of the broadcast shape.
    """
    if input.ndim != other.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    except ValueError:
        raise _broadcast_error_of(input, other) from None
    if dim is None:
        import warnings

        warnings.warn(
            "Using torch.cross without specifying the dim arg is deprecated.\nPlease either "
            "pass the dim explicitly or simply use torch.linalg.cross.\nThe default value of "
            "dim will change to agree with that of linalg.cross in a future release.",
            UserWarning, stacklevel=2)
        sizes = [d for d, n in enumerate(shape) if n == 3]
        if not sizes:
            raise RuntimeError("no dimension of size 3 in input")
        dim = sizes[0]
    from .reduction import normalize_dims

    (axis,) = normalize_dims(dim, input.ndim, "cross")
    if input.shape[axis] != 3 or other.shape[axis] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[axis]} "
            f"and {other.shape[axis]}")
    return Cross.apply(input, other, axis=axis)


def linalg_cross(input, other, *, dim=-1):
    return cross(input, other, dim)


def _broadcast_error_of(a, b):
    from .arithmetic import _broadcast_error

    return _broadcast_error("cross", a._data, b._data)


# ---------------------------------------------------------------- determinants, powers, distances


def _square_check(a, op, floating=True):
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if floating and a._data.dtype.kind != "f":
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got {_type_name(a._data)}")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _cofactors(xp, a):
    """The cofactor matrix (the adjugate transposed) of a raw (batch of) square matrices, by
    SVD: it is d det / dA also where A is singular and has no inverse."""
    u, s, vh = xp.linalg.svd(a)
    n = s.shape[-1]
    off = xp.where(xp.eye(n, dtype=bool), 1, s[..., None, :])  # row i: s with s_i set to 1
    p = off.prod(axis=-1)  # prod_{j != i} s_j
    sign = xp.linalg.det(u) * xp.linalg.det(vh)
    return (u * p[..., None, :]) @ vh * sign[..., None, None]


class Det(Node):
    """det(A); d det / dA = det(A) A^-T, which for a singular A is the cofactor matrix (its
    first derivative exact, not differentiated again). PyTorch 2.13 gives 0 at an exactly
    singular matrix; the cofactors are the derivative (a rank n-1 matrix has nonzero ones)."""

    name = "LinalgDetBackward0"

    def forward(self, a):
        y = array_module(a).linalg.det(a)
        self.save_for_backward(a, y)
        return y

    def backward(self, g):
        a, y = self.saved_tensors
        raw_y = y._data if isinstance(y, Tensor) else y
        gk = g.reshape(tuple(g.shape) + (1, 1))
        if (raw_y != 0).all():
            return gk * y.reshape(tuple(y.shape) + (1, 1)) * inverse(a).swapaxes(-1, -2)
        raw_a = a._data if isinstance(a, Tensor) else a
        return gk * _cofactors(array_module(raw_a), raw_a)


class Slogdet(Node):
    """(sign, log |det A|); d log|det| / dA = A^-T (the sign has a zero gradient)."""

    name = "LinalgSlogdetBackward0"

    def forward(self, a):
        sign, logabs = array_module(a).linalg.slogdet(a)
        self.save_for_backward(a)
        return sign.astype(a.dtype, copy=False), logabs.astype(a.dtype, copy=False)

    def backward(self, g_sign, g_logabs):
        if g_logabs is None:
            return None
        (a,) = self.saved_tensors
        return g_logabs.reshape(tuple(g_logabs.shape) + (1, 1)) * inverse(a).swapaxes(-1, -2)


SlogdetResult = return_type("slogdet", ("sign", "logabsdet"))


def det(input):
    """The determinant of square matrices.

    Args:
        input: (..., n, n).

    Returns:
        Tensor.
    """
    _square_check(input, "linalg.det")
    return Det.apply(input)


def slogdet(input):
    """The sign and log of the absolute determinant.

    Args:
        input: (..., n, n).

    Returns:
        named tuple (sign, logabsdet).
    """
    _square_check(input, "linalg.slogdet")
    return SlogdetResult(*Slogdet.apply(input))


def logdet(input):
    """log det A: NaN where det A < 0, -inf where it is 0 (PyTorch).

    Args:
        input: the square matrices, shape (..., n, n).

    Returns:
        Tensor: one value per matrix.
    """
    _square_check(input, "logdet")
    sign, logabs = Slogdet.apply(input)
    from .elementwise import where

    negative = sign._data < 0
    return where(negative, math.nan, logabs)


def matrix_power(input, n):
    """A^n by repeated squaring (n < 0: the inverse's power; n = 0: the identity, with a zero
    gradient).

    Args:
        input: the square matrices, shape (..., n, n).
        n: the integer power.

    Returns:
        Tensor: of input's shape.
    """
    if input.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if input.shape[-1] != input.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they "
                           f"are {input.shape[-2]} by {input.shape[-1]} matrices")
    n = int(n)
    if n == 0:  # (a where, not input * 0 + I: a NaN in the input stays out)
        from .elementwise import where

        xp = array_module(input._data)
        eye = xp.eye(input.shape[-1], dtype=input._data.dtype)
        return named(where(xp.zeros((), dtype=bool), input, eye), "CopyBackwards")
    if n == 1:  # a copy, as PyTorch's
        from .shape import clone

        return clone(input)
    base = inverse(input) if n < 0 else input
    n = abs(n)
    result = None
    while n:
        if n & 1:
            result = base if result is None else matmul(result, base)
        n >>= 1
        if n:
            base = matmul(base, base)
    return result


def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of x1 (..., P, M) and x2 (..., R, M), batch
    dimensions broadcast; the gradient is 0 where two rows coincide.

    Args:
        x1: the first rows, shape (..., P, M) (floating).
        x2: the second rows, shape (..., R, M).
        p: the order of the norm (>= 0).

    Returns:
        Tensor: shape (..., P, R).
    """
    for name, t in (("X1", x1), ("X2", x2)):
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{_type_name(t._data)}")
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} "
                           f"X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    from .reduction import named, norm

    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return named(norm(diff, p, dim=-1), "CdistBackward0")


for _name in ("addmm", "addmv", "addbmm", "baddbmm", "kron", "cross", "det", "logdet",
              "slogdet", "matrix_power"):
    setattr(Tensor, _name, globals()[_name])
del _name
for _name in ("addmm", "addmv", "addbmm", "baddbmm"):
    def _make(op):
        def method(self, *args, **kwargs):
            from .arithmetic import inplace

            return inplace(self, lambda t: op(t, *args, **kwargs), *args)

        return method

    setattr(Tensor, _name + "_", _make(globals()[_name]))
del _name
