"""autograd.functional (jacobian, hessian, vjp, jvp, vhp, hvp) against
torch.autograd.functional in float64: values, nesting of the results, and errors."""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd import functional as AF
from conftest import to_numpy

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _same(ours, theirs, rtol=1e-10, atol=1e-12):
    """Same nesting (tuples), shapes and values."""
    if isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), (type(ours), len(theirs))
        for o, t in zip(ours, theirs):
            _same(o, t, rtol, atol)
        return
    assert isinstance(ours, ag.Tensor), type(ours)
    t = theirs.detach().numpy()
    assert tuple(ours.shape) == t.shape
    assert ours.dtype == ag.float64
    np.testing.assert_allclose(to_numpy(ours), t, rtol=rtol, atol=atol)


def _flat(res):
    return [x for r in res for x in _flat(r)] if isinstance(res, tuple) else [res]


# each entry: f for module m, and the input shapes (a tuple of shapes -> a tuple of inputs)
FUNCS = {
    "one_to_one": (lambda m: lambda x: (x.exp() * x.sum()).sin(), (3,)),
    "matrix": (lambda m: lambda x: m.matmul(x, x.t()).tanh(), (2, 3)),
    "scalar_in": (lambda m: lambda x: m.stack([x ** 2, x.cos()]), ()),
    "tuple_in": (lambda m: lambda x, y: (x * y.sum()).sin() + y.mean(), ((3,), (2,))),
    "tuple_out": (lambda m: lambda x, y: (x * y, (x ** 2).sum() * y), ((2,), (2,))),
    "unused_input": (lambda m: lambda x, y: x.exp() * 2, ((2,), (3,))),
}
SCALAR = {
    "cubic": (lambda m: lambda x: (x ** 3).sum() + (x[0] * x[1]).sin(), (3,)),
    "two_inputs": (lambda m: lambda x, y: (x.exp() * y.sum() ** 2).sum(), ((2,), (3,))),
    "unused_input": (lambda m: lambda x, y: (x ** 2).sum(), ((2,), (2,))),
}


def _inputs(shapes, seed, device, torch):
    rng = np.random.default_rng(seed)
    single = not shapes or isinstance(shapes[0], int)
    arrays = [rng.uniform(0.2, 1.2, s) for s in ([shapes] if single else shapes)]
    ours = tuple(ag.tensor(a, device=device) for a in arrays)
    theirs = tuple(torch.tensor(a) for a in arrays)
    return (ours[0], theirs[0]) if single else (ours, theirs)


def _like(inputs, seed, device, torch):
    shapes = tuple(tuple(t.shape) for t in (inputs if isinstance(inputs, tuple) else (inputs,)))
    return _inputs(shapes[0] if not isinstance(inputs, tuple) else shapes, seed, device, torch)


@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_vjp_jvp_match_torch(name, create_graph, device, torch):
    build, shapes = FUNCS[name]
    f, tf = build(ag), build(torch)
    x, tx = _inputs(shapes, 0, device, torch)
    TF = torch.autograd.functional
    _same(AF.jacobian(f, x, create_graph=create_graph), TF.jacobian(tf, tx))
    _same(AF.jacobian(f, x, vectorize=True), TF.jacobian(tf, tx, vectorize=True))
    _same(AF.jacobian(f, x, vectorize=True, strategy="forward-mode"),
          TF.jacobian(tf, tx, vectorize=True, strategy="forward-mode"))
    outs = tf(*tx) if isinstance(tx, tuple) else tf(tx)
    v, tv = _like(outs, 1, device, torch)
    _same(AF.vjp(f, x, v, create_graph=create_graph), TF.vjp(tf, tx, tv))
    u, tu = _like(tx, 2, device, torch)
    _same(AF.jvp(f, x, u, create_graph=create_graph), TF.jvp(tf, tx, tu))


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_hessian_vhp_hvp_match_torch(name, device, torch):
    build, shapes = SCALAR[name]
    f, tf = build(ag), build(torch)
    x, tx = _inputs(shapes, 3, device, torch)
    v, tv = _like(tx, 4, device, torch)
    TF = torch.autograd.functional
    _same(AF.hessian(f, x), TF.hessian(tf, tx))
    _same(AF.hessian(f, x, vectorize=True, outer_jacobian_strategy="forward-mode"),
          TF.hessian(tf, tx, vectorize=True, outer_jacobian_strategy="forward-mode"))
    _same(AF.vhp(f, x, v), TF.vhp(tf, tx, tv))
    _same(AF.hvp(f, x, v), TF.hvp(tf, tx, tv))


def test_create_graph_results_are_differentiable(device, torch):
    a = np.array([0.3, 0.7, 1.1])
    out = {}
    for mod, fn in ((ag, AF), (torch, torch.autograd.functional)):
        x = ag.tensor(a, device=device, requires_grad=True) if mod is ag else \
            torch.tensor(a, requires_grad=True)

        def f(x):
            return (x ** 3).sum() * x[0]

        h = fn.hessian(f, x, create_graph=True)
        _, hv = fn.hvp(f, x, x * 1, create_graph=True)
        _, vh = fn.vhp(f, x, x * 1, create_graph=True)
        (g,) = mod.autograd.grad((h * h).sum() + hv.sum() + vh.sum(), x)
        assert h.requires_grad and x.grad is None
        no_graph = fn.jacobian(lambda x: x.exp(), x)
        assert not no_graph.requires_grad
        out[mod] = (h, hv, vh, g)
    _same(out[ag], tuple(out[torch]))


def test_v_may_be_omitted_for_single_elements(device, torch):
    x, tx = ag.tensor([0.5], device=device, dtype=ag.float64), torch.tensor([0.5], dtype=torch.float64)
    TF = torch.autograd.functional
    _same(AF.vjp(lambda x: (x * x).sum(), x), TF.vjp(lambda x: (x * x).sum(), tx))
    _same(AF.jvp(lambda x: x.exp() * 3, x), TF.jvp(lambda x: x.exp() * 3, tx))
    _same(AF.vhp(lambda x: (x ** 3).sum(), x), TF.vhp(lambda x: (x ** 3).sum(), tx))
    _same(AF.hvp(lambda x: (x ** 3).sum(), x), TF.hvp(lambda x: (x ** 3).sum(), tx))


def _error(call_ours, call_theirs, exc):
    with pytest.raises(exc) as ours:
        call_ours()
    with pytest.raises(exc) as theirs:
        call_theirs()
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("case", [
    "vjp_v_needed", "jvp_v_needed", "v_size", "v_tuple_length", "v_single", "strict_outputs",
    "strict_independent", "strict_vectorize", "hessian_tuple_out", "hessian_not_scalar",
    "vhp_not_scalar", "forward_mode_create_graph", "forward_mode_strict", "strict_jacobian",
])
def test_errors_match_torch(case, torch):
    TF = torch.autograd.functional
    x, tx = ag.ones(3, dtype=ag.float64), torch.ones(3, dtype=torch.float64)
    y, ty = ag.ones(2, dtype=ag.float64), torch.ones(2, dtype=torch.float64)
    calls = {
        "vjp_v_needed": lambda F, x, y: F.vjp(lambda x: x * 2, x),
        "jvp_v_needed": lambda F, x, y: F.jvp(lambda x: x * 2, x),
        "v_size": lambda F, x, y: F.vjp(lambda x: x * 2, x, y),
        "v_tuple_length": lambda F, x, y: F.jvp(lambda a, b: a * 2, (x, x), (x,)),
        "v_single": lambda F, x, y: F.vjp(lambda x: x * 2, x, (x, x)),
        "strict_outputs": lambda F, x, y: F.jacobian(lambda x: x.detach() * 2, x, strict=True),
        "strict_independent": lambda F, x, y: F.jacobian(lambda a, b: a * 2, (x, y), strict=True),
        "strict_vectorize": lambda F, x, y: F.jacobian(lambda x: x * 2, x, strict=True,
                                                       vectorize=True),
        "hessian_tuple_out": lambda F, x, y: F.hessian(lambda x: (x.sum(), x.sum()), x),
        "hessian_not_scalar": lambda F, x, y: F.hessian(lambda x: x * 2, x),
        "vhp_not_scalar": lambda F, x, y: F.vhp(lambda x: x * 2, x, x),
        "forward_mode_create_graph": lambda F, x, y: F.jacobian(
            lambda x: x * 2, x, create_graph=True, strategy="forward-mode", vectorize=True),
        "forward_mode_strict": lambda F, x, y: F.jacobian(
            lambda x: x * 2, x, strict=True, strategy="forward-mode", vectorize=True),
        "strict_jacobian": lambda F, x, y: F.hessian(lambda x: (x * 2).sum(), x, strict=True),
    }
    exc = NotImplementedError if case == "forward_mode_create_graph" else RuntimeError
    _error(lambda: calls[case](AF, x, y), lambda: calls[case](TF, tx, ty), exc)


def test_type_errors(torch):
    with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor "
                                        "or a tuple of Tensors but the given inputs has type "
                                        "<class 'list'>"):
        AF.jacobian(lambda x: x, [ag.ones(2)])
    with pytest.raises(TypeError, match="The outputs of the user-provided function given to vjp "
                                        "must be either a Tensor or a tuple of Tensors but the "
                                        "value at index 1 has type <class 'int'>"):
        AF.vjp(lambda x: (x, 3), ag.ones(2))
    with pytest.raises(NotImplementedError, match="only implemented for `vectorize=True`"):
        AF.jacobian(lambda x: x, ag.ones(2), strategy="forward-mode")


def test_independent_inputs_give_zeros_and_caller_tensors_untouched(device):
    x = ag.tensor([1.0, 2.0], dtype=ag.float64, device=device, requires_grad=True)
    y = ag.tensor([3.0], dtype=ag.float64, device=device)
    jx, jy = AF.jacobian(lambda a, b: a * 2, (x, y))
    assert to_numpy(jx).tolist() == [[2.0, 0.0], [0.0, 2.0]]
    assert tuple(jy.shape) == (2, 1) and not to_numpy(jy).any()
    assert x.grad is None and not y.requires_grad and x.is_leaf
    for t in _flat(AF.hessian(lambda a, b: (a * a).sum(), (x, y))):
        assert not t.requires_grad


def test_through_a_custom_function(device, torch):
    def cube(m):
        class Cube(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 3 * x * x * g

        return Cube

    c, tc = cube(ag), cube(torch)
    a = np.array([0.5, -1.5])
    x, tx = ag.tensor(a, device=device), torch.tensor(a)
    TF = torch.autograd.functional
    _same(AF.jacobian(c.apply, x), TF.jacobian(tc.apply, tx))
    _same(AF.hessian(lambda x: c.apply(x).sum(), x), TF.hessian(lambda x: tc.apply(x).sum(), tx))
    _same(AF.jvp(c.apply, x, x), TF.jvp(tc.apply, tx, tx))
