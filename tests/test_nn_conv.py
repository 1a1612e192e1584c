"""Convolutions and pooling (ops/conv.py, nn/conv.py, nn/pooling.py): first and second
derivatives by finite differences (float64), values and gradients against PyTorch (float64,
and float32 at rtol 1e-5 / atol 1e-5 against PyTorch's float32), grad_fn names, PyTorch's
indices, its error messages, module reprs and init, a PyTorch state_dict loaded into the
same CNN, and a short training run against torch's losses."""
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from autograd_gpu.autograd import grad, gradcheck, gradgradcheck
from autograd_gpu.nn import functional as F
from conftest import to_numpy

# PyTorch warns that it copies the input for an even 'same' kernel; nothing of ours
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")

# (id, call over a functional namespace, input shapes); the shapes are tiny because the
# numerical second derivative costs two forward-and-backward passes per input element
CASES = [
    ("conv2d", lambda F, x, w, b: F.conv2d(x, w, b, padding=1), [(1, 2, 4, 4), (3, 2, 2, 3), (3,)]),
    ("conv2d_stride_dil", lambda F, x, w: F.conv2d(x, w, stride=(2, 1), padding=(1, 0),
                                                  dilation=(1, 2)), [(2, 2, 5, 5), (2, 2, 2, 2)]),
    ("conv2d_groups", lambda F, x, w, b: F.conv2d(x, w, b, groups=2), [(1, 4, 4, 3), (4, 2, 2, 2), (4,)]),
    ("conv2d_same_even", lambda F, x, w: F.conv2d(x, w, padding="same", dilation=(1, 2)),
     [(1, 2, 4, 5), (2, 2, 2, 2)]),
    ("conv2d_unbatched", lambda F, x, w: F.conv2d(x, w, stride=2), [(2, 5, 4), (2, 2, 3, 2)]),
    ("conv1d", lambda F, x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2),
     [(2, 2, 7), (3, 2, 2), (3,)]),
    ("conv1d_groups_unbatched", lambda F, x, w: F.conv1d(x, w, groups=2, padding="same"),
     [(4, 5), (2, 2, 3)]),
    ("conv_transpose2d", lambda F, x, w, b: F.conv_transpose2d(
        x, w, b, stride=2, padding=1, output_padding=1), [(1, 2, 3, 3), (2, 3, 2, 2), (3,)]),
    ("conv_transpose2d_groups_dil", lambda F, x, w: F.conv_transpose2d(
        x, w, stride=(1, 2), groups=2, dilation=(2, 1)), [(1, 4, 3, 2), (4, 1, 2, 2)]),
    ("conv_transpose1d", lambda F, x, w, b: F.conv_transpose1d(x, w, b, stride=3, padding=1),
     [(2, 2, 3), (2, 2, 3), (2,)]),
    ("conv_transpose1d_unbatched", lambda F, x, w: F.conv_transpose1d(x, w, dilation=2),
     [(2, 3), (2, 2, 2)]),
    ("max_pool2d", lambda F, x: F.max_pool2d(x, 2), [(1, 2, 4, 4)]),
    ("max_pool2d_ceil_pad", lambda F, x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), [(1, 2, 6, 5)]),
    ("max_pool2d_dil_unbatched", lambda F, x: F.max_pool2d(x, (2, 3), (1, 2), dilation=(2, 1)),
     [(2, 5, 6)]),
    ("max_pool1d", lambda F, x: F.max_pool1d(x, 3, 2, 1, ceil_mode=True), [(2, 2, 8)]),
    ("avg_pool2d", lambda F, x: F.avg_pool2d(x, 2), [(1, 2, 4, 4)]),
    ("avg_pool2d_ceil_nopad", lambda F, x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True,
                                                       count_include_pad=False), [(1, 2, 6, 5)]),
    ("avg_pool2d_divisor", lambda F, x: F.avg_pool2d(x, (2, 3), 1, (1, 1), divisor_override=4),
     [(2, 4, 3)]),
    ("avg_pool1d", lambda F, x: F.avg_pool1d(x, 3, 2, 1, ceil_mode=True), [(2, 2, 8)]),
    ("adaptive_avg_pool2d", lambda F, x: F.adaptive_avg_pool2d(x, (3, 2)), [(1, 2, 5, 5)]),
    ("adaptive_avg_pool2d_1x1", lambda F, x: F.adaptive_avg_pool2d(x, 1), [(2, 2, 3, 3)]),
    ("adaptive_avg_pool1d", lambda F, x: F.adaptive_avg_pool1d(x, 4), [(2, 2, 7)]),
    ("adaptive_max_pool2d", lambda F, x: F.adaptive_max_pool2d(x, (3, 2)), [(1, 2, 5, 5)]),
    ("adaptive_max_pool2d_up", lambda F, x: F.adaptive_max_pool2d(x, (4, 5)), [(2, 3, 3)]),
    ("adaptive_max_pool1d", lambda F, x: F.adaptive_max_pool1d(x, 3), [(2, 2, 7)]),
]
IDS = [c[0] for c in CASES]


def _inputs(shapes, seed=0, device="cpu", dtype=ag.float64):
    rng = np.random.default_rng(seed)
    arrs = [rng.standard_normal(s) for s in shapes]
    return arrs, [ag.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in arrs]


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_gradcheck_and_gradgradcheck(name, fn, shapes, device):
    _, ins = _inputs(shapes, device=device)
    f = lambda *a: fn(F, *a)  # noqa: E731
    assert gradcheck(f, ins)
    assert gradgradcheck(f, ins)


def _torch_pair(torch, arrs, dtype):
    return [torch.tensor(a, dtype=dtype, requires_grad=True) for a in arrs]


# the same calls at larger shapes, against PyTorch
BIG = {"conv2d": [(2, 3, 9, 8), (5, 3, 3, 3), (5,)], "conv2d_groups": [(2, 4, 9, 7), (6, 2, 3, 2), (6,)],
       "conv_transpose2d": [(2, 3, 5, 4), (3, 4, 3, 3), (4,)],
       "max_pool2d_ceil_pad": [(2, 3, 9, 8)], "avg_pool2d_ceil_nopad": [(2, 3, 9, 8)],
       "adaptive_avg_pool2d": [(2, 3, 11, 7)], "adaptive_max_pool2d": [(2, 3, 11, 7)]}


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_values_and_gradients_match_torch(torch, name, fn, shapes, device):
    shapes = BIG.get(name, shapes)
    arrs, ins = _inputs(shapes, seed=1, device=device)
    ts = _torch_pair(torch, arrs, torch.float64)
    out, tout = fn(F, *ins), fn(torch.nn.functional, *ts)
    np.testing.assert_allclose(to_numpy(out), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert out.grad_fn.name() == type(tout.grad_fn).__name__
    seed = np.random.default_rng(2).standard_normal(tuple(tout.shape))
    out.backward(ag.tensor(seed, device=device))
    tout.backward(torch.tensor(seed))
    for a, t in zip(ins, ts):
        assert a.grad.shape == a.shape and a.grad.dtype == ag.float64
        np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=IDS)
def test_float32_matches_torch(torch, name, fn, shapes, device):
    shapes = BIG.get(name, shapes)
    arrs, ins = _inputs(shapes, seed=3, device=device, dtype=ag.float32)
    ts = _torch_pair(torch, arrs, torch.float32)
    out, tout = fn(F, *ins), fn(torch.nn.functional, *ts)
    assert out.dtype == ag.float32
    np.testing.assert_allclose(to_numpy(out), tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    seed = np.random.default_rng(4).standard_normal(tuple(tout.shape)).astype(np.float32)
    out.backward(ag.tensor(seed, device=device))
    tout.backward(torch.tensor(seed))
    for a, t in zip(ins, ts):
        assert a.grad.dtype == ag.float32
        np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["conv2d", "conv2d_groups", "conv_transpose2d", "conv1d",
                                  "max_pool2d_ceil_pad", "avg_pool2d_ceil_nopad",
                                  "adaptive_avg_pool2d", "adaptive_max_pool2d"])
def test_second_derivatives_match_torch(torch, name, device):
    """d/d(inputs) of sum(grad(out . v)^2): double backward against PyTorch's, node names too."""
    fn, shapes = dict((c[0], (c[1], c[2])) for c in CASES)[name]
    shapes = BIG.get(name, shapes)
    arrs, ins = _inputs(shapes, seed=5, device=device)
    ts = _torch_pair(torch, arrs, torch.float64)
    v = np.random.default_rng(6).standard_normal(tuple(fn(torch.nn.functional, *ts).shape))
    # v requires grad too: a pooling gradient is a function of v alone (linear in x)
    va, vt = ag.tensor(v, device=device, requires_grad=True), torch.tensor(v, requires_grad=True)
    out = (fn(F, *ins) * va).sum()
    tout = (fn(torch.nn.functional, *ts) * vt).sum()
    gs = grad(out, ins, create_graph=True)
    tgs = torch.autograd.grad(tout, ts, create_graph=True)
    assert gs[0].grad_fn.name() == type(tgs[0].grad_fn).__name__
    total = sum((g * g).sum() for g in gs)
    ttotal = sum((g * g).sum() for g in tgs)
    hs = grad(total, ins + [va], allow_unused=True)
    ths = torch.autograd.grad(ttotal, ts + [vt], allow_unused=True)
    for h, th in zip(hs, ths):
        if h is None or th is None:  # pooling is linear in x: no second derivative there
            assert all(a is None or not to_numpy(a).any() for a in (h, th))
            continue
        np.testing.assert_allclose(to_numpy(h), th.numpy(), rtol=1e-9, atol=1e-11)


# ---------------------------------------------------------------- pooling indices and edges


def test_max_pool_indices_match_torch(torch):
    rng = np.random.default_rng(7)
    x = np.maximum(rng.standard_normal((2, 3, 9, 8)), 0)  # relu'd: many ties at 0
    x[0, 0, 0, :3] = np.nan  # several NaNs in one window: PyTorch takes the last
    x[0, 1, :3, :3] = -np.inf  # a window of -inf in the padding's corner
    x[1, 2, 4, 4] = np.inf
    for kw in ({"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1},
               {"kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 1), "dilation": (2, 1),
                "ceil_mode": True}):
        y, i = F.max_pool2d(ag.tensor(x), return_indices=True, **kw)
        ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(to_numpy(y), ty.numpy())
        np.testing.assert_array_equal(to_numpy(i), ti.numpy())
        assert i.dtype == ag.int64
    y, i = F.max_pool1d(ag.tensor(x[0, :, 0]), 3, 2, 1, return_indices=True)
    ty, ti = torch.nn.functional.max_pool1d(torch.tensor(x[0, :, 0]), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(to_numpy(i), ti.numpy())
    for out in ((3, 2), (9, 8), (4, 11)):
        y, i = F.adaptive_max_pool2d(ag.tensor(x), out, return_indices=True)
        ty, ti = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), out, return_indices=True)
        np.testing.assert_array_equal(to_numpy(y), ty.numpy())
        np.testing.assert_array_equal(to_numpy(i), ti.numpy())
    y, i = F.adaptive_max_pool1d(ag.tensor(x[1, :, 2]), 3, return_indices=True)
    ty, ti = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x[1, :, 2]), 3,
                                                    return_indices=True)
    np.testing.assert_array_equal(to_numpy(i), ti.numpy())


def test_max_pool_gradient_at_ties_goes_to_the_first_maximum(torch):
    x = np.zeros((1, 1, 4, 4))
    a = ag.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    F.max_pool2d(a, 3, 1).sum().backward()
    torch.nn.functional.max_pool2d(t, 3, 1).sum().backward()
    np.testing.assert_array_equal(to_numpy(a.grad), t.grad.numpy())
    # all four windows tie: each one's first position takes its gradient
    np.testing.assert_array_equal(to_numpy(a.grad)[0, 0], [[1, 1, 0, 0], [1, 1, 0, 0], [0] * 4, [0] * 4])


def test_empty_batch_and_non_contiguous_input(torch):
    x = ag.zeros(0, 3, 5, 5, requires_grad=True)
    w = ag.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(x, w)
    assert tuple(y.shape) == (0, 4, 3, 3)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 5, 5) and float(w.grad.abs().sum()) == 0
    assert tuple(F.max_pool2d(x, 2).shape) == (0, 3, 2, 2)
    arr = np.random.default_rng(8).standard_normal((2, 6, 7, 3))
    a = ag.tensor(arr, requires_grad=True)
    t = torch.tensor(arr, requires_grad=True)
    wa = np.random.default_rng(9).standard_normal((2, 3, 2, 2))
    ya = F.conv2d(a.permute(0, 3, 1, 2)[:, :, ::2], ag.tensor(wa))  # a strided, permuted view
    yt = torch.nn.functional.conv2d(t.permute(0, 3, 1, 2)[:, :, ::2], torch.tensor(wa))
    np.testing.assert_allclose(to_numpy(ya), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    (ya * ya).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_backward_contract():
    """Reentrant (the same bits twice), zero in gives zero out, gradients shaped as inputs."""
    _, (x, w, b) = _inputs([(2, 3, 6, 6), (4, 3, 3, 3), (4,)])
    y = F.max_pool2d(F.conv2d(x, w, b, padding=1), 2)
    seed = ag.tensor(np.random.default_rng(1).standard_normal(tuple(y.shape)))
    g1 = grad(y, (x, w, b), seed, retain_graph=True)
    g2 = grad(y, (x, w, b), seed, retain_graph=True)
    for a, b_ in zip(g1, g2):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b_))
    for g in grad(y, (x, w, b), ag.zeros(*y.shape, dtype=ag.float64)):
        assert not to_numpy(g).any()


# ---------------------------------------------------------------- errors (PyTorch's words)

BAD = [
    lambda F, T: F.conv2d(T(2, 3), T(16, 3, 3, 3)),
    lambda F, T: F.conv2d(T(32, 4, 32, 32), T(16, 3, 3, 3)),
    lambda F, T: F.conv2d(T(4, 8, 8), T(16, 3, 3, 3)),
    lambda F, T: F.conv2d(T(1, 3, 2, 2), T(16, 3, 3, 3)),
    lambda F, T: F.conv2d(T(1, 3, 4, 4), T(16, 3, 3, 3), dilation=2),
    lambda F, T: F.conv2d(T(1, 4, 5, 5), T(6, 2, 3, 3), groups=3),
    lambda F, T: F.conv2d(T(1, 6, 5, 5), T(5, 2, 3, 3), groups=3),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), stride=0),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), padding=-1),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), stride=2, padding="same"),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), padding="full"),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), T(3)),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), groups=0),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), dilation=0),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), stride=(1, 1, 1)),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3)),
    lambda F, T: F.conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3).double()),
    lambda F, T: F.conv1d(T(1, 3, 5, 5), T(16, 3, 3)),
    lambda F, T: F.conv1d(T(3), T(16, 3, 3)),
    lambda F, T: F.conv1d(T(1, 3, 2), T(16, 3, 3)),
    lambda F, T: F.conv_transpose2d(T(1, 3, 5, 5), T(3, 4, 3, 3), output_padding=1),
    lambda F, T: F.conv_transpose1d(T(1, 3, 5), T(3, 4, 3), output_padding=1),
    lambda F, T: F.conv_transpose2d(T(1, 3, 5, 5), T(4, 4, 3, 3)),
    lambda F, T: F.conv_transpose2d(T(1, 3, 5, 5), T(3, 4, 3, 3), padding=5),
    lambda F, T: F.conv_transpose2d(T(2, 3), T(3, 4, 3, 3)),
    lambda F, T: F.conv_transpose1d(T(2, 3), T(3, 4, 3)),
    lambda F, T: F.conv_transpose2d(T(1, 4, 5, 5), T(4, 2, 3, 3), groups=3),
    lambda F, T: F.conv_transpose2d(T(1, 3, 5, 5), T(3, 4, 3, 3), padding="same"),
    lambda F, T: F.max_pool2d(T(2, 3), 2),
    lambda F, T: F.max_pool2d(T(2, 3, 8, 8), 2, padding=2),
    lambda F, T: F.max_pool2d(T(2, 3, 8, 8), 9),
    lambda F, T: F.max_pool2d(T(2, 3, 8, 8), 0),
    lambda F, T: F.max_pool2d(T(2, 3, 8, 8), 2, dilation=0),
    lambda F, T: F.max_pool2d(T(2, 3, 8, 8), (2, 2, 2)),
    lambda F, T: F.max_pool2d(T(2, 0, 4, 4), 2),
    lambda F, T: F.max_pool1d(T(3), 2),
    lambda F, T: F.max_pool1d(T(2, 3, 4), 5),
    lambda F, T: F.max_pool1d(T(2, 3, 4), 2, padding=2),
    lambda F, T: F.max_pool1d(T(2, 3, 4), 0),
    lambda F, T: F.max_pool1d(T(2, 3, 4), 2, stride=0),
    lambda F, T: F.max_pool1d(T(2, 3, 4), (2, 2)),
    lambda F, T: F.avg_pool2d(T(2, 3, 8, 8), 2, padding=2),
    lambda F, T: F.avg_pool2d(T(2, 3, 8, 8), 9),
    lambda F, T: F.avg_pool2d(T(2, 3, 8, 8), (2, 2, 2)),
    lambda F, T: F.avg_pool2d(T(2, 3, 8, 8), 2, divisor_override=0),
    lambda F, T: F.avg_pool1d(T(2, 3, 4), 5),
    lambda F, T: F.avg_pool1d(T(3), 2),
    lambda F, T: F.avg_pool1d(T(2, 3, 4), (2, 2)),
    lambda F, T: F.adaptive_avg_pool2d(T(2, 3), 2),
    lambda F, T: F.adaptive_avg_pool2d(T(2, 3, 8, 8), (2, 2, 2)),
    lambda F, T: F.adaptive_avg_pool2d(T(2, 3, 8, 8), -1),
    lambda F, T: F.adaptive_avg_pool2d(T(2, 3, 0, 4), 2),
    lambda F, T: F.adaptive_max_pool2d(T(2, 3), 2),
    lambda F, T: F.adaptive_avg_pool1d(T(3), 2),
    lambda F, T: F.adaptive_max_pool1d(T(2, 3, 4, 4), 2),
    lambda F, T: F.adaptive_max_pool1d(T(2, 3, 4), (2, 2)),
]


@pytest.mark.parametrize("k", range(len(BAD)))
def test_errors_match_torch(torch, k):
    call = BAD[k]
    with pytest.raises(Exception) as theirs:
        call(torch.nn.functional, lambda *s: torch.zeros(*s))
    with pytest.raises(type(theirs.value)) as ours:
        call(F, lambda *s: ag.zeros(*s))
    assert str(ours.value) == str(theirs.value)


def test_headline_messages():
    with pytest.raises(RuntimeError, match=r"^Expected 3D \(unbatched\) or 4D \(batched\) input "
                       r"to conv2d, but got input of size: \[2, 3\]$"):
        F.conv2d(ag.zeros(2, 3), ag.zeros(16, 3, 3, 3))
    with pytest.raises(RuntimeError, match=re_escape(
            "Given groups=1, weight of size [16, 3, 3, 3], expected input[32, 4, 32, 32] to have "
            "3 channels, but got 4 channels instead")):
        nn.Conv2d(3, 16, 3)(ag.zeros(32, 4, 32, 32))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        nn.Conv2d(3, 16, 5)(ag.zeros(1, 3, 4, 4))


def re_escape(s):
    import re

    return "^" + re.escape(s) + "$"


# ---------------------------------------------------------------- modules

MODULES = [
    ("Conv2d", (3, 16, 3), {"padding": 1}),
    ("Conv2d", (3, 16, (3, 5)), {"stride": 2, "dilation": 2, "bias": False}),
    ("Conv2d", (4, 8, 3), {"padding": "same", "groups": 2, "padding_mode": "reflect"}),
    ("Conv2d", (3, 4, 3), {"padding": (1, 2), "padding_mode": "replicate"}),
    ("Conv2d", (3, 3, 3), {"padding": 1, "padding_mode": "circular"}),
    ("Conv1d", (3, 4, 5), {}),
    ("Conv1d", (3, 4, 4), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv1d", (3, 4, 5), {"padding": "valid"}),
    ("ConvTranspose2d", (3, 4, 3), {"stride": 2, "output_padding": 1}),
    ("ConvTranspose2d", (4, 4, 3), {"groups": 2, "padding": 1}),
    ("ConvTranspose1d", (3, 4, 3), {"dilation": 2, "bias": False}),
]
POOLS = [
    ("MaxPool2d", (2,), {}), ("MaxPool2d", (3, 2, 1), {"dilation": 2, "ceil_mode": True}),
    ("MaxPool1d", (2,), {}), ("MaxPool1d", (3, 2, 1, 2, False, True), {}),
    ("AvgPool2d", (2,), {}), ("AvgPool2d", (3, 2, 1, True, False, 3), {}),
    ("AvgPool1d", (2,), {}), ("AvgPool1d", (3, 2, 1, True, False), {}),
    ("AdaptiveAvgPool2d", ((5, 7),), {}), ("AdaptiveAvgPool2d", (1,), {}),
    ("AdaptiveAvgPool2d", ((None, 7),), {}), ("AdaptiveAvgPool1d", (3,), {}),
    ("AdaptiveMaxPool2d", (3,), {}), ("AdaptiveMaxPool2d", ((2, 3), True), {}),
    ("AdaptiveMaxPool1d", (3, True), {}),
]


def _copy_params(ours, theirs, torch):
    with torch.no_grad():
        for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == m and tuple(p.shape) == tuple(q.shape)
            q.copy_(torch.from_numpy(to_numpy(p).copy()))


@pytest.mark.parametrize("name,args,kw", MODULES, ids=[f"{m[0]}{i}" for i, m in enumerate(MODULES)])
def test_conv_modules_match_torch(torch, name, args, kw, device):
    m = getattr(nn, name)(*args, **kw).double().to(device)
    tm = getattr(torch.nn, name)(*args, **kw).double()
    assert repr(m) == repr(tm)
    assert list(m.state_dict()) == list(tm.state_dict())
    for (n, p), (_, q) in zip(m.named_parameters(), tm.named_parameters()):
        assert tuple(p.shape) == tuple(q.shape)
    _copy_params(m, tm, torch)
    nd = 1 if name.endswith("1d") else 2
    shape = (2, args[0]) + (11,) * nd
    arr = np.random.default_rng(10).standard_normal(shape)
    a = ag.tensor(arr, device=device, requires_grad=True)
    t = torch.tensor(arr, requires_grad=True)
    y, ty = m(a), tm(t)
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    seed = np.random.default_rng(11).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(seed, device=device))
    ty.backward(torch.tensor(seed))
    for p, q in zip([a] + list(m.parameters()), [t] + list(tm.parameters())):
        np.testing.assert_allclose(to_numpy(p.grad), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_padding_mode_second_order():
    m = nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode="reflect").double()
    x = ag.randn(1, 2, 3, 4, dtype=ag.float64, requires_grad=True)
    # m reads its own weight: perturbing that tensor is perturbing m
    assert gradcheck(lambda x, w: m(x), (x, m.weight))
    assert gradgradcheck(lambda x, w: m(x), (x, m.weight))


@pytest.mark.parametrize("name,args,kw", POOLS, ids=[f"{p[0]}{i}" for i, p in enumerate(POOLS)])
def test_pool_modules_match_torch(torch, name, args, kw):
    m, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(m) == repr(tm)
    shape = (2, 3, 11) if name.endswith("1d") else (2, 3, 11, 9)
    arr = np.random.default_rng(12).standard_normal(shape)
    y, ty = m(ag.tensor(arr)), tm(torch.tensor(arr))
    if isinstance(ty, tuple):
        np.testing.assert_array_equal(to_numpy(y[1]), ty[1].numpy())
        y, ty = y[0], ty[0]
    np.testing.assert_allclose(to_numpy(y), ty.numpy(), rtol=1e-12, atol=1e-12)


def test_conv_transpose_output_size(torch):
    m = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    _copy_params(m, tm, torch)
    arr = np.random.default_rng(13).standard_normal((1, 3, 4, 4)).astype(np.float32)
    for size in ([8, 8], [1, 2, 7, 8], (8, 7)):
        y, ty = m(ag.tensor(arr), output_size=size), tm(torch.tensor(arr), output_size=size)
        assert tuple(y.shape) == tuple(ty.shape)
        np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    for bad in ([9, 9], [7]):
        with pytest.raises(ValueError) as theirs:
            tm(torch.tensor(arr), output_size=bad)
        with pytest.raises(ValueError) as ours:
            m(ag.tensor(arr), output_size=bad)
        assert str(ours.value).split(" (for")[0] == str(theirs.value).split(" (for")[0]


def test_module_argument_errors(torch):
    for args, kw in [((3, 4, 3), {"groups": 2}), ((4, 3, 3), {"groups": 2}),
                     ((4, 4, 3), {"groups": 0}), ((3, 4, 3), {"padding": "full"}),
                     ((3, 4, 3), {"padding": "same", "stride": 2})]:
        with pytest.raises(ValueError) as theirs:
            torch.nn.Conv2d(*args, **kw)
        with pytest.raises(ValueError) as ours:
            nn.Conv2d(*args, **kw)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode is supported for ConvTranspose2d'):
        nn.ConvTranspose2d(3, 4, 3, padding_mode="reflect")


def test_default_init_bounds():
    """kaiming_uniform_(a=sqrt(5)): weights and bias uniform in +-1/sqrt(fan_in)."""
    ag.manual_seed(0)
    for m, fan_in in [(nn.Conv2d(16, 32, 5), 16 * 25), (nn.ConvTranspose2d(32, 16, 5), 16 * 25),
                      (nn.Conv1d(8, 64, 3, groups=2), 4 * 3)]:
        bound = 1 / math.sqrt(fan_in)
        w, b = to_numpy(m.weight), to_numpy(m.bias)
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        assert np.abs(w).max() > 0.95 * bound
        np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.06)
        assert m.weight.dtype == ag.float32 and m.weight.requires_grad


# ---------------------------------------------------------------- a whole CNN


def _cnn(lib):
    n = lib.nn
    return n.Sequential(
        n.Conv2d(3, 8, 3, padding=1), n.ReLU(), n.MaxPool2d(2),
        n.Conv2d(8, 8, 3, padding=1, groups=2, padding_mode="reflect"), n.ReLU(),
        n.AvgPool2d(2, ceil_mode=True),
        n.ConvTranspose2d(8, 6, 2, stride=2), n.ReLU(),
        n.Conv2d(6, 12, 3, stride=2), n.AdaptiveAvgPool2d((2, 2)),
        n.Flatten(), n.Linear(48, 5),
    )


def test_torch_state_dict_gives_torch_outputs(torch):
    torch.manual_seed(0)
    tm = _cnn(torch)
    m = _cnn(ag)
    sd = {k: ag.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()}
    res = m.load_state_dict(sd)
    assert list(res.missing_keys) == [] and list(res.unexpected_keys) == []
    assert list(m.state_dict()) == list(tm.state_dict())
    arr = np.random.default_rng(14).standard_normal((4, 3, 13, 13)).astype(np.float32)
    np.testing.assert_allclose(to_numpy(m(ag.tensor(arr))), tm(torch.tensor(arr)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("double", [True, False])
def test_training_matches_torch(torch, double):
    torch.manual_seed(1)
    tm = _cnn(torch)
    m = _cnn(ag)
    m.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    if double:
        m, tm = m.double(), tm.double()
    rng = np.random.default_rng(15)
    dt = np.float64 if double else np.float32
    X, Y = rng.standard_normal((8, 3, 12, 12)).astype(dt), rng.integers(0, 5, 8)
    opt = ag.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    bufs = {}

    def torch_sgd_step():  # SGD with momentum by hand (torch.optim's first import costs ~7 s)
        with torch.no_grad():
            for p in tm.parameters():
                b = bufs[p] = p.grad.clone() if p not in bufs else bufs[p].mul_(0.9).add_(p.grad)
                p.sub_(0.1 * b)

    losses, tlosses = [], []
    for _ in range(5):
        opt.zero_grad()
        loss = F.cross_entropy(m(ag.tensor(X)), ag.tensor(Y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
        tm.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tm(torch.tensor(X)), torch.tensor(Y))
        tloss.backward()
        torch_sgd_step()
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-10 if double else 1e-4)
    assert losses[-1] < losses[0]
