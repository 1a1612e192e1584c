"""Memory: the graph has no reference cycles (dropping a loss frees every node and saved array
at once, with the cyclic garbage collector off), saved arrays go after a backward unless
retain_graph=True, and a long training loop runs in flat memory."""
import gc
import os
import tracemalloc
import weakref

import numpy as np
import pytest

import autograd_gpu as ag


@pytest.fixture
def no_gc():
    """Reference counting alone must free the graph: a cycle would survive this."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _nodes(root):
    """Every node reachable from `root` (iterative; AccumulateGrad sinks included)."""
    seen, stack, out = set(), [root], []
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(fn for fn, _ in getattr(n, "next_functions", ()))
    return out


def _saved_arrays(node):
    """The arrays a node keeps for its backward, whatever wrapper holds them."""
    out = []
    for s in getattr(node, "_saved", None) or ():
        for obj in (s if isinstance(s, tuple) else (s,)):
            if isinstance(obj, ag.Tensor):
                out.append(obj._data)
            elif isinstance(obj, np.ndarray):
                out.append(obj)
            elif isinstance(getattr(obj, "array", None), np.ndarray):
                out.append(obj.array)
            elif isinstance(getattr(obj, "tensor", None), ag.Tensor):
                out.append(obj.tensor._data)
    return out


def _graph(seed=0):
    """A loss over a graph with many op kinds; returns the loss, the leaves and weak references
    to every intermediate tensor and array the user does not hold."""
    rng = np.random.default_rng(seed)
    x = ag.tensor(rng.normal(size=(4, 5)), requires_grad=True)
    w = ag.tensor(rng.normal(size=(5, 3)), requires_grad=True)
    inter = []

    def keep(t):
        inter.append(t)
        return t

    h = keep(x @ w)
    a = keep(h.tanh())
    e = keep(a.exp())
    p, q = h.split([1, 2], dim=1)
    keep(p), keep(q)
    s = keep(ag.cat([p * q[:, :1], q.sigmoid()], dim=1))
    m = keep(s.softmax(dim=1).log() + e[..., ::-1])
    v = keep(m.reshape(3, 4).t()[1:])
    mx = keep(v.max(dim=0)[0])
    r = keep(ag.where(mx > 0, mx.relu(), mx * 0.5) ** 2)
    loss = (r.sum() + (e * a).mean() + x.norm() + v.var()).log1p()
    refs = [weakref.ref(t) for t in inter] + [weakref.ref(t._data) for t in inter]
    nodes = _nodes(loss.grad_fn)
    # a leaf's AccumulateGrad lives as long as the leaf; every other node goes with the loss
    node_refs = [weakref.ref(n) for n in nodes if n.name != "AccumulateGrad"]
    leaf_arrays = (x._data, w._data)      # the user holds the leaves
    saved = [weakref.ref(a) for n in nodes for a in _saved_arrays(n)
             if not any(a is b for b in leaf_arrays)]
    assert len(nodes) > 25 and saved
    del inter, h, a, e, p, q, s, m, v, mx, r, nodes
    return loss, (x, w), refs, node_refs, saved


def _alive(refs):
    return sum(r() is not None for r in refs)


def test_dropping_a_loss_frees_its_whole_graph(no_gc):
    loss, leaves, refs, node_refs, saved = _graph()
    assert _alive(node_refs) == len(node_refs)
    assert _alive(saved) == len(saved)
    del loss
    assert _alive(node_refs) == 0
    assert _alive(refs) == 0
    assert _alive(saved) == 0
    # the leaves survive and are usable; once dropped, their sinks go too
    x, w = leaves
    assert x.grad is None and x.requires_grad
    leaf_refs = [weakref.ref(x), weakref.ref(w), weakref.ref(x._data)]
    del x, w, leaves
    assert _alive(leaf_refs) == 0


def test_backward_frees_saved_arrays_and_dropping_the_loss_frees_the_nodes(no_gc):
    loss, (x, w), refs, node_refs, saved = _graph()
    loss.backward()
    assert x.grad is not None and w.grad is not None
    assert _alive(saved) == 0, "saved arrays survive a backward without retain_graph"
    assert _alive(refs) == 0
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
    del loss
    assert _alive(node_refs) == 0


def test_retain_graph_keeps_saved_arrays_until_the_loss_is_dropped(no_gc):
    loss, (x, w), refs, node_refs, saved = _graph()
    loss.backward(retain_graph=True)
    g1 = x.grad.clone()
    assert _alive(saved) == len(saved)
    loss.backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1.numpy(), rtol=1e-12)
    assert _alive(saved) == len(saved)
    loss.backward()                       # the last one frees
    assert _alive(saved) == 0
    del loss
    assert _alive(node_refs) == 0 and _alive(refs) == 0


def test_retained_graph_is_freed_on_drop(no_gc):
    loss, _, refs, node_refs, saved = _graph()
    loss.backward(retain_graph=True)
    del loss
    assert _alive(node_refs) == 0 and _alive(saved) == 0 and _alive(refs) == 0


def test_create_graph_results_free_everything_when_dropped(no_gc):
    loss, (x, w), refs, node_refs, saved = _graph()
    gx, gw = ag.autograd.grad(loss, (x, w), create_graph=True)
    second = [weakref.ref(n) for n in _nodes(gx.grad_fn) if n.name != "AccumulateGrad"]
    hv = (gx * gx).sum() + gw.sum()
    hv.backward()
    assert x.grad is not None
    del loss, gx, gw, hv
    assert _alive(node_refs) == 0 and _alive(saved) == 0 and _alive(refs) == 0
    assert _alive(second) == 0


def test_grad_fn_and_accumulator_do_not_keep_leaves_alive(no_gc):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    acc = weakref.ref(y.grad_fn.next_functions[0][0].next_functions[0][0])
    xr = weakref.ref(x)
    del x
    assert xr() is not None          # the graph needs the leaf until backward
    y.backward()
    del y
    assert xr() is None and acc() is None


def test_hidden_state_carried_with_detach_does_not_chain_graphs(no_gc):
    """The usual RNN-style loop: the graph of step k is freed at step k+1."""
    w = ag.tensor(np.full((3, 3), 0.1), requires_grad=True)
    h = ag.zeros(3, dtype=ag.float64)
    first = None
    for k in range(5):
        h = (w @ h + 1).tanh()
        loss = h.sum()
        if k == 0:
            first = [weakref.ref(n) for n in _nodes(loss.grad_fn) if n.name != "AccumulateGrad"]
        loss.backward()
        h = h.detach()
    del loss
    assert _alive(first) == 0


def test_retain_grad_and_hooks_do_not_create_cycles(no_gc):
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    loss = y.sum()
    node_refs = [weakref.ref(n) for n in _nodes(loss.grad_fn) if n.name != "AccumulateGrad"]
    yr = weakref.ref(y)
    loss.backward()
    assert y.grad is not None
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.exp([1.0, 2.0, 3.0]), rtol=1e-6)
    del y, loss
    assert yr() is None and _alive(node_refs) == 0


def test_retained_grad_sees_hooks_registered_after_retain_grad(torch):
    vals = []
    for lib in (ag, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp()
        y.retain_grad()
        y.register_hook(lambda g: g * 2)
        y.sum().backward()
        vals.append(y.grad.detach().numpy())
    np.testing.assert_array_equal(vals[0], vals[1])


# ------------------------------------------------------------------ a long training loop


class _one_blas_thread:
    """OpenBLAS threads spin against each other on a small, shared machine (10x slower
    here); memory does not depend on their number, so the loop runs with one."""

    def __enter__(self):
        import ctypes

        self.lib = self.prev = None
        paths = sorted({ln.split()[-1] for ln in open("/proc/self/maps") if "openblas" in ln.lower()})
        for path in paths:
            lib = ctypes.CDLL(path)
            for prefix in ("scipy_openblas", "openblas"):
                for suffix in ("64_", ""):
                    get = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
                    put = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
                    if get is not None and put is not None:
                        self.lib, self.put, self.prev = lib, put, get()
                        put(1)
                        return self
        return self

    def __exit__(self, *exc):
        if self.lib is not None:
            self.put(self.prev)
        return False


def _rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _two_layer_net(seed=0):
    """The seed's two-layer net (N=64, D_in=1000, H=100, D_out=10, sum MSE, Adam), built from
    nn.Linear/ReLU/MSELoss (a broken nn fails this test; it never falls back)."""
    from autograd_gpu import nn

    ag.manual_seed(seed)
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = ag.randn(N, D_in)
    y = ag.randn(N, D_out)
    model = nn.Sequential(nn.Linear(D_in, H), nn.ReLU(), nn.Linear(H, D_out))
    loss_fn = nn.MSELoss(reduction="sum")
    params = list(model.parameters())

    def step_loss():
        return loss_fn(model(x), y)

    from autograd_gpu import optim

    opt = optim.Adam(params, lr=1e-4)

    def step():
        loss = step_loss()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def test_training_loop_of_2000_steps_runs_in_flat_memory(no_gc):
    """2,000 Adam steps of the seed's net with the cyclic collector off. After a warm-up, RSS
    and the count of live Python allocations are sampled over the whole run, and tracemalloc
    (which slows every allocation) watches a window of 400 steps."""
    import sys

    with _one_blas_thread():
        _train(sys)


def _train(sys):
    step = _two_layer_net()
    for _ in range(100):                  # warm-up: optimizer state, caches
        first = step()
    rss, blocks, traced = [], [], []
    for i in range(1900):
        if i == 1000:
            tracemalloc.start()
        last = step()
        if i % 100 == 99:
            rss.append(_rss())
            blocks.append(sys.getallocatedblocks())
        if 1000 <= i < 1400 and i % 100 == 99:
            traced.append(tracemalloc.get_traced_memory()[0])
        if i == 1400:
            tracemalloc.stop()
    assert last < first / 10              # it trains
    # one leaked node per step would add ~100 KB to the traced window and ~1,800 blocks;
    # one leaked activation (64x100 float32) ~25 KB a step, 45 MB of RSS
    assert max(traced) - min(traced) < 32 * 1024, f"traced memory: {traced}"
    assert max(blocks) - min(blocks) < 600, f"Python allocations: {blocks}"
    assert max(rss) - min(rss) < 4 * 2**20, f"RSS: {rss}"


@pytest.mark.gpu
def test_training_loop_on_cuda_keeps_the_memory_pool_flat():
    """On a GPU: CuPy's pool in use stays flat over 500 Adam steps after warm-up."""
    import cupy

    from autograd_gpu import nn, optim

    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(1000, 100), nn.ReLU(), nn.Linear(100, 10)).to("cuda")
    opt = optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.MSELoss(reduction="sum")
    x = ag.randn(64, 1000, device="cuda")
    y = ag.randn(64, 10, device="cuda")
    pool = cupy.get_default_memory_pool()
    used = []
    for i in range(600):
        loss = loss_fn(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 100 and i % 100 == 0:
            cupy.cuda.Device().synchronize()
            used.append(pool.used_bytes())
    del loss
    assert max(used) - min(used) <= 64 * 1024, f"CuPy pool in use: {used}"


# ---------------------------------------------------------------- the host pool

import contextvars  # noqa: E402
import threading  # noqa: E402

from autograd_gpu import backend  # noqa: E402
from autograd_gpu.backend import _host_memory  # noqa: E402

_BIG = 300_000  # float32 elements: 1.2 MB, above the pool's 1 MiB threshold
_BIG_BLOCK = _host_memory.size_class(_BIG * 4)  # the bytes of the block that serves it


def _addr(a):
    return a.__array_interface__["data"][0]


@pytest.fixture
def pool():
    """The pool emptied, at the default limit (restored afterwards); returns a function that
    gives its stats, hits and misses counted from the start of the test."""
    old = backend.host_pool_stats()["limit_bytes"]
    backend.set_host_pool_limit(1 << 30)
    backend.empty_host_cache()
    start = backend.host_pool_stats()

    def stats():
        s = backend.host_pool_stats()
        s["hits"] -= start["hits"]
        s["misses"] -= start["misses"]
        s["in_use"] = s["pooled_bytes"] - s["free_bytes"] - (start["pooled_bytes"] - start["free_bytes"])
        return s

    try:
        yield stats
    finally:
        backend.set_host_pool_limit(old)


def test_the_pool_is_numpys_allocator():
    from numpy._core.multiarray import get_handler_name

    assert get_handler_name() == "autograd_gpu host pool"
    assert _host_memory.owns(np.empty(_BIG, np.float32))  # (any NumPy array of the thread)
    assert not _host_memory.owns(np.empty(1000, np.float32))


def test_size_classes_are_eight_per_power_of_two():
    assert _host_memory.size_class(_host_memory.MIN_BYTES - 1) == 0  # NumPy's allocator
    sizes = [1 << 20, (1 << 20) + 1, 3 << 19, 5_000_000, 40_000_000, (1 << 33) + 7]
    for n in sizes:
        c = _host_memory.size_class(n)
        assert n <= c <= n * 1.125 + (1 << 17), n  # at most an eighth more
        e = c.bit_length() - 1  # c is 2**e * (1 + j/8)
        assert c % (1 << (e - 3)) == 0, n
        assert _host_memory.size_class(c) == c and _host_memory.size_class(c + 1) > c
    assert _host_memory.size_class(1 << 46) == 0  # (too large: NumPy's allocator)


def test_a_large_result_reuses_the_memory_of_one_nobody_holds(pool):
    x = ag.randn(_BIG)
    y = ag.exp(x)
    first = _addr(y._data)
    del y
    z = ag.tanh(x)
    assert _addr(z._data) == first
    assert pool()["hits"] == 1 and pool()["misses"] == 2  # (x, y: new; z: y's block)


def test_small_results_are_left_to_numpys_allocator(pool):
    x = ag.randn(1000)
    ag.exp(x)
    (x * x + 1).sum()
    assert pool()["pooled_bytes"] == 0 and pool()["misses"] == 0


def test_an_array_still_held_is_never_handed_out_again(pool):
    """Held as a Tensor, as a NumPy array, or only through a view of it: its values stay."""
    x = ag.randn(_BIG)
    a = ag.exp(x)
    b = ag.tanh(x).numpy()
    c = ag.sin(x).numpy()[::7]
    kept = [a.numpy().copy(), b.copy(), c.copy()]
    del x
    for _ in range(5):
        y = ag.randn(_BIG)
        ag.cos(y) * ag.sigmoid(y) + y * y
    np.testing.assert_array_equal(a.numpy(), kept[0])
    np.testing.assert_array_equal(b, kept[1])
    np.testing.assert_array_equal(c, kept[2])
    assert pool()["hits"] > 0
    assert not np.shares_memory(ag.exp(ag.randn(_BIG)).numpy(), b)


def test_pooled_arrays_give_the_same_gradients_bit_for_bit(pool):
    x0 = np.random.default_rng(0).standard_normal(_BIG).astype(np.float32)

    def grad():
        x = ag.tensor(x0, requires_grad=True)
        (ag.tanh(x) * ag.sigmoid(x) + x**2 - ag.exp(x) / 3).sum().backward()
        return x.grad.numpy()

    pooled = [grad() for _ in range(3)]
    assert pool()["hits"] > 0
    backend.set_host_pool_limit(0)
    plain = grad()
    assert not _host_memory.owns(plain)
    for g in pooled:
        np.testing.assert_array_equal(g, plain)


def test_a_leaf_adopts_a_pooled_gradient_without_a_copy(pool):
    x = ag.randn(_BIG, requires_grad=True)
    (x * 3.0).sum().backward()
    first = x.grad._data
    assert _host_memory.owns(first)
    (x * 3.0).sum().backward()  # summed into the existing .grad in place
    assert x.grad._data is first
    np.testing.assert_array_equal(x.grad.numpy(), np.full(_BIG, 6.0, np.float32))


def test_zeros_from_a_reused_block_are_zeros(pool):
    a = np.full(_BIG, 7.0, np.float32)
    where = _addr(a)
    del a
    z = np.zeros(_BIG, np.float32)  # (calloc: the block comes back dirty)
    assert _addr(z) == where and pool()["hits"] == 1
    assert not z.any()


def test_resizing_keeps_the_values(pool):
    """ndarray.resize reallocates: within a block, into a larger one, from NumPy's own."""
    a = np.arange(_BIG, dtype=np.float32)
    a.resize(_BIG + 10, refcheck=False)  # fits in a's block (its class has room)
    assert _host_memory.owns(a)
    np.testing.assert_array_equal(a[:_BIG], np.arange(_BIG, dtype=np.float32))
    assert not a[_BIG:].any()
    a.resize(3 * _BIG, refcheck=False)  # a larger block
    np.testing.assert_array_equal(a[:_BIG], np.arange(_BIG, dtype=np.float32))
    assert not a[_BIG:].any() and _host_memory.owns(a)
    a.resize(10, refcheck=False)
    np.testing.assert_array_equal(a, np.arange(10, dtype=np.float32))
    s = np.arange(100, dtype=np.float32)
    s.resize(_BIG, refcheck=False)  # NumPy's block stays NumPy's
    np.testing.assert_array_equal(s[:100], np.arange(100, dtype=np.float32))
    assert not s[100:].any() and not _host_memory.owns(s)


def test_many_blocks_freed_in_any_order_are_all_reused(pool):
    """Hundreds of blocks (the table of blocks in use grows and shrinks), freed shuffled."""
    rng = np.random.default_rng(0)
    held = [np.full(_BIG + 1000 * (k % 3), k, np.float32) for k in range(300)]  # (one class)
    assert all(_host_memory.owns(a) for a in held)
    addrs = {_addr(a) for a in held}
    for k in rng.permutation(300):
        held[k] = None
    assert pool()["in_use"] == 0 and pool()["free_bytes"] == 300 * _BIG_BLOCK
    again = [np.empty(_BIG + 1000 * (k % 3), np.float32) for k in range(300)]
    assert {_addr(a) for a in again} == addrs and pool()["hits"] == 300
    del again
    assert pool()["in_use"] == 0


def test_the_pool_keeps_no_more_than_its_limit(pool):
    backend.set_host_pool_limit(4 * _BIG_BLOCK)
    x = ag.randn(_BIG)  # one block in use
    held = [ag.exp(x) for _ in range(5)]  # three more fit
    assert sum(_host_memory.owns(h._data) for h in held) == 3
    assert pool()["pooled_bytes"] == 4 * _BIG_BLOCK
    del held
    assert pool()["free_bytes"] == 3 * _BIG_BLOCK
    y = ag.randn(2 * _BIG)  # another size: free blocks of the first make room
    assert _host_memory.owns(y._data) and pool()["pooled_bytes"] <= 4 * _BIG_BLOCK
    backend.empty_host_cache()
    assert pool()["free_bytes"] == 0 and pool()["in_use"] == pool()["pooled_bytes"]


def test_lowering_the_limit_releases_free_blocks_and_blocks_in_use_when_freed(pool):
    a, b = np.empty(_BIG, np.float32), np.empty(_BIG, np.float32)
    del b
    assert pool()["free_bytes"] == _BIG_BLOCK
    backend.set_host_pool_limit(0)
    assert pool()["free_bytes"] == 0 and pool()["pooled_bytes"] == _BIG_BLOCK  # a, in use
    del a
    assert pool()["pooled_bytes"] == 0 and pool()["blocks"] == 0


def test_a_pool_limit_of_zero_turns_the_pool_off(pool):
    backend.set_host_pool_limit(0)
    ag.exp(ag.randn(_BIG))
    assert pool()["pooled_bytes"] == 0 and pool()["misses"] == 0
    with pytest.raises(ValueError, match="pool limit must be >= 0"):
        backend.set_host_pool_limit(-1)


@pytest.mark.parametrize("value,limit", [("0", 0), ("64", 64 << 20), ("0.5", 1 << 19)])
def test_the_pool_limit_comes_from_the_environment(monkeypatch, value, limit):
    monkeypatch.setenv("AUTOGRAD_GPU_CPU_POOL_MB", value)
    assert backend.host_pool._pool_limit_from_env() == limit


def test_a_bad_pool_limit_in_the_environment_says_what_it_wants(monkeypatch):
    monkeypatch.setenv("AUTOGRAD_GPU_CPU_POOL_MB", "lots")
    with pytest.raises(ValueError, match="AUTOGRAD_GPU_CPU_POOL_MB must be a number of megabytes"):
        backend.host_pool._pool_limit_from_env()


def test_every_dtype_is_pooled(pool):
    i = ag.zeros(_BIG, dtype=ag.int64)
    assert (i + i).dtype == ag.int64 and _host_memory.owns((i + i)._data)
    assert _host_memory.owns(np.ones(4 * _BIG, np.bool_))


def test_threads_sharing_the_pool_get_their_own_arrays(pool):
    """Threads started in a copy of the importing thread's context use the pool too; NumPy
    releases the GIL inside ufunc loops, so two threads computing at once must never be
    handed the same block. A thread started plainly uses NumPy's own allocator."""
    from numpy._core.multiarray import get_handler_name

    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal(_BIG).astype(np.float32) for _ in range(4)]
    expected = [np.tanh(v) * 2 + np.exp(v * 0.1) for v in inputs]
    errors, names = [], []

    def work(k):
        names.append(get_handler_name())
        x = ag.tensor(inputs[k])
        for _ in range(20):
            got = (ag.tanh(x) * 2 + ag.exp(x * 0.1)).numpy()
            if not np.allclose(got, expected[k], rtol=1e-6):
                errors.append(k)

    threads = [threading.Thread(target=contextvars.copy_context().run, args=(work, k))
               for k in range(4)]
    threads.append(threading.Thread(target=work, args=(0,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and pool()["hits"] > 0
    assert sorted(names) == ["autograd_gpu host pool"] * 4 + ["default_allocator"]


def _thp_eligible(addr):
    """The THPeligible flag of the mapping holding `addr` (None where smaps does not say)."""
    with open("/proc/self/smaps") as f:
        inside = False
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(v, 16) for v in head.split("-"))
                inside = lo <= addr < hi
            elif inside and head == "THPeligible:":
                return line.split()[1] == "1"
    return None


@pytest.mark.skipif(not os.path.exists("/sys/kernel/mm/transparent_hugepage/enabled"),
                    reason="no transparent huge pages here")
def test_large_blocks_are_offered_for_huge_pages_as_numpy_offers_its_own(pool):
    with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
        mode = f.read().split("[")[1].split("]")[0]
    if mode != "madvise":
        pytest.skip(f"transparent huge pages are '{mode}': madvise decides nothing")
    try:
        _host_memory.set_hugepages(True)
        on = np.empty(64 << 18, np.float32)  # 64 MiB: a new block (the pool was emptied)
        _host_memory.set_hugepages(False)
        off = np.empty(65 << 18, np.float32)  # another class: another new block
        assert _host_memory.owns(on) and _host_memory.owns(off)
        if _thp_eligible(_addr(on)) is None:
            pytest.skip("this kernel's smaps has no THPeligible field")
        assert _thp_eligible(_addr(on) + (8 << 20)) and not _thp_eligible(_addr(off) + (8 << 20))
    finally:
        _host_memory.set_hugepages(backend.host_pool._numpy_hugepages())
