"""Devices and the CPU fallback: what happens with CuPy installed but no GPU (this machine,
CI), without CuPy at all, and on a CUDA machine."""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import backend


def _python(code, **env):
    full_env = {k: v for k, v in os.environ.items() if k != "AUTOGRAD_GPU_DEVICE"}
    full_env.update(env)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, env=full_env)
    return proc


def test_device_parsing_and_equality():
    assert ag.device("cpu").type == "cpu" and ag.device("cpu").index is None
    d = ag.device("cuda:1")
    assert (d.type, d.index, str(d)) == ("cuda", 1, "cuda:1")
    assert repr(d) == "device(type='cuda', index=1)"
    assert ag.device("cuda", 1) == d == "cuda:1"
    assert ag.device("cuda") != ag.device("cuda:0")  # as torch: no index is not index 0
    assert len({ag.device("cpu"), ag.device("cpu")}) == 1


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:3", "tpu:0"])
def test_bad_device_strings_raise(bad):
    with pytest.raises(RuntimeError, match="device"):
        ag.device(bad)


def test_import_is_silent_and_touches_no_gpu():
    proc = _python("""
        import sys
        import autograd_gpu
        print('cupy' in sys.modules, autograd_gpu.backend.devices._cuda_state is None)
    """)
    # (what makes import fast is what is checked: no CuPy import, no CUDA probe; a time
    # limit would be a verdict on the machine's load)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]
    assert proc.stderr == ""


@pytest.mark.skipif(ag.cuda.is_available(), reason="this machine has a usable GPU")
def test_without_gpu_default_is_cpu_and_cuda_request_explains_why():
    assert not ag.cuda.is_available()
    assert ag.cuda.device_count() == 0
    reason = ag.cuda.unavailable_reason()
    assert "CuPy" in reason
    assert ag.get_default_device() == ag.device("cpu")
    assert ag.zeros(2).device == ag.device("cpu")
    with pytest.raises(RuntimeError, match="CUDA was requested but is not available: CuPy") as e:
        ag.zeros(2, device="cuda")
    assert reason in str(e.value)  # the underlying error text is kept
    x = ag.ones(3)
    with pytest.raises(RuntimeError, match="not available"):
        x.cuda()
    assert x.device.type == "cpu" and x.tolist() == [1.0, 1.0, 1.0]  # nothing changed


def test_cupy_installed_without_gpu_reason_names_driver_or_device():
    try:
        import cupy  # noqa: F401
    except ImportError:
        pytest.skip("CuPy is not installed here")
    if ag.cuda.is_available():
        pytest.skip("this machine has a usable GPU")
    assert "CuPy is installed but" in ag.cuda.unavailable_reason()


def test_without_cupy_reason_says_not_installed():
    proc = _python("""
        import sys
        sys.modules['cupy'] = None  # import cupy now fails, as on a machine without it
        import autograd_gpu as ag
        print(ag.cuda.is_available())
        print(ag.cuda.unavailable_reason())
        print(ag.zeros(2).device)
        try:
            ag.ones(1, device='cuda')
        except RuntimeError as e:
            print('ERR', e)
    """)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "False"
    assert "CuPy is not installed" in lines[1]
    assert lines[2] == "cpu"
    assert lines[3].startswith("ERR CUDA was requested but is not available: CuPy is not installed")


def test_default_device_from_environment():
    proc = _python("import autograd_gpu as ag; print(ag.zeros(1).device, ag.get_default_device())",
                   AUTOGRAD_GPU_DEVICE="cpu")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["cpu", "cpu"]
    if not ag.cuda.is_available():
        proc = _python("import autograd_gpu as ag; ag.zeros(1)", AUTOGRAD_GPU_DEVICE="cuda")
        assert proc.returncode != 0
        assert "CUDA was requested but is not available" in proc.stderr


def test_the_default_device_is_the_cpu_even_where_cuda_is_usable(monkeypatch):
    """As PyTorch's: a program's .numpy() and printouts do not depend on the machine."""
    monkeypatch.delenv("AUTOGRAD_GPU_DEVICE", raising=False)
    assert backend.devices._initial_default() == ag.device("cpu")
    if ag.cuda.is_available():
        monkeypatch.setenv("AUTOGRAD_GPU_DEVICE", "cuda")
        assert backend.devices._initial_default().type == "cuda"


def test_set_default_device_applies_to_creation_functions():
    before = ag.get_default_device()
    try:
        ag.set_default_device("cpu")
        assert ag.randn(2).device == ag.device("cpu")
        assert ag.get_default_device() == ag.device("cpu")
    finally:
        ag.set_default_device(before)


def test_to_device_and_dtype(device):
    x = ag.tensor([1.0, 2.0], device=device)
    assert x.device.type == device
    y = x.to(ag.float64)
    assert y.dtype == ag.float64 and x.dtype == ag.float32
    assert x.to(device) is x  # nothing to do: the same tensor
    z = x.to("cpu", ag.float64)
    assert z.device == ag.device("cpu") and z.dtype == ag.float64
    assert np.array_equal(z.numpy(), [1.0, 2.0])
    assert x.to(z).dtype == ag.float64


def test_dtype_reprs_and_aliases():
    assert repr(ag.float32) == "autograd_gpu.float32"
    assert ag.float is ag.float32 and ag.double is ag.float64 and ag.long is ag.int64
    assert ag.float32.is_floating_point and not ag.int64.is_floating_point


@pytest.mark.gpu
def test_cuda_tensors_and_mixed_device_error():
    a = ag.ones(3, device="cuda")
    b = ag.ones(3)
    assert a.device == ag.device("cuda:0") and a.is_cuda
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but "
                       "found at least two devices, cuda:0 and cpu.*MulBackward0"):
        a * b
    assert np.array_equal((a * 2).cpu().numpy(), [2.0, 2.0, 2.0])
    with pytest.raises(TypeError, match="cpu"):
        a.numpy()
    x = ag.randn(4, device="cuda", requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.device == x.device
    np.testing.assert_allclose(x.grad.cpu().numpy(), 2 * x.detach().cpu().numpy(), rtol=1e-6)


@pytest.mark.gpu
def test_manual_seed_is_reproducible_on_cuda():
    ag.manual_seed(3)
    a = ag.randn(5, device="cuda").cpu().numpy()
    ag.manual_seed(3)
    b = ag.randn(5, device="cuda").cpu().numpy()
    assert np.array_equal(a, b)


# ---------------------------------------------------------------- host threads


@pytest.fixture
def threads(monkeypatch):
    """Counts the shares handed to other threads; restores the thread count afterwards."""
    before = ag.get_num_threads()
    handed = []
    run_share = backend.host_threads._run_share

    def counting(fn, lo, hi, block, err):
        handed.append(hi - lo)
        run_share(fn, lo, hi, block, err)

    monkeypatch.setattr(backend.host_threads, "_run_share", counting)
    yield handed
    ag.set_num_threads(before)


def _domain(f, n, dt):
    x = np.random.default_rng(0).uniform(0.05, 0.95, n).astype(dt)  # inside every domain
    return x + 1 if f is np.arccosh else x


_UNARY_UFUNCS = [np.exp, np.expm1, np.exp2, np.log, np.log1p, np.log2, np.log10, np.sin,
                 np.cos, np.tan, np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.tanh,
                 np.arcsinh, np.arccosh, np.arctanh, np.sqrt, np.cbrt, np.negative,
                 np.absolute, np.square, np.reciprocal, np.floor, np.ceil, np.rint, np.trunc]
_C_MIN = backend.host_threads.C_THREAD_MIN_ELEMENTS
_host_arith = backend.execute._host_arith


@pytest.mark.simd  # NumPy's SIMD loops on parts vs on the whole array
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("f", _UNARY_UFUNCS, ids=lambda f: f.__name__)
def test_a_ufunc_split_across_the_c_threads_gives_numpys_bits(threads, f, dt):
    ag.set_num_threads(3)
    n = 3 * _C_MIN + 17  # a last part of odd length
    x = _domain(f, n, dt)
    out = _host_arith.ufunc(f, x)
    assert _host_arith.last_parts() == 3
    np.testing.assert_array_equal(out, f(x))
    # NumPy's loop from C on a small array too, on the calling thread
    np.testing.assert_array_equal(_host_arith.ufunc(f, x[:1000]), f(x[:1000]))
    assert _host_arith.last_parts() == 1


@pytest.mark.simd  # NumPy's SIMD loops on parts vs on the whole array
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_arithmetic_and_accumulation_split_across_the_c_threads_give_numpys_bits(threads, dt):
    ag.set_num_threads(2)
    rng = np.random.default_rng(5)
    n = 2 * _C_MIN + 33
    a, b = rng.standard_normal(n).astype(dt), rng.standard_normal(n).astype(dt)
    one = np.broadcast_to(dt(0.3), (n,))  # (a sum's gradient: one value, zero strides)
    for op, f in ((1, np.add), (2, np.subtract), (3, np.multiply), (4, np.true_divide)):
        for x, y in ((a, b), (a, 1.5), (one, b), (a, one)):
            got = _host_arith.arith(op, x, y)
            assert _host_arith.last_parts() == 2
            want = f(x, y)
            assert got.dtype == want.dtype and got.tobytes() == want.tobytes()
    acc = a.copy()
    assert _host_arith.add_into(acc, b) is acc and _host_arith.last_parts() == 2
    assert acc.tobytes() == (a + b).tobytes()
    assert _host_arith.add_into(acc[1:], acc[:-1]) is NotImplemented  # (overlapping: NumPy's)
    assert _host_arith.add_into(acc, b[::2].repeat(2)[:n].astype(np.float16)) is NotImplemented


def test_strided_integer_and_0d_inputs_and_one_thread_are_left_whole(threads):
    ag.set_num_threads(4)
    big = _domain(np.tanh, 4 * _C_MIN, np.float32)
    assert _host_arith.ufunc(np.tanh, big[::2]) is NotImplemented
    assert _host_arith.ufunc(np.tanh, np.arange(5)) is NotImplemented
    assert _host_arith.ufunc(np.tanh, np.asarray(np.float32(0.5))) is NotImplemented
    assert _host_arith.ufunc(np.add, big) is NotImplemented  # (not unary)
    _host_arith.ufunc(np.tanh, big)
    assert _host_arith.last_parts() == 4
    ag.set_num_threads(1)
    np.testing.assert_array_equal(_host_arith.ufunc(np.tanh, big), np.tanh(big))
    assert _host_arith.last_parts() == 1


def test_the_callers_floating_point_error_handling_holds_on_every_thread(threads):
    ag.set_num_threads(2)
    x = np.zeros(4 * _C_MIN, np.float32)
    x[-1] = 1000  # overflows, in the part the other thread runs
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        backend.execute.unary(np.exp, x)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        _host_arith.arith(3, x, np.float32(1e38) * np.ones_like(x))
    with np.errstate(over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isinf(backend.execute.unary(np.exp, x)[-1])
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
        backend.execute.unary(np.exp, x)
    # sigmoid silences exp's overflow for very negative inputs; its threads do too
    ag.set_num_threads(2)
    big = np.zeros(backend.host_threads.HOST_BLOCK_BYTES, np.float32)
    big[-1] = 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = ag.sigmoid(ag.tensor(-big)).numpy()
    assert y[-1] == 0 and y[0] == 0.5
    assert _host_arith.last_parts() == 2  # (sigmoid forward: the other thread took a part)


@pytest.mark.simd  # NumPy's SIMD exp/tanh on parts vs on the whole array
def test_tensor_ops_on_large_inputs_run_threaded_and_match_one_thread(threads):
    x = ag.tensor(_domain(np.tanh, 3 * backend.host_threads.THREAD_MIN_ELEMENTS, np.float32), requires_grad=True)
    results = {}
    for n in (1, 2):
        ag.set_num_threads(n)
        x.grad = None
        y = ag.tanh(x) * ag.sigmoid(x) + ag.exp(x).log() + ag.sin(x)
        parts = [_host_arith.last_parts()]  # (the last add)
        y.sum().backward()
        parts.append(_host_arith.last_parts())  # (the last gradient accumulation)
        assert parts == [n, n]
        results[n] = (y.detach().numpy(), x.grad.numpy())
    # every pass in C, on the C threads: the ufuncs, sigmoid's chain, the arithmetic and the
    # backward formulas (their host build; the Python threads take none)
    assert threads == []
    for a, b in zip(results[1], results[2]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "2", None])
def test_set_num_threads_refuses_what_is_not_a_positive_integer(threads, bad):
    with pytest.raises(ValueError, match=r"set_num_threads expects a positive integer, got "):
        ag.set_num_threads(bad)
    assert ag.get_num_threads() >= 1


def test_the_default_thread_count_is_omp_num_threads_or_the_usable_cores():
    code = "import autograd_gpu as ag; print(ag.get_num_threads())"
    assert _python(code, OMP_NUM_THREADS="3").stdout.strip() == "3"
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.stdout.strip() == str(len(os.sched_getaffinity(0))), proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_threads_of_its_own(threads):
    ag.set_num_threads(2)
    x = _domain(np.tanh, 4 * backend.host_threads.THREAD_MIN_ELEMENTS, np.float32)
    backend.host_threads.host_blockwise(lambda a, b: np.tanh(a, out=b), x, np.empty_like(x))  # a Python thread
    _host_arith.ufunc(np.tanh, x)  # and a C thread
    assert len(threads) == 1 and _host_arith.last_parts() == 2
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_tanh_in_child, args=(x,))
    child.start()
    child.join(60)  # the parent's threads are not in the child: a stale pool would hang here
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung on the parent's thread pool")
    assert child.exitcode == 0


def _tanh_in_child(x):
    out = np.empty_like(x)
    backend.host_threads.host_blockwise(lambda a, b: np.tanh(a, out=b), x, out)
    ok = np.array_equal(out, np.tanh(x)) and np.array_equal(_host_arith.ufunc(np.tanh, x), out)
    os._exit(0 if ok and _host_arith.last_parts() == 2 else 1)


_FORMULA_SCALARS = {"leaky_relu": (0.1,), "softplus": (1.0, 20.0), "elu": (1.0,),
                    "clamp": (-0.5, 0.5), "pow_base": (3.0,)}


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["relu", "leaky_relu", "sigmoid", "tanh", "gelu", "gelu_tanh",
                                  "silu", "softplus", "elu", "exp", "log", "sqrt", "abs", "clamp",
                                  "pow_base"])
@pytest.mark.simd  # NumPy's SIMD exp/tanh on blocks vs on the whole array
def test_a_backward_formula_run_blockwise_on_threads_gives_the_whole_result(threads, monkeypatch,
                                                                           name, dt):
    from autograd_gpu.ops import arithmetic, elementwise

    ag.set_num_threads(2)
    n = 5 * backend.host_threads.HOST_BLOCK_BYTES // np.dtype(dt).itemsize // 2 + 3  # 2.5 blocks and a bit
    rng = np.random.default_rng(1)
    lo = 0.05 if name in ("log", "sqrt") else -2
    v, g = rng.uniform(lo, 2, n).astype(dt), rng.standard_normal(n).astype(dt)
    fn = getattr(arithmetic if name == "pow_base" else elementwise, f"_{name}_backward",
                 None) or getattr(arithmetic, f"{name}_backward")
    s = _FORMULA_SCALARS.get(name, ())
    monkeypatch.setattr(fn.formula, "host_code", None)  # (the blocks, not the host build)
    blocked = fn(v, g, *s)
    assert len(threads) == 1  # the second half of the blocks ran on the other thread
    whole = fn.formula.fn(np, v, g, *s)  # the NumPy formula on the whole arrays
    assert blocked.dtype == whole.dtype == dt
    np.testing.assert_array_equal(blocked, whole)


def _steps_one_by_one(steps, x):
    """`steps` of a unary chain as NumPy calls, each on the whole array."""
    t = x
    for s in steps:
        if not isinstance(s, tuple):
            t = s(t)
        elif isinstance(s[0], np.ufunc):
            t = s[0](t, s[1])
        else:
            t = s[1](s[0], t)
    return t


_CHAINS = {
    "sigmoid": (np.negative, np.exp, (np.add, 1), np.reciprocal),
    "numbers on both sides": ((2.5, np.subtract), np.tanh, (np.multiply, 3), (1, np.true_divide),
                              (np.true_divide, 0.7), (np.subtract, 2), np.sqrt),
}


@pytest.mark.simd  # NumPy's SIMD loops on blocks and parts vs on the whole array
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("chain", list(_CHAINS), ids=str)
def test_a_unary_chain_gives_the_bits_of_its_steps_one_by_one(threads, chain, dt):
    steps = _CHAINS[chain]
    run = backend.execute.unary_chain(*steps, ignore=("over", "under", "invalid"))
    ag.set_num_threads(3)
    rng = np.random.default_rng(4)
    for n in (1, 5, 2049, 3 * _C_MIN + 17):  # (block and part boundaries, a short last part)
        x = (rng.standard_normal(n) * 3).astype(dt)
        with np.errstate(all="ignore"):
            want = _steps_one_by_one(steps, x)
        got = run(x)
        assert _host_arith.last_parts() == (3 if n > _C_MIN else 1)
        assert got.dtype == want.dtype == dt and got.shape == x.shape
        assert got.tobytes() == want.tobytes()
    # what C does not take runs the steps with NumPy: a strided view, a 0-d array
    x = (rng.standard_normal(64) * 3).astype(dt)
    for v in (x[::2], np.asarray(x[0])):
        with np.errstate(all="ignore"):
            want = _steps_one_by_one(steps, v)
        got = run(v)
        assert isinstance(got, np.ndarray) and got.shape == v.shape
        np.testing.assert_array_equal(got, want)


def test_a_unary_chain_silences_what_it_ignores_and_lets_numpy_report_the_rest(threads):
    ag.set_num_threads(2)
    x = np.zeros(4 * _C_MIN, np.float32)
    x[-1], x[0] = -1000, 1000  # exp(-x) overflows in the other thread's part, underflows in ours
    sigmoid = backend.execute.unary_chain(np.negative, np.exp, (np.add, 1), np.reciprocal,
                                          ignore=("over", "under"))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        y = sigmoid(x)
    assert y[-1] == 0 and y[0] == 1 and _host_arith.last_parts() == 2
    exp_only = backend.execute.unary_chain(np.negative, np.exp)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        exp_only(x)
    with pytest.warns(RuntimeWarning, match="overflow encountered in exp"):
        assert np.isinf(exp_only(x)[-1])
    # the C loop's flags come from its own call: an earlier exception is not reported again
    with np.errstate(over="ignore"):
        np.exp(np.float32(1000))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert exp_only(x[1:-1]).tobytes() == np.ones(4 * _C_MIN - 2, np.float32).tobytes()


def test_a_unary_chain_declines_steps_it_cannot_run_in_c():
    x = np.linspace(-1, 1, 10, dtype=np.float32)
    chain = _host_arith.chain
    assert chain(x, (np.add,), 0) is NotImplemented  # (not unary)
    assert chain(x, ((1, np.float32(1), False),), 0) is NotImplemented  # (a NumPy scalar)
    assert chain(x, ((1, 2**30, False),), 0) is NotImplemented  # (not exact in float32)
    assert chain(x, ((7, 1.0, False),), 0) is NotImplemented  # (no such op)
    assert chain(x, (np.negative,) * 9, 0) is NotImplemented  # (too many steps)
    assert chain(x, (), 0) is NotImplemented
    assert chain(x.astype(np.float16), (np.negative,), 0) is NotImplemented
    # the Python path agrees for each (a NumPy scalar number: NumPy's own promotion)
    run = backend.execute.unary_chain((np.float32(2), np.multiply), np.negative)
    np.testing.assert_array_equal(run(x), -(np.float32(2) * x))


def test_a_blockwise_formula_that_calls_another_runs_the_inner_one_on_its_own_thread(threads):
    import threading

    ag.set_num_threads(2)
    n = 4 * backend.host_threads.HOST_BLOCK_BYTES // 8
    x, out = np.linspace(-1, 1, n), np.empty(n)

    def outer(xb, ob):  # each block runs another blockwise op (silu's backward calls sigmoid)
        inner = np.empty(4 * backend.host_threads.HOST_BLOCK_BYTES // 8)
        big = np.resize(xb, inner.shape)
        backend.host_threads.host_blockwise(lambda a, b: np.exp(a, out=b), big, inner)
        # and the C threads, which both Python threads may ask for at once (one gets them)
        np.testing.assert_array_equal(backend.execute.unary(np.exp, big), inner)
        np.tanh(xb, out=ob)

    worker = threading.Thread(target=backend.host_threads.host_blockwise, args=(outer, x, out), daemon=True)
    worker.start()
    worker.join(60)  # both pool threads waiting on inner shares nobody runs would hang here
    assert not worker.is_alive(), "a nested blockwise call deadlocked"
    assert len(threads) == 1  # the outer call's share; the inner calls stayed on their threads
    np.testing.assert_array_equal(out, np.tanh(x))
