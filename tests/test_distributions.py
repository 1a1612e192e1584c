"""autograd_gpu.distributions against torch.distributions: log_prob, entropy, moments, cdf,
KL divergences and their gradients in float64; shapes of samples; sample statistics with a
fixed seed; rsample gradients (Normal/Uniform/MVN exactly, Gamma/Beta implicit gradients
against PyTorch's at the same sample values); validation errors with PyTorch's messages;
lgamma/digamma/polygamma."""
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import distributions as D
from autograd_gpu.autograd import gradcheck, gradgradcheck
from conftest import to_numpy


def _np(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _pos(shape, seed=0):
    return np.exp(0.5 * _np(shape, seed)) + 0.2


def _a(x, device, grad=False):
    return ag.tensor(x, device=device, requires_grad=grad)


def _close(a, t, rtol=1e-9, atol=1e-10):
    np.testing.assert_allclose(to_numpy(a), t.detach().numpy(), rtol=rtol, atol=atol)


# one builder per distribution: (library distributions module, params as arrays) -> dist
_BUILD = {
    "Normal": (lambda M, p: M.Normal(p[0], p[1]), lambda: [_np((2, 3)), _pos((2, 3), 1)]),
    "Uniform": (lambda M, p: M.Uniform(p[0], p[0] + p[1]), lambda: [_np((3,)), _pos((3,), 1)]),
    "Gamma": (lambda M, p: M.Gamma(p[0], p[1]), lambda: [_pos((3,)), _pos((3,), 1)]),
    "Beta": (lambda M, p: M.Beta(p[0], p[1]), lambda: [_pos((3,)), _pos((3,), 1)]),
    "Bernoulli": (lambda M, p: M.Bernoulli(logits=p[0]), lambda: [_np((4,))]),
    "BernoulliP": (lambda M, p: M.Bernoulli(probs=p[0]), lambda: [np.array([0.2, 0.5, 0.9])]),
    "Categorical": (lambda M, p: M.Categorical(logits=p[0]), lambda: [_np((2, 4))]),
    "CategoricalP": (lambda M, p: M.Categorical(probs=p[0]), lambda: [_pos((2, 4))]),
    "OneHotCategorical": (lambda M, p: M.OneHotCategorical(logits=p[0]), lambda: [_np((2, 3))]),
    "MVN_cov": (lambda M, p: M.MultivariateNormal(p[0], covariance_matrix=p[1] @ p[1].mT + _eye(M, p[1], 3)),
                lambda: [_np((2, 3)), _np((3, 3), 1)]),
    "MVN_prec": (lambda M, p: M.MultivariateNormal(p[0], precision_matrix=p[1] @ p[1].mT + _eye(M, p[1], 3)),
                 lambda: [_np((3,)), _np((2, 3, 3), 1)]),
    "MVN_tril": (lambda M, p: M.MultivariateNormal(p[0], scale_tril=p[1].tril(-1) + p[2].diag_embed()),
                 lambda: [_np((3,)), _np((3, 3), 1), _pos((3,), 2)]),
    "Independent": (lambda M, p: M.Independent(M.Normal(p[0], p[1]), 1), lambda: [_np((2, 3)), _pos((2, 3), 1)]),
}


def _eye(M, like, n):
    lib = ag if M is D else __import__("torch")
    return lib.eye(n, dtype=like.dtype) if lib is not ag else ag.eye(n, dtype=like.dtype, device=like.device)


def _values(name, dist_t, torch):
    """Points of the support to evaluate log_prob at (drawn from PyTorch's distribution)."""
    torch.manual_seed(0)
    v = dist_t.sample((2,))
    if name == "Gamma":
        return v.clamp(min=1e-3)
    return v.clamp(1e-3, 1 - 1e-3) if name == "Beta" else v


def _both(name, device, torch, grad=True):
    build, params = _BUILD[name]
    arrays = params()
    pa = [_a(x, device, grad) for x in arrays]
    pt = [torch.tensor(x, requires_grad=grad) for x in arrays]
    return build(D, pa), build(torch.distributions, pt), pa, pt


@pytest.mark.parametrize("name", list(_BUILD))
def test_log_prob_entropy_moments_match_torch(name, device, torch):
    da, dt, pa, pt = _both(name, device, torch)
    assert tuple(da.batch_shape) == tuple(dt.batch_shape)
    assert tuple(da.event_shape) == tuple(dt.event_shape)
    v = _values(name, dt, torch)
    lp_a, lp_t = da.log_prob(ag.tensor(v.numpy(), device=device)), dt.log_prob(v)
    _close(lp_a, lp_t)
    _close(da.entropy(), dt.entropy())
    for moment in ("mean", "variance", "stddev", "mode"):
        try:
            expected = getattr(dt, moment)
        except NotImplementedError:
            continue
        _close(getattr(da, moment), expected)
    # the gradients of log_prob and entropy with respect to the parameters
    ga = ag.autograd.grad(lp_a.sum() + da.entropy().sum(), pa)
    gt = torch.autograd.grad(lp_t.sum() + dt.entropy().sum(), pt)
    for a, t in zip(ga, gt):
        _close(a, t, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Beta", "Bernoulli", "Categorical", "MVN_tril"])
def test_log_prob_gradcheck(name, device, torch):
    build, params = _BUILD[name]
    arrays = params()
    _, dt, _, _ = _both(name, device, torch, grad=False)
    v = ag.tensor(_values(name, dt, torch).numpy(), device=device)
    inputs = [_a(x, device, True) for x in arrays]

    def f(*p):
        d = build(D, list(p))
        return d.log_prob(v), d.entropy()

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_cdf_icdf(device, torch):
    for name in ("Normal", "Uniform"):
        da, dt, _, _ = _both(name, device, torch, grad=False)
        v = _values(name, dt, torch)
        _close(da.cdf(ag.tensor(v.numpy(), device=device)), dt.cdf(v))
        torch.manual_seed(1)
        u = torch.rand(dt.batch_shape, dtype=torch.float64) * 0.98 + 0.01
        _close(da.icdf(ag.tensor(u.numpy(), device=device)), dt.icdf(u))


_KL_PAIRS = [("Normal", "Normal"), ("Uniform", "Uniform"), ("Gamma", "Gamma"), ("Beta", "Beta"),
             ("Bernoulli", "Bernoulli"), ("Categorical", "Categorical"),
             ("OneHotCategorical", "OneHotCategorical"), ("MVN_cov", "MVN_tril"),
             ("MVN_tril", "MVN_prec"), ("Independent", "Independent")]


@pytest.mark.parametrize("p,q", _KL_PAIRS)
def test_kl_divergence_matches_torch(p, q, device, torch):
    pa, pt, ppa, ppt = _both(p, device, torch)
    build_q, params_q = _BUILD[q]
    arrays = [x * 0.7 + 0.1 for x in params_q()]  # another member of the family
    if q == "Uniform":
        arrays = [arrays[0] - 1.0, arrays[1] + 2.0]  # containing p's support: finite
    qa = build_q(D, [_a(x, device) for x in arrays])
    qt = build_q(torch.distributions, [torch.tensor(x) for x in arrays])
    ka, kt = D.kl_divergence(pa, qa), torch.distributions.kl_divergence(pt, qt)
    _close(ka, kt, rtol=1e-8)
    ga = ag.autograd.grad(ka.sum(), ppa)
    gt = torch.autograd.grad(kt.sum(), ppt)
    for a, t in zip(ga, gt):
        _close(a, t, rtol=1e-7, atol=1e-9)


def test_kl_infinite_and_registry(device, torch):
    a = D.Uniform(_a(np.array([0.0]), device), _a(np.array([2.0]), device))
    b = D.Uniform(_a(np.array([0.5]), device), _a(np.array([1.0]), device))
    assert math.isinf(D.kl_divergence(a, b).item())
    c0 = D.Categorical(probs=_a(np.array([0.5, 0.5]), device))
    c1 = D.Categorical(probs=_a(np.array([1.0, 0.0]), device))
    assert math.isinf(D.kl_divergence(c0, c1).item())
    assert D.kl_divergence(c1, c0).item() == pytest.approx(math.log(2))
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Gamma"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Gamma(1.0, 1.0))

    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl(p, q):
        return ag.tensor(-1.0)

    assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 1.0)).item() == -1.0
    assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 2.0)).item() > 0  # (the base pair)
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        D.register_kl(int, D.Normal)


# ------------------------------------------------------------ sampling


@pytest.mark.parametrize("name", list(_BUILD))
def test_sample_shapes_and_support(name, device, torch):
    da, dt, _, _ = _both(name, device, torch, grad=False)
    ag.manual_seed(0)
    s = da.sample((5, 2))
    assert tuple(s.shape) == tuple(dt.sample((5, 2)).shape)
    assert s.dtype == (ag.int64 if name.startswith("Categorical") else ag.float64)
    assert bool(da.support.check(s).all())


def _ks(samples, cdf):
    """The Kolmogorov-Smirnov statistic of 1-D samples against a CDF (NumPy callable)."""
    x = np.sort(samples)
    n = len(x)
    f = cdf(x)
    return max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))


# at n = 4000 the KS statistic exceeds 1.63 / sqrt(n) with probability 0.01
_KS_CRIT = 1.63 / math.sqrt(4000)


def test_sample_statistics(device, torch):
    """Seeded draws against the exact CDF (KS at the 1% level) or moments (4 standard
    errors), the CDFs computed by PyTorch."""
    ag.manual_seed(1)
    n = 4000
    cases = [
        (D.Normal(ag.tensor(1.5, device=device), ag.tensor(2.0, device=device)),
         torch.distributions.Normal(torch.tensor(1.5), torch.tensor(2.0))),
        (D.Uniform(ag.tensor(-1.0, device=device), ag.tensor(3.0, device=device)),
         torch.distributions.Uniform(torch.tensor(-1.0), torch.tensor(3.0))),
    ]
    for da, dt in cases:
        s = to_numpy(da.sample((n,))).astype(np.float64)
        assert _ks(s, lambda x: dt.cdf(torch.tensor(x)).double().numpy()) < _KS_CRIT
    for conc, rate in ((0.3, 1.0), (2.5, 2.0), (40.0, 0.5)):
        g = D.Gamma(ag.tensor(conc, dtype=ag.float64, device=device), ag.tensor(rate, dtype=ag.float64, device=device))
        s = to_numpy(g.sample((n,)))
        cdf = lambda x: torch.special.gammainc(torch.tensor(conc, dtype=torch.float64), torch.tensor(x) * rate).numpy()  # noqa: E731
        assert _ks(s, cdf) < _KS_CRIT, (conc, rate)
    for a, b in ((0.5, 0.5), (2.0, 5.0)):
        s = to_numpy(D.Beta(ag.tensor(a, dtype=ag.float64, device=device), ag.tensor(b, dtype=ag.float64, device=device)).sample((n,)))
        mean, var = a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1))
        assert abs(s.mean() - mean) < 4 * math.sqrt(var / n)
    p = np.array([0.1, 0.2, 0.7])
    s = to_numpy(D.Categorical(probs=ag.tensor(p, device=device)).sample((n,)))
    counts = np.bincount(s, minlength=3) / n
    assert np.all(np.abs(counts - p) < 4 * np.sqrt(p * (1 - p) / n))
    s = to_numpy(D.Bernoulli(ag.tensor(0.3, device=device)).sample((n,)))
    assert abs(s.mean() - 0.3) < 4 * math.sqrt(0.21 / n)
    cov = np.array([[2.0, 0.8], [0.8, 1.0]])
    s = to_numpy(D.MultivariateNormal(ag.zeros(2, dtype=ag.float64, device=device),
                                      ag.tensor(cov, device=device)).sample((n,)))
    assert np.all(np.abs(np.cov(s.T) - cov) < 4 * np.sqrt((cov ** 2 + np.outer(np.diag(cov), np.diag(cov))) / n))


def test_samples_follow_the_seed(device):
    d = D.Normal(ag.zeros(3, device=device), ag.ones(3, device=device))
    ag.manual_seed(7)
    a = to_numpy(d.sample((2,)))
    ag.manual_seed(7)
    np.testing.assert_array_equal(a, to_numpy(d.sample((2,))))
    assert not d.sample().requires_grad


def test_rsample_gradients_location_scale(device, torch):
    """Normal, Uniform and MVN rsample are loc + scale * noise: the gradient is the noise."""
    loc = _a(_np((3,)), device, True)
    scale = _a(_pos((3,), 1), device, True)
    ag.manual_seed(3)
    x = D.Normal(loc, scale).rsample((4,))
    gl, gs = ag.autograd.grad(x.sum(), [loc, scale])
    eps = (to_numpy(x) - to_numpy(loc)) / to_numpy(scale)
    np.testing.assert_allclose(to_numpy(gl), np.full(3, 4.0))
    np.testing.assert_allclose(to_numpy(gs), eps.sum(0), rtol=1e-12)
    L = _a(np.array([[1.0, 0.0], [0.5, 2.0]]), device, True)
    x = D.MultivariateNormal(ag.zeros(2, dtype=ag.float64, device=device), scale_tril=L).rsample()
    (gL,) = ag.autograd.grad(x.sum(), [L])
    eps = np.linalg.solve(np.array([[1.0, 0.0], [0.5, 2.0]]), to_numpy(x))
    np.testing.assert_allclose(to_numpy(gL), np.outer(np.ones(2), eps), rtol=1e-10)  # (L @ eps, as PyTorch: not projected)


def test_gamma_beta_rsample_gradients_match_torch(device, torch):
    """At the same sample values, the implicit gradients agree with PyTorch's
    (_standard_gamma_grad and _dirichlet_grad, fitted approximations good to ~1e-3)."""
    conc = _a(np.array([0.3, 1.0, 4.0, 50.0]), device, True)
    rate = _a(np.array([1.0, 2.0, 0.5, 3.0]), device, True)
    ag.manual_seed(4)
    x = D.Gamma(conc, rate).rsample((50,))
    gc, gr = ag.autograd.grad(x.sum(), [conc, rate])
    xs = to_numpy(x) * to_numpy(rate)  # the standard-gamma draws
    c = np.broadcast_to(to_numpy(conc), xs.shape)
    dx = torch._standard_gamma_grad(torch.tensor(c.copy()), torch.tensor(xs)).numpy()
    np.testing.assert_allclose(to_numpy(gc), (dx / to_numpy(rate)).sum(0), rtol=2e-3)
    np.testing.assert_allclose(to_numpy(gr), (-to_numpy(x) / to_numpy(rate)).sum(0), rtol=1e-10)
    a = _a(np.array([0.5, 2.0, 8.0]), device, True)
    b = _a(np.array([1.5, 3.0, 9.0]), device, True)
    x = D.Beta(a, b).rsample((50,))
    ga, gb = ag.autograd.grad(x.sum(), [a, b])
    xv = to_numpy(x)
    tot = np.broadcast_to(to_numpy(a) + to_numpy(b), xv.shape).copy()
    A = np.broadcast_to(to_numpy(a), xv.shape).copy()
    B = np.broadcast_to(to_numpy(b), xv.shape).copy()
    T = torch.tensor
    ta = (torch._dirichlet_grad(T(xv), T(A), T(tot)).numpy() * (1 - xv)).sum(0)
    tb = (-torch._dirichlet_grad(T(1 - xv), T(B), T(tot)).numpy() * xv).sum(0)
    np.testing.assert_allclose(to_numpy(ga), ta, rtol=3e-3)
    np.testing.assert_allclose(to_numpy(gb), tb, rtol=3e-3)
    with pytest.raises(RuntimeError, match="derivative for aten::_standard_gamma_grad is not implemented"):
        y = D.Gamma(conc, rate).rsample()
        (g,) = ag.autograd.grad(y.sum(), [conc], create_graph=True)
        ag.autograd.grad(g.sum(), [conc])


def test_implicit_gamma_gradient_is_the_cdf_derivative():
    """dx/da = -(dP(a, x)/da) / pdf(x), checked by central differences of the series CDF."""
    from autograd_gpu.ops.special import _lgamma, standard_gamma_grad

    def P(a, x):
        r, s = 1.0, 1.0
        for n in range(1, 4000):
            r *= x / (a + n)
            s += r
        return math.exp(a * math.log(x) - x - _lgamma(np, np.array(a + 1.0)).item()) * s

    for a, x in ((0.3, 0.05), (2.0, 3.5), (100.0, 120.0)):
        h = 1e-4
        pdf = math.exp((a - 1) * math.log(x) - x - _lgamma(np, np.array(a)).item())
        fd = -(P(a + h, x) - P(a - h, x)) / (2 * h) / pdf
        assert standard_gamma_grad(np, np.array([a]), np.array([x]))[0] == pytest.approx(fd, rel=1e-6)


# ------------------------------------------------------------ validation, shapes, expand


def test_validation_errors(device):
    with pytest.raises(ValueError, match=r"Expected parameter scale \(Tensor of shape \(2,\)\) of distribution "
                       r"Normal\(loc: .*Size\(\[2\]\), scale: .*Size\(\[2\]\)\) to satisfy the constraint "
                       r"GreaterThan\(lower_bound=0.0\), but found invalid values:"):
        D.Normal(ag.zeros(2, device=device), -ag.ones(2, device=device))
    d = D.Normal(ag.zeros(2, device=device), ag.ones(2, device=device))
    with pytest.raises(ValueError, match=r"Value is not broadcastable with batch_shape\+event_shape"):
        d.log_prob(ag.zeros(3, device=device))
    with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
        d.log_prob(1.0)
    with pytest.raises(ValueError, match=r"Expected value argument \(Tensor of shape \(\)\) to be within the "
                       r"support \(Interval\(lower_bound=0.0, upper_bound=1.0\)\) of the distribution "
                       r"Uniform\(low: 0.0, high: 1.0\), but found invalid values:\n2.0"):
        D.Uniform(0.0, 1.0).log_prob(ag.tensor(2.0, device=device))
    with pytest.raises(ValueError, match=r"support \(IntegerInterval\(lower_bound=0, upper_bound=2\)\)"):
        D.Categorical(ag.ones(3, device=device)).log_prob(ag.tensor(3, device=device))
    with pytest.raises(ValueError, match=r"support \(Boolean\(\)\)"):
        D.Bernoulli(ag.tensor([0.3], device=device)).log_prob(ag.tensor([0.5], device=device))
    with pytest.raises(ValueError, match="Either `probs` or `logits` must be specified, but not both."):
        D.Categorical()
    with pytest.raises(ValueError, match="Exactly one of covariance_matrix or precision_matrix or scale_tril"):
        D.MultivariateNormal(ag.zeros(2, device=device))
    with pytest.raises(ValueError, match="loc must be at least one-dimensional."):
        D.MultivariateNormal(ag.tensor(0.0, device=device), ag.eye(1, device=device))
    with pytest.raises(ValueError, match="constraint PositiveDefinite"):
        D.MultivariateNormal(ag.zeros(2, device=device), ag.tensor([[1.0, 2.0], [2.0, 1.0]], device=device))
    with pytest.raises(ValueError, match="Expected reinterpreted_batch_ndims <= len"):
        D.Independent(D.Normal(0.0, 1.0), 1)
    with pytest.raises(ValueError, match=r"LessThan\(upper_bound=0.0\)"):
        D.Uniform(1.0, 0.0)
    # validate_args=False turns the checks off, as in PyTorch
    assert D.Normal(ag.zeros(1, device=device), -ag.ones(1, device=device), validate_args=False).scale.item() == -1


def test_repr_support_and_expand(device, torch):
    assert repr(D.Normal(0.0, 1.0)) == "Normal(loc: 0.0, scale: 1.0)"
    assert repr(D.constraints.positive) == repr(torch.distributions.constraints.positive)
    assert repr(D.constraints.independent(D.constraints.real, 1)) == "IndependentConstraint(Real(), 1)"
    assert repr(D.Gamma(1.0, 1.0).support) == "GreaterThanEq(lower_bound=0.0)"
    assert repr(D.OneHotCategorical(ag.ones(3)).support) == "OneHot()"
    d = D.Normal(ag.zeros(3, device=device), ag.ones(3, device=device)).expand((2, 3))
    assert tuple(d.batch_shape) == (2, 3) and tuple(d.sample().shape) == (2, 3)
    c = D.Categorical(logits=ag.zeros(4, device=device)).expand((5,))
    assert tuple(c.sample().shape) == (5,) and tuple(c.enumerate_support().shape) == (4, 5)
    m = D.MultivariateNormal(ag.zeros(2, device=device), ag.eye(2, device=device)).expand((3,))
    assert tuple(m.sample().shape) == (3, 2)
    assert tuple(m.covariance_matrix.shape) == (3, 2, 2)
    i = D.Independent(D.Normal(ag.zeros((2, 3), device=device), ag.ones((2, 3), device=device)), 1)
    assert repr(i.support) == "IndependentConstraint(Real(), 1)"
    assert bool(D.constraints.simplex.check(ag.tensor([0.2, 0.8])).item())
    assert not bool(D.constraints.lower_cholesky.check(ag.tensor([[1.0, 1.0], [0.0, 1.0]])).item())


# ------------------------------------------------------------ special functions


def test_gamma_function_family(device, torch):
    x = np.array([1e-3, 0.3, 0.5, 1.0, 2.5, 7.0, 30.0, 400.0, -0.5, -2.5])
    t = torch.tensor(x)
    _close(ag.lgamma(_a(x, device)), torch.lgamma(t), rtol=1e-12, atol=1e-12)
    _close(ag.digamma(_a(x, device)), torch.digamma(t), rtol=1e-12, atol=1e-12)
    pos = x[x > 0]
    for n in (1, 2, 3):  # (PyTorch's trigamma is good to ~1e-9)
        _close(ag.polygamma(n, _a(pos, device)), torch.polygamma(n, torch.tensor(pos)), rtol=1e-8)
    edges = np.array([0.0, -1.0])
    _close(ag.lgamma(_a(edges, device)), torch.lgamma(torch.tensor(edges)))
    _close(ag.digamma(_a(edges, device)), torch.digamma(torch.tensor(edges)))
    assert ag.polygamma(1, _a(np.array([math.pi ** 0]), device)).item() == pytest.approx(math.pi ** 2 / 6, rel=1e-15)
    _close(ag.mvlgamma(_a(pos[3:], device), 3), torch.mvlgamma(torch.tensor(pos[3:]), 3), rtol=1e-12)
    for f in (ag.lgamma, ag.digamma, lambda v: ag.polygamma(1, v)):
        assert gradcheck(f, [_a(pos[:6], device, True)])
        assert gradgradcheck(f, [_a(pos[:6], device, True)])
    v = _a(pos, device, True)
    assert ag.lgamma(v).grad_fn.name() == "LgammaBackward0"
    assert ag.lgamma(_a(np.array([2.0, 3.0]), device).float()).dtype == ag.float32
