"""Samplers: each checked against its exact distribution at a fixed seed, plus dtypes, shapes,
errors and gradients as PyTorch's, reproducibility under manual_seed, and generator= streams.

The goodness-of-fit tests reject at significance ALPHA = 1e-3: a Kolmogorov-Smirnov test for
continuous laws (the asymptotic Kolmogorov distribution, n = 20000) and a chi-squared test
for discrete ones (the critical value from the Wilson-Hilferty approximation, cells with an
expected count of at least 5). The seeds are fixed, so each verdict is reproducible; a
sampler with a wrong law (a wrong scale, an off-by-one support) fails them by far."""
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd import grad
from conftest import to_numpy

ALPHA = 1e-3
N = 20000
_erf = np.vectorize(math.erf)


def ks_pvalue(samples, cdf):
    """The asymptotic p-value of the one-sample KS statistic of `samples` against `cdf`."""
    x = np.sort(np.asarray(samples, np.float64))
    n = x.size
    f = cdf(x)
    d = max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))
    t = (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n)) * d  # Stephens' small-sample correction
    k = np.arange(1, 101)
    return float(np.clip(2 * np.sum((-1.0) ** (k - 1) * np.exp(-2 * k**2 * t**2)), 0, 1))


def chi2_critical(df, alpha=ALPHA):
    """The upper-alpha quantile of chi-squared(df), by Wilson and Hilferty."""
    z = {1e-3: 3.090232306167813}[alpha]
    return df * (1 - 2 / (9 * df) + z * math.sqrt(2 / (9 * df))) ** 3


def chi2_fits(counts, probs):
    """True when observed `counts` fit cell probabilities `probs` (chi-squared at ALPHA)."""
    counts, probs = np.asarray(counts, np.float64), np.asarray(probs, np.float64)
    expected = probs / probs.sum() * counts.sum()
    assert expected.min() >= 5, "merge cells: the chi-squared approximation needs >= 5 per cell"
    stat = float(np.sum((counts - expected) ** 2 / expected))
    return stat < chi2_critical(len(counts) - 1)


def normal_cdf(x, mean=0.0, std=1.0):
    return 0.5 * (1 + _erf((x - mean) / (std * math.sqrt(2))))


def test_the_tests_reject_a_wrong_law():
    rng = np.random.default_rng(0)
    assert ks_pvalue(rng.standard_normal(N), normal_cdf) > ALPHA
    assert ks_pvalue(rng.standard_normal(N) * 1.05, normal_cdf) < ALPHA  # a 5% wrong scale
    counts = np.bincount(rng.integers(0, 6, N), minlength=6)
    assert chi2_fits(counts, np.ones(6))
    assert not chi2_fits(counts, [1.1, 1, 1, 1, 1, 0.9])
    assert abs(chi2_critical(10) / 29.588 - 1) < 0.01  # the tabulated quantile, within 1%


# ---------------------------------------------------------------- continuous laws


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_normal_fits_its_law(device, dtype):
    ag.manual_seed(0)
    dt = getattr(ag, dtype)
    x = ag.normal(2.0, 3.0, (N,), dtype=dt, device=device)
    assert x.dtype == dt and x.shape == (N,) and x.device.type == ag.device(device).type
    assert ks_pvalue(to_numpy(x), lambda v: normal_cdf(v, 2.0, 3.0)) > ALPHA
    # tensor mean and std: each element from its own law (standardized, one law)
    mean = ag.linspace(-5, 5, N, dtype=dt, device=device)
    std = ag.linspace(0.1, 4, N, dtype=dt, device=device)
    y = ag.normal(mean, std)
    z = (to_numpy(y).astype(np.float64) - to_numpy(mean)) / to_numpy(std)
    assert ks_pvalue(z, normal_cdf) > ALPHA
    assert ks_pvalue(to_numpy(ag.normal(mean, 2.0)) - to_numpy(mean), lambda v: normal_cdf(v, 0, 2)) > ALPHA
    w = to_numpy(ag.normal(1.0, std))
    assert ks_pvalue((w - 1.0) / to_numpy(std), normal_cdf) > ALPHA


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_in_place_continuous_samplers_fit_their_laws(device, dtype):
    ag.manual_seed(1)
    dt = getattr(ag, dtype)
    x = ag.empty(N, dtype=dt, device=device)
    tol = ALPHA if dtype != "float16" else 1e-12  # float16 rounding shows at n = 20000

    def check(t, cdf):
        assert t.dtype == dt and t.shape == (N,)
        assert ks_pvalue(to_numpy(t).astype(np.float64), cdf) > tol

    check(x.normal_(-1.0, 0.5), lambda v: normal_cdf(v, -1.0, 0.5))
    check(x.uniform_(-2.0, 3.0), lambda v: np.clip((v + 2.0) / 5.0, 0, 1))
    assert to_numpy(x).min() >= -2.0 and to_numpy(x).max() <= 3.0
    check(x.exponential_(2.5), lambda v: 1 - np.exp(-2.5 * np.maximum(v, 0)))
    assert to_numpy(x).min() >= 0
    check(x.cauchy_(1.0, 2.0), lambda v: 0.5 + np.arctan((v - 1.0) / 2.0) / np.pi)
    x.log_normal_(0.5, 0.75)
    assert to_numpy(x).min() > 0
    assert ks_pvalue(np.log(to_numpy(x).astype(np.float64)), lambda v: normal_cdf(v, 0.5, 0.75)) > tol


def test_defaults_of_the_in_place_samplers():
    ag.manual_seed(2)
    x = ag.empty(N, dtype=ag.float64)
    assert ks_pvalue(to_numpy(x.normal_()), normal_cdf) > ALPHA
    assert ks_pvalue(to_numpy(x.uniform_()), lambda v: np.clip(v, 0, 1)) > ALPHA
    assert ks_pvalue(to_numpy(x.exponential_()), lambda v: 1 - np.exp(-v)) > ALPHA
    assert ks_pvalue(to_numpy(x.cauchy_()), lambda v: 0.5 + np.arctan(v) / np.pi) > ALPHA
    assert ks_pvalue(np.log(to_numpy(x.log_normal_())), lambda v: normal_cdf(v, 1.0, 2.0)) > ALPHA


# ---------------------------------------------------------------- discrete laws


@pytest.mark.parametrize("dtype", ["float32", "int64", "uint8"])
def test_geometric_fits_its_law(device, dtype):
    ag.manual_seed(3)
    p = 0.3
    x = ag.zeros(N, dtype=getattr(ag, dtype), device=device).geometric_(p)
    v = to_numpy(x).astype(np.int64)
    assert v.min() >= 1
    k = np.arange(1, 20)
    pmf = (1 - p) ** (k - 1) * p
    counts = [np.sum(v == j) for j in k] + [np.sum(v >= 20)]
    assert chi2_fits(counts, list(pmf) + [1 - pmf.sum()])


def test_bernoulli_fits_its_law(device):
    ag.manual_seed(4)
    probs = ag.tensor(np.tile([0.0, 0.1, 0.5, 0.9, 1.0], N // 5), device=device)
    x = to_numpy(ag.bernoulli(probs)).reshape(-1, 5)
    assert set(np.unique(x)) <= {0.0, 1.0}
    assert x[:, 0].sum() == 0 and x[:, 4].sum() == N // 5  # p = 0 and p = 1 exactly
    for j, p in [(1, 0.1), (2, 0.5), (3, 0.9)]:
        ones = x[:, j].sum()
        assert chi2_fits([ones, N // 5 - ones], [p, 1 - p])
    y = ag.empty(N, dtype=ag.int64, device=device).bernoulli_(0.25)
    assert chi2_fits([int((y == 1).sum().item()), int((y == 0).sum().item())], [0.25, 0.75])
    z = ag.empty(2, N // 2, device=device).bernoulli_(ag.tensor([[0.2], [0.7]], device=device))
    ones = to_numpy(z).sum(axis=1)
    assert chi2_fits([ones[0], N // 2 - ones[0]], [0.2, 0.8])
    assert chi2_fits([ones[1], N // 2 - ones[1]], [0.7, 0.3])


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8"])
def test_random_and_randint_like_are_uniform_on_their_range(device, dtype):
    ag.manual_seed(5)
    dt = getattr(ag, dtype)
    for draw, lo, hi in [
        (lambda: ag.empty(N, dtype=dt, device=device).random_(3, 13), 3, 13),
        (lambda: ag.empty(N, dtype=dt, device=device).random_(7), 0, 7),
        (lambda: ag.randint_like(ag.empty(N, dtype=dt, device=device), 2, 9), 2, 9),
        (lambda: ag.randint_like(ag.empty(N, dtype=dt, device=device), 4), 0, 4),
    ]:
        x = draw()
        assert x.dtype == dt and x.shape == (N,)
        v = to_numpy(x).astype(np.int64)
        assert v.min() >= lo and v.max() < hi
        assert chi2_fits(np.bincount(v - lo, minlength=hi - lo), np.ones(hi - lo))


def test_random_without_bounds_covers_the_dtype():
    ag.manual_seed(6)
    # PyTorch's defaults: [0, 2^mantissa] for floating types, [0, max] for integers
    for dt, top in [(ag.float32, 2**24), (ag.float64, 2**53), (ag.float16, 2**11),
                    (ag.int32, 2**31 - 1), (ag.uint8, 255), (ag.int8, 127)]:
        v = to_numpy(ag.empty(N, dtype=dt).random_()).astype(np.float64)
        assert v.min() >= 0 and v.max() <= top and v.max() > 0.99 * top
        assert np.all(v == np.floor(v))
    b = to_numpy(ag.empty(N, dtype=ag.bool).random_())
    assert chi2_fits([b.sum(), N - b.sum()], [1, 1])
    v = to_numpy(ag.empty(N, dtype=ag.int64).random_(2**40, None))  # to=None: up to the max
    assert v.min() >= 2**40 and v.max() > 2**62


def test_poisson_fits_its_law(device):
    ag.manual_seed(7)
    for lam in (0.5, 4.0, 30.0):
        x = ag.poisson(ag.full((N,), lam, device=device))
        assert x.dtype == ag.float32
        v = to_numpy(x).astype(np.int64)
        k = np.arange(v.max() + 1)
        pmf = np.exp(-lam + k * np.log(lam) - np.array([math.lgamma(j + 1) for j in k]))
        # cells k with expected count >= 5, the two tails merged into the ends
        keep = np.nonzero(pmf * N >= 5)[0]
        lo, hi = keep[0], keep[-1]
        counts = np.bincount(v, minlength=len(k))
        obs = [counts[: lo + 1].sum()] + list(counts[lo + 1:hi]) + [counts[hi:].sum()]
        cdf_lo = pmf[: lo + 1].sum()
        probs = [cdf_lo] + list(pmf[lo + 1:hi]) + [1 - cdf_lo - pmf[lo + 1:hi].sum()]
        assert chi2_fits(obs, probs)
    assert to_numpy(ag.poisson(ag.zeros(5, device=device))).tolist() == [0.0] * 5


def test_multinomial_with_replacement_fits_its_law(device):
    ag.manual_seed(8)
    w = np.array([0.0, 1.0, 2.0, 0.0, 3.0, 4.0])  # unnormalized, with zero weights
    x = ag.multinomial(ag.tensor(w, device=device), N, replacement=True)
    assert x.dtype == ag.int64 and x.shape == (N,)
    counts = np.bincount(to_numpy(x), minlength=6)
    assert counts[0] == 0 and counts[3] == 0  # never a zero-weight category
    assert chi2_fits(counts[w > 0], w[w > 0])
    # 2-D: each row its own law
    rows = ag.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 5.0], [1.0, 0.0, 0.0, 3.0]], device=device)
    y = to_numpy(ag.multinomial(rows, N, True))
    assert y.shape == (3, N)
    assert chi2_fits(np.bincount(y[0], minlength=4), [1, 1, 1, 1])
    assert np.all(y[1] == 3)
    c2 = np.bincount(y[2], minlength=4)
    assert c2[1] == 0 and c2[2] == 0 and chi2_fits(c2[[0, 3]], [1, 3])


def test_multinomial_without_replacement_fits_its_law(device):
    ag.manual_seed(9)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    rows = ag.tensor(np.tile(p, (N, 1)), device=device)
    x = to_numpy(ag.multinomial(rows, 3))
    assert x.shape == (N, 3) and x.dtype == np.int64
    assert all(len(set(r)) == 3 for r in x[:500])  # distinct within a row
    assert np.all(np.sort(x, axis=1)[:, :-1] != np.sort(x, axis=1)[:, 1:])
    # the first draw follows p, the second the law of a draw after removing the first
    assert chi2_fits(np.bincount(x[:, 0], minlength=4), p)
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)])
    assert chi2_fits(np.bincount(x[:, 1], minlength=4), second)
    # zero weights come after every positive one, as PyTorch's do
    z = to_numpy(ag.multinomial(ag.tensor([0.0, 3.0, 0.0, 1.0], device=device), 4))
    assert sorted(z[:2]) == [1, 3] and sorted(z[2:]) == [0, 2]


# ---------------------------------------------------------------- dtypes and shapes as PyTorch


def _same_meta(ours, theirs):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.requires_grad == theirs.requires_grad


def test_shapes_and_dtypes_match_pytorch(torch):
    for lib in (ag, torch):
        lib.manual_seed(0)
    pairs = []
    for lib in (ag, torch):
        f32 = lib.float32
        m64 = lib.zeros(2, 1, dtype=lib.float64)
        s32 = lib.ones(3, dtype=f32)
        pairs.append([
            lib.normal(m64, s32),                          # broadcast, the mean's dtype
            lib.normal(lib.zeros(2, dtype=lib.float16), 1.0),
            lib.normal(0.0, s32),                          # the std's dtype
            lib.normal(0.0, 1.0, (2, 3)),                  # the default dtype
            lib.normal(2, 3, size=(4,), dtype=lib.float64, requires_grad=True),
            lib.normal(lib.zeros(()), lib.ones(3)),
            lib.normal(lib.zeros(3), lib.ones(3, dtype=lib.int64)),
            lib.bernoulli(lib.full((2, 3), 0.5, dtype=lib.float64)),
            lib.bernoulli(lib.zeros(3, dtype=lib.int64), 0.5),
            lib.multinomial(lib.ones(5), 3),
            lib.multinomial(lib.ones(2, 5), 7, replacement=True),
            lib.multinomial(lib.ones(0, 5), 2),
            lib.poisson(lib.ones(2, 2, dtype=lib.float64)),
            lib.poisson(lib.ones(3, dtype=lib.float16)),
            lib.randint_like(lib.zeros(2, 3), 10),
            lib.randint_like(lib.zeros(2, 3, dtype=lib.int32), 3, 10),
            lib.randint_like(lib.zeros(2, dtype=lib.float64), 10, dtype=lib.int64),
            lib.randint_like(lib.zeros(2, dtype=lib.bool), 2),
            lib.rand_like(lib.zeros(2, dtype=lib.float64)),
            lib.randn_like(lib.zeros(2, 2), generator=lib.Generator()),
            lib.zeros(3, dtype=lib.int64).bernoulli_(0.5),
            lib.zeros(3, dtype=lib.uint8).geometric_(0.5),
            lib.zeros(3, dtype=lib.bool).random_(),
            lib.zeros(3, dtype=lib.float16).exponential_(),
            lib.ones(3).multinomial(2),
            lib.full((3,), 0.5).bernoulli(),
        ])
    for a, t in zip(*pairs):
        _same_meta(a, t)


def _message(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  (the kind is compared too)
        return type(e).__name__, str(e).split("  (Could")[0].split("\n")[0]
    return None


def test_errors_match_pytorch(torch):
    cases = [
        lambda L: L.normal(L.zeros(3), -1.0),
        lambda L: L.normal(L.zeros(3), -L.ones(3)),
        lambda L: L.normal(0.0, -1.0, (2,)),
        lambda L: L.normal(L.zeros(2, dtype=L.int64), 1.0),
        lambda L: L.normal(0.0, L.ones(2, dtype=L.int64)),
        lambda L: L.normal(0.0, 1.0, (2,), dtype=L.int64),
        lambda L: L.normal(std=L.ones(3)),
        lambda L: L.bernoulli(L.full((3,), 1.5)),
        lambda L: L.bernoulli(L.full((3,), float("nan"))),
        lambda L: L.bernoulli(L.full((3,), 0.5), 1.3),
        lambda L: L.bernoulli(L.ones(3, dtype=L.int64)),
        lambda L: L.zeros(3).bernoulli_(1.5),
        lambda L: L.zeros(3).bernoulli_(L.ones(3, dtype=L.int64)),
        lambda L: L.multinomial(L.ones(3), 4),
        lambda L: L.multinomial(L.ones(3), 0),
        lambda L: L.multinomial(L.ones(3), 2.0),
        lambda L: L.multinomial(L.zeros(3), 1),
        lambda L: L.multinomial(L.tensor([[1.0, 0.0], [0.0, 0.0]]), 1),
        lambda L: L.multinomial(L.tensor([-1.0, 2.0]), 1),
        lambda L: L.multinomial(L.tensor([float("inf"), 2.0]), 1),
        lambda L: L.multinomial(L.tensor([float("nan"), 2.0]), 1, True),
        lambda L: L.multinomial(L.ones(2, 2, 2), 1),
        lambda L: L.multinomial(L.tensor(1.0), 1),
        lambda L: L.multinomial(L.ones(3, dtype=L.int64), 1),
        lambda L: L.poisson(L.full((3,), -2.0)),
        lambda L: L.poisson(L.ones(3, dtype=L.int64)),
        lambda L: L.randint_like(L.zeros(3), 10, 3),
        lambda L: L.randint_like(L.zeros(3, dtype=L.uint8), 300),
        lambda L: L.randint_like(L.zeros(3, dtype=L.bool), 3),
        lambda L: L.zeros(3).normal_(0, -1),
        lambda L: L.zeros(3, dtype=L.int64).normal_(),
        lambda L: L.zeros(3).uniform_(2, 1),
        lambda L: L.zeros(3, dtype=L.int32).uniform_(),
        lambda L: L.zeros(3).exponential_(0),
        lambda L: L.zeros(3, dtype=L.int64).exponential_(),
        lambda L: L.zeros(3).geometric_(1),
        lambda L: L.zeros(3).geometric_(0),
        lambda L: L.zeros(3, dtype=L.bool).geometric_(0.5),
        lambda L: L.zeros(3).log_normal_(1, 0),
        lambda L: L.zeros(3, dtype=L.uint8).log_normal_(),
        lambda L: L.zeros(3).cauchy_(0, -1),
        lambda L: L.zeros(3, dtype=L.int64).cauchy_(),
        lambda L: L.zeros(3).random_(5, 2),
        lambda L: L.zeros(3, dtype=L.uint8).random_(-3, 2),
        lambda L: L.zeros(3, dtype=L.uint8).random_(0, 257),
        lambda L: L.Generator().manual_seed(1.5),
        lambda L: L.Generator().manual_seed(2**64),
        lambda L: L.Generator().set_state(L.zeros(3, dtype=L.uint8)),
    ]
    for case in cases:
        ours, theirs = _message(lambda: case(ag)), _message(lambda: case(torch))
        assert theirs is not None
        assert ours is not None and ours[0] == theirs[0], (ours, theirs)
        if "invalid combination" in theirs[1]:
            assert ours[1].split(" - ")[0] == theirs[1].split(" - ")[0]
        elif "CPUGeneratorImplState" in theirs[1]:
            assert ours[1].startswith("Expected a CPUGeneratorImplState of size")
        else:
            assert ours[1] == theirs[1], (ours, theirs)


def test_normal_broadcast_error():
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(2\) must match the size of "
                                           r"tensor b \(3\) at non-singleton dimension 0"):
        ag.normal(ag.zeros(2), ag.ones(3))


# ---------------------------------------------------------------- gradients


def test_sampled_tensors_give_their_parameters_zero_gradients_as_pytorch(torch):
    # PyTorch does not reparameterize: normal's mean and std, bernoulli's probabilities and
    # poisson's rates get a zero gradient (so gradcheck's finite differences do not apply)
    for lib in (ag, torch):
        m = lib.zeros(2, 1, dtype=lib.float64, requires_grad=True)
        s = lib.ones(3, dtype=lib.float64, requires_grad=True)
        p = lib.full((3,), 0.5, dtype=lib.float64, requires_grad=True)
        outs = [lib.normal(m, s), lib.normal(m, 2.0), lib.normal(1.0, s), lib.bernoulli(p),
                lib.poisson(p)]
        names = [type(o.grad_fn).__name__ if lib is torch else o.grad_fn.name for o in outs]
        assert names == ["NormalBackward3", "NormalBackward1", "NormalBackward2",
                         "BernoulliBackward0", "PoissonBackward0"]
        for o in outs:
            (o * 3.0).sum().backward()
        for t in (m, s, p):
            assert to_numpy(t.grad).tolist() == np.zeros(t.shape).tolist()
            assert tuple(t.grad.shape) == tuple(t.shape)
    # second order: the zero gradients are constants
    m = ag.zeros(2, dtype=ag.float64, requires_grad=True)
    s = ag.ones(2, dtype=ag.float64, requires_grad=True)
    gm, gs = grad((ag.normal(m, s) * m).sum(), [m, s], create_graph=True)
    assert gm.requires_grad and not gs.requires_grad and to_numpy(gs).tolist() == [0.0, 0.0]
    (ggm,) = grad(gm.sum(), [m], allow_unused=True)
    assert ggm is None or to_numpy(ggm).tolist() == [0.0, 0.0]


def test_bernoulli_with_p_has_no_derivative_as_pytorch(torch):
    for lib in (ag, torch):
        x = lib.full((3,), 0.5, requires_grad=True)
        y = lib.bernoulli(x, 0.3)
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::bernoulli is not implemented"):
            y.sum().backward()


def test_in_place_samplers_on_a_leaf_and_under_no_grad(torch):
    calls = [("normal_", ()), ("uniform_", ()), ("exponential_", ()), ("bernoulli_", ()),
             ("random_", ()), ("geometric_", (0.3,)), ("log_normal_", ()), ("cauchy_", ())]
    names = []
    for name, args in calls:
        for lib in (ag, torch):
            x = lib.zeros(3, requires_grad=True)
            with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
                getattr(x, name)(*args)
            assert x.tolist() == [0.0, 0.0, 0.0]
            with lib.no_grad():
                assert getattr(x, name)(*args) is x
            assert x.requires_grad and x.is_leaf
            y = lib.ones(3, requires_grad=True)
            z = y * 2
            getattr(z, name)(*args)
            names.append(type(z.grad_fn).__name__ if lib is torch else z.grad_fn.name)
            (z * 1).sum().backward()
            assert y.grad.tolist() == [0.0, 0.0, 0.0]
    assert names[0::2] == names[1::2]  # PyTorch's node names (NormalBackward0, ...)
    for args, name in [((), "RandomBackward2"), ((5,), "RandomBackward1"), ((1, 5), "RandomBackward0")]:
        z = ag.ones(3, requires_grad=True) * 2
        assert z.random_(*args).grad_fn.name == name
    # bernoulli_ with a tensor p that requires grad: recorded, zero gradient to p
    p = ag.full((3,), 0.5, requires_grad=True)
    z = ag.zeros(3)
    z.bernoulli_(p)
    assert z.grad_fn.name == "BernoulliBackward1"
    z.sum().backward()
    assert p.grad.tolist() == [0.0, 0.0, 0.0]


def test_nn_init_still_fills_under_no_grad():
    ag.manual_seed(0)
    w = ag.nn.Parameter(ag.empty(200, 100))
    ag.nn.init.normal_(w, 0.0, 0.02)
    assert w.requires_grad and abs(float(to_numpy(w).std()) - 0.02) < 0.002
    ag.nn.init.uniform_(w, -0.1, 0.1)
    assert to_numpy(w).min() >= -0.1 and to_numpy(w).max() <= 0.1


# ---------------------------------------------------------------- streams


def _draws(device, generator=None):
    """One of each sampler, from `generator` or the device's stream."""
    kw = {"generator": generator}
    x = ag.empty(4, device=device)
    return [
        ag.normal(0.0, 1.0, (4,), device=device, **kw).tolist(),
        ag.normal(ag.zeros(4, device=device), 2.0, **kw).tolist(),
        ag.bernoulli(ag.full((4,), 0.5, device=device), **kw).tolist(),
        ag.multinomial(ag.ones(6, device=device), 3, **kw).tolist(),
        ag.multinomial(ag.ones(6, device=device), 3, True, **kw).tolist(),
        ag.poisson(ag.full((4,), 3.0, device=device), **kw).tolist(),
        ag.randint_like(x, 100, **kw).tolist(),
        x.normal_(**kw).tolist(), x.uniform_(**kw).tolist(), x.exponential_(**kw).tolist(),
        x.bernoulli_(**kw).tolist(), x.random_(**kw).tolist(), x.geometric_(0.5, **kw).tolist(),
        x.log_normal_(**kw).tolist(), x.cauchy_(**kw).tolist(),
    ]


def test_manual_seed_reproduces_every_sampler(device):
    ag.manual_seed(11)
    a = _draws(device)
    ag.manual_seed(11)
    b = _draws(device)
    ag.manual_seed(12)
    c = _draws(device)
    assert a == b
    assert a[0] != c[0] and a[-1] != c[-1]  # another seed, other numbers


def test_a_generator_is_its_own_stream(device):
    g1 = ag.Generator(device=device).manual_seed(5)
    g2 = ag.Generator(device=device).manual_seed(5)
    ag.manual_seed(0)
    expected_global = ag.rand(3, device=device).tolist()
    ag.manual_seed(0)
    a = _draws(device, g1)
    assert ag.rand(3, device=device).tolist() == expected_global  # the global stream untouched
    assert _draws(device, g2) == a  # the same seed, the same numbers
    assert g1.initial_seed() == 5
    assert _draws(device, g1) != a  # the stream went on


def test_generator_state_round_trips(torch):
    g = ag.Generator()
    state = g.get_state()
    assert state.dtype == ag.uint8 and state.ndim == 1
    first = _draws("cpu", g)
    g.set_state(state)
    assert _draws("cpu", g) == first
    ag.manual_seed(3)
    s = ag.get_rng_state()
    x = ag.randn(5).tolist()
    ag.set_rng_state(s)
    assert ag.randn(5).tolist() == x
    # seeds as PyTorch takes them: negative ones wrap to 64 bits
    assert ag.Generator().manual_seed(-1).initial_seed() == torch.Generator().manual_seed(-1).initial_seed()
    assert ag.manual_seed(-5).initial_seed() == 2**64 - 5
    assert isinstance(ag.Generator().seed(), int)


def test_generator_must_match_the_device():
    cuda_gen = ag.Generator.__new__(ag.Generator)
    cuda_gen.device = ag.device("cuda")  # (no CUDA stream needed: the check comes first)
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        ag.zeros(3).normal_(generator=cuda_gen)
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator"):
        ag.multinomial(ag.ones(3), 1, generator=cuda_gen)


# ------------------------------------- the plain constructors: rand, randn, randint, randperm

@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rand_and_randn_fit_their_laws(device, dtype):
    ag.manual_seed(3)
    dt = getattr(ag, dtype)
    u = to_numpy(ag.rand(N, dtype=dt, device=device)).astype(np.float64)
    assert u.min() >= 0 and u.max() < 1
    assert ks_pvalue(u, lambda v: np.clip(v, 0, 1)) > ALPHA
    z = to_numpy(ag.randn(N // 100, 100, dtype=dt, device=device)).ravel().astype(np.float64)
    assert ks_pvalue(z, normal_cdf) > ALPHA
    like = ag.zeros(N, dtype=dt, device=device)
    assert ks_pvalue(to_numpy(ag.rand_like(like)).astype(np.float64), lambda v: np.clip(v, 0, 1)) > ALPHA
    assert ks_pvalue(to_numpy(ag.randn_like(like)).astype(np.float64), normal_cdf) > ALPHA


def test_the_fit_tests_reject_a_uniform_with_the_normals_mean_and_variance():
    """A sampler with the right mean and variance but the wrong law (the uniform on
    [-sqrt 3, sqrt 3]) fails the KS test that randn passes above."""
    u = np.random.default_rng(0).uniform(-math.sqrt(3), math.sqrt(3), N)
    assert ks_pvalue(u, normal_cdf) < 1e-12


def test_randint_and_randperm_fit_their_laws(device):
    ag.manual_seed(4)
    lo, hi = -3, 9
    v = to_numpy(ag.randint(lo, hi, (N,), device=device))
    assert v.min() >= lo and v.max() < hi
    assert chi2_fits(np.bincount(v - lo, minlength=hi - lo), np.ones(hi - lo))
    w = to_numpy(ag.randint(5, (N,), device=device))  # (high only)
    assert chi2_fits(np.bincount(w, minlength=5), np.ones(5))
    n, draws = 6, 3000
    perms = np.stack([to_numpy(ag.randperm(n, device=device)) for _ in range(draws)])
    assert (np.sort(perms, axis=1) == np.arange(n)).all()  # each a permutation
    for pos in (0, n - 1):  # each value equally likely at a position
        assert chi2_fits(np.bincount(perms[:, pos], minlength=n), np.ones(n))
    # and the position pair (0, 1): all 30 ordered pairs equally likely
    pair = perms[:, 0] * n + perms[:, 1]
    counts = np.bincount(pair, minlength=n * n)
    off_diagonal = np.arange(n * n) % (n + 1) != 0
    assert (counts[~off_diagonal] == 0).all()
    assert chi2_fits(counts[off_diagonal], np.ones(n * (n - 1)))
