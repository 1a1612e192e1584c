"""Arithmetic beyond the table: broadcast errors (GUIDE section 5), result dtypes against
PyTorch's promotion rules, higher derivatives, and a property test of broadcasting gradients."""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_gpu as ag
from conftest import to_numpy


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_broadcast_mismatch_message(op, device):
    a = ag.ones((2, 3), device=device)
    b = ag.ones((2, 4), device=device)
    f = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b,
         "**": lambda: a ** b}[op]
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of "
                       r"tensor b \(4\) at non-singleton dimension 1"):
        f()


def test_broadcast_mismatch_names_the_dimension_of_the_longer_shape(device):
    with pytest.raises(RuntimeError, match=r"tensor a \(3\) must match the size of tensor b \(4\) "
                       r"at non-singleton dimension 2"):
        ag.ones((2, 3), device=device) * ag.ones((4, 1, 4), device=device)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_binary_elementwise_broadcast_message(name, device):
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\)"):
        getattr(ag, name)(ag.ones(3, device=device), ag.ones(4, device=device))


DTYPE_CASES = {
    "int / int": lambda M: M.tensor([1, 2]) / M.tensor([2, 4]),
    "int / 2": lambda M: M.tensor([1, 2]) / 2,
    "int * 2.5": lambda M: M.tensor([1, 2]) * 2.5,
    "2.5 * int": lambda M: 2.5 * M.tensor([1, 2]),
    "int - 0.5": lambda M: M.tensor([1, 2]) - 0.5,
    "0.5 - int": lambda M: 0.5 - M.tensor([1, 2]),
    "int + 3": lambda M: M.tensor([1, 2]) + 3,
    "3 - int": lambda M: 3 - M.tensor([1, 2]),
    "int ** 2": lambda M: M.tensor([1, 2]) ** 2,
    "2 ** int": lambda M: 2 ** M.tensor([1, 2]),
    "2.0 ** int": lambda M: 2.0 ** M.tensor([1, 2]),
    "f32 + f64": lambda M: M.tensor([1.0, 2.0]) + M.tensor([1.0, 2.0], dtype=M.float64),
    "f32 * int": lambda M: M.tensor([1.0, 2.0]) * M.tensor([1, 2]),
    "f64 * int": lambda M: M.tensor([1.0, 2.0], dtype=M.float64) * M.tensor([1, 2]),
    "f32 * 2.5": lambda M: M.tensor([1.0, 2.0]) * 2.5,
    "f64 / 3": lambda M: M.tensor([1.0, 2.0], dtype=M.float64) / 3,
    "f32 ** 0.5": lambda M: M.tensor([1.0, 2.0]) ** 0.5,
    "2.0 ** f32": lambda M: 2.0 ** M.tensor([1.0, 2.0]),
    "f16 * 2.5": lambda M: M.tensor([1.0, 2.0], dtype=M.float16) * 2.5,
    "-int": lambda M: -M.tensor([1, 2]),
    "bool + bool": lambda M: M.tensor([True, False]) + M.tensor([True, True]),
    "floor div int": lambda M: M.div(M.tensor([5, -5, 7]), 2, rounding_mode="floor"),
    "trunc div int": lambda M: M.div(M.tensor([5, -5, 7]), M.tensor([2, 2, -2]), rounding_mode="trunc"),
    "floor div f32": lambda M: M.div(M.tensor([5.0, -5.0]), 2, rounding_mode="floor"),
    "int @ int": lambda M: M.tensor([[1, 2]]) @ M.tensor([[3], [4]]),
    "sum int": lambda M: M.tensor([1, 5]).sum(),
    "sum bool": lambda M: M.tensor([True, True]).sum(),
    "prod int": lambda M: M.tensor([2, 5]).prod(),
    "abs int": lambda M: M.abs(M.tensor([-1, 4])),
    "clamp int": lambda M: M.clamp(M.tensor([1, 5]), 2, 4),
    "cat f32 f64": lambda M: M.cat([M.tensor([1.0]), M.tensor([2.0], dtype=M.float64)]),
    # NumPy scalars behave as Python numbers
    "f32 * np.float64": lambda M: M.tensor([1.0, 2.0]) * np.float64(2.5),
    "np.float64 * f32": lambda M: np.float64(2.5) * M.tensor([1.0, 2.0]),
    "np.float64 - f32": lambda M: np.float64(2.5) - M.tensor([1.0, 2.0]),
    "f32 / np.float64": lambda M: M.tensor([1.0, 2.0]) / np.sqrt(2.0),
    "np.float64 / f32": lambda M: np.float64(3.0) / M.tensor([1.0, 2.0]),
    "f32 + np.float64": lambda M: M.tensor([1.0, 2.0]) + np.float64(0.5),
    "f32 ** np.float64": lambda M: M.tensor([1.0, 2.0]) ** np.float64(1.5),
    "np.float64 ** f32": lambda M: np.float64(2.0) ** M.tensor([1.0, 2.0]),
    "f64 * np.float64": lambda M: M.tensor([1.0, 2.0], dtype=M.float64) * np.float64(2.5),
    "f32 * np.float32": lambda M: M.tensor([1.0, 2.0]) * np.float32(2.5),
    "f32 / np.int64": lambda M: M.tensor([1.0, 2.0]) / np.int64(2),
}


@pytest.mark.parametrize("name", sorted(DTYPE_CASES))
def test_result_dtype_and_value_match_torch(name, torch):
    ours, theirs = DTYPE_CASES[name](ag), DTYPE_CASES[name](torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


def test_third_derivative_of_x_to_the_fourth(device):
    x = ag.tensor(1.5, dtype=ag.float64, device=device, requires_grad=True)
    (d1,) = ag.autograd.grad(x ** 4, x, create_graph=True)
    (d2,) = ag.autograd.grad(d1, x, create_graph=True)
    (d3,) = ag.autograd.grad(d2, x, create_graph=True)
    (d4,) = ag.autograd.grad(d3, x)
    assert d1.item() == pytest.approx(4 * 1.5 ** 3)
    assert d2.item() == pytest.approx(12 * 1.5 ** 2)
    assert d3.item() == pytest.approx(24 * 1.5)
    assert d4.item() == pytest.approx(24.0)


def test_reflected_scalar_forms_gradients(device):
    x = ag.tensor([0.5, 2.0], dtype=ag.float64, device=device, requires_grad=True)
    y = (3 - x) + (3 / x) + (2 ** x) + (3 * x) + (1 + x)
    y.sum().backward()
    xv = np.array([0.5, 2.0])
    expect = -1 - 3 / xv ** 2 + np.log(2) * 2 ** xv + 3 + 1
    np.testing.assert_allclose(to_numpy(x.grad), expect, rtol=1e-12)


def test_ndarray_on_the_left_defers_to_the_tensor(device):
    if device != "cpu":
        pytest.skip("a NumPy array is a host array")
    x = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    ys = (np.array([3.0, 4.0]) * x, np.array([3.0, 4.0]) + x, np.ones((2, 2)) @ x)
    for y in ys:
        assert isinstance(y, ag.Tensor) and y.requires_grad
    # the values and gradients of each, by hand
    for y, value, grad in zip(ys, ([3.0, 8.0], [4.0, 6.0], [3.0, 3.0]), ([3.0, 4.0], [1.0, 1.0], [2.0, 2.0])):
        np.testing.assert_array_equal(to_numpy(y), value)
        (g,) = ag.autograd.grad(y.sum(), x)
        np.testing.assert_array_equal(to_numpy(g), grad)


shapes = st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcastable_pair(draw):
    """Two shapes that broadcast: drop leading dims of one and set some dims of each to 1."""
    full = draw(shapes)
    def variant():
        keep = draw(st.integers(0, len(full)))
        s = list(full[len(full) - keep:])
        return tuple(1 if draw(st.booleans()) else n for n in s)
    return variant(), variant()


@settings(max_examples=40, deadline=None)
@given(pair=broadcastable_pair(), op=st.sampled_from(["add", "sub", "mul", "div", "maximum", "where"]))
def test_broadcast_gradients_match_torch(pair, op, torch):
    sa, sb = pair
    rng = np.random.default_rng(zlib.crc32(repr((sa, sb, op)).encode()))
    a_np = rng.uniform(0.5, 2.0, sa)
    b_np = rng.uniform(0.5, 2.0, sb) * rng.choice([-1, 1], sb)
    def run(M, a, b):
        if op == "where":
            return M.where(a > 1.0, a, b)
        return getattr(M, op)(a, b)
    a = ag.tensor(a_np, requires_grad=True)
    b = ag.tensor(b_np, requires_grad=True)
    ta = torch.tensor(a_np, requires_grad=True)
    tb = torch.tensor(b_np, requires_grad=True)
    y, ty = run(ag, a, b), run(torch, ta, tb)
    assert tuple(y.shape) == tuple(ty.shape)
    v = rng.standard_normal(tuple(ty.shape))
    ga, gb = ag.autograd.grad(y, (a, b), ag.tensor(v))
    tga, tgb = torch.autograd.grad(ty, (ta, tb), torch.tensor(v))
    assert ga.shape == a.shape and gb.shape == b.shape
    np.testing.assert_allclose(to_numpy(ga), tga.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(to_numpy(gb), tgb.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bshape", [(2, 3), (3,), ()])
def test_pow_gradients_at_zero_base_and_zero_exponent_match_torch(torch, bshape):
    """The first-order pass (the fused kernel's NumPy twin): d/da is 0 where b == 0 (not
    0 * 0**-1 = nan), d/db is 0 where a == 0 and b >= 0, and -inf/nan elsewhere as PyTorch."""
    a0 = np.array([[0.0, 0.0, 2.0], [-1.5, 0.0, 3.0]])
    b_full = np.array([[0.0, 2.0, 0.0], [2.0, -1.0, 0.5]])
    b0 = {(2, 3): b_full, (3,): b_full[0], (): np.array(0.0)}[bshape]  # broadcast exponents
    got, want = [], []
    for lib, out in ((ag, got), (torch, want)):
        a = lib.tensor(a0, requires_grad=True)
        b = lib.tensor(b0, requires_grad=True)
        with np.errstate(all="ignore"):
            (a ** b).sum().backward()
        out += [to_numpy(a.grad), to_numpy(b.grad)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0, equal_nan=True)


def test_number_exponent_pow_backward_gives_torch_values(torch):
    x0 = np.array([0.0, -2.0, 0.5, 3.0])
    for e in (0, 1, 2, 2.0, 3, -1.5, 0.5):
        got = ag.tensor(x0, requires_grad=True)
        want = torch.tensor(x0, requires_grad=True)
        with np.errstate(all="ignore"):
            (got ** e).sum().backward()
        (want ** e).sum().backward()
        np.testing.assert_allclose(to_numpy(got.grad), want.grad.numpy(), rtol=1e-14,
                                   equal_nan=True, err_msg=f"exponent {e}")


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (False, True, True)])
def test_addcmul_addcdiv_with_some_inputs_not_requiring_grad_match_torch(name, needs, device, torch):
    rng = np.random.default_rng(5)
    vals = [rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal((2, 1)) + 3]
    ours = [ag.tensor(v, device=device, requires_grad=n) for v, n in zip(vals, needs)]
    theirs = [torch.tensor(v, requires_grad=n) for v, n in zip(vals, needs)]
    getattr(ag, name)(*ours, value=0.5).sum().backward()
    getattr(torch, name)(*theirs, value=0.5).sum().backward()
    for o, t in zip(ours, theirs):
        assert (o.grad is None) == (t.grad is None)
        if t.grad is not None:
            np.testing.assert_allclose(to_numpy(o.grad), t.grad.numpy(), rtol=1e-12)
