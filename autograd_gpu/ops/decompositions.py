"""Matrix decompositions and the solvers built on them, for torch.linalg: cholesky (with its
info), triangular solves, svd, eigh, qr, lstsq and pinv with tolerances.

Every backward is the formula PyTorch's autograd uses (Murray 2016 for cholesky; the
real-case svd and eigh backward of PyTorch's FunctionsManual; Walter & Lehmann for qr) and
is written with operators and this library's ops on the saved inputs and outputs, so under
``create_graph=True`` it records its own graph: second derivatives run through the same
formulas. As PyTorch documents, svd/eigh gradients through the singular vectors /
eigenvectors divide by differences of the (squared) singular values / eigenvalues: they are
only finite where those are distinct, and inf or nan otherwise (the gradients of svdvals and
eigvalsh alone stay finite there). The batched loops below (LU pivots, Cholesky minors) run
only to find the `info` PyTorch reports, on the failure path or in the ``*_ex`` forms.
"""
import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..backend.execute import host_copy
from ..tensor import Tensor
from .arithmetic import sum_to
from .linalg import Pinverse


class LinAlgError(RuntimeError):
    """A factorization or inversion that failed on its input (torch.linalg.LinAlgError, a
    RuntimeError as PyTorch's)."""


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


def _xp(x):
    return array_module(_raw(x))


def _mT(x):
    return x.swapaxes(-1, -2)


def _eye(x, n):
    raw = _raw(x)
    return array_module(raw).eye(n, dtype=raw.dtype)


def _tri_mask(x, n, lower, strict=False):
    """A 0/1 array that keeps the lower (or upper) triangle of n x n matrices."""
    raw = _raw(x)
    xp = array_module(raw)
    k = -1 if strict else 0
    m = xp.tri(n, n, k, dtype=raw.dtype)
    return m if lower else m.T.copy()


def _zeros_like(x):
    """Zeros of x's shape, dtype and kind (a Tensor for a Tensor: the pass's own type)."""
    raw = _raw(x)
    z = array_module(raw).zeros(raw.shape, dtype=raw.dtype)
    if isinstance(x, Tensor):
        from ..tensor import _wrap

        return _wrap(z)
    return z


def _diag_embed(v):
    """(..., n) -> (..., n, n) diagonal matrices, for arrays and Tensors alike."""
    n = v.shape[-1]
    return v.reshape(tuple(v.shape) + (1,)) * _eye(v, n)


def _row(v):  # (..., n) -> (..., 1, n)
    return v.reshape(tuple(v.shape[:-1]) + (1, v.shape[-1]))


def _col(v):  # (..., n) -> (..., n, 1)
    return v.reshape(tuple(v.shape) + (1,))


def _batch_prefix(index, batched):
    return f"(Batch element {index}): " if batched else ""


def _first_index(flags):
    """The flat index of the first True in a host bool array."""
    return int(np.flatnonzero(flags.reshape(-1))[0])


_host = host_copy


# ---------------------------------------------------------------- info loops (failure paths)


def lu_info(a):
    """LAPACK getrf's info per matrix of a raw batch: 0, or the 1-based index of the first
    exactly-zero pivot of LU with partial pivoting."""
    xp = array_module(a)
    n = a.shape[-1]
    u = a.reshape((-1, n, n)).astype(np.float64, copy=True)
    info = xp.zeros(u.shape[0], dtype=np.int32)
    rows = xp.arange(u.shape[0])
    for j in range(n):
        p = xp.argmax(xp.abs(u[:, j:, j]), axis=1) + j
        swap = u[rows, p].copy()
        u[rows, p] = u[:, j]
        u[:, j] = swap
        pivot = u[:, j, j]
        zero = pivot == 0
        info = xp.where((info == 0) & zero, j + 1, info)
        safe = xp.where(zero, 1.0, pivot)
        factors = u[:, j + 1:, j] / safe[:, None]
        u[:, j + 1:, j:] -= factors[:, :, None] * u[:, j:j + 1, j:]
    return info.reshape(a.shape[:-2])


def cholesky_info(a):
    """potrf's info per matrix: 0, or the order of the first leading minor that is not
    positive-definite; and the factor as potrf leaves it (up to the failing diagonal)."""
    xp = array_module(a)
    n = a.shape[-1]
    flat = a.reshape((-1, n, n))
    low = xp.tril(flat).astype(flat.dtype, copy=True)
    info = xp.zeros(flat.shape[0], dtype=np.int32)
    for j in range(n):
        ok = info == 0
        d = low[:, j, j] - (low[:, j, :j] ** 2).sum(axis=1)
        bad = ok & ~(d > 0)  # (NaN fails too)
        info = xp.where(bad, j + 1, info)
        ok = info == 0
        with np.errstate(invalid="ignore"):
            root = xp.sqrt(xp.where(ok, d, 1.0))
        low[:, j, j] = xp.where(ok, root, xp.where(bad, d, low[:, j, j]))
        col = (low[:, j + 1:, j] - (low[:, j + 1:, :j] * low[:, j:j + 1, :j]).sum(axis=2)) / root[:, None]
        low[:, j + 1:, j] = xp.where(ok[:, None], col, low[:, j + 1:, j])
    return info.reshape(a.shape[:-2]), low.reshape(a.shape)


# ---------------------------------------------------------------- triangular solve


def _broadcast_batches(xp, a, b):
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    return (xp.broadcast_to(a, batch + a.shape[-2:]), xp.broadcast_to(b, batch + b.shape[-2:]))


class SolveTriangular(Node):
    """X with A X = B (left) or X A = B, A triangular (the other triangle is not read).
    Backward: gB = A^-T gX (left), gA = -gB X^T kept to A's triangle (its strict part where
    A is unitriangular); batch dimensions broadcast and their gradients are summed back."""

    name = "LinalgSolveTriangularBackward0"

    def forward(self, a, b, upper, left, unitriangular):
        xp = array_module(a)
        self.upper, self.left, self.unit = upper, left, unitriangular
        self.shapes = (a.shape, b.shape)
        n = a.shape[-1]
        t = xp.triu(a) if upper else xp.tril(a)
        if unitriangular:
            t = t * (1 - xp.eye(n, dtype=a.dtype)) + xp.eye(n, dtype=a.dtype)
        if not left:  # X A = B  <=>  A^T X^T = B^T
            t, b = _mT(t), _mT(b)
        t, b = _broadcast_batches(xp, t, b)
        with np.errstate(divide="ignore", invalid="ignore"):
            try:
                x = xp.linalg.solve(t, b)
            except np.linalg.LinAlgError:  # a zero on the diagonal: inf/nan, as trsm gives
                x = _substitute(xp, t, b)
        if not left:
            x = _mT(x)
        self.save_for_backward(a, x)
        return x

    def backward(self, g):
        a, x = self.saved_tensors
        need = self.needs_input_grad
        if self.left:
            gb = SolveTriangular.apply(_mT(a), g, upper=not self.upper, left=True,
                                       unitriangular=self.unit)
            ga = -(gb @ _mT(x)) if need[0] else None
        else:
            gb = SolveTriangular.apply(_mT(a), g, upper=not self.upper, left=False,
                                       unitriangular=self.unit)
            ga = -(_mT(x) @ gb) if need[0] else None
        if ga is not None:
            ga = sum_to(ga * _tri_mask(ga, a.shape[-1], not self.upper, self.unit), self.shapes[0])
        return ga, (sum_to(gb, self.shapes[1]) if need[1] else None)


def _substitute(xp, t, b):
    """Forward/back substitution on a batch, for a triangular `t` with zeros on its
    diagonal (which LU refuses): the inf/nan that a triangular solver produces."""
    n = t.shape[-1]
    lower = bool((xp.triu(t, 1) == 0).all())
    x = xp.zeros(b.shape, dtype=np.result_type(t, b))
    order = range(n) if lower else range(n - 1, -1, -1)
    for i in order:
        acc = b[..., i, :] - (t[..., i, :, None] * x).sum(axis=-2)
        x[..., i, :] = acc / t[..., i, i, None]
    return x


def solve_triangular(A, B, *, upper, left=True, unitriangular=False):
    """The solution X of A X = B (or X A = B) for triangular A.

    Args:
        A: the triangular matrices (..., n, n).
        B: the right-hand sides.
        upper: A is upper triangular.
        left: solve A X = B (True) or X A = B.
        unitriangular: assume ones on the diagonal.

    Returns:
        Tensor.
    """
    return SolveTriangular.apply(A, B, upper=bool(upper), left=bool(left),
                                 unitriangular=bool(unitriangular))


# ---------------------------------------------------------------- cholesky


class Cholesky(Node):
    """L with A = L L^T from A's lower triangle (U = L^T with upper=True), and potrf's info.
    Backward (Murray 2016): with Phi(X) the lower triangle of X with its diagonal halved,
    S = L^-T Phi(L^T gL) L^-1 and gA = (S + S^T) / 2."""

    name = "LinalgCholeskyExBackward0"

    def forward(self, a, upper, check_errors, op):
        xp = array_module(a)
        n = a.shape[-1]
        low = None
        try:
            low = xp.linalg.cholesky(a)
            if low.size:  # (CuPy does not raise: a failed minor leaves d <= 0 or NaN there)
                dg = xp.diagonal(low, axis1=-2, axis2=-1)
                if not bool((dg > 0).all()):
                    low = None
        except np.linalg.LinAlgError:
            low = None
        if low is None:
            info, low = cholesky_info(a)
            if check_errors:
                bad = _host(info) != 0
                k = _first_index(bad)
                order = int(_host(info).reshape(-1)[k])
                raise LinAlgError(
                    f"{op}: {_batch_prefix(k, a.ndim > 2)}The factorization could not be "
                    f"completed because the input is not positive-definite (the leading minor "
                    f"of order {order} is not positive-definite).")
        else:
            info = xp.zeros(a.shape[:-2], dtype=np.int32)
        low = low * xp.tri(n, n, dtype=a.dtype)  # (a clean zero upper triangle)
        self.upper = upper
        out = _mT(low).copy() if upper else low
        self.save_for_backward(out)  # (the output itself: under create_graph it is in the graph)
        return out, info

    def backward(self, g, g_info=None):
        (low,) = self.saved_tensors
        if g is None:
            return None
        if self.upper:
            low, g = _mT(low), _mT(g)
        n = low.shape[-1]
        phi = _mT(low) @ g
        phi = phi * (_tri_mask(phi, n, True, strict=True) + 0.5 * _eye(phi, n))
        eye = _eye(low, n)
        low_inv = SolveTriangular.apply(low, eye, upper=False, left=True, unitriangular=False)
        s = _mT(low_inv) @ phi @ low_inv
        return 0.5 * (s + _mT(s))


# ---------------------------------------------------------------- svd


class Svd(Node):
    """A = U diag(S) Vh. Backward is PyTorch's svd_backward (real case): with E_ij =
    S_j^2 - S_i^2 (1 on the diagonal), gA = U [skew(U^T gU) S / E + S skew(Vh gVh^T) / E +
    diag(gS)] Vh, plus the terms for the part of gU (gVh) outside the span of U (V) when
    A is not square. With full_matrices, only the first k = min(m, n) columns of U (rows of
    Vh) carry a gradient, as PyTorch narrows them."""

    name = "LinalgSvdBackward0"

    def forward(self, a, full_matrices):
        xp = array_module(a)
        u, s, vh = xp.linalg.svd(a, full_matrices=full_matrices)
        self.full = full_matrices
        self.save_for_backward(u, s, vh)
        return u, s, vh

    def backward(self, gu, gs, gvh):
        u, s, vh = self.saved_tensors
        k = s.shape[-1]
        if self.full:
            u, vh = u[..., :k], vh[..., :k, :]
            gu = None if gu is None else gu[..., :k]
            gvh = None if gvh is None else gvh[..., :k, :]
        return svd_backward(gu, gs, gvh, u, s, vh)


def svd_backward(gu, gs, gvh, u, s, vh):
    m, n = u.shape[-2], vh.shape[-1]
    if gu is None and gvh is None:
        if gs is None:
            return None
        return (u * _row(gs)) @ vh
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = s * s
        e = _row(s2) - _col(s2) + _eye(s, s.shape[-1])
        uhgu = vhgv = None
        if gu is not None:
            uhgu = _mT(u) @ gu
            uhgu = uhgu - _mT(uhgu)
        if gvh is not None:
            vhgv = vh @ _mT(gvh)
            vhgv = vhgv - _mT(vhgv)
        if uhgu is not None and vhgv is not None:
            ga = (uhgu * _row(s) + _col(s) * vhgv) / e
        elif uhgu is not None:
            ga = uhgu * (_row(s) / e)
        else:
            ga = _col(s) * (vhgv / e)
        if gs is not None:
            ga = ga + _diag_embed(gs)
        if m > n and gu is not None:
            ga = u @ ga
            gu_sinv = gu / _row(s)
            ga = ga + gu_sinv - u @ (_mT(u) @ gu_sinv)
            return ga @ vh
        if m < n and gvh is not None:
            ga = ga @ vh
            sinv_gvh = gvh / _col(s)
            ga = ga + sinv_gvh - (sinv_gvh @ _mT(vh)) @ vh
            return u @ ga
        return u @ ga @ vh


# ---------------------------------------------------------------- eigh


class Eigh(Node):
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix, read from
    its lower (UPLO='L') or upper triangle. Backward (PyTorch's, real symmetric case):
    gA = V [skew(V^T gV) / E + diag(gL)] V^T with E_ij = L_j - L_i, skew(X) = (X - X^T)/2;
    symmetric, and finite only for distinct eigenvalues when gV is given."""

    name = "LinalgEighBackward0"

    def forward(self, a, uplo):
        w, v = array_module(a).linalg.eigh(a, UPLO=uplo)
        self.save_for_backward(w, v)
        return w, v

    def backward(self, gw, gv):
        w, v = self.saved_tensors
        if gv is None:
            if gw is None:
                return None
            return (v * _row(gw)) @ _mT(v)
        n = w.shape[-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            vhgv = _mT(v) @ gv
            vhgv = 0.5 * (vhgv - _mT(vhgv))
            e = _row(w) - _col(w) + _eye(w, n)
            inner = vhgv / e
            if gw is not None:  # the diagonal of vhgv / e is 0: put gL there
                inner = inner + _diag_embed(gw)
            return v @ inner @ _mT(v)


# ---------------------------------------------------------------- qr


def _copyltu(m):
    """The symmetric matrix with m's lower triangle (m's diagonal kept)."""
    n = m.shape[-1]
    low = m * _tri_mask(m, n, True, strict=True)
    return low + _mT(low) + m * _eye(m, n)


class Qr(Node):
    """A = Q R. Backward for m >= n (reduced): M = R gR^T - gQ^T Q, gA = (gQ + Q
    copyltu(M)) R^-T. For m < n, with A = [X | Y], R = [U | V]: gY = Q gV and gX the square
    case with gQ + Y gV^T. PyTorch raises for mode='r' (no Q) and mode='complete' with m > n;
    so does this backward."""

    name = "LinalgQrBackward0"

    def forward(self, a, mode):
        xp = array_module(a)
        self.mode = mode
        if mode == "r":
            r = xp.linalg.qr(a, mode="r")
            self.save_for_backward(a)
            return xp.zeros((0,), dtype=a.dtype), r
        q, r = xp.linalg.qr(a, mode=mode)
        self.save_for_backward(a, q, r)
        return q, r

    def backward(self, gq, gr):
        if self.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr.")
        a, q, r = self.saved_tensors
        m, n = a.shape[-2], a.shape[-1]
        if self.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if gq is None:
            gq = _zeros_like(q)
        if gr is None:
            gr = _zeros_like(r)
        xp = _xp(a)
        if m >= n:
            return _qr_backward_tall(q, r, gq, gr)
        y = a[..., m:]
        gv = gr[..., m:]
        gx = _qr_backward_tall(q, r[..., :m], gq + y @ _mT(gv), gr[..., :m])
        gy = q @ gv
        from .shape import cat

        if isinstance(gx, Tensor) or isinstance(gy, Tensor):
            return cat([gx, gy], -1)
        return xp.concatenate([gx, gy], axis=-1)


def _qr_backward_tall(q, r, gq, gr):
    mm = r @ _mT(gr) - _mT(gq) @ q
    b = gq + q @ _copyltu(mm)
    # gA = b R^-T: solve gA R^T = b from the right, R^T lower triangular
    return SolveTriangular.apply(_mT(r), b, upper=False, left=False, unitriangular=False)


# ---------------------------------------------------------------- pinv, lstsq


def _cutoff(xp, s, atol, rtol):
    """max(atol, rtol * s_max) per matrix, shaped (..., 1) against s (..., k)."""
    smax = s.max(axis=-1, keepdims=True) if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), s.dtype)
    at = 0.0 if atol is None else (atol[..., None] if hasattr(atol, "shape") and atol.ndim else atol)
    rt = rtol[..., None] if hasattr(rtol, "shape") and rtol.ndim else rtol
    return xp.maximum(at, rt * smax)


class LinalgPinv(Pinverse):
    """torch.linalg.pinv: singular values at most max(atol, rtol * s_max) are treated as 0
    (eigenvalues by absolute value for hermitian=True). The backward is Pinverse's, the
    constant-rank formula PyTorch's pinv_backward uses."""

    name = "LinalgPinvBackward0"

    def forward(self, a, atol, rtol, hermitian):
        xp = array_module(a)
        if hermitian:
            w, v = xp.linalg.eigh(a)
            keep = xp.abs(w) > _cutoff(xp, xp.abs(w), atol, rtol)
            inv = xp.where(keep, 1.0 / xp.where(keep, w, 1.0), 0.0).astype(a.dtype)
            p = (v * inv[..., None, :]) @ _mT(v)
        else:
            u, s, vh = xp.linalg.svd(a, full_matrices=False)
            keep = s > _cutoff(xp, s, atol, rtol)
            inv = xp.where(keep, 1.0 / xp.where(keep, s, 1.0), 0.0).astype(a.dtype)
            p = (_mT(vh) * inv[..., None, :]) @ _mT(u)
        self.save_for_backward(a, p)
        return p


class LstsqSolution(Node):
    """The least-squares solution, pinv(A) B with singular values below rcond * s_max
    dropped. Its backward is PyTorch's (through the pseudo-inverse): gB = pinv(A)^T gX,
    gA = pinv_backward(gX B^T)."""

    name = "LinalgLstsqBackward0"

    def forward(self, a, b, rcond, vector):
        xp = array_module(a)
        self.rcond, self.vector, self.shapes = rcond, vector, (a.shape, b.shape)
        p = LinalgPinv().forward(a, None, rcond, False)
        bm = b[..., None] if vector else b
        x = p @ bm
        self.save_for_backward(a, b)
        return x[..., 0] if vector else x

    def backward(self, g):
        a, b = self.saved_tensors
        need = self.needs_input_grad
        p = LinalgPinv.apply(a, atol=None, rtol=self.rcond, hermitian=False)
        if self.vector:
            g, b = _col(g), _col(b)
        gb = _mT(p) @ g if need[1] else None
        ga = None
        if need[0]:
            gp = g @ _mT(b)
            pt, gpt = _mT(p), _mT(gp)
            m, n = a.shape[-2], a.shape[-1]
            # (the Tensor on the left of I - A P: a raw CuPy identity first would try to
            # convert a Tensor under create_graph)
            ga = (-(pt @ gp @ pt) + (-(a @ p) + _eye(a, m)) @ gpt @ p @ pt
                  + pt @ p @ gpt @ (-(p @ a) + _eye(a, n)))
            ga = sum_to(ga, self.shapes[0])
        if gb is not None:
            if self.vector:
                gb = gb[..., 0]
            gb = sum_to(gb, self.shapes[1])
        return ga, gb
