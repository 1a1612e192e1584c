"""nn modules and losses against torch.nn (forward and gradients, float64), plus Module's
API, hooks, init, and the losses' second derivatives."""

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from autograd_gpu.autograd import enable_grad, grad, gradcheck, gradgradcheck
from autograd_gpu.nn import functional as F
from conftest import to_numpy


def _pair(torch, arr, device="cpu", requires_grad=True):
    a = ag.tensor(arr, dtype=ag.float64, device=device, requires_grad=requires_grad)
    t = torch.tensor(arr, dtype=torch.float64, requires_grad=requires_grad)
    return a, t


def _check(out, tout, ins, tins, rtol=1e-7, atol=1e-10):
    np.testing.assert_allclose(to_numpy(out), tout.detach().numpy(), rtol=rtol, atol=atol)
    rng = np.random.default_rng(5)
    seed = rng.standard_normal(tuple(tout.shape))
    out.backward(ag.tensor(seed, dtype=out.dtype, device=out.device))
    tout.backward(__import__("torch").tensor(seed, dtype=tout.dtype))
    for a, t in zip(ins, tins):
        if t.grad is None:
            assert a.grad is None or np.allclose(to_numpy(a.grad), 0)
            continue
        np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), rtol=rtol, atol=atol)


def _copy_params(ours, theirs, torch):
    with torch.no_grad():
        for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
            assert n == m and tuple(p.shape) == tuple(q.shape)
            q.copy_(torch.from_numpy(to_numpy(p).copy()))


# ---------------------------------------------------------------- layers

LAYERS = [
    ("ReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("Sigmoid", (), {}), ("Tanh", (), {}),
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}),
    ("Softplus", (), {}), ("Softplus", (2.0, 1.0), {}), ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}), ("Flatten", (), {}), ("Flatten", (0, 1), {}),
    ("ELU", (0.7,), {}), ("Identity", (), {}),
]


@pytest.mark.parametrize("name,args,kw", LAYERS, ids=[f"{n}{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_activation_layers(torch, name, args, kw, device):
    arr = np.random.default_rng(0).standard_normal((4, 3, 2)) * 3
    arr[0, 0, 0] = 25.0  # softplus threshold region
    a, t = _pair(torch, arr, device)
    m, tm = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    _check(m(a), tm(t), [a], [t])
    assert repr(m) == repr(tm)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,)])
def test_linear(torch, bias, shape, device):
    lin = nn.Linear(4, 3, bias=bias).double().to(device)
    tlin = torch.nn.Linear(4, 3, bias=bias).double()
    _copy_params(lin, tlin, torch)
    a, t = _pair(torch, np.random.default_rng(1).standard_normal(shape), device)
    _check(lin(a), tlin(t), [a] + list(lin.parameters()), [t] + list(tlin.parameters()))
    assert repr(lin) == repr(tlin)


def test_linear_default_init_statistics():
    """Weights and bias uniform in +-1/sqrt(in_features), as PyTorch initializes them."""
    ag.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w, b = to_numpy(lin.weight), to_numpy(lin.bias)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.99 * bound
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.02)
    assert lin.weight.dtype == ag.float32 and lin.weight.requires_grad and lin.weight.is_leaf


def test_linear_gradgrad():
    lin = nn.Linear(3, 2).double()
    x = ag.randn(4, 3, dtype=ag.float64, requires_grad=True)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b), (x, lin.weight, lin.bias))
    assert _gradgradcheck(lambda x, w, b: F.linear(x, w, b).tanh(), (x, lin.weight, lin.bias))


def test_linear_shape_error():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x5 and 4x3\)"):
        nn.Linear(4, 3)(ag.randn(2, 5))


def test_sequential_matches_torch(torch, device):
    m = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 4), nn.LogSoftmax(dim=1)).double().to(device)
    tm = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Tanh(), torch.nn.Linear(5, 4),
                             torch.nn.LogSoftmax(dim=1)).double()
    _copy_params(m, tm, torch)
    a, t = _pair(torch, np.random.default_rng(2).standard_normal((7, 6)), device)
    _check(m(a), tm(t), [a] + list(m.parameters()), [t] + list(tm.parameters()))
    assert repr(m) == repr(tm)
    assert len(m) == 4 and isinstance(m[1], nn.Tanh) and isinstance(m[1:], nn.Sequential)


def test_dropout():
    ag.manual_seed(0)
    d = nn.Dropout(0.3)
    x = ag.ones(200, 100, requires_grad=True)
    y = d(x)
    kept = to_numpy(y) != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(to_numpy(y)[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(y))  # d/dx of x*mask is mask
    d.eval()
    assert d(x) is x
    assert F.dropout(x, 0.0) is x
    assert float(F.dropout(x, 1.0).abs().sum()) == 0.0
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


# ---------------------------------------------------------------- losses

REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kw", [("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {}),
                                     ("HuberLoss", {"delta": 0.3})])
def test_regression_losses(torch, name, kw, reduction, device):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    y[0, 0] = x[0, 0]
    a, t = _pair(torch, x, device)
    b, u = _pair(torch, y, device)
    lo = getattr(nn, name)(reduction=reduction, **kw)
    lt = getattr(torch.nn, name)(reduction=reduction, **kw)
    _check(lo(a, b), lt(t, u), [a, b], [t, u])


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce(torch, reduction, device):
    rng = np.random.default_rng(4)
    p = rng.random((6, 3)) * 0.98 + 0.01
    y = rng.random((6, 3))
    w = rng.random(3) + 0.5
    a, t = _pair(torch, p, device)
    b, u = _pair(torch, y, device)
    lo = nn.BCELoss(weight=ag.tensor(w, device=device), reduction=reduction)
    lt = torch.nn.BCELoss(weight=torch.tensor(w), reduction=reduction)
    _check(lo(a, b), lt(t, u), [a, b], [t, u])


def test_bce_saturated_and_range(torch):
    a, t = _pair(torch, np.array([0.0, 1.0, 0.5]))
    b, u = _pair(torch, np.array([1.0, 0.0, 0.5]), requires_grad=False)
    _check(F.binary_cross_entropy(a, b), torch.nn.functional.binary_cross_entropy(t, u), [a], [t])
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0]))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_bce_with_logits(torch, reduction, weighted, pos_weighted, device):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 3)) * 4
    x[0] = [100.0, -100.0, 0.0]  # extreme logits: finite, PyTorch's values
    y = rng.random((6, 3))
    y[0] = [0.0, 1.0, 0.5]
    kw, tkw = {}, {}
    if weighted:
        w = rng.random(3) + 0.5
        kw["weight"], tkw["weight"] = ag.tensor(w, device=device), torch.tensor(w)
    if pos_weighted:
        pw = rng.random(3) * 3
        kw["pos_weight"], tkw["pos_weight"] = ag.tensor(pw, device=device), torch.tensor(pw)
    a, t = _pair(torch, x, device)
    b, u = _pair(torch, y, device)
    out = nn.BCEWithLogitsLoss(reduction=reduction, **kw)(a, b)
    assert np.isfinite(to_numpy(out)).all()
    _check(out, torch.nn.BCEWithLogitsLoss(reduction=reduction, **tkw)(t, u), [a, b], [t, u])
    assert np.isfinite(to_numpy(a.grad)).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [
    {}, {"ignore_index": 1}, {"label_smoothing": 0.2}, {"weight": True},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.1},
])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (4,)])
def test_cross_entropy_indices(torch, reduction, opts, shape, device):
    rng = np.random.default_rng(6)
    x = rng.standard_normal(shape) * 3
    C = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0],) + shape[2:] if len(shape) > 1 else ()
    tgt = rng.integers(0, C, tshape)
    kw, tkw = dict(opts), dict(opts)
    if opts.get("weight"):
        w = rng.random(C) + 0.5
        kw["weight"], tkw["weight"] = ag.tensor(w, device=device), torch.tensor(w)
    a, t = _pair(torch, x, device)
    out = nn.CrossEntropyLoss(reduction=reduction, **kw)(a, ag.tensor(tgt, device=device))
    tout = torch.nn.CrossEntropyLoss(reduction=reduction, **tkw)(t, torch.tensor(tgt))
    _check(out, tout, [a], [t])


def test_cross_entropy_extreme_logits(torch):
    x = np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0], [0.0, -1000.0, 1000.0]])
    tgt = np.array([0, 1, 2])
    a, t = _pair(torch, x)
    out = F.cross_entropy(a, ag.tensor(tgt))
    tout = torch.nn.functional.cross_entropy(t, torch.tensor(tgt))
    assert np.isfinite(out.item())
    _check(out, tout, [a], [t])
    assert np.isfinite(to_numpy(a.grad)).all()


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"label_smoothing": 0.3}, {"weight": True}])
def test_cross_entropy_probabilities(torch, reduction, opts, device):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 4, 2))
    p = rng.random((5, 4, 2))
    p /= p.sum(1, keepdims=True)
    kw, tkw = dict(opts), dict(opts)
    if opts.get("weight"):
        w = rng.random(4) + 0.5
        kw["weight"], tkw["weight"] = ag.tensor(w, device=device), torch.tensor(w)
    a, t = _pair(torch, x, device)
    b, u = _pair(torch, p, device)
    out = F.cross_entropy(a, b, reduction=reduction, **kw)
    tout = torch.nn.functional.cross_entropy(t, u, reduction=reduction, **tkw)
    _check(out, tout, [a, b], [t, u])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"ignore_index": 0}, {"weight": True}])
def test_nll_loss(torch, reduction, opts, device):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((6, 3))
    tgt = rng.integers(0, 3, 6)
    kw, tkw = dict(opts), dict(opts)
    if opts.get("weight"):
        w = rng.random(3) + 0.5
        kw["weight"], tkw["weight"] = ag.tensor(w, device=device), torch.tensor(w)
    a, t = _pair(torch, x, device)
    out = nn.NLLLoss(reduction=reduction, **kw)(a, ag.tensor(tgt, device=device))
    tout = torch.nn.NLLLoss(reduction=reduction, **tkw)(t, torch.tensor(tgt))
    _check(out, tout, [a], [t])


def test_loss_node_names():
    x = ag.randn(3, 2, requires_grad=True)
    assert F.mse_loss(x, ag.zeros(3, 2)).grad_fn.name == "MseLossBackward0"
    assert F.cross_entropy(x, ag.tensor([0, 1, 1])).grad_fn.name == "NllLossBackward0"


def test_loss_errors():
    x = ag.randn(3, 4)
    with pytest.raises(IndexError, match="Target 4 is out of bounds"):
        F.cross_entropy(x, ag.tensor([0, 4, 1]))
    with pytest.raises(ValueError, match="expected target of shape"):
        F.cross_entropy(x, ag.tensor([0, 1]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match="must be the same as input size"):
        F.binary_cross_entropy_with_logits(x, ag.zeros(3))
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(x, ag.zeros(4))


def _gradgradcheck(fn, inputs):
    """Second derivatives against central differences of first derivatives: the
    vector-Jacobian product (inputs, v) -> J^T v must itself pass gradcheck."""
    inputs = tuple(inputs)
    with ag.no_grad():
        out = fn(*inputs)
    v = ag.tensor(np.random.default_rng(9).standard_normal(tuple(out.shape)), requires_grad=True)
    diff = [i for i, t in enumerate(inputs) if t.requires_grad]
    n = len(inputs)

    def vjp(*args):
        with enable_grad():  # the numerical side runs under no_grad
            xs, vv = args[:n], args[n]
            gs = grad([fn(*xs)], [xs[i] for i in diff], [vv], create_graph=True, allow_unused=True)
            return tuple(g for g in gs if g is not None)

    return gradcheck(vjp, inputs + (v,))


def _t(arr, g=True):
    return ag.tensor(arr, dtype=ag.float64, requires_grad=g)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_losses_second_order(reduction):
    rng = np.random.default_rng(10)
    x, y = _t(rng.standard_normal((3, 4))), _t(rng.random((3, 4)))
    w, pw = rng.random(4) + 0.5, rng.random(4) * 2
    r = reduction
    checks = [
        (lambda a, b: F.mse_loss(a, b, reduction=r), (x, y)),
        (lambda a, b: F.l1_loss(a, b, reduction=r), (x, y)),
        (lambda a, b: F.huber_loss(a, b, reduction=r, delta=0.5), (x, y)),
        (lambda a, b: F.binary_cross_entropy(a.sigmoid(), b, weight=ag.tensor(w), reduction=r), (x, y)),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=r), (x, y)),
        (lambda a, b: F.binary_cross_entropy_with_logits(
            a, b, weight=ag.tensor(w), pos_weight=ag.tensor(pw), reduction=r), (x, y)),
        (lambda a: F.cross_entropy(a, ag.tensor([0, 3, 1]), weight=ag.tensor(w), reduction=r,
                                   label_smoothing=0.1, ignore_index=1), (x,)),
        (lambda a, b: F.cross_entropy(a, b.softmax(1), reduction=r, label_smoothing=0.2), (x, y)),
        (lambda a: F.nll_loss(a.log_softmax(1), ag.tensor([0, 3, 1]), reduction=r), (x,)),
    ]
    for fn, ins in checks:
        assert gradcheck(fn, ins)
        assert _gradgradcheck(fn, ins)
        assert gradgradcheck(fn, ins)


# ---------------------------------------------------------------- Module API


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.blocks = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 2)])
        self.scale = nn.Parameter(ag.ones(2))
        self.register_buffer("running", ag.zeros(2))
        self.register_buffer("tmp", ag.zeros(1), persistent=False)
        self.shared = self.fc1  # the same module twice: counted once

    def forward(self, x):
        h = self.act(self.fc1(x))
        for b in self.blocks:
            h = b(h)
        return h * self.scale


def test_module_traversal_and_state_dict():
    net = _Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "blocks.0.weight", "blocks.0.bias",
                     "blocks.1.weight", "blocks.1.bias"]
    assert len(list(net.parameters())) == 7
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "blocks", "blocks.0", "blocks.1"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "blocks"]
    sd = net.state_dict()
    assert list(sd) == ["scale", "running", "fc1.weight", "fc1.bias", "blocks.0.weight",
                        "blocks.0.bias", "blocks.1.weight", "blocks.1.bias", "shared.weight", "shared.bias"]
    assert not any(v.requires_grad for v in sd.values())
    other = _Net()
    res = other.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    x = ag.randn(5, 3)
    np.testing.assert_array_equal(to_numpy(other(x)), to_numpy(net(x)))
    bad = dict(sd)
    bad["fc1.weight"] = ag.zeros(2, 2)
    with pytest.raises(RuntimeError, match="size mismatch for fc1.weight"):
        other.load_state_dict(bad)
    del bad["fc1.weight"]
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "fc1.weight"'):
        other.load_state_dict(bad)
    assert other.load_state_dict(bad, strict=False).missing_keys == ["fc1.weight"]


def test_module_state_dict_keys_match_torch(torch):
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(m.state_dict()) == list(tm.state_dict())
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in tm.named_parameters()]


def test_train_eval_to_zero_grad_and_repr():
    net = _Net()
    assert net.training and net.fc1.training
    net.eval()
    assert not net.training and not net.blocks[0].training
    net.train()
    assert net.blocks[1].training
    p = net.fc1.weight
    net.double()
    assert net.fc1.weight is p and p.dtype == ag.float64 and net.running.dtype == ag.float64
    net(ag.randn(2, 3, dtype=ag.float64)).sum().backward()
    assert p.grad is not None
    net.zero_grad()
    assert p.grad is None
    net.float()
    assert p.dtype == ag.float32
    with pytest.raises(TypeError, match="floating point"):
        net.to(ag.int64)
    r = repr(net)
    assert "(fc1): Linear(in_features=3, out_features=4, bias=True)" in r
    assert "(blocks): ModuleList(" in r
    assert repr(nn.Parameter(ag.ones(1))).startswith("Parameter containing:\ntensor([1.]")


def test_attribute_errors():
    net = _Net()
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        net.nope
    with pytest.raises(TypeError, match="cannot assign 'int' as parameter 'scale'"):
        net.scale = 3
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_forward_hooks():
    lin = nn.Linear(3, 2)
    seen = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
    h2 = lin.register_forward_hook(lambda m, args, out: seen.append((args[0], out)) or out + 1)
    x = ag.ones(1, 3)
    y = lin(x)
    W, b = to_numpy(lin.weight), to_numpy(lin.bias)
    expect = (2 * np.ones((1, 3))) @ W.T + b + 1  # (NumPy: not the library's own linear)
    np.testing.assert_allclose(to_numpy(y), expect, rtol=1e-6)
    np.testing.assert_array_equal(to_numpy(seen[0][0]), 2.0)
    h1.remove()
    h2.remove()
    np.testing.assert_allclose(to_numpy(lin(x)), np.ones((1, 3)) @ W.T + b, rtol=1e-6)
    assert len(seen) == 1


def test_full_backward_hook_matches_torch(torch):
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    _copy_params(m, tm, torch)
    got, tgot = [], []
    m[1].register_full_backward_hook(lambda mod, gi, go: got.append((gi, go)))
    tm[1].register_full_backward_hook(lambda mod, gi, go: tgot.append((gi, go)))
    # doubling grad_input changes the gradients of everything before the module
    m[1].register_full_backward_hook(lambda mod, gi, go: tuple(g * 2 for g in gi))
    tm[1].register_full_backward_hook(lambda mod, gi, go: tuple(g * 2 for g in gi))
    a, t = _pair(torch, np.random.default_rng(11).standard_normal((5, 3)))
    _check(m(a).sum(), tm(t).sum(), [a] + list(m.parameters()), [t] + list(tm.parameters()))
    assert len(got) == len(tgot) == 1
    for ours, theirs in zip(got[0], tgot[0]):
        assert len(ours) == len(theirs)
        for g, tg in zip(ours, theirs):
            np.testing.assert_allclose(to_numpy(g), tg.numpy(), rtol=1e-10)


def test_full_backward_hook_on_input_without_grad():
    lin = nn.Linear(3, 2)
    got = []
    lin.register_full_backward_hook(lambda mod, gi, go: got.append((gi, go)))
    lin(ag.ones(4, 3)).sum().backward()
    assert len(got) == 1 and got[0][0] == (None,)
    np.testing.assert_array_equal(to_numpy(got[0][1][0]), np.ones((4, 2)))


# ---------------------------------------------------------------- init


def test_init_functions(torch):
    ag.manual_seed(0)
    t = ag.empty(300, 200)
    nn.init.zeros_(t)
    assert float(t.abs().sum()) == 0
    nn.init.ones_(t)
    assert float(t.sum()) == 60000
    nn.init.constant_(t, 0.5)
    assert float(t.mean()) == 0.5
    nn.init.uniform_(t, -2, 3)
    assert -2 <= float(t.min()) and float(t.max()) <= 3
    nn.init.normal_(t, 1.0, 0.5)
    assert abs(float(t.mean()) - 1.0) < 0.01 and abs(float(t.std()) - 0.5) < 0.01
    for fn, kw, tstd in [
        (nn.init.xavier_uniform_, {"gain": 2.0}, 2.0 * np.sqrt(2.0 / 500)),
        (nn.init.xavier_normal_, {}, np.sqrt(2.0 / 500)),
        (nn.init.kaiming_uniform_, {"nonlinearity": "relu"}, np.sqrt(2.0 / 200)),
        (nn.init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, np.sqrt(2.0 / 300)),
    ]:
        fn(t, **kw)
        # PyTorch's init of the same shape has the same spread
        tt = getattr(torch.nn.init, fn.__name__)(torch.empty(300, 200), **kw)
        np.testing.assert_allclose(float(t.std()), tstd, rtol=0.03)
        np.testing.assert_allclose(float(tt.std()), tstd, rtol=0.03)
    for nl, arg in [("relu", None), ("tanh", None), ("leaky_relu", 0.2), ("sigmoid", None), ("selu", None)]:
        assert nn.init.calculate_gain(nl, arg) == pytest.approx(torch.nn.init.calculate_gain(nl, arg))
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(ag.empty(3))
    p = nn.Parameter(ag.zeros(3, 3))
    nn.init.normal_(p)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
