"""ModuleDict, ParameterList, ParameterDict (registration, state_dict keys, reprs, dict and
list behaviour) and nn.utils (clip_grad_norm_, clip_grad_value_, parameters_to_vector,
vector_to_parameters) against PyTorch's."""
from collections import OrderedDict
import math
import re

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from conftest import to_numpy


def _as_torch_repr(s):
    """Our repr with the package's name where PyTorch's says 'torch'."""
    return s.replace("autograd_gpu.", "torch.")


# ---------------------------------------------------------------- ModuleDict


def test_module_dict_registers_in_order(torch):
    d = nn.ModuleDict({"b": nn.Linear(2, 3), "a": nn.ReLU()})
    td = torch.nn.ModuleDict({"b": torch.nn.Linear(2, 3), "a": torch.nn.ReLU()})
    assert list(d.keys()) == list(td.keys()) == ["b", "a"]  # a dict keeps its order
    d["c"] = nn.Linear(3, 1)
    td["c"] = torch.nn.Linear(3, 1)
    assert repr(d) == repr(td)
    assert list(d.state_dict()) == list(td.state_dict()) == ["b.weight", "b.bias", "c.weight", "c.bias"]
    assert len(list(d.parameters())) == 4
    assert "a" in d and "z" not in d and len(d) == 3
    assert list(d) == ["b", "a", "c"]
    assert [type(m).__name__ for m in d.values()] == ["Linear", "ReLU", "Linear"]
    popped = d.pop("a")
    assert isinstance(popped, nn.ReLU) and list(d.keys()) == ["b", "c"]
    del d["b"]
    assert list(d.state_dict()) == ["c.weight", "c.bias"]
    d.update([("x", nn.Tanh()), ("y", nn.Sigmoid())])
    d.update(OrderedDict([("z", nn.Identity())]))
    assert list(d.keys()) == ["c", "x", "y", "z"]
    d.clear()
    assert len(d) == 0 and list(d.parameters()) == []


def test_module_dict_in_a_model_trains():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = nn.ModuleDict({"a": nn.Linear(3, 1), "b": nn.Linear(3, 2)})

        def forward(self, x, head):
            return self.heads[head](x)

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"]
    net(ag.randn(4, 3), "b").sum().backward()
    assert net.heads["b"].weight.grad is not None and net.heads["a"].weight.grad is None
    net.double()
    assert net.heads["a"].weight.dtype == ag.float64


def test_module_dict_errors(torch):
    d, td = nn.ModuleDict(), torch.nn.ModuleDict()
    for ours, theirs, exc in [
        (lambda: d.update(3), lambda: td.update(3), TypeError),
        (lambda: d.update([3]), lambda: td.update([3]), TypeError),
        (lambda: d.update([("a", nn.ReLU(), 1)]), lambda: td.update([("a", torch.nn.ReLU(), 1)]), ValueError),
    ]:
        with pytest.raises(exc) as theirs_err:
            theirs()
        with pytest.raises(exc, match=re.escape(str(theirs_err.value))):
            ours()
    with pytest.raises(KeyError):
        d["missing"]
    with pytest.raises(NotImplementedError, match="missing the required \"forward\" function"):
        d(ag.zeros(1))


# ---------------------------------------------------------------- ParameterList


def test_parameter_list(torch):
    pl = nn.ParameterList([nn.Parameter(ag.zeros(3, 4)), ag.ones(2)])
    tpl = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(3, 4)), torch.ones(2)])
    assert isinstance(pl[1], nn.Parameter) and pl[1].requires_grad  # a Tensor becomes a Parameter
    assert _as_torch_repr(repr(pl)) == repr(tpl)
    pl.append(nn.Parameter(ag.zeros(5, dtype=ag.float64)))
    tpl.append(torch.nn.Parameter(torch.zeros(5, dtype=torch.float64)))
    pl.append("note")
    tpl.append("note")
    assert _as_torch_repr(repr(pl)) == repr(tpl)
    assert len(pl) == 4 and pl[-1] == "note"
    assert list(pl.state_dict()) == list(tpl.state_dict()) == ["0", "1", "2"]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1", "2"]
    sub = pl[1:3]
    assert isinstance(sub, nn.ParameterList) and len(sub) == 2 and sub[0] is pl[1]
    pl[0] = ag.full((2,), 3.0)
    assert isinstance(pl[0], nn.Parameter) and pl[0].tolist() == [3.0, 3.0]
    pl += [ag.zeros(1)]
    assert len(pl) == 5
    with pytest.raises(IndexError, match="index 9 is out of range"):
        pl[9]
    with pytest.raises(TypeError, match="ParameterList.extend should be called with an iterable, but got Tensor"):
        pl.extend(ag.zeros(3))
    with pytest.raises(RuntimeError, match="ParameterList should not be called."):
        pl(1)
    one, tone = nn.ParameterList([ag.zeros(3)]), torch.nn.ParameterList([torch.zeros(3)])
    assert _as_torch_repr(repr(one)) == repr(tone)  # PyTorch's one-line form


def test_parameter_list_in_a_model_and_optimizer():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.ws = nn.ParameterList([nn.Parameter(ag.ones(2)) for _ in range(3)])

        def forward(self, x):
            for w in self.ws:
                x = x * w
            return x.sum()

    net = Net()
    opt = ag.optim.SGD(net.parameters(), lr=0.1)
    net(ag.full((2,), 2.0)).backward()
    opt.step()
    np.testing.assert_allclose([to_numpy(p) for p in net.ws], [[0.8, 0.8]] * 3, rtol=1e-7)
    sd = net.state_dict()
    assert list(sd) == ["ws.0", "ws.1", "ws.2"]
    net2 = Net()
    net2.load_state_dict(sd)
    np.testing.assert_array_equal(to_numpy(net2.ws[2]), to_numpy(net.ws[2]))


# ---------------------------------------------------------------- ParameterDict


def test_parameter_dict(torch):
    pd = nn.ParameterDict({"b": nn.Parameter(ag.zeros(2, 3)), "a": ag.ones(4, dtype=ag.float64)})
    tpd = torch.nn.ParameterDict({"b": torch.nn.Parameter(torch.zeros(2, 3)),
                                  "a": torch.ones(4, dtype=torch.float64)})
    assert list(pd.keys()) == list(tpd.keys()) == ["a", "b"]  # a plain dict: sorted, as PyTorch
    assert _as_torch_repr(repr(pd)) == repr(tpd)
    assert isinstance(pd["a"], nn.Parameter)
    pd["c"] = "text"
    tpd["c"] = "text"
    assert _as_torch_repr(repr(pd)) == repr(tpd)
    assert list(pd.state_dict()) == list(tpd.state_dict()) == ["a", "b"]
    od = nn.ParameterDict(OrderedDict([("z", ag.zeros(1)), ("y", ag.zeros(1))]))
    assert list(od.keys()) == ["z", "y"]  # an OrderedDict keeps its order
    assert "y" in od and od.get("missing", 5) == 5 and len(od) == 2
    assert list(reversed(od)) == ["y", "z"]
    k, v = od.popitem()
    assert k == "y" and list(od.keys()) == ["z"]
    od.setdefault("w", ag.ones(2))
    assert isinstance(od["w"], nn.Parameter)
    merged = od | nn.ParameterDict(OrderedDict([("q", ag.zeros(3))]))
    assert list(merged.keys()) == ["z", "w", "q"] and list(od.keys()) == ["z", "w"]
    od |= OrderedDict([("r", ag.zeros(1))])
    assert list(od.keys()) == ["z", "w", "r"]
    assert od.pop("w").shape == (2,) and "w" not in od
    od.update([("s", ag.zeros(2))])
    assert [n for n, _ in od.named_parameters()] == ["z", "r", "s"]
    cp = od.copy()
    assert list(cp.keys()) == ["z", "r", "s"] and cp["z"] is od["z"]
    od.clear()
    assert len(od) == 0 and list(od.parameters()) == []
    fk = od.fromkeys(["m", "n"], ag.zeros(1))
    assert list(fk.keys()) == ["m", "n"]


def test_parameter_dict_errors(torch):
    pd, tpd = nn.ParameterDict(), torch.nn.ParameterDict()
    for ours, theirs, exc in [
        (lambda: pd.__setitem__(3, ag.zeros(1)), lambda: tpd.__setitem__(3, torch.zeros(1)), TypeError),
        (lambda: pd.update(3), lambda: tpd.update(3), TypeError),
        (lambda: pd.update([("a",)]), lambda: tpd.update([("a",)]), ValueError),
        (lambda: pd(1), lambda: tpd(1), RuntimeError),
    ]:
        with pytest.raises(exc) as theirs_err:
            theirs()
        with pytest.raises(exc, match=re.escape(str(theirs_err.value))):
            ours()
    with pytest.raises(AttributeError):  # PyTorch's too: entries are attributes
        pd["nothing"]
    with pytest.raises(AttributeError):
        tpd["nothing"]


def test_parameter_containers_move_with_the_module():
    m = nn.Module()
    m.pl = nn.ParameterList([ag.zeros(2)])
    m.pd = nn.ParameterDict({"w": ag.zeros(3)})
    m.double()
    assert m.pl[0].dtype == ag.float64 and m.pd["w"].dtype == ag.float64
    assert [n for n, _ in m.named_parameters()] == ["pl.0", "pd.w"]
    m.pl[0].grad = ag.ones(2, dtype=ag.float64)
    m.zero_grad()
    assert m.pl[0].grad is None


# ---------------------------------------------------------------- clip_grad


def _params_with_grads(torch, shapes, seed=0, dtype=np.float64, scale=1.0, device="cpu"):
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for s in shapes:
        w, g = rng.standard_normal(s), rng.standard_normal(s) * scale
        p = nn.Parameter(ag.tensor(w.astype(dtype), device=device))
        p.grad = ag.tensor(g.astype(dtype), device=device)
        t = torch.nn.Parameter(torch.tensor(w.astype(dtype)))
        t.grad = torch.tensor(g.astype(dtype))
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.0, 0.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(torch, norm_type, max_norm, device):
    ours, theirs = _params_with_grads(torch, [(3, 4), (4,), ()], device=device)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=float(norm_type))
    assert total.shape == () and total.dtype == ag.float64 and not total.requires_grad
    assert total.device == ours[0].device
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(to_numpy(p.grad), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_float32_and_foreach(torch):
    ours, theirs = _params_with_grads(torch, [(5, 3), (3,)], seed=1, dtype=np.float32, scale=4.0)
    ours[0].grad = None  # a parameter without a gradient is skipped
    theirs[0].grad = None
    total = nn.utils.clip_grad_norm_(iter(ours), 1.0, foreach=True)
    ttotal = torch.nn.utils.clip_grad_norm_(iter(theirs), 1.0, foreach=True)
    assert total.dtype == ag.float32
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-6)
    np.testing.assert_allclose(to_numpy(ours[1].grad), theirs[1].grad.numpy(), rtol=1e-6)
    assert ours[0].grad is None
    # a single tensor; the clipped norm is max_norm (up to the 1e-6 guard)
    p = nn.Parameter(ag.zeros(4, dtype=ag.float64))
    p.grad = ag.tensor([3.0, 4.0, 0.0, 0.0], dtype=ag.float64)
    assert nn.utils.clip_grad_norm_(p, 1.0).item() == 5.0
    assert math.isclose(float(ag.norm(p.grad).item()), 5.0 / (5.0 + 1e-6), rel_tol=1e-12)


def test_clip_grad_norm_edge_cases(torch):
    total = nn.utils.clip_grad_norm_([], 1.0)
    assert total.item() == 0.0 and total.dtype == ag.float32
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        nn.utils.clip_grad_norm_((p for p in []), 1.0)
    p = nn.Parameter(ag.zeros(2))
    p.grad = ag.tensor([float("inf"), 1.0])
    msg = ("The total norm of order 2.0 for gradients from `parameters` is non-finite, so it "
           "cannot be clipped. To disable this error and scale the gradients by the non-finite "
           "norm anyway, set `error_if_nonfinite=False`")
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert p.grad.tolist()[1] == 1.0  # nothing scaled before the error
    t = torch.nn.Parameter(torch.zeros(2))
    t.grad = torch.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        torch.nn.utils.clip_grad_norm_([t], 1.0, error_if_nonfinite=True)
    total = nn.utils.clip_grad_norm_([p], 1.0)  # scaled by the non-finite norm, as PyTorch
    ttotal = torch.nn.utils.clip_grad_norm_([t], 1.0)
    assert math.isinf(total.item()) and math.isinf(ttotal.item())
    np.testing.assert_array_equal(to_numpy(p.grad), t.grad.numpy())
    with pytest.warns(FutureWarning, match="clip_grad_norm_"):
        nn.utils.clip_grad_norm([p], 1.0)


def test_clip_grad_value(torch, device):
    ours, theirs = _params_with_grads(torch, [(3, 4), (2,)], seed=2, scale=2.0, device=device)
    assert nn.utils.clip_grad_value_(ours, 0.7) is None
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(to_numpy(p.grad), t.grad.numpy())
    p = nn.Parameter(ag.zeros(2))
    nn.utils.clip_grad_value_(p, 1.0)  # no gradient: nothing to do
    assert p.grad is None


def test_clip_in_a_training_step(torch):
    ag.manual_seed(0)
    lin = nn.Linear(3, 2).double()
    tlin = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        tlin.weight.copy_(torch.tensor(to_numpy(lin.weight)))
        tlin.bias.copy_(torch.tensor(to_numpy(lin.bias)))
    x = np.random.default_rng(3).standard_normal((8, 3)) * 10
    (lin(ag.tensor(x)) ** 2).sum().backward()
    (tlin(torch.tensor(x)) ** 2).sum().backward()
    a = nn.utils.clip_grad_norm_(lin.parameters(), 0.1)
    b = torch.nn.utils.clip_grad_norm_(tlin.parameters(), 0.1)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(lin.weight.grad), tlin.weight.grad.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- parameters <-> vector


def test_parameters_to_vector_and_back(torch):
    lin = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(lin.parameters())
    assert v.shape == (8,)
    np.testing.assert_array_equal(to_numpy(v[:6]), to_numpy(lin.weight).reshape(-1))
    np.testing.assert_array_equal(to_numpy(v[6:]), to_numpy(lin.bias))
    # differentiable: a loss of the vector reaches the parameters
    (v * ag.arange(8, dtype=ag.float32)).sum().backward()
    np.testing.assert_array_equal(to_numpy(lin.bias.grad), [6.0, 7.0])
    new = ag.arange(8, dtype=ag.float32)
    nn.utils.vector_to_parameters(new, lin.parameters())
    np.testing.assert_array_equal(to_numpy(lin.weight), np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(to_numpy(lin.bias), [6.0, 7.0])
    assert isinstance(lin.weight, nn.Parameter)
    tl = torch.nn.Linear(3, 2)
    torch.nn.utils.vector_to_parameters(torch.arange(8, dtype=torch.float32), tl.parameters())
    np.testing.assert_array_equal(to_numpy(nn.utils.parameters_to_vector(lin.parameters())),
                                  torch.nn.utils.parameters_to_vector(tl.parameters()).detach().numpy())
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        nn.utils.vector_to_parameters([1.0], lin.parameters())
