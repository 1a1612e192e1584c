"""Faults and the state they leave: out of memory inside an op (host and device; the retry
after freeing the pools, then OutOfMemoryError), exceptions inside backward (a hook that
raises, anomaly mode) and inside optimizer.step."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import backend, optim
from autograd_gpu.autograd import detect_anomaly
from autograd_gpu.autograd.node import Node
from conftest import CUPY_STANDIN, to_numpy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _fail_allocation():
    np.empty(1 << 50, np.uint8)  # NumPy's own MemoryError (a petabyte), as a real one


class Flaky(Node):
    """x * 3 whose forward / backward run out of memory the first `fails` times."""

    forward_fails = backward_fails = 0
    forward_calls = backward_calls = 0

    def forward(self, x):
        Flaky.forward_calls += 1
        if Flaky.forward_calls <= Flaky.forward_fails:
            _fail_allocation()
        return x * 3.0

    def backward(self, g):
        Flaky.backward_calls += 1
        if Flaky.backward_calls <= Flaky.backward_fails:
            _fail_allocation()
        return g * 3.0


@pytest.fixture
def flaky():
    def arm(forward=0, backward=0):
        Flaky.forward_fails, Flaky.backward_fails = forward, backward
        Flaky.forward_calls = Flaky.backward_calls = 0
        return Flaky

    yield arm
    arm()


def _fill_host_pool():
    """Leaves a free 2 MiB array in the host pool (an op's result nobody holds)."""
    t = ag.ones(1 << 19) * 2.0
    del t
    assert backend.host_pool_stats()["free_bytes"] >= 1 << 21


# ---------------------------------------------------------------- out of memory


def test_the_error_class_is_pytorchs():
    assert ag.OutOfMemoryError is ag.cuda.OutOfMemoryError is backend.OutOfMemoryError
    assert issubclass(ag.OutOfMemoryError, RuntimeError)
    assert issubclass(ag.OutOfMemoryError, MemoryError)  # (old `except MemoryError` still works)


def test_forward_retried_once_after_freeing_the_host_pool(flaky):
    f = flaky(forward=1)
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    _fill_host_pool()
    y = f.apply(x)
    assert f.forward_calls == 2
    assert backend.host_pool_stats()["free_bytes"] == 0  # released before the retry
    assert to_numpy(y).tolist() == [3.0, 6.0] and type(y.grad_fn) is Flaky
    y.sum().backward()
    assert to_numpy(x.grad).tolist() == [3.0, 3.0]


def test_forward_out_of_memory_twice_names_the_op_and_leaves_the_inputs(flaky):
    f = flaky(forward=2)
    x = ag.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    x.grad = ag.tensor([[5.0, 5.0, 5.0]])
    version = x._version[0]
    with pytest.raises(ag.OutOfMemoryError) as info:
        f.apply(x)
    e = info.value
    assert f.forward_calls == 2  # one retry, no more
    assert (e.op, e.phase, e.device, e.requested_bytes) == ("Flaky", "forward", ag.device("cpu"),
                                                             1 << 50)
    msg = str(e)
    assert msg.startswith("CPU out of memory in Flaky (forward on cpu): tried to allocate "
                          "1024.00 TiB (1125899906842624 bytes); inputs: float32 (1, 3).")
    assert "the host pool holds" in msg and "tried once more" in msg
    assert isinstance(e.__cause__, MemoryError) and not isinstance(e.__cause__, ag.OutOfMemoryError)
    assert to_numpy(x).tolist() == [[1.0, 2.0, 3.0]] and x._version[0] == version
    assert to_numpy(x.grad).tolist() == [[5.0, 5.0, 5.0]]


def test_backward_retried_once(flaky):
    f = flaky(backward=1)
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([0.5, 4.0], requires_grad=True)
    (f.apply(x) * w).sum().backward()
    assert f.backward_calls == 2
    assert to_numpy(x.grad).tolist() == [1.5, 12.0] and to_numpy(w.grad).tolist() == [3.0, 6.0]


def test_backward_out_of_memory_writes_no_grad(flaky):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([0.5, 4.0], requires_grad=True)
    (Flaky.apply(x) * w).sum().backward()
    before = to_numpy(x.grad).copy(), to_numpy(w.grad).copy()
    f = flaky(backward=2)
    y = (f.apply(x) * w).sum()
    with pytest.raises(ag.OutOfMemoryError) as info:
        y.backward()
    e = info.value
    assert (e.op, e.phase) == ("FlakyBackward0", "backward") and f.backward_calls == 2
    assert str(e).startswith("CPU out of memory in FlakyBackward0 (backward on cpu): tried to "
                             "allocate 1024.00 TiB (1125899906842624 bytes); gradients: float32 (2,).")
    # w's gradient had been computed (MulBackward0 ran first), but no .grad is written
    # before the whole pass is done
    assert np.array_equal(to_numpy(x.grad), before[0]) and np.array_equal(to_numpy(w.grad), before[1])
    assert ag.is_grad_enabled()
    # MulBackward0 ran and freed what it saved: the graph cannot be run again
    flaky()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_out_of_memory_with_retain_graph_can_run_again(flaky):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([0.5, 4.0], requires_grad=True)
    f = flaky(backward=2)
    y = (f.apply(x) * w).sum()
    with pytest.raises(ag.OutOfMemoryError):
        y.backward(retain_graph=True)
    assert x.grad is None and w.grad is None
    flaky()
    y.backward()
    assert to_numpy(x.grad).tolist() == [1.5, 12.0] and to_numpy(w.grad).tolist() == [3.0, 6.0]


def test_out_of_memory_under_create_graph(flaky):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    f = flaky(backward=1)
    (g,) = ag.autograd.grad((f.apply(x) ** 2).sum(), x, create_graph=True)
    assert to_numpy(g).tolist() == [18.0, 36.0] and g.requires_grad and f.backward_calls == 2
    f = flaky(backward=2)
    with pytest.raises(ag.OutOfMemoryError):
        ag.autograd.grad((f.apply(x) ** 2).sum(), x, create_graph=True)
    assert ag.is_grad_enabled() and x.grad is None


_HOST_SCRIPT = textwrap.dedent("""
    import json, resource
    import autograd_gpu as ag
    from autograd_gpu import backend
    from autograd_gpu.backend import _host_memory

    ag.set_num_threads(1)

    def address_space():
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024

    n = 10_000_000  # 40 MB of float32
    x, x2 = ag.ones(n), ag.ones(2 * n)
    resource.setrlimit(resource.RLIMIT_AS, (address_space() + (200 << 20), resource.RLIM_INFINITY))
    # fill what is left of the address space with free results, each of its own size class
    # (none reuses another's block): 40 MB, 36 MB, ...
    sizes = iter([n * j // 10 for j in range(10, 0, -1)])
    m = next(sizes)
    while resource.getrlimit(resource.RLIMIT_AS)[0] - address_space() > 4 * m + (4 << 20):
        t = x[:m] * 2.0
        del t
        m = next(sizes)
    held = backend.host_pool_stats()["free_bytes"]
    y = x2 * 3.0  # needs a new 80 MB: fails, the pool is emptied, the retry succeeds
    after = backend.host_pool_stats()
    out = {"held": held, "pooled_after": after["pooled_bytes"], "free_after": after["free_bytes"],
           "blocks": [_host_memory.size_class(b) for b in (4 * n, 8 * n, 8 * n)],
           "y": float(y[0].item()), "y_last": float(y[-1].item())}
    del y
    try:
        x.reshape(n, 1) * x[:1000].reshape(1, 1000)  # 40 GB: fails twice
    except ag.OutOfMemoryError as e:
        out.update(op=e.op, phase=e.phase, asked=e.requested_bytes, msg=str(e),
                   cause=getattr(e.__cause__, "_total_size", None), x=float(x.sum().item()))
    print(json.dumps(out))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and RLIMIT_AS")
def test_host_out_of_memory_for_real():
    """A process whose address space is capped: the pool's free blocks are what is left of
    the memory; an op that needs new memory fails, the pool is emptied, the op's retry
    succeeds; an op too big for any retry raises OutOfMemoryError."""
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               AUTOGRAD_GPU_DEVICE="cpu")
    r = subprocess.run([sys.executable, "-c", _HOST_SCRIPT], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["held"] >= 120 << 20  # the pool held three or more free results...
    assert out["free_after"] == 0  # ...released for y; what it holds is in use: x, x2 and y
    assert out["pooled_after"] == sum(out["blocks"])
    assert out["y"] == out["y_last"] == 3.0
    assert (out["op"], out["phase"], out["asked"]) == ("Mul", "forward", 40_000_000_000)
    assert out["msg"].startswith("CPU out of memory in Mul (forward on cpu): tried to allocate "
                                 "37.25 GiB (40000000000 bytes); inputs: float32 (10000000, 1), "
                                 "float32 (1, 1000).")
    assert out["cause"] == 40_000_000_000 and out["x"] == 10_000_000.0  # NumPy's error, x intact


standin = pytest.mark.skipif(not CUPY_STANDIN, reason="the CuPy stand-in's pool can be made "
                             "to refuse; a real GPU's cannot")


@pytest.fixture
def refusing_pool(monkeypatch):
    import cupy

    pool = cupy.get_default_memory_pool()
    freed = []
    real = pool.free_all_blocks
    monkeypatch.setattr(pool, "free_all_blocks",
                        lambda stream=None: (freed.append(cupy.cuda.Device().id), real())[1])

    def refuse(on=True):
        cupy._core.memory_pool.refuse = on

    yield refuse, freed
    refuse(False)


@standin
def test_device_out_of_memory_in_forward(refusing_pool):
    refuse, freed = refusing_pool
    x = ag.tensor([[0.0, 1.0], [2.0, 3.0]], device="cuda", requires_grad=True)
    refuse()
    with pytest.raises(ag.cuda.OutOfMemoryError) as info:
        ag.sigmoid(x)
    e = info.value
    assert freed == list(range(ag.cuda.device_count()))  # every device's free blocks
    assert (e.op, e.phase, e.device) == ("Sigmoid", "forward", ag.device("cuda:0"))
    assert str(e).startswith("CUDA out of memory in Sigmoid (forward on cuda:0): tried to "
                             "allocate 16 B (16 bytes); inputs: float32 (2, 2).")
    assert "the device pool on cuda:0 holds" in str(e)
    assert type(e.__cause__).__name__ == "OutOfMemoryError"  # CuPy's, kept as the cause
    refuse(False)
    assert to_numpy(x).tolist() == [[0.0, 1.0], [2.0, 3.0]] and x.grad is None


@standin
def test_device_out_of_memory_in_backward_keeps_grads(refusing_pool):
    refuse, freed = refusing_pool
    x = ag.tensor([-1.0, 2.0, 3.0], device="cuda", requires_grad=True)
    x.grad = ag.tensor([1.0, 1.0, 1.0], device="cuda")
    y = ag.relu(x)
    g = ag.ones(3, device="cuda")
    refuse()
    with pytest.raises(ag.OutOfMemoryError) as info:
        y.backward(g)
    assert (info.value.op, info.value.phase) == ("ReluBackward0", "backward") and freed
    with pytest.raises(ag.OutOfMemoryError) as info:
        x.sum().backward()  # the seed gradient itself cannot be made
    assert info.value.phase == "backward"
    refuse(False)
    assert to_numpy(x.grad).tolist() == [1.0, 1.0, 1.0]
    y.backward(g)  # ReluBackward0 was the first node: nothing had been freed
    assert to_numpy(x.grad).tolist() == [1.0, 2.0, 2.0]


class OnDevice(Node):
    """x * 2 that records the current CUDA device of each call and fails the first time."""

    seen = []

    def forward(self, x):
        import cupy

        OnDevice.seen.append(cupy.cuda.Device().id)
        if len(OnDevice.seen) == 1:
            raise MemoryError("Out of memory allocating 1,024 bytes")
        return x * 2.0

    def backward(self, g):
        import cupy

        OnDevice.seen.append(cupy.cuda.Device().id)
        if len(OnDevice.seen) == 3:
            raise MemoryError("Out of memory allocating 2,048 bytes")
        return g * 2.0


@standin
def test_device_retries_run_on_the_ops_device():
    if ag.cuda.device_count() < 2:
        pytest.skip("needs two devices")
    OnDevice.seen = []
    x = ag.ones(3, device="cuda:1", requires_grad=True)
    OnDevice.apply(x).sum().backward()
    assert OnDevice.seen == [1, 1, 1, 1]  # forward, its retry, backward, its retry
    assert to_numpy(x.grad).tolist() == [2.0, 2.0, 2.0]


# ---------------------------------------------------------------- exceptions inside backward


class Boom(Exception):
    pass


def _raise(_):
    raise Boom("hook")


def _graph():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    c = ag.tensor([5.0, 6.0], requires_grad=True)
    h = a * b
    return a, b, c, h, (h * c).sum() + c.sum()


def test_a_hook_that_raises_mid_graph_writes_no_grad():
    a, b, c, h, loss = _graph()
    c.grad = ag.tensor([10.0, 10.0])
    handle = h.register_hook(_raise)
    with pytest.raises(Boom):
        loss.backward()
    # c's gradient was complete before the hook ran, but .grad is written only after the
    # whole pass: nothing changed
    assert a.grad is None and b.grad is None and to_numpy(c.grad).tolist() == [10.0, 10.0]
    handle.remove()
    # the nodes that ran before the hook (the product with c) freed what they saved
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


def test_a_hook_that_raises_with_retain_graph_leaves_a_graph_that_runs_again():
    a, b, c, h, loss = _graph()
    handle = h.register_hook(_raise)
    with pytest.raises(Boom):
        loss.backward(retain_graph=True)
    handle.remove()
    loss.backward()
    assert to_numpy(a.grad).tolist() == [15.0, 24.0] and to_numpy(c.grad).tolist() == [4.0, 9.0]


def test_a_leaf_hook_that_raises_stops_the_writes_there():
    a, b, c, h, loss = _graph()
    # leaves' .grad are written at the end of the pass, in the order their gradients first
    # arrived: c (from c.sum(), the newest op), then a and b (from the product); a's hook
    # raising leaves c written and a, b not
    a.register_hook(_raise)
    with pytest.raises(Boom):
        loss.backward()
    assert to_numpy(c.grad).tolist() == [4.0, 9.0]
    assert a.grad is None and b.grad is None


def test_grad_mode_is_restored_after_an_error_under_create_graph():
    a, b, c, h, loss = _graph()
    h.register_hook(_raise)
    with ag.no_grad():
        pass
    with pytest.raises(Boom):
        ag.autograd.grad(loss, [a], create_graph=True)
    assert ag.is_grad_enabled()
    with ag.no_grad():
        with pytest.raises(Boom):
            loss.backward(create_graph=True)
        assert not ag.is_grad_enabled()


class NanGrad(Node):
    def forward(self, x):
        return x * 1.0

    def backward(self, g):
        return g * float("nan")


def test_anomaly_mode_error_writes_no_grad_and_frees_what_ran():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    with detect_anomaly():
        loss = (NanGrad.apply(x) * w).sum()
        with pytest.raises(RuntimeError, match="Function 'NanGradBackward0' returned nan values "
                                               "in its 0th output"):
            loss.backward()
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


# ---------------------------------------------------------------- exceptions inside optimizer.step


def _params():
    ps = [ag.tensor([1.0, 2.0], requires_grad=True) for _ in range(3)]
    for k, p in enumerate(ps):
        p.grad = ag.tensor([0.5, -0.5]) * (k + 1)
    return ps


def test_a_closure_that_raises_updates_nothing():
    ps = _params()
    opt = optim.Adam(ps, lr=0.1)

    def closure():
        raise Boom("closure")

    with pytest.raises(Boom):
        opt.step(closure)
    assert all(to_numpy(p).tolist() == [1.0, 2.0] for p in ps) and len(opt.state) == 0


def test_an_update_that_raises_leaves_the_parameters_before_it_updated(monkeypatch):
    from autograd_gpu.optim import _functional

    ps = _params()
    opt = optim.Adam(ps, lr=0.1)
    real, calls = _functional.adam_update, []

    def fails_second(*args, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise Boom("update")
        return real(*args, **kw)

    monkeypatch.setattr(_functional, "adam_update", fails_second)
    versions = [p._version[0] for p in ps]
    with pytest.raises(Boom):
        opt.step()
    # the first parameter was updated (Adam's first step moves each element by lr)...
    assert np.allclose(to_numpy(ps[0]), [0.9, 2.1]) and opt.state[ps[0]]["step"].item() == 1
    assert ps[0]._version[0] == versions[0] + 1
    # ...the failing one not, though its step count was advanced (as in PyTorch's loop,
    # which counts the step before the update)...
    assert to_numpy(ps[1]).tolist() == [1.0, 2.0] and opt.state[ps[1]]["step"].item() == 1
    assert ps[1]._version[0] == versions[1]
    # ...and the ones after it were not reached: no state
    assert to_numpy(ps[2]).tolist() == [1.0, 2.0] and ps[2] not in opt.state
    assert all(p.grad is not None for p in ps)  # gradients stay for a retry
