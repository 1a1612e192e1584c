"""Tensors: creation (dtype inference as PyTorch), attributes, conversions, and a repr laid
out exactly as PyTorch lays it out."""
import numpy as np
import pytest

import autograd_gpu as ag
from conftest import to_numpy


def _same_repr(ours, theirs):
    assert repr(ours) == repr(theirs).replace("torch.", "autograd_gpu."), (
        f"\nours:   {ours!r}\ntheirs: {theirs!r}")


@pytest.mark.parametrize("data", [1.5, 2, True, [1.0, 2.0], [1, 2], [[1, 2], [3, 4]], [True, False],
                                  [[0.5], [1.5]], [], np.float64(2.5), np.arange(3, dtype=np.int32),
                                  np.ones(2, dtype=np.float16)])
def test_tensor_infers_dtype_as_pytorch(data, torch):
    ours, theirs = ag.tensor(data), torch.tensor(data)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())


def test_tensor_copies_and_from_numpy_shares():
    a = np.arange(3.0)
    t = ag.tensor(a)
    f = ag.from_numpy(a)
    a[0] = 10.0
    assert t.tolist() == [0.0, 1.0, 2.0]
    assert f.tolist() == [10.0, 1.0, 2.0] and f.dtype == ag.float64
    f[1] = 5.0
    assert a[1] == 5.0
    assert ag.as_tensor(a).numpy() is a or np.shares_memory(ag.as_tensor(a).numpy(), a)


def test_Tensor_constructor_is_float32():
    assert ag.Tensor([4.0]).dtype == ag.float32
    assert ag.Tensor([1, 2]).dtype == ag.float32
    assert ag.Tensor(np.ones(3)).dtype == ag.float32
    assert tuple(ag.Tensor(2, 3).shape) == (2, 3)
    assert ag.Tensor([4.0]).double().dtype == ag.float64


@pytest.mark.parametrize("name,args,kwargs", [
    ("zeros", (2, 3), {}), ("ones", ((2, 3),), {}), ("empty", (4,), {}),
    ("full", ((2, 2), 1.5), {}), ("full", ((2,), 3), {}), ("arange", (5,), {}),
    ("arange", (1, 2.5, 0.5), {}), ("arange", (0, 10, 3), {}), ("linspace", (-5, 5, 10), {}),
    ("linspace", (0, 1, 37), {}), ("linspace", (-3, 7, 1000), {}), ("eye", (3,), {}),
    ("eye", (2, 4), {}), ("zeros", (3,), {"dtype": "float64"}), ("ones", (2,), {"dtype": "int32"}),
    ("linspace", (0, 1, 5), {"dtype": "float64"}),
])
def test_creation_functions_match_pytorch(name, args, kwargs, torch):
    kw_ours = {k: getattr(ag, v) for k, v in kwargs.items()}
    kw_theirs = {k: getattr(torch, v) for k, v in kwargs.items()}
    ours, theirs = getattr(ag, name)(*args, **kw_ours), getattr(torch, name)(*args, **kw_theirs)
    assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    if name != "empty":
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())  # bit for bit


def test_like_functions_keep_shape_dtype_device(device):
    x = ag.ones(2, 3, dtype=ag.float64, device=device)
    for f in (ag.zeros_like, ag.ones_like, ag.empty_like, ag.rand_like, ag.randn_like):
        y = f(x)
        assert y.shape == x.shape and y.dtype == ag.float64 and y.device == x.device
    assert ag.full_like(x, 7).tolist() == [[7.0] * 3] * 2


def test_random_functions_shapes_ranges_and_seeding(device):
    ag.manual_seed(0)
    a = ag.rand(1000, device=device)
    b = ag.randn(2, 500, device=device)
    c = ag.randint(3, 7, (1000,), device=device)
    assert a.dtype == ag.float32 and b.dtype == ag.float32 and c.dtype == ag.int64
    assert 0 <= to_numpy(a).min() and to_numpy(a).max() < 1
    assert abs(float(b.mean())) < 0.15 and 0.85 < float(b.std()) < 1.15
    assert set(to_numpy(c).tolist()) == {3, 4, 5, 6}
    ag.manual_seed(0)
    assert np.array_equal(to_numpy(ag.rand(1000, device=device)), to_numpy(a))
    assert not np.array_equal(to_numpy(ag.rand(1000, device=device)), to_numpy(a))
    assert ag.randn(3, dtype=ag.float64, device=device).dtype == ag.float64
    assert ag.rand(2, requires_grad=True, device=device).requires_grad


def test_attributes_and_conversions(torch):
    x = ag.arange(6, dtype=ag.float32).reshape(2, 3)
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    assert x.shape == (2, 3) and repr(x.shape) == "autograd_gpu.Size([2, 3])"
    assert x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and len(x) == 2
    assert x.T.tolist() == t.T.tolist()
    assert x.tolist() == t.tolist()
    assert ag.tensor(2.5).item() == 2.5 and float(ag.tensor([3.0])) == 3.0
    assert int(ag.tensor(7)) == 7
    assert x.double().dtype == ag.float64 and x.long().dtype == ag.int64
    assert x.float() is x
    assert np.asarray(x).shape == (2, 3)
    assert isinstance(x.numpy(), np.ndarray)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ag.tensor(1.0))


def test_numpy_on_tensor_requiring_grad_raises_pytorch_message():
    w = ag.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^Can't call numpy\(\) on Tensor that requires grad\. "
                       r"Use tensor\.detach\(\)\.numpy\(\) instead\.$"):
        w.numpy()
    assert w.detach().numpy().tolist() == [1.0, 1.0]


REPR_CASES = [
    "torch.tensor(5.0)", "torch.tensor(5.1232)", "torch.tensor([2., 2.])",
    "torch.tensor([1.5, -2.25, 3.0])", "torch.arange(10)", "torch.tensor([True, False])",
    "torch.linspace(-5, 5, 10)", "torch.linspace(-5, 5, 10, dtype=torch.float64)",
    "torch.tensor([1e-5, 1.0])", "torch.tensor([1e9, 1.0])", "torch.tensor([1e9, 2e9])",
    "torch.tensor([0.0, 0.0])", "torch.tensor([float('nan'), 1.0, float('inf')])",
    "torch.tensor([float('nan'), 1.5])", "torch.tensor([-0.0001234, 12345.6])",
    "torch.arange(12.).reshape(3, 4) / 7", "torch.arange(24.).reshape(2, 3, 4)",
    "torch.arange(2000.)", "torch.arange(3000).reshape(30, 100)", "torch.zeros(0)",
    "torch.zeros(2, 0)", "torch.zeros(0, dtype=torch.int64)", "torch.arange(5, dtype=torch.int32)",
    "torch.tensor([1.0, 2.0], dtype=torch.float16)", "torch.ones(3, requires_grad=True)",
    "torch.linspace(0, 1, 50)", "torch.tensor([[1e-8, 1.0], [3.0, 4.0]], dtype=torch.float64)",
    "torch.tensor(-3)", "torch.tensor([123456789.0])",
]


@pytest.mark.parametrize("expr", REPR_CASES)
def test_repr_matches_pytorch(expr, torch):
    theirs = eval(expr, {"torch": torch})
    ours = eval(expr.replace("torch.", "ag."), {"ag": ag})
    _same_repr(ours, theirs)


def test_repr_with_grad_fn_matches_pytorch(torch):
    for lib in (ag, torch):
        x = lib.tensor(5.0, requires_grad=True)
        c = lib.tensor(3.0)
        y = c * lib.sin(x) + x + c
        if lib is ag:
            ours = (x, y, 3 * x ** 2, lib.mean(x * 1), lib.dot(lib.ones(2), lib.ones(2, requires_grad=True)))
        else:
            theirs = (x, y, 3 * x ** 2, lib.mean(x * 1), lib.dot(lib.ones(2), lib.ones(2, requires_grad=True)))
    for o, t in zip(ours, theirs):
        _same_repr(o, t)


def test_indexing_forward_matches_numpy():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = ag.tensor(a)
    for key in [0, -1, (1, 2), slice(None, None, 2), (Ellipsis, 1), (None, 0), np.array([1, 0, 1]),
                (slice(None), [0, 2]), a > 10]:
        np.testing.assert_array_equal(x[key].numpy(), a[key])
    # an integer and an index array split by a slice: PyTorch keeps the slice's dim first
    # (NumPy moves the advanced-index dim to the front)
    np.testing.assert_array_equal(x[0, 1:, [3, 0]].numpy(), a[0][1:, [3, 0]])
    x[0, 1] = 100.0
    a[0, 1] = 100.0
    x[x > 20] = -1.0
    a[a > 20] = -1.0
    np.testing.assert_array_equal(x.numpy(), a)


def test_basic_slices_are_views_sharing_memory():
    x = ag.zeros(4)
    v = x[1:3]
    v[:] = 5.0
    assert x.tolist() == [0.0, 5.0, 5.0, 0.0]
    r = x.reshape(2, 2)
    r[0, 0] = 1.0
    assert x[0].item() == 1.0


def test_in_place_arithmetic_under_no_grad(torch):
    for lib in (ag, torch):
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with lib.no_grad():
            w += 1
            w -= lib.tensor([0.5, 0.5, 0.5])
            w *= 2
            w /= 4
            w.add_(1, alpha=2).sub_(0.5).mul_(3).div_(2)
            w.clamp_(min=2.5, max=4.0)
        out = w.detach().numpy().copy() if lib is torch else to_numpy(w)
        if lib is ag:
            ours = out
        else:
            theirs = out
    np.testing.assert_allclose(ours, theirs)
    z = ag.ones(3)
    z.fill_(2.0)
    z.copy_(ag.tensor([1.0, 2.0, 3.0]))
    assert z.zero_().tolist() == [0.0, 0.0, 0.0]


def test_hash_is_identity_and_comparison_is_elementwise():
    a, b = ag.ones(2), ag.ones(2)
    assert len({a, b}) == 2
    assert (a == b).tolist() == [True, True] and (a == b).dtype == ag.bool
    assert (a < 2).tolist() == [True, True]


def test_random_fills_in_place(torch):
    ag.manual_seed(1)
    w = ag.zeros(2, 3)
    w.uniform_(-1, 2)
    assert w._version_number == 1 and -1 <= to_numpy(w).min() and to_numpy(w).max() < 2
    leaf = ag.zeros(3, requires_grad=True)
    ag.manual_seed(1)
    ag.rand(2)
    state = ag.rand(2).tolist()  # what the stream gives next
    ag.manual_seed(1)
    ag.rand(2)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.normal_()
    assert leaf.tolist() == [0.0, 0.0, 0.0]
    assert ag.rand(2).tolist() == state  # the refused call drew nothing
    # on a non-leaf it is recorded, and the overwritten values get a zero gradient (as PyTorch)
    for lib in (ag, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        y.uniform_()
        (y * 1).sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_casting_beyond_float16s_range_gives_inf_without_a_warning(device):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ag.tensor([1e6, -1e6, 1.0], device=device, requires_grad=True)
        y = x.half()
    assert y.tolist() == [float("inf"), float("-inf"), 1.0]
    y.float().backward(ag.ones(3, device=device))
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
