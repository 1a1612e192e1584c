"""out=: PyTorch's rules through the one wrapper of ops/_out.py.

The values written into out equal PyTorch's for a sample call of each wrapped family; out is
the returned tensor and its memory is written (views see it, its version moves); no autograd
through out=; the resize rule and its warning; the dtype and device errors; tuple outs of
(values, indices) functions; factories taking out's dtype.
"""
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.ops import _out
from conftest import to_numpy

A = np.array([[0.5, 1.5, 2.0], [1.25, 0.75, 3.0]])
B = np.array([[1.0, 2.0, 0.5], [0.25, 1.0, 1.5]])


def _t(M, a, device=None, **kw):
    if M is ag:
        return ag.tensor(a, dtype=ag.float64, device=device, **kw)
    return M.tensor(a, dtype=M.float64, **kw)


UNARY = ["abs", "acos", "asin", "atan", "ceil", "cos", "cosh", "erf", "erfc", "exp", "exp2",
         "expm1", "floor", "frac", "log", "log10", "log1p", "log2", "neg", "negative",
         "reciprocal", "round", "rsqrt", "sigmoid", "sign", "sin", "sinc", "sinh", "sqrt",
         "square", "tan", "tanh", "trunc", "logit", "nan_to_num", "acosh", "asinh", "atanh",
         "erfinv", "digamma", "lgamma"]
BINARY = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow",
          "atan2", "maximum", "minimum", "fmod", "remainder", "hypot", "copysign", "xlogy",
          "logaddexp", "logaddexp2", "floor_divide", "heaviside"]
DOMAIN = {"acos": 0.3, "asin": 0.3, "atanh": 0.3, "erfinv": 0.3, "logit": 0.3, "acosh": 3.0}

CALLS = {f"unary_{n}": (lambda n: lambda M, x, y, out: getattr(M, n)(x * DOMAIN.get(n, 1) + (
    1.5 if n == "acosh" else 0), out=out))(n) for n in UNARY}
CALLS.update({f"binary_{n}": (lambda n: lambda M, x, y, out: getattr(M, n)(x, y, out=out))(n)
              for n in BINARY})
CALLS.update({
    "add_alpha": lambda M, x, y, out: M.add(x, y, alpha=2, out=out),
    "add_number": lambda M, x, y, out: M.add(x, 2.5, out=out),
    "clamp": lambda M, x, y, out: M.clamp(x, 0.7, 2.1, out=out),
    "where": lambda M, x, y, out: M.where(x > 1, x, y, out=out),
    "lerp": lambda M, x, y, out: M.lerp(x, y, 0.25, out=out),
    "addcmul": lambda M, x, y, out: M.addcmul(x, x, y, value=0.5, out=out),
    "addcdiv": lambda M, x, y, out: M.addcdiv(x, x, y, value=0.5, out=out),
    "sum_dim": lambda M, x, y, out: M.sum(x, 1, out=out),
    "mean_dim": lambda M, x, y, out: M.mean(x, 0, out=out),
    "prod_dim": lambda M, x, y, out: M.prod(x, 1, out=out),
    "std_dim": lambda M, x, y, out: M.std(x, 1, out=out),
    "var_dim": lambda M, x, y, out: M.var(x, 0, out=out),
    "nansum_dim": lambda M, x, y, out: M.nansum(x, 1, out=out),
    "nanmean_dim": lambda M, x, y, out: M.nanmean(x, 1, out=out),
    "logsumexp": lambda M, x, y, out: M.logsumexp(x, 1, out=out),
    "amax": lambda M, x, y, out: M.amax(x, 1, out=out),
    "amin": lambda M, x, y, out: M.amin(x, 0, out=out),
    "norm_dim": lambda M, x, y, out: M.norm(x, dim=1, out=out),
    "cumsum": lambda M, x, y, out: M.cumsum(x, 1, out=out),
    "cumprod": lambda M, x, y, out: M.cumprod(x, 0, out=out),
    "logcumsumexp": lambda M, x, y, out: M.logcumsumexp(x, 1, out=out),
    "cat": lambda M, x, y, out: M.cat([x, y], 1, out=out),
    "concat": lambda M, x, y, out: M.concat([x, y], 0, out=out),
    "stack": lambda M, x, y, out: M.stack([x, y], 1, out=out),
    "hstack": lambda M, x, y, out: M.hstack([x, y], out=out),
    "vstack": lambda M, x, y, out: M.vstack([x, y], out=out),
    "dstack": lambda M, x, y, out: M.dstack([x, y], out=out),
    "column_stack": lambda M, x, y, out: M.column_stack([x, y], out=out),
    "matmul": lambda M, x, y, out: M.matmul(x, y.T, out=out),
    "mm": lambda M, x, y, out: M.mm(x, y.T, out=out),
    "bmm": lambda M, x, y, out: M.bmm(x[None], y.T[None], out=out),
    "mv": lambda M, x, y, out: M.mv(x, y[0], out=out),
    "dot": lambda M, x, y, out: M.dot(x[0], y[1], out=out),
    "outer": lambda M, x, y, out: M.outer(x[0], y[1], out=out),
    "inner": lambda M, x, y, out: M.inner(x[0], y[1], out=out),
    "kron": lambda M, x, y, out: M.kron(x, y, out=out),
    "addmm": lambda M, x, y, out: M.addmm(x[:, :2], x, y.T, out=out),
    "tril": lambda M, x, y, out: M.tril(x, out=out),
    "triu": lambda M, x, y, out: M.triu(x, 1, out=out),
    "diag": lambda M, x, y, out: M.diag(x, out=out),
    "matrix_power": lambda M, x, y, out: M.matrix_power(x[:, :2], 3, out=out),
    "inverse": lambda M, x, y, out: M.inverse(x[:, :2], out=out),
    "index_select": lambda M, x, y, out: M.index_select(x, 1, M.tensor([2, 0]), out=out),
    "gather": lambda M, x, y, out: M.gather(x, 1, M.tensor([[2, 0], [1, 1]]), out=out),
    "masked_select": lambda M, x, y, out: M.masked_select(x, x > 1, out=out),
    "take_along_dim": lambda M, x, y, out: M.take_along_dim(x, M.tensor([[2], [0]]), 1, out=out),
    "quantile": lambda M, x, y, out: M.quantile(x, 0.25, dim=1, out=out),
    "eq": lambda M, x, y, out: M.eq(x, y, out=out),
    "gt": lambda M, x, y, out: M.gt(x, y, out=out),
    "logical_and": lambda M, x, y, out: M.logical_and(x > 1, y > 1, out=out),
    "signbit": lambda M, x, y, out: M.signbit(x - 1, out=out),
    "isposinf": lambda M, x, y, out: M.isposinf(x, out=out),
    "all": lambda M, x, y, out: M.all(x > 0.6, 1, out=out),
    "nonzero": lambda M, x, y, out: M.nonzero(x > 1, out=out),
    "searchsorted": lambda M, x, y, out: M.searchsorted(M.sort(x[0]).values, y[0], out=out),
    "bucketize": lambda M, x, y, out: M.bucketize(y, M.sort(x[0]).values, out=out),
})


@pytest.mark.parametrize("call", list(CALLS))
def test_out_values_match_pytorch(call, torch):
    f = CALLS[call]
    want = f(torch, _t(torch, A), _t(torch, B), None)
    tout = torch.empty(0, dtype=want.dtype)
    f(torch, _t(torch, A), _t(torch, B), tout)
    out = ag.empty(0, dtype=getattr(ag, str(want.dtype).split(".")[1]))
    got = f(ag, _t(ag, A), _t(ag, B), out)
    assert got is out
    assert tuple(out.shape) == tuple(tout.shape)
    np.testing.assert_allclose(to_numpy(out), tout.numpy(), rtol=1e-12, atol=1e-12)


def test_every_listed_name_is_wrapped():
    for name in _out.NAMES:
        fn = getattr(ag, name, None)
        if fn is not None:
            assert getattr(fn, "_takes_out", False), name


def test_out_memory_is_written(device):
    out = ag.zeros(2, 3, dtype=ag.float64, device=device)
    view = out[1]
    v0 = out._version_number
    r = ag.mul(_t(ag, A, device), 2.0, out=out)
    assert r is out
    np.testing.assert_array_equal(to_numpy(view), A[1] * 2)  # a view of out sees the values
    assert out._version_number > v0


def test_out_aliasing_an_input(device):
    x = _t(ag, A, device)
    ag.add(x, x[0], out=x)  # computed first, written after
    np.testing.assert_array_equal(to_numpy(x), A + A[0])


def test_out_casts_where_pytorch_casts(torch):
    out = ag.empty(2, 3, dtype=ag.float32)
    ag.add(_t(ag, A), _t(ag, B), out=out)
    tout = torch.empty(2, 3, dtype=torch.float32)
    torch.add(_t(torch, A), _t(torch, B), out=tout)
    assert out.dtype == ag.float32
    np.testing.assert_array_equal(to_numpy(out), tout.numpy())
    iout = ag.empty(3, dtype=ag.int64)
    ag.add(ag.tensor([1, 2, 3]), ag.tensor([True, False, True]), out=iout)
    assert iout.tolist() == [2, 2, 4]


def _message(torch, f):
    with pytest.raises(Exception) as e:
        f(torch)
    return str(e.value)


@pytest.mark.parametrize("case", ["float_into_long", "long_into_bool", "exact_mm"])
def test_out_dtype_errors_match_pytorch(case, torch):
    def f(M):
        if case == "float_into_long":
            return M.exp(M.ones(2, 3), out=M.empty(2, 3, dtype=M.int64))
        if case == "long_into_bool":
            return M.add(M.ones(2, dtype=M.int64), 1, out=M.empty(2, dtype=M.bool))
        return M.mm(M.ones(2, 3), M.ones(3, 2), out=M.empty(2, 2, dtype=M.float64))

    want = _message(torch, f)
    with pytest.raises(RuntimeError) as e:
        f(ag)
    assert str(e.value) == want


@pytest.mark.parametrize("which", ["input", "out", "in_list"])
def test_no_autograd_through_out(which, torch):
    def f(M):
        x = M.ones(2, requires_grad=which == "input")
        o = M.empty(2, requires_grad=which == "out")
        if which == "in_list":
            return M.cat([M.ones(1, requires_grad=True), M.ones(1)], out=o)
        return M.add(x, 1, out=o)

    want = _message(torch, f)
    with pytest.raises(RuntimeError) as e:
        f(ag)
    assert str(e.value) == want
    assert "don't support automatic differentiation" in want


def test_out_under_no_grad_is_allowed_and_records_nothing():
    x = ag.ones(2, requires_grad=True)
    out = ag.empty(2)
    with ag.no_grad():
        ag.mul(x, 3, out=out)
    assert out.grad_fn is None and not out.requires_grad
    assert out.tolist() == [3.0, 3.0]


def test_resize_with_a_warning_when_out_has_elements(torch):
    out = ag.empty(2)
    with pytest.warns(UserWarning) as ours:
        ag.add(ag.ones(2, 3), 1, out=out)
    tout = torch.empty(2)
    with pytest.warns(UserWarning) as theirs:
        torch.add(torch.ones(2, 3), 1, out=tout)
    assert tuple(out.shape) == (2, 3) and out.tolist() == tout.tolist()
    assert str(ours[0].message) == str(theirs[0].message).split(" (Triggered internally")[0]


def test_resize_silently_when_out_is_empty():
    out = ag.empty(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ag.sum(ag.ones(2, 3), 0, out=out)
    assert out.tolist() == [2.0, 2.0, 2.0]


def test_tuple_outs(torch):
    x = _t(ag, A)
    v, i = ag.empty(0, dtype=ag.float64), ag.empty(0, dtype=ag.int64)
    r = ag.max(x, 1, out=(v, i))
    tv, ti = torch.empty(0, dtype=torch.float64), torch.empty(0, dtype=torch.int64)
    torch.max(_t(torch, A), 1, out=(tv, ti))
    assert r.values is v and r.indices is i and type(r).__name__ == "max"
    assert v.tolist() == tv.tolist() and i.tolist() == ti.tolist()
    for name, call in [("sort", lambda M, x, o: M.sort(x, 1, descending=True, out=o)),
                       ("topk", lambda M, x, o: M.topk(x, 2, out=o)),
                       ("cummax", lambda M, x, o: M.cummax(x, 1, out=o)),
                       ("kthvalue", lambda M, x, o: M.kthvalue(x, 2, out=o)),
                       ("min", lambda M, x, o: M.min(x, 0, out=o))]:
        o = (ag.empty(0, dtype=ag.float64), ag.empty(0, dtype=ag.int64))
        to = (torch.empty(0, dtype=torch.float64), torch.empty(0, dtype=torch.int64))
        call(ag, x, o)
        call(torch, _t(torch, A), to)
        for a, b in zip(o, to):
            assert a.tolist() == b.tolist(), name
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype long int"):
        ag.sort(x, out=(ag.empty(0, dtype=ag.float64), ag.empty(0, dtype=ag.float64)))


def test_factories_take_outs_dtype(torch):
    out = ag.empty(0, dtype=ag.int64)
    ag.zeros(2, 3, out=out)
    assert out.dtype == ag.int64 and out.tolist() == [[0, 0, 0]] * 2
    out = ag.empty(0, dtype=ag.int64)
    ag.arange(5, out=out)
    tout = torch.empty(0, dtype=torch.int64)
    torch.arange(5, out=tout)
    assert out.tolist() == tout.tolist()
    f = ag.empty(0, dtype=ag.float64)
    ag.linspace(0, 1, 5, out=f)
    assert f.dtype == ag.float64 and f.tolist() == torch.linspace(0, 1, 5, dtype=torch.float64).tolist()


def test_out_on_another_device_is_refused(device):
    if device == "cpu":
        pytest.skip("needs a second device: the cuda case")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ag.add(ag.ones(2), 1, out=ag.empty(2, device=device))
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        ag.add(ag.ones(2, device=device), 1, out=ag.empty(2))


def test_out_of_a_wrong_kind_is_a_type_error():
    with pytest.raises(TypeError, match="argument 'out' must be Tensor"):
        ag.add(ag.ones(2), 1, out=np.empty(2))
