"""Optimizers against torch.optim: same start, 100 steps, same parameters (float64)."""
import io
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn, optim
from conftest import to_numpy

CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-6, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.05, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.05, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, momentum=0.5, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, eps=1e-4)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.5, weight_decay=0.1, eps=1e-4)),
    ("Adadelta", dict(lr=1.0, maximize=True)),
    # Values chosen so each term of each formula moves the float64 result far beyond rtol=1e-6
    # within the first steps (compared after every step): eps comparable to sqrt(v) (eps inside
    # vs outside the square root), a small beta2 under AMSGrad (v falls, so the running max
    # differs from v), dampening on the first step and after, maximize together with weight
    # decay (the sign of each term), lr_decay large enough to matter over a few steps.
    ("SGD", dict(lr=0.02, momentum=0.8, dampening=0.3, weight_decay=0.2, maximize=True)),
    ("SGD", dict(lr=0.02, momentum=0.7, nesterov=True, weight_decay=0.3)),
    ("Adam", dict(lr=0.02, betas=(0.7, 0.6), eps=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.6, 0.5), eps=0.05, amsgrad=True, weight_decay=0.2)),
    ("AdamW", dict(lr=0.02, betas=(0.8, 0.4), eps=0.1, weight_decay=0.3, amsgrad=True, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.7, eps=0.1)),
    ("RMSprop", dict(lr=0.01, alpha=0.6, eps=0.05, centered=True, momentum=0.6, weight_decay=0.2,
                     maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.2, eps=0.1, weight_decay=0.2, initial_accumulator_value=0.3,
                     maximize=True)),
    ("Adadelta", dict(lr=0.7, rho=0.6, eps=0.1, weight_decay=0.2, maximize=True)),
]
IDS = [f"{n}-{','.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for n, kw in CASES]


def _start(seed):
    rng = np.random.default_rng(seed)
    return dict(
        A=rng.standard_normal((6, 5)), b=rng.standard_normal(6), C=rng.random((3, 4)) + 0.5,
        w=rng.standard_normal(5), M=rng.standard_normal((3, 4)),
        X=rng.standard_normal((16, 4)), Y=rng.standard_normal((16, 3)),
        W1=rng.standard_normal((8, 4)) * 0.5, b1=rng.standard_normal(8) * 0.1,
        W2=rng.standard_normal((3, 8)) * 0.5, b2=rng.standard_normal(3) * 0.1,
    )


def _quadratic(lib, s, device=None):
    kw = {} if device is None else {"device": device}
    T = lambda a, g=False: lib.tensor(a, dtype=lib.float64, requires_grad=g, **kw)  # noqa: E731
    A, b, C = T(s["A"]), T(s["b"]), T(s["C"])
    params = [T(s["w"], True), T(s["M"], True)]

    def loss():
        w, M = params
        return ((A @ w - b) ** 2).sum() + (C * M * M).sum() + (M.sum() - 1) ** 2

    return params, loss


def _mlp(lib, s, device=None):
    kw = {} if device is None else {"device": device}
    T = lambda a, g=False: lib.tensor(a, dtype=lib.float64, requires_grad=g, **kw)  # noqa: E731
    X, Y = T(s["X"]), T(s["Y"])
    params = [T(s[k], True) for k in ("W1", "b1", "W2", "b2")]

    def loss():
        W1, b1, W2, b2 = params
        h = lib.tanh(X @ W1.T + b1)
        return ((h @ W2.T + b2 - Y) ** 2).mean()

    return params, loss


def _run(lib, name, kw, problem, steps, device=None, seed=0):
    params, loss = problem(lib, _start(seed), device)
    opt = getattr(lib.optim, name)(params, **kw)
    sign = -1.0 if kw.get("maximize") else 1.0
    for _ in range(steps):
        opt.zero_grad()
        (sign * loss()).backward()
        opt.step()
    return params, opt


def _close(ours, theirs, rtol=1e-6, atol=1e-9):
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(to_numpy(p), q.detach().numpy(), rtol=rtol, atol=atol)


def _lockstep(name, kw, problem, steps, torch, device=None):
    """Both optimizers from the same start, the parameters compared after every step (an
    error in the first steps' terms, the bias corrections say, cannot hide behind convergence).
    PyTorch's optimizer is given our gradients: the comparison is of the two updates alone. With
    each library's own gradients (matmuls whose last bits depend on the CPU's BLAS kernels)
    centered RMSprop's cancellation near the optimum amplified those bits past 5e-6 by step 93
    on one CPU and not on another."""
    ours, oloss = problem(ag, _start(0), device)
    theirs, _ = problem(torch, _start(0))
    oopt, topt = getattr(ag.optim, name)(ours, **kw), getattr(torch.optim, name)(theirs, **kw)
    sign = -1.0 if kw.get("maximize") else 1.0
    for step in range(steps):
        oopt.zero_grad()
        (sign * oloss()).backward()
        for p, q in zip(ours, theirs):
            q.grad = torch.tensor(to_numpy(p.grad))
        oopt.step()
        topt.step()
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(to_numpy(p), q.detach().numpy(), rtol=1e-6, atol=1e-9,
                                       err_msg=f"after step {step + 1}")
    return ours


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
@pytest.mark.parametrize("problem", [_quadratic, _mlp], ids=["quadratic", "mlp"])
def test_matches_torch(torch, name, kw, problem, device):
    ours = _lockstep(name, kw, problem, 100, torch, device=device)
    theirs, _ = _run(torch, name, kw, problem, 100)
    _close(ours, theirs)
    # the parameters moved (a test that nothing happened would pass trivially otherwise)
    start = problem(ag, _start(0))[0]
    assert any(not np.allclose(to_numpy(p), to_numpy(q)) for p, q in zip(ours, start))


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
def test_state_dict_round_trip_mid_training(torch, name, kw):
    """Save after 50 steps (through autograd_gpu.save), restore into a fresh optimizer over
    fresh parameters, continue 50 steps: identical to 100 uninterrupted steps and to PyTorch."""
    params, opt = _run(ag, name, kw, _mlp, 50)
    buf = io.BytesIO()
    ag.save({"params": [p.detach() for p in params], "opt": opt.state_dict()}, buf)
    buf.seek(0)
    saved = ag.load(buf)
    new_params, loss = _mlp(ag, _start(0))
    with ag.no_grad():
        for p, q in zip(new_params, saved["params"]):
            p.copy_(q)
    opt2 = getattr(optim, name)(new_params, **kw)
    opt2.load_state_dict(saved["opt"])
    sign = -1.0 if kw.get("maximize") else 1.0
    for _ in range(50):
        opt2.zero_grad()
        (sign * loss()).backward()
        opt2.step()
    straight, _ = _run(ag, name, kw, _mlp, 100)
    for p, q in zip(new_params, straight):
        np.testing.assert_array_equal(to_numpy(p), to_numpy(q))
    theirs, topt = _run(torch, name, kw, _mlp, 100)
    _close(new_params, theirs)
    # same state_dict structure as PyTorch's
    sd, tsd = opt2.state_dict(), topt.state_dict()
    assert sd["state"].keys() == tsd["state"].keys()
    for k in sd["state"]:
        assert set(sd["state"][k]) == set(tsd["state"][k])
        for n, v in sd["state"][k].items():
            # PyTorch's lerp_/addcmul_ kernels use fused multiply-adds, which NumPy cannot
            # round identically; buffers built by cancellation (centered RMSprop) drift by ~1e-6
            np.testing.assert_allclose(to_numpy(v), tsd["state"][k][n].numpy(), rtol=2e-5, atol=1e-9)
    assert [g["params"] for g in sd["param_groups"]] == [g["params"] for g in tsd["param_groups"]]
    for g, tg in zip(sd["param_groups"], tsd["param_groups"]):
        for key in g:
            assert key in tg


def test_param_groups_and_closure(torch):
    s = _start(1)

    def build(lib):
        params, loss = _mlp(lib, s)
        opt = lib.optim.SGD([{"params": params[:2]}, {"params": params[2:], "lr": 0.05}],
                            lr=0.01, momentum=0.9)
        return params, loss, opt

    ours, ol, oo = build(ag)
    theirs, tl, to = build(torch)
    for _ in range(20):
        def closure_o():
            oo.zero_grad()
            l = ol()
            l.backward()
            return l

        def closure_t():
            to.zero_grad()
            l = tl()
            l.backward()
            return l

        lo, lt = oo.step(closure_o), to.step(closure_t)
        assert math.isclose(lo.item(), lt.item(), rel_tol=1e-9)
    _close(ours, theirs)
    assert [g["lr"] for g in oo.param_groups] == [0.01, 0.05]


def test_add_param_group_and_zero_grad_modes():
    a = ag.ones(3, requires_grad=True)
    b = ag.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    (a.sum() + (b * 2).sum()).backward()
    opt.step()
    np.testing.assert_allclose(a.detach().numpy(), 0.9)
    np.testing.assert_allclose(b.detach().numpy(), 0.0)
    opt.zero_grad(set_to_none=False)
    assert a.grad is not None and float(a.grad.sum()) == 0.0
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_state_keyed_by_parameter_not_id():
    p = ag.ones(2, requires_grad=True)
    opt = optim.Adam([p])
    p.sum().backward()
    opt.step()
    assert p in opt.state and set(opt.state[p]) == {"step", "exp_avg", "exp_avg_sq"}
    assert all(isinstance(v, ag.Tensor) for v in opt.state[p].values())


def test_params_without_grad_are_skipped():
    a = ag.ones(2, requires_grad=True)
    b = ag.ones(2, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.sum().backward()
    opt.step()
    np.testing.assert_array_equal(b.detach().numpy(), 1.0)
    assert b not in opt.state


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_errors(name):
    cls = getattr(optim, name)
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([], lr=0.1)
    leaf = ag.ones(2, requires_grad=True)
    with pytest.raises(ValueError, match="non-leaf"):
        cls([leaf * 2], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        cls([leaf], lr=-0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        cls([leaf], lr=float("nan"))
    with pytest.raises(TypeError, match="iterable of Tensors"):
        cls(leaf, lr=0.1)


@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9), (0.9, float("nan"))])
@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
def test_betas_outside_unit_interval(cls, betas):
    with pytest.raises(ValueError, match="Invalid beta parameter"):
        cls([ag.ones(2, requires_grad=True)], betas=betas)


class _OtherDevice(np.ndarray):
    """Stands in for an array on another device (a different array type, as CuPy's is)."""

    @property
    def device(self):
        class _Dev:
            id = 0

        return _Dev()


def test_state_on_other_device_is_an_error():
    p = ag.ones(3, requires_grad=True)
    opt = optim.Adam([p])
    p.sum().backward()
    opt.step()
    opt.state[p]["exp_avg"]._data = opt.state[p]["exp_avg"]._data.view(_OtherDevice)
    with pytest.raises(RuntimeError, match="exp_avg state of a parameter is on .* but the parameter is on"):
        opt.step()


@pytest.mark.gpu
def test_state_on_other_device_cuda():
    p = ag.ones(3, requires_grad=True)
    opt = optim.Adam([p])
    p.sum().backward()
    opt.step()
    with ag.no_grad():
        p.data = p.to("cuda")
    p.grad = None
    p.sum().backward()
    with pytest.raises(RuntimeError, match="same device"):
        opt.step()


def test_load_state_dict_mismatch():
    opt = optim.SGD([ag.ones(2, requires_grad=True)], lr=0.1)
    other = optim.SGD([ag.ones(2, requires_grad=True), ag.ones(2, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="doesn't match the size"):
        opt.load_state_dict(other.state_dict())


def test_functional_numpy_path_allocates_no_state():
    """The array functions update in place: the param and buffers keep their identity."""
    from autograd_gpu.optim import _functional as F

    rng = np.random.default_rng(0)
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    m, v, vmax = np.zeros(10), np.zeros(10), np.zeros(10)
    p0, g0 = p.copy(), g.copy()
    F.adam_update(p, g, m, v, vmax, step=1, lr=0.1, beta1=0.9, beta2=0.999, eps=1e-8,
                  weight_decay=0.1, amsgrad=True, maximize=True, decoupled_weight_decay=False)
    np.testing.assert_array_equal(g, g0)  # the gradient is never written
    # first Adam step: bias-corrected m / sqrt(v) = sign(g): each element moves by ~lr
    geff = -g0 + 0.1 * p0
    np.testing.assert_allclose(p, p0 - 0.1 * np.sign(geff), rtol=1e-6)


def test_module_training_with_optimizer(torch):
    """nn.Linear + MSELoss + Adam, against the same model in PyTorch."""
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((32, 5)), rng.standard_normal((32, 2))
    ours = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 2)).double()
    theirs = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 2)).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters()):
            q.copy_(torch.from_numpy(p.detach().numpy().copy()))
    oo, to = optim.Adam(ours.parameters(), lr=1e-2), torch.optim.Adam(theirs.parameters(), lr=1e-2)
    lo, lt = nn.MSELoss(reduction="sum"), torch.nn.MSELoss(reduction="sum")
    xo, yo = ag.tensor(X), ag.tensor(Y)
    xt, yt = torch.tensor(X), torch.tensor(Y)
    for _ in range(100):
        oo.zero_grad()
        lo(ours(xo), yo).backward()
        oo.step()
        to.zero_grad()
        lt(theirs(xt), yt).backward()
        to.step()
    _close(list(ours.parameters()), list(theirs.parameters()))


def _steps_on_large_params(name, kw, dtype, shape, transposed=False):
    """3 steps of optimizer `name` on one large parameter; `transposed`: the parameter and its
    gradients are transposed views (not C-contiguous)."""
    rng = np.random.default_rng(7)
    layout = (lambda a: a.reshape(shape[::-1]).T) if transposed else (lambda a: a.reshape(shape))
    p = ag.from_numpy(layout(rng.standard_normal(np.prod(shape)).astype(dtype)))
    p.requires_grad_(True)
    opt = getattr(optim, name)([p], **kw)
    for _ in range(3):
        p.grad = ag.from_numpy(layout(rng.standard_normal(np.prod(shape)).astype(dtype)))
        opt.step()
    return p.detach().numpy(), [s.numpy() for s in opt.state[p].values() if isinstance(s, ag.Tensor)]


@pytest.mark.parametrize("name,kw", CASES, ids=IDS)
@pytest.mark.parametrize("dtype,shape", [(np.float32, (655397,)), (np.float64, (3, 100003))],
                         ids=["float32", "float64"])
def test_a_large_parameter_updated_block_by_block_on_threads_matches_the_whole_update(
        monkeypatch, name, kw, dtype, shape):
    from autograd_gpu import backend

    threads_before = ag.get_num_threads()
    shares = []
    run_share = backend.host_threads._run_share
    monkeypatch.setattr(backend.host_threads, "_run_share", lambda *a: (shares.append(a), run_share(*a)))
    # (the NumPy formulas' blocks: the host build splits a step on its own threads, checked
    # in tests/test_host_optim.py)
    from autograd_gpu.fused import _optim as fused_optim
    monkeypatch.setattr(fused_optim, "_host_optim", None)
    try:
        ag.set_num_threads(2)
        blocked = _steps_on_large_params(name, kw, dtype, shape)
        assert len(shares) == 3  # one share a step went to the other thread
        ag.set_num_threads(1)
        monkeypatch.setattr(backend.host_threads, "HOST_BLOCK_BYTES", 1 << 40)  # the whole arrays at once
        whole = _steps_on_large_params(name, kw, dtype, shape)
        assert len(shares) == 3
    finally:
        ag.set_num_threads(threads_before)
    np.testing.assert_array_equal(blocked[0], whole[0])
    assert len(blocked[1]) == len(whole[1])
    for a, b in zip(blocked[1], whole[1]):
        np.testing.assert_array_equal(a, b)


def test_a_transposed_parameter_is_updated_whole_with_the_same_result(monkeypatch):
    from autograd_gpu import backend

    kw = dict(lr=0.01, momentum=0.9)
    strided = _steps_on_large_params("SGD", kw, np.float32, (300, 2000), transposed=True)
    assert not strided[0].flags.c_contiguous
    monkeypatch.setattr(backend.host_threads, "HOST_BLOCK_BYTES", 1 << 40)
    whole = _steps_on_large_params("SGD", kw, np.float32, (300, 2000), transposed=True)
    np.testing.assert_array_equal(strided[0], whole[0])
    np.testing.assert_array_equal(strided[1][0], whole[1][0])


def test_a_large_update_missing_its_buffer_raises_and_changes_nothing():
    from autograd_gpu.optim import _functional as F

    p = np.ones(1 << 20, np.float32)
    with pytest.raises(ValueError, match="sgd_update: momentum != 0 needs a momentum_buffer"):
        F.sgd_update(p, p.copy(), None, lr=0.1, momentum=0.9, dampening=0, nesterov=False,
                     weight_decay=0, maximize=False, first_step=True)
    assert (p == 1).all()
