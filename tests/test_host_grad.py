"""The host build of the arithmetic backward formulas (kernels/host_grad.cpp,
autograd_gpu.backend._host_grad) against the NumPy formulas of ops/elementwise.py, bit for bit.

The execution layer runs the host build for NumPy float arrays (one pass where the NumPy
formula makes up to three); the NumPy formulas are the ones compared with PyTorch elsewhere
(tests/test_ops.py, tests/test_kernels.py). Each formula is pure + - * / and comparisons,
so the two must agree exactly: on random inputs, on every pair of special values (zeros of
both signs, infinities, NaN, subnormals, the largest floats), in float32 and float64, on
arrays split across the host threads, and with NumPy's floating-point warnings.
"""
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.backend import _host_arith, execute
from autograd_gpu.backend.host_threads import C_THREAD_MIN_ELEMENTS
from autograd_gpu.ops import elementwise as E
from fma_reference import assert_same_bits

_host_grad = execute._host_grad
pytestmark = pytest.mark.skipif(
    _host_grad is None, reason="the host build of the backward formulas is absent (no C++ compiler at install)")

SCALARS = {"leaky_relu_backward": (0.1,)}
POSITIVE = {"log_backward", "sqrt_backward"}  # (v in their domain for the random inputs)
NAMES = sorted(_host_grad.FORMULAS) if _host_grad is not None else []
DTYPES = [np.float32, np.float64]


def _formula(name):
    return getattr(E, "_" + name)


def _same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    assert_same_bits(got, want)


def _inputs(name, n, dt, seed=0):
    rng = np.random.default_rng(seed)
    lo = 0.05 if name in POSITIVE else -3
    return rng.uniform(lo, 3, n).astype(dt), rng.standard_normal(n).astype(dt)


def test_every_formula_of_the_host_build_is_a_registered_formula():
    assert NAMES == sorted(["relu_backward", "leaky_relu_backward", "sigmoid_backward",
                            "tanh_backward", "exp_backward", "log_backward", "sqrt_backward",
                            "abs_backward"])
    for name in NAMES:
        assert _formula(name).formula.host_code == _host_grad.FORMULAS[name]


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_the_host_build_gives_the_numpy_formulas_bits(name, dt):
    code, s = _host_grad.FORMULAS[name], SCALARS.get(name, ())
    fn = _formula(name).formula.fn
    for n, shape in ((1, (1,)), (1003, (17, 59)), (4099, (4099,))):
        v, g = _inputs(name, n, dt)
        v, g = v.reshape(shape), g.reshape(shape)
        got = _host_grad.run(code, v, g, s)
        assert got is not NotImplemented  # (finite inputs: no exception, the C loop answers)
        _same(got, fn(np, v, g, *s))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_special_values_give_the_numpy_formulas_bits_or_go_to_numpy(name, dt):
    """Every pair of special values, one element each: the C loop's answer where it raised no
    exception (then NumPy's formula raises none either), and the formula's call gives NumPy's
    bits and warnings in every case."""
    info = np.finfo(dt)
    special = np.array([0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, info.smallest_subnormal,
                        -info.smallest_subnormal, info.tiny, info.max, -info.max, 0.5], dt)
    code, s = _host_grad.FORMULAS[name], SCALARS.get(name, ())
    fn = _formula(name).formula.fn
    by_c = 0
    for vi in special:
        for gi in special:
            v, g = np.array([vi], dt), np.array([gi], dt)
            with warnings.catch_warnings(record=True) as numpy_warned:
                warnings.simplefilter("always")
                want = fn(np, v, g, *s)
            got = _host_grad.run(code, v, g, s)
            if got is not NotImplemented:
                by_c += 1
                assert not numpy_warned, (vi, gi)
                _same(got, want)
            with warnings.catch_warnings(record=True) as ours_warned:
                warnings.simplefilter("always")
                _same(_formula(name)(v, g, *s), want)
            assert [str(w.message) for w in ours_warned] == [str(w.message) for w in numpy_warned]
    assert by_c > len(special) ** 2 // 3


@pytest.mark.simd  # (the parts are the same loop, whatever the CPU's vector width)
@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_a_large_formula_splits_across_the_c_threads_with_the_same_bits(name, dt):
    before = ag.get_num_threads()
    try:
        ag.set_num_threads(3)
        n = 3 * C_THREAD_MIN_ELEMENTS + 5
        v, g = _inputs(name, n, dt, seed=2)
        s = SCALARS.get(name, ())
        got = _formula(name)(v, g, *s)
        assert _host_arith.last_parts() == 3
        _same(got, _formula(name).formula.fn(np, v, g, *s))
    finally:
        ag.set_num_threads(before)


def test_an_exception_in_any_part_lets_numpy_warn_or_raise():
    before = ag.get_num_threads()
    try:
        ag.set_num_threads(2)
        n = 4 * C_THREAD_MIN_ELEMENTS
        y, g = np.zeros(n, np.float32), np.ones(n, np.float32)
        g[-1] = np.inf  # inf * 0 at an inactive unit: NaN, "invalid", in the other thread's part
        with np.errstate(invalid="raise"), pytest.raises(FloatingPointError, match="invalid"):
            E._relu_backward(y, g)
        with pytest.warns(RuntimeWarning, match="invalid value encountered in multiply"):
            r = E._relu_backward(y, g)
        assert np.isnan(r[-1]) and not np.isnan(r[:-1]).any()
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("error")
            assert np.isnan(E._relu_backward(y, g)[-1])
    finally:
        ag.set_num_threads(before)


def test_operands_the_host_build_does_not_take_go_to_the_numpy_formula():
    code = _host_grad.FORMULAS["tanh_backward"]
    y, g = _inputs("tanh_backward", 64, np.float32)
    run = _host_grad.run
    assert run(code, y, g[:32], ()) is NotImplemented  # (shapes differ: broadcasting is NumPy's)
    assert run(code, y, g.astype(np.float64), ()) is NotImplemented
    assert run(code, y[::2], g[::2], ()) is NotImplemented
    assert run(code, y.astype(np.float16), g.astype(np.float16), ()) is NotImplemented
    assert run(code, np.asarray(y[0]), np.asarray(g[0]), ()) is NotImplemented
    assert run(code, y, g, (1.0,)) is NotImplemented  # (tanh has no scalar)
    leaky = _host_grad.FORMULAS["leaky_relu_backward"]
    assert run(leaky, y, g, (np.float64(0.1),)) is NotImplemented  # (NumPy promotes to float64)
    assert run(leaky, y, g, (2**30,)) is NotImplemented
    with pytest.raises(ValueError, match="unknown formula code"):
        run(len(NAMES), y, g, ())
    # and the formulas give NumPy's answer for each, through NumPy
    for v, w in ((y, g[:1]), (y, g.astype(np.float64)), (y[::2], g[::2])):
        np.testing.assert_array_equal(E._tanh_backward(v, w), E._np_tanh(np, v, w))
    np.testing.assert_array_equal(E._leaky_relu_backward(y, g, np.float64(0.1)),
                                  E._np_leaky_relu(np, y, g, np.float64(0.1)))
