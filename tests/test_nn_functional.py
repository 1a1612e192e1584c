"""The rest of torch.nn.functional and its layers against PyTorch (float64 values, gradients
and grad_fn names; float32 values), with gradcheck and gradgradcheck on tiny shapes, and
PyTorch's error messages: activations, dropout variants, pad, interpolate, distances,
losses."""
import re
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from autograd_gpu.autograd import gradcheck, gradgradcheck
from autograd_gpu.nn import functional as F
from conftest import to_numpy


def _ours(arr, device, dtype=ag.float64, g=True):
    return ag.tensor(arr, dtype=dtype, device=device, requires_grad=g)


def _compare(torch, fn, tfn, arrays, device, grads=True, name=True, rtol=1e-10, atol=1e-12,
             dtype="float64"):
    """fn on our tensors and tfn on PyTorch's: values, gradients of a random output
    gradient (float inputs that require grad) and the grad_fn's name."""
    ours = [_ours(a, device, getattr(ag, dtype), grads) if isinstance(a, np.ndarray) and
            a.dtype.kind == "f" else a for a in arrays]
    theirs = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=grads)
              if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in arrays]
    ours = [ag.tensor(a, device=device) if isinstance(a, np.ndarray) else a for a in ours]
    theirs = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in theirs]
    out, tout = fn(*ours), tfn(*theirs)
    assert tuple(out.shape) == tuple(tout.shape)
    assert out.dtype.name == str(tout.dtype).split(".")[1]
    np.testing.assert_allclose(to_numpy(out), tout.detach().numpy(), rtol=rtol, atol=atol)
    if not grads:
        return out
    if name:
        assert out.grad_fn.name == type(tout.grad_fn).__name__
    seed = np.random.default_rng(7).standard_normal(tuple(tout.shape))
    out.backward(ag.tensor(seed, dtype=out.dtype, device=device))
    tout.backward(torch.tensor(seed, dtype=tout.dtype))
    for a, t in zip(ours, theirs):
        if isinstance(t, torch.Tensor) and t.requires_grad:
            assert a.grad is not None and a.grad.shape == a.shape and a.grad.dtype == a.dtype
            np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), rtol=rtol, atol=atol)
    return out


def _checks(fn, *arrays):
    """gradcheck and gradgradcheck in float64 on the CPU."""
    ins = tuple(ag.tensor(a, dtype=ag.float64, requires_grad=True) for a in arrays)
    assert gradcheck(fn, ins)
    assert gradgradcheck(fn, ins)


def _away_from(arr, points, gap=0.05):
    """arr with values near the kinks moved off them (central differences need a gap)."""
    arr = arr.copy()
    for p in points:
        near = np.abs(arr - p) < gap
        arr[near] = p + np.where(arr[near] >= p, 2, -2) * gap
    return arr


# ---------------------------------------------------------------- activations

ACTIVATIONS = [
    # (ours, PyTorch's, kinks for gradcheck)
    ("log_sigmoid", lambda F_: F_.logsigmoid, ()),
    ("hardtanh", lambda F_: F_.hardtanh, (-1, 1)),
    ("hardsigmoid", lambda F_: F_.hardsigmoid, (-3, 3)),
    ("hardswish", lambda F_: F_.hardswish, (-3, 3)),
    ("mish", lambda F_: F_.mish, ()),
    ("celu", lambda F_: F_.celu, (0,)),
    ("selu", lambda F_: F_.selu, (0,)),
    ("softsign", lambda F_: F_.softsign, (0,)),
    ("tanhshrink", lambda F_: F_.tanhshrink, ()),
    ("softshrink", lambda F_: F_.softshrink, (-0.5, 0.5)),
    ("hardshrink", lambda F_: F_.hardshrink, (-0.5, 0.5)),
]


@pytest.mark.parametrize("name,theirs,kinks", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_match_torch(torch, device, name, theirs, kinks):
    x = np.random.default_rng(0).standard_normal((4, 6)) * 3
    x[0, :7 if x.shape[1] >= 7 else 6] = [-3.0, 3.0, 0.0, -1.0, 1.0, 0.5][: x.shape[1]]
    x[1, :3] = [40.0, -40.0, 1e-3]  # saturation: no overflow warning, finite gradients
    _compare(torch, getattr(F, name), theirs(torch.nn.functional), [x], device)
    # float32 values
    _compare(torch, getattr(F, name), theirs(torch.nn.functional), [x.astype(np.float32)],
             device, grads=False, rtol=2e-6, atol=1e-6, dtype="float32")


@pytest.mark.parametrize("name,theirs,kinks", ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activations_gradcheck(name, theirs, kinks):
    x = _away_from(np.random.default_rng(1).standard_normal((2, 3)) * 2.5, kinks)
    _checks(getattr(F, name), x)


def test_activations_with_arguments(torch, device):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 2)) * 3
    tF = torch.nn.functional
    _compare(torch, lambda a: F.hardtanh(a, -0.5, 2.0), lambda a: tF.hardtanh(a, -0.5, 2.0), [x], device)
    _compare(torch, lambda a: F.celu(a, 0.4), lambda a: tF.celu(a, 0.4), [x], device)
    _compare(torch, lambda a: F.softshrink(a, 1.2), lambda a: tF.softshrink(a, 1.2), [x], device)
    _compare(torch, lambda a: F.threshold(a, 0.3, -2.0), lambda a: tF.threshold(a, 0.3, -2.0), [x], device)
    _compare(torch, lambda a: F.softmin(a, 1), lambda a: tF.softmin(a, 1), [x], device)
    _compare(torch, lambda a: F.glu(a, 1), lambda a: tF.glu(a, 1), [x], device)
    _compare(torch, lambda a: F.glu(a), lambda a: tF.glu(a), [x], device)
    for w in (rng.random(4), rng.random(1)):
        _compare(torch, F.prelu, tF.prelu, [x, w], device)
    _compare(torch, F.prelu, tF.prelu, [x[0, 0], rng.random(1)], device)


def test_activations_with_arguments_gradcheck():
    rng = np.random.default_rng(3)
    x = _away_from(rng.standard_normal((2, 4)) * 2, (0.0, 0.3))
    _checks(lambda a: F.celu(a, 0.4), x)
    _checks(lambda a: F.threshold(a, 0.3, -2.0), x)
    _checks(lambda a: F.softmin(a, 1), x)
    _checks(lambda a: F.glu(a, 1), x)
    _checks(F.prelu, x, rng.random(4))
    _checks(F.prelu, x, rng.random(1))


def test_activation_edge_conventions(torch):
    """PyTorch's gradients at the kinks (its masks are strict where it says so)."""
    pts = np.array([-3.0, 3.0, -1.0, 1.0, 0.0, 6.0, 0.5, -0.5])
    tF = torch.nn.functional
    for ours, theirs in [(F.hardswish, tF.hardswish), (F.hardsigmoid, tF.hardsigmoid),
                         (F.hardtanh, tF.hardtanh), (nn.ReLU6(), tF.relu6),
                         (F.softshrink, tF.softshrink), (F.hardshrink, tF.hardshrink),
                         (F.selu, tF.selu), (F.celu, tF.celu)]:
        a, t = _ours(pts, "cpu"), torch.tensor(pts, requires_grad=True)
        ours(a).sum().backward()
        theirs(t).sum().backward()
        np.testing.assert_array_equal(to_numpy(a.grad), t.grad.numpy())


def test_relu6_layer_is_hardtanh(torch):
    x = _ours(np.array([-1.0, 0.0, 3.0, 6.0, 7.0]), "cpu")
    y = nn.ReLU6()(x)
    assert y.grad_fn.name == "HardtanhBackward0"
    np.testing.assert_array_equal(to_numpy(y), [0, 0, 3, 6, 6])


def test_prelu_layer(torch, device):
    m, tm = nn.PReLU(3).double().to(device), torch.nn.PReLU(3).double()
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    np.testing.assert_array_equal(to_numpy(m.weight), [0.25] * 3)
    x = np.random.default_rng(4).standard_normal((2, 3, 4))
    a, t = _ours(x, device), torch.tensor(x, requires_grad=True)
    m(a).sum().backward()
    tm(t).sum().backward()
    np.testing.assert_allclose(to_numpy(m.weight.grad), tm.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), rtol=1e-12)
    assert repr(m) == repr(tm)


LAYERS = [
    ("Hardtanh", (), {}), ("Hardtanh", (-2.0, 2.0, True), {}), ("ReLU6", (), {}),
    ("ReLU6", (True,), {}), ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Mish", (), {}),
    ("Softsign", (), {}), ("Tanhshrink", (), {}), ("LogSigmoid", (), {}), ("Softmin", (1,), {}),
    ("CELU", (0.5,), {}), ("CELU", (0.5, True), {}), ("SELU", (), {}), ("SELU", (True,), {}),
    ("Softshrink", (), {}), ("Hardshrink", (0.3,), {}), ("Threshold", (0.1, 20.0), {}),
    ("Threshold", (0.1, 20.0, True), {}), ("GLU", (), {}), ("GLU", (1,), {}), ("PReLU", (), {}),
    ("PReLU", (4,), {}), ("Dropout1d", (), {}), ("Dropout2d", (0.3,), {}),
    ("Dropout3d", (0.2, True), {}), ("AlphaDropout", (), {}), ("FeatureAlphaDropout", (0.1,), {}),
    ("Unflatten", (1, (2, 3)), {}), ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"size": (3, 4), "mode": "bilinear"}), ("UpsamplingNearest2d", (), {"size": 4}),
    ("UpsamplingBilinear2d", (), {"scale_factor": 2}), ("CosineSimilarity", (), {}),
    ("PairwiseDistance", (1.0,), {}), ("ZeroPad2d", (1,), {}), ("ZeroPad1d", ((1, 2),), {}),
    ("ConstantPad1d", ((1, 2), 3.5), {}), ("ConstantPad3d", (1, 0.0), {}),
    ("ReflectionPad1d", (2,), {}), ("ReflectionPad2d", (2,), {}), ("ReplicationPad3d", (1,), {}),
    ("CircularPad2d", ((1, 0, 2, 1),), {}), ("SmoothL1Loss", (), {"beta": 0.5}),
    ("KLDivLoss", (), {"reduction": "batchmean"}), ("MarginRankingLoss", (0.2,), {}),
    ("HingeEmbeddingLoss", (), {}), ("CosineEmbeddingLoss", (), {}), ("PoissonNLLLoss", (), {}),
    ("GaussianNLLLoss", (), {}), ("SoftMarginLoss", (), {}), ("MultiLabelSoftMarginLoss", (), {}),
    ("TripletMarginLoss", (), {"swap": True}), ("MultiMarginLoss", (), {"p": 2}),
]


@pytest.mark.parametrize("name,args,kw", LAYERS, ids=[f"{n}{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_layer_reprs(torch, name, args, kw):
    assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_layers_forward(torch):
    """A few layers end to end against PyTorch's layers of the same arguments."""
    rng = np.random.default_rng(5)
    x4 = rng.standard_normal((2, 3, 4, 5))
    for name, args, kw, arr in [
        ("Upsample", (), {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True}, x4),
        ("UpsamplingBilinear2d", (), {"scale_factor": 2}, x4),
        ("UpsamplingNearest2d", (), {"size": (3, 7)}, x4),
        ("ReflectionPad2d", ((1, 2, 0, 3),), {}, x4), ("ZeroPad2d", (1,), {}, x4),
        ("CircularPad1d", (2,), {}, x4[0]), ("ConstantPad2d", ((1, -1, 0, 2), 2.5), {}, x4),
        ("Unflatten", (-1, (5, 1)), {}, x4), ("Hardswish", (), {}, x4), ("GLU", (1,), {}, x4[:, :2]),
    ]:
        m, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
        _compare(torch, m, tm, [arr], "cpu")
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _compare(torch, nn.CosineSimilarity(dim=1), torch.nn.CosineSimilarity(dim=1), [a, b], "cpu")
    _compare(torch, nn.PairwiseDistance(), torch.nn.PairwiseDistance(), [a, b], "cpu")


def test_activation_errors(torch):
    x = ag.randn(3, 5)
    with pytest.raises(RuntimeError, match=re.escape("Halving dimension must be even, but dimension 1 is size 5")):
        F.glu(x)
    with pytest.raises(IndexError, match=re.escape("Dimension out of range (expected to be in range of [-2, 1], but got 2)")):
        F.glu(ag.randn(3, 4), dim=2)
    with pytest.raises(RuntimeError, match=re.escape("Mismatch of parameter numbers and input channel size. Found parameter numbers = 3 and channel size = 5.")):
        F.prelu(x, ag.ones(3))
    with pytest.raises(RuntimeError, match="Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"):
        F.prelu(x, ag.ones(1, 1))
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(AssertionError, match=re.escape("max_val (1.0) must be greater than min_val (1.0)")):
        nn.Hardtanh(1.0, 1.0)
    with pytest.raises(RuntimeError, match="ZeroDivisionError: alpha cannot be 0 for CELU"):
        F.celu(x, 0.0)
    with pytest.raises(RuntimeError, match=re.escape("lambda must be in range [0, 3.40282e+38] for input dtype Float, but found -1")):
        F.softshrink(x, -1.0)
    with pytest.raises(RuntimeError, match="glu does not support scalars"):
        F.glu(ag.tensor(1.0))


def test_inplace_activation_forms():
    x = ag.tensor([-2.0, 0.5, 4.0])
    y = F.hardtanh(x, inplace=True)
    assert y is x and x.tolist() == [-1.0, 0.5, 1.0]
    z = ag.tensor([-2.0, 8.0])
    nn.ReLU6(inplace=True)(z)
    assert z.tolist() == [0.0, 6.0]


# ---------------------------------------------------------------- dropout


@pytest.mark.parametrize("fn,shape,batched", [
    (F.dropout1d, (4, 8, 30), True), (F.dropout1d, (24, 30), False),
    (F.dropout2d, (4, 6, 5, 6), True), (F.dropout3d, (2, 12, 3, 4, 5), True),
    (F.dropout3d, (24, 3, 4, 5), False),
])
def test_channel_dropout_zeroes_whole_channels(fn, shape, batched, device):
    ag.manual_seed(0)
    x = ag.ones(*shape, device=device, requires_grad=True)
    y = fn(x, p=0.4)
    v = to_numpy(y)
    lead = 2 if batched else 1
    per_channel = v.reshape(v.shape[:lead] + (-1,))
    # every channel is all 0 or all 1/(1-p)
    assert np.all((per_channel == 0).all(-1) | np.isclose(per_channel, 1 / 0.6).all(-1))
    dropped = (per_channel == 0).all(-1).mean()
    assert 0.1 < dropped < 0.8
    y.backward(ag.ones(*shape, device=device))
    np.testing.assert_allclose(to_numpy(x.grad), v)  # the same mask, scaled
    assert y.grad_fn.name == "MulBackward0"
    # eval mode and p = 0: the identity (the same tensor)
    assert fn(x, p=0.4, training=False) is x and fn(x, p=0.0) is x
    np.testing.assert_array_equal(to_numpy(fn(x, p=1.0)), np.zeros(shape))


def test_dropout_layers_train_eval():
    ag.manual_seed(1)
    m = nn.Dropout2d(0.5)
    x = ag.ones(2, 8, 3, 3)
    assert (to_numpy(m(x)) == 0).any()
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout1d(1.5)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got -0.1"):
        F.dropout2d(x, -0.1)


def test_dropout_shape_rules():
    with pytest.raises(RuntimeError, match=re.escape("dropout1d: Expected 2D or 3D input, but received a 4D input.")):
        F.dropout1d(ag.ones(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(ag.ones(2, 3, 4))
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        F.dropout2d(ag.ones(2, 3))
    with pytest.warns(UserWarning, match="Received a 3-D input to dropout3d"):
        F.dropout3d(ag.ones(2, 3, 4))


def test_alpha_dropout_keeps_mean_and_variance(device):
    ag.manual_seed(2)
    x = ag.randn(400, 500, device=device, requires_grad=True)
    y = F.alpha_dropout(x, 0.3, training=True)
    v = to_numpy(y)
    assert abs(v.mean()) < 0.02 and abs(v.std() - 1) < 0.02
    # dropped positions hold one value, alpha' a + b (SELU's saturation, rescaled)
    a = 1 / np.sqrt((1.7580993408473766 ** 2 * 0.3 + 1) * 0.7)
    dropped_value = -1.7580993408473766 * a + 1.7580993408473766 * a * 0.3
    assert np.isclose(v, dropped_value).mean() == pytest.approx(0.3, abs=0.01)
    y.sum().backward()
    g = to_numpy(x.grad)
    assert np.all((g == 0) | np.isclose(g, a, rtol=1e-6))
    assert (g == 0).mean() == pytest.approx(0.3, abs=0.01)
    assert F.alpha_dropout(x, 0.3) is x  # training=False by default, as PyTorch
    f = F.feature_alpha_dropout(ag.ones(3, 50, 4), 0.5, training=True)
    per = to_numpy(f).reshape(3, 50, -1)
    assert np.all((per == per[..., :1]).all(-1))


# ---------------------------------------------------------------- pad

PAD_CASES = [
    ((2, 3, 5), (1, 2)), ((2, 3, 5), (2, 0)), ((2, 3, 5), (-1, 2)), ((3, 5), (2, 1)),
    ((2, 3, 4, 5), (1, 2, 2, 1)), ((2, 3, 4, 5), (0, -1, 2, 1)), ((3, 4, 5), (1, 1, 0, 3)),
    ((1, 2, 3, 4, 3), (1, 1, 2, 1, 0, 2)), ((2, 3, 4, 3), (2, 1, 1, 0, 1, 1)),
]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("shape,pads", PAD_CASES)
def test_pad_matches_torch(torch, device, mode, shape, pads):
    x = np.random.default_rng(6).standard_normal(shape)
    _compare(torch, lambda a: F.pad(a, pads, mode), lambda a: torch.nn.functional.pad(a, pads, mode),
             [x], device)


def test_pad_constant_value_and_many_dims(torch, device):
    x = np.random.default_rng(7).standard_normal((2, 3, 4))
    tpad = torch.nn.functional.pad
    for pads in [(1, 1, 1, 1, 1, 1), (0, 0, 0, 0, 2, 1), (-1, -2, 1, 0), (1,) * 6]:
        _compare(torch, lambda a: F.pad(a, pads, value=2.5), lambda a: tpad(a, pads, value=2.5), [x], device)
    _compare(torch, lambda a: F.pad(a, (1, 2), value=-1.0), lambda a: tpad(a, (1, 2), value=-1.0),
             [x.astype(np.float32)], device, rtol=0, atol=0, dtype="float32")
    # (gradients summed from several outputs: the order of the sums may differ)
    _compare(torch, lambda a: F.pad(a, (1, 2, 0, 1), "reflect"), lambda a: tpad(a, (1, 2, 0, 1), "reflect"),
             [x.astype(np.float32)], device, rtol=1e-6, atol=1e-6, dtype="float32")


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    x = np.random.default_rng(8).standard_normal((1, 3, 3))
    _checks(lambda a: F.pad(a, (2, 1), mode), x)
    _checks(lambda a: F.pad(a, (1, 0, 2, 1), mode) * 1.5, x)
    _checks(lambda a: F.pad(a, (-1, 2), mode), x)


def test_pad_errors(torch):
    x3 = ag.randn(1, 1, 3)
    cases = [
        (lambda: F.pad(x3, (3, 3), "reflect"), RuntimeError,
         "Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (3, 3) at dimension 2 of input [1, 1, 3]"),
        (lambda: F.pad(x3, (1, 1, 1, 1), "reflect"), RuntimeError,
         "Argument #6: Padding size should be less than the corresponding input dimension, but got: padding (1, 1) at dimension 1 of input [1, 1, 3]"),
        (lambda: F.pad(x3, (1,), "reflect"), RuntimeError, "Padding length must be divisible by 2"),
        (lambda: F.pad(x3, (1,) * 8), RuntimeError,
         "Padding length should be less than or equal to two times the input dimension but got padding length 8 and input of dimension 3"),
        (lambda: F.pad(x3, (4, 1), "circular"), RuntimeError, "Padding value causes wrapping around more than once."),
        (lambda: F.pad(ag.randn(3), (1, 1), "reflect"), NotImplementedError,
         "Padding size 2 is not supported for 1D input tensor."),
        (lambda: F.pad(ag.randn(2, 3), (1, 1, 1, 1), "circular"), NotImplementedError,
         "Padding size 4 is not supported for 2D input tensor."),
        (lambda: F.pad(x3, (1, 1), "foo"), NotImplementedError, "Unrecognised padding mode foo"),
        (lambda: F.pad(x3, (1, 1), "reflect", 2.0), RuntimeError, 'Padding mode "reflect" doesn\'t take in value argument'),
        (lambda: F.pad(x3, (-2, -2)), RuntimeError, "narrow(): length must be non-negative."),
        (lambda: F.pad(ag.randn(1, 0, 3), (1, 1), "replicate"), RuntimeError,
         "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, but got: [1, 0, 3]"),
        (lambda: F.pad(x3, (-3, -1), "replicate"), RuntimeError, "input (W: 3) is too small. Calculated output W: -1"),
    ]
    tx3 = torch.randn(1, 1, 3)
    tpad = torch.nn.functional.pad
    theirs = [lambda: tpad(tx3, (3, 3), "reflect"), lambda: tpad(tx3, (1, 1, 1, 1), "reflect"),
              lambda: tpad(tx3, (1,), "reflect"), lambda: tpad(tx3, (1,) * 8),
              lambda: tpad(tx3, (4, 1), "circular"), lambda: tpad(torch.randn(3), (1, 1), "reflect"),
              lambda: tpad(torch.randn(2, 3), (1, 1, 1, 1), "circular"), lambda: tpad(tx3, (1, 1), "foo"),
              lambda: tpad(tx3, (1, 1), "reflect", 2.0), lambda: tpad(tx3, (-2, -2)),
              lambda: tpad(torch.randn(1, 0, 3), (1, 1), "replicate"), lambda: tpad(tx3, (-3, -1), "replicate")]
    for (ours, exc, msg), tfn in zip(cases, theirs):
        with pytest.raises(exc, match=re.escape(msg)):
            tfn()  # the message is PyTorch's
        with pytest.raises(exc, match=re.escape(msg)):
            ours()
    # an empty batch is fine
    assert F.pad(ag.randn(0, 2, 3), (1, 1), "reflect").shape == (0, 2, 5)


# ---------------------------------------------------------------- interpolate


def _interp_kwargs(mode, d):
    kws = [dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6), dict(size=7),
           dict(size=[3] * d), dict(scale_factor=2.3, recompute_scale_factor=True),
           dict(scale_factor=tuple([1.5, 2.0, 0.5][:d]))]
    if mode not in ("nearest", "nearest-exact"):
        kws += [dict(k, align_corners=True) for k in kws[:5]] + [dict(size=1, align_corners=True)]
    return kws


INTERP = [("nearest", 3), ("nearest", 4), ("nearest", 5), ("nearest-exact", 3),
          ("nearest-exact", 4), ("linear", 3), ("bilinear", 4), ("trilinear", 5)]


@pytest.mark.parametrize("mode,nd", INTERP)
def test_interpolate_matches_torch(torch, device, mode, nd):
    shape = {3: (2, 3, 5), 4: (2, 2, 4, 5), 5: (1, 2, 3, 4, 3)}[nd]
    x = np.random.default_rng(9).standard_normal(shape)
    ti = torch.nn.functional.interpolate
    for kw in _interp_kwargs(mode, nd - 2):
        _compare(torch, lambda a: F.interpolate(a, mode=mode, **kw), lambda a: ti(a, mode=mode, **kw),
                 [x], device)
        _compare(torch, lambda a: F.interpolate(a, mode=mode, **kw), lambda a: ti(a, mode=mode, **kw),
                 [x.astype(np.float32)], device, grads=False, rtol=1e-6, atol=1e-6, dtype="float32")


@pytest.mark.parametrize("mode,nd", [("nearest", 3), ("nearest", 4), ("linear", 3),
                                     ("bilinear", 4), ("trilinear", 5)])
def test_interpolate_gradcheck(mode, nd):
    shape = {3: (1, 2, 3), 4: (1, 1, 2, 3), 5: (1, 1, 2, 2, 2)}[nd]
    x = np.random.default_rng(10).standard_normal(shape)
    ac = {} if mode == "nearest" else {"align_corners": False}
    _checks(lambda a: F.interpolate(a, scale_factor=1.5, mode=mode, **ac), x)
    if mode != "nearest":
        _checks(lambda a: F.interpolate(a, size=[3] * (nd - 2), mode=mode, align_corners=True) ** 2, x)


def test_interpolate_errors(torch):
    x, x3 = ag.randn(1, 1, 3, 3), ag.randn(1, 1, 3)
    tx, tx3 = torch.randn(1, 1, 3, 3), torch.randn(1, 1, 3)
    ti = torch.nn.functional.interpolate
    cases = [
        (lambda i, a, b: i(b, scale_factor=2, mode="bilinear"), NotImplementedError,
         "Got 3D input, but bilinear mode needs 4D input"),
        (lambda i, a, b: i(a, scale_factor=2, mode="linear"), NotImplementedError,
         "Got 4D input, but linear mode needs 3D input"),
        (lambda i, a, b: i(a, scale_factor=2, mode="nearest", align_corners=True), ValueError,
         "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | trilinear"),
        (lambda i, a, b: i(a, size=2, scale_factor=2), ValueError, "only one of size or scale_factor should be defined"),
        (lambda i, a, b: i(a), ValueError, "either size or scale_factor should be defined"),
        (lambda i, a, b: i(a, size=(2, 3, 4)), ValueError,
         "Input and output must have the same number of spatial dimensions, but got input with spatial dimensions of [3, 3] and output size of (2, 3, 4)."),
        (lambda i, a, b: i(a, scale_factor=(2, 3, 4)), ValueError,
         "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial dimensions of [3, 3] and scale_factor of shape (2, 3, 4)."),
        (lambda i, a, b: i(a, scale_factor=2, mode="bicubicx"), NotImplementedError,
         "Input Error: Only 3D, 4D and 5D input Tensors supported (got 4D) for the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got bicubicx)"),
        (lambda i, a, b: i(a, size=0), RuntimeError,
         "Input and output sizes should be greater than 0, but got input (H: 3, W: 3) output (H: 0, W: 0)"),
        (lambda i, a, b: i(a, size=2, recompute_scale_factor=True), ValueError,
         "recompute_scale_factor is not meaningful with an explicit size."),
    ]
    for fn, exc, msg in cases:
        with pytest.raises(exc, match=re.escape(msg)):
            fn(ti, tx, tx3)
        with pytest.raises(exc, match=re.escape(msg)):
            fn(F.interpolate, x, x3)
    with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D input Tensors supported \\(got 1D\\)"):
        F.interpolate(ag.randn(3), scale_factor=2)


def test_upsample_layer(torch, device):
    x = np.random.default_rng(11).standard_normal((1, 2, 3, 4))
    for kw in [dict(scale_factor=2), dict(size=(5, 3), mode="bilinear"),
               dict(scale_factor=(2, 1.5), mode="bilinear", align_corners=True)]:
        m, tm = nn.Upsample(**kw), torch.nn.Upsample(**kw)
        assert repr(m) == repr(tm)
        _compare(torch, m, tm, [x], device)


# ---------------------------------------------------------------- distances


def test_normalize_cosine_pairwise(torch, device):
    rng = np.random.default_rng(12)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    tF = torch.nn.functional
    for p, dim in [(2.0, 1), (1.0, 0), (3.0, -1), (float("inf"), 1)]:
        _compare(torch, lambda x: F.normalize(x, p, dim), lambda x: tF.normalize(x, p, dim), [a], device)
    z = np.zeros((2, 3))
    z[1] = [1.0, 2.0, 2.0]  # a zero row: divided by eps, gradient finite
    _compare(torch, F.normalize, tF.normalize, [z], device)
    _compare(torch, F.cosine_similarity, tF.cosine_similarity, [a, b], device)
    _compare(torch, lambda x, y: F.cosine_similarity(x, y, 0), lambda x, y: tF.cosine_similarity(x, y, 0),
             [a, b[:1]], device)
    _compare(torch, F.cosine_similarity, tF.cosine_similarity, [z, a[:2, :3]], device)
    _compare(torch, lambda x, y: F.cosine_similarity(x, y, -1, 0.5),
             lambda x, y: tF.cosine_similarity(x, y, -1, 0.5), [a * 0.01, b], device)
    _compare(torch, F.pairwise_distance, tF.pairwise_distance, [a, b], device)
    _compare(torch, lambda x, y: F.pairwise_distance(x, y, 2.0, 1e-6, True),
             lambda x, y: tF.pairwise_distance(x, y, 2.0, 1e-6, True), [a, b[0]], device)
    for p in (1.0, 3.0):
        _compare(torch, lambda x, y: F.pairwise_distance(x, y, p), lambda x, y: tF.pairwise_distance(x, y, p),
                 [a, b], device, name=False)
    # float32
    _compare(torch, F.cosine_similarity, tF.cosine_similarity, [a.astype(np.float32), b.astype(np.float32)],
             device, grads=False, rtol=2e-6, atol=1e-6, dtype="float32")


def test_distances_gradcheck():
    rng = np.random.default_rng(13)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    _checks(F.normalize, a)
    _checks(lambda x: F.normalize(x, 3.0, 0), a)
    _checks(F.cosine_similarity, a, b)
    _checks(F.pairwise_distance, a, b)
    _checks(lambda x, y: F.pairwise_distance(x, y, 3.0, keepdim=True), a, b)


def test_distance_errors():
    with pytest.raises(RuntimeError, match=re.escape("The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0")):
        F.cosine_similarity(ag.randn(3, 4), ag.randn(2, 4))
    with pytest.raises(RuntimeError, match=re.escape("The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0")):
        F.pairwise_distance(ag.randn(3, 4), ag.randn(2, 4))
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.normalize(ag.randn(3), dim=2)


def test_unflatten(torch):
    x = np.random.default_rng(14).standard_normal((2, 6, 2))
    _compare(torch, nn.Unflatten(1, (2, 3)), torch.nn.Unflatten(1, (2, 3)), [x], "cpu")
    _compare(torch, nn.Unflatten(-2, (3, -1)), torch.nn.Unflatten(-2, (3, -1)), [x], "cpu")
    with pytest.raises(TypeError, match="unflattened_size must be tuple of ints, but found element of type float at pos 1"):
        nn.Unflatten(1, (2, 3.0))
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 3)


# ---------------------------------------------------------------- losses


def _loss_cases(rng):
    """(name, our call, PyTorch's call, arrays): one entry per loss and variant."""
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    pos = rng.random((3, 4)) + 0.1
    sign = np.where(rng.random((3, 4)) > 0.5, 1.0, -1.0)
    v = rng.standard_normal(5)
    s5 = np.where(rng.random(5) > 0.5, 1.0, -1.0)
    s3 = np.array([1.0, -1.0, 1.0])
    labels = (rng.random((3, 4)) > 0.5).astype(np.float64)
    counts = rng.integers(0, 4, (3, 4)).astype(np.float64)
    counts[0, 0] = 0.0
    w = rng.random(4) + 0.5
    t = np.array([0, 3, 1])
    return [
        ("smooth_l1", lambda F_, r: lambda a, b: F_.smooth_l1_loss(a, b, reduction=r), [x, y]),
        ("smooth_l1_beta", lambda F_, r: lambda a, b: F_.smooth_l1_loss(a, b, reduction=r, beta=0.3), [x, y]),
        ("smooth_l1_beta0", lambda F_, r: lambda a, b: F_.smooth_l1_loss(a, b, reduction=r, beta=0.0), [x, y]),
        ("kl_div", lambda F_, r: lambda a, b: F_.kl_div(a, b, reduction=r), [x, pos]),
        ("kl_div_log", lambda F_, r: lambda a, b: F_.kl_div(a, b, reduction=r, log_target=True), [x, y]),
        ("margin_ranking", lambda F_, r: lambda a, b: F_.margin_ranking_loss(a, b, _c(F_, s5), 0.2, reduction=r), [v, v[::-1].copy()]),
        ("hinge", lambda F_, r: lambda a: F_.hinge_embedding_loss(a, _c(F_, sign), 0.7, reduction=r), [x]),
        ("cosine_emb", lambda F_, r: lambda a, b: F_.cosine_embedding_loss(a, b, _c(F_, s3), 0.1, reduction=r), [x, y]),
        ("cosine_emb_1d", lambda F_, r: lambda a, b: F_.cosine_embedding_loss(a, b, _c(F_, np.array(-1.0)), reduction=r), [x[0], x[0] * 0.5 + y[0]]),
        ("poisson", lambda F_, r: lambda a: F_.poisson_nll_loss(a, _c(F_, counts), reduction=r), [x]),
        ("poisson_full", lambda F_, r: lambda a: F_.poisson_nll_loss(a, _c(F_, counts), full=True, reduction=r), [x]),
        ("poisson_lin", lambda F_, r: lambda a: F_.poisson_nll_loss(a, _c(F_, counts), log_input=False, reduction=r), [pos]),
        ("gaussian", lambda F_, r: lambda a, b, c: F_.gaussian_nll_loss(a, b, c, reduction=r), [x, y, pos]),
        ("gaussian_full", lambda F_, r: lambda a, b, c: F_.gaussian_nll_loss(a, b, c, full=True, eps=0.05, reduction=r), [x, y, pos]),
        ("gaussian_homo", lambda F_, r: lambda a, b, c: F_.gaussian_nll_loss(a, b, c, reduction=r), [x, y, pos[:, 0].copy()]),
        ("gaussian_bcast", lambda F_, r: lambda a, b, c: F_.gaussian_nll_loss(a, b, c, reduction=r), [x, y, pos[:, :1].copy()]),
        ("soft_margin", lambda F_, r: lambda a: F_.soft_margin_loss(a, _c(F_, sign), reduction=r), [x * 3]),
        ("multilabel_soft_margin", lambda F_, r: lambda a: F_.multilabel_soft_margin_loss(a, _c(F_, labels), reduction=r), [x]),
        ("multilabel_soft_margin_w", lambda F_, r: lambda a: F_.multilabel_soft_margin_loss(a, _c(F_, labels), weight=_c(F_, w), reduction=r), [x]),
        ("triplet", lambda F_, r: lambda a, b, c: F_.triplet_margin_loss(a, b, c, reduction=r), [x, y, x + 0.3 * y]),
        ("triplet_swap", lambda F_, r: lambda a, b, c: F_.triplet_margin_loss(a, b, c, margin=2.0, p=1, swap=True, reduction=r), [x, y, x + 0.3 * y]),
        ("multi_margin", lambda F_, r: lambda a: F_.multi_margin_loss(a, _c(F_, t), reduction=r), [x]),
        ("multi_margin_p2", lambda F_, r: lambda a: F_.multi_margin_loss(a, _c(F_, t), p=2, margin=0.5, weight=_c(F_, w), reduction=r), [x]),
        ("multi_margin_1d", lambda F_, r: lambda a: F_.multi_margin_loss(a, _c(F_, np.array(2)), reduction=r), [x[0]]),
    ]


def _c(F_, arr):
    """A constant in the namespace F_ belongs to (ours or PyTorch's)."""
    if F_ is F:
        return ag.tensor(arr, dtype=ag.float64 if arr.dtype.kind == "f" else None)
    import torch

    return torch.tensor(arr, dtype=torch.float64 if arr.dtype.kind == "f" else None)


_LOSS_IDS = [c[0] for c in _loss_cases(np.random.default_rng(0))]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", range(len(_LOSS_IDS)), ids=_LOSS_IDS)
def test_losses_match_torch(torch, reduction, case):
    name, make, arrays = _loss_cases(np.random.default_rng(15))[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kl_div's 'mean' warning (both sides)
        _compare(torch, make(F, reduction), make(torch.nn.functional, reduction), arrays, "cpu")


@pytest.mark.parametrize("case", range(len(_LOSS_IDS)), ids=_LOSS_IDS)
def test_losses_gradcheck(case):
    name, make, arrays = _loss_cases(np.random.default_rng(16))[case]
    for r in ("sum", "none"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            _checks(make(F, r), *arrays)


def test_kl_div_batchmean_and_mean_warning(torch):
    rng = np.random.default_rng(17)
    x, t = rng.standard_normal((3, 4)), rng.random((3, 4))
    _compare(torch, lambda a, b: F.kl_div(a, b, reduction="batchmean"),
             lambda a, b: torch.nn.functional.kl_div(a, b, reduction="batchmean"), [x, t], "cpu")
    t0 = t.copy()
    t0[0, 0] = 0.0  # 0 log 0 = 0 (a constant target: PyTorch's target gradient there is nan)
    _compare(torch, lambda a: F.kl_div(a, ag.tensor(t0), reduction="batchmean"),
             lambda a: torch.nn.functional.kl_div(a, torch.tensor(t0), reduction="batchmean"), [x], "cpu")
    with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both the batch size"):
        F.kl_div(ag.tensor(x), ag.tensor(t))
    m, tm = nn.KLDivLoss(reduction="batchmean", log_target=True), torch.nn.KLDivLoss(reduction="batchmean", log_target=True)
    _compare(torch, m, tm, [x, np.log(t + 0.1)], "cpu")
    _checks(lambda a, b: F.kl_div(a, b, reduction="batchmean"), x[:2], t[:2] + 0.1)


def test_gaussian_nll_var_clamp_passes_gradient(torch):
    """var below eps is clamped in value only: its gradient is the unclamped formula's, as
    PyTorch's clone + no_grad clamp_ gives."""
    rng = np.random.default_rng(20)
    x, y, var = rng.standard_normal(6), rng.standard_normal(6), np.array([1e-4, 0.05, 0.3, 1.0, 2.0, 0.0])
    tF = torch.nn.functional
    out = _compare(torch, lambda a, b, c: F.gaussian_nll_loss(a, b, c, eps=0.1),
                   lambda a, b, c: tF.gaussian_nll_loss(a, b, c, eps=0.1), [x, y, var], "cpu", name=False)
    assert out.grad_fn.name == "MeanBackward0"


def test_loss_modules_match_torch(torch):
    rng = np.random.default_rng(18)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    pos = rng.random((3, 4)) + 0.1
    for name, kw, arrays in [
        ("SmoothL1Loss", {"beta": 0.5, "reduction": "sum"}, [x, y]),
        ("GaussianNLLLoss", {"full": True}, [x, y, pos]),
        ("PoissonNLLLoss", {"log_input": False, "full": True}, [pos, np.round(pos * 3)]),
        ("SoftMarginLoss", {}, [x, np.sign(y)]),
        ("TripletMarginLoss", {"margin": 0.5, "p": 3.0}, [x, y, x - y]),
        ("CosineEmbeddingLoss", {"margin": -0.2}, [x, y, np.array([1.0, -1.0, -1.0])]),
        ("MultiLabelSoftMarginLoss", {"reduction": "none"}, [x, (y > 0).astype(np.float64)]),
        ("HingeEmbeddingLoss", {"margin": 2.0}, [x, np.sign(y)]),
    ]:
        arrays = [a for a in arrays]
        m, tm = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
        ours = [_ours(a, "cpu", g=False) for a in arrays]
        theirs = [torch.tensor(a) for a in arrays]
        out, tout = m(*ours), tm(*theirs)
        np.testing.assert_allclose(to_numpy(out), tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    t = np.array([1, 0, 3])
    m, tm = nn.MultiMarginLoss(weight=ag.tensor(rng.random(4) + 0.5)), None
    tm = torch.nn.MultiMarginLoss(weight=torch.tensor(to_numpy(m.weight)))
    np.testing.assert_allclose(to_numpy(m(_ours(x, "cpu"), ag.tensor(t))),
                               tm(torch.tensor(x), torch.tensor(t)).numpy(), rtol=1e-12)
    assert [k for k, _ in m.named_buffers()] == ["weight"]
    lm = nn.MarginRankingLoss(0.5, reduction="none")
    tlm = torch.nn.MarginRankingLoss(0.5, reduction="none")
    np.testing.assert_allclose(
        to_numpy(lm(_ours(x[0], "cpu"), _ours(y[0], "cpu"), ag.tensor([1.0, -1.0, 1.0, 1.0]))),
        tlm(torch.tensor(x[0]), torch.tensor(y[0]), torch.tensor([1.0, -1.0, 1.0, 1.0])).numpy())


def test_loss_float32_and_stability(torch):
    rng = np.random.default_rng(19)
    x = (rng.standard_normal((3, 4)) * 3).astype(np.float32)
    y = rng.standard_normal((3, 4)).astype(np.float32)
    tF = torch.nn.functional
    for ours, theirs in [(F.smooth_l1_loss, tF.smooth_l1_loss), (F.soft_margin_loss, tF.soft_margin_loss),
                         (F.multilabel_soft_margin_loss, tF.multilabel_soft_margin_loss)]:
        out = ours(ag.tensor(x), ag.tensor(np.sign(y)))
        assert out.dtype == ag.float32
        np.testing.assert_allclose(to_numpy(out), theirs(torch.tensor(x), torch.tensor(np.sign(y))).numpy(), rtol=2e-6)
    # soft margin at |y x| = 1000: finite loss and gradient, no overflow warning
    big = ag.tensor([1000.0, -1000.0], dtype=ag.float64, requires_grad=True)
    loss = F.soft_margin_loss(big, ag.tensor([-1.0, -1.0], dtype=ag.float64), reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(1000.0)
    np.testing.assert_allclose(to_numpy(big.grad), [1.0, 0.0])


def test_loss_second_order_through_create_graph():
    """A gradient of a loss, itself differentiated (the losses' backward is recorded)."""
    x = ag.tensor([[0.3, -1.2, 2.0]], dtype=ag.float64, requires_grad=True)
    y = ag.tensor([[0.1, 0.5, -0.4]], dtype=ag.float64)
    (g,) = ag.autograd.grad(F.smooth_l1_loss(x, y, beta=2.0, reduction="sum"), x, create_graph=True)
    (h,) = ag.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(to_numpy(h), [[0.5, 0.5, 0.0]])  # 1 / beta inside, 0 outside


def test_loss_errors(torch):
    x = ag.randn(3, 4)
    tx = torch.randn(3, 4)
    tF = torch.nn.functional
    pairs = [
        (lambda: F.smooth_l1_loss(x, x, beta=-1.0), lambda: tF.smooth_l1_loss(tx, tx, beta=-1.0),
         RuntimeError, "smooth_l1_loss does not support negative values for beta."),
        (lambda: F.smooth_l1_loss(x, x, reduction="foo"), lambda: tF.smooth_l1_loss(tx, tx, reduction="foo"),
         ValueError, "foo is not a valid value for reduction"),
        (lambda: F.kl_div(x, x, reduction="foo"), lambda: tF.kl_div(tx, tx, reduction="foo"),
         ValueError, "foo is not a valid value for reduction"),
        (lambda: F.margin_ranking_loss(ag.randn(5), ag.randn(5, 1), ag.ones(5)),
         lambda: tF.margin_ranking_loss(torch.randn(5), torch.randn(5, 1), torch.ones(5)),
         RuntimeError, "margin_ranking_loss : All input tensors should have same dimension but got sizes: input1: "),
        (lambda: F.cosine_embedding_loss(x, x, ag.ones(3, 1)), lambda: tF.cosine_embedding_loss(tx, tx, torch.ones(3, 1)),
         RuntimeError, "0D or 1D target tensor expected, multi-target not supported"),
        (lambda: F.cosine_embedding_loss(ag.randn(4), ag.randn(4), ag.ones(1)),
         lambda: tF.cosine_embedding_loss(torch.randn(4), torch.randn(4), torch.ones(1)),
         RuntimeError, "1D target tensor expects 2D input tensors, but found inputs with sizes [4] and [4]."),
        (lambda: F.triplet_margin_loss(x, x, ag.randn(4)), lambda: tF.triplet_margin_loss(tx, tx, torch.randn(4)),
         RuntimeError, "The anchor, positive, and negative tensors are expected to have the same number of dimensions, but got: anchor 2D, positive 2D, and negative 1D inputs"),
        (lambda: F.multi_margin_loss(x, ag.tensor([0, 1, 4])), lambda: tF.multi_margin_loss(tx, torch.tensor([0, 1, 4])),
         RuntimeError, "target out of range"),
        (lambda: F.multi_margin_loss(x, ag.tensor([0, 1, 2]), p=3), lambda: tF.multi_margin_loss(tx, torch.tensor([0, 1, 2]), p=3),
         ValueError, "only p == 1 and p == 2 supported"),
        (lambda: F.multi_margin_loss(x, ag.tensor([0, 1])), lambda: tF.multi_margin_loss(tx, torch.tensor([0, 1])),
         RuntimeError, "multi_margin_loss: target tensor should be 1-D with size equal to the number of input samples (batch size). Expected target size [3], but got [2]. Input has shape [3, 4]."),
        (lambda: F.multi_margin_loss(ag.randn(2, 3, 4), ag.tensor([0, 1])),
         lambda: tF.multi_margin_loss(torch.randn(2, 3, 4), torch.tensor([0, 1])),
         RuntimeError, "Expected non-empty vector or matrix with optional 0-dim batch size, but got: [2, 3, 4]"),
        (lambda: F.multi_margin_loss(x, ag.tensor([0, 1, 2]), weight=ag.ones(3)),
         lambda: tF.multi_margin_loss(tx, torch.tensor([0, 1, 2]), weight=torch.ones(3)),
         RuntimeError, "inconsistent weight size, expected 4 but got [3]"),
        (lambda: F.gaussian_nll_loss(x, x, -ag.ones(3, 4)), lambda: tF.gaussian_nll_loss(tx, tx, -torch.ones(3, 4)),
         ValueError, "var has negative entry/entries"),
        (lambda: F.gaussian_nll_loss(x, x, ag.ones(2, 4)), lambda: tF.gaussian_nll_loss(tx, tx, torch.ones(2, 4)),
         ValueError, "var is of incorrect size"),
        (lambda: F.gaussian_nll_loss(x, x, 1.0, reduction="x"), lambda: tF.gaussian_nll_loss(tx, tx, 1.0, reduction="x"),
         ValueError, "x is not valid"),
        (lambda: F.multilabel_soft_margin_loss(x, ag.ones(3, 4), reduction="x"),
         lambda: tF.multilabel_soft_margin_loss(tx, torch.ones(3, 4), reduction="x"), ValueError, "x is not valid"),
        (lambda: nn.TripletMarginLoss(margin=0), lambda: torch.nn.TripletMarginLoss(margin=0),
         ValueError, "TripletMarginLoss: expected margin to be greater than 0, got 0 instead"),
        (lambda: nn.MultiMarginLoss(weight=ag.ones(2, 2)), lambda: torch.nn.MultiMarginLoss(weight=torch.ones(2, 2)),
         ValueError, "MultiMarginLoss: expected weight to be None or 1D tensor, got 2D instead"),
    ]
    for ours, theirs, exc, msg in pairs:
        with pytest.raises(exc, match=re.escape(msg)):
            theirs()
        with pytest.raises(exc, match=re.escape(msg)):
            ours()
    with pytest.warns(UserWarning, match="Using a target size .* that is different to the input size"):
        F.smooth_l1_loss(x, ag.ones(4))
    # a broadcasting mismatch is the arithmetic's error (PyTorch's words first)
    with pytest.raises(RuntimeError, match=re.escape("The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 0")):
        F.margin_ranking_loss(ag.randn(5), ag.randn(5), ag.ones(4))
