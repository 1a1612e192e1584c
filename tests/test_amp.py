"""Mixed precision: autocast's casts (float16 for the matmul family, float32 for the ops
PyTorch keeps there, float64 untouched, gradients back in the parameters' dtype, the
parameter cast cache, nesting and threads, nothing patched once off), the CPU's bfloat16
fallback, the deprecated cuda.amp aliases, and GradScaler against torch.amp.GradScaler's
rules plus a float16 training run that learns only with the scaler."""
import threading
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import amp, nn
from autograd_gpu.nn import functional as F
from autograd_gpu.ops.linalg import MatMul
from conftest import to_numpy


def test_autocast_casts_matmul_family(device):
    x = ag.randn(4, 3, device=device)
    lin = nn.Linear(3, 2).to(device)
    with amp.autocast(device, dtype=ag.float16):
        assert ag.is_autocast_enabled(device)
        y = lin(x)
        z = x @ x.T
        b = ag.bmm(x.unsqueeze(0), x.T.unsqueeze(0))
        a = ag.addmm(ag.zeros(4, 4, device=device), x, x.T)
        s = ag.softmax(z, -1)  # kept in float32
        d = x.double() @ x.double().T  # float64 is left alone
        l = F.mse_loss(y, ag.zeros(4, 2, device=device))
    assert not ag.is_autocast_enabled(device)
    assert (y.dtype, z.dtype, b.dtype, a.dtype) == (ag.float16,) * 4
    assert s.dtype == ag.float32 and d.dtype == ag.float64 and l.dtype == ag.float32
    np.testing.assert_allclose(to_numpy(z).astype(np.float32), to_numpy(x @ x.T), rtol=2e-3, atol=2e-3)
    l.backward()
    assert lin.weight.grad.dtype == ag.float32 and lin.bias.grad.dtype == ag.float32
    assert "apply" not in MatMul.__dict__  # the ops' own apply is back once no region is open
    assert (x @ x.T).dtype == ag.float32


def test_autocast_only_its_device_and_enabled_false(device):
    other = "cpu" if device == "cuda" else "cuda"
    x = ag.randn(2, 2, device=device)
    with amp.autocast(other, dtype=ag.float16):
        assert (x @ x).dtype == ag.float32
    with amp.autocast(device, dtype=ag.float16):
        with amp.autocast(device, enabled=False):
            assert (x @ x).dtype == ag.float32
        assert (x @ x).dtype == ag.float16


def test_autocast_parameter_cache():
    lin = nn.Linear(3, 3)
    x = ag.randn(2, 3)
    with amp.autocast("cpu", dtype=ag.float16):
        y = lin(lin(x))  # the weight is cast once: both uses share one cast node
        from autograd_gpu import _autocast_state as st

        assert len(st.state.cache) == 2  # weight and bias
    assert st.state.cache is None
    with amp.autocast("cpu", dtype=ag.float16, cache_enabled=False):
        lin(x)
        assert st.state.cache is None


def test_autocast_is_per_thread():
    x = ag.randn(2, 2)
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen["other"] = (x @ x).dtype
        done.set()

    t = threading.Thread(target=other)
    t.start()
    with amp.autocast("cpu", dtype=ag.float16):
        inside.set()
        done.wait()
        seen["main"] = (x @ x).dtype
    t.join()
    assert seen == {"other": ag.float32, "main": ag.float16}


def test_autocast_decorator_and_cpu_bfloat16():
    @amp.autocast("cpu", dtype=ag.float16)
    def f(x):
        return x @ x

    assert f(ag.randn(2, 2)).dtype == ag.float16
    import autograd_gpu.amp.autocast_mode as mode

    mode._warned.discard("cpu")
    with pytest.warns(UserWarning, match="computes in float32"):
        with ag.autocast("cpu"):  # bfloat16 by default: no NumPy type, runs in float32
            assert (ag.randn(2, 2) @ ag.randn(2, 2)).dtype == ag.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with ag.autocast("cpu"):  # warned once only
            pass
    with pytest.raises(RuntimeError, match="User specified an unsupported autocast device_type 'tpu'"):
        amp.autocast("tpu")
    with pytest.warns(UserWarning, match="Disabling autocast"):
        amp.autocast("cpu", dtype=ag.float64)


def test_cuda_amp_aliases():
    from autograd_gpu.cuda.amp import GradScaler, autocast

    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.autocast\(args...\)` is deprecated"):
        a = autocast()
    assert a.device == "cuda" and a.fast_dtype == ag.float16
    with pytest.warns(FutureWarning, match=r"torch.cuda.amp.GradScaler\(args...\)` is deprecated"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            GradScaler()


# ---------------------------------------------------------------- GradScaler


def _scaler(device, **kw):
    return amp.GradScaler(device, **kw)


def test_grad_scaler_against_torch(torch, device):
    """The same scale, skip and growth sequence as torch.amp.GradScaler on the CPU."""
    kw = dict(init_scale=8.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2)
    p = nn.Parameter(ag.ones(3, device=device))
    tp = torch.nn.Parameter(torch.ones(3))
    opt, topt = ag.optim.SGD([p], lr=0.1), torch.optim.SGD([tp], lr=0.1)
    ours, theirs = _scaler(device, **kw), torch.amp.GradScaler("cpu", **kw)
    for step, bad in enumerate([False, False, True, False, False, False]):
        opt.zero_grad()
        topt.zero_grad()
        factor = float("inf") if bad else 1.0
        ours.scale((p * p).sum() * factor).backward()
        theirs.scale((tp * tp).sum() * factor).backward()
        r1, r2 = ours.step(opt), theirs.step(topt)
        assert (r1 is None) == (r2 is None)
        ours.update()
        theirs.update()
        assert ours.get_scale() == theirs.get_scale(), step
        np.testing.assert_allclose(to_numpy(p), tp.detach().numpy(), rtol=1e-6)
    sd, tsd = ours.state_dict(), theirs.state_dict()
    assert sd == {k: (v.item() if hasattr(v, "item") else v) for k, v in tsd.items()}
    fresh = _scaler(device)
    fresh.load_state_dict(sd)
    assert fresh.get_scale() == ours.get_scale() and fresh.state_dict() == sd


def test_grad_scaler_unscale_and_errors(device):
    p = nn.Parameter(ag.ones(2, device=device))
    opt = ag.optim.SGD([p], lr=1.0)
    s = _scaler(device, init_scale=4.0)
    with pytest.raises(AssertionError, match="Attempted unscale_ but _scale is None"):
        s.unscale_(opt)
    s.scale(p.sum()).backward()
    np.testing.assert_array_equal(to_numpy(p.grad), 4.0)
    s.unscale_(opt)
    np.testing.assert_array_equal(to_numpy(p.grad), 1.0)  # e.g. for clip_grad_norm_ here
    with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called on this optimizer"):
        s.unscale_(opt)
    s.step(opt)
    np.testing.assert_array_equal(to_numpy(p), 0.0)
    with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step\\(\\)."):
        s.unscale_(opt)
    s.update()
    with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
        s.step(opt, closure=lambda: 0)
    s.update(2.0)
    assert s.get_scale() == 2.0
    off = _scaler(device, enabled=False)
    assert off.scale(p) is p and off.state_dict() == {} and off.get_scale() == 1.0


def _regression(device, scale, n=256):
    ag.manual_seed(0)
    x = ag.randn(n, 4, device=device)
    w_true = ag.tensor([[1.0, -2.0, 3.0, 1.0]], device=device) * scale
    return x, x @ w_true.T


@pytest.mark.parametrize("use_scaler", [False, True])
def test_float16_training_needs_the_scaler(device, use_scaler):
    """Targets of size 1e-7: the loss's gradient w.r.t. the float16 predictions (~1e-9)
    flushes to zero in float16 without loss scaling, so the float32 weights get zero
    gradients and nothing trains; with the GradScaler the loss falls. The model runs under
    autocast with float16 (on the CPU too: explicit float16 is honoured there)."""
    x, y = _regression(device, 1e-7, n=1024)
    model = nn.Linear(4, 1, bias=False).to(device)
    with ag.no_grad():
        model.weight.zero_()
    opt = ag.optim.SGD(model.parameters(), lr=0.25)
    scaler = amp.GradScaler(device, init_scale=2.0 ** 14, enabled=use_scaler)
    losses = []
    for _ in range(10):
        opt.zero_grad()
        with amp.autocast(device, dtype=ag.float16):
            pred = model(x)
        assert pred.dtype == ag.float16
        loss = ((pred.float() - y) ** 2).mean()
        losses.append(float(loss))
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
    assert model.weight.dtype == ag.float32
    if use_scaler:
        assert losses[-1] < 0.05 * losses[0]
    else:
        assert losses[-1] == losses[0]  # the gradients underflowed to 0
        assert float(abs(model.weight).max()) == 0.0


def test_grad_scaler_skips_overflowing_steps(device):
    """Scaled float16 gradients overflow at a huge scale: those steps are skipped (weights
    unchanged) and the scale backs off until the gradients are finite, then training runs."""
    x, y = _regression(device, 1.0, n=64)
    model = nn.Linear(4, 1, bias=False).to(device).half()  # float16 parameters
    opt = ag.optim.SGD(model.parameters(), lr=0.5)
    scaler = amp.GradScaler(device, init_scale=2.0 ** 40)
    w0 = to_numpy(model.weight).copy()
    skipped = 0
    for _ in range(40):
        opt.zero_grad()
        loss = ((model(x.half()).float() - y) ** 2).mean()
        with warnings.catch_warnings():
            # (the float32 -> float16 cast of an overflowing gradient: NumPy warns, the
            # result is inf as PyTorch's)
            warnings.simplefilter("ignore", RuntimeWarning)
            scaler.scale(loss).backward()
        if scaler.step(opt) is None and np.array_equal(to_numpy(model.weight), w0):
            skipped += 1
        scaler.update()
    assert skipped >= 20  # 2**40 down to below float16's range takes ~25 backoffs
    assert scaler.get_scale() < 2.0 ** 16
    assert not np.array_equal(to_numpy(model.weight), w0)
    assert np.isfinite(to_numpy(model.weight)).all()
