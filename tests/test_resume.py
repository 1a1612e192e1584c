"""Random state (get/set_rng_state, cuda's, fork_rng, Generator states) stored by save/load,
optimizer and scheduler state_dicts through save/load, and a training run killed with
SIGKILL and resumed from its checkpoint that ends with the very parameters of a run that
was never stopped."""
import io
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn, optim
from autograd_gpu.optim import lr_scheduler
from autograd_gpu.utils.data import DataLoader, TensorDataset
from conftest import to_numpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "resume_training.py")


def _roundtrip(obj):
    buf = io.BytesIO()
    ag.save(obj, buf)
    buf.seek(0)
    return ag.load(buf)


def _draws(device):
    """One of each kind of draw the library makes from a device's stream."""
    x = ag.ones(64, device=device)
    return [to_numpy(ag.rand(5, device=device)), to_numpy(ag.randn(3, 2, device=device)),
            to_numpy(ag.randint(0, 100, (6,), device=device)),
            to_numpy(ag.randperm(10, device=device)),
            to_numpy(nn.functional.dropout(x, 0.5)),
            to_numpy(ag.bernoulli(ag.full((8,), 0.5, device=device)))]


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


# ---------------------------------------------------------------- CPU random state


def test_cpu_state_restores_every_kind_of_draw():
    ag.manual_seed(11)
    ag.rand(7)  # (somewhere in the stream, not at its seed)
    state = ag.get_rng_state()
    assert state.dtype == ag.uint8 and state.device == ag.device("cpu") and state.ndim == 1
    first = _draws("cpu")
    assert not _same(first, _draws("cpu"))  # the stream moved on
    ag.set_rng_state(state)
    assert _same(first, _draws("cpu"))


def test_state_is_a_copy_and_survives_save_load(tmp_path):
    ag.manual_seed(3)
    state = ag.get_rng_state()
    expected = _draws("cpu")
    assert not np.array_equal(to_numpy(ag.get_rng_state()), to_numpy(state))  # not a view
    path = tmp_path / "rng.pt"
    ag.save({"rng": state}, path)
    ag.set_rng_state(ag.load(path)["rng"])
    assert _same(expected, _draws("cpu"))


def test_random_module_is_torch_random(torch):
    for name in ("fork_rng", "get_rng_state", "set_rng_state", "manual_seed", "seed",
                 "initial_seed"):
        assert hasattr(torch.random, name) and callable(getattr(ag.random, name)), name
    assert ag.random.manual_seed(5) is ag.manual_seed(5)  # the CPU generator, as PyTorch's
    assert ag.random.initial_seed() == 5
    s = ag.random.seed()
    assert isinstance(s, int) and ag.random.initial_seed() == s


def test_fork_rng_restores_after_the_block_and_after_an_error():
    ag.manual_seed(0)
    expected = _draws("cpu")
    ag.manual_seed(0)
    with ag.random.fork_rng(devices=[]):
        inside = _draws("cpu")
    assert _same(expected, inside)  # the block draws from the same stream...
    assert _same(expected, _draws("cpu"))  # ...and the stream is put back after it
    ag.manual_seed(0)
    with pytest.raises(ZeroDivisionError):
        with ag.random.fork_rng(devices=[]):
            ag.rand(100)
            1 / 0
    assert _same(expected, _draws("cpu"))


def test_fork_rng_disabled_and_device_type():
    ag.manual_seed(0)
    with ag.random.fork_rng(enabled=False):
        a = to_numpy(ag.rand(4))
    assert not np.array_equal(a, to_numpy(ag.rand(4)))  # not forked: the stream moved on
    with ag.random.fork_rng(device_type="meta"):
        pass
    with pytest.raises(RuntimeError, match="no module of `xpu`"):
        with ag.random.fork_rng(device_type="xpu"):
            pass


def test_generator_state_round_trip_and_independence():
    g = ag.Generator().manual_seed(9)
    ag.rand(3, generator=g)
    s = g.get_state()
    a = to_numpy(ag.rand(5, generator=g))
    ag.manual_seed(1)
    ag.rand(10)  # the global stream is another one
    g.set_state(_roundtrip(s))
    assert np.array_equal(a, to_numpy(ag.rand(5, generator=g)))


def test_dataloader_shuffle_follows_the_cpu_state():
    data = TensorDataset(ag.arange(20))
    loader = DataLoader(data, batch_size=4, shuffle=True)
    ag.manual_seed(4)
    state = ag.get_rng_state()
    first = [b[0].tolist() for b in loader]
    second = [b[0].tolist() for b in loader]
    assert first != second  # a new order each pass...
    ag.set_rng_state(state)
    assert [b[0].tolist() for b in loader] == first  # ...fixed by the state it starts from
    assert sorted(sum(first, [])) == list(range(20))


def test_dropout_module_masks_follow_the_state():
    drop = nn.Dropout(0.5)
    x = ag.ones(4, 50, requires_grad=True)
    state = ag.get_rng_state()
    y1 = drop(x)
    y1.sum().backward()
    g1 = to_numpy(x.grad)
    x.grad = None
    ag.set_rng_state(state)
    y2 = drop(x)
    y2.sum().backward()
    assert np.array_equal(to_numpy(y1), to_numpy(y2))
    assert np.array_equal(g1, to_numpy(x.grad))
    assert 0 < (to_numpy(y1) == 0).mean() < 1


# ---------------------------------------------------------------- CUDA random state


def test_cuda_state_functions_exist_as_torch_cuda(torch):
    for name in ("get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all",
                 "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed",
                 "OutOfMemoryError"):
        assert hasattr(torch.cuda, name) and hasattr(ag.cuda, name), name
    assert issubclass(ag.cuda.OutOfMemoryError, RuntimeError)


@pytest.mark.skipif(ag.cuda.is_available(), reason="checks the answers without CUDA")
def test_cuda_seeding_without_cuda_is_ignored_and_reading_says_why():
    ag.manual_seed(2)
    expected = _draws("cpu")
    ag.manual_seed(2)
    for f in (ag.cuda.manual_seed, ag.cuda.manual_seed_all):
        f(123)
    ag.cuda.seed()
    ag.cuda.seed_all()
    ag.cuda.set_rng_state(ag.zeros(16, dtype=ag.uint8))
    assert ag.cuda.get_rng_state_all() == []
    assert _same(expected, _draws("cpu"))  # the CPU stream untouched
    with pytest.raises(RuntimeError, match="CUDA was requested but is not available"):
        ag.cuda.get_rng_state()


@pytest.mark.gpu
def test_cuda_state_restores_every_kind_of_draw():
    ag.manual_seed(5)
    ag.rand(3, device="cuda")
    state = ag.cuda.get_rng_state()
    # PyTorch's layout: 16 bytes on the CPU (here the seed, then the number of draws made)
    assert state.dtype == ag.uint8 and state.device == ag.device("cpu")
    assert tuple(state.shape) == (16,)
    assert to_numpy(state)[:8].view(np.uint64)[0] == 5
    assert to_numpy(state)[8:].view(np.uint64)[0] == 1
    first = _draws("cuda")
    assert not _same(first, _draws("cuda"))
    ag.cuda.set_rng_state(_roundtrip(state))
    assert _same(first, _draws("cuda"))
    with pytest.raises(RuntimeError, match="state size to be 3"):
        ag.cuda.set_rng_state(ag.zeros(3, dtype=ag.uint8))


@pytest.mark.gpu
def test_cuda_seeds_per_device():
    if ag.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices")
    ag.manual_seed(1)  # every device
    assert [int(to_numpy(s)[:8].view(np.uint64)[0]) for s in ag.cuda.get_rng_state_all()] == [1, 1]
    ag.cuda.manual_seed(7)  # the current device (0) only
    assert ag.cuda.initial_seed() == 7 and ag.initial_seed() == 1
    assert int(to_numpy(ag.cuda.get_rng_state(1))[:8].view(np.uint64)[0]) == 1
    ag.cuda.manual_seed_all(8)
    states = ag.cuda.get_rng_state_all()
    assert [int(to_numpy(s)[:8].view(np.uint64)[0]) for s in states] == [8, 8]
    a = to_numpy(ag.rand(4, device="cuda:1"))
    ag.cuda.set_rng_state_all(states)
    assert np.array_equal(a, to_numpy(ag.rand(4, device="cuda:1")))
    ag.cuda.seed_all()
    s0, s1 = ag.cuda.get_rng_state_all()
    assert np.array_equal(to_numpy(s0), to_numpy(s1))


@pytest.mark.gpu
def test_fork_rng_restores_cuda_devices():
    ag.manual_seed(6)
    expected_cpu, expected_cuda = _draws("cpu"), _draws("cuda")
    ag.manual_seed(6)
    with ag.random.fork_rng(devices=range(ag.cuda.device_count())):
        _draws("cpu")
        _draws("cuda")
    assert _same(expected_cpu, _draws("cpu"))
    assert _same(expected_cuda, _draws("cuda"))
    ag.manual_seed(6)
    with ag.random.fork_rng(devices=[]):  # the CPU's alone: CUDA's stream moves on
        _draws("cuda")
    assert not _same(expected_cuda, _draws("cuda"))


# ---------------------------------------------------------------- state dicts through save/load

SCHEDULERS = {
    "StepLR": lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5),
    "MultiStepLR": lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 3, 4], gamma=0.3),
    "ExponentialLR": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9),
    "CosineAnnealingLR": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=3, eta_min=0.001),
    "LambdaLR": lambda o: lr_scheduler.LambdaLR(o, lambda e: 1.0 / (1 + e)),
    "ReduceLROnPlateau": lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5),
}
OPTIMIZERS = {
    "Adam": lambda p: optim.Adam(p, lr=0.05, amsgrad=True, weight_decay=0.01),
    "AdamW": lambda p: optim.AdamW(p, lr=0.05),
    "SGD": lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
}


def _setup(opt_name, sched_name):
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1))
    opt = OPTIMIZERS[opt_name](model.parameters())
    return model, opt, SCHEDULERS[sched_name](opt)


def _epoch(model, opt, sched, k):
    x = ag.tensor(np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3) * (k + 1))
    opt.zero_grad()
    loss = (model(x) ** 2).mean()
    loss.backward()
    opt.step()
    if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
        sched.step(1.0)  # no improvement: the rate drops every epoch (patience 0)
    else:
        sched.step()


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("sched_name", sorted(SCHEDULERS))
def test_optimizer_and_scheduler_resume_through_save_load(opt_name, sched_name, tmp_path):
    model, opt, sched = _setup(opt_name, sched_name)
    for k in range(3):
        _epoch(model, opt, sched, k)
    path = tmp_path / "ck.pt"
    ag.save({"model": model.state_dict(), "opt": opt.state_dict(),
             "sched": sched.state_dict()}, path)
    for k in range(3, 6):
        _epoch(model, opt, sched, k)
    # a new process's objects, built as at the start, then loaded
    model2, opt2, sched2 = _setup(opt_name, sched_name)
    ck = ag.load(path)
    model2.load_state_dict(ck["model"])
    opt2.load_state_dict(ck["opt"])
    sched2.load_state_dict(ck["sched"])
    for k in range(3, 6):
        _epoch(model2, opt2, sched2, k)
    for (name, a), b in zip(model.state_dict().items(), model2.state_dict().values()):
        assert to_numpy(a).tobytes() == to_numpy(b).tobytes(), name
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in opt2.param_groups]
    if hasattr(sched, "get_last_lr"):
        assert sched.get_last_lr() == sched2.get_last_lr()
    s1, s2 = opt.state_dict(), opt2.state_dict()
    assert s1["param_groups"] == s2["param_groups"]
    for i in s1["state"]:
        for key, v in s1["state"][i].items():
            w = s2["state"][i][key]
            assert to_numpy(v).tobytes() == to_numpy(w).tobytes() and v.dtype == w.dtype, key


# ---------------------------------------------------------------- killed and resumed


def _run_example(args, kill_at=None, rng=None):
    """Runs the example in lockstep (it waits for a line after each step); with kill_at,
    lets it go on from that step and SIGKILLs it a random moment later, wherever it then
    is: in the next step's forward or backward, in a save, in a print. Returns its stdout
    lines."""
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1", AUTOGRAD_GPU_DEVICE="cpu")
    proc = subprocess.Popen([sys.executable, EXAMPLE, "--lockstep"] + args, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    lines = []
    try:
        while True:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.strip())
            if line.startswith("step "):
                proc.stdin.write("go\n")
                proc.stdin.flush()
                if kill_at is not None and int(line.split()[1]) == kill_at:
                    time.sleep(rng.uniform(0.0, 0.004))
                    os.kill(proc.pid, signal.SIGKILL)
                    break
    finally:
        rc = proc.wait(timeout=120)
        err = proc.stderr.read()
        for f in (proc.stdin, proc.stdout, proc.stderr):
            try:
                f.close()
            except BrokenPipeError:
                pass
    if kill_at is None:
        assert rc == 0, err
    else:
        assert rc == -signal.SIGKILL, (rc, err)
    return lines


def _params(path):
    return {k: to_numpy(v) for k, v in ag.load(path).items()}


def _resumed_at(lines):
    return int(lines[0].split()[-1]) if lines and lines[0].startswith("resumed at step ") else 0


def test_training_killed_twice_resumes_bit_for_bit(tmp_path):
    steps, every = 30, 4  # 6 epochs of 5 batches: most checkpoints fall inside an epoch
    reference = tmp_path / "reference.pt"
    lines = _run_example(["--checkpoint", "", "--final", str(reference)])
    assert lines[-1].startswith(f"step {steps} ") and _resumed_at(lines) == 0

    rng = np.random.default_rng()
    first = int(rng.integers(1, steps - 8))
    second = int(rng.integers(first + every + 1, steps - 1))
    ck, final = tmp_path / "ck.pt", tmp_path / "final.pt"
    args = ["--checkpoint", str(ck), "--final", str(final)]
    _run_example(args, kill_at=first, rng=rng)
    lines = _run_example(args, kill_at=second, rng=rng)
    # from the last checkpoint: the one before the kill, or the next step's if its save
    # was done when the kill came
    last = first // every * every
    assert _resumed_at(lines) in (last, first + 1 if (first + 1) % every == 0 else last), (
        first, lines[0])
    lines = _run_example(args)
    assert _resumed_at(lines) >= second // every * every, (second, lines[0])
    assert lines[-1].startswith(f"step {steps} ")
    a, b = _params(reference), _params(final)
    assert a.keys() == b.keys() == {"0.weight", "0.bias", "3.weight", "3.bias"}
    for k in a:
        assert a[k].dtype == np.float32
        assert a[k].tobytes() == b[k].tobytes(), (k, first, second)


def test_a_checkpoint_holds_every_state_the_run_needs(tmp_path):
    ck = tmp_path / "ck.pt"
    _run_example(["--checkpoint", str(ck), "--epochs", "1", "--every", "3"])
    saved = ag.load(ck)
    assert set(saved) == {"model", "optimizer", "scheduler", "epoch", "batches_done", "step",
                          "epoch_rng", "rng"}
    assert (saved["epoch"], saved["batches_done"], saved["step"]) == (0, 3, 3)
    assert saved["rng"].dtype == saved["epoch_rng"].dtype == ag.uint8
    assert saved["optimizer"]["state"][0]["step"].item() == 3
    assert saved["scheduler"]["last_epoch"] == 0
