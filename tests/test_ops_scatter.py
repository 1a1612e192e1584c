"""Gather/scatter/index ops and the added shape ops beyond the op table: values against
PyTorch (integer dtypes, repeated indices, reductions), the in-place forms (recorded on
non-leaves, refused on leaves that require grad, version counter, views), out-of-range
indices (always raise, never wrap, on both devices), and PyTorch's error messages."""
import numpy as np
import pytest

import autograd_gpu as ag
from conftest import to_numpy

X = np.arange(12.0).reshape(3, 4) - 5.5
XI = np.arange(12).reshape(3, 4) % 5 - 2
IDX = np.array([[0, 2, 1, 0], [2, 0, 1, 0]])


def _run(f, torch, device, *arrays):
    ours = f(ag, *[ag.tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in arrays])
    theirs = f(torch, *[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    outs, touts = (ours, theirs) if isinstance(theirs, tuple) else ((ours,), (theirs,))
    assert len(outs) == len(touts)
    for a, b in zip(outs, touts):
        assert tuple(a.shape) == tuple(b.shape)
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(to_numpy(a), b.numpy(), rtol=1e-12)


def _i(M, a, x=None):
    return M.tensor(np.asarray(a), device=None if x is None else x.device)


VALUE_CASES = {
    "gather": lambda M, x: M.gather(x, 1, _i(M, [[3, 0], [1, 1], [0, 2]], x)),
    "scatter": lambda M, x: M.scatter(x, 0, _i(M, IDX[:1], x), x[:1] * 10),
    "scatter_value": lambda M, x: x.scatter(1, _i(M, [[1], [0], [3]], x), 7),
    "scatter_reduce_add": lambda M, x: M.scatter(x, 0, _i(M, IDX, x), x[:2], reduce="add"),
    "scatter_add_repeats": lambda M, x: M.scatter_add(x, 0, _i(M, IDX, x), x[1:] * 3),
    "scatter_add_region": lambda M, x: x.scatter_add(1, _i(M, [[0, 0], [3, 3]], x), x),
    "index_add": lambda M, x: M.index_add(x, 0, _i(M, [2, 2], x), x[:2], alpha=2),
    "index_select": lambda M, x: M.index_select(x, 1, _i(M, [3, 0, 3], x)),
    "index_select_0d": lambda M, x: x.index_select(0, _i(M, 2, x)),
    "index_copy": lambda M, x: M.index_copy(x, 1, _i(M, [3, 0], x), x[:, :2]),
    "index_fill": lambda M, x: x.index_fill(1, _i(M, [0, 2], x), -1),
    "index_put": lambda M, x: M.index_put(x, (_i(M, [0, 2], x), _i(M, [1, 3], x)), x[0, :2]),
    "index_put_acc": lambda M, x: x.index_put((_i(M, [1, 1, 0], x),), x[0] * 2, accumulate=True),
    "index_put_bool": lambda M, x: x.index_put((x > 0,), x[x > 0] * 0 + 9),
    "take": lambda M, x: M.take(x, _i(M, [[0, -1], [11, -12]], x)),
    "take_along_dim": lambda M, x: M.take_along_dim(x, _i(M, [[1, 0, 2, 2]], x), 0),
    "take_along_dim_flat": lambda M, x: M.take_along_dim(x, _i(M, [3, 3, 11], x)),
    "masked_select": lambda M, x: M.masked_select(x, x > 0),
    "masked_select_bcast": lambda M, x: x.masked_select(_i(M, [True, False, False, True], x)),
    "masked_scatter": lambda M, x: M.masked_scatter(x, x > 0, x.flatten() * 10),
    "argwhere": lambda M, x: M.argwhere(x > 0),
    "nonzero_tuple": lambda M, x: M.nonzero(x > 0, as_tuple=True),
    "where_one_arg": lambda M, x: M.where(x > 0),
    "put": lambda M, x: x.clone().put_(_i(M, [0, -1], x), x[0, :2] * 0 + 5),
    "put_acc": lambda M, x: x.clone().put_(_i(M, [1, 1], x), x[0, :2] + 1, accumulate=True),
}


@pytest.mark.parametrize("name", sorted(VALUE_CASES))
@pytest.mark.parametrize("data", ["float", "int"])
def test_values_match_torch(name, data, device, torch):
    _run(VALUE_CASES[name], torch, device, X if data == "float" else XI)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("data", ["float", "int"])
def test_scatter_reduce_matches_torch(reduce, include_self, data, device, torch):
    x, s = (X, X[:2] * 0.5 + 1) if data == "float" else (XI, XI[:2] + 3)
    _run(lambda M, a, b: M.scatter_reduce(a, 0, _i(M, IDX, a), b, reduce, include_self=include_self),
         torch, device, x, s)


def test_scatter_reduce_prod_gradient_with_zeros(device, torch):
    x, s = np.array([0.0, 2.0, 3.0]), np.array([0.0, 5.0, 0.0, 4.0, 0.0])
    idx = np.array([1, 1, 2, 0, 0])
    for inc in (True, False):
        a = ag.tensor(x, device=device, requires_grad=True)
        b = ag.tensor(s, device=device, requires_grad=True)
        ta, tb = torch.tensor(x, requires_grad=True), torch.tensor(s, requires_grad=True)
        a.scatter_reduce(0, ag.tensor(idx, device=device), b, "prod", include_self=inc).sum().backward()
        ta.scatter_reduce(0, torch.tensor(idx), tb, "prod", include_self=inc).sum().backward()
        np.testing.assert_allclose(to_numpy(a.grad), ta.grad.numpy())
        np.testing.assert_allclose(to_numpy(b.grad), tb.grad.numpy())


# ---------------------------------------------------------------- in place

INPLACE = {
    "scatter_": lambda M, y, s: y.scatter_(0, _i(M, IDX[:1], y), s[:1]),
    "scatter_value_": lambda M, y, s: y.scatter_(1, _i(M, [[0], [2], [1]], y), 2.5),
    "scatter_add_": lambda M, y, s: y.scatter_add_(0, _i(M, IDX, y), s),
    "scatter_reduce_": lambda M, y, s: y.scatter_reduce_(0, _i(M, IDX, y), s, "amax"),
    "index_add_": lambda M, y, s: y.index_add_(0, _i(M, [0, 0], y), s),
    "index_copy_": lambda M, y, s: y.index_copy_(0, _i(M, [2, 0], y), s),
    "index_fill_": lambda M, y, s: y.index_fill_(1, _i(M, [3], y), 0.5),
    "index_put_": lambda M, y, s: y.index_put_((_i(M, [0, 2], y),), s),
    "put_": lambda M, y, s: y.put_(_i(M, [3, 4], y), s[0, :2]),
    "masked_scatter_": lambda M, y, s: y.masked_scatter_(y > 0, s),
    "masked_fill_": lambda M, y, s: y.masked_fill_(y > 0, -3.0),
}


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_recorded_on_non_leaf_matches_torch(name, device, torch):
    s_np = np.arange(8.0).reshape(2, 4) / 4 + 1

    def run(M, mk):
        x, s = mk(X, requires_grad=True), mk(s_np, requires_grad=True)
        y = x * 2.0
        out = INPLACE[name](M, y, s)
        assert out is y
        (y * y).sum().backward()
        return y, x.grad, s.grad

    ours = run(ag, lambda a, **kw: ag.tensor(a, device=device, **kw))
    theirs = run(torch, lambda a, **kw: torch.tensor(a, **kw))
    for a, b in zip(ours, theirs):
        if b is None:
            assert a is None or not np.any(to_numpy(a))
            continue
        np.testing.assert_allclose(to_numpy(a), b.detach().numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(INPLACE))
def test_inplace_on_leaf(name, device):
    """A leaf that requires grad is refused in grad mode (PyTorch's error) and written in
    place under no_grad; the version counter moves and views see the change."""
    s = ag.tensor(np.ones((2, 4)), device=device)
    x = ag.tensor(X, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        INPLACE[name](ag, x, s)
    view = x[0]
    before = x._version_number
    with ag.no_grad():
        out = INPLACE[name](ag, x, s)
    assert out is x and x._version_number == before + 1
    np.testing.assert_array_equal(to_numpy(view), to_numpy(x)[0])


def test_inplace_changes_a_saved_input_is_caught(device):
    x = ag.tensor(X, device=device, requires_grad=True)
    y = x * 1.0
    z = y * y  # saves y
    y.index_fill_(0, ag.tensor([0], device=device), 0.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


# ---------------------------------------------------------------- indices out of range

OUT_OF_RANGE = {
    "gather": lambda M, x: M.gather(x, 0, _i(M, [[0, 3, 0, 0]], x)),
    "gather_neg": lambda M, x: x.gather(1, _i(M, [[-1]], x)),
    "scatter": lambda M, x: x.scatter(0, _i(M, [[0, 5, 2, 0]], x), 1.0),
    "scatter_neg": lambda M, x: x.scatter(0, _i(M, [[0, -1, 2, 0]], x), 1.0),
    "scatter_add": lambda M, x: M.scatter_add(x, 1, _i(M, [[4]], x), x[:1, :1]),
    "scatter_reduce": lambda M, x: M.scatter_reduce(x, 0, _i(M, [[3]], x), x[:1, :1], "sum"),
    "index_add": lambda M, x: x.index_add(0, _i(M, [0, 3], x), x[:2]),
    "index_copy": lambda M, x: x.index_copy(0, _i(M, [0, 3], x), x[:2]),
    "index_fill": lambda M, x: x.index_fill(0, _i(M, [0, 3], x), 1.0),
    "index_put": lambda M, x: x.clone().index_put_((_i(M, [3], x),), x[0]),
    "take": lambda M, x: x.take(_i(M, [12], x)),
    "index_select": lambda M, x: x.index_select(0, _i(M, [0, 3], x)),
    "index_select_neg": lambda M, x: x.index_select(0, _i(M, [-1], x)),
    "take_neg": lambda M, x: x.take(_i(M, [-13], x)),
    "put_": lambda M, x: x.clone().put_(_i(M, [12], x), x[0, :1]),
    "getitem": lambda M, x: x[_i(M, [0, 5], x)],
    "setitem": lambda M, x: x.clone().__setitem__((_i(M, [3], x),), 1.0),
}


@pytest.mark.parametrize("name", sorted(OUT_OF_RANGE))
def test_out_of_range_indices_raise_as_torch(name, device, torch):
    """Never wrap around (CuPy's indexing would): the message is PyTorch's."""
    with pytest.raises(Exception) as theirs:
        OUT_OF_RANGE[name](torch, torch.tensor(X))
    with pytest.raises(type(theirs.value)) as ours:
        OUT_OF_RANGE[name](ag, ag.tensor(X, device=device))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("key", ["slice_first", "mask_first", "setitem_ellipsis"])
def test_index_arrays_after_other_dims_raise(key, device, torch):
    """An index array behind a slice or a mask: both raise IndexError; we name the indexed
    dim (PyTorch's message counts from the first index array instead)."""
    def f(M, x):
        i = _i(M, [4], x)
        if key == "slice_first":
            return x[:, i]
        if key == "mask_first":
            return x[_i(M, [True, False, True], x), i]
        x = x.clone()
        x[..., i] = 1.0

    with pytest.raises(IndexError):
        f(torch, torch.tensor(X))
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 1 with size 4"):
        f(ag, ag.tensor(X, device=device))


def test_take_along_dim_checks_its_indices(device):
    """(PyTorch's CPU take_along_dim reads out of bounds here; we raise gather's error.)"""
    x = ag.tensor(X, device=device)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 0 with size 3"):
        ag.take_along_dim(x, ag.tensor([[5]], device=device), 0)


ERRORS = [
    lambda M, x: x.scatter(0, _i(M, [0, 1]), 1.0),
    lambda M, x: x.scatter(0, _i(M, [[0, 1, 2, 0]]), M.ones(1, 2)),
    lambda M, x: x.scatter(0, _i(M, [[0, 1, 2, 0]]), M.ones(1, 4, dtype=M.float32)),
    lambda M, x: x.scatter_add(0, _i(M, [[0, 1, 2, 0]]), M.ones(1, 4, dtype=M.float32)),
    lambda M, x: x.scatter(0, _i(M, [[0, 1, 2, 0]]), 1.0, reduce="foo"),
    lambda M, x: x.scatter_reduce(0, _i(M, [[0, 1, 2, 0]]), x, reduce="foo"),
    lambda M, x: x.index_add(0, _i(M, [0, 1]), M.ones(2, 3, dtype=x.dtype)),
    lambda M, x: x.index_add(0, _i(M, [[0, 1]]), M.ones(2, 4, dtype=x.dtype)),
    lambda M, x: x.index_add(0, _i(M, [0, 1]), M.ones(3, 4, dtype=x.dtype)),
    lambda M, x: x.index_add(0, _i(M, [0, 1]), M.ones(2, 4, dtype=M.float32)),
    lambda M, x: x.index_copy(0, _i(M, [0, 1]), M.ones(3, 4, dtype=x.dtype)),
    lambda M, x: x.index_fill(0, M.tensor([0.0, 1.0]), 1.0),
    lambda M, x: x.index_select(0, M.tensor([0.0])),
    lambda M, x: x.index_select(0, _i(M, [[0]])),
    lambda M, x: x.index_fill(0, _i(M, [0, 1]), M.ones(2)),
    lambda M, x: x.clone().put_(_i(M, [1, 2]), M.ones(3, dtype=x.dtype)),
    lambda M, x: x.masked_select(M.ones(3, 4)),
    lambda M, x: x.masked_select(M.ones(2, 4, dtype=M.bool)),
    lambda M, x: x.masked_scatter(M.ones(3, 4, dtype=M.bool), M.ones(5, dtype=x.dtype)),
    lambda M, x: x.masked_scatter(M.ones(3, 4), M.ones(12, dtype=x.dtype)),
    lambda M, x: x.masked_scatter(M.ones(3, 4, dtype=M.bool), M.ones(12, dtype=M.float32)),
    lambda M, x: M.take_along_dim(x, _i(M, [[0]]).int(), 0),
    lambda M, x: M.take_along_dim(x, _i(M, [0]), 0),
    lambda M, x: x.clone().index_put_((_i(M, [0], x),), M.ones(2, dtype=x.dtype, device=x.device)),
    lambda M, x: x.clone().index_put_((_i(M, [0], x),), M.ones(4, dtype=M.float32, device=x.device)),
    lambda M, x: x.index_copy(0, _i(M, [0]), M.ones(1, 4, dtype=M.float32)),
    lambda M, x: x.scatter_reduce(0, _i(M, [[0]]), M.ones(1, 1, dtype=M.float32), "sum"),
    # shape ops
    lambda M, x: x.select(0, 3),
    lambda M, x: x.narrow(0, 4, 1),
    lambda M, x: x.narrow(0, 2, 2),
    lambda M, x: x.narrow(0, -4, 1),
    lambda M, x: x.narrow(0, 1, -1),
    lambda M, x: x.repeat(2),
    lambda M, x: x.repeat_interleave(_i(M, [1, 2]), dim=0),
    lambda M, x: x.repeat_interleave(_i(M, [1, -2, 1]), dim=0),
    lambda M, x: x.repeat_interleave(-1),
    lambda M, x: x[0].tril(),
    lambda M, x: x[0].triu(),
    lambda M, x: x.diag_embed(dim1=0, dim2=0),
    lambda M, x: x.diagonal(dim1=1, dim2=1),
    lambda M, x: M.zeros(2, 2, 2).diag(),
    lambda M, x: M.zeros(2, 2, 2).trace(),
    lambda M, x: M.zeros(2).fliplr(),
    lambda M, x: M.zeros(()).flipud(),
    lambda M, x: x.flip(0, 0),
    lambda M, x: x.roll((1, 2), (0,)),
    lambda M, x: x.rot90(1, (0, 0)),
    lambda M, x: x.rot90(1, (0,)),
    lambda M, x: M.zeros(3).rot90(),
    lambda M, x: x.movedim((0, 1), (0,)),
    lambda M, x: x.movedim((0, 0), (0, 1)),
    lambda M, x: x.tensor_split(0),
    lambda M, x: x.hsplit(3),
    lambda M, x: M.zeros(3).vsplit(1),
    lambda M, x: M.zeros(()).hsplit(1),
    lambda M, x: M.zeros(4, 2).dsplit(1),
    lambda M, x: M.meshgrid(),
    lambda M, x: M.meshgrid(x[0], indexing="foo"),
    lambda M, x: M.combinations(x),
    lambda M, x: M.cartesian_prod(x),
    lambda M, x: M.block_diag(M.zeros(2, 2, 2)),
    lambda M, x: M.tril_indices(3, 3, dtype=M.float32),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch(case, device, torch):
    f = ERRORS[case]
    with pytest.raises(Exception) as theirs:
        f(torch, torch.tensor(X))
    with pytest.raises(type(theirs.value)) as ours:
        f(ag, ag.tensor(X, device=device))
    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------- shape ops: values, views


SHAPE_CASES = {
    "flip": lambda M, x: x.flip(0, 1), "roll_flat": lambda M, x: x.roll(-5),
    "rot90_3": lambda M, x: x.rot90(3), "repeat": lambda M, x: x.repeat(2, 1, 2),
    "tile": lambda M, x: M.tile(x, (2,)), "repeat_interleave": lambda M, x: x.repeat_interleave(2, 0),
    "repeat_interleave_flat": lambda M, x: M.repeat_interleave(x, _i(M, [2], x)),
    "repeat_interleave_counts": lambda M, x: M.repeat_interleave(_i(M, [2, 0, 3])),
    "tril": lambda M, x: x.tril(1), "triu": lambda M, x: M.triu(x, -1),
    "diag": lambda M, x: M.diag(x, 1), "diag_1d": lambda M, x: M.diag(x[0], -2),
    "diagonal": lambda M, x: x.diagonal(-1), "diag_embed": lambda M, x: M.diag_embed(x, 1),
    "trace": lambda M, x: x.trace(), "unbind": lambda M, x: x.unbind(1),
    "tensor_split": lambda M, x: x.tensor_split([1, 3], 1), "hsplit": lambda M, x: x.hsplit([1]),
    "vsplit": lambda M, x: x.vsplit(3), "hstack": lambda M, x: M.hstack([x, x]),
    "vstack": lambda M, x: M.vstack([x[0], x]), "dstack": lambda M, x: M.dstack([x, x]),
    "column_stack": lambda M, x: M.column_stack([x[0], x.T]),
    "block_diag": lambda M, x: M.block_diag(x, x[0], x[0, 0]),
    "meshgrid_xy": lambda M, x: M.meshgrid(x[0], x[:, 0], indexing="xy"),
    "cartesian_prod": lambda M, x: M.cartesian_prod(x[0], x[1, :2], x[2, :1]),
    "combinations": lambda M, x: M.combinations(x[0], 3),
    "combinations_empty": lambda M, x: M.combinations(x[0, :2], 3),
    "atleast": lambda M, x: M.atleast_3d(x[0], x, x[0, 0]),
    "movedim": lambda M, x: M.movedim(x[None], (0, 1), (2, 0)),
    "tril_indices": lambda M, x: M.tril_indices(3, 4, 1),
    "triu_indices": lambda M, x: M.triu_indices(4, 3, -1),
}


@pytest.mark.parametrize("name", sorted(SHAPE_CASES))
def test_shape_values_match_torch(name, device, torch):
    if name.endswith("_indices"):
        ours = SHAPE_CASES[name](ag, None)
        theirs = SHAPE_CASES[name](torch, None)
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
        assert ours.dtype == ag.int64
        return
    _run(SHAPE_CASES[name], torch, device, XI)


def test_views_share_memory(device, torch):
    """diagonal, narrow, select, unbind and tensor_split are views (writes show through);
    flip and roll are copies, as in PyTorch."""
    x = ag.zeros(3, 3, device=device)
    x.diagonal().fill_(1.0)
    x.narrow(1, 2, 1).fill_(5.0)
    x.select(0, 0)[0] = 7.0
    x.unbind(0)[2][0] = 8.0
    x.tensor_split(3, 1)[1][1] = 9.0
    t = torch.zeros(3, 3)
    t.diagonal().fill_(1.0)
    t.narrow(1, 2, 1).fill_(5.0)
    t.select(0, 0)[0] = 7.0
    t.unbind(0)[2][0] = 8.0
    t.tensor_split(3, 1)[1][1] = 9.0
    np.testing.assert_array_equal(to_numpy(x), t.numpy())
    f = x.flip(0)
    f.fill_(0.0)
    assert to_numpy(x)[0, 0] == 7.0


def test_diagonal_write_through_leaf_view_is_refused(device):
    x = ag.zeros(3, 3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        x.diagonal().fill_(1.0)


def test_meshgrid_without_indexing_warns_as_torch(device):
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        a, b = ag.meshgrid(ag.arange(2, device=device), ag.arange(3, device=device))
    assert tuple(a.shape) == (2, 3)
