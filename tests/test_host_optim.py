"""The host build of kernels/optim.cuh (autograd_gpu.backend._host_optim) against the NumPy
formulas of optim/_functional.py, bit for bit.

The optimizers run the host build on NumPy float32/float64 parameters (one pass instead of
several); the NumPy formulas are the ones compared with torch.optim step by step elsewhere
(tests/test_optim.py, tests/test_optim_extra.py). Here every optimizer, every combination of
its flags, both float dtypes, special values in the gradient, and a parameter large enough
to be split across two host threads must give the formulas' bits exactly.
"""
import itertools

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.fused import _optim as fused_optim
from autograd_gpu.optim import _functional as F
from fma_reference import assert_bits, by_factor

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


def _bits(a):
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)


def _same(got, want):
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(_bits(got)[~nan], _bits(want)[~nan])  # (+0 and -0 told apart)


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
            _same(got, want)


def test_float32_multiply_adds_are_correctly_rounded(build):
    """SGD's p + (-lr) g is one fused multiply-add: on the cases where rounding the float64
    sum again to float32 is wrong (tests/fma_reference.py: subnormal results, the largest
    float, every sign, exact zeros), both builds give the exact result rounded once. Each
    case nine times over, so that vector lanes and the scalar tail both compute it."""
    for b, (a, c, want) in by_factor().items():
        a, p, want = np.tile(a, 9), np.tile(c, 9), np.tile(want, 9)
        assert fused_optim._host_optim.step(fused_optim._host_optim.SGD, p, a, None, None,
                                            None, (b, 0.0, 1.0, 0.0), (False,) * 5)
        assert_bits(p, want)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_a_parameter_split_across_host_threads_gives_the_same_bits(kind, monkeypatch):
    # (split from the NumPy formulas' threshold, so that these sizes are split too)
    monkeypatch.setattr(fused_optim, "_ONE_PASS_THREAD_MIN", fused_optim.THREAD_MIN_ELEMENTS)
    ag.set_num_threads(2)
    try:
        rng = np.random.default_rng(3)
        flags = next(iter(_variants(kind)))
        host, ref = _run_both(kind, flags, 600_001, np.float32, rng)
        for got, want in zip(host, ref):
            _same(got, want)
    finally:
        ag.set_num_threads(ag.backend.host_threads._threads_from_env())


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
