"""Where CuPy differs from NumPy and PyTorch, the library decides, the same on both devices.

Each case here is one of CuPy's differences (GUIDE section 4): work runs on the *current*
device, out-of-range indices wrap, views are always writeable, solve neither broadcasts nor
raises, NumPy arrays are refused as operands. On a machine without a GPU these run against
the strict CuPy stand-in (tests/cupy_standin), with two devices.
"""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn, optim
from conftest import needs_two_devices, to_numpy
from fma_reference import assert_bits, by_factor

pytestmark = pytest.mark.gpu


# ---------------------------------------------------------------- placement on cuda:1


def test_ops_and_backward_on_the_second_device_stay_there():
    needs_two_devices()
    x = ag.arange(6.0, device="cuda:1").reshape(2, 3).requires_grad_()
    y = (ag.tanh(x) * 2 + x ** 2).sum(dim=1)
    assert y.device == ag.device("cuda:1")
    y.sum().backward()
    assert x.grad.device == ag.device("cuda:1")
    ref = ag.arange(6.0).reshape(2, 3).requires_grad_()
    (ag.tanh(ref) * 2 + ref ** 2).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(ref.grad), rtol=1e-6)
    # second order on cuda:1
    (g,) = ag.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = ag.autograd.grad(g.sum(), x)
    assert g.device == h.device == ag.device("cuda:1")
    np.testing.assert_allclose(to_numpy(h), 6 * to_numpy(x.detach()), rtol=1e-6)


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_a_model_on_the_second_device_trains_there_as_on_the_cpu(opt):
    needs_two_devices()
    ag.manual_seed(0)
    cpu = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    gpu = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda:1")
    assert all(p.device == ag.device("cuda:1") for p in gpu.parameters())
    kw = {"lr": 0.05} if opt != "Adadelta" else {}
    oc, og = getattr(optim, opt)(cpu.parameters(), **kw), getattr(optim, opt)(gpu.parameters(), **kw)
    X = np.random.default_rng(0).standard_normal((16, 4))
    for _ in range(3):
        for model, o, dev in ((cpu, oc, "cpu"), (gpu, og, "cuda:1")):
            o.zero_grad()
            loss = ((model(ag.tensor(X, device=dev)) - 1.0) ** 2).mean()
            loss.backward()
            o.step()
    for pc, pg in zip(cpu.parameters(), gpu.parameters()):
        assert pg.device == ag.device("cuda:1") and pg.grad.device == ag.device("cuda:1")
        for v in og.state[pg].values():
            if isinstance(v, ag.Tensor) and v.ndim:
                assert v.device == ag.device("cuda:1")
        np.testing.assert_allclose(to_numpy(pg), to_numpy(pc), rtol=1e-10, atol=1e-12)


def test_load_map_location_moves_tensors_between_devices(tmp_path):
    needs_two_devices()
    path = tmp_path / "two.agt"
    ag.save({"a": ag.ones(2, device="cuda:0"), "b": ag.full((2,), 2.0, device="cuda:1"),
             "c": ag.zeros(2)}, path)
    r = ag.load(path)
    assert [r[k].device for k in "abc"] == [ag.device("cuda:0"), ag.device("cuda:1"), ag.device("cpu")]
    r = ag.load(path, map_location={"cuda:0": "cuda:1", "cuda:1": "cpu", "cpu": "cuda:0"})
    assert [r[k].device for k in "abc"] == [ag.device("cuda:1"), ag.device("cpu"), ag.device("cuda:0")]
    r = ag.load(path, map_location=lambda t, loc: t.to("cuda:1") if loc == "cpu" else "cpu")
    assert [r[k].device for k in "abc"] == [ag.device("cpu"), ag.device("cpu"), ag.device("cuda:1")]
    assert [r[k].tolist() for k in "abc"] == [[1.0, 1.0], [2.0, 2.0], [0.0, 0.0]]


# ---------------------------------------------------------------- mixed devices


@pytest.mark.parametrize("make", [
    lambda x: np.ones(3) * x,
    lambda x: x + np.ones(3),
    lambda x: np.ones((3, 3)) @ x,
    lambda x: ag.where(np.array([True, False, True]), x, 0.0),
    lambda x: x + ag.ones(3),
], ids=["ndarray*t", "t+ndarray", "ndarray@t", "where-ndarray-mask", "t+cpu-tensor"])
def test_host_values_with_cuda_tensors_are_a_device_mismatch(make):
    x = ag.ones(3, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Expected all tensors to be on the same device, but "
                                           r"found at least two devices, cuda:0 and cpu"):
        make(x)


def test_tensors_on_two_gpus_are_a_device_mismatch():
    needs_two_devices()
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:0 and cuda:1"):
        ag.ones(3, device="cuda:0") * ag.ones(3, device="cuda:1")


def test_cpu_logits_with_cuda_targets_are_a_device_mismatch():
    with pytest.raises(RuntimeError, match="same device.*cpu and cuda:0"):
        nn.functional.cross_entropy(ag.zeros(2, 3), ag.tensor([0, 1], device="cuda"))


# ---------------------------------------------------------------- CuPy's other differences


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_out_of_range_indices_raise_instead_of_wrapping(dev):
    x = ag.arange(3.0, device=dev)
    idx = ag.tensor([4], device=dev)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 3"):
        x[idx]
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        x[idx] = 7.0
    assert x.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match="index 5 is out of bounds"):
        ag.gather(x, 0, ag.tensor([5], device=dev))
    with pytest.raises(IndexError, match="index out of range in self"):
        nn.functional.embedding(ag.tensor([7], device=dev), ag.ones(3, 2, device=dev))


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_singular_matrices_raise_on_both_devices(dev):
    with pytest.raises(RuntimeError, match="linalg.inv: .*singular"):
        ag.inverse(ag.zeros(2, 2, device=dev))
    with pytest.raises(RuntimeError, match="linalg.solve: .*singular"):
        ag.solve(ag.zeros(2, 2, device=dev), ag.ones(2, device=dev))


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_solve_broadcasts_batch_dimensions_on_both_devices(dev, rng):
    a = rng.standard_normal((2, 1, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((4, 3, 2))
    x = ag.solve(ag.tensor(a, device=dev), ag.tensor(b, device=dev))
    assert x.shape == (2, 4, 3, 2)
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(a, b), rtol=1e-10)


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
@pytest.mark.parametrize("write", [
    lambda e, dev: e.add_(1), lambda e, dev: e.fill_(2), lambda e, dev: e.mul_(2),
    lambda e, dev: e.copy_(ag.ones(2, 3, device=dev)), lambda e, dev: e.__setitem__(0, 5.0),
    lambda e, dev: e.clamp_(0, 1),
], ids=["add_", "fill_", "mul_", "copy_", "setitem", "clamp_"])
def test_writes_through_a_broadcast_view_are_refused_alike(dev, write):
    x = ag.zeros(3, device=dev)
    e = x.expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor "
                                           "refers to a single memory location"):
        write(e, dev)
    assert x.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_binary_cross_entropy_checks_its_input_range_on_both_devices(dev):
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.functional.binary_cross_entropy(ag.tensor([1.5], device=dev), ag.tensor([1.0], device=dev))


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_a_bad_in_place_op_gives_pytorchs_message_on_both_devices(dev):
    i = ag.zeros(3, dtype=ag.int64, device=dev)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i += 1.5
    assert i.tolist() == [0, 0, 0]


# ---------------------------------------------------------------- printing


@pytest.mark.parametrize("shape", [(2000,), (40, 50), (3, 7, 100), (7, 7, 7, 7), (1001,), (6, 200),
                                   (8, 8, 8, 8)])
def test_repr_of_a_large_cuda_tensor_copies_only_what_it_prints(shape, monkeypatch):
    from autograd_gpu import _formatting

    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    on_gpu = ag.tensor(x, device="cuda")
    real = _formatting.backend.execute.host_copy
    with monkeypatch.context() as m:  # the reference: the whole array copied, then printed
        m.setattr(_formatting, "_on_host", real)
        whole = repr(on_gpu)
    copied = []
    monkeypatch.setattr(_formatting.backend.execute, "host_copy",
                        lambda a: copied.append(a.size) or real(a))
    assert repr(on_gpu) == whole
    assert "..." in whole and "device='cuda:0'" in whole
    # the summary shows 3 + 3 entries per long axis; one more stands for the "..."
    assert copied and copied[-1] <= np.prod([min(n, 7) for n in shape])
    assert repr(ag.tensor(x)) == whole.replace(",\n       device='cuda:0'", "").replace(
        ", device='cuda:0'", "")


# ---------------------------------------------------------------- subnormals in fused kernels


_TINY = np.finfo(np.float32).tiny
# compares against NumPy's transcendental functions, whose SIMD code NumPy picks by CPU
simd = pytest.mark.simd


@pytest.mark.parametrize("op", ["relu", "leaky_relu", "abs", "elu", "log", "exp", "sqrt",
                                "sigmoid", "tanh", "clamp", "mul", "div"])
def test_fused_backward_kernels_keep_float32_subnormals(op):
    """CuPy compiles kernels with -ftz=true (the stand-in runs them with FTZ and DAZ set):
    the fused backward must still give the CPU's (and PyTorch's) values where inputs,
    gradients or results are subnormal."""
    x0 = np.array([_TINY / 4, -_TINY / 4, _TINY / 1024, 3e-39, -3e-39, 0.5, -0.5, 2.0],
                  np.float32)
    if op in ("log", "sqrt"):
        x0 = np.abs(x0)
    g0 = np.array([_TINY / 8, -_TINY / 2, 1.0, 1e-39, -2e-39, _TINY / 3, 3.0, -1e-42],
                  np.float32)
    fns = {
        "relu": ag.relu, "leaky_relu": lambda x: ag.nn.functional.leaky_relu(x, 0.5),
        "abs": ag.abs, "elu": ag.nn.functional.elu, "log": ag.log, "exp": ag.exp,
        "sqrt": ag.sqrt, "sigmoid": ag.sigmoid, "tanh": ag.tanh,
        "clamp": lambda x: ag.clamp(x, min=0.0, max=1.0),
        "mul": lambda x: x * ag.tensor(x0[::-1].copy(), device=x.device),
        "div": lambda x: x / ag.tensor(np.full(8, 3.0, np.float32), device=x.device),
    }
    grads = []
    for dev in ("cpu", "cuda"):
        x = ag.tensor(x0, device=dev, requires_grad=True)
        with np.errstate(over="ignore"):  # (1 / a subnormal overflows to inf, as in PyTorch)
            fns[op](x).backward(ag.tensor(g0, device=dev))
        grads.append(to_numpy(x.grad))
    cpu, gpu = grads
    assert np.any((cpu != 0) & (np.abs(cpu) < _TINY)) or op in ("log", "sqrt", "exp", "div")
    np.testing.assert_array_equal(gpu.view(np.uint32), cpu.view(np.uint32))


# The helpers those kernels are built from (kernels/ag_common.cuh), on random bit patterns:
# every float (subnormals, zeros, infinities and NaN included) widened to double, doubles
# rounded to float (ties, values just below the smallest normal and double subnormals
# included), and each float operation, against NumPy's IEEE float32 arithmetic.


def _helper_kernel(in_params, out_params, body):
    from autograd_gpu.backend.devices import cupy_module
    from autograd_gpu.fused import _loader

    cp = cupy_module()
    k = cp.ElementwiseKernel(in_params, out_params, body, name="ag_test_helpers",
                             preamble=_loader.source("ag_common.cuh"))
    return cp, k


def _random_floats(n, rng):
    bits = rng.integers(0, 2 ** 32, n, dtype=np.uint64).astype(np.uint32)
    bits[: n // 2] &= 0x807FFFFF  # half of them zero or subnormal
    return bits.view(np.float32)


def test_the_subnormal_keeping_helpers_are_ieee_float_operations():
    rng = np.random.default_rng(0)
    cp, k = _helper_kernel("float64 d", "float32 f", "f = ag::narrow(d);")
    mant = rng.integers(0, 2 ** 25, 4000).astype(np.float64)
    d = np.concatenate([
        mant * 2.0 ** -151,  # subnormal range and just above, quarter-ulp steps (ties too)
        (np.arange(2 ** 23 - 4, 2 ** 23 + 4) + 0.5) * 2.0 ** -149,  # ties at the normal boundary
        rng.standard_normal(2000) * 10.0 ** rng.integers(-45, 39, 2000),
        [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -5e-324, 2.0 ** -150, 3 * 2.0 ** -151,
         np.finfo(np.float32).max * (1 + 2.0 ** -25), 1e300, -1e300],
    ])
    d[: d.size // 3] *= -1
    with np.errstate(over="ignore"):
        want = d.astype(np.float32)
    got = cp.asnumpy(k(cp.asarray(d)))
    np.testing.assert_array_equal(got.view(np.uint32)[~np.isnan(want)],
                                  want.view(np.uint32)[~np.isnan(want)])
    assert np.isnan(got[np.isnan(want)]).all()

    cp, k = _helper_kernel("float32 f", "float64 d", "d = ag::widen(f);")
    f = _random_floats(20000, rng)
    got = cp.asnumpy(k(cp.asarray(f)))
    ok = ~np.isnan(f)
    np.testing.assert_array_equal(got[ok], f[ok].astype(np.float64))

    cp, k = _helper_kernel(
        "float32 a, float32 b", "float32 s, float32 t, float32 m, float32 q, float32 r",
        "s = ag::add_keep(a, b); t = ag::sub_keep(a, b); m = ag::mul_keep(a, b);"
        " q = ag::div_keep(a, b); r = ag::sqrt_keep(ag::fabs_keep(a));")
    a, b = _random_floats(20000, rng), _random_floats(20000, rng)
    with np.errstate(invalid="ignore"):  # (close operands: exact and subnormal differences)
        b[::3] = a[::3] * np.float32(0.75)
    got = [cp.asnumpy(o) for o in k(cp.asarray(a), cp.asarray(b))]
    with np.errstate(all="ignore"):
        want = [a + b, a - b, a * b, a / b, np.sqrt(np.abs(a))]
    for name, g, w in zip("+-*/r", got, want):
        nan = np.isnan(w)
        assert np.array_equal(np.isnan(g), nan), name
        np.testing.assert_array_equal(g.view(np.uint32)[~nan], w.view(np.uint32)[~nan], err_msg=name)


# Kernels that call exp, log, log1p, tanh, erf or pow: the CPU's NumPy formula calls NumPy's
# float32 functions, the kernel the C library's double ones rounded to float, so they are
# compared within tests/test_kernels.py's float32 bound (ULPS, POW_ULPS) of plain ulps of the
# CPU's value: a flushed subnormal is off by far more (the inputs are chosen so that every
# subnormal the CPU computes is above 2^-140, 512 units).
_F32_ULPS, _F32_POW_ULPS = 8, 4


def _assert_within_ulps(gpu, cpu, ulps, what="", cancel=0.0):
    """|gpu - cpu| <= ulps units, a unit being an ulp of the CPU's value plus, where the
    formula subtracts terms of about `cancel` (an array, 0 elsewhere), eps * cancel."""
    nan = np.isnan(cpu)
    assert np.array_equal(np.isnan(gpu), nan), what
    inf = np.isinf(cpu) | np.isinf(gpu)
    np.testing.assert_array_equal(gpu[inf], cpu[inf], err_msg=what)
    fin = ~nan & ~inf
    err = np.abs(gpu[fin].astype(np.float64) - cpu[fin])
    unit = np.spacing(np.abs(cpu[fin])).astype(np.float64) + np.finfo(np.float32).eps * (
        np.broadcast_to(cancel, cpu.shape)[fin])
    assert np.all(err <= ulps * unit), (what, gpu[fin][err > ulps * unit], cpu[fin][err > ulps * unit])


def _has_subnormals(a):
    a = np.abs(a[np.isfinite(a)])
    return np.any((a < _TINY) & (a > 2.0 ** -140))


def _backward_on_both(fn, inputs, g0):
    """The gradients of fn(*inputs) for the incoming gradient g0, on the CPU and on cuda."""
    out = {}
    for dev in ("cpu", "cuda"):
        ts = [ag.tensor(v, device=dev, requires_grad=True) for v in inputs]
        with np.errstate(over="ignore", divide="ignore", invalid="ignore", under="ignore"):
            fn(*ts).backward(ag.tensor(g0, device=dev))
        out[dev] = [None if t.grad is None else to_numpy(t.grad) for t in ts]
    return out["cpu"], out["cuda"]


_F = ag.nn.functional
_X_LIBM = np.array([0.5, -0.5, 2.0, -13.2, -88.0, -90.0, 1e-39, -3e-39, 1.0, -88.5], np.float32)
_G_LIBM = np.array([1e-39, -2e-39, 3e-40, 1.0, 1.0, 0.5, 1.0, 1.0, _TINY / 3, -0.25], np.float32)


@simd
@pytest.mark.parametrize("op", ["gelu", "gelu_tanh", "silu", "softplus", "softplus_beta", "elu",
])
def test_fused_backward_kernels_with_libm_calls_keep_float32_subnormals(op):
    """Subnormal gradients, and inputs whose intermediates (exp(-x^2/2) / sqrt(2 pi) near
    x = -13.2, the logistic function near x = -88, exp(x) below x = -87.3) or results are
    subnormal: the CPU's values within the float32 bound, where the flushing kernels gave 0."""
    fns = {
        "gelu": _F.gelu, "gelu_tanh": lambda x: _F.gelu(x, approximate="tanh"), "silu": _F.silu,
        "softplus": _F.softplus, "softplus_beta": lambda x: _F.softplus(x, beta=0.5, threshold=1.0),
        "elu": lambda x: _F.elu(x, alpha=0.75),
    }
    (cpu,), (gpu,) = _backward_on_both(fns[op], [_X_LIBM], _G_LIBM)
    assert _has_subnormals(cpu), cpu
    _assert_within_ulps(gpu, cpu, _F32_ULPS, op)


@simd
def test_fused_pow_backward_keeps_float32_subnormals():
    a0 = np.array([1e-39, 0.5, 2.0, 3e-39, 0.5, 1.5, 1e-20, 0.25], np.float32)
    b0 = np.array([2.0, 130.0, -1.0, 1.0, 140.0, 2.5, 2.0, 3e-39], np.float32)
    g0 = np.array([1.0, 1.0, 1e-39, 2.0, -1.0, _TINY / 4, 1e-19, 1.0], np.float32)
    cpu, gpu = _backward_on_both(lambda a, b: a ** b, [a0, b0], g0)
    for name, c, g in zip(("d/da", "d/db"), cpu, gpu):
        assert _has_subnormals(c), (name, c)
        _assert_within_ulps(g, c, _F32_POW_ULPS, name)
    a1 = np.array([1e-39, 3e-39, 2e-20, 1.0, 0.5, 4.0], np.float32)
    g1 = np.array([1.0, 0.5, 1.0, 1e-39, -2e-39, 1.0], np.float32)
    for b in (2.0, 3.0, 0.5):  # a number exponent: the pow_base kernel
        (c,), (g,) = _backward_on_both(lambda a: a ** b, [a1], g1)
        assert _has_subnormals(c), (b, c)
        _assert_within_ulps(g, c, _F32_POW_ULPS, f"a ** {b}")


@simd
@pytest.mark.parametrize("pos_weight", [False, True])
@pytest.mark.parametrize("target_grad", [False, True])
def test_fused_bce_with_logits_backward_keeps_float32_subnormals(pos_weight, target_grad):
    x0 = np.array([0.5, -0.5, 2.0, -88.0, -88.5, 1e-39, 3.0, -1.0], np.float32)
    t0 = np.array([1.0, 0.0, 0.25, 0.0, 0.0, 1.0, 1.0, 1e-39], np.float32)
    g0 = np.array([1e-39, -2e-39, 3e-40, 1.0, 0.5, 1.0, _TINY / 3, 1.0], np.float32)
    pw = np.array([2.0, 0.5, 1.0, 3.0, 1.0, 1.5, 2.5, 1.0], np.float32) if pos_weight else None

    def fn(x, t):
        kw = {"pos_weight": ag.tensor(pw, device=x.device)} if pos_weight else {}
        return _F.binary_cross_entropy_with_logits(x, t if target_grad else t.detach(),
                                                   reduction="none", **kw)

    cpu, gpu = _backward_on_both(fn, [x0, t0], g0)
    assert _has_subnormals(cpu[0]), cpu[0]
    _assert_within_ulps(gpu[0], cpu[0], _F32_ULPS, "d/dx")
    if target_grad:
        assert _has_subnormals(cpu[1]), cpu[1]
        _assert_within_ulps(gpu[1], cpu[1], _F32_ULPS, "d/dt")


@simd
def test_fused_cross_entropy_backward_keeps_float32_subnormals():
    # exp of the log-probabilities about -88 to -100: subnormal probabilities, in the
    # gradient as they are (p - 0 off the target; p - 1 there, where the terms cancel)
    logits = np.array([[0.0, -88.0, -100.0, 1.0], [-88.5, 0.0, 2.0, -95.0],
                       [3.0, -90.0, -87.5, 0.5]], np.float32)
    target = np.array([0, 2, 1])
    out = {}
    for dev in ("cpu", "cuda"):
        x = ag.tensor(logits, device=dev, requires_grad=True)
        _F.cross_entropy(x, ag.tensor(target, device=dev), reduction="sum").backward()
        out[dev] = to_numpy(x.grad)
    assert _has_subnormals(out["cpu"])
    hit = np.arange(4) == target[:, None]
    _assert_within_ulps(out["cuda"], out["cpu"], _F32_ULPS, cancel=hit * 1.0)


@pytest.mark.parametrize("target_grad", [False, True])
def test_fused_mse_backward_keeps_float32_subnormals_bit_for_bit(target_grad):
    # pure arithmetic, 2 (x - t) g: the CPU's bits
    x0 = np.array([1e-39, 0.5, -3e-39, 2.0, 1e-38, 0.25], np.float32)
    t0 = np.array([0.0, 0.5 + 2 ** -24, 1e-39, 2.0, 1.1e-38, 0.75], np.float32)
    g0 = np.array([1.0, 1.0, 0.5, 3.0, 1.0, _TINY / 8], np.float32)

    def fn(x, t):
        return _F.mse_loss(x, t if target_grad else t.detach(), reduction="none")

    cpu, gpu = _backward_on_both(fn, [x0, t0], g0)
    for c, g in zip(cpu, gpu):
        if c is None:
            continue
        assert _has_subnormals(c), c
        np.testing.assert_array_equal(g.view(np.uint32), c.view(np.uint32))


# Optimizer updates are pure arithmetic (and sqrt): the CPU's bits, parameters and state.
_OPTS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.25, nesterov=False, weight_decay=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0, eps=1e-38)),
]


@pytest.mark.parametrize("name,kw", _OPTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(_OPTS)])
def test_fused_optimizer_updates_keep_float32_subnormals_bit_for_bit(name, kw):
    """Tiny gradients (their squares are subnormal second moments), subnormal parameters and
    updates: three steps on cuda give the CPU's parameters and state to the bit."""
    p0 = np.array([1e-39, -3e-39, 0.5, -2.0, 1e-38, 2e-39, 1e-39, 0.125], np.float32)
    grads = [np.array([1e-39, 2e-40, 1e-20, -3e-21, -1e-38, 1e-30, -1e-40, 2e-19], np.float32) * s
             for s in (1.0, np.float32(0.5), np.float32(-1.5))]
    result, subnormal = {}, []
    for dev in ("cpu", "cuda"):
        p = ag.nn.Parameter(ag.tensor(p0, device=dev))
        opt = getattr(optim, name)([p], **kw)
        for g in grads:
            opt.zero_grad()
            (p * ag.tensor(g, device=dev)).sum().backward()
            opt.step()
            state = {k: to_numpy(v) for k, v in opt.state[p].items()
                     if isinstance(v, ag.Tensor) and v.ndim}
            subnormal += [_has_subnormals(v) for v in [to_numpy(p), *state.values()]]
        result[dev] = (to_numpy(p), state)
    (pc, sc), (pg, sg) = result["cpu"], result["cuda"]
    assert any(subnormal)  # (in the parameter or a state buffer after some step)
    np.testing.assert_array_equal(pg.view(np.uint32), pc.view(np.uint32))
    assert sorted(sg) == sorted(sc)
    for k in sc:
        np.testing.assert_array_equal(sg[k].view(np.uint32), sc[k].view(np.uint32), err_msg=k)


def test_fused_sgd_rounds_float32_multiply_adds_once_as_the_cpu_does():
    """The kernel's fused multiply-add (exact in double, rounded to odd, then to float32) on
    the cases where rounding the float64 sum again to float32 is wrong
    (tests/fma_reference.py: subnormal results, the largest float, every sign, exact zeros):
    p + lr * g (maximize, so that the factor is -(-lr)) is the exact result rounded once, on
    cuda and on the cpu."""
    for b, (a, c, want) in by_factor().items():
        for dev in ("cuda", "cpu"):
            p = ag.nn.Parameter(ag.tensor(c, device=dev))
            p.grad = ag.tensor(a, device=dev)
            optim.SGD([p], lr=b, maximize=True).step()
            assert_bits(to_numpy(p), want, dev)
