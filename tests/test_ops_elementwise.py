"""Elementwise ops beyond the table: numerical stability at extreme inputs, the documented
conventions at kinks (checked against PyTorch), comparisons, and dtype rules."""
import math
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
import autograd_gpu.nn.functional  # noqa: F401  (the M.F namespace of the op lambdas)
from conftest import to_numpy
from op_db import Lib

AG = Lib(ag, ag.nn.functional)


def _grad_of(f, values, device, dtype=ag.float64):
    """f(x) and d sum(f(x)) / dx, with every warning an error (no overflow warnings allowed)."""
    x = ag.tensor(values, dtype=dtype, device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = f(AG, x)
        y.sum().backward()
    return to_numpy(y), to_numpy(x.grad)


def _torch_grad_of(torch, f, values):
    x = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    y = f(Lib(torch, torch.nn.functional), x)
    y.sum().backward()
    return y.detach().numpy(), x.grad.numpy()


# ---------------------------------------------------------------- stability


def test_sigmoid_saturates_without_overflow(device):
    y, g = _grad_of(lambda M, x: M.sigmoid(x), [-1000.0, 1000.0], device)
    assert y.tolist() == [0.0, 1.0]
    assert g.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64])
def test_sigmoid_extremes_in_each_float_type(device, dtype):
    y, g = _grad_of(lambda M, x: M.sigmoid(x), [-1000.0, -30.0, 0.0, 30.0, 1000.0], device, dtype)
    expect = [1 / (1 + math.exp(-v)) if v > -700 else 0.0 for v in (-1000.0, -30.0, 0.0, 30.0, 1000.0)]
    np.testing.assert_allclose(y, expect, rtol=2e-3 if dtype == ag.float32 else 1e-12, atol=0)
    assert np.all(np.isfinite(g)) and g[0] == 0.0 and g[-1] == 0.0


def test_log_softmax_extremes_match_torch(device, torch):
    f = lambda M, x: M.log_softmax(x, dim=0)  # noqa: E731
    y, g = _grad_of(f, [-1000.0, 0.0, 1000.0], device)
    ty, tg = _torch_grad_of(torch, f, [-1000.0, 0.0, 1000.0])
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    np.testing.assert_allclose(y, ty, rtol=1e-12)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-12)


def test_softmax_extremes_match_torch(device, torch):
    f = lambda M, x: M.softmax(x, dim=-1) * M.tensor([1.0, 2.0, 3.0], dtype=x.dtype, device=x.device)  # noqa: E731
    y, g = _grad_of(f, [-1000.0, 0.0, 1000.0], device)
    ty, tg = _torch_grad_of(torch, f, [-1000.0, 0.0, 1000.0])
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-300)


def test_logsumexp_large_values(device, torch):
    f = lambda M, x: M.logsumexp(x, dim=0)  # noqa: E731
    vals = [1000.0, 1000.0, -1000.0]
    y, g = _grad_of(f, vals, device)
    assert y == pytest.approx(1000.0 + math.log(2.0), rel=1e-15)
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0], atol=1e-15)
    ty, tg = _torch_grad_of(torch, f, vals)
    np.testing.assert_allclose(y, ty, rtol=1e-15)
    np.testing.assert_allclose(g, tg, rtol=1e-12)


def test_logsumexp_of_all_minus_inf(device):
    x = ag.tensor([[-math.inf, -math.inf], [0.0, 0.0]], dtype=ag.float64, device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = ag.logsumexp(x, dim=1)
    assert to_numpy(y)[0] == -math.inf
    assert to_numpy(y)[1] == pytest.approx(math.log(2.0))


@pytest.mark.parametrize("name", ["softplus", "silu", "gelu", "elu", "tanh", "exp_neg", "leaky_relu"])
def test_activations_at_extremes_match_torch(name, device, torch):
    fs = {
        "softplus": lambda M, x: M.F.softplus(x),
        "silu": lambda M, x: M.F.silu(x),
        "gelu": lambda M, x: M.F.gelu(x),
        "elu": lambda M, x: M.F.elu(x),
        "tanh": lambda M, x: M.tanh(x),
        "exp_neg": lambda M, x: M.exp(-M.abs(x)),
        "leaky_relu": lambda M, x: M.F.leaky_relu(x, 0.1),
    }
    vals = [-1000.0, -50.0, 50.0, 1000.0]
    y, g = _grad_of(fs[name], vals, device)
    ty, tg = _torch_grad_of(torch, fs[name], vals)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-300)


# ---------------------------------------------------------------- kinks


def test_abs_and_relu_gradient_is_zero_at_zero(device):
    _, g = _grad_of(lambda M, x: M.abs(x), [0.0, -2.0, 3.0], device)
    assert g.tolist() == [0.0, -1.0, 1.0]
    _, g = _grad_of(lambda M, x: M.relu(x), [0.0, -2.0, 3.0], device)
    assert g.tolist() == [0.0, 0.0, 1.0]
    _, g = _grad_of(lambda M, x: x.relu(), [0.0], device)
    assert g.tolist() == [0.0]


KINKS = {
    "abs": (lambda M, x: M.abs(x), [0.0, -1.0, 1.0]),
    "relu": (lambda M, x: M.relu(x), [0.0, -1.0, 1.0]),
    "leaky_relu": (lambda M, x: M.F.leaky_relu(x, 0.2), [0.0, -1.0]),
    "elu": (lambda M, x: M.F.elu(x), [0.0, -1.0]),
    "clamp_at_bounds": (lambda M, x: M.clamp(x, -0.5, 0.5), [-0.5, 0.5, 0.0, 1.0]),
    "clamp_min_at_bound": (lambda M, x: M.clamp(x, min=0.0), [0.0, 1.0]),
    "clamp_tensor_tie": (lambda M, x: M.clamp(x, min=x.detach(), max=x.detach() + 1.0), [1.0, 2.0]),
    "maximum_tie": (lambda M, x: M.maximum(x, M.zeros_like(x)), [0.0, 1.0]),
    "minimum_tie": (lambda M, x: M.minimum(x, M.zeros_like(x)), [0.0, -1.0]),
    "max_ties": (lambda M, x: x.max(), [1.0, 3.0, 3.0]),
    "min_ties": (lambda M, x: x.min(), [1.0, 1.0, 3.0]),
    "amax_ties": (lambda M, x: x.reshape(2, 2).amax(1), [3.0, 3.0, 1.0, 2.0]),
    "max_dim_ties": (lambda M, x: x.max(0)[0], [3.0, 1.0, 3.0]),
    "norm2_at_zero": (lambda M, x: x.norm(), [0.0, 0.0]),
    "norm1_at_zero": (lambda M, x: x.norm(1), [0.0, 1.0]),
    "norm3_at_zero": (lambda M, x: x.norm(3), [0.0, 1.0]),
    "norm3_of_zeros": (lambda M, x: x.norm(3), [0.0, 0.0]),
    "norm3_dim_zero_row": (lambda M, x: x.reshape(2, 2).norm(3, dim=1), [0.0, 0.0, 1.0, -2.0]),
    "max_with_nan": (lambda M, x: x.max(), [float("nan"), 1.0, 3.0]),
    "norm_inf_ties": (lambda M, x: x.norm(float("inf")), [-3.0, 3.0, 1.0]),
    "prod_one_zero": (lambda M, x: x.prod(), [0.0, 2.0, 3.0]),
    "prod_two_zeros": (lambda M, x: x.prod(), [0.0, 2.0, 0.0]),
    "prod_dim_zero": (lambda M, x: x.reshape(2, 2).prod(1), [0.0, 2.0, 3.0, 4.0]),
    "pow_at_zero": (lambda M, x: x ** 2.5, [0.0, 1.0]),
    "pow_tensor_base_zero": (lambda M, x: M.pow(x, x * 0 + 2.0), [0.0, 1.0]),
    "rpow_exponent": (lambda M, x: M.pow(x * 0.0, x), [1.0, 2.0]),
    "sign": (lambda M, x: M.sign(x) * x, [0.0, -2.0]),
}


@pytest.mark.parametrize("name", sorted(KINKS))
def test_kink_conventions_match_torch(name, device, torch):
    f, vals = KINKS[name]
    y, g = _grad_of(f, vals, device)
    ty, tg = _torch_grad_of(torch, f, vals)
    np.testing.assert_allclose(y, ty, rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(g, tg, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- comparisons


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons_match_torch_and_have_no_gradient(op, device, torch):
    a_np = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b_np = np.array([2.0, 2.0, 2.0])
    a = ag.tensor(a_np, device=device, requires_grad=True)
    b = ag.tensor(b_np, device=device)
    ta, tb = torch.tensor(a_np), torch.tensor(b_np)
    for ours, theirs in [
        (getattr(ag, op)(a, b), getattr(torch, op)(ta, tb)),
        (getattr(a, op)(b), getattr(ta, op)(tb)),
        (getattr(a, op)(2.0), getattr(ta, op)(2.0)),
    ]:
        assert ours.dtype == ag.bool
        assert not ours.requires_grad and ours.grad_fn is None
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())


def test_comparison_operators(device):
    a = ag.tensor([1.0, 2.0, 3.0], device=device, requires_grad=True)
    expect = {
        "<": [True, False, False], "<=": [True, True, False], ">": [False, False, True],
        ">=": [False, True, True], "==": [False, True, False], "!=": [True, False, True],
    }
    got = {"<": a < 2, "<=": a <= 2, ">": a > 2, ">=": a >= 2, "==": a == 2, "!=": a != 2}
    for k in expect:
        assert to_numpy(got[k]).tolist() == expect[k], k
        assert not got[k].requires_grad
    # reflected: a Python scalar on the left
    assert to_numpy(2 < a).tolist() == [False, False, True]


def test_where_condition_gets_no_gradient_and_picks_branches(device):
    c = ag.tensor([True, False, True], device=device)
    a = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, device=device, requires_grad=True)
    b = ag.tensor([10.0], dtype=ag.float64, device=device, requires_grad=True)
    y = ag.where(c, a, b)
    assert to_numpy(y).tolist() == [1.0, 10.0, 3.0]
    y.sum().backward()
    assert to_numpy(a.grad).tolist() == [1.0, 0.0, 1.0]
    assert to_numpy(b.grad).tolist() == [1.0]


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "sin", "tanh", "sigmoid", "relu", "abs"])
def test_float32_stays_float32(name, device):
    x = ag.tensor([0.5, 1.5], dtype=ag.float32, device=device, requires_grad=True)
    y = getattr(ag, name)(x) * 2.5 + 1  # Python scalars do not promote
    assert y.dtype == ag.float32
    y.sum().backward()
    assert x.grad.dtype == ag.float32


NP_SCALAR_ARGS = {
    "clamp": lambda M, x: M.clamp(x, np.float64(0.5), np.float64(1.5)),
    "clamp_min": lambda M, x: x.clamp(min=np.float64(0.5)),
    "leaky_relu": lambda M, x: M.F.leaky_relu(x, np.float64(0.1)),
    "elu": lambda M, x: M.F.elu(x - 1.5, alpha=np.float64(0.5)),
    "softplus": lambda M, x: M.F.softplus(x, beta=np.float64(2.0)),
}


@pytest.mark.parametrize("name", sorted(NP_SCALAR_ARGS))
def test_numpy_scalar_arguments_keep_float32(name, device, torch):
    f = NP_SCALAR_ARGS[name]
    x = ag.tensor([1.0, 2.0], device=device, requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    y, ty = f(AG, x), f(Lib(torch, torch.nn.functional), tx)
    assert y.dtype == ag.float32 and str(ty.dtype) == "torch.float32"
    y.sum().backward()
    ty.sum().backward()
    assert x.grad.dtype == ag.float32
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-6)


def test_function_and_method_forms_exist_where_torch_has_both(torch):
    names = [
        "add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "log1p", "sqrt", "sin",
        "cos", "tan", "tanh", "sigmoid", "relu", "clamp", "clip", "maximum", "minimum", "where",
        "eq", "ne", "lt", "le", "gt", "ge", "sum", "mean", "var", "std", "prod", "max", "min",
        "amax", "amin", "argmax", "argmin", "logsumexp", "softmax", "log_softmax", "norm",
        "matmul", "dot", "mv", "mm", "bmm", "outer", "pinverse", "inverse", "reshape", "flatten",
        "transpose", "permute", "squeeze", "unsqueeze", "broadcast_to", "cat", "stack", "split",
        "chunk",
    ]
    missing = []
    for n in names:
        if hasattr(torch, n) and not hasattr(ag, n):
            missing.append(f"autograd_gpu.{n}")
        if hasattr(torch.Tensor, n) and not hasattr(ag.Tensor, n):
            missing.append(f"Tensor.{n}")
    for n in ["leaky_relu", "elu", "silu", "softplus", "gelu", "softmax", "log_softmax"]:
        if not hasattr(ag, n):
            missing.append(f"autograd_gpu.{n}")
    assert not missing, missing


_FLOAT_VALUED = ["exp", "log", "log1p", "sqrt", "sin", "cos", "tan", "tanh", "sigmoid"]


@pytest.mark.parametrize("name", _FLOAT_VALUED)
@pytest.mark.parametrize("src", ["int64", "int32", "bool"])
def test_float_valued_ops_of_integer_tensors_give_the_default_float_type(torch, name, src):
    """As PyTorch: exp(int64 tensor) is float32 (the default float type), not NumPy's float64."""
    values = [1, 2, 3] if src != "bool" else [True, True]  # (log(False) = -inf warns)
    x = ag.tensor(values, dtype=getattr(ag, src))
    y = getattr(ag, name)(x)
    ty = getattr(torch, name)(torch.tensor(values, dtype=getattr(torch, src)))
    assert str(y.dtype).split(".")[-1] == str(ty.dtype).split(".")[-1] == "float32"
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6)
    ag.set_default_dtype(ag.float64)
    try:
        assert getattr(ag, name)(x).dtype == ag.float64
    finally:
        ag.set_default_dtype(ag.float32)


@pytest.mark.parametrize("name", ["relu", "abs", "elu", "leaky_relu", "clamp", "sigmoid", "tanh"])
def test_gradient_at_nan_inputs_matches_torch(torch, name, device):
    """Piecewise ops at NaN: relu and elu pass the gradient (NaN <= 0 is false in PyTorch's
    backward), abs gives 0 (PyTorch's sgn(NaN)), and smooth ops give NaN."""
    fns = {"relu": lambda M, t: M.relu(t), "abs": lambda M, t: M.abs(t),
           "elu": lambda M, t: M.F.elu(t, 1.5), "leaky_relu": lambda M, t: M.F.leaky_relu(t, 0.1),
           "clamp": lambda M, t: M.clamp(t, -0.5, 1.0), "sigmoid": lambda M, t: M.sigmoid(t),
           "tanh": lambda M, t: M.tanh(t)}
    values = [float("nan"), -1.0, 0.0, 2.0]
    x = ag.tensor(values, device=device, requires_grad=True)
    with np.errstate(invalid="ignore"):
        fns[name](AG, x).sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    fns[name](Lib(torch, torch.nn.functional), tx).sum().backward()
    got, want = to_numpy(x.grad), tx.grad.numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))  # NaN exactly where PyTorch's
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_give_a_nan_pair_the_whole_gradient_on_both_sides(torch, name, device):
    """As PyTorch: where one input is NaN neither wins nor ties, so both get all of g;
    otherwise the winner gets g and a tie splits it."""
    a0, b0 = [float("nan"), 1.0, 2.0, 3.0], [0.0, float("nan"), 2.0, -1.0]
    grads = []
    for lib in (ag, torch):
        kw = {"device": device} if lib is ag else {}
        a = lib.tensor(a0, requires_grad=True, **kw)
        b = lib.tensor(b0, requires_grad=True, **kw)
        getattr(lib, name)(a, b).sum().backward()
        grads.append((to_numpy(a.grad), to_numpy(b.grad)))
    for got, want in zip(*grads):
        np.testing.assert_array_equal(got, want)
