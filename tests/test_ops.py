"""Table-driven checks of every differentiable op in tests/op_db.py.

For each op case and each sample (the GUIDE shapes: scalar, vector, matrix, broadcasting, a 3-D
batch, zero-size, non-contiguous views):
  - first-order gradcheck and second-order gradgradcheck (float64, eps=1e-6, atol=1e-5,
    rtol=1e-3: PyTorch's defaults), on each device;
  - forward values and vector-Jacobian products equal PyTorch's (CPU, float64);
  - backward is reentrant (bit-identical twice), a zero output gradient gives zero input
    gradients, and each gradient has its input's shape, dtype and device;
  - a float32 subset against the float64 oracle at rtol=2e-3.
"""
import numpy as np
import pytest

import autograd_gpu as ag
import autograd_gpu.nn.functional  # noqa: F401  (the M.F namespace of the op lambdas)
from autograd_gpu.autograd import gradcheck, gradgradcheck
from op_db import OPS, Lib, case_samples
from conftest import to_numpy

AG = Lib(ag, ag.nn.functional)

PARAMS = []
for _case in OPS:
    for _s in case_samples(_case):
        PARAMS.append(pytest.param(_case, _s, id=f"{_case.name}-{_s.desc}"))

# second order costs (inputs + outputs) numerical columns per evaluation: keep it to small inputs
GG_PARAMS = [p for p in PARAMS if p.values[0].gradgrad and sum(a.size for a in p.values[1].arrays) <= 12]
F32_PARAMS = [p for p in PARAMS if p.values[0].f32]


@pytest.fixture(autouse=True)
def _numpy_constants_on_the_cpu_only(request):
    """A case whose op mixes in a raw NumPy array (tag "ndarray") is a CPU case: with a cuda
    tensor that array is a device mismatch, as in PyTorch (tests/test_cuda_semantics.py)."""
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    case = params.get("case")
    if case is not None and "ndarray" in case.tags and params.get("device") == "cuda":
        pytest.skip("a NumPy constant with a cuda tensor is a device-mismatch error")


def _leaves(sample, device, dtype=ag.float64):
    return [ag.tensor(a, dtype=dtype, device=device, requires_grad=True) for a in sample.arrays]


def _fn(case, lib, sample):
    views = sample.views or (None,) * len(sample.arrays)

    def f(*xs):
        xs = [v(x) if v is not None else x for v, x in zip(views, xs)]
        return case.op(lib, *xs)

    return f


def _outs(out):
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _float_outs(out):
    return [o for o in _outs(out) if o.dtype.is_floating_point]


def _seeds(outs, rng, lib_tensor):
    return [lib_tensor(rng.standard_normal(tuple(o.shape))) for o in outs]


# ---------------------------------------------------------------- gradcheck


@pytest.mark.parametrize("case,sample", PARAMS)
def test_gradcheck(case, sample, device):
    xs = _leaves(sample, device)
    assert gradcheck(_fn(case, AG, sample), xs)


def test_second_derivative_through_saved_scalar_output():
    """NumPy returns a scalar, not a 0-d array, from a ufunc on a 0-d array; an op that saves
    such an output must still see it tied to its node under create_graph."""
    x = ag.tensor(0.5, dtype=ag.float64, requires_grad=True)
    (g,) = ag.autograd.grad(ag.exp(x), x, create_graph=True)
    (h,) = ag.autograd.grad(g, x)
    assert h.item() == pytest.approx(np.exp(0.5), rel=1e-12)
    v = ag.tensor([0.5, 2.0, 3.0], dtype=ag.float64, requires_grad=True)
    (g,) = ag.autograd.grad(v.prod(), v, create_graph=True)
    (h,) = ag.autograd.grad(g[0], v)
    np.testing.assert_allclose(to_numpy(h), [0.0, 3.0, 2.0])


@pytest.mark.parametrize("case,sample", GG_PARAMS)
def test_gradgradcheck(case, sample, device):
    ag.manual_seed(0)
    xs = _leaves(sample, device)
    assert gradgradcheck(_fn(case, AG, sample), xs)


@pytest.mark.parametrize("view", ["transpose", "column_slice"])
def test_gradcheck_accepts_a_noncontiguous_leaf(view, device):
    base = ag.tensor(np.arange(1.0, 13.0).reshape(3, 4), dtype=ag.float64, device=device)
    x = (base.T if view == "transpose" else base[:, 1:3]).detach().requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda a: (a * a.exp()).sum(0), (x,))
    assert gradgradcheck(lambda a: (a * a.exp()).sum(0), (x,))


# ---------------------------------------------------------------- the PyTorch oracle


def _torch_leaves(torch, sample, dtype):
    return [torch.tensor(a, dtype=dtype, requires_grad=True) for a in sample.arrays]


def _vjp(lib_grad, outs, xs, vs):
    pairs = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    if not pairs:
        return [None] * len(xs)
    return lib_grad([o for o, _ in pairs], xs, [v for _, v in pairs], allow_unused=True)


def _compare(ours, theirs, rtol, atol, what):
    a = to_numpy(ours) if isinstance(ours, ag.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy()
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs PyTorch's {b.shape}"
    if b.dtype.kind in "iub":
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def _oracle(case, sample, device, torch, dtype, rtol, atol):
    if not case.oracle:
        pytest.skip(f"{case.name}: PyTorch has no such op")
    tlib = Lib(torch, torch.nn.functional)
    xs = _leaves(sample, device, dtype)
    txs = _torch_leaves(torch, sample, torch.float64)
    out = _fn(case, AG, sample)(*xs)
    tout = _fn(case, tlib, sample)(*txs)
    outs, touts = _outs(out), _outs(tout)
    assert len(outs) == len(touts), f"{len(outs)} outputs, PyTorch gives {len(touts)}"
    for k, (o, t) in enumerate(zip(outs, touts)):
        _compare(o, t, rtol, atol, f"{case.name} output {k}")
        if o.dtype.is_floating_point:
            assert o.dtype == dtype, f"output {k} is {o.dtype}, expected {dtype}"
    fo = _float_outs(out)
    tfo = [t for t in touts if t.dtype.is_floating_point]
    rng = np.random.default_rng(1)
    vs_np = [rng.standard_normal(tuple(t.shape)) for t in tfo]
    g = _vjp(ag.autograd.grad, fo, xs, [ag.tensor(v, dtype=dtype, device=device) for v in vs_np])
    tg = _vjp(torch.autograd.grad, tfo, txs, [torch.tensor(v) for v in vs_np])
    for i, (a, b) in enumerate(zip(g, tg)):
        b = torch.zeros_like(txs[i]) if b is None else b
        a = ag.zeros(xs[i].shape, dtype=dtype) if a is None else a
        assert a.dtype == dtype, f"gradient of input {i} is {a.dtype}, its input {dtype}"
        _compare(a, b, rtol, atol, f"{case.name} gradient of input {i}")


@pytest.mark.oracle
@pytest.mark.parametrize("case,sample", PARAMS)
def test_matches_torch(case, sample, device, torch):
    _oracle(case, sample, device, torch, ag.float64, case.rtol, case.atol)


@pytest.mark.oracle
@pytest.mark.parametrize("case,sample", F32_PARAMS)
def test_matches_torch_float32(case, sample, device, torch):
    """float32 inputs against the float64 oracle, at JAX's float32 tolerance."""
    _oracle(case, sample, device, torch, ag.float32, 2e-3, 1e-5)


@pytest.mark.parametrize("case", [c for c in OPS if "ndarray" not in c.tags], ids=lambda c: c.name)
def test_float32_in_float32_out_and_gradients(case, device):
    """Every op keeps float32 (outputs and gradients) on every sample: no float64 leaks from
    NumPy's promotion of Python scalars or of bool masks."""
    for sample in case_samples(case):
        xs = _leaves(sample, device, ag.float32)
        outs = _outs(_fn(case, AG, sample)(*xs))
        for o in outs:
            assert not o.dtype.is_floating_point or o.dtype == ag.float32, f"{sample.desc}: {o.dtype}"
        fo = [o for o in _float_outs(outs) if o.requires_grad]
        if not fo:
            continue
        gs = ag.autograd.grad(fo, xs, [ag.ones_like(o) for o in fo], allow_unused=True)
        for g in gs:
            assert g is None or g.dtype == ag.float32, f"{sample.desc}: gradient {g.dtype}"


# ---------------------------------------------------------------- backward's contract


@pytest.mark.parametrize("case,sample", PARAMS)
def test_backward_contract(case, sample, device):
    xs = _leaves(sample, device)
    outs = [o for o in _float_outs(_fn(case, AG, sample)(*xs)) if o.requires_grad]
    if not outs:
        pytest.skip(f"{case.name}: no output depends differentiably on the inputs here")
    rng = np.random.default_rng(2)
    vs = [ag.tensor(rng.standard_normal(tuple(o.shape)), device=device) for o in outs]
    g1 = ag.autograd.grad(outs, xs, vs, retain_graph=True, allow_unused=True)
    g2 = ag.autograd.grad(outs, xs, vs, retain_graph=True, allow_unused=True)
    zero = ag.autograd.grad(outs, xs, [ag.zeros_like(v) for v in vs], retain_graph=True,
                            allow_unused=True)
    for i, (x, a, b, z) in enumerate(zip(xs, g1, g2, zero)):
        if a is None:
            assert b is None and z is None
            continue
        assert tuple(a.shape) == tuple(x.shape), f"grad {i} shape {tuple(a.shape)} != {tuple(x.shape)}"
        assert a.dtype == x.dtype, f"grad {i} dtype {a.dtype} != {x.dtype}"
        assert a.device == x.device, f"grad {i} device {a.device} != {x.device}"
        assert not a.requires_grad
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg="backward not reentrant")
        if z is not None:
            assert not np.any(to_numpy(z)), f"zero output gradient gave nonzero grad {i}"
    # .backward() accumulates the same into .grad, with the input's shape/dtype/device
    ag.autograd.backward(outs, vs)
    for x, a in zip(xs, g1):
        if a is None:
            continue
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == x.dtype
        assert x.grad.device == x.device
        np.testing.assert_allclose(to_numpy(x.grad), to_numpy(a), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- third order


def _set_column(M, x):
    y = x * 1.0
    y[:, 1] = x[:, 0] ** 3
    return y ** 2


THIRD_ORDER = {
    "softmax": lambda M, x: M.softmax(x, 1) ** 2,
    "log_softmax": lambda M, x: M.log_softmax(x, 0) ** 2,
    "logsumexp": lambda M, x: M.logsumexp(x, 1) ** 2,
    "norm": lambda M, x: x.norm(dim=1) ** 3,
    "norm3": lambda M, x: x.norm(3) ** 2,
    "var": lambda M, x: x.var(1) ** 2,
    "std": lambda M, x: x.std() ** 3,
    "prod": lambda M, x: x.prod(1),
    "inverse": lambda M, x: M.inverse(x[:, :2] + M.eye(2, dtype=M.float64, device=x.device) * 2),
    "pinverse": lambda M, x: M.pinverse(x),
    "solve": lambda M, x: (M.linalg.solve if M.__name__ == "torch" else M.solve)(
        x[:, :2] + 2 * M.eye(2, dtype=M.float64, device=x.device), x[:, 2]),
    "matmul": lambda M, x: (x @ x.T) ** 2,
    "getitem": lambda M, x: x[M.tensor([0, 1, 1], device=x.device), M.tensor([2, 2, 0], device=x.device)] ** 3,
    "setitem": _set_column,
    "sigmoid": lambda M, x: M.sigmoid(x * 2),
    "tanh": lambda M, x: M.tanh(x * 2),
    "gelu": lambda M, x: M.F.gelu(x),
    "gelu_tanh": lambda M, x: M.F.gelu(x, approximate="tanh"),
    "silu": lambda M, x: M.F.silu(x),
    "softplus": lambda M, x: M.F.softplus(x),
    "elu": lambda M, x: M.F.elu(x - 1),
    "pow": lambda M, x: x ** x,
    "rpow": lambda M, x: 2.0 ** x,
    "div": lambda M, x: x[0] / x[1],
    "sqrt": lambda M, x: M.sqrt(x),
    "log": lambda M, x: M.log(x),
    "tan": lambda M, x: M.tan(x),
    "cat_stack": lambda M, x: M.stack([x, x * x]).sum(0) * M.cat([x, x], 1)[:, :3],
    "split": lambda M, x: x.split(1, 1)[0] ** 3,
    "where": lambda M, x: M.where(x > 1, x ** 3, x ** 2),
    "clamp": lambda M, x: M.clamp(x ** 3, 0.6, 2.0),
    "expand": lambda M, x: x[:, :1].expand(2, 3) ** 3,
    "mean": lambda M, x: x.mean(0) ** 3,
    "abs": lambda M, x: M.abs(x - 1) ** 3,
}


@pytest.mark.oracle
@pytest.mark.parametrize("name", sorted(THIRD_ORDER))
def test_third_derivatives_match_torch(name, device, torch):
    """Gradients of gradients of gradients (create_graph twice), as vector products."""
    rng = np.random.default_rng(5)
    x_np = rng.uniform(0.5, 1.5, (2, 3))
    v_np, w_np = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))

    def run(lib, mk, dev):
        x = mk(x_np, requires_grad=True)
        (g,) = lib.autograd.grad(THIRD_ORDER[name](lib, x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * mk(v_np)).sum(), x, create_graph=True)
        (t,) = lib.autograd.grad((h * mk(w_np)).sum(), x)
        return g, h, t

    ours = run(AG, lambda a, **kw: ag.tensor(a, dtype=ag.float64, device=device, **kw), device)
    theirs = run(Lib(torch, torch.nn.functional), lambda a, **kw: torch.tensor(a, **kw), None)
    for order, (a, b) in enumerate(zip(ours, theirs), 1):
        np.testing.assert_allclose(to_numpy(a), b.detach().numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"{name}: derivative of order {order}")
