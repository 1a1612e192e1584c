"""Reductions beyond the table: dim= and NumPy's axis=, keepdim= and keepdims=, the
(values, indices) results, argmax/argmin, and errors, all against PyTorch."""
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_gpu as ag
from conftest import to_numpy

X = np.array([[[0.3, -1.2, 2.5, 0.1], [1.7, 0.4, -0.6, -2.2], [0.9, 1.1, -0.2, 0.8]],
              [[-0.7, 2.1, 0.5, 1.4], [0.2, -1.5, 1.9, -0.3], [-1.1, 0.6, 0.0, 2.4]]])

REDUCTIONS = ["sum", "mean", "var", "std", "prod", "amax", "amin", "logsumexp", "norm"]


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("dim", [0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_dim_and_axis_and_keepdims_agree_with_torch(name, dim, keepdim, device, torch):
    if name == "prod" and isinstance(dim, tuple):
        pytest.skip("torch.prod takes a single dim")
    x = ag.tensor(X, device=device, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    f = getattr(ag, name)
    y_dim = f(x, dim=dim, keepdim=keepdim)
    y_axis = f(x, axis=dim, keepdims=keepdim) if name not in ("amax", "amin") else y_dim
    # (norm's first positional argument is p, as in PyTorch)
    y_method = getattr(x, name)(dim=dim, keepdim=keepdim) if name == "norm" else getattr(x, name)(dim, keepdim=keepdim)
    ty = getattr(torch, name)(tx, dim=dim, keepdim=keepdim)
    for y in (y_dim, y_axis, y_method):
        assert tuple(y.shape) == tuple(ty.shape)
        np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-12)
    v = np.random.default_rng(0).standard_normal(tuple(ty.shape))
    (g,) = ag.autograd.grad(y_axis, x, ag.tensor(v, device=device))
    (tg,) = torch.autograd.grad(ty, tx, torch.tensor(v))
    np.testing.assert_allclose(to_numpy(g), tg.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_return_values_and_indices(name, dim, keepdim, device, torch):
    x = ag.tensor(X, device=device, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    out = getattr(ag, name)(x, dim, keepdim=keepdim)
    tout = getattr(torch, name)(tx, dim, keepdim=keepdim)
    values, indices = out  # unpacks as a pair
    assert out.values is values and out.indices is indices
    assert indices.dtype == ag.int64 and not indices.requires_grad
    np.testing.assert_array_equal(to_numpy(indices), tout.indices.numpy())
    np.testing.assert_allclose(to_numpy(values), tout.values.detach().numpy())
    same = getattr(x, name)(axis=dim, keepdims=keepdim)
    np.testing.assert_array_equal(to_numpy(same.indices), tout.indices.numpy())
    values.sum().backward()
    tout.values.sum().backward()
    np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("dim", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin_match_torch(name, dim, keepdim, device, torch):
    x = ag.tensor(X, device=device, requires_grad=True)
    tx = torch.tensor(X)
    ours = [getattr(ag, name)(x, dim, keepdim), getattr(x, name)(dim=dim, keepdim=keepdim)]
    if dim is not None:
        ours.append(getattr(x, name)(axis=dim, keepdim=keepdim))
    theirs = getattr(torch, name)(tx, dim, keepdim)
    for o in ours:
        assert o.dtype == ag.int64 and not o.requires_grad
        assert tuple(o.shape) == tuple(theirs.shape)
        np.testing.assert_array_equal(to_numpy(o), theirs.numpy())


def test_whole_tensor_max_min(device, torch):
    x = ag.tensor(X, device=device)
    assert ag.max(x).item() == torch.tensor(X).max().item()
    assert x.min().item() == torch.tensor(X).min().item()
    assert x.max().shape == ()


def test_var_std_arguments_match_torch(device, torch):
    x = ag.tensor(X, device=device)
    tx = torch.tensor(X)
    pairs = [
        (x.var(), tx.var()),
        (x.var(unbiased=False), tx.var(unbiased=False)),
        (x.var(1, unbiased=False), tx.var(1, unbiased=False)),
        (x.var(dim=(0, 1), correction=0), tx.var(dim=(0, 1), correction=0)),
        (x.var(-1, correction=2, keepdim=True), tx.var(-1, correction=2, keepdim=True)),
        (x.std(0), tx.std(0)),
        (ag.std(x, dim=1, unbiased=False, keepdim=True), torch.std(tx, dim=1, unbiased=False, keepdim=True)),
    ]
    for a, b in pairs:
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(to_numpy(a), b.numpy(), rtol=1e-12)


def test_softmax_dim_and_axis(device, torch):
    x = ag.tensor(X, device=device)
    tx = torch.tensor(X)
    for d in (0, 1, 2, -1):
        np.testing.assert_allclose(to_numpy(ag.softmax(x, dim=d)), torch.softmax(tx, d).numpy(), rtol=1e-12)
        np.testing.assert_allclose(to_numpy(x.log_softmax(axis=d)), torch.log_softmax(tx, d).numpy(), rtol=1e-12)


def test_reductions_on_a_scalar_accept_dim_0(device, torch):
    x = ag.tensor(0.7, dtype=ag.float64, device=device, requires_grad=True)
    tx = torch.tensor(0.7, dtype=torch.float64)
    for name in ["sum", "mean", "prod", "amax", "logsumexp", "softmax", "log_softmax"]:
        y = getattr(x, name)(0)
        ty = getattr(tx, name)(0)
        assert tuple(y.shape) == tuple(ty.shape), name
        assert y.item() == pytest.approx(ty.item()), name
    v, i = x.max(0)
    assert v.item() == pytest.approx(0.7) and i.item() == 0
    (g,) = ag.autograd.grad(x.sum(-1, keepdim=True), x)
    assert g.item() == 1.0


def test_dim_out_of_range_errors(device):
    x = ag.tensor(X, device=device)
    for f in (lambda: x.sum(3), lambda: x.mean(-4), lambda: x.max(5), lambda: x.softmax(3),
              lambda: x.argmax(3), lambda: x.norm(dim=7)):
        with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-3, 2\]"):
            f()


def test_mean_of_integers_says_to_convert(device):
    with pytest.raises(RuntimeError, match="mean\\(\\): could not infer output dtype.*Long|int64"):
        ag.tensor([1, 2, 3], device=device).mean()


def test_max_of_empty_without_dim_errors(device):
    with pytest.raises((IndexError, RuntimeError), match="numel\\(\\) == 0"):
        ag.zeros((0, 3), device=device).max()


@pytest.mark.parametrize("shape,dim", [((1,), None), ((1, 2), 0), ((2, 1), 1)])
def test_var_std_with_no_degrees_of_freedom_are_nan_with_a_warning(shape, dim, device, torch):
    for name in ("var", "std"):
        x = ag.ones(shape, dtype=ag.float64, device=device, requires_grad=True)
        tx = torch.ones(shape, dtype=torch.float64, requires_grad=True)
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            y = getattr(x, name)(dim)
        with pytest.warns(UserWarning):
            ty = getattr(tx, name)(dim)
        y.sum().backward()
        ty.sum().backward()
        np.testing.assert_array_equal(to_numpy(y), ty.detach().numpy())
        np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())


@st.composite
def _shape_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1, max_size=len(shape),
                         unique_by=lambda d: d % len(shape)))
    return shape, tuple(dims), draw(st.booleans())


@settings(max_examples=30, deadline=None)
@given(spec=_shape_and_dims(),
       name=st.sampled_from(["sum", "mean", "amax", "logsumexp", "var", "norm", "softmax", "max"]))
def test_random_shapes_and_dims_match_torch(spec, name, torch):
    shape, dims, keepdim = spec
    rng = np.random.default_rng(zlib.crc32(repr((spec, name)).encode()))
    x_np = rng.permutation(int(np.prod(shape))).reshape(shape) * 0.37 - 1.0  # distinct: no ties
    x = ag.tensor(x_np, requires_grad=True)
    tx = torch.tensor(x_np, requires_grad=True)
    if name == "softmax":
        y, ty = x.softmax(dims[0]), tx.softmax(dims[0])
    elif name == "max":
        y, ty = x.max(dims[0], keepdim)[0], tx.max(dims[0], keepdim)[0]
    elif name == "var" and int(np.prod([shape[d] for d in dims])) < 2:
        # no degrees of freedom: NaN values and gradients, as PyTorch's (both warn)
        with pytest.warns(UserWarning):
            y = x.var(dim=dims, keepdim=keepdim)
        with pytest.warns(UserWarning):
            ty = tx.var(dim=dims, keepdim=keepdim)
        assert np.isnan(to_numpy(y)).all()
    elif name == "norm":  # (p=2 explicitly: torch's default 'fro' takes at most two dims)
        y, ty = x.norm(2, dim=dims, keepdim=keepdim), tx.norm(2, dim=dims, keepdim=keepdim)
    else:
        y = getattr(x, name)(dim=dims, keepdim=keepdim)
        ty = getattr(tx, name)(dim=dims, keepdim=keepdim)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    v = rng.standard_normal(tuple(ty.shape))
    (g,) = ag.autograd.grad(y, x, ag.tensor(v))
    (tg,) = torch.autograd.grad(ty, tx, torch.tensor(v))
    np.testing.assert_allclose(to_numpy(g), tg.numpy(), rtol=1e-10, atol=1e-12)


def test_mean_of_an_empty_tensor_has_an_empty_gradient():
    # mean's 0-d gradient is filled with g / n; n is 0 here, and nothing is to be filled
    x = ag.zeros(0, requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = x.mean()
    y.backward()
    assert x.grad.shape == (0,) and x.grad.dtype == x.dtype


# Ties: PyTorch splits the gradient of amax/amin, and of max()/min() without a dim, evenly
# among the tied entries; max/min with a dim return the first tied index and send the whole
# gradient there. Two-way, three-way and all-equal ties, against PyTorch.
TIED = np.array([[[1.5, -0.5, 1.5, 0.2], [0.7, 0.7, 0.7, -2.0], [-1.0, -1.0, 0.3, 0.3]],
                 [[2.0, 2.0, 2.0, 2.0], [-0.4, 0.9, -0.4, 0.9], [1.5, 0.1, -3.0, -3.0]]])


@pytest.mark.parametrize("name,dim", [(n, d) for n in ("max", "min", "amax", "amin")
                                      for d in (None, 0, 1, -1, (0, 2), (1, 2))
                                      if n in ("amax", "amin") or not isinstance(d, tuple)])
def test_ties_split_the_gradient_as_torch(name, dim, device, torch):
    x = ag.tensor(TIED, device=device, requires_grad=True)
    tx = torch.tensor(TIED, requires_grad=True)
    args = () if dim is None else (dim,)
    out, tout = getattr(x, name)(*args), getattr(tx, name)(*args)
    if name in ("max", "min") and dim is not None:
        np.testing.assert_array_equal(to_numpy(out[1]), tout[1].numpy())  # the first tied index
        out, tout = out[0], tout[0]
    np.testing.assert_array_equal(to_numpy(out), tout.detach().numpy())
    v = np.random.default_rng(1).standard_normal(tuple(tout.shape)) + 2.0
    (g,) = ag.autograd.grad(out, x, ag.tensor(v, device=device))
    (tg,) = torch.autograd.grad(tout, tx, torch.tensor(v))
    np.testing.assert_allclose(to_numpy(g), tg.numpy(), rtol=1e-14, atol=0)
    # (the split itself, by hand, for the whole-tensor reductions: 2.0 is the max four times
    # (1/4 each), -3.0 the min twice (1/2 each))
    if dim is None:
        expect = np.where(TIED == (TIED.max() if name in ("max", "amax") else TIED.min()), 1.0, 0.0)
        np.testing.assert_allclose(to_numpy(g), v * expect / expect.sum(), rtol=1e-14)


def test_named_tuple_results_print_and_are_typed_as_pytorchs(torch):
    # torch.return_types: one type per op, printed "torch.return_types.max(\nvalues=...)"
    x = [[1.0, 5.0, 2.0], [4.0, 2.0, 7.0]]
    calls = {
        "max": lambda M, t: M.max(t, 1), "min": lambda M, t: M.min(t, 0, keepdim=True),
        "sort": lambda M, t: M.sort(t, descending=True), "topk": lambda M, t: M.topk(t, 2),
        "kthvalue": lambda M, t: M.kthvalue(t, 2), "median": lambda M, t: M.median(t, 1),
        "mode": lambda M, t: M.mode(t, 1), "cummax": lambda M, t: M.cummax(t, 1),
        "cummin": lambda M, t: M.cummin(t, 0), "aminmax": lambda M, t: M.aminmax(t),
        "slogdet": lambda M, t: M.slogdet(t[:, :2]),
        "linalg_qr": lambda M, t: M.linalg.qr(t), "linalg_slogdet": lambda M, t: M.linalg.slogdet(t[:, :2]),
    }
    for name, call in calls.items():
        ours, theirs = call(ag, ag.tensor(x)), call(torch, torch.tensor(x))
        assert repr(ours) == repr(theirs), name
        assert type(ours).__name__ == type(theirs).__name__ == name
        assert type(ours) is getattr(ag.return_types, name)
        assert all(getattr(ours, f) is ours[k] for k, f in enumerate(ours._fields))
        assert [repr(getattr(theirs, f)) for f in ours._fields] == [repr(v) for v in ours]
