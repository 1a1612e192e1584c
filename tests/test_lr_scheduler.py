"""Learning-rate schedulers against torch.optim.lr_scheduler, epoch by epoch."""
import math

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.optim import lr_scheduler

SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 11], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.8)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),
    ("LambdaLR", dict(lr_lambda=lambda e: 1.0 / (1 + e))),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e * (e % 3 + 1))),
]


def _opts(lib, lr=0.1):
    a = lib.ones(2, requires_grad=True)
    b = lib.ones(3, requires_grad=True)
    return lib.optim.SGD([{"params": [a]}, {"params": [b], "lr": lr * 3}], lr=lr, momentum=0.9)


@pytest.mark.parametrize("name,kw", SCHEDULERS, ids=[f"{n}{i}" for i, (n, _) in enumerate(SCHEDULERS)])
def test_matches_torch(torch, name, kw):
    oo, to = _opts(ag), _opts(torch)
    so = getattr(lr_scheduler, name)(oo, **kw)
    st = getattr(torch.optim.lr_scheduler, name)(to, **kw)
    assert so.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12)
    for epoch in range(25):
        oo.step()
        to.step()
        so.step()
        st.step()
        ours, theirs = so.get_last_lr(), st.get_last_lr()
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15), f"epoch {epoch}"
        assert [g["lr"] for g in oo.param_groups] == pytest.approx([g["lr"] for g in to.param_groups], rel=1e-12, abs=1e-15)


def test_chained_schedulers(torch):
    oo, to = _opts(ag), _opts(torch)
    so = [lr_scheduler.ExponentialLR(oo, 0.9), lr_scheduler.StepLR(oo, 4, 0.5)]
    st = [torch.optim.lr_scheduler.ExponentialLR(to, 0.9), torch.optim.lr_scheduler.StepLR(to, 4, 0.5)]
    for _ in range(15):
        oo.step()
        to.step()
        for s in so + st:
            s.step()
        assert [g["lr"] for g in oo.param_groups] == pytest.approx([g["lr"] for g in to.param_groups], rel=1e-12)


@pytest.mark.parametrize("kw", [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, cooldown=2, threshold=0.1, threshold_mode="abs", min_lr=[0.02, 0.05]),
    dict(patience=0, factor=0.2, min_lr=0.001, eps=1e-3),
])
def test_reduce_lr_on_plateau(torch, kw):
    rng = np.random.default_rng(0)
    metrics = list(np.round(rng.random(40) * 3, 1)) + [0.5] * 10 + list(np.linspace(1, 0, 10))
    oo, to = _opts(ag), _opts(torch)
    so = lr_scheduler.ReduceLROnPlateau(oo, **kw)
    st = torch.optim.lr_scheduler.ReduceLROnPlateau(to, **kw)
    for m in metrics:
        so.step(m)
        st.step(m)
        assert [g["lr"] for g in oo.param_groups] == pytest.approx([g["lr"] for g in to.param_groups], rel=1e-12)
    assert so.get_last_lr() == pytest.approx(st.get_last_lr())
    assert so.num_bad_epochs == st.num_bad_epochs and so.best == st.best


def test_scheduler_state_dict_round_trip():
    o1 = _opts(ag)
    s1 = lr_scheduler.CosineAnnealingLR(o1, T_max=10)
    for _ in range(4):
        o1.step()
        s1.step()
    o2 = _opts(ag)
    o2.load_state_dict(o1.state_dict())
    s2 = lr_scheduler.CosineAnnealingLR(o2, T_max=10)
    s2.load_state_dict(s1.state_dict())
    for _ in range(8):
        s1.step()
        s2.step()
        assert s1.get_last_lr() == s2.get_last_lr()


def test_cosine_closed_form():
    """At the half period the rate is halfway between lr and eta_min."""
    o = _opts(ag, lr=1.0)
    s = lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.2)
    for _ in range(4):
        s.step()
    assert s.get_last_lr()[0] == pytest.approx(0.6)
    assert s.get_last_lr()[1] == pytest.approx(0.2 + (3.0 - 0.2) / 2)
    assert math.isclose(s.get_last_lr()[0], 0.2 + 0.8 * (1 + math.cos(math.pi * 4 / 8)) / 2)


def test_errors():
    with pytest.raises(TypeError, match="not an Optimizer"):
        lr_scheduler.StepLR(object(), 2)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(_opts(ag), factor=1.5)
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas"):
        lr_scheduler.LambdaLR(_opts(ag), [lambda e: 1.0])


# ---------------------------------------------------------------- the added schedules

NEW_SCHEDULERS = [
    ("OneCycleLR", dict(max_lr=1.0, total_steps=26)),
    ("OneCycleLR", dict(max_lr=[0.5, 2.0], epochs=2, steps_per_epoch=13, pct_start=0.4,
                        anneal_strategy="linear", three_phase=True, base_momentum=0.7)),
    ("OneCycleLR", dict(max_lr=0.3, total_steps=26, cycle_momentum=False, div_factor=5.0,
                        final_div_factor=100.0)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.3], step_size_up=3,
                      step_size_down=5, mode="triangular2")),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=4, mode="exp_range", gamma=0.9,
                      base_momentum=0.6, max_momentum=0.95)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=3, scale_fn=lambda x: 0.5 ** x,
                      scale_mode="iterations", cycle_momentum=False)),
    ("CosineAnnealingWarmRestarts", dict(T_0=4)),
    ("CosineAnnealingWarmRestarts", dict(T_0=3, T_mult=2, eta_min=0.01)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.25, end_factor=0.75, total_iters=7)),
    ("ConstantLR", dict()),
    ("ConstantLR", dict(factor=0.5, total_iters=3)),
    ("PolynomialLR", dict()),
    ("PolynomialLR", dict(total_iters=9, power=2.0)),
]


def _momenta(opt):
    return [g.get("momentum", g.get("betas", (None,))[0]) for g in opt.param_groups]


def _adam_opts(lib, lr=0.1):
    a = lib.ones(2, requires_grad=True)
    b = lib.ones(3, requires_grad=True)
    return lib.optim.Adam([{"params": [a]}, {"params": [b], "lr": lr * 3}], lr=lr)


@pytest.mark.parametrize("make", [_opts, _adam_opts], ids=["sgd", "adam"])
@pytest.mark.parametrize("name,kw", NEW_SCHEDULERS,
                         ids=[f"{n}{i}" for i, (n, _) in enumerate(NEW_SCHEDULERS)])
def test_new_schedulers_match_torch(torch, make, name, kw):
    """Every epoch's rates (and the momentum or beta1 that OneCycleLR and CyclicLR cycle)
    equal PyTorch's."""
    oo, to = make(ag), make(torch)
    so = getattr(lr_scheduler, name)(oo, **kw)
    st = getattr(torch.optim.lr_scheduler, name)(to, **kw)
    seen = set()
    for epoch in range(26):
        ours, theirs = so.get_last_lr(), st.get_last_lr()
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-15), f"epoch {epoch}"
        assert [g["lr"] for g in oo.param_groups] == pytest.approx(
            [g["lr"] for g in to.param_groups], rel=1e-12, abs=1e-15)
        assert _momenta(oo) == pytest.approx(_momenta(to), rel=1e-12)
        seen.add(round(ours[0], 12))
        if name == "OneCycleLR" and epoch == 25:
            break
        oo.step()
        to.step()
        so.step()
        st.step()
    assert len(seen) >= 2  # (the schedule moved)


def test_one_cycle_past_total_steps_raises_as_torch(torch):
    for lib, mod in ((ag, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        o = _opts(lib)
        s = mod.OneCycleLR(o, max_lr=1.0, total_steps=3)
        for _ in range(3):  # (the last is rate 3 of 3)
            o.step()
            s.step()
        o.step()
        with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of "
                                             "total steps is 3"):
            s.step()


def test_cosine_warm_restarts_fractional_epochs(torch):
    """step(epoch) with fractional epochs inside each restart period, as the SGDR recipe
    steps it per batch."""
    oo, to = _opts(ag), _opts(torch)
    so = lr_scheduler.CosineAnnealingWarmRestarts(oo, T_0=2, T_mult=3, eta_min=0.001)
    st = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(to, T_0=2, T_mult=3, eta_min=0.001)
    for e in np.arange(0, 20, 0.3):
        so.step(float(e))
        st.step(float(e))
        assert so.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12, abs=1e-15)
        assert (so.T_i, so.last_epoch) == (st.T_i, st.last_epoch)
    with pytest.raises(ValueError, match="Expected non-negative epoch, but got -1"):
        so.step(-1)


def _sequential(lib):
    o = _opts(lib)
    L = lib.optim.lr_scheduler
    warm = L.LinearLR(o, start_factor=0.1, total_iters=4)
    decay = L.ExponentialLR(o, gamma=0.8)
    cos = L.CosineAnnealingLR(o, T_max=5)
    return o, L.SequentialLR(o, [warm, decay, cos], milestones=[4, 9])


def _chained(lib):
    o = _opts(lib)
    L = lib.optim.lr_scheduler
    return o, L.ChainedScheduler([L.ConstantLR(o, factor=0.5, total_iters=3),
                                  L.ExponentialLR(o, gamma=0.9),
                                  L.PolynomialLR(o, total_iters=12, power=0.5)])


@pytest.mark.parametrize("build", [_sequential, _chained], ids=["sequential", "chained"])
def test_composed_schedulers_match_torch(torch, build):
    (oo, so), (to, st) = build(ag), build(torch)
    for epoch in range(18):
        assert so.get_last_lr() == pytest.approx(st.get_last_lr(), rel=1e-12, abs=1e-15), epoch
        assert [g["lr"] for g in oo.param_groups] == pytest.approx(
            [g["lr"] for g in to.param_groups], rel=1e-12, abs=1e-15)
        oo.step()
        to.step()
        so.step()
        st.step()


@pytest.mark.parametrize("build", [
    _sequential, _chained,
    lambda lib: (lambda o: (o, lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=30)))(_opts(lib)),
    lambda lib: (lambda o: (o, lib.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1, step_size_up=3,
                                                               mode="triangular2")))(_opts(lib)),
    lambda lib: (lambda o: (o, lib.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 2)))(_opts(lib)),
], ids=["sequential", "chained", "onecycle", "cyclic", "warm-restarts"])
def test_new_schedulers_state_dict_round_trip(build):
    """state_dict after 5 steps into a fresh scheduler (over an optimizer with the same
    state): the next 10 rates as the uninterrupted one's."""
    o1, s1 = build(ag)
    for _ in range(5):
        s1.step()
    o2, s2 = build(ag)
    o2.load_state_dict(o1.state_dict())
    s2.load_state_dict(s1.state_dict())
    assert s2.get_last_lr() == s1.get_last_lr()
    for _ in range(10):
        s1.step()
        s2.step()
        assert s2.get_last_lr() == s1.get_last_lr()
        assert [g["lr"] for g in o2.param_groups] == [g["lr"] for g in o1.param_groups]


@pytest.mark.parametrize("call,msg", [
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0), "You must define either total_steps OR"),
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=0), "Expected positive integer total_steps"),
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=1), "Expected float between 0 and 1 pct_start"),
    (lambda L, o: L.OneCycleLR(o, max_lr=1.0, total_steps=5, anneal_strategy="exp"), "anneal_strategy must be one of"),
    (lambda L, o: L.OneCycleLR(o, max_lr=[1.0], total_steps=5), "max_lr must have the same length as optimizer.param_groups"),
    (lambda L, o: L.CyclicLR(o, 0.1, 1.0, mode="sine"), "mode is invalid and scale_fn is None"),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=0), "Expected positive integer T_0"),
    (lambda L, o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), "Expected integer T_mult >= 1"),
    (lambda L, o: L.LinearLR(o, start_factor=0), "Starting multiplicative factor expected"),
    (lambda L, o: L.LinearLR(o, end_factor=1.5), "Ending multiplicative factor expected"),
    (lambda L, o: L.ConstantLR(o, factor=2), "Constant multiplicative factor expected"),
    (lambda L, o: L.SequentialLR(o, [L.ConstantLR(o)], milestones=[2]), "expects number of schedulers provided to be one more"),
    (lambda L, o: L.SequentialLR(o, [], milestones=[]), "expects at least one scheduler"),
    (lambda L, o: L.ChainedScheduler([L.ReduceLROnPlateau(o)]), "does not support `ReduceLROnPlateau`"),
])
def test_new_scheduler_errors_as_torch(torch, call, msg):
    for lib, L in ((ag, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        with pytest.raises(ValueError, match=msg):
            call(L, _opts(lib))


def test_cycle_momentum_needs_momentum(torch):
    for lib, L in ((ag, lr_scheduler), (torch, torch.optim.lr_scheduler)):
        o = lib.optim.Adagrad([lib.ones(2, requires_grad=True)])
        with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
            L.OneCycleLR(o, max_lr=1.0, total_steps=4)
