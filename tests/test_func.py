"""autograd_gpu.func against torch.func (float64), on both devices."""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import func as F
from autograd_gpu.func import tree_flatten

from conftest import to_numpy

# torch.func's first use compiles helpers with torch.jit, which warns about its deprecation
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

RTOL, ATOL = 1e-9, 1e-10


def _ag(a, device, requires_grad=False):
    return ag.tensor(np.asarray(a, dtype=np.float64), device=device, requires_grad=requires_grad)


def _close(ours, theirs, rtol=RTOL, atol=ATOL):
    """Same nested structure, same shapes, same values."""
    lo, so = tree_flatten(ours)
    lt, st = tree_flatten(theirs)
    assert so == st, f"structure {so} != {st}"
    for a, b in zip(lo, lt):
        assert isinstance(a, ag.Tensor), type(a)
        b = b.detach().numpy()
        assert tuple(a.shape) == b.shape
        assert a.dtype == ag.float64
        np.testing.assert_allclose(to_numpy(a), b, rtol=rtol, atol=atol)


# Each entry builds f for a module `m` (autograd_gpu or torch: the same API), and the input.
BATTERY = {
    "sin_cube": (lambda m: lambda x: m.sin(x) * x ** 3, (4,)),
    "exp_log": (lambda m: lambda x: m.log(m.exp(x) + x * x + 1.0), (2, 3)),
    "tanh_sigmoid": (lambda m: lambda x: m.tanh(x) * m.sigmoid(2.0 * x) - x / (x * x + 2.0), (5,)),
    "reductions": (lambda m: lambda x: m.stack([x.sum(0), x.mean(0) ** 2, (x * x).sum(0).sqrt()]), (3, 2)),
    "logsumexp": (lambda m: lambda x: m.logsumexp(x, dim=1) * x.sum(), (2, 3)),
    "softmax": (lambda m: lambda x: m.softmax(x, dim=-1) * x, (2, 4)),
    "matmul": (lambda m: lambda x: m.matmul(x, x.t()) + m.matmul(x.t(), x).sum(), (3, 2)),
    "broadcast": (lambda m: lambda x: (x.reshape(3, 1) * x.reshape(1, 3) + x).exp().sum(1), (3,)),
    "scalar_in": (lambda m: lambda x: m.stack([x ** 2, m.cos(x), x ** 3]), ()),
}


def _input(shape, seed):
    return np.random.default_rng(seed).uniform(0.2, 1.5, size=shape)


@pytest.mark.parametrize("name", sorted(BATTERY))
def test_battery_jacobians_match_torch(name, device, torch):
    build, shape = BATTERY[name]
    x0 = _input(shape, 1)
    f, tf = build(ag), build(torch)
    x, tx = _ag(x0, device), torch.tensor(x0)
    _close(F.jacrev(f)(x), torch.func.jacrev(tf)(tx))
    _close(F.jacfwd(f)(x), torch.func.jacfwd(tf)(tx))
    _close(F.jacobian(f)(x), torch.func.jacrev(tf)(tx))

    v0 = np.random.default_rng(2).normal(size=shape)
    out, jv = F.jvp(f, (x,), (_ag(v0, device),))
    tout, tjv = torch.func.jvp(tf, (tx,), (torch.tensor(v0),))
    _close((out, jv), (tout, tjv))

    u0 = np.random.default_rng(3).normal(size=tuple(tout.shape))
    out, vjp_fn = F.vjp(f, x)
    tout, tvjp_fn = torch.func.vjp(tf, tx)
    _close(out, tout)
    _close(vjp_fn(_ag(u0, device)), tvjp_fn(torch.tensor(u0)))
    # vjp_fn may be called again (the graph is kept)
    _close(vjp_fn(_ag(2 * u0, device)), tvjp_fn(torch.tensor(2 * u0)))

    s, ts = (lambda x: (f(x) ** 2).sum()), (lambda x: (tf(x) ** 2).sum())
    _close(F.grad(s)(x), torch.func.grad(ts)(tx))
    _close(F.hessian(s)(x), torch.func.hessian(ts)(tx), rtol=1e-8)
    assert not x.requires_grad and x.grad is None


def _third_derivative(G, f):
    d1 = G(lambda x: f(x).sum())
    d2 = G(lambda x: d1(x).sum())
    return G(lambda x: d2(x).sum())


@pytest.mark.parametrize("shape", [(3,), (1,)])
def test_third_derivative_grad_grad_grad(shape, device, torch):
    def make(m):
        return lambda x: m.sin(x) * x ** 3 + m.exp(-x * x) + m.tanh(x)

    x0 = np.linspace(0.3, 0.9, shape[0]).reshape(shape)
    ours = _third_derivative(F.grad, make(ag))(_ag(x0, device))
    theirs = _third_derivative(torch.func.grad, make(torch))(torch.tensor(x0))
    _close(ours, theirs)
    # and by hand: d3/dx3 of x^3 sin x + exp(-x^2) + tanh x
    x = x0
    t = np.tanh(x)
    exact = (6 * np.sin(x) + 18 * x * np.cos(x) - 9 * x ** 2 * np.sin(x) - x ** 3 * np.cos(x)
             + (12 * x - 8 * x ** 3) * np.exp(-x * x) + (1 - t ** 2) * (6 * t ** 2 - 2))
    np.testing.assert_allclose(to_numpy(ours), exact, rtol=1e-12)


def test_third_derivative_of_zero_dim_input(device, torch):
    def make(m):
        return lambda x: m.exp(x) * m.sin(x)

    x0 = np.array(0.7)
    ours = F.grad(F.grad(F.grad(make(ag))))(_ag(x0, device))
    theirs = torch.func.grad(torch.func.grad(torch.func.grad(make(torch))))(torch.tensor(x0))
    _close(ours, theirs)


def test_seed_style_grad_of_summed_loss(device):
    # HIPS style: f_p = grad(sum f), f_pp = grad(sum f_p)
    def f(x):
        return x * x + 4.0

    f_p = F.grad(lambda x: f(x).sum())
    f_pp = F.grad(lambda x: f_p(x).sum())
    x = ag.linspace(-2, 2, 5, dtype=ag.float64, device=device)
    np.testing.assert_allclose(to_numpy(f_p(x)), 2 * to_numpy(x))
    np.testing.assert_allclose(to_numpy(f_pp(x)), np.full(5, 2.0))
    assert not f_p(x).requires_grad  # plain results at the top level


def test_jacrev_of_jacrev_and_jacfwd_of_jacrev(device, torch):
    def make(m):
        return lambda x: m.tanh(m.matmul(x, x)) .sum(0) * x[0]

    f, tf = make(ag), make(torch)
    x0 = _input((2, 2), 4)
    x, tx = _ag(x0, device), torch.tensor(x0)
    expect = torch.func.jacrev(torch.func.jacrev(tf))(tx)
    _close(F.jacrev(F.jacrev(f))(x), expect, rtol=1e-8)
    _close(F.jacfwd(F.jacrev(f))(x), expect, rtol=1e-8)
    _close(F.jacrev(F.jacfwd(f))(x), expect, rtol=1e-8)


def _mlp_loss(m):
    def loss(params, X, y):
        h = m.tanh(m.matmul(X, params["W1"]) + params["b1"])
        pred = m.matmul(h, params["W2"]) + params["b2"]
        return ((pred - y) ** 2).mean()

    return loss


def test_hessian_of_mlp_loss(device, torch):
    rng = np.random.default_rng(5)
    shapes = {"W1": (3, 4), "b1": (4,), "W2": (4, 2), "b2": (2,)}
    p0 = {k: rng.normal(size=s) * 0.5 for k, s in shapes.items()}
    X0, y0 = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    params = {k: _ag(v, device) for k, v in p0.items()}
    tparams = {k: torch.tensor(v) for k, v in p0.items()}
    X, y = _ag(X0, device), _ag(y0, device)
    tX, ty = torch.tensor(X0), torch.tensor(y0)

    H = F.hessian(_mlp_loss(ag))(params, X, y)
    tH = torch.func.hessian(_mlp_loss(torch))(tparams, tX, ty)
    _close(H, tH, rtol=1e-8)
    assert H["W1"]["W2"].shape == (3, 4, 4, 2)
    # symmetric, as a Hessian is
    np.testing.assert_allclose(to_numpy(H["W1"]["b2"]), to_numpy(H["b2"]["W1"]).transpose(1, 2, 0),
                               rtol=1e-10, atol=1e-12)

    g, v = F.grad_and_value(_mlp_loss(ag))(params, X, y)
    tg, tv = torch.func.grad_and_value(_mlp_loss(torch))(tparams, tX, ty)
    _close((g, v), (tg, tv))
    assert all(not t.requires_grad and t.grad is None for t in params.values())


def test_has_aux_and_value_and_grad(device, torch):
    def make(m):
        def f(x, y):
            z = m.sin(x) * y
            aux = {"z": z}
            if m is ag:  # non-Tensor aux rides along untouched (torch.func rejects it)
                aux["n"] = x.shape[0]
            return z.sum(), aux

        return f

    x0, y0 = _input((3,), 6), _input((3,), 7)
    x, y, tx, ty = _ag(x0, device), _ag(y0, device), torch.tensor(x0), torch.tensor(y0)
    g, aux = F.grad(make(ag), has_aux=True)(x, y)
    tg, taux = torch.func.grad(make(torch), has_aux=True)(tx, ty)
    _close(g, tg)
    assert aux["n"] == 3
    _close(aux["z"], taux["z"])
    assert not aux["z"].requires_grad
    del aux["n"]

    (val, aux), g = F.value_and_grad(make(ag), argnums=(0, 1), has_aux=True)(x, y)
    tg, (tval, taux) = torch.func.grad_and_value(make(torch), argnums=(0, 1), has_aux=True)(tx, ty)
    del aux["n"]
    _close((val, aux, g), (tval, taux, tg))
    assert isinstance(g, tuple) and len(g) == 2

    g, (val, aux) = F.grad_and_value(make(ag), argnums=1, has_aux=True)(x, y)
    tg, (tval, taux) = torch.func.grad_and_value(make(torch), argnums=1, has_aux=True)(tx, ty)
    _close((g, val), (tg, tval))


def test_argnums_tuple_negative_and_kwargs(device, torch):
    def make(m):
        return lambda a, b, c, scale=1.0: (m.exp(a) * b ** 2 * scale).sum() + (c * a).sum()

    vals = [_input((2,), s) for s in (8, 9, 10)]
    args = [_ag(v, device) for v in vals]
    targs = [torch.tensor(v) for v in vals]
    g = F.grad(make(ag), argnums=(2, 0))(*args, scale=3.0)
    tg = torch.func.grad(make(torch), argnums=(2, 0))(*targs, scale=3.0)
    _close(g, tg)
    _close(F.grad(make(ag), argnums=-2)(*args), torch.func.grad(make(torch), argnums=1)(*targs))
    with pytest.raises(RuntimeError, match="argnums"):
        F.grad(make(ag), argnums=3)(*args)


def test_dict_list_tuple_inputs_and_outputs(device, torch):
    def make(m):
        def f(d):
            a, (b, c) = d["a"], d["bc"]
            return {"s": (a * b).sum() + m.sin(c).sum(), "v": [a * c[0], b.exp()]}

        return f

    rng = np.random.default_rng(11)
    d0 = {"a": rng.normal(size=2), "bc": [rng.normal(size=2), rng.normal(size=3)]}
    d = {"a": _ag(d0["a"], device), "bc": [_ag(d0["bc"][0], device), _ag(d0["bc"][1], device)]}
    td = {"a": torch.tensor(d0["a"]), "bc": [torch.tensor(d0["bc"][0]), torch.tensor(d0["bc"][1])]}
    _close(F.jacrev(make(ag))(d), torch.func.jacrev(make(torch))(td))
    _close(F.jacfwd(make(ag))(d), torch.func.jacfwd(make(torch))(td))
    _close(F.grad(lambda d: make(ag)(d)["s"])(d), torch.func.grad(lambda d: make(torch)(d)["s"])(td))

    out, vjp_fn = F.vjp(make(ag), d)
    tout, tvjp_fn = torch.func.vjp(make(torch), td)
    ct = {"s": 1.5, "v": [rng.normal(size=2), rng.normal(size=2)]}
    agct = {"s": _ag(ct["s"], device), "v": [_ag(v, device) for v in ct["v"]]}
    tct = {"s": torch.tensor(ct["s"]), "v": [torch.tensor(v) for v in ct["v"]]}
    _close(out, tout)
    _close(vjp_fn(agct), tvjp_fn(tct))

    tang = {"a": rng.normal(size=2), "bc": [rng.normal(size=2), rng.normal(size=3)]}
    agt = {"a": _ag(tang["a"], device), "bc": [_ag(v, device) for v in tang["bc"]]}
    tt = {"a": torch.tensor(tang["a"]), "bc": [torch.tensor(v) for v in tang["bc"]]}
    _close(F.jvp(make(ag), (d,), (agt,)), torch.func.jvp(make(torch), (td,), (tt,)))


def test_multiple_primals_and_unused_input(device, torch):
    def make(m):
        return lambda x, y, z: (m.sin(x) * y, x.sum() * 2.0)

    vals = [_input((3,), s) for s in (12, 13, 14)]
    args = [_ag(v, device) for v in vals]
    targs = [torch.tensor(v) for v in vals]
    # z is unused: zeros, as torch.func
    _close(F.jacrev(make(ag), argnums=(0, 1, 2))(*args), torch.func.jacrev(make(torch), argnums=(0, 1, 2))(*targs))
    _close(F.jacfwd(make(ag), argnums=(0, 2))(*args), torch.func.jacfwd(make(torch), argnums=(0, 2))(*targs))
    tangents = [np.random.default_rng(15).normal(size=3) for _ in range(3)]
    _close(F.jvp(make(ag), tuple(args), tuple(_ag(t, device) for t in tangents)),
           torch.func.jvp(make(torch), tuple(targs), tuple(torch.tensor(t) for t in tangents)))
    out, vjp_fn = F.vjp(make(ag), *args)
    tout, tvjp_fn = torch.func.vjp(make(torch), *targs)
    u = (np.ones(3), np.array(0.5))
    _close(vjp_fn(tuple(_ag(v, device) for v in u)), tvjp_fn(tuple(torch.tensor(v) for v in u)))
    # an output that does not depend on the input at all
    _close(F.grad(lambda x: (args[1] * 2).sum())(args[0]), torch.zeros(3, dtype=torch.float64))


def test_callers_tensors_untouched_and_composes_with_backward(device, torch):
    x0 = _input((3,), 16)
    x = _ag(x0, device, requires_grad=True)
    tx = torch.tensor(x0, requires_grad=True)

    def make(m):
        return lambda x: (m.sin(x) * x * x).sum()

    g = F.grad(make(ag))(x)
    tg = torch.func.grad(make(torch))(tx)
    assert x.grad is None and x.requires_grad and x.is_leaf
    # x requires grad: the gradient stays differentiable w.r.t. x, as with torch.func
    assert g.requires_grad and tg.requires_grad
    (g * g).sum().backward()
    (tg * tg).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-10)

    y = _ag(x0, device)
    data_before = to_numpy(y).copy()
    F.hessian(make(ag))(y)
    F.jacfwd(make(ag))(y)
    F.vjp(make(ag), y)[1](_ag(1.0, device))
    assert not y.requires_grad and y.grad is None
    np.testing.assert_array_equal(to_numpy(y), data_before)


def test_no_perturbation_confusion(device, torch):
    # d/dx [x * (d/dy x*y)] = d/dx x^2 = 2x: the inner derivative must not see the outer x
    def make(m, G):
        return lambda x: x * G(lambda y: (x * y).sum())(m.ones_like(x)).sum()

    x0 = np.array(1.5)
    ours = F.grad(make(ag, F.grad))(_ag(x0, device))
    theirs = torch.func.grad(make(torch, torch.func.grad))(torch.tensor(x0))
    _close(ours, theirs)
    np.testing.assert_allclose(ours.item(), 3.0)


def test_closure_over_tracked_parameter(device, torch):
    # grad w.r.t. the data x, differentiated afterwards w.r.t. a parameter w via backward()
    w0, x0 = _input((3,), 17), _input((3,), 18)
    w = _ag(w0, device, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    gx = F.grad(lambda x: (ag.tanh(w * x) ** 2).sum())(_ag(x0, device))
    tgx = torch.func.grad(lambda x: (torch.tanh(tw * x) ** 2).sum())(torch.tensor(x0))
    _close(gx, tgx)
    gx.sum().backward()
    tgx.sum().backward()
    np.testing.assert_allclose(to_numpy(w.grad), tw.grad.numpy(), rtol=1e-10)


def test_works_under_no_grad(device):
    x = _ag([1.0, 2.0], device)
    with ag.no_grad():
        g = F.grad(lambda x: (x ** 3).sum())(x)
    np.testing.assert_allclose(to_numpy(g), [3.0, 12.0])


def test_float32_on_device(device, torch):
    x0 = _input((4,), 19).astype(np.float32)
    x = ag.tensor(x0, device=device)
    h = F.hessian(lambda x: (ag.exp(x) * x).sum())(x)
    th = torch.func.hessian(lambda x: (torch.exp(x) * x).sum())(torch.tensor(x0))
    assert h.dtype == ag.float32 and str(h.device).startswith(device)
    np.testing.assert_allclose(to_numpy(h), th.numpy(), rtol=2e-3, atol=1e-6)


def test_errors_name_the_problem(device):
    x = _ag([1.0, 2.0], device)
    with pytest.raises(RuntimeError, match="scalar Tensor.*vjp or jacrev"):
        F.grad(lambda x: x * 2)(x)
    with pytest.raises(RuntimeError, match="pair"):
        F.grad(lambda x: x.sum(), has_aux=True)(x)
    with pytest.raises(TypeError, match="argument 0 .* got float"):
        F.grad(lambda x: x * 2)(1.0)
    with pytest.raises(RuntimeError, match="floating point"):
        F.grad(lambda x: x.sum())(ag.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError, match="same shape"):
        F.jvp(lambda x: x * 2, (x,), (_ag([1.0], device),))
    out, vjp_fn = F.vjp(lambda x: (x, x.sum()), x)
    with pytest.raises(RuntimeError, match="structure"):
        vjp_fn(_ag([1.0, 1.0], device))


def test_vjp_and_jvp_with_aux(device, torch):
    def make(m):
        return lambda x: (m.exp(x) * x, x.sum() * 3.0)

    x0, v0 = _input((3,), 20), np.random.default_rng(21).normal(size=3)
    x, tx = _ag(x0, device), torch.tensor(x0)
    out, vjp_fn, aux = F.vjp(make(ag), x, has_aux=True)
    tout, tvjp_fn, taux = torch.func.vjp(make(torch), tx, has_aux=True)
    _close((out, aux, vjp_fn(_ag(v0, device))), (tout, taux, tvjp_fn(torch.tensor(v0))))
    out, jv, aux = F.jvp(make(ag), (x,), (_ag(v0, device),), has_aux=True)
    tout, tjv, taux = torch.func.jvp(make(torch), (tx,), (torch.tensor(v0),), has_aux=True)
    _close((out, jv, aux), (tout, tjv, taux))
    jac, aux = F.jacrev(make(ag), has_aux=True)(x)
    tjac, taux = torch.func.jacrev(make(torch), has_aux=True)(tx)
    _close((jac, aux), (tjac, taux))
    jac, aux = F.jacfwd(make(ag), has_aux=True)(x)
    _close((jac, aux), (tjac, taux))


hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

_UNARY = {
    "sin": lambda m, x: m.sin(x), "tanh": lambda m, x: m.tanh(x), "exp": lambda m, x: m.exp(x * 0.3),
    "square": lambda m, x: x * x, "sigmoid": lambda m, x: m.sigmoid(x),
    "softplus": lambda m, x: m.nn.functional.softplus(x) if m is not ag else ag.softplus(x),
    "cumsum_like": lambda m, x: x + x.sum(-1, keepdim=True) * 0.5,
}


@settings(max_examples=20, deadline=None)
@given(
    # 0-d inputs: see test_third_derivative_of_zero_dim_input
    shape=st.sampled_from([(1,), (3,), (2, 3), (1, 4)]),
    ops=st.lists(st.sampled_from(sorted(_UNARY)), min_size=1, max_size=4),
    seed=st.integers(0, 2 ** 16),
)
def test_property_random_compositions(shape, ops, seed, torch):
    def make(m):
        def f(x):
            for o in ops:
                x = _UNARY[o](m, x)
            return x

        return f

    x0 = np.random.default_rng(seed).normal(size=shape)
    x, tx = _ag(x0, "cpu"), torch.tensor(x0)
    expect = torch.func.jacrev(make(torch))(tx)
    _close(F.jacrev(make(ag))(x), expect, rtol=1e-8, atol=1e-12)
    _close(F.jacfwd(make(ag))(x), expect, rtol=1e-8, atol=1e-12)
    s, ts = (lambda x: make(ag)(x).sum()), (lambda x: make(torch)(x).sum())
    _close(F.hessian(s)(x), torch.func.hessian(ts)(tx), rtol=1e-7, atol=1e-10)
