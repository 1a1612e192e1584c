"""Normalization layers (BatchNorm, InstanceNorm, LayerNorm, GroupNorm) and Embedding /
one_hot against torch.nn: values and gradients (float64 and float32), running statistics
over several training steps, eval mode, first and second derivatives, reprs, state_dict
keys and PyTorch's error messages."""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from autograd_gpu.autograd import gradcheck, gradgradcheck
from autograd_gpu.nn import functional as F
from conftest import to_numpy

# float32 against PyTorch's float32: normalization divides by a std computed in float32
# (NumPy's pairwise sums, PyTorch's Welford), so a few ulp of O(1) values
F32 = dict(rtol=1e-4, atol=1e-5)
F64 = dict(rtol=1e-9, atol=1e-11)


def _copy_state(ours, theirs, device):
    """Loads a PyTorch module's state_dict (via NumPy) into ours."""
    sd = {k: ag.tensor(v.detach().numpy().copy(), device=device) for k, v in theirs.state_dict().items()}
    ours.load_state_dict(sd)


def _randomize(theirs, torch, seed=0):
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)) * 0.5 + 1.0))


def _compare_step(ours, theirs, torch, x, device, tol, seed=1):
    """One forward and backward of both on the same input and output gradient; checks the
    output, the input's gradient and every parameter's gradient."""
    dtype = ag.float64 if x.dtype == np.float64 else ag.float32
    a = ag.tensor(x, dtype=dtype, device=device, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    y, ty = ours(a), theirs(t)
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), **tol)
    g = np.random.default_rng(seed).standard_normal(tuple(ty.shape)).astype(x.dtype)
    y.backward(ag.tensor(g, device=device))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(to_numpy(a.grad), t.grad.numpy(), **tol)
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == m
        np.testing.assert_allclose(to_numpy(p.grad), q.grad.numpy(), **tol, err_msg=n)
    return y, ty


NORM_CASES = [
    ("BatchNorm1d", (3,), {}, (5, 3)),
    ("BatchNorm1d", (3,), {"momentum": None}, (4, 3, 6)),
    ("BatchNorm1d", (3,), {"affine": False}, (4, 3, 2)),
    ("BatchNorm1d", (3,), {"bias": False, "eps": 1e-3}, (4, 3)),
    ("BatchNorm2d", (2,), {"momentum": 0.3}, (3, 2, 4, 5)),
    ("BatchNorm2d", (2,), {"track_running_stats": False}, (3, 2, 2, 2)),
    ("BatchNorm3d", (2,), {}, (2, 2, 3, 2, 2)),
    ("InstanceNorm1d", (3,), {"affine": True}, (2, 3, 6)),
    ("InstanceNorm1d", (3,), {"track_running_stats": True}, (2, 3, 5)),
    ("InstanceNorm2d", (2,), {"affine": True, "track_running_stats": True}, (3, 2, 3, 4)),
    ("LayerNorm", (6,), {}, (4, 6)),
    ("LayerNorm", ((3, 4),), {"eps": 1e-3}, (2, 5, 3, 4)),
    ("LayerNorm", (4,), {"bias": False}, (3, 4)),
    ("LayerNorm", (4,), {"elementwise_affine": False}, (2, 3, 4)),
    ("GroupNorm", (2, 6), {}, (3, 6, 4)),
    ("GroupNorm", (3, 3), {"affine": False}, (2, 3, 2, 2)),
    ("GroupNorm", (1, 4), {}, (2, 4)),
]
NORM_IDS = [f"{n}-{i}" for i, (n, *_) in enumerate(NORM_CASES)]


@pytest.mark.parametrize("name,args,kw,shape", NORM_CASES, ids=NORM_IDS)
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_norm_layers_train_and_eval_match_torch(torch, device, name, args, kw, shape, precision):
    """Three training steps (values, input and parameter gradients, running statistics and
    num_batches_tracked after each), then eval mode, then the reprs and state_dict keys."""
    np_dtype = np.float64 if precision == "float64" else np.float32
    tol = F64 if precision == "float64" else F32
    theirs = getattr(torch.nn, name)(*args, **kw).to(getattr(torch, precision))
    _randomize(theirs, torch)
    ours = getattr(nn, name)(*args, **kw).to(getattr(ag, precision)).to(device)
    _copy_state(ours, theirs, device)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    rng = np.random.default_rng(2)
    for step in range(3):
        x = (rng.standard_normal(shape) * 2 + 0.5).astype(np_dtype)
        y, ty = _compare_step(ours, theirs, torch, x, device, tol, seed=step)
        assert y.grad_fn.name == type(ty.grad_fn).__name__
        for (k, v), (k2, v2) in zip(ours.state_dict().items(), theirs.state_dict().items()):
            assert k == k2 and to_numpy(v).dtype == v2.numpy().dtype, k
            np.testing.assert_allclose(to_numpy(v), v2.numpy(), **tol, err_msg=k)
    ours.eval()
    theirs.eval()
    x = rng.standard_normal(shape).astype(np_dtype)
    _compare_step(ours, theirs, torch, x, device, tol, seed=9)


def test_batchnorm_running_var_is_unbiased_and_momentum_none_is_cumulative(device):
    """Known values: running_mean/var after batches of known mean and variance."""
    bn = nn.BatchNorm1d(1, momentum=None).double().to(device)
    batches = [np.array([[1.0], [3.0]]), np.array([[0.0], [4.0], [8.0]])]
    for b in batches:
        bn(ag.tensor(b, device=device))
    # cumulative average of the batch means (2, 4) and unbiased variances (2, 16)
    np.testing.assert_allclose(to_numpy(bn.running_mean), [3.0])
    np.testing.assert_allclose(to_numpy(bn.running_var), [9.0])
    assert bn.num_batches_tracked.item() == 2 and bn.num_batches_tracked.dtype == ag.int64
    # normalization uses the biased variance of the batch: [-1, 1] / sqrt(1 + eps)
    y = bn(ag.tensor(batches[0], device=device))
    np.testing.assert_allclose(to_numpy(y)[:, 0], np.array([-1.0, 1.0]) / np.sqrt(1 + 1e-5))
    bn.eval()  # eval: (x - 11/3) / sqrt(running_var + eps) with the three batches' averages
    y = bn(ag.tensor([[5.0]], dtype=ag.float64, device=device))
    np.testing.assert_allclose(to_numpy(y), [[(5.0 - 8 / 3) / np.sqrt(20 / 3 + 1e-5)]])


def test_batchnorm_eval_without_running_stats_uses_batch_statistics(torch):
    ours, theirs = nn.BatchNorm1d(2, track_running_stats=False).double(), torch.nn.BatchNorm1d(2, track_running_stats=False).double()
    ours.eval()
    theirs.eval()
    x = np.random.default_rng(0).standard_normal((4, 2))
    np.testing.assert_allclose(to_numpy(ours(ag.tensor(x))), theirs(torch.tensor(x)).detach().numpy(), **F64)


def test_running_buffers_updated_in_place():
    bn = nn.BatchNorm1d(2)
    mean = bn.running_mean
    v = mean._version_number
    bn(ag.randn(4, 2))
    assert bn.running_mean is mean and mean._version_number == v + 1
    assert not np.allclose(to_numpy(mean), 0)


# ---------------------------------------------------------------- first and second derivatives


def _inputs(rng, *shapes):
    return [ag.tensor(rng.standard_normal(s), dtype=ag.float64, requires_grad=True) for s in shapes]


GRAD_CASES = {
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(4, 3), (3,), (3,)]),
    "batch_norm_train_3d": (lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [(3, 2, 2), (2,), (2,)]),
    "batch_norm_no_affine": (lambda x: F.batch_norm(x, None, None, training=True), [(3, 2, 3)]),
    "batch_norm_eval": (lambda x, w, b: F.batch_norm(x, ag.tensor([0.5, -1.0], dtype=ag.float64),
                                                     ag.tensor([2.0, 0.3], dtype=ag.float64), w, b),
                        [(3, 2, 2), (2,), (2,)]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (3,), w, b), [(2, 3), (3,), (3,)]),
    "layer_norm_2d": (lambda x, w: F.layer_norm(x, (2, 3), w), [(2, 2, 3), (2, 3)]),
    "layer_norm_plain": (lambda x: F.layer_norm(x, 4), [(3, 4)]),
    "group_norm": (lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    "group_norm_one_group": (lambda x: F.group_norm(x, 1), [(2, 3, 2)]),
    "instance_norm": (lambda x, w, b: F.instance_norm(x, weight=w, bias=b), [(2, 3, 4), (3,), (3,)]),
}


@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_norm_gradcheck_and_gradgradcheck(case):
    fn, shapes = GRAD_CASES[case]
    inputs = _inputs(np.random.default_rng(3), *shapes)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_norm_double_backward_matches_torch(torch):
    """Second derivatives (create_graph=True) of batch_norm and layer_norm equal PyTorch's."""
    rng = np.random.default_rng(4)
    xs, ws, bs = rng.standard_normal((4, 3, 2)), rng.standard_normal(3), rng.standard_normal(3)
    g = rng.standard_normal((4, 3, 2))
    for ours_fn, torch_fn in [
        (lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
         lambda x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, True)),
        (lambda x, w, b: F.group_norm(x, 3, w, b), lambda x, w, b: torch.nn.functional.group_norm(x, 3, w, b)),
    ]:
        a = [ag.tensor(v, requires_grad=True) for v in (xs, ws, bs)]
        t = [torch.tensor(v, requires_grad=True) for v in (xs, ws, bs)]
        ga = ag.autograd.grad(ours_fn(*a), a, ag.tensor(g), create_graph=True)
        gt = torch.autograd.grad(torch_fn(*t), t, torch.tensor(g), create_graph=True)
        sa = sum((u * u).sum() for u in ga[:2])
        st = sum((u * u).sum() for u in gt[:2])
        for u, v in zip(ag.autograd.grad(sa, a[:2]), torch.autograd.grad(st, t[:2])):
            np.testing.assert_allclose(to_numpy(u), v.numpy(), rtol=1e-8, atol=1e-10)


# ---------------------------------------------------------------- errors


def _same_error(torch, ours_call, torch_call):
    with pytest.raises(Exception) as theirs:
        torch_call()
    with pytest.raises(type(theirs.value)) as mine:
        ours_call()
    assert str(mine.value) == str(theirs.value)


NORM_ERRORS = [
    lambda m: m.nn.BatchNorm1d(3)(m.randn(1, 3)),
    lambda m: m.nn.BatchNorm1d(3)(m.randn(2, 4)),
    lambda m: m.nn.BatchNorm1d(3)(m.randn(2, 3, 4, 5)),
    lambda m: m.nn.BatchNorm2d(3)(m.randn(2, 3, 4)),
    lambda m: m.nn.BatchNorm3d(3)(m.randn(2, 3, 4)),
    lambda m: m.nn.LayerNorm(4)(m.randn(2, 3)),
    lambda m: m.nn.LayerNorm((3, 4))(m.randn(2, 4, 4)),
    lambda m: m.nn.GroupNorm(4, 6),
    lambda m: m.nn.GroupNorm(2, 6)(m.randn(2, 4, 3)),
    lambda m: m.nn.InstanceNorm1d(3)(m.randn(2, 3, 1)),
    lambda m: m.nn.InstanceNorm1d(3)(m.randn(2, 3, 4, 4)),
    lambda m: m.nn.InstanceNorm1d(3, affine=True)(m.randn(2, 4, 5)),
    lambda m: m.nn.functional.group_norm(m.randn(2, 6, 3), 4),
    lambda m: m.nn.functional.layer_norm(m.randn(2, 3), (3,), m.ones(4)),
]


@pytest.mark.parametrize("i", range(len(NORM_ERRORS)))
def test_norm_errors_as_torch(torch, i):
    _same_error(torch, lambda: NORM_ERRORS[i](ag), lambda: NORM_ERRORS[i](torch))


def test_instance_norm_unbatched(torch):
    x = np.random.default_rng(0).standard_normal((3, 5))
    ours, theirs = nn.InstanceNorm1d(3).double(), torch.nn.InstanceNorm1d(3).double()
    np.testing.assert_allclose(to_numpy(ours(ag.tensor(x))), theirs(torch.tensor(x)).numpy(), **F64)


# ---------------------------------------------------------------- Embedding and one_hot


EMB_CASES = [
    {}, {"padding_idx": 2}, {"padding_idx": -1, "scale_grad_by_freq": True},
    {"max_norm": 1.0}, {"max_norm": 1.5, "norm_type": 1.0}, {"scale_grad_by_freq": True},
]


@pytest.mark.parametrize("kw", EMB_CASES, ids=[str(k) for k in EMB_CASES])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_embedding_matches_torch(torch, device, kw, precision):
    """Lookup, gradient (repeated indices accumulate, padding rows get none) and, with
    max_norm, the in-place renormalization of the looked-up rows, as PyTorch."""
    tol = F64 if precision == "float64" else dict(rtol=1e-6, atol=1e-7)
    theirs = torch.nn.Embedding(6, 4, **kw).to(getattr(torch, precision))
    ours = nn.Embedding(6, 4, **kw).to(getattr(ag, precision)).to(device)
    _copy_state(ours, theirs, device)
    assert repr(ours) == repr(theirs)
    idx = np.array([[1, 2, 2, 5], [0, 5, 1, 1]])
    a = ag.tensor(idx, device=device)
    y, ty = ours(a), theirs(torch.tensor(idx))
    assert y.grad_fn.name == type(ty.grad_fn).__name__ == "EmbeddingBackward0"
    np.testing.assert_allclose(to_numpy(y), ty.detach().numpy(), **tol)
    g = np.random.default_rng(0).standard_normal(tuple(ty.shape))
    y.backward(ag.tensor(g, dtype=y.dtype, device=device))
    ty.backward(torch.tensor(g, dtype=ty.dtype))
    np.testing.assert_allclose(to_numpy(ours.weight.grad), theirs.weight.grad.numpy(), **tol)
    np.testing.assert_allclose(to_numpy(ours.weight), theirs.weight.detach().numpy(), **tol)
    if "padding_idx" in kw:
        assert not to_numpy(ours.weight.grad)[ours.padding_idx].any()


def test_embedding_padding_row_initialized_zero_and_default_init():
    ag.manual_seed(0)
    e = nn.Embedding(50, 40, padding_idx=3)
    w = to_numpy(e.weight)
    assert not w[3].any() and w[4].any()
    np.testing.assert_allclose(w.std(), 1.0, atol=0.05)  # N(0, 1), as PyTorch
    assert list(e.state_dict()) == ["weight"]


def test_embedding_max_norm_bumps_version_and_renorms_only_looked_up_rows():
    w = np.full((4, 3), 2.0)
    e = nn.Embedding.from_pretrained(ag.tensor(w), max_norm=1.0)
    v = e.weight._version_number
    e(ag.tensor([1, 1, 3]))
    norms = np.linalg.norm(to_numpy(e.weight), axis=1)
    np.testing.assert_allclose(norms[[1, 3]], 1.0, rtol=1e-6)
    np.testing.assert_allclose(norms[[0, 2]], np.sqrt(12.0))
    assert e.weight._version_number > v


def test_embedding_from_pretrained(torch):
    w = ag.tensor(np.arange(12.0).reshape(4, 3))
    frozen = nn.Embedding.from_pretrained(w)
    assert not frozen.weight.requires_grad
    np.testing.assert_array_equal(to_numpy(frozen(ag.tensor([3, 0]))), [[9, 10, 11], [0, 1, 2]])
    trained = nn.Embedding.from_pretrained(w, freeze=False, padding_idx=0)
    assert trained.weight.requires_grad and repr(trained) == repr(
        torch.nn.Embedding.from_pretrained(torch.zeros(4, 3), freeze=False, padding_idx=0))
    trained(ag.tensor([0, 1, 1])).sum().backward()
    np.testing.assert_array_equal(to_numpy(trained.weight.grad)[:, 0], [0, 2, 0, 0])
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(ag.zeros(3))


def test_embedding_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(0)
    idx = ag.tensor([[1, 2, 2], [0, 4, 1]])
    (w,) = _inputs(rng, (5, 3))
    assert gradcheck(lambda w: F.embedding(idx, w), [w])
    assert gradgradcheck(lambda w: F.embedding(idx, w) ** 2, [w])


def test_embedding_double_backward_with_padding_matches_torch(torch):
    rng = np.random.default_rng(1)
    W, idx = rng.standard_normal((5, 3)), np.array([0, 2, 2, 4])
    a, t = ag.tensor(W, requires_grad=True), torch.tensor(W, requires_grad=True)
    (ga,) = ag.autograd.grad((F.embedding(ag.tensor(idx), a, padding_idx=2) ** 3).sum(), a, create_graph=True)
    (gt,) = torch.autograd.grad((torch.nn.functional.embedding(torch.tensor(idx), t, padding_idx=2) ** 3).sum(),
                                t, create_graph=True)
    (gga,) = ag.autograd.grad((ga * ga).sum(), a)
    (ggt,) = torch.autograd.grad((gt * gt).sum(), t)
    np.testing.assert_allclose(to_numpy(gga), ggt.numpy(), rtol=1e-10)


@pytest.mark.parametrize("kw", [{"padding_idx": 1}, {"scale_grad_by_freq": True}, {}])
def test_embedding_weight_gradient_node_is_linear_with_its_adjoint_as_backward(kw):
    """The weight-gradient node (g -> scattered, scaled rows) and its backward are adjoint:
    <B(g), v> = <g, B*(v)>. (With scale_grad_by_freq this is where PyTorch differs: its
    double backward leaves the 1/count factor out.)"""
    rng = np.random.default_rng(2)
    idx = ag.tensor([[0, 2], [2, 4], [1, 2]])
    w = ag.tensor(rng.standard_normal((5, 3)), requires_grad=True)
    g = ag.tensor(rng.standard_normal((3, 2, 3)), requires_grad=True)
    (gw,) = ag.autograd.grad(F.embedding(idx, w, **kw), w, g, create_graph=True)
    v = ag.tensor(rng.standard_normal((5, 3)))
    (adj,) = ag.autograd.grad((gw * v).sum(), g)
    np.testing.assert_allclose((gw * v).sum().item(), (g * adj).sum().item(), rtol=1e-12)
    assert gradcheck(lambda g: ag.autograd.grad(F.embedding(idx, w, **kw), w, g, create_graph=True)[0], [g])


EMB_ERRORS = [
    lambda m: m.nn.Embedding(5, 3)(m.tensor([5])),
    lambda m: m.nn.Embedding(5, 3)(m.tensor([-1])),
    lambda m: m.nn.Embedding(5, 3)(m.tensor([1.0])),
    lambda m: m.nn.Embedding(5, 3, padding_idx=5),
    lambda m: m.nn.Embedding(5, 3, padding_idx=-6),
    lambda m: m.nn.functional.one_hot(m.tensor([3]), 3),
    lambda m: m.nn.functional.one_hot(m.tensor([-1]), 3),
    lambda m: m.nn.functional.one_hot(m.tensor([1.0]), 3),
    lambda m: m.nn.functional.one_hot(m.tensor([], dtype=m.int64)),
]


@pytest.mark.parametrize("i", range(len(EMB_ERRORS)))
def test_embedding_errors_as_torch(torch, i):
    _same_error(torch, lambda: EMB_ERRORS[i](ag), lambda: EMB_ERRORS[i](torch))


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot(torch, device, num_classes):
    idx = np.array([[0, 3], [1, 3], [2, 0]])
    ours = F.one_hot(ag.tensor(idx, device=device), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(idx), num_classes)
    assert ours.dtype == ag.int64 and tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
