"""Checks that `make mutate` (tests/mutation) found missing: each test here fails on mutants
that the rest of the suite let live (docs/development.md, "Mutation testing").

Every value is compared with PyTorch's (the `torch` fixture) or with a value derived by hand,
at the points the op table keeps clear of: ties at a kink or bound, zeros, NaN.
"""
import math
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
import autograd_gpu.nn.functional  # noqa: F401  (the M.F namespace of the lambdas)
from conftest import to_numpy


class _Lib:
    def __init__(self, mod, functional):
        self._mod, self.F = mod, functional

    def __getattr__(self, name):
        return getattr(self._mod, name)


def _grads(lib, fn, arrays, seed, create=False):
    xs = [lib.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(lib, *xs)
    g = lib.tensor(np.array(seed, dtype=np.float64))
    return xs, out, lib.autograd.grad(out, xs, g, create_graph=create, allow_unused=True)


def _check_vjp(torch, fn, arrays, seed=None):
    """fn's output and its vector-Jacobian product with `seed` (ones by default) equal
    PyTorch's, NaN where PyTorch has NaN."""
    ours_lib, theirs_lib = _Lib(ag, ag.nn.functional), _Lib(torch, torch.nn.functional)
    shape = np.broadcast_shapes(*[np.shape(a) for a in arrays])
    seed = np.ones(shape) if seed is None else seed
    _, out, ours = _grads(ours_lib, fn, arrays, seed)
    _, tout, theirs = _grads(theirs_lib, fn, arrays, seed)
    np.testing.assert_allclose(to_numpy(out), tout.detach().numpy(), rtol=1e-12, atol=0)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        b = np.zeros(np.shape(arrays[i])) if b is None else b.numpy()
        a = np.zeros(np.shape(arrays[i])) if a is None else to_numpy(a)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=f"gradient of input {i}")


# ---------------------------------------------------------------- elementwise formulas at ties

TIES = {
    # op, inputs: values on a kink or bound (where the op table never samples)
    "clamp_both": (lambda M, x: M.clamp(x, -1.0, 2.0), [[-1.5, -1.0, 0.0, 2.0, 2.5]]),
    "clamp_min": (lambda M, x: M.clamp(x, min=-1.0), [[-1.5, -1.0, 0.0, 2.0]]),
    "clamp_max": (lambda M, x: M.clamp(x, max=2.0), [[-1.0, 2.0, 2.5]]),
    "elu_at_0": (lambda M, x: M.F.elu(x, alpha=1.5), [[-1.0, 0.0, 1.0]]),
    "leaky_relu_at_0": (lambda M, x: M.F.leaky_relu(x, 0.2), [[-1.0, 0.0, 1.0]]),
    "softplus_at_threshold": (lambda M, x: M.F.softplus(x, beta=2.0, threshold=4.0),
                              [[1.0, 2.0, 2.5]]),
    "abs_at_0": (lambda M, x: M.abs(x), [[-2.0, 0.0, 3.0]]),
    "abs_at_nan": (lambda M, x: M.abs(x), [[np.nan, -1.0]]),
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(TIES))
def test_elementwise_gradients_at_ties_match_torch(name, torch):
    fn, arrays = TIES[name]
    _check_vjp(torch, fn, arrays, seed=np.linspace(0.5, 1.5, np.size(arrays[0])))


# ---------------------------------------------------------------- optimizer updates: their refusals


def _refusal(fn, message, **kw):
    p, g = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError) as info:
        fn(p, g, **kw)
    assert str(info.value) == message
    np.testing.assert_array_equal(p, 0.0)  # (refused before anything is written)


def test_sgd_update_refuses_momentum_without_its_buffer():
    from autograd_gpu.optim import _functional as OF

    _refusal(OF.sgd_update, "sgd_update: momentum != 0 needs a momentum_buffer array",
             momentum_buffer=None, lr=0.1, momentum=0.5, dampening=0.0, nesterov=False,
             weight_decay=0.0, maximize=False, first_step=True)


def test_adam_update_refuses_amsgrad_without_its_buffer():
    from autograd_gpu.optim import _functional as OF

    _refusal(OF.adam_update, "adam_update: amsgrad=True needs a max_exp_avg_sq array",
             exp_avg=np.zeros(3), exp_avg_sq=np.zeros(3), max_exp_avg_sq=None, step=1, lr=0.1,
             beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=True,
             maximize=False, decoupled_weight_decay=False)


@pytest.mark.parametrize("momentum", [0.5, 1.0, 2.0])
def test_rmsprop_update_refuses_momentum_without_its_buffer(momentum):
    """Any momentum > 0 needs the buffer (0.5: a momentum below 1 too)."""
    from autograd_gpu.optim import _functional as OF

    _refusal(OF.rmsprop_update, "rmsprop_update: momentum > 0 needs a momentum_buffer array",
             square_avg=np.zeros(3), momentum_buffer=None, grad_avg=None, lr=0.1, alpha=0.9,
             eps=1e-8, weight_decay=0.0, momentum=momentum, centered=False, maximize=False)


def test_rmsprop_update_refuses_centered_without_its_buffer():
    from autograd_gpu.optim import _functional as OF

    _refusal(OF.rmsprop_update, "rmsprop_update: centered=True needs a grad_avg array",
             square_avg=np.zeros(3), momentum_buffer=None, grad_avg=None, lr=0.1, alpha=0.9,
             eps=1e-8, weight_decay=0.0, momentum=0.0, centered=True, maximize=False)


# ---------------------------------------------------------------- optimizer updates: their values


def _one_step_matches_torch(torch, name, kw, p0, g, device="cpu", rtol=1e-12):
    p = ag.tensor(p0.copy(), requires_grad=True, device=device)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    ours, theirs = getattr(ag.optim, name)([p], **kw), getattr(torch.optim, name)([tp], **kw)
    for step in range(3):
        p.grad = ag.tensor(g * (step + 1), device=device)
        tp.grad = torch.tensor(g * (step + 1))
        ours.step()
        theirs.step()
        np.testing.assert_allclose(to_numpy(p), tp.detach().numpy(), rtol=rtol, atol=0,
                                   err_msg=f"{name} {kw}, step {step + 1}")


@pytest.mark.oracle
@pytest.mark.parametrize("kw", [dict(lr=0.1, weight_decay=2.0), dict(lr=2.0),
                                dict(lr=2.0, momentum=0.5, weight_decay=2.0)],
                         ids=["weight_decay=2", "lr=2", "lr=2,momentum,weight_decay=2"])
def test_sgd_with_a_factor_of_two_matches_torch(torch, kw):
    """A multiplier of +-2 in an fma (lr, weight decay): not the +-1 that needs no product."""
    rng = np.random.default_rng(3)
    _one_step_matches_torch(torch, "SGD", kw, rng.standard_normal(7), rng.standard_normal(7))


@pytest.mark.oracle
def test_a_large_float32_parameter_updated_whole_matches_torch(torch):
    """A transposed float32 parameter (updated whole, not by blocks) above the size of the
    kept float64 scratch (2**20 elements): its scratch is a new array of its shape."""
    rng = np.random.default_rng(4)
    p0 = rng.standard_normal((1030, 1024)).astype(np.float32).T
    g = rng.standard_normal((1024, 1030)).astype(np.float32)
    assert p0.size * 8 > (1 << 23) and not p0.flags.c_contiguous
    p = ag.tensor(np.zeros((1030, 1024), np.float32)).T.detach()
    p.copy_(ag.tensor(p0))
    p.requires_grad_()
    assert not p.is_contiguous()
    tp = torch.tensor(p0.copy(), requires_grad=True)
    kw = dict(lr=0.1, momentum=0.9, weight_decay=0.01)
    ours, theirs = ag.optim.SGD([p], **kw), torch.optim.SGD([tp], **kw)
    for step in range(2):
        p.grad, tp.grad = ag.tensor(g), torch.tensor(g)
        ours.step()
        theirs.step()
        np.testing.assert_allclose(to_numpy(p), tp.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.oracle
@pytest.mark.parametrize("name,kw", [("Adamax", dict(lr=0.1, weight_decay=0.1)),
                                     ("NAdam", dict(lr=0.1)), ("RAdam", dict(lr=0.1)),
                                     ("ASGD", dict(lr=0.1))])
def test_other_optimizers_on_the_gpu_device_match_torch(torch, name, kw):
    """The optimizers whose update is array code outside the fused kernels get the array
    module of their parameter's device."""
    if not ag.cuda.is_available():
        pytest.skip("no CUDA device (nor the CuPy stand-in)")
    rng = np.random.default_rng(5)
    _one_step_matches_torch(torch, name, kw, rng.standard_normal(9), rng.standard_normal(9),
                            device="cuda", rtol=1e-10)


# ---------------------------------------------------------------- where the op table does not go


@pytest.mark.oracle
@pytest.mark.parametrize("name", [
    "softplus_at_threshold", "elu_at_0",
])
def test_second_derivatives_at_ties_match_torch(name, torch):
    """d/dx of the gradient (create_graph) at the kink: softplus's threshold, elu's 0."""
    fn = {"softplus_at_threshold": lambda M, x: M.F.softplus(x, beta=2.0, threshold=4.0),
          "elu_at_0": lambda M, x: M.F.elu(x, alpha=1.5)}[name]
    arrays = {"softplus_at_threshold": [1.0, 2.0, 2.5], "elu_at_0": [-1.0, 0.0, 1.0]}[name]
    res = []
    for lib in (_Lib(ag, ag.nn.functional), _Lib(torch, torch.nn.functional)):
        x = lib.tensor(np.array(arrays), requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib, x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * lib.tensor(np.array([0.5, 1.0, 1.5]))).sum(), x)
        res.append([g.detach().cpu().numpy() if hasattr(g, "cpu") else g.detach().numpy(),
                    h.detach().cpu().numpy() if hasattr(h, "cpu") else h.detach().numpy()])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


# two inputs, three (addcmul, addcdiv, lerp with a tensor weight); every subset that requires grad
PARTIAL = {
    "add": (lambda M, a, b: M.add(a, b, alpha=1.5), 2),
    "sub": (lambda M, a, b: a - b, 2),
    "mul": (lambda M, a, b: a * b, 2),
    "div": (lambda M, a, b: a / b, 2),
    "pow": (lambda M, a, b: M.pow(a, b), 2),
    "addcmul": (lambda M, a, b, c: M.addcmul(a, b, c, value=2.0), 3),
    "addcdiv": (lambda M, a, b, c: M.addcdiv(a, b, c, value=2.0), 3),
    "lerp_scalar": (lambda M, a, b: M.lerp(a, b, 0.3), 2),
    "lerp_tensor": (lambda M, a, b, c: M.lerp(a, b, c), 3),
}


def _partial_cases():
    for name, (_, n) in sorted(PARTIAL.items()):
        for mask in range(1, 2 ** n):
            yield pytest.param(name, mask, id=f"{name}-{mask:0{n}b}")


@pytest.mark.oracle
@pytest.mark.parametrize("name,mask", list(_partial_cases()))
@pytest.mark.parametrize("create", [False, True], ids=["first", "create_graph"])
def test_gradients_with_some_inputs_not_requiring_grad_match_torch(torch, name, mask, create):
    """The op table's leaves all require grad; here only some do (each subset), with the
    value= of addcmul/addcdiv 2 (not the 1 that needs no product)."""
    fn, n = PARTIAL[name]
    rng = np.random.default_rng(mask)
    arrays = [rng.uniform(0.5, 2.0, (2, 3)) for _ in range(n)]
    seed = rng.standard_normal((2, 3))
    res = []
    for lib in (ag, torch):
        xs = [lib.tensor(a.copy(), requires_grad=bool(mask >> (n - 1 - i) & 1))
              for i, a in enumerate(arrays)]
        out = fn(_Lib(lib, None), *xs)
        want = [x for x in xs if x.requires_grad]
        gs = lib.autograd.grad(out, want, lib.tensor(seed), create_graph=create)
        res.append([g.detach().cpu().numpy() if hasattr(g, "cpu") else g.detach().numpy()
                    for g in gs])
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0)


# pow where a base or an exponent is 0 (or the base negative): PyTorch's masks
POW_AT_ZERO = {
    "tensor_tensor": (lambda M, a, b: M.pow(a, b), [[0.0, 0.0, 0.0, 2.0, 0.0]],
                      [[0.0, 1.5, -1.0, 0.0, 2.0]]),
    "tensor_0": (lambda M, a: a ** 0, [[0.0, 1.5, -2.0]], None),
    "tensor_1": (lambda M, a: a ** 1, [[0.0, 1.5, -2.0]], None),
    "tensor_2": (lambda M, a: a ** 2, [[0.0, 1.5, -2.0]], None),
    "tensor_3": (lambda M, a: a ** 3, [[0.0, 1.5, -2.0]], None),
    "tensor_half": (lambda M, a: a ** 0.5, [[0.25, 1.5, 4.0]], None),
    "zero_tensor": (lambda M, b: 0.0 ** b, [[-1.5, 0.0, 0.5, 2.0]], None),
    "half_tensor": (lambda M, b: 0.5 ** b, [[-1.5, 0.0, 0.5, 2.0]], None),
    "negative_tensor": (lambda M, b: (-2.0) ** b, [[-1.0, 0.0, 2.0, 3.0]], None),
}


_POW_OPEN = {
    ("zero_tensor", 2): "0.0 ** tensor: Pow.backward's d/db where the base is 0",
    ("tensor_tensor", 2): "under create_graph d/da of a ** b is not masked where b == 0: "
                          "0 * 0 ** -1 is nan where PyTorch gives 0",
}


def _pow_cases():
    for name in sorted(POW_AT_ZERO):
        for order in (1, 2):
            why = _POW_OPEN.get((name, order))
            marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
            yield pytest.param(name, order, id=f"{order}-{name}", marks=marks)


@pytest.mark.oracle
@pytest.mark.parametrize("name,order", list(_pow_cases()))
def test_pow_gradients_at_zero_match_torch(torch, name, order):
    """First derivatives (and, order 2, the first and second under create_graph) of pow at a
    zero base or exponent, and of a number base 0, 0.5 or -2 raised to a tensor."""
    fn, a0, b0 = POW_AT_ZERO[name]
    res = []
    for lib in (ag, torch):
        xs = [lib.tensor(np.array(v[0]), requires_grad=True)
              for v in ([a0] if b0 is None else [a0, b0])]
        with warnings.catch_warnings():
            # (0 ** negative in the forward and in d/da = b a^(b-1) warns from NumPy; the
            # values are PyTorch's)
            warnings.simplefilter("ignore", RuntimeWarning)
            out = fn(lib, *xs)
            seed = lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))
            gs = lib.autograd.grad(out, xs, seed, create_graph=order == 2)
            got = [g.detach() for g in gs]
            if order == 2:
                w = [lib.tensor(np.linspace(1.0, 2.0, g.numel()).reshape(tuple(g.shape)))
                     for g in gs]
                total = sum((g * v).sum() for g, v in zip(gs, w))
                hs = (lib.autograd.grad(total, xs, allow_unused=True) if total.requires_grad
                      else [None] * len(xs))  # (x ** 0: a constant gradient here)
                got += [lib.zeros_like(x) if h is None else h.detach() for h, x in zip(hs, xs)]
        res.append([to_numpy(g) if isinstance(g, ag.Tensor) else g.numpy() for g in got])
    for i, (a, b) in enumerate(zip(*res)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=0, err_msg=f"{name}: result {i}")


@pytest.mark.oracle
def test_cast_backward_matches_torch(torch):
    """A gradient through a dtype conversion comes back in the input's dtype."""
    res = []
    for lib in (ag, torch):
        x = lib.tensor(np.array([0.5, -1.25, 3.0]), requires_grad=True)  # float64
        y = (x.to(lib.float32) * lib.tensor(np.array([1.0, 2.0, 3.0], np.float32))).sum()
        (g,) = lib.autograd.grad(y, x)
        assert g.dtype == lib.float64
        res.append(g.detach().numpy() if lib is torch else to_numpy(g))
    np.testing.assert_array_equal(*res)


# ---------------------------------------------------------------- the losses' backward formulas


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_mse_backward_formulas_match_torch(torch, dtype):
    """The formulas the fused kernels mirror (ops/loss.mse_backward, mse_x_backward), on NumPy
    arrays, against PyTorch's gradient of mse_loss(reduction='none') for a seed g."""
    from autograd_gpu.ops import loss as L

    rng = np.random.default_rng(6)
    x, t, g = (rng.standard_normal((3, 4)).astype(dtype) for _ in range(3))
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    ex, et = torch.autograd.grad(torch.nn.functional.mse_loss(tx, tt, reduction="none"),
                                 (tx, tt), torch.tensor(g))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    gx, gt = L.mse_backward(x, t, g, 2.0)
    np.testing.assert_allclose(gx, ex.numpy(), rtol=rtol)
    np.testing.assert_allclose(gt, et.numpy(), rtol=rtol)
    np.testing.assert_allclose(L.mse_x_backward(x, t, g, 2.0), ex.numpy(), rtol=rtol)


@pytest.mark.oracle
@pytest.mark.parametrize("has_pw", [False, True])
def test_bce_with_logits_backward_formulas_match_torch(torch, has_pw):
    """ops/loss.bce_logits_backward and bce_logits_x_backward (weight, pos_weight, a seed g)
    against PyTorch's gradient of binary_cross_entropy_with_logits(reduction='none')."""
    from autograd_gpu.ops import loss as L

    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 4)) * 3
    t, g = rng.random((3, 4)), rng.standard_normal((3, 4))
    w = rng.random((3, 4)) + 0.5
    pw = rng.random(4) * 3 + 0.2 if has_pw else np.ones(4)
    tx, tt = torch.tensor(x, requires_grad=True), torch.tensor(t, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        tx, tt, weight=torch.tensor(w), pos_weight=torch.tensor(pw) if has_pw else None,
        reduction="none")
    ex, et = torch.autograd.grad(loss, (tx, tt), torch.tensor(g))
    gx, gt = L.bce_logits_backward(x, t, w, pw, g, has_pw)
    np.testing.assert_allclose(gx, ex.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(gt, et.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(L.bce_logits_x_backward(x, t, w, pw, g, has_pw), ex.numpy(),
                               rtol=1e-10, atol=1e-14)


@pytest.mark.oracle
@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cross_entropy_gradient_dtype_device_and_values_match_torch(torch, device, dtype):
    """The logits' gradient keeps their dtype and device (label smoothing, class weights,
    an ignored target)."""
    if device == "cuda" and not ag.cuda.is_available():
        pytest.skip("no CUDA device (nor the CuPy stand-in)")
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((5, 4)).astype(dtype)
    target = np.array([0, 3, 1, 2, 1])
    w = (rng.random(4) + 0.5).astype(dtype)
    res = []
    for lib in (ag, torch):
        dev = dict(device=device) if lib is ag else {}
        x = lib.tensor(logits.copy(), requires_grad=True, **dev)
        loss = lib.nn.functional.cross_entropy(
            x, lib.tensor(target, **dev), weight=lib.tensor(w, **dev), label_smoothing=0.1,
            ignore_index=2)
        (g,) = lib.autograd.grad(loss * 3.0, x)
        assert str(g.dtype).endswith(dtype)
        if lib is ag:
            assert g.device.type == device
        res.append(to_numpy(g) if lib is ag else g.numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-5 if dtype == "float32" else 1e-12,
                               atol=1e-7 if dtype == "float32" else 1e-15)


# ---------------------------------------------------------------- the engine's rules


def _np(t):
    return to_numpy(t) if isinstance(t, ag.Tensor) else t.detach().numpy()


def _both(torch, fn):
    """fn(lib) for autograd_gpu and PyTorch, each result as NumPy (None stays None)."""
    return [[None if r is None else _np(r) for r in fn(lib)] for lib in (ag, torch)]


def _assert_same(pair, rtol=1e-12):
    ours, theirs = pair
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert (a is None) == (b is None), f"result {i}: {a} vs {b}"
        if a is not None:
            assert a.dtype == b.dtype, f"result {i}: {a.dtype} vs {b.dtype}"
            assert a.shape == b.shape, f"result {i}: {a.shape} vs {b.shape}"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=0, err_msg=f"result {i}")


@pytest.mark.oracle
def test_backward_and_grad_defaults_match_torch(torch):
    """autograd.backward and autograd.grad build no graph unless asked (create_graph=False),
    and backward(inputs=...) accumulates into those leaves only."""
    for lib in (ag, torch):
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        w = lib.tensor(np.array([3.0, -1.0]), requires_grad=True)
        (g,) = lib.autograd.grad((x * x * w).sum(), x)
        assert not g.requires_grad and g.grad_fn is None
        lib.autograd.backward((x * x * w).sum())
        assert not x.grad.requires_grad
        np.testing.assert_array_equal(_np(x.grad), [6.0, -4.0])
        x.grad = None
        w.grad = None
        lib.autograd.backward((x * w).sum(), inputs=[w])
        assert x.grad is None
        np.testing.assert_array_equal(_np(w.grad), [1.0, 2.0])
        lib.autograd.backward([(x * w).sum()], [lib.tensor(2.0)], inputs=[x])
        np.testing.assert_array_equal(_np(x.grad), [6.0, -2.0])


@pytest.mark.oracle
def test_several_outputs_and_the_same_leaf_twice_match_torch(torch):
    """Two scalar outputs at once (not the one-scalar fast path), an output listed twice, and
    leaves given as outputs themselves: every seed gradient is summed."""
    def run(lib):
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = lib.tensor(np.array([0.5, -1.0]), requires_grad=True)
        lib.autograd.backward([(x * x).sum(), (x * y).sum()])
        a = x.grad.clone()
        x.grad = None
        s = (x * y).sum()
        lib.autograd.backward([s, s], [lib.tensor(2.0), lib.tensor(3.0)])
        b = x.grad.clone()
        gx = lib.autograd.grad([x, x, y], [x, y], [lib.tensor(np.array([1.0, 2.0])),
                                                    lib.tensor(np.array([0.5, 0.5])),
                                                    lib.tensor(np.array([4.0, 5.0]))])
        return [a, b, *gx]

    _assert_same(_both(torch, run))


@pytest.mark.oracle
def test_grad_results_allow_unused_and_materialize_match_torch(torch):
    """Unused inputs anywhere in the list (None, or zeros with materialize_grads), and the
    inputs after them still get their gradients."""
    def run(lib):
        x = lib.tensor(np.array([1.0, 2.0]), requires_grad=True)
        u = lib.tensor(np.array([7.0]), requires_grad=True)
        y = lib.tensor(np.array([3.0, 4.0]), requires_grad=True)
        out = (x * y).sum()
        a = lib.autograd.grad(out, [u, x, u, y], allow_unused=True, retain_graph=True)
        b = lib.autograd.grad(out, [x, u, y], materialize_grads=True)
        return [*a, *b]

    _assert_same(_both(torch, run))


@pytest.mark.oracle
@pytest.mark.parametrize("create", [False, True])
def test_mixed_dtype_gradients_have_their_inputs_dtype_like_torch(torch, create):
    def run(lib):
        x = lib.tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
        w = lib.tensor(np.array([0.25, 3.0]), requires_grad=True)  # float64
        out = (x.to(lib.float64) * w).sum()
        return list(lib.autograd.grad(out, [x, w], create_graph=create))

    _assert_same(_both(torch, run))


@pytest.mark.oracle
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_implicit_seed_of_a_one_element_output_matches_torch(torch, shape, dtype):
    """A one-element output of any rank takes the implicit gradient 1 of its dtype and shape
    (autograd.grad and backward with inputs: not the one-scalar fast path)."""
    def run(lib):
        x = lib.tensor(np.array([1.5, -2.0], getattr(np, dtype)), requires_grad=True)
        out = (x * x).sum().reshape(shape) * 3
        (g,) = lib.autograd.grad(out, x, retain_graph=True)
        lib.autograd.backward(out, inputs=[x], retain_graph=True)
        (h,) = lib.autograd.grad(out, x, create_graph=True)
        return [g, x.grad, h]

    _assert_same(_both(torch, run))


def test_implicit_seed_of_a_larger_output_is_refused():
    x = ag.tensor(np.array([1.5, -2.0]), requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        ag.autograd.grad(x * 2, x)
    assert str(info.value) == (
        "grad can be implicitly created only for scalar outputs (the output has shape [2]; "
        "pass a gradient of that shape, e.g. backward(torch.ones_like(out)), or reduce it "
        "with .sum())")
    with pytest.raises(RuntimeError) as info:
        ag.autograd.grad((x * 2).sum(), ag.tensor(1.0))
    assert str(info.value) == "One of the differentiated Tensors (input 0) does not require grad"


@pytest.mark.oracle
@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_grad_outputs_of_every_kind_match_torch(torch, device):
    """A seed given as a raw array or list (converted to the output's dtype and device), or as
    a tensor that requires grad (detached unless create_graph)."""
    if device == "cuda" and not ag.cuda.is_available():
        pytest.skip("no CUDA device (nor the CuPy stand-in)")
    x = ag.tensor(np.array([1.5, -2.0], np.float32), requires_grad=True, device=device)
    out = x * x
    (a,) = ag.autograd.grad(out, x, [np.array([1.0, 3.0])], retain_graph=True)
    (b,) = ag.autograd.grad(out, x, [[1.0, 3.0]], retain_graph=True)
    s = ag.tensor(np.array([1.0, 3.0], np.float32), requires_grad=True, device=device)
    (c,) = ag.autograd.grad(out, x, s, retain_graph=True)
    (d,) = ag.autograd.grad(out, x, s, create_graph=True)
    tx = torch.tensor(np.array([1.5, -2.0], np.float32), requires_grad=True)
    (ref,) = torch.autograd.grad(tx * tx, tx, torch.tensor([1.0, 3.0]))
    for g in (a, b, c, d):
        assert g.dtype == ag.float32 and g.device.type == device
        np.testing.assert_array_equal(to_numpy(g), ref.numpy())
    assert not c.requires_grad and d.requires_grad  # (d depends on the seed s)


def test_a_seed_on_another_device_is_refused():
    if not ag.cuda.is_available() or ag.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices (or the CuPy stand-in's two)")
    for out_dev, seed_dev in (("cuda:0", "cpu"), ("cpu", "cuda:0"), ("cuda:0", "cuda:1")):
        x = ag.tensor(np.array([1.5, -2.0]), requires_grad=True, device=out_dev)
        out = x * 2
        with pytest.raises(RuntimeError) as info:
            ag.autograd.grad(out, x, ag.ones(2, device=seed_dev))
        assert str(info.value) == (
            "Expected all tensors to be on the same device, but found at least two devices, "
            f"{out_dev} and {seed_dev}! (in MulBackward0; move one with .to(device) first)")


@pytest.mark.oracle
@pytest.mark.parametrize("create", [False, True])
@pytest.mark.parametrize("which", [0, 1, 2])
def test_multi_output_nodes_with_unused_outputs_match_torch(torch, create, which):
    """Outputs of one node (unbind, max's values and indices, split) of which only some
    receive a gradient: the others count as zeros."""
    def run(lib):
        x = lib.tensor(np.array([[1.0, 4.0, 2.0], [3.0, -1.0, 0.5]]), requires_grad=True)
        parts = x.unbind(1)
        v, _ = x.max(1)
        chunks = x.split(1, 0)
        out = ((parts[which] * 2).sum() + (v * v).sum() * (which == 1)
               + (chunks[which % 2] ** 2).sum())
        (g,) = lib.autograd.grad(out, x, create_graph=create)
        res = [g]
        if create:
            (h,) = lib.autograd.grad((g * g).sum(), x)
            res.append(h)
        return res

    _assert_same(_both(torch, run))


@pytest.mark.oracle
def test_grad_with_respect_to_an_intermediate_matches_torch(torch):
    """autograd.grad runs only the nodes between the outputs and the inputs asked for (here
    an intermediate tensor, with branches that do not lead to it)."""
    def run(lib):
        x = lib.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        h = x * x
        other = (x * 3).exp()
        out = (h.sin() * 2).sum() + other.sum() + (h * other).sum()
        return list(lib.autograd.grad(out, [h, x]))

    _assert_same(_both(torch, run))


@pytest.mark.oracle
def test_hooks_on_a_multi_output_node_with_an_unused_output_match_torch(torch):
    """The hooks of the outputs after one that gets no gradient still run (PyTorch also
    calls that one's hook, with None; this library skips it)."""
    def run(lib):
        x = lib.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        a, b, c = x.unbind(0)
        seen = []
        a.register_hook(lambda g: seen.append("a"))
        c.register_hook(lambda g: (seen.append("c"), g * 10)[1])
        (b * 2 + c * 3).backward()
        assert "c" in seen
        return [x.grad]

    _assert_same(_both(torch, run))


def test_nonleaf_grad_warning_is_a_user_warning():
    x = ag.tensor(np.array([1.0]), requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed") as rec:
        y.grad
    assert [w.category for w in rec] == [UserWarning]


# ---------------------------------------------------------------- save and load


def test_a_round_trip_keeps_every_kind_of_value(tmp_path):
    """Parameters stay Parameters (with their requires_grad), dict and OrderedDict keep their
    type, non-finite floats, dtypes and devices come back as they were saved."""
    from collections import OrderedDict

    from autograd_gpu.nn import Parameter

    p = Parameter(ag.tensor(np.array([1.0, 2.0])))
    frozen = Parameter(ag.tensor(np.array([3.0])), requires_grad=False)
    t = ag.tensor(np.array([4.0]), requires_grad=True)
    obj = {"p": p, "frozen": frozen, "t": t, "plain": ag.tensor(np.array([5.0])),
           "od": OrderedDict([("b", 1), ("a", 2)]), "d": {"x": 1.5},
           "floats": [math.inf, -math.inf, math.nan, 0.25], "dtypes": [ag.float32, ag.int64],
           "device": ag.device("cpu"), 3: "int key"}
    ag.save(obj, tmp_path / "all")
    r = ag.load(tmp_path / "all")
    assert type(r["p"]) is Parameter and r["p"].requires_grad and r["p"].tolist() == [1.0, 2.0]
    assert type(r["frozen"]) is Parameter and not r["frozen"].requires_grad
    assert r["frozen"].tolist() == [3.0]
    assert type(r["t"]) is ag.Tensor and r["t"].requires_grad and r["t"].tolist() == [4.0]
    assert type(r["plain"]) is ag.Tensor and not r["plain"].requires_grad
    assert type(r["od"]) is OrderedDict and list(r["od"].items()) == [("b", 1), ("a", 2)]
    assert type(r["d"]) is dict and r["d"] == {"x": 1.5}
    inf, ninf, nan, q = r["floats"]
    assert inf == math.inf and ninf == -math.inf and math.isnan(nan) and q == 0.25
    assert r["dtypes"] == [ag.float32, ag.int64] and r["device"] == ag.device("cpu")
    assert r[3] == "int key"


@pytest.mark.parametrize("key", [True, (1, 2), 1.5])
def test_save_refuses_dict_keys_other_than_str_and_int(tmp_path, key):
    with pytest.raises(TypeError) as info:
        ag.save({key: 1}, tmp_path / "k")
    assert str(info.value) == (
        f"autograd_gpu.save: dict keys must be str or int, got {type(key).__name__}")


def test_save_refuses_objects_with_the_whole_message(tmp_path):
    with pytest.raises(TypeError) as info:
        ag.save({"f": print}, tmp_path / "f")
    assert str(info.value) == (
        "autograd_gpu.save cannot store a builtin_function_or_method: only tensors, numbers, "
        "strings, None, and dicts/lists/tuples of them are saved (files never hold code). "
        "For a model or optimizer, save its state_dict().")


def test_a_save_writes_a_hidden_temporary_beside_the_file_then_renames_it(tmp_path,
                                                                         monkeypatch):
    """The temporary is `.<name>.<random>.tmp` in the target's folder (a rename within one
    file system is atomic), with open()'s permissions."""
    import os
    import re
    import stat

    renames = []
    real = os.replace

    def replace(src, dst):
        renames.append((src, dst, stat.S_IMODE(os.stat(src).st_mode)))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    old = os.umask(0o027)
    try:
        ag.save(ag.ones(2), tmp_path / "ckpt.agt")
    finally:
        os.umask(old)
    ((src, dst, mode),) = renames
    assert os.path.dirname(src) == str(tmp_path) and str(dst) == str(tmp_path / "ckpt.agt")
    assert re.fullmatch(r"\.ckpt\.agt\.[^/.]+\.tmp", os.path.basename(src)), src
    assert mode == 0o640
    assert sorted(os.listdir(tmp_path)) == ["ckpt.agt"]


def test_a_failing_save_names_the_file_and_the_error(tmp_path, monkeypatch):
    import os

    def replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", replace)
    path = tmp_path / "full.agt"
    with pytest.raises(RuntimeError) as info:
        ag.save(ag.ones(2), path)
    assert str(info.value) == (
        f"autograd_gpu.save: writing {path} failed (OSError: [Errno 28] No space left on "
        "device); the file there, if any, is unchanged")


def _rewrite_header(path, **changes):
    import json
    import zipfile

    with np.load(path, allow_pickle=False) as npz:
        entries = {k: npz[k] for k in npz.files}
    header = json.loads(bytes(entries["__autograd_gpu__"]).decode("utf-8"))
    header.update(changes)
    entries["__autograd_gpu__"] = np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **entries)
    assert zipfile.is_zipfile(path)


def test_load_refuses_a_newer_format_version(tmp_path):
    path = tmp_path / "new.agt"
    ag.save({"w": ag.ones(2)}, path)
    _rewrite_header(path, version=2)
    with pytest.raises(RuntimeError) as info:
        ag.load(path)
    assert str(info.value) == (
        f"autograd_gpu.load: {path} was written by a newer format version (2); this library "
        "reads version 1")
    _rewrite_header(path, version=1)
    assert ag.load(path)["w"].tolist() == [1.0, 1.0]


def test_load_refuses_a_bad_map_location_with_the_whole_message(tmp_path):
    path = tmp_path / "m.agt"
    ag.save(ag.ones(2), path)
    with pytest.raises(TypeError) as info:
        ag.load(path, map_location=3)
    assert str(info.value) == (
        "autograd_gpu.load: map_location must be a device, a device name, a dict or a "
        "callable, got int")
    with pytest.raises(TypeError) as info:
        ag.load(path, map_location=lambda t, location: None)
    assert str(info.value) == (
        "autograd_gpu.load: map_location(tensor, location) returned None; return the tensor "
        "(moved where it should go) or a device")


def test_every_form_of_map_location_puts_each_tensor_where_it_says(tmp_path):
    """Tensors saved on cpu, cuda:0 and cuda:1 (the CuPy stand-in's two devices where no GPU
    is lent), loaded with map_location a name, a device, a dict (a location it does not name
    stays) and a callable (returning the tensor moved, or a device)."""
    if not ag.cuda.is_available() or ag.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices (or the CuPy stand-in's two)")
    path = tmp_path / "devices.agt"
    saved = ["cpu", "cuda:0", "cuda:1"]
    ag.save([ag.tensor(np.array([float(i), -1.0]), device=d) for i, d in enumerate(saved)], path)

    def devices(r):
        assert [t.tolist() for t in r] == [[float(i), -1.0] for i in range(3)]
        return [str(t.device) for t in r]

    assert devices(ag.load(path)) == saved
    assert devices(ag.load(path, map_location="cpu")) == ["cpu"] * 3
    assert devices(ag.load(path, map_location=ag.device("cuda:1"))) == ["cuda:1"] * 3
    assert devices(ag.load(path, map_location={"cuda:0": "cuda:1", "cuda:1": "cpu"})) == [
        "cpu", "cuda:1", "cpu"]
    assert devices(ag.load(path, map_location={"cpu": ag.device("cuda:0")})) == [
        "cuda:0", "cuda:0", "cuda:1"]
    seen = []

    def move(t, location):
        seen.append((location, str(t.device), t.tolist()))
        return t.to("cuda:1") if location == "cpu" else t

    assert devices(ag.load(path, map_location=move)) == ["cuda:1", "cpu", "cpu"]
    assert seen == [(d, "cpu", [float(i), -1.0]) for i, d in enumerate(saved)]
    assert devices(ag.load(path, map_location=lambda t, location: "cuda:0")) == ["cuda:0"] * 3
