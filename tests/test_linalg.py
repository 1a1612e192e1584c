"""autograd_gpu.linalg against torch.linalg: values and gradients in float64 (and float32),
gradcheck and gradgradcheck of every differentiable function, named-tuple fields, the
documented degenerate cases of svd/eigh gradients, and PyTorch's error messages."""
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import linalg as LA
from autograd_gpu.autograd import gradcheck, gradgradcheck
from conftest import to_numpy


def _np(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _pair(arr, device, torch, grad=True):
    a = ag.tensor(arr, device=device, requires_grad=grad)
    t = torch.tensor(arr, requires_grad=grad)
    return a, t


def _spd(x):  # a symmetric positive-definite matrix of x (either library)
    n = x.shape[-2]
    eye = ag.eye(n, dtype=x.dtype, device=x.device) if isinstance(x, ag.Tensor) else None
    if eye is None:
        import torch as _t

        eye = _t.eye(n, dtype=x.dtype)
    return x @ x.mT + n * eye


def _sym(x):
    return x + x.mT


def _check_against_torch(fn_ag, fn_t, arrays, device, torch, rtol=1e-7, atol=1e-9, seed=1):
    """The outputs of fn_ag and fn_t on the same float64 inputs, and the gradients of
    sum(w_i * out_i) for random weights w_i."""
    ins = [_pair(a, device, torch) for a in arrays]
    outs_a = fn_ag(*[p[0] for p in ins])
    outs_t = fn_t(*[p[1] for p in ins])
    if not isinstance(outs_a, tuple):
        outs_a, outs_t = (outs_a,), (outs_t,)
    loss_a, loss_t = 0, 0
    for k, (oa, ot) in enumerate(zip(outs_a, outs_t)):
        np.testing.assert_allclose(to_numpy(oa), ot.detach().numpy(), rtol=rtol, atol=atol)
        w = _np(tuple(ot.shape), seed + k)
        loss_a = loss_a + (oa * ag.tensor(w, device=device)).sum()
        loss_t = loss_t + (ot * torch.tensor(w)).sum()
    ga = ag.autograd.grad(loss_a, [p[0] for p in ins], allow_unused=True)
    gt = torch.autograd.grad(loss_t, [p[1] for p in ins], allow_unused=True)
    for a, t, arr in zip(ga, gt, arrays):  # (None: no gradient, compared as zeros)
        a = np.zeros(arr.shape) if a is None else to_numpy(a)
        t = np.zeros(arr.shape) if t is None else t.numpy()
        np.testing.assert_allclose(a, t, rtol=1e-6, atol=1e-8)


def _checks(fn, arrays, device):
    inputs = [ag.tensor(a, device=device, requires_grad=True) for a in arrays]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


# ------------------------------------------------------------ decompositions


def _svd_invariant(lib):
    # U f(S) Vh does not depend on the signs LAPACK picks for the singular vectors
    def f(a):
        u, s, vh = lib.linalg.svd(a, full_matrices=False)
        return (u * (s * s + s)[..., None, :]) @ vh, s

    return f


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_svd_matches_torch(shape, device, torch):
    _check_against_torch(_svd_invariant(ag), _svd_invariant(torch), [_np(shape)], device, torch)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 3)])
def test_svd_gradcheck_all_outputs(shape, device):
    _checks(lambda a: tuple(LA.svd(a, full_matrices=False)), [_np(shape, 2)], device)


def test_svd_full_matrices_shapes_and_gradient(device, torch):
    r = LA.svd(ag.tensor(_np((4, 2)), device=device), full_matrices=True)
    assert (tuple(r.U.shape), tuple(r.S.shape), tuple(r.Vh.shape)) == ((4, 4), (2,), (2, 2))
    rec = (r.U[:, :2] * r.S) @ r.Vh
    np.testing.assert_allclose(to_numpy(rec), _np((4, 2)), atol=1e-12)
    # as PyTorch narrows U to its first k columns in backward, the other columns get none
    a = ag.tensor(_np((4, 2)), device=device, requires_grad=True)
    ga, = ag.autograd.grad(LA.svd(a).U[:, 2:].sum(), [a])
    assert (to_numpy(ga) == 0).all()
    _checks(lambda a: (LA.svd(a).U[:, :2], LA.svd(a).Vh), [_np((4, 2))], device)


@pytest.mark.parametrize("shape", [(3, 2), (2, 3, 3), (2, 5)])
def test_svdvals_matches_torch_and_grads(shape, device, torch):
    _check_against_torch(LA.svdvals, torch.linalg.svdvals, [_np(shape)], device, torch)
    _checks(LA.svdvals, [_np(shape, 4)], device)


def test_eigh_matches_torch(device, torch):
    def f(lib):
        def g(a):
            w, v = lib.linalg.eigh(_sym(a))
            return (v * (w ** 3)[..., None, :]) @ v.mT, w

        return g

    _check_against_torch(f(ag), f(torch), [_np((2, 3, 3))], device, torch)
    _check_against_torch(lambda a: LA.eigvalsh(_sym(a), UPLO="U"),
                         lambda a: torch.linalg.eigvalsh(_sym(a), UPLO="U"), [_np((4, 4))],
                         device, torch)
    _checks(lambda a: tuple(LA.eigh(_sym(a))), [_np((3, 3), 5)], device)
    _checks(lambda a: LA.eigvalsh(_sym(a)), [_np((2, 3, 3), 6)], device)


def test_eigh_reads_one_triangle(device, torch):
    a = _np((3, 3), 7)
    for uplo in ("L", "U"):
        w = LA.eigh(ag.tensor(a, device=device), UPLO=uplo).eigenvalues
        np.testing.assert_allclose(to_numpy(w), torch.linalg.eigvalsh(torch.tensor(a), UPLO=uplo),
                                   rtol=1e-10)


def test_repeated_values_gradients_as_pytorch_documents(device, torch):
    """svdvals/eigvalsh gradients stay finite at repeated values; gradients through the
    singular vectors/eigenvectors are then not finite, in both libraries."""
    eye = np.eye(3)
    a, t = _pair(eye, device, torch)
    ga, = ag.autograd.grad(LA.eigvalsh(a).sum(), [a])
    gt, = torch.autograd.grad(torch.linalg.eigvalsh(t).sum(), [t])
    np.testing.assert_allclose(to_numpy(ga), gt.numpy(), atol=1e-12)
    ga, = ag.autograd.grad(LA.svdvals(a).sum(), [a])
    gt, = torch.autograd.grad(torch.linalg.svdvals(t).sum(), [t])
    np.testing.assert_allclose(to_numpy(ga), gt.numpy(), atol=1e-12)
    w = _np((3, 3), 8)
    ga, = ag.autograd.grad((LA.eigh(a).eigenvectors * ag.tensor(w, device=device)).sum(), [a])
    gt, = torch.autograd.grad((torch.linalg.eigh(t).eigenvectors * torch.tensor(w)).sum(), [t])
    assert not np.isfinite(to_numpy(ga)).all() and not np.isfinite(gt.numpy()).all()
    ga, = ag.autograd.grad((LA.svd(a).U * ag.tensor(w, device=device)).sum(), [a])
    gt, = torch.autograd.grad((torch.linalg.svd(t).U * torch.tensor(w)).sum(), [t])
    assert not np.isfinite(to_numpy(ga)).all() and not np.isfinite(gt.numpy()).all()


@pytest.mark.parametrize("shape,mode", [((4, 3), "reduced"), ((3, 3), "complete"),
                                        ((2, 4), "reduced"), ((2, 4, 2), "reduced")])
def test_qr_matches_torch(shape, mode, device, torch):
    _check_against_torch(lambda a: tuple(LA.qr(a, mode)), lambda a: tuple(torch.linalg.qr(a, mode)),
                         [_np(shape)], device, torch)
    _checks(lambda a: tuple(LA.qr(a, mode)), [_np(shape, 9)], device)


def test_qr_modes(device, torch):
    a = _np((4, 2))
    q, r = LA.qr(ag.tensor(a, device=device), mode="complete")
    assert tuple(q.shape) == (4, 4) and tuple(r.shape) == (4, 2)
    q, r = LA.qr(ag.tensor(a, device=device), mode="r")
    assert q.numel() == 0
    np.testing.assert_allclose(to_numpy(r), torch.linalg.qr(torch.tensor(a), mode="r").R.numpy(),
                               atol=1e-12)
    x = ag.tensor(a, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"depends on Q, which is not computed when mode='r'"):
        LA.qr(x, mode="r").R.sum().backward()
    with pytest.raises(RuntimeError, match=r"not differentiable when mode='complete' and nrows > ncols"):
        LA.qr(x, mode="complete").Q.sum().backward()


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_matches_torch(upper, device, torch):
    _check_against_torch(lambda a: LA.cholesky(_spd(a), upper=upper),
                         lambda a: torch.linalg.cholesky(_spd(a), upper=upper),
                         [_np((2, 3, 3))], device, torch)
    _checks(lambda a: LA.cholesky(_spd(a), upper=upper), [_np((3, 3), 10)], device)


def test_cholesky_errors_and_info(device, torch):
    bad = np.array([[1.0, 2.0], [2.0, 1.0]])
    msg = ("linalg.cholesky: The factorization could not be completed because the input is not "
           "positive-definite (the leading minor of order 2 is not positive-definite).")
    with pytest.raises(LA.LinAlgError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        LA.cholesky(ag.tensor(bad, device=device))
    with pytest.raises(RuntimeError, match=r"\(Batch element 1\): The factorization"):
        LA.cholesky(ag.tensor(np.stack([np.eye(2), bad]), device=device))
    r = LA.cholesky_ex(ag.tensor(bad, device=device))
    t = torch.linalg.cholesky_ex(torch.tensor(bad))
    assert int(r.info.item()) == int(t.info) == 2 and r.info.dtype == ag.int32
    np.testing.assert_allclose(to_numpy(r.L), t.L.numpy())
    third = np.diag([1.0, 2.0, -1.0])
    assert int(LA.cholesky_ex(ag.tensor(third, device=device)).info.item()) == 3
    assert int(LA.cholesky_ex(ag.tensor(np.eye(2), device=device)).info.item()) == 0
    with pytest.raises(RuntimeError, match="A must be batches of square matrices, but they are 2 by 3"):
        LA.cholesky(ag.ones((2, 3), device=device))
    with pytest.raises(RuntimeError, match="The input tensor A must have at least 2 dimensions"):
        LA.cholesky(ag.ones(3, device=device))
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor as input. Got Long"):
        LA.cholesky(ag.ones((2, 2), dtype=ag.int64, device=device))


# ------------------------------------------------------------ solvers and inverses


@pytest.mark.parametrize("left,upper,unit", [(True, False, False), (True, True, True),
                                             (False, True, False)])
def test_solve_triangular(left, upper, unit, device, torch):
    a = _np((3, 3)) + 3 * np.eye(3)
    b = _np((2, 3, 2) if left else (2, 2, 3), 1)
    _check_against_torch(
        lambda A, B: LA.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit),
        lambda A, B: torch.linalg.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit),
        [a, b], device, torch)
    _checks(lambda A, B: LA.solve_triangular(A, B, upper=upper, left=left, unitriangular=unit),
            [a, b[0]], device)


def test_inv_solve_det_match_torch(device, torch):
    a = _np((2, 3, 3)) + 3 * np.eye(3)
    _check_against_torch(LA.inv, torch.linalg.inv, [a], device, torch)
    _check_against_torch(LA.solve, torch.linalg.solve, [a, _np((2, 3), 1)], device, torch)
    _check_against_torch(LA.solve, torch.linalg.solve, [a, _np((3, 2), 1)], device, torch)
    _check_against_torch(lambda A, B: LA.solve(A, B, left=False),
                         lambda A, B: torch.linalg.solve(A, B, left=False),
                         [a, _np((2, 4, 3), 1)], device, torch)
    _check_against_torch(LA.det, torch.linalg.det, [a], device, torch)
    _check_against_torch(lambda A: tuple(LA.slogdet(A)), lambda A: tuple(torch.linalg.slogdet(A)),
                         [a], device, torch)
    _check_against_torch(lambda A: LA.matrix_power(A, -2), lambda A: torch.linalg.matrix_power(A, -2),
                         [a], device, torch)
    _checks(lambda A, B: LA.solve(A, B), [a[0], _np((3,), 2)], device)
    _checks(LA.inv, [a[0]], device)
    r = LA.inv_ex(ag.tensor(a, device=device))
    assert (to_numpy(r.info) == 0).all()
    np.testing.assert_allclose(to_numpy(r.inverse), np.linalg.inv(a), rtol=1e-12)


def test_singular_errors_and_info(device, torch):
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    with pytest.raises(LA.LinAlgError, match=r"^linalg.inv: The diagonal element 2 is zero, the "
                       r"inversion could not be completed because the input matrix is singular.$"):
        LA.inv(ag.tensor(s, device=device))
    with pytest.raises(RuntimeError, match=r"linalg.inv: \(Batch element 1\): The diagonal element 1"):
        LA.inv(ag.tensor(np.stack([np.eye(2), np.zeros((2, 2))]), device=device))
    r = LA.inv_ex(ag.tensor(s, device=device))
    assert int(r.info.item()) == int(torch.linalg.inv_ex(torch.tensor(s)).info) == 2
    with pytest.raises(RuntimeError, match=r"^torch.linalg.solve: The solver failed because the "
                       r"input matrix is singular.$"):
        LA.solve(ag.zeros((3, 3), dtype=ag.float64, device=device), ag.ones(3, dtype=ag.float64, device=device))
    with pytest.raises(RuntimeError, match=r"linalg.solve: A must be batches of square matrices"):
        LA.solve(ag.ones((2, 3), device=device), ag.ones(2, device=device))


@pytest.mark.parametrize("driver", [None, "gelsd", "gelss", "gels"])
def test_lstsq_outputs_as_torch(driver, device, torch):
    a, b = _np((5, 3)), _np((5, 2), 1)
    r = LA.lstsq(ag.tensor(a, device=device), ag.tensor(b, device=device), driver=driver)
    t = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for name in ("solution", "residuals", "rank", "singular_values"):
        np.testing.assert_allclose(to_numpy(getattr(r, name)), getattr(t, name).numpy(), rtol=1e-9,
                                   err_msg=name)
        assert getattr(r, name).shape == getattr(t, name).shape, name


def test_lstsq_gradients(device, torch):
    _check_against_torch(lambda A, B: LA.lstsq(A, B).solution,
                         lambda A, B: torch.linalg.lstsq(A, B).solution,
                         [_np((4, 2)), _np((4, 3), 1)], device, torch)
    _check_against_torch(lambda A, B: LA.lstsq(A, B, driver="gelsd").residuals,
                         lambda A, B: torch.linalg.lstsq(A, B, driver="gelsd").residuals,
                         [_np((4, 2)), _np((4, 3), 1)], device, torch)
    _checks(lambda A, B: LA.lstsq(A, B).solution, [_np((4, 2)), _np((4,), 1)], device)
    _checks(lambda A, B: LA.lstsq(A, B).solution, [_np((2, 3)), _np((2, 2), 1)], device)


def test_lstsq_errors(device):
    with pytest.raises(RuntimeError, match=r"input.size\(-2\) should match other.size\(-2\)"):
        LA.lstsq(ag.ones((3, 2), device=device), ag.ones((4, 1), device=device))
    with pytest.raises(RuntimeError, match="input must have at least 2 dimensions"):
        LA.lstsq(ag.ones(3, device=device), ag.ones(3, device=device))
    with pytest.raises(RuntimeError, match=r"parameter `driver` should be one of \(gels, gelsy, gelsd, gelss\)"):
        LA.lstsq(ag.ones((3, 2), device=device), ag.ones((3, 1), device=device), driver="foo")


def test_pinv_and_matrix_rank(device, torch):
    a = _np((4, 3))
    a[:, 2] = a[:, 0] + a[:, 1]  # rank 2
    _check_against_torch(LA.pinv, torch.linalg.pinv, [_np((2, 4, 3))], device, torch)
    _check_against_torch(lambda x: LA.pinv(_sym(x), hermitian=True),
                         lambda x: torch.linalg.pinv(_sym(x), hermitian=True), [_np((3, 3))],
                         device, torch)
    np.testing.assert_allclose(to_numpy(LA.pinv(ag.tensor(a, device=device))),
                               torch.linalg.pinv(torch.tensor(a)).numpy(), rtol=1e-8, atol=1e-10)
    for kw in ({}, {"atol": 1.0}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 0.0}):
        assert int(LA.matrix_rank(ag.tensor(a, device=device), **kw).item()) == int(
            torch.linalg.matrix_rank(torch.tensor(a), **kw)), kw
    assert LA.matrix_rank(ag.tensor(a, device=device)).dtype == ag.int64
    _checks(LA.pinv, [_np((3, 2))], device)
    with pytest.raises(RuntimeError, match=r"linalg.pinv\(Float\{\[3\]\}\): expected a tensor with 2 or more"):
        LA.pinv(ag.ones(3, device=device))
    with pytest.raises(RuntimeError, match="torch.linalg.matrix_rank: The input tensor input must have at least 2"):
        LA.matrix_rank(ag.ones(3, device=device))


# ------------------------------------------------------------ norms and products


@pytest.mark.parametrize("ord", [2, 1, 3, 0.5, math.inf, -math.inf, 0])
@pytest.mark.parametrize("dim", [None, -1, (0, 1)])
def test_vector_norm(ord, dim, device, torch):
    fa = lambda x: LA.vector_norm(x, ord, dim)  # noqa: E731
    ft = lambda x: torch.linalg.vector_norm(x, ord, dim)  # noqa: E731
    _check_against_torch(fa, ft, [_np((2, 3))], device, torch)
    if ord not in (0, math.inf, -math.inf):
        _checks(fa, [_np((2, 3), 3)], device)


@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf])
def test_matrix_norm(ord, device, torch):
    _check_against_torch(lambda x: LA.matrix_norm(x, ord), lambda x: torch.linalg.matrix_norm(x, ord),
                         [_np((2, 3, 4))], device, torch)
    _check_against_torch(lambda x: LA.matrix_norm(x, ord, dim=(2, 0), keepdim=True),
                         lambda x: torch.linalg.matrix_norm(x, ord, dim=(2, 0), keepdim=True),
                         [_np((3, 2, 4))], device, torch)
    _checks(lambda x: LA.matrix_norm(x, ord), [_np((3, 2), 4)], device)


def test_norm_dispatch_and_names(device, torch):
    x = _np((3, 4))
    for kw in ({}, {"ord": "fro"}, {"ord": "nuc"}, {"ord": 2}, {"ord": 1, "dim": 1},
               {"dim": (0, 1), "ord": -1}, {"ord": math.inf}, {"keepdim": True}):
        np.testing.assert_allclose(to_numpy(LA.norm(ag.tensor(x, device=device), **kw)),
                                   torch.linalg.norm(torch.tensor(x), **kw).numpy(), rtol=1e-12,
                                   err_msg=str(kw))
    np.testing.assert_allclose(to_numpy(LA.norm(ag.tensor(x[0], device=device), 3)),
                               torch.linalg.norm(torch.tensor(x[0]), 3).numpy(), rtol=1e-12)
    a = ag.tensor(x, device=device, requires_grad=True)
    assert type(LA.vector_norm(a)).__name__ == "Tensor"
    assert LA.vector_norm(a).grad_fn.name() == "LinalgVectorNormBackward0"
    assert LA.svd(a).S.grad_fn.name() == "LinalgSvdBackward0"
    assert LA.cholesky(_spd(a)).grad_fn.name() == "LinalgCholeskyExBackward0"
    assert LA.qr(a).Q.grad_fn.name() == "LinalgQrBackward0"
    assert LA.eigh(_sym(a[:, :3])).eigenvalues.grad_fn.name() == "LinalgEighBackward0"
    assert LA.pinv(a).grad_fn.name() == "LinalgPinvBackward0"
    assert LA.lstsq(a, a).solution.grad_fn.name() == "LinalgLstsqBackward0"
    assert LA.solve_triangular(a[:, :3], a, upper=True).grad_fn.name() == "LinalgSolveTriangularBackward0"


def test_norm_errors(device):
    with pytest.raises(TypeError, match="argument 'ord' must be Number, not str"):
        LA.vector_norm(ag.ones((3, 3), device=device), ord="fro")
    with pytest.raises(RuntimeError, match="If dim is not specified but ord is, the input must be 1D or 2D. Got 3D"):
        LA.norm(ag.ones((3, 3, 3), device=device), ord=2)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: dim must be a 2-tuple. Got 0"):
        LA.matrix_norm(ag.ones((3, 3), device=device), dim=0)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: Order 3 not supported"):
        LA.matrix_norm(ag.ones((3, 3), device=device), ord=3)
    with pytest.raises(RuntimeError, match="linalg.matrix_norm: The input tensor A must have at least 2"):
        LA.matrix_norm(ag.ones(3, device=device))


def test_products(device, torch):
    _check_against_torch(lambda a, b, c: LA.multi_dot([a, b, c]),
                         lambda a, b, c: torch.linalg.multi_dot([a, b, c]),
                         [_np(3), _np((3, 5)), _np((5, 2))], device, torch)
    _check_against_torch(lambda a, b, c, d: LA.multi_dot([a, b, c, d]),
                         lambda a, b, c, d: torch.linalg.multi_dot([a, b, c, d]),
                         [_np((2, 6)), _np((6, 1)), _np((1, 4)), _np(4)], device, torch)
    _check_against_torch(lambda a, b: LA.vecdot(a, b), lambda a, b: torch.linalg.vecdot(a, b),
                         [_np((2, 3)), _np(3)], device, torch)
    _check_against_torch(lambda a, b: LA.cross(a, b), lambda a, b: torch.linalg.cross(a, b),
                         [_np((2, 3)), _np((2, 3), 1)], device, torch)
    _check_against_torch(lambda a: LA.diagonal(a, offset=1), lambda a: torch.linalg.diagonal(a, offset=1),
                         [_np((2, 3, 4))], device, torch)
    _check_against_torch(LA.matmul, torch.linalg.matmul, [_np((2, 3)), _np((3, 2))], device, torch)
    with pytest.raises(RuntimeError, match=r"multi_dot\(\): expected at least 2 tensors but got 1"):
        LA.multi_dot([ag.ones(3, device=device)])
    with pytest.raises(RuntimeError, match=r"tensors 0 and 1 with shapes \[3, 2\] and \[3, 2\] cannot be multiplied"):
        LA.multi_dot([ag.ones((3, 2), device=device), ag.ones((3, 2), device=device)])
    with pytest.raises(RuntimeError, match=r"expected tensor \[3\] and src \[4\]"):
        LA.vecdot(ag.ones(3, device=device), ag.ones(4, device=device))


def test_float32_values(device, torch):
    a = _np((3, 3)).astype(np.float32)
    spd = a @ a.T + 3 * np.eye(3, dtype=np.float32)
    x, t = ag.tensor(spd, device=device), torch.tensor(spd)
    for fa, ft in ((LA.cholesky, torch.linalg.cholesky), (LA.eigvalsh, torch.linalg.eigvalsh),
                   (LA.svdvals, torch.linalg.svdvals), (LA.inv, torch.linalg.inv),
                   (LA.det, torch.linalg.det), (LA.matrix_norm, torch.linalg.matrix_norm)):
        out = fa(x)
        assert out.dtype == ag.float32
        np.testing.assert_allclose(to_numpy(out), ft(t).numpy(), rtol=2e-3, atol=1e-5)


def test_result_fields(device):
    a = ag.tensor(_np((3, 3)) + 3 * np.eye(3), device=device)
    assert LA.svd(a)._fields == ("U", "S", "Vh")
    assert LA.eigh(a)._fields == ("eigenvalues", "eigenvectors")
    assert LA.qr(a)._fields == ("Q", "R")
    assert LA.slogdet(a)._fields == ("sign", "logabsdet")
    assert LA.cholesky_ex(_spd(a))._fields == ("L", "info")
    assert LA.inv_ex(a)._fields == ("inverse", "info")
    assert LA.lstsq(a, a)._fields == ("solution", "residuals", "rank", "singular_values")
    assert ag.linalg is LA
