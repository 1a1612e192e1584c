"""Work on CUDA tensors runs on their own device, whichever device is current (PyTorch's
rule; CuPy's is the current device): every op of the op table and the nn layers, losses and
utilities on cuda:1 while cuda:0 is current, with outputs and gradients left on cuda:1; the
C tape's gradient sums and .grad writes on the gradients' own device, in place where nobody
else sees the array (as on the CPU); loss.backward()'s fast path for a 0-d CUDA loss. On a
machine without a GPU these run against the strict CuPy stand-in (tests/cupy_standin), which
refuses an operand that is not on the current device.
"""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd import _tape
from conftest import needs_two_devices, to_numpy
from op_db import OPS, Lib, case_samples

nn, F = ag.nn, ag.nn.functional

pytestmark = pytest.mark.gpu


def test_gradients_summed_on_another_device_than_the_outputs_stay_there():
    needs_two_devices()
    x = ag.tensor([1.0, 2.0], device="cuda:0", requires_grad=True)
    y = x.to("cuda:1")
    loss = ((y * y).sum() + (y * 3).sum()).to("cuda:0")  # y's two gradients meet on cuda:1
    loss.backward()
    assert x.grad.device == ag.device("cuda:0")
    assert to_numpy(x.grad).tolist() == [5.0, 7.0]  # 2 y + 3


def test_a_leaf_on_another_device_accumulates_there():
    needs_two_devices()
    w = ag.tensor([1.0, 2.0], device="cuda:1", requires_grad=True)
    for _ in range(2):  # the second backward adds into the existing .grad, on cuda:1
        ((w * w).sum() + w.sum()).to("cuda:0").backward()
    assert w.grad.device == ag.device("cuda:1")
    assert to_numpy(w.grad).tolist() == [6.0, 10.0]  # twice 2 w + 1


class _Fresh(ag.autograd.Function):
    """Identity whose backward returns a new array: its address is noted in `made`, and the
    array itself is also kept in `held` when the forward was told to hold it."""
    made, held = [], []

    @staticmethod
    def forward(ctx, x, hold):
        ctx.hold = hold
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        out = g * 1.0
        _Fresh.made.append(ag.backend.data_ptr(out._data))
        if ctx.hold:
            _Fresh.held.append(out)
        return out, None


def test_a_leafs_second_gradient_is_summed_in_place_into_a_cuda_array_nobody_else_sees():
    _Fresh.made.clear()
    x = ag.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (_Fresh.apply(x, False) * 2 + _Fresh.apply(x, False) * 3).sum().backward()
    assert to_numpy(x.grad).tolist() == [5.0, 5.0]
    # the first gradient's own array took the second and became .grad (no new array)
    assert ag.backend.data_ptr(x.grad._data) == _Fresh.made[0]


def test_an_array_someone_else_holds_is_never_summed_into_on_cuda():
    _Fresh.made.clear()
    _Fresh.held.clear()
    x = ag.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (_Fresh.apply(x, True) * 2 + _Fresh.apply(x, True) * 3).sum().backward()
    assert to_numpy(x.grad).tolist() == [5.0, 5.0]
    assert sorted(to_numpy(h).tolist() for h in _Fresh.held) == [[2.0, 2.0], [3.0, 3.0]]
    assert ag.backend.data_ptr(x.grad._data) not in _Fresh.made


@pytest.mark.parametrize("device", ["cuda:0", "cuda:1"])
def test_loss_backward_of_a_0d_cuda_loss_runs_the_fast_path_on_its_device(device):
    if device == "cuda:1":
        needs_two_devices()
    w = ag.tensor([[1.0, -2.0], [0.5, 3.0]], device=device, requires_grad=True)
    loss = (w.tanh() * w).sum()
    assert _tape.backward_scalar(loss, False, False) is True
    assert w.grad.device == ag.device(device)
    ref = ag.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    (ref.tanh() * ref).sum().backward()
    np.testing.assert_allclose(to_numpy(w.grad), to_numpy(ref.grad), rtol=1e-15, atol=0)
    # a 1-element tensor that is not 0-d, and a leaf, are left to the general path
    assert _tape.backward_scalar((w * 1.0).sum().reshape(1), False, False) is False
    assert _tape.backward_scalar(w, False, False) is False


# ---------------------------------------------------------------- every op, on cuda:1

ON_1 = [c for c in OPS if "ndarray" not in c.tags]


@pytest.mark.parametrize("case", ON_1, ids=lambda c: c.name)
def test_every_op_runs_on_its_inputs_device(case):
    needs_two_devices()
    assert ag.cuda.current_device() == 0
    here = ag.device("cuda:1")
    AG = Lib(ag, F)
    for sample in case_samples(case)[:2]:
        xs = [ag.tensor(a, dtype=ag.float64, device=here, requires_grad=True) for a in sample.arrays]
        views = sample.views or (None,) * len(xs)
        out = case.op(AG, *[v(x) if v is not None else x for v, x in zip(views, xs)])
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        assert all(o.device == here for o in outs), (sample.desc, [o.device for o in outs])
        fo = [o for o in outs if o.dtype.is_floating_point and o.requires_grad]
        if not fo:
            continue
        gs = ag.autograd.grad(fo, xs, [ag.ones_like(o) for o in fo], allow_unused=True,
                              retain_graph=True)
        assert all(g is None or g.device == here for g in gs), sample.desc
        sum((o * 1.0).sum() for o in fo).backward()  # the fast path and .grad writes too
        assert all(x.grad is None or x.grad.device == here for x in xs), sample.desc


LAYERS = {
    "conv2d, batchnorm, pools, linear": (
        lambda: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                              nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(4, 3)), lambda: ag.randn(2, 3, 8, 8)),
    "conv1d, groupnorm, avgpool, conv_transpose1d": (
        lambda: nn.Sequential(nn.Conv1d(3, 4, 3), nn.GroupNorm(2, 4), nn.AvgPool1d(2),
                              nn.ConvTranspose1d(4, 2, 3)), lambda: ag.randn(2, 3, 10)),
    "conv_transpose2d, layernorm": (
        lambda: nn.Sequential(nn.ConvTranspose2d(3, 2, 3, stride=2), nn.LayerNorm([2, 9, 9])),
        lambda: ag.randn(2, 3, 4, 4)),
    "embedding": (lambda: nn.Embedding(10, 4, padding_idx=0),
                  lambda: ag.tensor([[1, 2, 0], [3, 4, 5]])),
    "lstm": (lambda: nn.LSTM(4, 5, num_layers=2, bidirectional=True), lambda: ag.randn(3, 2, 4)),
    "gru": (lambda: nn.GRU(4, 5, batch_first=True), lambda: ag.randn(2, 3, 4)),
    "transformer encoder layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
                                  lambda: ag.randn(3, 2, 8)),
    "upsample bilinear": (lambda: nn.Upsample(scale_factor=2, mode="bilinear"),
                          lambda: ag.randn(1, 2, 3, 3)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layers_on_the_second_device_stay_there(name):
    needs_two_devices()
    here = ag.device("cuda:1")
    make, data = LAYERS[name]
    ag.manual_seed(0)
    m = make().to(here)
    x = data().to(here)
    if x.dtype.is_floating_point:
        x.requires_grad_()
    out = m(x)
    out = out[0] if isinstance(out, tuple) else out
    assert out.device == here
    out.sum().backward()
    assert all(p.grad.device == here for p in m.parameters() if p.grad is not None)
    assert all(b.device == here for b in m.buffers())


LOSSES = {
    "cross_entropy": lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
    "nll_loss": lambda x, t: F.nll_loss(F.log_softmax(x, 1), t),
    "binary_cross_entropy": lambda x, t: F.binary_cross_entropy(x.sigmoid(), x.detach().sigmoid()),
    "smooth_l1_loss": lambda x, t: F.smooth_l1_loss(x, x.detach() * 0),
    "kl_div": lambda x, t: F.kl_div(F.log_softmax(x, 1), F.softmax(x.detach() * 2, 1),
                                    reduction="batchmean"),
    "one_hot": lambda x, t: (F.one_hot(t, 5) * x).sum(),
    "pad": lambda x, t: F.pad(x, (1, 1)).sum(),
    "normalize": lambda x, t: F.normalize(x).sum(),
    "cosine_similarity": lambda x, t: F.cosine_similarity(x, x + 1).sum(),
    "margin_ranking_loss": lambda x, t: F.margin_ranking_loss(x[0], x[1], x.detach()[2].sign()),
    "gaussian_nll_loss": lambda x, t: F.gaussian_nll_loss(x, x.detach() * 0, x.detach() ** 2 + 1),
    "poisson_nll_loss": lambda x, t: F.poisson_nll_loss(x, x.detach().abs()),
    "multilabel_soft_margin_loss": lambda x, t: F.multilabel_soft_margin_loss(
        x, (x.detach() > 0).float()),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_and_functions_on_the_second_device_stay_there(name):
    needs_two_devices()
    here = ag.device("cuda:1")
    x = ag.randn(4, 5, device=here, requires_grad=True)
    t = ag.tensor([1, 0, 4, 2], device=here)
    loss = LOSSES[name](x, t)
    assert loss.device == here
    loss.backward()
    assert x.grad.device == here


def test_gradient_clipping_and_flattening_on_the_second_device():
    needs_two_devices()
    here = ag.device("cuda:1")
    m = nn.Linear(3, 2).to(here)
    m(ag.randn(4, 3, device=here)).sum().backward()
    total = nn.utils.clip_grad_norm_(m.parameters(), 0.1)
    assert total.device == here
    nn.utils.clip_grad_value_(m.parameters(), 0.01)
    assert all(p.grad.device == here and float(p.grad.abs().max()) <= 0.01 for p in m.parameters())
    assert nn.utils.parameters_to_vector(m.parameters()).device == here
    m.weight.data.add_(1.0)  # an in-place method with nothing that requires grad
    assert m.weight.device == here


TENSOR_CALLS = {
    "randn_like": lambda x: ag.randn_like(x),
    "bernoulli": lambda x: ag.bernoulli(x.sigmoid()),
    "multinomial": lambda x: ag.multinomial(x.softmax(1), 2),
    "normal_": lambda x: x.clone().normal_(),
    "uniform_": lambda x: x.clone().uniform_(),
    "kaiming_uniform_": lambda x: nn.init.kaiming_uniform_(x.clone()),
    "xavier_normal_": lambda x: nn.init.xavier_normal_(x.clone()),
    "orthogonal_": lambda x: nn.init.orthogonal_(x.clone()),
    "Categorical.sample": lambda x: ag.distributions.Categorical(logits=x).sample(),
    "deepcopy": lambda x: __import__("copy").deepcopy(x),
    "copy_ from cuda:0": lambda x: x.clone().copy_(ag.ones(3, 4, device="cuda:0")),
    "allclose, equal": lambda x: x if ag.allclose(x, x) and ag.equal(x, x) else None,
}


@pytest.mark.parametrize("name", sorted(TENSOR_CALLS))
def test_sampling_init_and_copies_on_the_second_device_stay_there(name):
    needs_two_devices()
    here = ag.device("cuda:1")
    x = ag.randn(3, 4, device=here)
    assert TENSOR_CALLS[name](x).device == here


def test_an_index_on_another_cuda_device_is_refused_as_in_pytorch():
    needs_two_devices()
    x = ag.arange(6.0, device="cuda:1").reshape(2, 3)
    assert to_numpy(x[ag.tensor([1, 0])]).tolist() == [[3, 4, 5], [0, 1, 2]]  # a CPU index
    msg = r"indices should be either on cpu or on the same device as the indexed tensor \(cuda:1\)"
    with pytest.raises(RuntimeError, match=msg):
        x[ag.tensor([0], device="cuda:0")]
    with pytest.raises(RuntimeError, match=msg):
        x[ag.tensor([0], device="cuda:0")] = 1.0
    assert to_numpy(x).tolist() == [[0, 1, 2], [3, 4, 5]]
