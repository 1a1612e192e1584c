"""Attention and transformer layers against torch.nn: scaled_dot_product_attention (masks,
causal, scale, GQA, dropout), MultiheadAttention and the Transformer family with PyTorch's
state_dicts loaded (outputs, attention weights and gradients in float64 and float32),
gradcheck/gradgradcheck of sdpa and MHA at tiny sizes; LazyLinear, the added nn.init
functions and copy.deepcopy of modules; PyTorch's error messages."""
import copy
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from autograd_gpu.autograd import gradcheck, gradgradcheck
from autograd_gpu.nn import functional as F
from conftest import to_numpy

F64 = dict(rtol=1e-9, atol=1e-11)
F32 = dict(rtol=2e-3, atol=1e-5)


def _ours(t, device, requires_grad=False):
    a = ag.tensor(t.detach().numpy().copy(), device=device)
    return a.requires_grad_() if requires_grad else a


def _load(torch, theirs, ours, device):
    sd = {k: ag.tensor(v.detach().numpy().copy(), device=device) for k, v in theirs.state_dict().items()}
    assert list(sd) == list(ours.state_dict())
    ours.to(device)
    ours.load_state_dict(sd)


# ---------------------------------------------------------------- scaled_dot_product_attention

SDPA_CASES = [
    dict(),
    dict(is_causal=True),
    dict(mask="bool"),
    dict(mask="float"),
    dict(mask="bool_dead_row"),
    dict(scale=0.3),
    dict(mask="bool_batched"),
]


def _sdpa_args(torch, case, dtype, L=4, S=6, E=5, Ev=3):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, L, E, dtype=dtype, generator=g)
    k = torch.randn(2, 3, S, E, dtype=dtype, generator=g)
    v = torch.randn(2, 3, S, Ev, dtype=dtype, generator=g)
    kw = {k_: v_ for k_, v_ in case.items() if k_ != "mask"}
    m = case.get("mask")
    if m == "bool":
        kw["attn_mask"] = torch.rand(L, S, generator=g) > 0.3
        kw["attn_mask"][:, 0] = True
    elif m == "bool_dead_row":
        kw["attn_mask"] = torch.rand(L, S, generator=g) > 0.3
        kw["attn_mask"][1] = False  # a query that sees no key: output 0
    elif m == "bool_batched":
        kw["attn_mask"] = torch.rand(2, 1, L, S, generator=g) > 0.5
        kw["attn_mask"][..., 0] = True
    elif m == "float":
        kw["attn_mask"] = torch.randn(L, S, dtype=dtype, generator=g)
    return q, k, v, kw


@pytest.mark.parametrize("case", SDPA_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "plain")
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_sdpa_matches_torch(torch, device, case, precision):
    dtype = getattr(torch, precision)
    q, k, v, kw = _sdpa_args(torch, case, dtype)
    tq, tk, tv = (t.clone().requires_grad_() for t in (q, k, v))
    ref = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, **kw)
    oq, ok, ov = (_ours(t, device, True) for t in (q, k, v))
    okw = {n: (_ours(x, device) if hasattr(x, "detach") else x) for n, x in kw.items()}
    out = F.scaled_dot_product_attention(oq, ok, ov, **okw)
    tol = F64 if precision == "float64" else F32
    assert out.dtype == getattr(ag, precision) and out.device.type == device
    np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), **tol)
    w = torch.randn(ref.shape, dtype=dtype, generator=torch.Generator().manual_seed(1))
    (ref * w).sum().backward()
    (out * _ours(w, device)).sum().backward()
    for ours, theirs in ((oq, tq), (ok, tk), (ov, tv)):
        np.testing.assert_allclose(to_numpy(ours.grad), theirs.grad.numpy(), **tol)


def test_sdpa_gqa_and_unbatched(torch, device):
    g = torch.Generator().manual_seed(0)
    q = torch.randn(1, 4, 3, 2, dtype=torch.float64, generator=g)
    k = torch.randn(1, 2, 5, 2, dtype=torch.float64, generator=g)
    v = torch.randn(1, 2, 5, 2, dtype=torch.float64, generator=g)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    out = F.scaled_dot_product_attention(*(_ours(t, device) for t in (q, k, v)), enable_gqa=True)
    np.testing.assert_allclose(to_numpy(out), ref.numpy(), **F64)
    ref2 = torch.nn.functional.scaled_dot_product_attention(q[0, 0], k[0, 0], v[0, 0])
    out2 = F.scaled_dot_product_attention(*(_ours(t[0, 0], device) for t in (q, k, v)))
    np.testing.assert_allclose(to_numpy(out2), ref2.numpy(), **F64)


@pytest.mark.parametrize("case", [dict(), dict(is_causal=True), dict(mask="bool"),
                                  dict(mask="float"), dict(mask="bool_dead_row")],
                         ids=["plain", "causal", "bool", "float", "dead_row"])
def test_sdpa_gradcheck(torch, device, case):
    q, k, v, kw = _sdpa_args(torch, case, torch.float64, L=2, S=3, E=2, Ev=2)
    q, k, v = q[:1, :1], k[:1, :1], v[:1, :1]
    inputs = [_ours(t, device, True) for t in (q, k, v)]
    okw = {n: (_ours(x, device) for _ in [0]).__next__() if hasattr(x, "detach") else x
           for n, x in kw.items()}
    if case.get("mask") == "float":  # a float mask is differentiable too
        inputs.append(okw.pop("attn_mask").requires_grad_())

        def fn(q, k, v, m):
            return F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    else:
        def fn(q, k, v):
            return F.scaled_dot_product_attention(q, k, v, **okw)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_sdpa_dropout(device):
    ag.manual_seed(0)
    q = ag.randn(2, 3, 8, 4, device=device)
    v = ag.ones(2, 3, 8, 4, device=device)
    out = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5)
    # weights rows sum to 1 before dropout; kept weights are scaled by 2: the mean stays ~1
    m = float(out.mean())
    assert 0.8 < m < 1.2 and float(out.std()) > 0.1
    assert np.allclose(to_numpy(F.scaled_dot_product_attention(q, q, v)), 1.0)


def test_sdpa_errors(torch):
    q = ag.randn(1, 2, 3, 4)
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same "
                       "dtype, but got query.dtype: float key.dtype: double and value.dtype: "
                       "double instead."):
        F.scaled_dot_product_attention(q, q.double(), q.double())
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float or "
                       "to match query dtype, but got attn_mask.dtype: long int"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.ones(3, 3, dtype=ag.int64))
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=ag.ones(3, 3, dtype=ag.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide"):
        F.scaled_dot_product_attention(ag.randn(1, 4, 3, 4), ag.randn(1, 3, 3, 4),
                                       ag.randn(1, 3, 3, 4), enable_gqa=True)


# ---------------------------------------------------------------- MultiheadAttention

MHA_CASES = [
    (dict(), dict()),
    (dict(batch_first=True), dict(key_padding_mask=True)),
    (dict(), dict(attn_mask="causal", average_attn_weights=False)),
    (dict(), dict(attn_mask="causal", key_padding_mask=True, need_weights=False)),
    (dict(), dict(attn_mask="causal", is_causal=True, need_weights=False)),
    (dict(kdim=3, vdim=5), dict(cross=True)),
    (dict(add_bias_kv=True, add_zero_attn=True), dict(key_padding_mask=True, attn_mask="bool3d")),
    (dict(bias=False), dict(cross=True, need_weights=False)),
    (dict(), dict(unbatched=True, attn_mask="causal")),
]


def _mha_inputs(torch, mod_kw, call_kw, dtype, E=4, H=2, L=3, S=5, N=2):
    g = torch.Generator().manual_seed(3)
    bf = mod_kw.get("batch_first", False)
    unb = call_kw.get("unbatched", False)

    def seq(n, d):
        if unb:
            return torch.randn(n, d, dtype=dtype, generator=g)
        return torch.randn(N, n, d, dtype=dtype, generator=g) if bf else torch.randn(n, N, d, dtype=dtype, generator=g)

    cross = call_kw.get("cross", False)
    q = seq(L, E)
    if cross:
        k, v = seq(S, mod_kw.get("kdim", E)), seq(S, mod_kw.get("vdim", E))
        src = S
    else:
        k = v = q
        src = L
    kw = {}
    for name in ("need_weights", "average_attn_weights", "is_causal"):
        if name in call_kw:
            kw[name] = call_kw[name]
    if call_kw.get("key_padding_mask"):
        m = torch.zeros(N, src, dtype=torch.bool)
        m[1, -2:] = True
        kw["key_padding_mask"] = m
    am = call_kw.get("attn_mask")
    if am == "causal":
        kw["attn_mask"] = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=dtype)
    elif am == "bool3d":
        m = torch.rand(N * H, L, src, generator=g) > 0.7
        kw["attn_mask"] = m
    return q, k, v, kw, cross


@pytest.mark.parametrize("mod_kw,call_kw", MHA_CASES, ids=[str(i) for i in range(len(MHA_CASES))])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_multihead_attention_matches_torch(torch, device, mod_kw, call_kw, precision):
    dtype = getattr(torch, precision)
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(4, 2, **mod_kw).to(dtype)
    ours = nn.MultiheadAttention(4, 2, **mod_kw).to(getattr(ag, precision))
    _load(torch, theirs, ours, device)
    q, k, v, kw, cross = _mha_inputs(torch, mod_kw, call_kw, dtype)
    tq = q.clone().requires_grad_()
    tk, tv = (k.clone().requires_grad_(), v.clone().requires_grad_()) if cross else (tq, tq)
    ref, ref_w = theirs(tq, tk, tv, **kw)
    oq = _ours(q, device, True)
    ok, ov = (_ours(k, device, True), _ours(v, device, True)) if cross else (oq, oq)
    okw = {n: (_ours(x, device) if hasattr(x, "detach") else x) for n, x in kw.items()}
    out, w = ours(oq, ok, ov, **okw)
    tol = F64 if precision == "float64" else F32
    np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), **tol)
    assert (w is None) == (ref_w is None)
    if w is not None:
        np.testing.assert_allclose(to_numpy(w), ref_w.detach().numpy(), **tol)
    gw = torch.randn(ref.shape, dtype=dtype, generator=torch.Generator().manual_seed(5))
    (ref * gw).sum().backward()
    (out * _ours(gw, device)).sum().backward()
    np.testing.assert_allclose(to_numpy(oq.grad), tq.grad.numpy(), **tol)
    theirs_grads = {n: p.grad for n, p in theirs.named_parameters()}
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(to_numpy(p.grad), theirs_grads[n].numpy(), **tol)


def test_multihead_attention_parameters_and_init(torch):
    m = nn.MultiheadAttention(6, 3, kdim=2, vdim=4, add_bias_kv=True)
    t = torch.nn.MultiheadAttention(6, 3, kdim=2, vdim=4, add_bias_kv=True)
    assert [(n, tuple(p.shape)) for n, p in m.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert m.in_proj_weight is None and m.q_proj_weight is not None
    m2 = nn.MultiheadAttention(8, 2)
    assert float(abs(m2.in_proj_bias).max()) == 0 and float(abs(m2.out_proj.bias).max()) == 0
    bound = math.sqrt(6.0 / (8 + 24))  # xavier_uniform_ of the (24, 8) packed weight
    assert float(abs(m2.in_proj_weight).max()) <= bound
    assert repr(m2) == repr(torch.nn.MultiheadAttention(8, 2)).replace("torch.", "")


def test_multihead_attention_gradcheck(device):
    ag.manual_seed(0)
    m = nn.MultiheadAttention(2, 2, kdim=3, vdim=1).double().to(device)
    q = ag.randn(2, 1, 2, dtype=ag.float64, device=device, requires_grad=True)
    k = ag.randn(3, 1, 3, dtype=ag.float64, device=device, requires_grad=True)
    v = ag.randn(3, 1, 1, dtype=ag.float64, device=device, requires_grad=True)
    mask = ag.tensor([[False, True, False], [False, False, False]], device=device)

    def fn(q, k, v, w):
        return F.multi_head_attention_forward(
            q, k, v, 2, 2, None, m.in_proj_bias, None, None, False, 0.0, w, m.out_proj.bias,
            attn_mask=mask, use_separate_proj_weight=True, q_proj_weight=m.q_proj_weight,
            k_proj_weight=m.k_proj_weight, v_proj_weight=m.v_proj_weight)[0]

    w = m.out_proj.weight.detach().clone().requires_grad_()
    assert gradcheck(fn, [q, k, v, w])
    assert gradgradcheck(fn, [q, k, v, w])


def test_multihead_attention_errors(torch):
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0, "
                       "got embed_dim=0 and num_heads=2 instead"):
        nn.MultiheadAttention(0, 2)
    m = nn.MultiheadAttention(4, 2)
    x = ag.randn(3, 2, 4)
    with pytest.raises(AssertionError, match="For batched \\(3-D\\) `query`, expected `key` and "
                       "`value` to be 3-D but found 2-D and 3-D tensors respectively"):
        m(x, x[0], x)
    with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask "
                       "are supported"):
        m(x, x, x, key_padding_mask=ag.zeros(2, 3, dtype=ag.int64))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is .*Size\(\[3, 2\]\), but "
                       r"should be \(3, 3\)."):
        m(x, x, x, attn_mask=ag.zeros(3, 2))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=ag.zeros(2, 3, dtype=ag.bool), attn_mask=ag.zeros(3, 3))


# ---------------------------------------------------------------- Transformer


@pytest.mark.parametrize("norm_first,activation,batch_first", [
    (False, "relu", False), (True, "gelu", True), (False, "gelu", True), (True, "relu", False)])
def test_transformer_matches_torch(torch, device, norm_first, activation, batch_first):
    torch.manual_seed(0)
    kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=16, dropout=0.0, batch_first=batch_first, norm_first=norm_first,
              activation=activation)
    theirs = torch.nn.Transformer(**kw).double()
    ours = nn.Transformer(**kw).double()
    _load(torch, theirs, ours, device)
    g = torch.Generator().manual_seed(1)
    shape = (lambda n: (2, n, 8)) if batch_first else (lambda n: (n, 2, 8))
    src = torch.randn(shape(5), dtype=torch.float64, generator=g)
    tgt = torch.randn(shape(4), dtype=torch.float64, generator=g)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=torch.float64)
    kpm = torch.zeros(2, 5, dtype=torch.bool)
    kpm[1, 3:] = True
    tsrc = src.clone().requires_grad_()
    ref = theirs(tsrc, tgt, tgt_mask=tmask, src_key_padding_mask=kpm, memory_key_padding_mask=kpm)
    osrc = _ours(src, device, True)
    out = ours(osrc, _ours(tgt, device), tgt_mask=_ours(tmask, device),
               src_key_padding_mask=_ours(kpm, device), memory_key_padding_mask=_ours(kpm, device))
    np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), rtol=1e-9, atol=1e-10)
    ref.pow(2).sum().backward()
    out.pow(2).sum().backward()
    np.testing.assert_allclose(to_numpy(osrc.grad), tsrc.grad.numpy(), rtol=1e-8, atol=1e-10)
    tg = dict(theirs.named_parameters())
    for n, p in ours.named_parameters():
        np.testing.assert_allclose(to_numpy(p.grad), tg[n].grad.numpy(), rtol=1e-8, atol=1e-10)


def test_encoder_with_callable_activation_and_causal_mask(torch, device):
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, activation=torch.tanh,
                                          batch_first=True).double()
    te = torch.nn.TransformerEncoder(tl, 2, enable_nested_tensor=False)
    ol = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, activation=ag.tanh, batch_first=True)
    oe = nn.TransformerEncoder(ol, 2, enable_nested_tensor=False).double()
    assert oe.layers[0] is not oe.layers[1] and oe.layers[0].linear1.weight is not ol.linear1.weight
    _load(torch, te, oe, device)
    x = torch.randn(2, 5, 4, dtype=torch.float64)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(5, dtype=torch.float64)
    ref = te(x, mask=mask)
    out = oe(_ours(x, device), mask=_ours(mask, device))  # detected as causal
    np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), **F64)
    ref_u = tl(x[0], src_mask=mask)  # unbatched (L, E)
    ol2 = nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, activation=ag.tanh, batch_first=True).double()
    _load(torch, tl, ol2, device)
    np.testing.assert_allclose(to_numpy(ol2(_ours(x[0], device), src_mask=_ours(mask, device))),
                               ref_u.detach().numpy(), **F64)


def test_decoder_layer_and_training_step(torch, device):
    torch.manual_seed(0)
    td = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0), 1,
                                     norm=torch.nn.LayerNorm(4)).double()
    od = nn.TransformerDecoder(nn.TransformerDecoderLayer(4, 2, 8, dropout=0.0), 1,
                               norm=nn.LayerNorm(4)).double()
    _load(torch, td, od, device)
    tgt, mem = torch.randn(3, 2, 4, dtype=torch.float64), torch.randn(5, 2, 4, dtype=torch.float64)
    topt = torch.optim.SGD(td.parameters(), lr=0.1)
    oopt = ag.optim.SGD(od.parameters(), lr=0.1)
    for _ in range(3):
        topt.zero_grad()
        oopt.zero_grad()
        ref = td(tgt, mem, tgt_is_causal=True,
                 tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64))
        out = od(_ours(tgt, device), _ours(mem, device), tgt_is_causal=True,
                 tgt_mask=nn.Transformer.generate_square_subsequent_mask(3, dtype=ag.float64, device=device))
        (ref[0] ** 2).sum().backward()
        (out[0] ** 2).sum().backward()
        topt.step()
        oopt.step()
        np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), rtol=1e-8, atol=1e-10)


def test_transformer_structure_and_errors(torch):
    t = torch.nn.Transformer(8, 2, 1, 1, 16)
    o = nn.Transformer(8, 2, 1, 1, 16)
    assert [(n, tuple(p.shape)) for n, p in o.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    m = nn.Transformer.generate_square_subsequent_mask(3)
    np.testing.assert_array_equal(to_numpy(m), torch.nn.Transformer.generate_square_subsequent_mask(3).numpy())
    assert m.dtype == ag.float32
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        o(ag.randn(3, 2, 8), ag.randn(3, 4, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        o(ag.randn(3, 2, 8), ag.randn(3, 2, 4))
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")


def test_transformer_dropout_train_and_eval(device):
    ag.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5).to(device)
    x = ag.randn(4, 2, 8, device=device)
    a, b = layer(x), layer(x)
    assert not np.allclose(to_numpy(a), to_numpy(b))
    layer.eval()
    np.testing.assert_array_equal(to_numpy(layer(x)), to_numpy(layer(x)))


# ---------------------------------------------------------------- LazyLinear, init, deepcopy


def test_lazy_linear(torch, device):
    torch.manual_seed(0)
    t = torch.nn.LazyLinear(3)
    m = nn.LazyLinear(3)
    assert repr(m) == repr(t).replace("torch.", "") == "LazyLinear(in_features=0, out_features=3, bias=True)"
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight", "bias"]
    w = m.weight
    opt = ag.optim.SGD(m.parameters(), lr=0.1)
    x = ag.randn(2, 5, device=device)
    m.to(device)
    y = m(x)
    assert type(m) is nn.Linear and m.in_features == 5 and tuple(y.shape) == (2, 3)
    assert m.weight is w and type(w) is nn.Parameter and tuple(w.shape) == (3, 5)
    assert float(abs(w).max()) <= 1 / math.sqrt(5)
    y.sum().backward()
    before = to_numpy(w).copy()
    opt.step()  # the optimizer made before the first call updates the materialized weight
    assert not np.allclose(before, to_numpy(w))
    t(torch.randn(2, 5))
    fresh = nn.LazyLinear(3)
    fresh.load_state_dict({k: ag.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    assert type(fresh) is nn.Linear
    xt = torch.randn(4, 5)
    np.testing.assert_allclose(to_numpy(fresh(ag.tensor(xt.numpy()))), t(xt).detach().numpy(), rtol=1e-6)
    nb = nn.LazyLinear(2, bias=False)
    nb(ag.randn(1, 4))
    assert nb.bias is None and tuple(nb.weight.shape) == (2, 4)


def test_init_orthogonal(device):
    w = ag.empty(3, 5, device=device)
    nn.init.orthogonal_(w, gain=2.0)
    a = to_numpy(w).astype(np.float64)
    np.testing.assert_allclose(a @ a.T, 4 * np.eye(3), atol=1e-5)
    w = ag.empty(6, 2, 2, device=device)
    nn.init.orthogonal_(w)
    a = to_numpy(w).reshape(6, 4).astype(np.float64)
    np.testing.assert_allclose(a.T @ a, np.eye(4), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        nn.init.orthogonal_(ag.empty(3))


def test_init_trunc_normal(torch, device):
    w = ag.empty(20000, device=device)
    nn.init.trunc_normal_(w, mean=1.0, std=2.0, a=-1.0, b=2.0)
    a = to_numpy(w)
    assert a.min() >= -1.0 and a.max() <= 2.0
    t = torch.nn.init.trunc_normal_(torch.empty(200000), mean=1.0, std=2.0, a=-1.0, b=2.0)
    assert abs(a.mean() - float(t.mean())) < 0.02 and abs(a.std() - float(t.std())) < 0.02
    with pytest.warns(UserWarning, match="mean is more than 2 std from \\[a, b\\]"):
        nn.init.trunc_normal_(ag.empty(3), mean=10.0)


def test_init_sparse_and_dirac(torch, device):
    w = ag.empty(10, 4, device=device)
    nn.init.sparse_(w, 0.3, std=0.5)
    a = to_numpy(w)
    assert list((a == 0).sum(0)) == [3, 3, 3, 3]
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        nn.init.sparse_(ag.empty(2, 2, 2), 0.1)
    for shape, groups in (((4, 2, 3, 3), 2), ((3, 5, 3), 1), ((2, 2, 3, 3, 3), 1)):
        ours = nn.init.dirac_(ag.empty(*shape, device=device), groups)
        theirs = torch.nn.init.dirac_(torch.empty(*shape), groups)
        np.testing.assert_array_equal(to_numpy(ours), theirs.numpy())
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions are supported"):
        nn.init.dirac_(ag.empty(3, 3))
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        nn.init.dirac_(ag.empty(3, 3, 3), groups=2)


def test_deepcopy(device):
    m = nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2)).to(device)
    m[0].weight.grad = ag.ones(2, 3, device=device)
    c = copy.deepcopy(m)
    assert c[0].weight is not m[0].weight and type(c[0].weight) is nn.Parameter
    assert c[0].weight.requires_grad and c[0].weight.device == m[0].weight.device
    np.testing.assert_array_equal(to_numpy(c[0].weight), to_numpy(m[0].weight))
    np.testing.assert_array_equal(to_numpy(c[0].weight.grad), 1.0)
    with ag.no_grad():
        c[0].weight.fill_(0.0)
    assert float(abs(m[0].weight).sum()) > 0
    x = ag.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(x * 2)
