"""The host build of kernels/optim.cuh (autograd_gpu.backend._host_optim) against the NumPy
formulas of optim/_functional.py, bit for bit.

The optimizers run the host build on NumPy float32/float64 parameters (one pass instead of
several); the NumPy formulas are the ones compared with torch.optim step by step elsewhere
(tests/test_optim.py, tests/test_optim_extra.py). Here every optimizer, every combination of
its flags, both float dtypes, special values in the gradient, and a parameter large enough
to be split across the host build's threads must give the formulas' bits exactly.
"""
import itertools

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.fused import _optim as fused_optim
from autograd_gpu.optim import _functional as F
from fma_reference import assert_bits, assert_same_bits, by_factor

pytestmark = pytest.mark.skipif(
    fused_optim._host_optim is None,
    reason="the host build of the optimizer kernels is absent (no C++ compiler at install)")

# kind: (update, step, buffer names, {flag: values}, hyper-parameters)
CASES = {
    "sgd": (F.sgd_update, F._sgd_step, ("momentum_buffer",),
            dict(momentum=(0.0, 0.9), nesterov=(False, True), weight_decay=(0.0, 0.1),
                 maximize=(False, True), first_step=(False, True)),
            dict(lr=0.05, dampening=0.25)),
    "adam": (F.adam_update, F._adam_step, ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
             dict(weight_decay=(0.0, 0.1), decoupled_weight_decay=(False, True),
                  amsgrad=(False, True), maximize=(False, True)),
             dict(step=3, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8)),
    "rmsprop": (F.rmsprop_update, F._rmsprop_step, ("square_avg", "momentum_buffer", "grad_avg"),
                dict(weight_decay=(0.0, 0.1), centered=(False, True), momentum=(0.0, 0.5),
                     maximize=(False, True)),
                dict(lr=0.01, alpha=0.99, eps=1e-4)),
    "adagrad": (F.adagrad_update, F._adagrad_step, ("state_sum",),
                dict(weight_decay=(0.0, 0.1), maximize=(False, True)),
                dict(step=4, lr=0.1, lr_decay=0.01, eps=1e-10)),
    "adadelta": (F.adadelta_update, F._adadelta_step, ("square_avg", "acc_delta"),
                 dict(weight_decay=(0.0, 0.1), maximize=(False, True)),
                 dict(lr=1.0, rho=0.9, eps=1e-6)),
}


def _variants(kind):
    flags = CASES[kind][3]
    for values in itertools.product(*flags.values()):
        yield dict(zip(flags, values))


def _arrays(kind, n, dtype, rng, specials):
    update, step, names, _, _ = CASES[kind]
    p = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    if specials:
        g[:6] = [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e-30]
    bufs = []
    for name in names:
        b = rng.standard_normal(n).astype(dtype)
        if name in ("exp_avg_sq", "square_avg", "state_sum", "acc_delta", "max_exp_avg_sq"):
            b = np.abs(b)  # (second moments are never negative)
        bufs.append(b)
    return p, g, bufs


class _Counting:
    """The host build, counting its calls that ran (a kernel that declined would leave the
    work to the NumPy formulas, and the comparison would prove nothing)."""

    def __init__(self, real):
        self.real, self.ran = real, 0

    def step(self, *args):
        ran = self.real.step(*args)
        self.ran += bool(ran)
        return ran


def _run_both(kind, flags, n, dtype, rng, specials=False):
    update, step, names, _, hyper = CASES[kind]
    kw = dict(hyper, **flags)
    p, g, bufs = _arrays(kind, n, dtype, rng, specials)
    host = [p.copy(), g.copy()] + [b.copy() for b in bufs]
    ref = [p.copy(), g.copy()] + [b.copy() for b in bufs]
    counting = _Counting(fused_optim._host_optim)
    fused_optim._host_optim = counting
    try:
        with np.errstate(all="ignore"):
            update(*host, **kw)
    finally:
        fused_optim._host_optim = counting.real
    assert counting.ran >= 1, (kind, flags)
    with np.errstate(all="ignore"):
        step(np, *ref, **kw)
    return host, ref


@pytest.fixture(params=["avx2", "baseline"])
def build(request):
    """The host build's loops for AVX2 (where this CPU and the compiler have one; else the
    baseline again) and for the x86-64 baseline: both must give the formulas' bits."""
    before = fused_optim._host_optim.set_avx2(request.param == "avx2")
    yield request.param
    fused_optim._host_optim.set_avx2(before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", sorted(CASES))
def test_every_flag_combination_gives_the_numpy_formulas_bits(kind, dtype, build):
    rng = np.random.default_rng(7)
    for flags in _variants(kind):
        host, ref = _run_both(kind, flags, 257, dtype, rng, specials=True)
        for got, want in zip(host, ref):
            assert_same_bits(got, want)


def test_float32_multiply_adds_are_correctly_rounded(build):
    """SGD's p + (-lr) g is one fused multiply-add: on the cases where rounding the float64
    sum again to float32 is wrong (tests/fma_reference.py: subnormal results, the largest
    float, every sign, exact zeros), both builds give the exact result rounded once. Each
    case nine times over, so that vector lanes and the scalar tail both compute it."""
    for b, (a, c, want) in by_factor().items():
        a, p, want = np.tile(a, 9), np.tile(c, 9), np.tile(want, 9)
        assert fused_optim._host_optim.step(fused_optim._host_optim.SGD, p, a, None, None,
                                            None, (b, 0.0, 1.0, 0.0), (False,) * 5, 1)
        assert_bits(p, want)


class _Parts:
    """A stand-in for the host build that records the `parts` of every step."""

    def __init__(self, real):
        self.real, self.parts = real, []

    def step(self, *args):
        self.parts.append(args[-1])
        return self.real.step(*args)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_parameter_split_across_host_threads_gives_the_same_bits(kind, monkeypatch):
    spy = _Parts(fused_optim._host_optim)
    monkeypatch.setattr(fused_optim, "_host_optim", spy)
    ag.set_num_threads(3)
    try:
        rng = np.random.default_rng(3)
        flags = next(iter(_variants(kind)))
        host, ref = _run_both(kind, flags, 3 * fused_optim.HOST_STEP_THREAD_MIN + 17,
                              np.float32, rng)
        for got, want in zip(host, ref):
            assert_same_bits(got, want)
    finally:
        ag.set_num_threads(ag.backend.host_threads._threads_from_env())
    assert spy.parts and set(spy.parts) == {3}  # (it was split, three ways)


def test_a_parameter_below_the_threshold_a_thread_is_not_split(monkeypatch):
    spy = _Parts(fused_optim._host_optim)
    monkeypatch.setattr(fused_optim, "_host_optim", spy)
    ag.set_num_threads(4)
    try:
        n = 2 * fused_optim.HOST_STEP_THREAD_MIN
        for size in (n - 1, n, 10):
            p, g = np.zeros(size, np.float32), np.ones(size, np.float32)
            assert fused_optim._on_host("sgd", p, g, (None,), (-0.5, 0.0, 1.0, 0.0), (False,) * 5)
            np.testing.assert_array_equal(p, np.full(size, -0.5, np.float32))
    finally:
        ag.set_num_threads(ag.backend.host_threads._threads_from_env())
    assert spy.parts == [1, 2, 1]


def _sgd_parts(p, g, parts, lr=-0.375):
    return fused_optim._host_optim.step(fused_optim._host_optim.SGD, p, g, None, None, None,
                                        (lr, 0.0, 1.0, 0.0), (False,) * 5, parts)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 15, 16, 17, 100, 1000, 4099])
@pytest.mark.parametrize("parts", [2, 3, 7, 1024])
def test_every_split_updates_each_element_once(dtype, n, parts):
    # every element of a parameter of any length, split any number of ways (more parts than
    # cache lines included), is updated exactly once: p starts at 0, the step adds -lr * g
    g = np.arange(1, n + 1, dtype=dtype)
    p = np.zeros(n, dtype)
    assert _sgd_parts(p, g, parts)
    np.testing.assert_array_equal(p, dtype(-0.375) * g)


def test_parts_out_of_range_raise_and_change_nothing():
    p, g = np.zeros(8, np.float32), np.ones(8, np.float32)
    for parts in (0, -1, 1025):
        with pytest.raises(ValueError, match="parts must be from 1 to 1024"):
            _sgd_parts(p, g, parts)
    with pytest.raises(TypeError):
        _sgd_parts(p, g, 2.0)
    assert (p == 0).all()


def test_steps_from_several_python_threads_at_once_each_apply_once():
    # the pool runs one step at a time; a step that finds it busy runs on its own thread:
    # either way each of the eight parameters gets its 50 updates, no more and no fewer
    import threading

    n = 1 << 18
    params = [np.zeros(n, np.float32) for _ in range(8)]
    g = np.ones(n, np.float32)
    errors = []

    def work(p):
        try:
            for _ in range(50):
                assert _sgd_parts(p, g, 2, lr=1.0)
        except BaseException as e:  # (reported below, in the test's own thread)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(p,)) for p in params]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for p in params:
        np.testing.assert_array_equal(p, np.full(n, 50, np.float32))


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_forked_child_splits_steps_on_threads_of_its_own():
    # the parent's pool threads are not in a forked child: the child must start its own
    # (with the parent's pool it would wait forever for a part no thread runs)
    import os

    n = 1 << 18
    g = np.ones(n, np.float32)
    p = np.zeros(n, np.float32)
    assert _sgd_parts(p, g, 2, lr=1.0)  # (the parent's pool now has a thread)
    pid = os.fork()
    if pid == 0:  # the child: exit status 0 only when its split step is right
        ok = False
        try:
            q = np.zeros(n, np.float32)
            ok = _sgd_parts(q, g, 2, lr=2.0) and bool((q == 2).all())
        finally:
            os._exit(0 if ok else 1)
    import time

    deadline = time.monotonic() + 20
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's split step did not finish in 20 s")
        time.sleep(0.01)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_the_host_build_runs_and_changes_the_parameter():
    # (a kernel that declined would leave the work to the NumPy formulas: check it ran)
    rng = np.random.default_rng(0)
    p = rng.standard_normal(10).astype(np.float32)
    g = rng.standard_normal(10).astype(np.float32)
    before = p.copy()
    ran = fused_optim._on_host("sgd", p, g, (None,), (-0.5, 0.0, 1.0, 0.0),
                               (False, False, False, False, False))
    assert ran
    np.testing.assert_array_equal(p, (before.astype(np.float64) + g.astype(np.float64) * -0.5)
                                  .astype(np.float32))


@pytest.mark.parametrize("case", ["float16", "strided", "mixed", "int"])
def test_arrays_it_does_not_take_are_left_to_the_numpy_formulas(case):
    rng = np.random.default_rng(1)
    p = rng.standard_normal(20).astype(np.float32)
    g = rng.standard_normal(20).astype(np.float32)
    if case == "float16":
        p, g = p.astype(np.float16), g.astype(np.float16)
    elif case == "strided":
        p = rng.standard_normal(40).astype(np.float32)[::2]
    elif case == "mixed":
        g = g.astype(np.float64)
    else:
        p, g = p.astype(np.int32), g.astype(np.int32)
    before = p.copy()
    assert not fused_optim._on_host("sgd", p, g, (None,), (-0.5, 0.0, 1.0, 0.0),
                                    (False, False, False, False, False))
    np.testing.assert_array_equal(p, before)


def test_an_optimizer_step_on_a_float16_parameter_still_updates():
    w = ag.nn.Parameter(ag.ones(5, dtype=ag.float16))
    opt = ag.optim.SGD([w], lr=0.5)
    (w * 2).sum().backward()
    opt.step()
    np.testing.assert_array_equal(w.detach().numpy(), np.zeros(5, np.float16))
