"""Linear algebra beyond the table: shape errors (GUIDE section 5), the node names PyTorch
gives each matmul case, and values against PyTorch on larger batched shapes."""
import numpy as np
import pytest

import autograd_gpu as ag
from conftest import to_numpy


def _r(*shape, device="cpu"):
    return ag.tensor(np.random.default_rng(len(shape)).standard_normal(shape), device=device)


@pytest.mark.parametrize("sa,sb,msg", [
    ((2, 3), (4, 5), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"),
    ((2, 3), (4,), r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x1\)"),
    ((3,), (4, 2), r"mat1 and mat2 shapes cannot be multiplied \(1x3 and 4x2\)"),
    ((3,), (4,), r"shapes cannot be multiplied"),
])
def test_matmul_shape_mismatch_message(sa, sb, msg, device):
    a, b = _r(*sa, device=device), _r(*sb, device=device)
    with pytest.raises(RuntimeError, match=msg):
        a @ b
    with pytest.raises(RuntimeError, match=msg):
        ag.matmul(a, b)


def test_mm_mismatch_message(device):
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        ag.mm(_r(2, 3, device=device), _r(4, 5, device=device))


def test_batched_matmul_errors_name_the_dimensions(device):
    with pytest.raises(RuntimeError, match=r"inner dimensions 3 and 4 must be equal"):
        _r(2, 2, 3, device=device) @ _r(2, 4, 5, device=device)
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                       r"tensor b \(3\) at non-singleton dimension 0"):
        _r(2, 2, 3, device=device) @ _r(3, 3, 5, device=device)
    with pytest.raises(RuntimeError, match=r"at least 1D, but they are 0D and 1D"):
        ag.tensor(2.0, device=device) @ _r(3, device=device)


def test_strict_forms_check_ranks(device):
    with pytest.raises(RuntimeError, match="2-D"):
        ag.mm(_r(2, 3, device=device), _r(3, device=device))
    with pytest.raises(RuntimeError, match="3-D"):
        ag.bmm(_r(2, 3, device=device), _r(3, 2, device=device))
    with pytest.raises(RuntimeError, match="1D tensors expected"):
        ag.dot(_r(2, 3, device=device), _r(3, device=device))
    with pytest.raises(RuntimeError, match=r"inconsistent tensor size.*\[3\].*\[4\]"):
        ag.dot(_r(3, device=device), _r(4, device=device))
    with pytest.raises(RuntimeError, match="mv"):
        ag.mv(_r(2, 3, device=device), _r(3, 1, device=device))


def test_inverse_and_solve_errors(device):
    with pytest.raises(RuntimeError, match="square matrices, but they are 2 by 3"):
        ag.inverse(ag.zeros((2, 3), device=device))
    with pytest.raises(RuntimeError, match="singular"):
        ag.inverse(ag.zeros((2, 2), device=device))
    with pytest.raises(RuntimeError, match=r"Incompatible shapes of A and B .*\(3x3 and 4x1\)"):
        ag.solve(ag.eye(3, device=device), _r(4, device=device))
    with pytest.raises(RuntimeError, match="singular"):
        ag.solve(ag.zeros((3, 3), device=device), _r(3, device=device))


@pytest.mark.parametrize("sa,sb,name", [
    ((3,), (3,), "DotBackward0"),
    ((2, 3), (3,), "MvBackward0"),
    ((2, 3), (3, 4), "MmBackward0"),
])
def test_matmul_node_names(sa, sb, name, device):
    a = _r(*sa, device=device).requires_grad_()
    assert repr((a @ _r(*sb, device=device)).grad_fn).startswith(f"<{name} object")


@pytest.mark.parametrize("sa,sb", [((4, 1, 3, 5), (2, 5, 6)), ((7, 5), (3, 5, 2)), ((3, 4, 5), (5,)), ((5,), (2, 5, 3))])
def test_broadcast_batched_matmul_matches_torch(sa, sb, device, torch):
    rng = np.random.default_rng(3)
    a_np, b_np = rng.standard_normal(sa), rng.standard_normal(sb)
    a = ag.tensor(a_np, device=device, requires_grad=True)
    b = ag.tensor(b_np, device=device, requires_grad=True)
    ta = torch.tensor(a_np, requires_grad=True)
    tb = torch.tensor(b_np, requires_grad=True)
    y, ty = a @ b, ta @ tb
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(tuple(ty.shape))
    ga, gb = ag.autograd.grad(y, (a, b), ag.tensor(v, device=device))
    tga, tgb = torch.autograd.grad(ty, (ta, tb), torch.tensor(v))
    np.testing.assert_allclose(to_numpy(ga), tga.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gb), tgb.numpy(), rtol=1e-12, atol=1e-12)


def test_pinverse_of_rank_deficient_matches_torch_forward(device, torch):
    a_np = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    p = ag.pinverse(ag.tensor(a_np, device=device))
    np.testing.assert_allclose(to_numpy(p), torch.pinverse(torch.tensor(a_np)).numpy(), atol=1e-12)


def test_solve_matches_inverse(device):
    rng = np.random.default_rng(4)
    a = ag.tensor(rng.standard_normal((2, 3, 3)) + 3 * np.eye(3), device=device)
    b = ag.tensor(rng.standard_normal((2, 3, 2)), device=device)
    np.testing.assert_allclose(to_numpy(ag.solve(a, b)), to_numpy(ag.inverse(a) @ b), rtol=1e-12, atol=1e-12)
