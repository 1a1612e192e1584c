"""Shape ops and indexing beyond the table: results of split/chunk/squeeze against PyTorch,
views sharing memory, setitem semantics, and errors."""
import numpy as np
import pytest

import autograd_gpu as ag
from conftest import to_numpy

X = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("args", [(2,), (3,), ([1, 1],), (1, 1), (2, -1), ([3, 1], 2), (5, 2)])
def test_split_sizes_match_torch(args, device, torch):
    x = ag.tensor(X, device=device)
    ours, theirs = x.split(*args), torch.tensor(X).split(*args)
    assert [tuple(o.shape) for o in ours] == [tuple(t.shape) for t in theirs]
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(to_numpy(o), t.numpy())


@pytest.mark.parametrize("chunks,dim", [(2, 0), (2, 1), (3, 1), (4, -1), (3, 2), (5, 2)])
def test_chunk_sizes_match_torch(chunks, dim, device, torch):
    ours = ag.chunk(ag.tensor(X, device=device), chunks, dim)
    theirs = torch.chunk(torch.tensor(X), chunks, dim)
    assert [tuple(o.shape) for o in ours] == [tuple(t.shape) for t in theirs]
    for o, t in zip(ours, theirs):  # the right pieces, not just the right sizes
        np.testing.assert_array_equal(to_numpy(o), t.numpy())
    # and the gradient of each piece lands in its place
    x = ag.tensor(X, device=device, requires_grad=True)
    tx = torch.tensor(X, requires_grad=True)
    w = [float(k + 1) for k in range(len(theirs))]
    sum(p.sum() * c for p, c in zip(ag.chunk(x, chunks, dim), w)).backward()
    sum(p.sum() * c for p, c in zip(torch.chunk(tx, chunks, dim), w)).backward()
    np.testing.assert_array_equal(to_numpy(x.grad), tx.grad.numpy())


@pytest.mark.parametrize("shape,dim", [((1, 3, 1), None), ((1, 3, 1), 0), ((1, 3, 1), -1), ((1, 3, 1), 1),
                                       ((2, 3), 0), ((1,), None), ((1, 1), (0, 1))])
def test_squeeze_matches_torch(shape, dim, device, torch):
    x = ag.zeros(shape, device=device)
    t = torch.zeros(shape)
    ours = x.squeeze() if dim is None else x.squeeze(dim)
    theirs = t.squeeze() if dim is None else t.squeeze(dim)
    assert tuple(ours.shape) == tuple(theirs.shape)


def test_views_share_memory_with_their_base(device):
    x = ag.tensor(X, device=device)
    for v in (x.reshape(6, 4), x.view(-1), x.transpose(0, 2), x.permute(2, 0, 1), x[0], x[:, 1:],
              x.unsqueeze(0), x[None], x.flatten(1)):
        before = to_numpy(v).copy()
        with ag.no_grad():
            x.add_(1.0)
        np.testing.assert_array_equal(to_numpy(v), before + 1, err_msg="not a view")


def test_shape_errors(device):
    x = ag.tensor(X, device=device)
    with pytest.raises(RuntimeError, match=r"shape '\[5, 5\]' is invalid for input of size 24"):
        x.reshape(5, 5)
    with pytest.raises(RuntimeError, match=r"expanded size .* must match the existing size at non-singleton"):
        x.expand(2, 5, 4)
    with pytest.raises(RuntimeError, match=r"Sizes of tensors must match except in dimension 0"):
        ag.cat([x, ag.zeros((1, 2, 4), device=device)])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        ag.stack([x, x[:, :2]])
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum exactly to 2"):
        x.split([1, 2])
    with pytest.raises(RuntimeError, match="number of dimensions"):
        x.permute(1, 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.transpose(0, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.unsqueeze(4)
    with pytest.raises(RuntimeError, match="start_dim cannot come after end_dim"):
        x.flatten(2, 1)


# ---------------------------------------------------------------- indexing


def test_repeated_indices_accumulate(device):
    idx = [0, 2, 2, 2, 1, 0]
    x = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, device=device, requires_grad=True)
    x[ag.tensor(idx, device=device)].sum().backward()
    assert to_numpy(x.grad).tolist() == [2.0, 1.0, 3.0]


def test_bool_mask_read_and_gradient(device):
    x = ag.tensor([[1.0, -2.0], [-3.0, 4.0]], dtype=ag.float64, device=device, requires_grad=True)
    y = x[x > 0]
    assert to_numpy(y).tolist() == [1.0, 4.0]
    (y * ag.tensor([10.0, 20.0], dtype=ag.float64, device=device)).sum().backward()
    assert to_numpy(x.grad).tolist() == [[10.0, 0.0], [0.0, 20.0]]


def test_setitem_on_a_leaf_that_requires_grad_raises(device):
    w = ag.ones(3, device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        w[0] = 5.0


def test_setitem_under_no_grad_and_on_grads(device):
    w = ag.ones(3, device=device, requires_grad=True)
    with ag.no_grad():
        w[1:] = 0.0
    assert to_numpy(w).tolist() == [1.0, 0.0, 0.0] and w.is_leaf and w.requires_grad
    (w * 2).sum().backward()
    w.grad[:] = 0
    assert to_numpy(w.grad).tolist() == [0.0, 0.0, 0.0]


def test_setitem_records_gradients_for_target_and_value(device, torch):
    x_np, v_np = np.arange(6.0).reshape(2, 3), np.array([10.0, 20.0])
    x = ag.tensor(x_np, device=device, requires_grad=True)
    v = ag.tensor(v_np, device=device, requires_grad=True)
    y = x * 2
    y[:, 1] = v * v
    tx, tv = torch.tensor(x_np, requires_grad=True), torch.tensor(v_np, requires_grad=True)
    ty = tx * 2
    ty[:, 1] = tv * tv
    np.testing.assert_array_equal(to_numpy(y), ty.detach().numpy())
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy())
    np.testing.assert_allclose(to_numpy(v.grad), tv.grad.numpy())


def test_setitem_and_getitem_errors(device):
    x = ag.zeros((2, 3), device=device)
    with pytest.raises(IndexError, match=r"out of bounds.*shape \(2, 3\)"):
        x[2]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool"):
        x[ag.tensor([0.5], device=device)]
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\)"):
        x[0] = ag.zeros(4, device=device)


def test_getitem_keys_match_torch(device, torch):
    keys = [
        (1, slice(None), 2), (Ellipsis, 0), (None, 0, None), (slice(0, 2), [2, 0, 2]),
        ([1, 0], [2, 1], [3, 3]), (slice(None), 1, [0, 0, 3]), (-1,), (0, Ellipsis, None),
    ]
    x = ag.tensor(X, device=device)
    t = torch.tensor(X)
    for key in keys:
        tkey = tuple(torch.tensor(k) if isinstance(k, list) else k for k in key)
        okey = tuple(ag.tensor(k, device=device) if isinstance(k, list) else k for k in key)
        np.testing.assert_array_equal(to_numpy(x[okey]), t[tkey].numpy(), err_msg=str(key))
