"""The host arithmetic: + - * /, a ** 2 and whole-array sums and means of small host arrays
done in C (backend/_host_arith.c) and recorded and replayed by the tape without the ops'
Python forward and backward (autograd/_tape.c, "host arithmetic").

Each is one IEEE operation per element (exact: + - * / are correctly rounded), so results
are compared with NumPy's and with the ops' Python path bit for bit.
"""
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.backend.host_threads import C_THREAD_MIN_ELEMENTS
from autograd_gpu.backend import _host_arith
from autograd_gpu.backend.host_pool import POOL_MIN_BYTES
from autograd_gpu.ops import arithmetic

ADD, SUB, MUL, DIV, NEG = 1, 2, 3, 4, 5
NUMPY = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.true_divide}
SPECIAL = [0.0, -0.0, 1.0, -2.5, np.inf, -np.inf, np.nan, 1e-45, 1e-310, 3e38, 1.5e308, 7.0]


def _numpy(op, a, b):
    with np.errstate(all="ignore"):
        return np.asarray(-a if op == NEG else NUMPY[op](a, b))


def _arith(op, a, b):
    with np.errstate(all="ignore"):
        return _host_arith.arith(op, a, b)


def _same_bits(got, want):
    assert type(got) is np.ndarray
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes()


def _operands(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 10.0 ** rng.integers(-40, 40, shape)
    flat = x.reshape(-1)
    flat[: len(SPECIAL)] = SPECIAL[: flat.size]
    with np.errstate(over="ignore"):
        return x.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", [ADD, SUB, MUL, DIV])
def test_arrays_of_one_shape_give_numpys_bits(op, dtype):
    for shape, seed in (((4,), 0), ((3, 5), 1), ((), 2), ((0,), 3), ((40, 7), 4)):
        a, b = _operands(dtype, shape, seed), _operands(dtype, shape, seed + 100)
        _same_bits(_arith(op, a, b), _numpy(op, a, b))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", [ADD, SUB, MUL, DIV])
def test_an_array_and_a_python_number_give_numpys_bits(op, dtype):
    a = _operands(dtype, (64,), 5)
    numbers = [0.999, -3.0, 0.0, -0.0, 1e-300, 1e300, float("inf"), float("nan"), 7, -2,
               2 ** 24, 2 ** 24 + 1, 2 ** 60, 3.4028235677973366e38]
    for s in numbers:
        _same_bits(_arith(op, a, s), _numpy(op, a, s))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_negation_gives_numpys_bits(dtype):
    a = _operands(dtype, (64,), 6)
    _same_bits(_arith(NEG, a, None), _numpy(NEG, a, None))


def test_what_the_loops_do_not_take_is_numpys_own_call():
    a32 = _operands(np.float32, (3, 4), 7)
    cases = [
        (a32, _operands(np.float32, (4,), 8)),  # broadcasting
        (a32, _operands(np.float64, (3, 4), 9)),  # two dtypes
        (a32[:, ::2], 2.0),  # not contiguous
        (a32.astype(">f4"), 2.0),  # not native
        (np.arange(12).reshape(3, 4), 2.5),  # integers
        (a32, np.float32(2.0)),  # a NumPy scalar
        (a32, True),
    ]
    for a, b in cases:
        for op in (ADD, SUB, MUL, DIV):
            want = _numpy(op, a, b)
            got = _arith(op, a, b)
            assert np.asarray(got).dtype == want.dtype
            assert np.asarray(got).tobytes() == want.tobytes()


def test_large_arrays_and_one_value_spread_by_zero_strides_are_taken_with_numpys_bits():
    big = np.random.default_rng(2).standard_normal(POOL_MIN_BYTES // 4).astype(np.float32)
    view = np.broadcast_to(np.float32(1.5), big.shape)  # (a sum's gradient)
    for op in (ADD, SUB, MUL, DIV):
        for a, b in ((big, 2.0), (big, big), (view, big), (big, view)):
            want = _numpy(op, a, b)
            assert _arith(op, a, b).tobytes() == want.tobytes()
    # both operands spread, or shapes that broadcast: NumPy's own call, its result
    assert _arith(MUL, view, view).tobytes() == (view * view).tobytes()
    with pytest.raises(ValueError, match="broadcast"):
        _arith(ADD, big, np.ones(2, np.float32))


@pytest.mark.parametrize("op, a, b, what, key", [
    (MUL, [3e38, 1.0], 10.0, "overflow", "over"),
    (DIV, [1.0, 2.0], 0.0, "divide", "divide"),
    (SUB, [np.inf, 1.0], np.inf, "invalid", "invalid"),
    (MUL, [1e-30, 1.0], 1e-30, "underflow", "under"),
])
def test_floating_point_exceptions_follow_errstate_as_numpy(op, a, b, what, key):
    a = np.array(a, np.float32)
    with np.errstate(**{key: "raise"}):
        with pytest.raises(FloatingPointError, match=what):
            _host_arith.arith(op, a, b)
    with np.errstate(**{key: "warn"}):
        with pytest.warns(RuntimeWarning, match=what):
            got = _host_arith.arith(op, a, b)
    _same_bits(got, _numpy(op, a, b))
    with np.errstate(**{key: "ignore"}), warnings.catch_warnings():
        warnings.simplefilter("error")
        _same_bits(_host_arith.arith(op, a, b), _numpy(op, a, b))


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="op is"):
        _host_arith.arith(9, np.ones(2), 1.0)
    with pytest.raises(TypeError, match="arith"):
        _host_arith.arith(1, np.ones(2))


# ---------------------------------------------------------------- the tape's path


class _PythonPath:
    """The same ops as subclasses: `_tape_op` is read from a class's own dict, so these
    run their Python forward and backward."""

    class Add(arithmetic.Add):
        name = "AddBackward0"

    class Sub(arithmetic.Sub):
        name = "SubBackward0"

    class Mul(arithmetic.Mul):
        name = "MulBackward0"

    class Div(arithmetic.Div):
        name = "DivBackward0"

    class Pow(arithmetic.Pow):
        name = "PowBackward0"


OPS = ["Add", "Sub", "Mul", "Div"]


def _run(cls, x, y, seed_grad):
    out = cls.apply(x, y)
    out.backward(seed_grad)
    return out


def _leaf(a, grad=True):
    return ag.tensor(a, requires_grad=grad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", OPS)
def test_the_tapes_path_gives_the_python_paths_values_and_gradients(op, dtype):
    fast, slow = getattr(arithmetic, op), getattr(_PythonPath, op)
    cases = [((5,), (5,)), ((3, 4), (3, 4)), ((), ()), ((3, 4), (4,)), ((2, 1), (1, 3))]
    for k, (sa, sb) in enumerate(cases):
        a, b = _operands(dtype, sa, 10 + k), _operands(dtype, sb, 20 + k)
        g = _operands(dtype, np.broadcast_shapes(sa, sb), 30 + k)
        for operands in ((a, b, True, True), (a, b, True, False), (a, b, False, True)):
            xa, xb = (_leaf(a, operands[2]), _leaf(b, operands[3]))
            ya, yb = (_leaf(a, operands[2]), _leaf(b, operands[3]))
            with np.errstate(all="ignore"):
                r1 = _run(fast, xa, xb, ag.tensor(g))
                r2 = _run(slow, ya, yb, ag.tensor(g))
            _same_bits(r1.detach().numpy(), r2.detach().numpy())
            assert r1.grad_fn.name() == r2.grad_fn.name()
            for t1, t2 in ((xa, ya), (xb, yb)):
                if t1.requires_grad:
                    _same_bits(t1.grad.numpy(), t2.grad.numpy())
                else:
                    assert t1.grad is None and t2.grad is None


@pytest.mark.parametrize("op", OPS)
def test_the_tapes_path_with_a_number_gives_the_python_paths(op):
    fast, slow = getattr(arithmetic, op), getattr(_PythonPath, op)
    a = _operands(np.float32, (6,), 40)
    g = _operands(np.float32, (6,), 41)
    orders = [True, False] if op in ("Add", "Mul") else [True]  # (number first: + and *)
    for s in (0.999, -3, 1e-30, 2 ** 30):
        for tensor_first in orders:
            x, y = _leaf(a), _leaf(a)
            with np.errstate(all="ignore"):
                r1 = _run(fast, *((x, s) if tensor_first else (s, x)), ag.tensor(g))
                r2 = _run(slow, *((y, s) if tensor_first else (s, y)), ag.tensor(g))
            _same_bits(r1.detach().numpy(), r2.detach().numpy())
            _same_bits(x.grad.numpy(), y.grad.numpy())
            assert r1.grad_fn.name() == r2.grad_fn.name()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_tapes_square_gives_the_python_paths(dtype):
    # (other exponents: the node is Pow's all the same, and its backward must be Pow's own)
    for k, shape in enumerate([(6,), (3, 4), ()]):
        a = _operands(dtype, shape, 80 + k)
        for exponent in (2, 2.0, 3, 0.5):
            for g in (_operands(dtype, shape, 90 + k), _operands(np.float64, shape, 95 + k)):
                x, y = _leaf(a), _leaf(a)
                with np.errstate(all="ignore"):
                    r1 = _run(arithmetic.Pow, x, exponent, ag.tensor(g))
                    r2 = _run(_PythonPath.Pow, y, exponent, ag.tensor(g))
                _same_bits(r1.detach().numpy(), r2.detach().numpy())
                _same_bits(np.asarray(x.grad.numpy()), np.asarray(y.grad.numpy()))
                assert r1.grad_fn.name() == r2.grad_fn.name() == "PowBackward0"


def test_other_powers_take_the_python_path(monkeypatch):
    def refuse(self, *args):
        raise AssertionError("the Python path ran")

    monkeypatch.setattr(arithmetic.Pow, "forward", refuse)
    monkeypatch.setattr(arithmetic.Pow, "backward", refuse)
    x = ag.tensor([1.5, -2.0], requires_grad=True)
    (x ** 2).sum().backward()
    assert x.grad.tolist() == [3.0, -4.0]
    for call in (lambda: x ** 3, lambda: x ** 2.5, lambda: 2.0 ** x, lambda: x ** x,
                 lambda: x ** (2 ** 70)):
        with pytest.raises(AssertionError, match="Python path"):
            call()


def test_the_tape_records_without_the_ops_python_code(monkeypatch):
    # Small float tensors never reach Mul.forward or Mul.backward (broadcast ones neither:
    # NumPy broadcasts, sum_to sums the gradient back); what the path does not take
    # (integers, views, two dtypes) does.
    def refuse(self, *args):
        raise AssertionError("the Python path ran")

    monkeypatch.setattr(arithmetic.Mul, "forward", refuse)
    monkeypatch.setattr(arithmetic.Mul, "backward", refuse)
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x * 2.0
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 8.0, 12.0]
    assert y.grad_fn.name() == "MulBackward0"
    assert y.grad_fn.next_functions[0][0].name() == "MulBackward0"
    b = ag.ones(2, 1, requires_grad=True)
    (x * b).sum().backward()
    assert b.grad.tolist() == [[6.0], [6.0]]
    for other in (ag.tensor([1, 2, 3]), x[:], x.double()):
        with pytest.raises(AssertionError, match="Python path"):
            x * other


def test_a_saved_input_changed_in_place_raises_on_the_tapes_path():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    y = x * w
    with ag.no_grad():
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_a_second_backward_through_freed_values_raises_on_the_tapes_path():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x / 3.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_higher_order_gradients_run_the_python_backward():
    x = ag.tensor([1.5, -2.0], dtype=ag.float64, requires_grad=True)
    y = (x * x * x / 2.0 - x).sum()
    (gx,) = ag.autograd.grad(y, x, create_graph=True)
    (ggx,) = ag.autograd.grad(gx.sum(), x)
    # (a few float64 roundings apart from the closed forms: 1e-15 relative)
    a = x.detach().numpy()
    np.testing.assert_allclose(gx.detach().numpy(), 1.5 * a * a - 1.0, rtol=1e-15)
    np.testing.assert_allclose(ggx.numpy(), 3.0 * a, rtol=1e-15)


def test_large_arrays_stay_on_the_tape_and_views_take_the_python_path(monkeypatch):
    seen = []
    forward = arithmetic.Mul.forward
    monkeypatch.setattr(arithmetic.Mul, "forward",
                        lambda self, a, b: seen.append(a.nbytes) or forward(self, a, b))
    n = POOL_MIN_BYTES // 4
    x = ag.ones(n, requires_grad=True)
    (x * 2.0).sum().backward()
    assert seen == [] and x.grad[0].item() == 2.0 and x.grad[-1].item() == 2.0
    (x[::2] * 2.0).sum().backward()  # (a view: the Python forward)
    assert seen == [n * 2] and x.grad[0].item() == 4.0 and x.grad[1].item() == 2.0


def test_nodes_made_in_python_have_the_tapes_defaults():
    node = arithmetic.Mul()
    assert node._saved is None and node._freed is False and node._pre_hooks is None
    assert node._n_outputs == 1
    node.extra = 5  # (an op's own attributes live in the instance dict)
    assert node.extra == 5
    import weakref
    assert weakref.ref(node)() is node


# ---------------------------------------------------------------- sum and mean


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whole_array_sum_and_mean_give_numpys_bits(dtype):
    for k, shape in enumerate([(1,), (4,), (7,), (9,), (300,), (129, 3), ()]):
        x = _operands(dtype, shape, 50 + k) if k < 6 else np.asarray(_operands(dtype, (1,), 0)[0])
        x = np.ascontiguousarray(x.reshape(shape))
        with np.errstate(all="ignore"):
            s = np.add.reduce(x, None)
            _same_bits(_host_arith.reduce_all(False, x), np.asarray(s))
            _same_bits(_host_arith.reduce_all(True, x), np.asarray(s / x.size))
            finite = np.nan_to_num(x, posinf=1.0, neginf=-1.0)
            want = np.asarray(np.add.reduce(finite, None) / x.size)
            _same_bits(_host_arith.reduce_all(True, finite), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_pairwise_sum_in_c_gives_numpys_bits_at_every_size_and_thread_count(dtype):
    """NumPy's pairwise summation is an order of additions; the C sum makes the same ones:
    around its block of 128, its eight running sums and its splits at multiples of 8, and
    split across 1 to 4 threads (the top of the tree in parts, then added as NumPy adds)."""
    rng = np.random.default_rng(7)
    m = C_THREAD_MIN_ELEMENTS
    sizes = [*range(1, 300), 1023, 1024, 1025, 2 * m - 1, 2 * m, 2 * m + 9, 5 * m + 3, 17 * m + 5]
    before = ag.get_num_threads()
    try:
        for threads in (1, 2, 3, 4):
            ag.set_num_threads(threads)
            for n in sizes:
                # (magnitudes over six decades: a different order of additions shows)
                x = (rng.standard_normal(n) * 10.0 ** rng.uniform(-3, 3, n)).astype(dtype)
                _same_bits(_host_arith.reduce_all(False, x), np.asarray(np.add.reduce(x, None)))
            # (the last, largest sum: the tree's top levels give a power of two of parts)
            assert _host_arith.last_parts() == {1: 1, 2: 2, 3: 2, 4: 4}[threads]
    finally:
        ag.set_num_threads(before)
    _same_bits(_host_arith.reduce_all(False, np.array([-0.0], dtype)), np.asarray(dtype(0.0)))


def test_a_sum_that_overflows_lets_numpy_warn_or_raise():
    x = np.full(3 * C_THREAD_MIN_ELEMENTS, 3e38, np.float32)
    with pytest.warns(RuntimeWarning, match="overflow encountered in reduce"):
        assert _host_arith.reduce_all(False, x) == np.inf
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):
        _host_arith.reduce_all(False, x)
    y = np.array([np.inf, -np.inf, 1.0], np.float32)
    with pytest.warns(RuntimeWarning, match="invalid value encountered in reduce"):
        assert np.isnan(_host_arith.reduce_all(True, y))


def test_sums_the_loops_do_not_take_are_declined():
    for x in (np.ones(6, np.float32)[::2], np.ones(0, np.float32), np.arange(4)):
        assert _host_arith.reduce_all(False, x) is NotImplemented


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fill_spreads_the_gradient_as_the_python_code(dtype):
    for g in (np.asarray(dtype(0.7)), dtype(-3.5), np.asarray(dtype(np.inf))):
        for shape, n in (((3, 2), 1), ((5,), 5), ((4, 3), 12), ((), 1), ((2, 0), 1)):
            want = np.empty(shape, g.dtype)
            want.fill(g.item() / n if n != 1 else g)
            _same_bits(_host_arith.fill(shape, g, n), want)
    assert _host_arith.fill((POOL_MIN_BYTES // 4,), np.float32(1.0), 1) is NotImplemented
    assert _host_arith.fill((3,), np.asarray(2), 1) is NotImplemented  # (an integer g)


class _PythonReductions:
    class Sum(ag.ops.reduction.Sum):
        name = "SumBackward0"

    class Mean(ag.ops.reduction.Mean):
        name = "MeanBackward0"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", ["Sum", "Mean"])
def test_the_tapes_sum_and_mean_give_the_python_paths(op, dtype):
    fast, slow = getattr(ag.ops.reduction, op), getattr(_PythonReductions, op)
    for k, shape in enumerate([(4,), (3, 5), (), (257,)]):
        a = _operands(dtype, shape, 60 + k)
        g = np.asarray(_operands(dtype, (1,), 70 + k)[0])
        x, y = _leaf(a), _leaf(a)
        with np.errstate(all="ignore"):
            r1 = fast.apply(x, axes=None, keepdim=False)
            r2 = slow.apply(y, axes=None, keepdim=False)
            r1.backward(ag.tensor(g))
            r2.backward(ag.tensor(g))
        _same_bits(r1.detach().numpy(), r2.detach().numpy())
        _same_bits(x.grad.numpy(), y.grad.numpy())
        assert r1.grad_fn.name() == r2.grad_fn.name()


def test_the_tape_reduces_without_the_ops_python_code(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise AssertionError("the Python path ran")

    for cls in (ag.ops.reduction.Sum, ag.ops.reduction.Mean):
        monkeypatch.setattr(cls, "forward", refuse)
        monkeypatch.setattr(cls, "backward", refuse)
    x = ag.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    (x.sum() + x.mean()).backward()
    assert x.grad.tolist() == [[1.25] * 2] * 2
    for call in (lambda: x.sum(0), lambda: x.mean(1, keepdim=True), lambda: x[0].sum(),
                 lambda: ag.tensor([1, 2]).sum()):
        with pytest.raises(AssertionError, match="Python path"):
            call()
