"""Custom autograd Functions (``autograd.Function``) against PyTorch: the same class bodies
are built for both libraries by factories taking the module."""
import gc
import weakref

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd import Function, gradcheck, gradgradcheck
from conftest import to_numpy

# torch.func's first use compiles helpers with torch.jit, which warns about its deprecation
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    theirs = theirs.detach().numpy()
    assert tuple(ours.shape) == theirs.shape
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(to_numpy(ours), theirs, rtol=rtol, atol=atol)


def _pair(m, a, device=None, requires_grad=True):
    """The same float64 data as a tensor of module `m` (on `device` for autograd_gpu)."""
    a = np.asarray(a, dtype=np.float64)
    if m is ag:
        return ag.tensor(a, device=device, requires_grad=requires_grad)
    return m.tensor(a, requires_grad=requires_grad)


def _functions(m):
    """The custom Functions of the tests, written once for module `m`."""

    class ScaledExp(m.autograd.Function):
        """exp(k * x) with a non-Tensor k; saves its output; backward is differentiable."""

        @staticmethod
        def forward(ctx, x, k):
            y = (x * k).exp()
            ctx.save_for_backward(y)
            ctx.k = k
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y * ctx.k, None

    class MulAdd(m.autograd.Function):
        """(x * w + b, x * w): two inputs saved, two outputs, None for inputs not needing grad."""

        @staticmethod
        def forward(ctx, x, w, b):
            ctx.save_for_backward(x, w)
            p = x * w
            return p + b, p

        @staticmethod
        def backward(ctx, g_sum, g_prod):
            x, w = ctx.saved_tensors
            g = g_sum + g_prod
            gx = g * w if ctx.needs_input_grad[0] else None
            gw = g * x if ctx.needs_input_grad[1] else None
            gb = g_sum if ctx.needs_input_grad[2] else None
            return gx, gw, gb

    class Cube(m.autograd.Function):
        """x ** 3 in the setup_context form, with a defaulted scale argument."""

        generate_vmap_rule = True  # torch.func's jacrev vmaps (ignored by autograd_gpu)

        @staticmethod
        def forward(x, scale=1.0):
            return x ** 3 * scale

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.save_for_backward(x)
            ctx.scale = scale

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x ** 2 * g * ctx.scale, None

    class ClampNumpy(m.autograd.Function):
        """The NumPy round trip inside forward and backward (PyTorch's docs example)."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            y = np.maximum(x.detach().cpu().numpy(), 0.0)
            return m.from_numpy(y).to(x.device) + x.clamp(min=0) * 0.0

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            mask = (x.detach().cpu().numpy() > 0).astype(np.float64)
            return g * m.from_numpy(mask).to(g.device, g.dtype)

    return ScaledExp, MulAdd, Cube, ClampNumpy


AG_F = _functions(ag)


@pytest.fixture(scope="module")
def torch_functions(torch):
    return _functions(torch)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_forward_backward_match_torch(device, torch, torch_functions, dtype, rng):
    a = rng.uniform(-1, 1, (2, 3))
    w0, b0 = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3,))
    tol = dict(rtol=2e-3, atol=1e-6) if dtype == "float32" else {}
    results = {}
    for m, fns in (("ag", AG_F), ("torch", torch_functions)):
        mod = ag if m == "ag" else torch
        scaled_exp, mul_add, cube, clamp_np = fns
        dt = getattr(mod, dtype)
        mk = (lambda a: ag.tensor(a, dtype=dt, device=device, requires_grad=True)) if m == "ag" \
            else (lambda a: torch.tensor(a, dtype=dt, requires_grad=True))
        x, w, b = mk(a), mk(w0), mk(b0)
        y = scaled_exp.apply(x, 0.7)
        s, p = mul_add.apply(y, w, b)
        z = cube.apply(s, 2.0) + clamp_np.apply(p)
        z.sum().backward()
        results[m] = (y, s, p, z, x.grad, w.grad, b.grad,
                      [type(t.grad_fn).__name__ for t in (y, s, z)])
    ours, theirs = results["ag"], results["torch"]
    for o, t in zip(ours[:7], theirs[:7]):
        _close(o, t, **tol)
    assert ours[7][:2] == theirs[7][:2] == ["ScaledExpBackward", "MulAddBackward"]
    assert ours[3].grad_fn.name() == "AddBackward0"
    assert ours[1].grad_fn is ours[2].grad_fn and ours[2].output_nr == 1


def test_gradcheck_and_gradgradcheck(device, rng):
    scaled_exp, mul_add, cube, _ = AG_F
    x = ag.tensor(rng.uniform(-1, 1, (2, 3)), device=device, requires_grad=True)
    w = ag.tensor(rng.uniform(-1, 1, (2, 3)), device=device, requires_grad=True)
    b = ag.tensor(rng.uniform(-1, 1, (3,)), device=device, requires_grad=True)
    assert gradcheck(lambda x: scaled_exp.apply(x, 1.3), (x,))
    assert gradgradcheck(lambda x: scaled_exp.apply(x, 1.3), (x,))
    assert gradcheck(mul_add.apply, (x, w, b))
    assert gradgradcheck(mul_add.apply, (x, w, b))
    assert gradcheck(cube.apply, (x,))
    assert gradgradcheck(cube.apply, (x,))
    with pytest.raises(Exception, match="Jacobian mismatch"):
        wrong = _wrong_backward()
        gradcheck(wrong.apply, (x,))


def _wrong_backward():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, x):
            return x * x

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 x g

    return Wrong


def test_double_backward_matches_torch(device, torch, torch_functions, rng):
    a = rng.uniform(-1, 1, (4,))
    out = {}
    for name, mod, fns in (("ag", ag, AG_F), ("torch", torch, torch_functions)):
        scaled_exp, _, cube, _ = fns
        x = ag.tensor(a, device=device, requires_grad=True) if mod is ag else \
            torch.tensor(a, requires_grad=True)
        y = cube.apply(scaled_exp.apply(x, 0.5), 1.5).sum()
        (g,) = mod.autograd.grad(y, x, create_graph=True)
        (h,) = mod.autograd.grad(g.sum(), x, create_graph=True)
        (h3,) = mod.autograd.grad((h * h).sum(), x)
        out[name] = (g, h, h3)
    for o, t in zip(out["ag"], out["torch"]):
        _close(o, t)


def test_func_transforms_through_a_custom_function(device, torch, torch_functions, rng):
    a = rng.uniform(0.2, 1.0, (3,))
    v0 = rng.uniform(-1, 1, (3,))
    _, _, cube, _ = AG_F
    t_cube = torch_functions[2]

    def f(x):
        return cube.apply(x, 2.0).sin()

    def f_builtin(x):  # the same function from library ops (for jvp, which torch.func
        return (x ** 3 * 2.0).sin()  # cannot take through a Function without a jvp rule)

    def tf(x):
        return t_cube.apply(x, 2.0).sin()

    x, tx = ag.tensor(a, device=device), torch.tensor(a)
    v = ag.tensor(v0, device=device)
    _close(ag.func.grad(lambda x: f(x).sum())(x), torch.func.grad(lambda x: tf(x).sum())(tx))
    _close(ag.func.jacrev(f)(x), torch.func.jacrev(tf)(tx))
    _close(ag.func.hessian(lambda x: f(x).sum())(x),
           torch.func.jacrev(torch.func.jacrev(lambda x: tf(x).sum()))(tx))  # (no jvp rule)
    out, vjp_fn = ag.func.vjp(f, x)
    t_out, t_vjp_fn = torch.func.vjp(tf, tx)
    _close(out, t_out)
    _close(vjp_fn(v)[0], t_vjp_fn(torch.tensor(v0))[0])
    _, jv = ag.func.jvp(f, (x,), (v,))
    _, jv_builtin = ag.func.jvp(f_builtin, (x,), (v,))
    np.testing.assert_allclose(to_numpy(jv), to_numpy(jv_builtin), rtol=1e-12)
    np.testing.assert_allclose(to_numpy(ag.func.jacfwd(f)(x)), to_numpy(ag.func.jacrev(f)(x)),
                               rtol=1e-12)
    assert not x.requires_grad and x.grad is None


def _record_grads(m, materialize):
    seen = []

    class Two(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(materialize)
            i = x.argmax()
            ctx.mark_non_differentiable(i)
            return x * 2, x * 3, i, 5

        @staticmethod
        def backward(ctx, g1, g2, gi, g5):
            seen.extend([g1, g2, gi, g5])
            return g1 * 2 + (0 if g2 is None else g2 * 3)

    return Two, seen


@pytest.mark.parametrize("materialize", [True, False])
def test_unused_outputs_non_differentiable_and_non_tensor_outputs(device, torch, materialize):
    res = {}
    for mod in (ag, torch):
        two, seen = _record_grads(mod, materialize)
        x = _pair(mod, [1.0, 3.0, 2.0], device)
        a, b, i, five = two.apply(x)
        assert five == 5 and not i.requires_grad and a.requires_grad and b.requires_grad
        a.sum().backward()
        res[mod] = (seen, x.grad, a.grad_fn.next_functions)
    (s_ag, g_ag, nf_ag), (s_t, g_t, nf_t) = res[ag], res[torch]
    _close(g_ag, g_t)
    assert len(nf_ag) == len(nf_t) == 1
    assert [s is None for s in s_ag] == [s is None for s in s_t]
    for o, t in zip(s_ag, s_t):
        if t is not None:
            _close(o, t)


def _dirty(m):
    class MulInPlace(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class DirtyNotReturned(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return g

    return MulInPlace, DirtyNotReturned


def test_mark_dirty_in_place_forward(device, torch):
    for mod in (ag, torch):
        mul_in_place, not_returned = _dirty(mod)
        a = _pair(mod, [1.0, -2.0, 3.0], device)
        b = a * 1
        c = mul_in_place.apply(b)
        assert c is b and type(b.grad_fn).__name__ == "MulInPlaceBackward"
        assert (b._version_number if mod is ag else b._version) == 2
        (c * c).sum().backward()
        assert a.grad.tolist() == [8.0, -16.0, 24.0]  # d (2a)^2 / da = 8a
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used "
                                               "in an in-place operation"):
            mul_in_place.apply(a)
        with pytest.raises(RuntimeError, match="Some elements marked as dirty during the forward "
                                               "method were not returned as output"):
            not_returned.apply(a * 1)
    with ag.no_grad():  # nothing recorded: the input itself comes back, changed
        x = ag.tensor([1.0, 2.0], device=device)
        mul_in_place, _ = _dirty(ag)
        assert mul_in_place.apply(x) is x and x.tolist() == [2.0, 4.0]


def test_saved_tensor_modified_in_place_raises(device, torch):
    for mod in (ag, torch):
        scaled_exp, mul_add, _, _ = AG_F if mod is ag else _functions(torch)
        x = _pair(mod, [0.5, 1.0], device)
        h = x * 1
        s, _ = mul_add.apply(h, x, x)
        h.add_(1)  # an input saved by MulAdd
        with pytest.raises(RuntimeError, match="one of the variables needed for gradient "
                                               "computation has been modified by an inplace "
                                               "operation: .* is at version 1; expected version 0"):
            s.sum().backward()
        y = scaled_exp.apply(x, 2.0)
        y.mul_(3)  # its saved output
        with pytest.raises(RuntimeError, match="modified by an inplace operation.*output 0 of "
                                               "ScaledExp"):
            y.sum().backward()


def test_second_backward_needs_retain_graph(device):
    scaled_exp = AG_F[0]
    x = ag.tensor([0.1, 0.2], device=device, requires_grad=True)
    y = scaled_exp.apply(x, 2.0).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(to_numpy(x.grad), 2 * 2 * np.exp(2 * np.array([0.1, 0.2])))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def _bad(m):
    def fn(backward):
        return type("F", (m.autograd.Function,), {
            "forward": staticmethod(lambda ctx, x, k: x * k),
            "backward": staticmethod(backward),
        })

    return {
        "too_few": fn(lambda ctx, g: g),
        "too_many": fn(lambda ctx, g: (g, None, g)),
        "extra_nones": fn(lambda ctx, g: (g, None, None)),
        "shape": fn(lambda ctx, g: (g.sum(0), None)),
        "non_tensor_input": fn(lambda ctx, g: (g, 1.0)),
        "not_a_tensor": fn(lambda ctx, g: (1.0, None)),
        "broadcast_and_cast": fn(lambda ctx, g: (
            (g * 0 + 1).double().expand(4, 2, 3) if m is ag else
            m.ones(4, 2, 3, dtype=m.float64), None)),
    }


@pytest.mark.parametrize("case, message", [
    ("too_few", r"function FBackward returned an incorrect number of gradients \(expected 2, "
                r"got 1\)"),
    ("too_many", r"function FBackward returned an incorrect number of gradients \(expected 2, "
                 r"got 3\)"),
    ("shape", r"Function FBackward returned an invalid gradient at index 0 - got \[3\] but "
              r"expected shape compatible with \[2, 3\]"),
    ("non_tensor_input", r"function FBackward returned a gradient different than None at "
                         r"position 2, but the corresponding forward input was not a Variable"),
    ("not_a_tensor", r"expected Variable or None \(got float\)"),
])
def test_bad_gradients_raise_torch_errors(device, torch, case, message):
    for mod in (ag, torch):
        f = _bad(mod)[case]
        x = mod.ones(2, 3, requires_grad=True) if mod is torch else \
            ag.ones(2, 3, device=device, requires_grad=True)
        with pytest.raises(RuntimeError, match=message):
            f.apply(x, 2.0).sum().backward()


def test_gradients_summed_to_the_input_shape_and_cast(device, torch):
    for mod in (ag, torch):
        fns = _bad(mod)
        x = mod.ones(2, 3, requires_grad=True) if mod is torch else \
            ag.ones(2, 3, device=device, requires_grad=True)
        fns["extra_nones"].apply(x, 2.0).sum().backward()
        assert x.grad.tolist() == [[1.0] * 3] * 2
        x.grad = None
        fns["broadcast_and_cast"].apply(x, 2.0).sum().backward()
        assert x.grad.tolist() == [[4.0] * 3] * 2 and str(x.grad.dtype).endswith("float32")


def test_inputs_without_grad_and_grad_mode_off(device, torch):
    for mod in (ag, torch):
        _, mul_add, _, _ = AG_F if mod is ag else _functions(torch)
        x = _pair(mod, [1.0, 2.0], device)
        w = _pair(mod, [3.0, 4.0], device, requires_grad=False)
        s, p = mul_add.apply(x, w, w)
        s.sum().backward()
        assert x.grad.tolist() == [3.0, 4.0] and w.grad is None
        with mod.no_grad():
            s, _ = mul_add.apply(x, w, w)
        assert s.grad_fn is None and not s.requires_grad
        s, _ = mul_add.apply(w, w, w)
        assert s.grad_fn is None and not s.requires_grad


def test_ctx_in_forward(device, torch):
    for mod in (ag, torch):
        seen = {}

        class Probe(mod.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                seen["needs"] = ctx.needs_input_grad
                seen["grad_mode"] = mod.is_grad_enabled()
                ctx.note = "kept"
                return x * y * k

            @staticmethod
            def backward(ctx, g):
                seen["note"] = ctx.note
                seen["backward_grad_mode"] = mod.is_grad_enabled()
                return g, None, None

        x = _pair(mod, [1.0], device)
        y = _pair(mod, [2.0], device, requires_grad=False)
        out = Probe.apply(x, y, 3)
        assert out.grad_fn.needs_input_grad == (True, False, False)
        out.sum().backward()
        assert seen == {"needs": (True, False, False), "grad_mode": False, "note": "kept",
                        "backward_grad_mode": False}


def test_once_differentiable(device, torch):
    for mod in (ag, torch):
        once = mod.autograd.function.once_differentiable

        class Square(mod.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @once
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = _pair(mod, [1.0, 2.0], device)
        (g,) = mod.autograd.grad(Square.apply(x).sum(), x)
        assert g.tolist() == [2.0, 4.0]
        v = _pair(mod, [1.0, 1.0], device)
        (g,) = mod.autograd.grad(Square.apply(x), x, v, create_graph=True)
        assert g.requires_grad
        with pytest.raises(RuntimeError, match="trying to differentiate twice a function that "
                                               "was marked with @once_differentiable"):
            g.sum().backward()


def test_vjp_spelling_and_missing_methods(torch):
    for mod in (ag, torch):
        class ByVjp(mod.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

            @staticmethod
            def vjp(ctx, g):
                return g * 3

        class NoBackward(mod.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 3

        x = mod.ones(2, requires_grad=True)
        ByVjp.apply(x).sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]
        with pytest.raises(NotImplementedError, match="You must implement either the backward "
                                                      "or vjp method"):
            NoBackward.apply(x).sum().backward()
        with pytest.raises(NotImplementedError, match="You must implement the forward function"):
            mod.autograd.Function.apply(x)


def test_graph_is_freed_without_the_cyclic_collector(device):
    scaled_exp = AG_F[0]
    gc.disable()
    try:
        x = ag.tensor([0.1, 0.2], device=device, requires_grad=True)
        y = scaled_exp.apply(x, 2.0)  # saves its own output
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
    finally:
        gc.enable()


def test_hooks_and_retain_grad_on_outputs(device):
    scaled_exp = AG_F[0]
    x = ag.tensor([0.0, 1.0], device=device, requires_grad=True)
    y = scaled_exp.apply(x, 1.0)
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert y.grad.tolist() == [10.0, 10.0]
    np.testing.assert_allclose(to_numpy(x.grad), 10 * np.exp([0.0, 1.0]))


def test_save_for_backward_rejects_non_tensors(torch):
    for mod in (ag, torch):
        class SaveInt(mod.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3)
                return x * 1

            @staticmethod
            def backward(ctx, g):
                return g

        with pytest.raises(TypeError, match="save_for_backward can only save variables, but "
                                            "argument 1 is of type int"):
            SaveInt.apply(mod.ones(2, requires_grad=True))


def test_public_names():
    assert ag.autograd.Function is Function
    assert ag.autograd.function.Function is Function
    assert callable(ag.autograd.function.once_differentiable)
    from autograd_gpu.autograd.node import Node

    assert issubclass(AG_F[0]._backward_cls, Node)
    x = ag.ones(2, requires_grad=True)
    y = AG_F[0].apply(x, 1.0)
    assert isinstance(y.grad_fn, ag.autograd.function.FunctionCtx)
    assert repr(y.grad_fn).startswith("<ScaledExpBackward object at")
