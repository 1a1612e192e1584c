"""The math extras beyond the op table (tests/op_db.py, block math_extra): comparisons and
tests, ops without a derivative, values at the edges of a domain, in-place forms, dtype
information, tensor construction and layout methods, and PyTorch's errors, all against PyTorch."""
import math
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from conftest import to_numpy

SPECIAL = np.array([-np.inf, -2.5, -1.0, -0.0, 0.0, 0.5, 1.0, 3.0, np.inf, np.nan])


def _t(M, values, device=None, **kw):
    if M is ag:
        return ag.tensor(values, device=device, **kw)
    return M.tensor(values, **kw)


def _same(a, b):
    """Our result equals PyTorch's: values (NaN where PyTorch has NaN; float32 within a few
    ulp: NumPy's float32 libm is its own), shape and dtype."""
    if isinstance(b, (bool, int, float)):
        assert type(a) is type(b) and (a == b or (a != a and b != b)), (a, b)
        return
    ours, theirs = to_numpy(a), b.detach().numpy()
    assert ours.shape == theirs.shape and str(a.dtype).split(".")[1] == str(b.dtype).split(".")[1]
    rtol = 1e-12 if theirs.dtype != np.float32 else 5e-7
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, equal_nan=True)


def _same_error(call, torch, exc=Exception):
    """call(M) raises the same exception type as PyTorch, with PyTorch's message (which the
    library may follow with a hint of its own, in parentheses, or the op's name)."""
    with pytest.raises(exc) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(ag)
    expected = str(theirs.value).replace("torch.", "autograd_gpu.")
    assert str(ours.value) == expected or str(ours.value).startswith((expected + " (", expected + " in ")), (
        f"{ours.value!s} vs PyTorch's {expected}")


# ---------------------------------------------------------------- tests and comparisons

PREDICATES = ["isposinf", "isneginf", "isreal", "signbit", "isnan", "isinf", "isfinite"]


@pytest.mark.parametrize("name", PREDICATES)
def test_predicates_match_torch(name, device, torch):
    _same(getattr(ag, name)(_t(ag, SPECIAL, device)), getattr(torch, name)(torch.tensor(SPECIAL)))
    ints = [[-3, 0], [2, 7]]
    _same(getattr(ag, name)(_t(ag, ints, device)), getattr(torch, name)(torch.tensor(ints)))


@pytest.mark.parametrize("kw", [{}, {"rtol": 0.1}, {"atol": 0.6}, {"equal_nan": True}])
def test_isclose_and_allclose_match_torch(kw, device, torch):
    a = np.array([1.0, 1.05, np.nan, np.inf, -np.inf, 0.0])
    b = np.array([[1.0, 1.0, np.nan, np.inf, np.inf, 1e-9]] * 2)
    _same(ag.isclose(_t(ag, a, device), _t(ag, b, device), **kw),
          torch.isclose(torch.tensor(a), torch.tensor(b), **kw))
    for x, y in ((a, b), (a[:2], a[:2] + 1e-9), (a[:1], b[:, :1] * 2)):
        ours = ag.allclose(_t(ag, x, device), _t(ag, y, device), **kw)
        assert ours is torch.allclose(torch.tensor(x), torch.tensor(y), **kw)
    assert _t(ag, a, device).isclose(_t(ag, a, device), equal_nan=True).all().item()
    assert ag.isclose(_t(ag, [1.0, 2.0], device), 2.0).tolist() == [False, True]


def test_comparison_errors_match_torch(torch):
    _same_error(lambda M: M.allclose(M.zeros(3), M.zeros(3, dtype=M.float64)), torch)
    _same_error(lambda M: M.isclose(M.zeros(3), M.zeros(3, dtype=M.float64)), torch)
    _same_error(lambda M: M.allclose(M.zeros(2, 3), M.zeros(3, 2)), torch, RuntimeError)


def test_equal_matches_torch(device, torch):
    for a, b in (([1.0, 2.0], [1.0, 2.0]), ([1.0, 2.0], [1.0, 3.0]), ([1.0], [1.0, 1.0]),
                 ([[1.0, 2.0]], [1.0, 2.0]), ([np.nan], [np.nan])):
        assert ag.equal(_t(ag, a, device), _t(ag, b, device)) is torch.equal(
            torch.tensor(a), torch.tensor(b))
    # values, not dtypes, are compared (as PyTorch)
    assert _t(ag, [1, 2], device).equal(_t(ag, [1.0, 2.0], device)) is True


@pytest.mark.parametrize("dim,keepdim", [(None, False), (0, False), (1, True), ((0, 1), False), (-1, True)])
def test_all_any_count_nonzero_match_torch(dim, keepdim, device, torch):
    x = np.array([[0.0, 1.5, -2.0], [0.0, 0.0, np.nan]])
    for name in ("all", "any"):
        args = () if dim is None else (dim, keepdim)
        _same(getattr(_t(ag, x, device), name)(*args), getattr(torch.tensor(x), name)(*args))
        _same(getattr(ag, name)(_t(ag, x > 0, device), *args), getattr(torch, name)(torch.tensor(x > 0), *args))
    _same(ag.count_nonzero(_t(ag, x, device), dim), torch.count_nonzero(torch.tensor(x), dim))
    _same(_t(ag, [[0, 3], [1, 0]], device).count_nonzero(dim), torch.tensor([[0, 3], [1, 0]]).count_nonzero(dim))


# ---------------------------------------------------------------- edges of the domains


@pytest.mark.parametrize("name,args", [
    ("sinc", ()), ("logit", ()), ("logit", (0.25,)), ("nan_to_num", ()),
    ("nan_to_num", (1.5, 100.0, -100.0)), ("reciprocal", ()), ("frac", ()), ("expm1", ()),
    ("log2", ()), ("erfinv", ()), ("atanh", ()), ("erfc", ()), ("exp2", ()),
])
def test_special_values_and_gradients_match_torch(name, args, device, torch):
    """Values and first derivatives at 0, +-1, +-inf, NaN and outside the domain (NumPy's
    warnings there are silenced: the values are the check)."""
    vals = {"logit": np.array([-0.5, 0.0, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, np.nan]),
            "erfinv": np.array([-1.0, -0.999999, -0.5, 0.0, 0.3, 0.99999999, 1.0, 1.5, np.nan]),
            "atanh": np.array([-1.0, -0.5, 0.0, 0.5, 1.0])}.get(name, SPECIAL)
    x = _t(ag, vals, device, requires_grad=True)
    tx = torch.tensor(vals, requires_grad=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        y = getattr(ag, name)(x, *args)
        (g,) = ag.autograd.grad(y.sum(), x)
    ty = getattr(torch, name)(tx, *args)
    (tg,) = torch.autograd.grad(ty.sum(), tx)
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(to_numpy(g), tg.numpy(), rtol=1e-7, atol=1e-12, equal_nan=True)


def test_sinc_second_derivative_at_zero_is_masked_too(torch):
    """The first derivative is PyTorch's (0 at 0); the second is PyTorch's away from 0 and 0
    at 0, where PyTorch's masked formula gives NaN."""
    vals = [0.0, 0.7, -1.3]
    x, tx = ag.tensor(vals, dtype=ag.float64, requires_grad=True), torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    (g,) = ag.autograd.grad(ag.sinc(x).sum(), x, create_graph=True)
    (h,) = ag.autograd.grad(g.sum(), x)
    (tgr,) = torch.autograd.grad(torch.sinc(tx).sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad(tgr.sum(), tx)
    np.testing.assert_allclose(to_numpy(g), tgr.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(h)[1:], th.numpy()[1:], rtol=1e-10)
    assert to_numpy(h)[0] == 0.0 and np.isnan(th.numpy()[0])


def test_xlogy_is_zero_where_x_is_zero(device, torch):
    x, y = [0.0, 0.0, 1.0, 2.0, 0.0], [0.0, np.nan, 0.0, 3.0, 2.0]
    a, b = _t(ag, x, device, requires_grad=True), _t(ag, y, device, requires_grad=True)
    ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = ag.xlogy(a, b)
        ga, gb = ag.autograd.grad(out.sum(), (a, b))
    tout = torch.xlogy(ta, tb)
    tga, tgb = torch.autograd.grad(tout.sum(), (ta, tb))
    for ours, theirs in ((out, tout), (ga, tga), (gb, tgb)):
        np.testing.assert_allclose(to_numpy(ours), theirs.detach().numpy(), equal_nan=True)


@pytest.mark.parametrize("a,b", [([-7, 7, 5, -5], [2, 2, -3, -3]), ([-7.5, 7.5, 0.5, -0.5], [2.0, -2.0, 0.3, 0.3])])
@pytest.mark.parametrize("name", ["fmod", "remainder", "floor_divide"])
def test_division_remainders_match_torch(name, a, b, device, torch):
    _same(getattr(ag, name)(_t(ag, a, device), _t(ag, b, device)), getattr(torch, name)(torch.tensor(a), torch.tensor(b)))
    _same(getattr(ag, name)(_t(ag, a, device), 2), getattr(torch, name)(torch.tensor(a), 2))
    _same(getattr(ag, name)(_t(ag, a, device), 2.5), getattr(torch, name)(torch.tensor(a), 2.5))


@pytest.mark.parametrize("name,call", [
    ("floor_divide", lambda M, x: M.floor_divide(x, 0.7)),
    ("heaviside", lambda M, x: M.heaviside(x, M.tensor([0.5], dtype=x.dtype).to(x.device))),
])
def test_ops_without_a_derivative_raise_torchs_error_in_backward(name, call, device, torch):
    vals = [-1.5, 0.0, 2.0]
    x = _t(ag, vals, device, dtype=ag.float64, requires_grad=True)
    tx = torch.tensor(vals, dtype=torch.float64, requires_grad=True)
    y, ty = call(ag, x), call(torch, tx)
    _same(y, ty)
    assert y.requires_grad and y.grad_fn.name() == type(ty.grad_fn).__name__ == "NotImplemented"
    with pytest.raises(RuntimeError) as theirs:
        ty.sum().backward()
    with pytest.raises(RuntimeError, match=f"derivative for aten::{name} is not implemented"):
        y.sum().backward()
    assert str(theirs.value).startswith(f"derivative for aten::{name} is not implemented")


def test_heaviside_and_copysign_values_match_torch(device, torch):
    x = [-1.0, 0.0, -0.0, 2.0]
    _same(ag.heaviside(_t(ag, x, device), _t(ag, [0.5], device)), torch.heaviside(torch.tensor(x), torch.tensor([0.5])))
    _same(ag.copysign(_t(ag, x, device), -1.0), torch.copysign(torch.tensor(x), -1.0))
    _same(ag.copysign(_t(ag, [1, -2], device), _t(ag, [-1, 1], device)), torch.copysign(torch.tensor([1, -2]), torch.tensor([-1, 1])))
    _same_error(lambda M: M.heaviside(M.tensor([1.0]), M.tensor([1], dtype=M.int64)), torch)


def test_integer_inputs_give_the_default_float_type(device, torch):
    ints = [1, 2, 3]
    for name in ("log2", "log10", "exp2", "expm1", "asinh", "atan", "sinh", "erf", "erfc",
                 "reciprocal", "sinc", "sigmoid"):
        _same(getattr(ag, name)(_t(ag, ints, device)), getattr(torch, name)(torch.tensor(ints)))
    for name in ("atan2", "xlogy", "copysign"):
        _same(getattr(ag, name)(_t(ag, ints, device), _t(ag, [2, 1, 2], device)),
              getattr(torch, name)(torch.tensor(ints), torch.tensor([2, 1, 2])))
    _same(ag.atan2(_t(ag, ints, device), _t(ag, [2.0, 1.0, 2.0], device, dtype=ag.float32)),
          torch.atan2(torch.tensor(ints), torch.tensor([2.0, 1.0, 2.0])))
    _same(ag.clamp_min(_t(ag, [1, 5], device), 2), torch.clamp_min(torch.tensor([1, 5]), 2))
    _same_error(lambda M: M.logaddexp(M.tensor([1]), M.tensor([2])), torch, NotImplementedError)
    _same_error(lambda M: M.hypot(M.tensor([1]), M.tensor([2])), torch, NotImplementedError)


# ---------------------------------------------------------------- in-place forms


INPLACE = [
    ("addcmul_", lambda M, x, a, b: x.addcmul_(a, b, value=0.5)),
    ("addcdiv_", lambda M, x, a, b: x.addcdiv_(a, b + 3.0, value=-2)),
    ("lerp_", lambda M, x, a, b: x.lerp_(a, 0.25)),
    ("lerp_tensor_", lambda M, x, a, b: x.lerp_(a, b.sigmoid())),
    ("clamp_min_", lambda M, x, a, b: x.clamp_min_(0.1)),
    ("clamp_max_tensor_", lambda M, x, a, b: x.clamp_max_(a)),
    ("log2_", lambda M, x, a, b: x.abs_().add_(1.0).log2_()),
    ("atan2_", lambda M, x, a, b: x.atan2_(b)),
    ("fmod_", lambda M, x, a, b: x.fmod_(0.7)),
    ("addmm_", lambda M, x, a, b: x[:, :2].contiguous().addmm_(a.t(), b[:, :2], beta=0.5)),
]


@pytest.mark.parametrize("name,op", INPLACE, ids=[n for n, _ in INPLACE])
def test_inplace_forms_match_torch(name, op, device, torch):
    rng = np.random.default_rng(3)
    xv, av, bv = (rng.standard_normal((3, 3)) for _ in range(3))
    # on a plain tensor: the same object, its value changed, the version bumped
    x = _t(ag, xv, device)
    tx = torch.tensor(xv)
    out, tout = op(ag, x, _t(ag, av, device), _t(ag, bv, device)), op(torch, tx, torch.tensor(av), torch.tensor(bv))
    assert (out is x) == (tout is tx)
    _same(out, tout)
    # recorded on a non-leaf tensor: gradients flow through as PyTorch's do
    leaves = [_t(ag, v, device, requires_grad=True) for v in (xv, av, bv)]
    tleaves = [torch.tensor(v, requires_grad=True) for v in (xv, av, bv)]
    y = op(ag, leaves[0] * 1.0, leaves[1] * 1.0, leaves[2] * 1.0)
    ty = op(torch, tleaves[0] * 1.0, tleaves[1] * 1.0, tleaves[2] * 1.0)
    _same(y, ty)
    gs = ag.autograd.grad((y * y).sum(), leaves, allow_unused=True)
    tgs = torch.autograd.grad((ty * ty).sum(), tleaves, allow_unused=True)
    for g, tg in zip(gs, tgs):
        if tg is None or g is None:
            assert (g is None or not to_numpy(g).any()) and (tg is None or not tg.any())
        else:
            np.testing.assert_allclose(to_numpy(g), tg.numpy(), rtol=1e-10, atol=1e-12)


def test_inplace_forms_refuse_a_leaf_that_requires_grad_and_bad_shapes(torch):
    _same_error(lambda M: M.zeros(3, requires_grad=True).addcmul_(M.ones(3), M.ones(3)), torch)
    x = ag.zeros(3)
    with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"):
        x.lerp_(ag.ones(2, 3), 0.5)
    assert x._version_number == 0 and not x.numpy().any()
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ag.ones(3, dtype=ag.int64).log2_()


# ---------------------------------------------------------------- dtype information


@pytest.mark.parametrize("name", ["float16", "float32", "float64", "bfloat16"])
def test_finfo_matches_torch(name, torch):
    ours, theirs = ag.finfo(getattr(ag, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32", "int64"])
def test_iinfo_matches_torch(name, torch):
    ours, theirs = ag.iinfo(getattr(ag, name)), torch.iinfo(getattr(torch, name))
    for attr in ("bits", "max", "min", "dtype"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert repr(ours) == repr(theirs)


def test_finfo_default_is_the_default_dtype_and_wrong_kinds_raise():
    assert ag.finfo().dtype == "float32"
    ag.set_default_dtype(ag.float64)
    try:
        assert ag.finfo().eps == np.finfo(np.float64).eps
    finally:
        ag.set_default_dtype(ag.float32)
    with pytest.raises(TypeError, match="finfo\\(\\) requires a floating point input type"):
        ag.finfo(ag.int32)
    with pytest.raises(TypeError, match="iinfo\\(\\) requires an integer input type"):
        ag.iinfo(ag.float32)
    with pytest.raises(TypeError, match="autograd_gpu.bool is not supported by autograd_gpu.iinfo"):
        ag.iinfo(ag.bool)


def test_constants_match_torch(torch):
    for name in ("pi", "e", "inf"):
        assert getattr(ag, name) == getattr(torch, name)
    assert math.isnan(ag.nan) and math.isnan(torch.nan)


@pytest.mark.parametrize("make", [
    lambda: ag.zeros(2, dtype=ag.bfloat16),
    lambda: ag.tensor([1.0], dtype=ag.bfloat16),
    lambda: ag.ones(2).to(ag.bfloat16),
    lambda: ag.ones(2).bfloat16(),
])
def test_bfloat16_names_itself_and_the_fix(make):
    with pytest.raises(TypeError) as e:
        make()
    msg = str(e.value)
    assert "bfloat16" in msg and "NumPy" in msg and "float32" in msg and "float16" in msg
    assert repr(ag.bfloat16) == "autograd_gpu.bfloat16" and ag.bfloat16.is_floating_point


# ---------------------------------------------------------------- making tensors like another


NEW = [  # (the last two make tensors on the CPU: from a CPU tensor, and type_as a CPU one)
    lambda M, t: t.new_zeros(2, 3),
    lambda M, t: t.new_zeros((2,), dtype=M.int32),
    lambda M, t: t.new_ones([3]),
    lambda M, t: t.new_full((2, 2), 7),
    lambda M, t: t.new_full((), 1.5, dtype=M.float32),
    lambda M, t: t.new_empty(0, 2).shape,
    lambda M, t: t.new_empty((2, 3)).dtype,
    lambda M, t: t.new_tensor([1, 2]),
    lambda M, t: t.new_tensor([[1.5], [2.5]], dtype=M.float32),
    lambda M, t: M.zeros(3).type_as(t),
    lambda M, t: M.zeros(2, dtype=M.int64).new_tensor([1.7, -2.2]),
    lambda M, t: t.type_as(M.zeros(1, dtype=M.int32)),
]


@pytest.mark.parametrize("k", range(len(NEW)))
def test_new_methods_match_torch(k, device, torch):
    ours = NEW[k](ag, ag.zeros(2, dtype=ag.float64, device=device))
    theirs = NEW[k](torch, torch.zeros(2, dtype=torch.float64))
    if isinstance(theirs, torch.Tensor):
        on_cpu = k >= len(NEW) - 2
        assert tuple(ours.shape) == tuple(theirs.shape) and ours.device.type == ("cpu" if on_cpu else device)
        assert str(ours.dtype).split(".")[1] == str(theirs.dtype).split(".")[1]
        if ours.numel() and "empty" not in str(NEW[k]):
            np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
    else:
        assert str(ours).replace("autograd_gpu", "torch") == str(theirs)


def test_new_methods_requires_grad_and_copies(torch):
    t = ag.zeros(2, dtype=ag.float64)
    x = t.new_ones(3, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.dtype == ag.float64
    src = ag.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="sourceTensor.detach\\(\\).clone\\(\\)"):
        copy = t.new_tensor(src)
    assert not copy.requires_grad and copy.dtype == ag.float64
    copy[0] = 5.0
    assert src.tolist() == [1.0, 2.0]
    _same_error(lambda M: M.zeros(2).new_zeros(-1), torch)
    _same_error(lambda M: M.zeros(2, dtype=M.int64).new_ones(2, requires_grad=True), torch)


def test_layout_attributes_match_torch(device, torch):
    for make in (lambda M: M.arange(24.0).reshape(2, 3, 4), lambda M: M.arange(24.0).reshape(2, 3, 4).transpose(0, 2),
                 lambda M: M.arange(24.0).reshape(4, 6)[1:, 2:], lambda M: M.arange(6.0).reshape(2, 3)[:, ::2],
                 lambda M: M.zeros(()), lambda M: M.zeros(3, dtype=M.int16)):
        ours, theirs = make(ag), make(torch)
        if device == "cuda":  # (the copy to the device is a new array: compare it contiguous)
            ours, theirs = ours.contiguous().to(device), theirs.contiguous().clone()
        assert ours.stride() == theirs.stride()
        assert [ours.stride(d) for d in range(-ours.ndim, ours.ndim)] == [theirs.stride(d) for d in range(-theirs.ndim, theirs.ndim)]
        assert ours.storage_offset() == theirs.storage_offset()
        for attr in ("element_size", "ndimension", "nelement", "is_floating_point", "is_complex", "dim", "numel"):
            assert getattr(ours, attr)() == getattr(theirs, attr)(), attr
        assert ours.nbytes == theirs.nbytes and ours.itemsize == theirs.itemsize
        assert ours.is_cuda == (device == "cuda")
    x = ag.arange(6.0, device=device)
    view = x[2:]
    assert view.data_ptr() - x.data_ptr() == 2 * x.element_size()
    assert isinstance(x.data_ptr(), int) and x.data_ptr() != 0


def test_stride_dim_out_of_range(torch):
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        ag.zeros(2, 3).stride(2)
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)"):
        torch.zeros(2, 3).stride(2)


# ---------------------------------------------------------------- shapes changed in place


@pytest.mark.parametrize("op", [
    lambda t: t.unsqueeze_(0), lambda t: t.unsqueeze_(-1), lambda t: t.squeeze_(),
    lambda t: t.squeeze_(1), lambda t: t.t_(), lambda t: t.transpose_(0, 2),
    lambda t: t.swapdims_(1, 0),
], ids=["unsqueeze_0", "unsqueeze_neg", "squeeze", "squeeze_dim", "t_", "transpose_", "swapdims_"])
def test_shape_inplace_ops_match_torch(op, device, torch):
    shape = (2, 1, 3) if op.__code__.co_names[0] != "t_" else (2, 3)
    vals = np.arange(float(np.prod(shape))).reshape(shape)
    x, tx = ag.tensor(vals, device=device), torch.tensor(vals)
    data_before = x.data_ptr()
    assert op(x) is x and op(tx) is tx
    _same(x, tx)
    assert x.stride() == tx.stride() and x.data_ptr() == data_before
    assert x._version_number == tx._version
    # a non-leaf: recorded, the gradient flows back through the new shape
    leaf, tleaf = ag.tensor(vals, device=device, requires_grad=True), torch.tensor(vals, requires_grad=True)
    y, ty = leaf * 2, tleaf * 2
    op(y), op(ty)
    w = np.arange(1.0, y.numel() + 1).reshape(tuple(ty.shape))
    (g,), (tg,) = ag.autograd.grad((y * ag.tensor(w, device=device)).sum(), leaf), torch.autograd.grad((ty * torch.tensor(w)).sum(), tleaf)
    np.testing.assert_array_equal(to_numpy(g), tg.numpy())


def test_shape_inplace_errors_match_torch(torch):
    _same_error(lambda M: M.zeros(3, requires_grad=True).unsqueeze_(0), torch)
    _same_error(lambda M: M.zeros(2, 3, 4).t_(), torch)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ag.zeros(2, 3).squeeze_(3)
    with ag.no_grad():  # a leaf may change its shape when nothing is recorded
        x = ag.zeros(3, requires_grad=True)
        assert x.unsqueeze_(0).shape == (1, 3)


def test_resize_matches_torch(device, torch):
    def steps(M, dev):
        w = M.arange(6.0) if M is torch else M.arange(6.0, device=dev)
        view = w.view(2, 3)
        out = [w.resize_(2, 2).clone(), view.clone()]  # shrunk in place: the view sees it
        w[0, 0] = 9.0
        out.append(view.clone())
        out.append(w.resize_((4,)).clone())
        out.append(tuple(w.resize_(3, 3).shape))  # grown: new memory (values past 6 unset)
        out.append(w.reshape(-1)[:6].clone())
        q = (M.arange(6.0) if M is torch else M.arange(6.0, device=dev)).reshape(2, 3).t()
        out.append(q.resize_(3, 2).clone())  # the same shape: unchanged
        out.append(q.resize_(2, 3).clone())  # the memory's order, contiguous
        out.append(w.resize_(0).shape)
        return out

    for a, b in zip(steps(ag, device), steps(torch, None)):
        if isinstance(b, tuple):
            assert tuple(a) == b
        else:
            _same(a, b)
    _same_error(lambda M: M.zeros(3, requires_grad=True).resize_(4), torch)


# ---------------------------------------------------------------- PyTorch's errors


ERRORS = {
    "addmm_mat1": lambda M: M.addmm(M.zeros(2, 5), M.zeros(3), M.zeros(3, 5)),
    "addmm_mat2": lambda M: M.addmm(M.zeros(2, 5), M.zeros(2, 3), M.zeros(3)),
    "addmm_shapes": lambda M: M.addmm(M.zeros(2, 5), M.zeros(2, 3), M.zeros(4, 5)),
    "addmm_input": lambda M: M.addmm(M.zeros(3, 5), M.zeros(2, 3), M.zeros(3, 5)),
    "addmv_dims": lambda M: M.addmv(M.zeros(2), M.zeros(2, 3, 1), M.zeros(3)),
    "addmv_sizes": lambda M: M.addmv(M.zeros(3), M.zeros(2, 3), M.zeros(3)),
    "baddbmm_batch2": lambda M: M.baddbmm(M.zeros(2, 2, 2), M.zeros(2, 2, 3), M.zeros(3, 3, 2)),
    "baddbmm_input": lambda M: M.baddbmm(M.zeros(3, 2, 2), M.zeros(2, 2, 3), M.zeros(2, 3, 2)),
    "addbmm_batches": lambda M: M.addbmm(M.zeros(2, 2), M.zeros(2, 2, 3), M.zeros(3, 3, 2)),
    "addbmm_inner": lambda M: M.addbmm(M.zeros(2, 2), M.zeros(2, 2, 3), M.zeros(2, 4, 2)),
    "einsum_fewer": lambda M: M.einsum("ij,jk", M.zeros(2, 3)),
    "einsum_more": lambda M: M.einsum("ij", M.zeros(2, 3), M.zeros(2, 3)),
    "einsum_ndim": lambda M: M.einsum("ijk", M.zeros(2, 3)),
    "einsum_size": lambda M: M.einsum("ij,jk->ik", M.zeros(2, 3), M.zeros(4, 5)),
    "einsum_out": lambda M: M.einsum("ij->k", M.zeros(2, 3)),
    "einsum_repeat": lambda M: M.einsum("ii->i", M.zeros(2, 3)),
    "einsum_out_twice": lambda M: M.einsum("ii->ii", M.zeros(3, 3)),
    "einsum_char": lambda M: M.einsum("i$", M.zeros(2, 3)),
    "einsum_dot": lambda M: M.einsum("ij..", M.zeros(2, 3)),
    "einsum_ell_ndim": lambda M: M.einsum("i...j,kl", M.zeros(2), M.zeros(2, 3)),
    "einsum_dtypes": lambda M: M.einsum("ij,jk->ik", M.zeros(2, 3), M.zeros(3, 2, dtype=M.float64)),
    "tensordot_neg": lambda M: M.tensordot(M.zeros(2, 3), M.zeros(3, 4), dims=-1),
    "tensordot_big": lambda M: M.tensordot(M.zeros(2, 3), M.zeros(3, 4), dims=3),
    "tensordot_size": lambda M: M.tensordot(M.zeros(2, 3), M.zeros(4, 5), dims=1),
    "tensordot_lists": lambda M: M.tensordot(M.zeros(2, 3), M.zeros(4, 5), dims=([1], [1])),
    "cross_len": lambda M: M.cross(M.zeros(2), M.zeros(2), dim=-1),
    "cross_ndim": lambda M: M.cross(M.zeros(2, 3), M.zeros(3), dim=-1),
    "cross_dim": lambda M: M.cross(M.zeros(4, 3), M.zeros(4, 3), dim=2),
    "det_square": lambda M: M.det(M.zeros(2, 3)),
    "det_1d": lambda M: M.det(M.zeros(3)),
    "det_int": lambda M: M.det(M.zeros(2, 2, dtype=M.int64)),
    "slogdet_square": lambda M: M.slogdet(M.zeros(2, 3)),
    "logdet_square": lambda M: M.logdet(M.zeros(2, 3)),
    "matrix_power_square": lambda M: M.matrix_power(M.zeros(2, 3), 2),
    "cdist_int": lambda M: M.cdist(M.zeros(2, 3, dtype=M.int64), M.zeros(2, 3, dtype=M.int64)),
    "cdist_cols": lambda M: M.cdist(M.zeros(2, 3), M.zeros(2, 4)),
    "cdist_p": lambda M: M.cdist(M.zeros(2, 3), M.zeros(2, 3), p=-1),
    "cdist_1d": lambda M: M.cdist(M.zeros(3), M.zeros(2, 3)),
    "dist_shapes": lambda M: M.dist(M.zeros(2, 3), M.zeros(4)),
    "lerp_dtype": lambda M: M.lerp(M.zeros(3), M.zeros(3, dtype=M.float64), 0.5),
    "lerp_shapes": lambda M: M.lerp(M.zeros(2, 3), M.zeros(4), 0.5),
    "aminmax_empty": lambda M: M.aminmax(M.zeros(0)),
    "nanmean_int": lambda M: M.nanmean(M.zeros(3, dtype=M.int64)),
    "addcdiv_int": lambda M: M.addcdiv(M.zeros(3), M.ones(3, dtype=M.int64), M.ones(3, dtype=M.int64)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name, torch):
    _same_error(ERRORS[name], torch)


def test_cross_without_dim_warns_as_torch_and_finds_the_size_3_dim(torch):
    a, b = np.arange(6.0).reshape(3, 2), np.arange(6.0, 12.0).reshape(3, 2)
    with pytest.warns(UserWarning, match="Using torch.cross without specifying the dim arg is deprecated"):
        ours = ag.cross(ag.tensor(a), ag.tensor(b))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.cross(torch.tensor(a), torch.tensor(b))
        _same(ours, theirs)
        _same_error(lambda M: M.cross(M.zeros(2, 2), M.zeros(2, 2)), torch)


# ---------------------------------------------------------------- linear algebra at the edges


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix(device):
    """At an exactly singular matrix the gradient is the cofactor matrix (checked by central
    differences; PyTorch 2.13 returns zeros there, which the differences refute)."""
    from autograd_gpu.autograd import gradcheck

    for m, cof in (([[1.0, 2.0], [2.0, 4.0]], [[4.0, -2.0], [-2.0, 1.0]]),
                   ([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], [[-3.0, 6.0, -3.0], [6.0, -12.0, 6.0], [-3.0, 6.0, -3.0]]),
                   ([[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]])):
        a = _t(ag, m, device, dtype=ag.float64, requires_grad=True)
        (g,) = ag.autograd.grad(ag.det(a), a)
        np.testing.assert_allclose(to_numpy(g), cof, atol=1e-9)
        assert gradcheck(ag.det, (a,))


def test_logdet_and_slogdet_signs_match_torch(device, torch):
    for m in (-np.eye(3), np.diag([2.0, -1.0, -3.0]), np.zeros((2, 2)), np.eye(2) * 0.5):
        _same(ag.logdet(_t(ag, m, device)), torch.logdet(torch.tensor(m)))
        s, ls = ag.slogdet(_t(ag, m, device))
        ts = torch.slogdet(torch.tensor(m))
        _same(s, ts.sign)
        _same(ls, ts.logabsdet)
        assert ag.slogdet(_t(ag, m, device)).logabsdet is not None


def test_matrix_power_zero_is_the_identity_even_with_nan(device, torch):
    m = [[np.nan, 1.0], [2.0, 3.0]]
    _same(ag.matrix_power(_t(ag, m, device), 0), torch.matrix_power(torch.tensor(m), 0))
    _same(ag.tensor(np.eye(2) * 2, device=device).matrix_power(-3), torch.tensor(np.eye(2) * 2).matrix_power(-3))


def test_addmm_beta_zero_ignores_nan_in_input(device, torch):
    x = np.array([[np.nan, np.inf]])
    a, b = np.ones((1, 2)), np.ones((2, 2))
    _same(ag.addmm(_t(ag, x, device), _t(ag, a, device), _t(ag, b, device), beta=0, alpha=2),
          torch.addmm(torch.tensor(x), torch.tensor(a), torch.tensor(b), beta=0, alpha=2))


def test_einsum_forms_agree(device, torch):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    expect = torch.einsum("ij,jk->ik", torch.tensor(a), torch.tensor(b))
    A, B = ag.tensor(a, device=device), ag.tensor(b, device=device)
    for ours in (ag.einsum("ij,jk->ik", A, B), ag.einsum("ij,jk", A, B), ag.einsum("ij,jk", [A, B]),
                 ag.einsum("ij,jk", (A, B)), ag.einsum(A, [0, 1], B, [1, 2], [0, 2]),
                 ag.einsum(A, [Ellipsis, 1], B, [1, 2]), ag.einsum(" i j , j k -> i k ", A, B)):
        _same(ours, expect)
    _same(ag.einsum("bA", A), torch.einsum("bA", torch.tensor(a)))  # implicit: sorted, A before b
    _same(ag.einsum("", ag.tensor(2.0, device=device)), torch.einsum("", torch.tensor(2.0)))
    _same(ag.einsum("ij->i", ag.tensor([[1, 2], [3, 4]], device=device)), torch.einsum("ij->i", torch.tensor([[1, 2], [3, 4]])))


def test_names_of_the_nodes_match_torch(torch):
    x, tx = ag.ones(2, 3, requires_grad=True), torch.ones(2, 3, requires_grad=True)
    m, tm = ag.ones(3, 3, requires_grad=True), torch.ones(3, 3, requires_grad=True)
    calls = [
        lambda M, x, m: M.addcmul(x, x, x), lambda M, x, m: M.addcdiv(x, x, x),
        lambda M, x, m: M.lerp(x, x, 0.5), lambda M, x, m: M.lerp(x, x, x),
        lambda M, x, m: M.clamp_min(x, 0.5), lambda M, x, m: M.clamp_max(x, x),
        lambda M, x, m: M.xlogy(2.0, x), lambda M, x, m: M.xlogy(x, 2.0),
        lambda M, x, m: M.fmod(x, 2.0), lambda M, x, m: M.remainder(x, x),
        lambda M, x, m: M.copysign(x, -1.0), lambda M, x, m: M.nansum(x),
        lambda M, x, m: M.dist(x, x * 2), lambda M, x, m: M.cdist(x, x),
        lambda M, x, m: M.std_mean(x)[0], lambda M, x, m: M.var_mean(x, 1)[1],
        lambda M, x, m: M.aminmax(x).max, lambda M, x, m: M.addmm(m, m, m),
        lambda M, x, m: M.addmv(m[0], m, m[1]), lambda M, x, m: M.det(m),
        lambda M, x, m: M.slogdet(m).logabsdet, lambda M, x, m: M.logdet(m),
        lambda M, x, m: M.cross(m, m, dim=0), lambda M, x, m: M.tensordot(m, m),
        lambda M, x, m: M.matrix_power(m, 2), lambda M, x, m: M.nan_to_num(x),
    ]
    for call in calls:
        assert call(ag, x, m).grad_fn.name() == type(call(torch, tx, tm).grad_fn).__name__


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_python_mod_and_floordiv_operators_match_torch(torch, device, dtype):
    """t % b, b % t, t // b, b // t as torch.Tensor's, zero's sign included (remainder is fmod
    moved by b where the signs differ, so 5 % -2.5 is +0, -5 % 2.5 is -0)."""
    a = np.array([5, -7, 3, 0, -5, 9], dtype=dtype)
    if dtype == "float32":
        a = np.concatenate([a, np.array([3.5, -0.0], dtype)])
    ours, ref = ag.tensor(a, device=device), torch.tensor(a)
    divisors = [3, -2] if dtype == "int64" else [3.0, -2.5, 2.5]
    for b in divisors:
        for f in (lambda t: t % b, lambda t: t // b):
            got, want = f(ours), f(ref)
            np.testing.assert_array_equal(to_numpy(got), want.numpy())
            np.testing.assert_array_equal(np.signbit(to_numpy(got)), np.signbit(want.numpy()))
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    nz = ours[ours != 0]
    for f in (lambda t: 7 % t, lambda t: 7 // t):
        np.testing.assert_array_equal(to_numpy(f(nz)), f(ref[ref != 0]).numpy())
