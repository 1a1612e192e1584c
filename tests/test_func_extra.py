"""func.vmap and func.functional_call against torch.func: values and gradients, in_dims /
out_dims forms, nesting, composition with grad, tied weights, strict mode, errors."""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from autograd_gpu.func import functional_call, grad, vmap
from conftest import to_numpy


def _t(x, device, requires_grad=False):
    a = ag.tensor(x.detach().numpy().copy(), device=device)
    return a.requires_grad_() if requires_grad else a


def test_vmap_in_out_dims(torch, device):
    tf = torch.func
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, dtype=torch.float64, generator=g)
    y = torch.randn(4, dtype=torch.float64, generator=g)
    cases = [
        (lambda a: (a * a).sum(), {}, (x,)),
        (lambda a, b: a * b, dict(in_dims=(0, None)), (x, y)),
        (lambda a, b: a @ b, dict(in_dims=(1, None)), (x, torch.ones(3, dtype=torch.float64))),
        (lambda a: (a, a.exp()), dict(out_dims=(0, 1)), (x,)),
        (lambda a: a.sum(0), dict(in_dims=-1, out_dims=0), (x,)),
        (lambda d: d["p"] * 2 + d["q"], dict(in_dims=({"p": 0, "q": None},)), ({"p": x, "q": y},)),
    ]
    for fn, kw, args in cases:
        ref = tf.vmap(fn, **kw)(*args)
        ours_args = [({k: _t(v, device) for k, v in a.items()} if isinstance(a, dict) else _t(a, device))
                     for a in args]
        out = vmap(fn, **kw)(*ours_args)
        refs = ref if isinstance(ref, tuple) else (ref,)
        outs = out if isinstance(out, tuple) else (out,)
        for o, r in zip(outs, refs):
            assert tuple(o.shape) == tuple(r.shape)
            np.testing.assert_allclose(to_numpy(o), r.numpy(), rtol=1e-12, atol=1e-12)


def test_vmap_nested_and_with_grad(torch, device):
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    f = lambda a: (a.sin() * a).sum()  # noqa: E731
    ref = torch.func.vmap(torch.func.vmap(torch.func.grad(f)))(x)
    out = vmap(vmap(grad(f)))(_t(x, device))
    np.testing.assert_allclose(to_numpy(out), ref.numpy(), rtol=1e-12)
    # grad of a function that uses vmap: per-example losses summed
    w = torch.randn(4, dtype=torch.float64)
    ref_g = torch.func.grad(lambda w: torch.func.vmap(lambda r: (r @ w) ** 2)(x[0]).sum())(w)
    out_g = grad(lambda w: vmap(lambda r: (r @ w) ** 2)(_t(x[0], device)).sum())(_t(w, device))
    np.testing.assert_allclose(to_numpy(out_g), ref_g.numpy(), rtol=1e-12)
    # backward through vmap reaches a leaf
    xl = _t(x, device, True)
    vmap(lambda a: a * a)(xl).sum().backward()
    np.testing.assert_allclose(to_numpy(xl.grad), 2 * x.numpy())


def test_vmap_errors():
    with pytest.raises(ValueError, match="vmap: Expected all tensors to have the same size in "
                       "the mapped dimension, got sizes \\[2, 3\\] for the mapped dimension"):
        vmap(lambda a, b: a + b)(ag.randn(2), ag.randn(3))
    with pytest.raises(ValueError, match="Got in_dim=1 for some input, but that input is a "
                       "Tensor of dimensionality 1 so expected in_dim to satisfy -1 <= in_dim < 1."):
        vmap(ag.sin, in_dims=1)(ag.randn(2))
    with pytest.raises(ValueError, match="expected `in_dims` to be int or a \\(potentially "
                       "nested\\) tuple matching the structure of inputs"):
        vmap(ag.sin, in_dims=None)(ag.randn(2))
    with pytest.raises(ValueError, match="must only return Tensors, got type <class 'float'>. "
                       "Did you mean to set out_dims= to None for output\\?"):
        vmap(lambda x: 1.0)(ag.randn(2))
    with pytest.raises(ValueError, match="in_dims is not compatible with the structure of `inputs`"):
        vmap(lambda x: x, in_dims=(0, 0))(ag.randn(2))
    assert vmap(lambda x: 1.0, out_dims=None)(ag.randn(2)) == 1.0


def test_functional_call(torch, device):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)).double()
    om = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)).double().to(device)
    x = torch.randn(5, 3, dtype=torch.float64)
    tparams = {k: v.detach().clone().requires_grad_(k in dict(tm.named_parameters()))
               for k, v in tm.state_dict().items()}
    oparams = {k: _t(v, device, v.requires_grad) for k, v in tparams.items()}
    before = {k: to_numpy(v).copy() for k, v in om.state_dict().items()}
    ref = torch.func.functional_call(tm, tparams, (x,))
    out = functional_call(om, oparams, _t(x, device))  # a lone arg need not be a tuple
    np.testing.assert_allclose(to_numpy(out), ref.detach().numpy(), rtol=1e-12)
    (ref ** 2).sum().backward()
    (out ** 2).sum().backward()
    for k in ("0.weight", "2.bias", "1.weight"):
        np.testing.assert_allclose(to_numpy(oparams[k].grad), tparams[k].grad.numpy(), rtol=1e-10)
    for k, v in om.state_dict().items():  # the module's own tensors are back (running stats:
        if "running" not in k and "num_batches" not in k:  # the given buffers were updated)
            np.testing.assert_array_equal(to_numpy(v), before[k])
    assert om[0].weight.grad is None
    # a function of the parameters, differentiated with func.grad
    g = grad(lambda p: functional_call(om, {**oparams, "0.weight": p}, (_t(x, device),)).pow(2).sum())(
        oparams["0.weight"].detach())
    np.testing.assert_allclose(to_numpy(g), tparams["0.weight"].grad.numpy(), rtol=1e-10)


def test_functional_call_ties_and_strict():
    m = nn.Module()
    m.a = nn.Linear(2, 2, bias=False)
    m.b = nn.Linear(2, 2, bias=False)
    m.b.weight = m.a.weight  # tied

    def fwd(x):
        return m.b(m.a(x))

    m.forward = fwd
    w = ag.eye(2) * 3
    x = ag.ones(1, 2)
    np.testing.assert_allclose(to_numpy(functional_call(m, {"a.weight": w}, (x,))), [[9.0, 9.0]])
    untied = functional_call(m, {"a.weight": w}, (x,), tie_weights=False)
    assert not np.allclose(to_numpy(untied), 9.0)
    with pytest.raises(ValueError, match="functional_call got multiple values for keys "
                       "\\['a.weight', 'b.weight'\\], which are tied"):
        functional_call(m, {"a.weight": w, "b.weight": w * 2}, (x,))
    lin = nn.Linear(2, 3)
    with pytest.raises(RuntimeError, match="Error\\(s\\) in reparametrizing for Linear:\n\t"
                       "Unexpected key\\(s\\): 'foo'.\n\tMissing key\\(s\\): 'bias', 'weight'."):
        functional_call(lin, {"foo": ag.zeros(3)}, (x,), strict=True)
    with pytest.raises(ValueError, match="\\['bias'\\] appeared in multiple dictionaries"):
        functional_call(lin, ({"bias": ag.zeros(3)}, {"bias": ag.zeros(3)}), (x,))
    out = functional_call(lin, ({"weight": ag.zeros(3, 2)}, {"bias": ag.ones(3)}), (x,))
    np.testing.assert_array_equal(to_numpy(out), [[1.0, 1.0, 1.0]])
