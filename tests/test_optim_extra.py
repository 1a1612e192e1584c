"""Optimizers' float32 numbers against torch.optim's, bit for bit; and the optimizers
NAdam, RAdam, Adamax, ASGD, Rprop and LBFGS against PyTorch's, step by step.

Rounding. PyTorch's CPU optimizers (the single-tensor path) call ATen kernels that, on
AVX2/AVX-512 machines, fuse the multiply-adds of ``add(alpha=)``, ``addcmul`` and ``lerp``;
optim/_functional.py rounds those the same way (correctly rounded, as a true fused
multiply-add: checked on the cases where rounding the float64 sum again to float32 is wrong,
tests/fma_reference.py), and every other operation as ATen does. The one operation NumPy cannot round as PyTorch does
is **sqrt**: torch.sqrt on the CPU goes through MKL's vector math in PyTorch's x86-64 wheels,
which here is not correctly rounded (up to 0.75 ulp measured on an AMD EPYC; NumPy's sqrt is
correctly rounded). So the tests below (1) swap in torch's sqrt for NumPy's inside
optim/_functional.py and then require PyTorch's parameters and state bit for bit, over
single steps and over 1,600-step runs, and (2) with NumPy's own sqrt, bound one step's
difference by one rounding of the sqrt carried through the update.
"""
import io
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import backend
from autograd_gpu.optim import _functional as F
from fma_reference import CASES as FMA_CASES
from fma_reference import assert_bits, by_factor
from test_optim import CASES, IDS

F32 = np.float32


class _NumpyWithTorchSqrt:
    """numpy, except that sqrt is torch.sqrt (MKL's rounding): set as optim/_functional's
    `np`, so every update computes its square roots as PyTorch does on this machine."""

    def __init__(self, torch):
        self._torch = torch

    def __getattr__(self, name):
        return getattr(np, name)

    def sqrt(self, x, out=None):
        r = self._torch.sqrt(self._torch.from_numpy(np.ascontiguousarray(x))).numpy()
        if out is None:
            return r
        out[...] = r
        return out


@pytest.fixture
def fused_torch(torch):
    """PyTorch, where its CPU kernels round add(alpha=) as one fused multiply-add (AVX2,
    AVX-512, NEON); elsewhere (ATEN_CPU_CAPABILITY=default) they round the product first
    and these bitwise tests do not apply."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(4096).astype(F32), rng.standard_normal(4096).astype(F32)
    s = 0.1234567
    got = torch.from_numpy(a).add(torch.from_numpy(b), alpha=s).numpy()
    fma = (b.astype(np.float64) * float(F32(s)) + a).astype(F32)
    if not np.array_equal(got, fma):
        pytest.skip("PyTorch's CPU kernels do not fuse multiply-adds here "
                    f"(capability {torch.backends.cpu.get_cpu_capability()})")
    return torch


@pytest.fixture
def torch_sqrt(fused_torch, monkeypatch):
    monkeypatch.setattr(F, "np", _NumpyWithTorchSqrt(fused_torch))
    return fused_torch


def _pair(torch, name, kw, p0):
    tp = torch.tensor(p0.copy(), requires_grad=True)
    op = ag.tensor(p0.copy(), requires_grad=True)
    return (op, getattr(ag.optim, name)([op], **kw)), (tp, getattr(torch.optim, name)([tp], **kw))


def _step_both(torch, ours, theirs, g):
    (op, oo), (tp, to) = ours, theirs
    op.grad = ag.tensor(g.copy())
    tp.grad = torch.from_numpy(g.copy())
    oo.step()
    to.step()


def _assert_same_state(ours, theirs, skip=()):
    (op, oo), (tp, to) = ours, theirs
    so, st = oo.state[op], to.state[tp]
    assert set(so) == set(st)
    for k in so:
        if k != "step" and k not in skip:
            np.testing.assert_array_equal(so[k].numpy(), st[k].numpy(), err_msg=k)


def _draws(n, steps, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n).astype(F32), [rng.standard_normal(n).astype(F32)
                                                for _ in range(steps)]


def test_numpy_float32_multiply_adds_are_correctly_rounded():
    """_fma_ (the formulas' add(alpha=), addcmul and lerp) on the cases where rounding the
    float64 sum again to float32 is wrong (tests/fma_reference.py: subnormal results, the
    largest float, every sign, exact zeros): the exact result rounded once, with the factor
    an array or a number, as c - (-a) b, written over c or a, on views and 0-d arrays, and
    through SGD's formula."""
    a, b, c, want = (np.array(col, F32) for col in zip(*FMA_CASES))
    out = np.empty_like(c)
    F._fma_(np, out, a, b, c)
    assert_bits(out, want, "factor array")
    F._fma_(np, out, -a, b, c, sub=True)
    assert_bits(out, want, "c - (-a) b")
    for over in ("c", "a"):
        a2, c2 = a.copy(), c.copy()
        F._fma_(np, c2 if over == "c" else a2, a2, b, c2)
        assert_bits(c2 if over == "c" else a2, want, f"written over {over}")
    strided = [np.repeat(x, 2)[::2] for x in (a, b, c)]
    out2 = np.empty(2 * c.size, F32)[1::2]
    F._fma_(np, out2, *strided)
    assert_bits(out2, want, "strided views")
    F._fma_(np, out.reshape(-1, 2), a.reshape(-1, 2), b.reshape(-1, 2), c.reshape(-1, 2))
    assert_bits(out, want, "2-D")
    for k in (0, 1, len(want) - 1):
        out0 = np.empty((), F32)
        F._fma_(np, out0, np.array(a[k]), np.array(b[k]), np.array(c[k]))
        assert_bits(out0, want[k], f"0-d, case {k}")
    for b, (a, c, want) in by_factor().items():
        F._fma_(np, out[:c.size], a, b, c)
        assert_bits(out[:c.size], want, f"factor {b!r}")
        F._fma_(np, out[:c.size], a, -b, c, sub=True)
        assert_bits(out[:c.size], want, f"factor -{b!r}, subtracted")
        p = c.copy()
        F._sgd_step(np, p, a, None, lr=-b, momentum=0.0, dampening=0.0, nesterov=False,
                    weight_decay=0.0, maximize=False, first_step=True)
        assert_bits(p, want, f"SGD, lr {-b!r}")


@pytest.mark.oracle
def test_pytorchs_float32_multiply_adds_are_correctly_rounded_too(torch):
    """Where PyTorch's CPU kernels use fused multiply-add instructions (AVX2, AVX-512), its
    add(alpha=), addcmul and SGD step give the cases' exact results too, as ours do."""
    capability = torch.backends.cpu.get_cpu_capability()
    if capability not in ("AVX2", "AVX512"):
        pytest.skip(f"PyTorch's CPU kernels here ({capability}) may not fuse multiply-adds")
    a, b, c, want = (np.array(col, F32) for col in zip(*FMA_CASES))
    t = torch.from_numpy
    assert_bits(t(c).addcmul(t(a), t(b)).numpy(), want, "addcmul")
    for b, (a, c, want) in by_factor().items():
        assert_bits(torch.add(t(c), t(a), alpha=b).numpy(), want, f"add, alpha {b!r}")
        tp = torch.tensor(c, requires_grad=True)
        tp.grad = t(a.copy())
        torch.optim.SGD([tp], lr=b, maximize=True).step()
        op = ag.nn.Parameter(ag.tensor(c))
        op.grad = ag.tensor(a)
        ag.optim.SGD([op], lr=b, maximize=True).step()
        assert_bits(tp.detach().numpy(), want, f"torch.optim.SGD, lr {b!r}")
        assert_bits(op.detach().numpy(), want, f"SGD, lr {b!r}")


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_float32_steps_are_pytorchs_bit_for_bit(torch_sqrt, name, kw):
    """Every option combination of the optimizer table, three steps (first step, the
    momentum/bias-correction branches after it) on 1003 elements (16-wide vector bodies and
    a scalar tail in ATen): parameters and every state buffer equal PyTorch's exactly."""
    torch = torch_sqrt
    p0, grads = _draws(1003, 3)
    ours, theirs = _pair(torch, name, kw, p0)
    for i, g in enumerate(grads):
        _step_both(torch, ours, theirs, g)
        np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy(),
                                      err_msg=f"step {i + 1}")
        _assert_same_state(ours, theirs)


# the state each optimizer computes from a square root (the rest must stay bit for bit)
_FROM_SQRT = {"RMSprop": ("momentum_buffer",), "Adadelta": ("acc_delta",)}


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_float32_step_with_numpys_sqrt_differs_by_its_rounding_only(fused_torch, monkeypatch,
                                                                      name, kw):
    """Three steps with torch's sqrt (the same state on both sides), then one with NumPy's:
    NumPy's sqrt is within an ulp of MKL's, which moves the update by a relative 2^-23 or
    so (twice, for Adadelta's two roots) and the final addition by at most an ulp of the
    result. State that no square root feeds stays equal bit for bit."""
    torch = fused_torch
    p0, grads = _draws(1003, 4, seed=1)
    ours, theirs = _pair(torch, name, kw, p0)
    with monkeypatch.context() as m:
        m.setattr(F, "np", _NumpyWithTorchSqrt(torch))
        for g in grads[:3]:
            _step_both(torch, ours, theirs, g)
    before = theirs[0].detach().numpy().copy()
    np.testing.assert_array_equal(ours[0].detach().numpy(), before)
    _step_both(torch, ours, theirs, grads[3])
    got, ref = ours[0].detach().numpy(), theirs[0].detach().numpy()
    bound = np.spacing(np.abs(ref)) + 2.0 ** -20 * np.abs(ref.astype(np.float64) - before)
    assert np.all(np.abs(got.astype(np.float64) - ref) <= bound)
    _assert_same_state(ours, theirs, skip=_FROM_SQRT.get(name, ()))
    if name == "Adagrad":  # (its sum is exact whatever the root: a sharper check)
        return
    # the bound is not vacuous: the last step moved the parameters by far more than it allows
    assert np.median(np.abs(ref.astype(np.float64) - before)) > 1e3 * np.median(bound - np.spacing(np.abs(ref)))


def test_torchs_sqrt_is_within_an_ulp_of_numpys(torch):
    """What the bound above rests on (and what makes a bitwise match with NumPy's sqrt
    impossible where PyTorch uses MKL): at most one ulp apart, on a float32 binade."""
    x = np.random.default_rng(2).random(1 << 16).astype(F32) * 3 + 1
    t, n = torch.sqrt(torch.from_numpy(x)).numpy(), np.sqrt(x)
    assert np.all(np.abs(t - n) <= np.spacing(n))


def test_float32_updates_on_host_threads_are_pytorchs(torch_sqrt):
    """A parameter large enough to be updated block by block on two host threads
    (optim/_functional._blocked): still PyTorch's numbers bit for bit."""
    torch = torch_sqrt
    n = 600_001
    before = ag.get_num_threads()
    ag.set_num_threads(2)
    try:
        assert backend.host_threads.host_block_size(np.empty(n, F32))
        for name, kw in (("Adam", dict(lr=1e-2, weight_decay=0.1, amsgrad=True)),
                         ("RMSprop", dict(lr=1e-2, centered=True, momentum=0.5)),
                         ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True))):
            p0, grads = _draws(n, 2, seed=3)
            ours, theirs = _pair(torch, name, kw, p0)
            for g in grads:
                _step_both(torch, ours, theirs, g)
            np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy())
            _assert_same_state(ours, theirs)
    finally:
        ag.set_num_threads(before)


# ---------------------------------------------------------------- long float32 runs

_X = np.linspace(-math.pi, math.pi, 2000, dtype=F32)
_FEATURES = np.stack([_X, _X * _X, _X * _X * _X], 1)
_TARGET = np.sin(_X)


def _poly_grad(wb):
    """d/d(w, b) of sum((X w + b - sin x)^2) (the classic third-order polynomial fit), in
    float32 NumPy: the same function for both runs, so only the optimizers differ."""
    r = (_FEATURES @ wb[:3] + wb[3] - _TARGET) * F32(2)
    return np.concatenate([_FEATURES.T @ r, [r.sum()]]).astype(F32)


def _bowl_grad(w, c=np.linspace(0.5, 3, 64, dtype=F32), t=np.linspace(-1, 1, 64, dtype=F32)):
    """d/dw of sum(c (w - t)^2 + 0.025 w^4), elementwise."""
    return c * (w - t) * F32(2) + F32(0.1) * w * w * w


def _run_both(torch, name, kw, w0, grad_fn, steps):
    lib_runs = []
    for lib in (ag, torch):
        p = lib.tensor(w0.copy(), requires_grad=True)
        opt = getattr(lib.optim, name)([p], **kw)
        out = np.empty((steps, w0.size), F32)
        for t in range(steps):
            p.grad = lib.tensor(grad_fn(p.detach().numpy()))
            opt.step()
            out[t] = p.detach().numpy()
        lib_runs.append(out)
    return lib_runs


def test_1600_rmsprop_steps_stay_within_1e_4_of_pytorch(fused_torch):
    """With NumPy's own sqrt: 1,600 float32 RMSprop steps on a small problem. (A run of the
    operation order this library had before drifted ~1e-6 here, and 11% on a tutorial's run.)"""
    ours, theirs = _run_both(fused_torch, "RMSprop", dict(lr=1e-2), np.zeros(64, F32),
                             _bowl_grad, 1600)
    rel = np.abs(ours - theirs).max(1) / np.abs(theirs).max(1)
    assert rel.max() < 1e-4
    assert np.abs(theirs[-1] - theirs[0]).max() > 0.5  # (it went somewhere)


@pytest.mark.parametrize("name,kw", [
    ("RMSprop", dict(lr=1e-3)),
    ("RMSprop", dict(lr=1e-3, momentum=0.9, centered=True)),
    ("Adam", dict(lr=1e-3)),
    ("Adadelta", dict()),
], ids=["rmsprop", "rmsprop-centered-momentum", "adam", "adadelta"])
def test_1600_steps_of_a_sensitive_fit_are_pytorchs_bit_for_bit(torch_sqrt, name, kw):
    """The polynomial fit, where one ulp early grows to ~1e-2 relative by step 1,200 (PyTorch
    against itself with one start value moved by an ulp): with torch's sqrt, every one of
    the 1,600 steps is PyTorch's exactly."""
    ours, theirs = _run_both(torch_sqrt, name, kw, np.array([0.1, -0.2, 0.05, 0.3], F32),
                             _poly_grad, 1600)
    bad = np.flatnonzero((ours != theirs).any(1))
    assert bad.size == 0, f"first differs after step {bad[0] + 1}"


# ---------------------------------------------------------------- the other optimizers

from test_optim import _mlp, _quadratic, _start  # noqa: E402
from conftest import to_numpy  # noqa: E402

NEW_CASES = [
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1, momentum_decay=0.1)),
    ("NAdam", dict(lr=0.02, weight_decay=0.2, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.02, betas=(0.7, 0.9), eps=1e-3, weight_decay=0.1)),
    ("RAdam", dict(lr=0.02, weight_decay=0.2, decoupled_weight_decay=True, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.6, 0.8), eps=1e-2, weight_decay=0.1, maximize=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.02, lambd=1e-2, alpha=0.6, t0=5, weight_decay=0.1, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.02, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05), maximize=True)),
]
NEW_IDS = [f"{n}-{','.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in NEW_CASES]


@pytest.mark.parametrize("name,kw", NEW_CASES, ids=NEW_IDS)
@pytest.mark.parametrize("problem", [_quadratic, _mlp], ids=["quadratic", "mlp"])
def test_new_optimizers_match_torch_float64_step_by_step(torch, name, kw, problem):
    ours, oloss = problem(ag, _start(0))
    theirs, tloss = problem(torch, _start(0))
    oo, to = getattr(ag.optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)
    sign = -1.0 if kw.get("maximize") else 1.0
    start = [to_numpy(p).copy() for p in ours]
    for step in range(60):
        for opt, loss in ((oo, oloss), (to, tloss)):
            opt.zero_grad()
            (sign * loss()).backward()
            opt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(to_numpy(p), q.detach().numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"after step {step + 1}")
    assert any(not np.allclose(to_numpy(p), s) for p, s in zip(ours, start))
    so, st = oo.state[ours[0]], to.state[theirs[0]]
    assert set(so) == set(st)
    for k in so:
        np.testing.assert_allclose(to_numpy(so[k]), st[k].numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=k)


@pytest.mark.parametrize("name,kw", NEW_CASES, ids=NEW_IDS)
def test_new_optimizers_float32_steps_are_pytorchs(torch_sqrt, name, kw):
    """As the table above: three float32 steps bit for bit (torch's sqrt swapped in)."""
    torch = torch_sqrt
    p0, grads = _draws(1003, 3, seed=4)
    ours, theirs = _pair(torch, name, kw, p0)
    for i, g in enumerate(grads):
        _step_both(torch, ours, theirs, g)
        np.testing.assert_array_equal(ours[0].detach().numpy(), theirs[0].detach().numpy(),
                                      err_msg=f"step {i + 1}")
        _assert_same_state(ours, theirs)
        for k in ("mu_product", "eta", "mu"):
            if k in ours[1].state[ours[0]]:
                assert ours[1].state[ours[0]][k].numpy() == theirs[1].state[theirs[0]][k].numpy()


def test_new_optimizers_state_dict_round_trip(torch):
    """state_dict after 10 NAdam steps (saved), into a fresh optimizer, 10 more steps: as
    PyTorch's same round trip (whose load casts the float32 mu_product to the parameters'
    float64, as ours does), and within rounding of 20 uninterrupted steps."""
    def run(lib):
        s = _start(0)
        straight, loss = _mlp(lib, s)
        opt = lib.optim.NAdam(straight, lr=0.01)
        for i in range(20):
            opt.zero_grad()
            loss().backward()
            opt.step()
            if i == 9:  # (a state_dict holds the live state tensors, as PyTorch's: save it)
                buf = io.BytesIO()
                lib.save(opt.state_dict(), buf)
                mid = [p.detach().clone() for p in straight]
        resumed, loss2 = _mlp(lib, s)
        with lib.no_grad():
            for p, q in zip(resumed, mid):
                p.copy_(q)
        opt2 = lib.optim.NAdam(resumed, lr=0.01)
        buf.seek(0)
        opt2.load_state_dict(lib.load(buf))
        assert opt2.state[resumed[0]]["mu_product"].dtype == lib.float64
        for _ in range(10):
            opt2.zero_grad()
            loss2().backward()
            opt2.step()
        return [p.detach().numpy() for p in resumed], [p.detach().numpy() for p in straight]

    (ours, ours_straight), (theirs, _) = run(ag), run(torch)
    for a, b, c in zip(ours, theirs, ours_straight):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(a, c, rtol=1e-9, atol=1e-12)


def _lbfgs_problem(lib, dtype):
    rng = np.random.default_rng(11)
    A = rng.standard_normal((8, 5))
    b = rng.standard_normal(8)
    T = lambda a, g=False: lib.tensor(a, dtype=dtype(lib), requires_grad=g)  # noqa: E731
    A, b = T(A), T(b)
    w = T(np.zeros(5), True)
    M = T(np.full((2, 2), 0.5), True)

    def loss():  # a least-squares term and a Rosenbrock-like valley
        return ((A @ w - b) ** 2).sum() + ((1 - M[0]) ** 2).sum() + 10 * ((M[1] - M[0] ** 2) ** 2).sum()

    return [w, M], loss


@pytest.mark.parametrize("kw", [
    dict(),
    dict(lr=0.5, max_iter=7, history_size=3),
    dict(line_search_fn="strong_wolfe"),
    dict(line_search_fn="strong_wolfe", history_size=2, max_iter=5, max_eval=9,
         tolerance_change=1e-12),
    dict(tolerance_grad=1e-2, line_search_fn="strong_wolfe"),
], ids=["defaults", "lr-history", "wolfe", "wolfe-short", "wolfe-tolerance-grad"])
def test_lbfgs_matches_torch(torch, kw):
    f64 = lambda lib: lib.float64  # noqa: E731
    results = []
    for lib in (ag, torch):
        params, loss = _lbfgs_problem(lib, f64)
        opt = lib.optim.LBFGS(params, **kw)
        losses = []

        def closure():
            opt.zero_grad()
            l = loss()
            l.backward()
            return l

        for _ in range(4):
            losses.append(float(opt.step(closure).detach()))
        st = opt.state[params[0]]
        results.append(([to_numpy(p) if lib is ag else p.detach().numpy() for p in params],
                        losses, st["func_evals"], st["n_iter"]))
    (po, lo, fo, no), (pt, lt, ft, nt) = results
    assert (fo, no) == (ft, nt)  # the same iterations and evaluations
    np.testing.assert_allclose(lo, lt, rtol=1e-9, atol=1e-12)
    for a, b in zip(po, pt):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10)
    assert lt[-1] < lt[0] - 1  # (it made progress)


def test_lbfgs_float32_and_its_errors(torch):
    f32 = lambda lib: lib.float32  # noqa: E731
    out = []
    for lib in (ag, torch):
        params, loss = _lbfgs_problem(lib, f32)
        opt = lib.optim.LBFGS(params, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            l = loss()
            l.backward()
            return l

        opt.step(closure)
        out.append(float(loss().detach()))
    assert out[0] == pytest.approx(out[1], rel=1e-4)
    p = ag.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        ag.optim.LBFGS([{"params": [p]}, {"params": [ag.zeros(1, requires_grad=True)]}])
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        ag.optim.LBFGS([p], line_search_fn="armijo").step(lambda: (p * p).sum())


@pytest.mark.parametrize("cls,kw,msg", [
    ("NAdam", dict(betas=(1.0, 0.9)), "Invalid beta parameter at index 0"),
    ("RAdam", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1"),
    ("Adamax", dict(eps=-1.0), "Invalid epsilon value"),
    ("NAdam", dict(momentum_decay=-1.0), "Invalid momentum_decay value"),
    ("ASGD", dict(weight_decay=-1.0), "Invalid weight_decay value"),
    ("Rprop", dict(etas=(0.5, 0.9)), "Invalid eta values: 0.5, 0.9"),
    ("Rprop", dict(lr=-1.0), "Invalid learning rate"),
])
def test_new_optimizers_bad_options(torch, cls, kw, msg):
    with pytest.raises(ValueError, match=msg):
        getattr(torch.optim, cls)([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError, match=msg):
        getattr(ag.optim, cls)([ag.zeros(2, requires_grad=True)], **kw)


@pytest.mark.parametrize("name,kw", NEW_CASES, ids=NEW_IDS)
def test_new_optimizers_on_each_device(device, name, kw):
    """The same 10 steps on `device` as on the CPU (on cuda: CuPy's ufuncs, with the state
    on the parameter's device and the 0-d scalars on the host, as PyTorch keeps them)."""
    runs = []
    for dev in ("cpu", device):
        params, loss = _quadratic(ag, _start(0), dev)
        opt = getattr(ag.optim, name)(params, **kw)
        for _ in range(10):
            opt.zero_grad()
            (-loss() if kw.get("maximize") else loss()).backward()
            opt.step()
        runs.append([to_numpy(p) for p in params])
        assert all(v.device == params[0].device for k, v in opt.state[params[0]].items()
                   if k not in ("step", "mu_product", "eta", "mu"))
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_lbfgs_on_each_device(device):
    runs = []
    for dev in ("cpu", device):
        params, loss = _quadratic(ag, _start(0), dev)
        opt = ag.optim.LBFGS(params, line_search_fn="strong_wolfe", max_iter=10)

        def closure():
            opt.zero_grad()
            l = loss()
            l.backward()
            return l

        opt.step(closure)
        runs.append([to_numpy(p) for p in params])
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
