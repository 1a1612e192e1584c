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
