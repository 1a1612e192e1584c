"""Runs on every rank under ``mpirun -np N``: each check of autograd_gpu.distributed, DDP and
DistributedSampler, recorded by name as "ok" or the error text, written as JSON to
``<out_dir>/rank<r>.json`` for tests/test_distributed.py to assert on. Checks compare with
values computed here in exact arithmetic (integers, or float64 sums of small integers)."""
import datetime
import json
import os
import sys
import time
import traceback

import numpy as np

import autograd_gpu as torch
import autograd_gpu.distributed as dist
import autograd_gpu.nn as nn
from autograd_gpu.utils.data import DistributedSampler

results = {}


def check(name):
    def run(fn):
        try:
            fn()
            results[name] = "ok"
        except Exception:  # recorded, not raised: one failing check must not hide the others
            results[name] = traceback.format_exc()
        return fn
    return run


def expect_error(fn, kind, text):
    try:
        fn()
    except kind as e:
        assert text in str(e), f"{text!r} not in {str(e)!r}"
        return e
    raise AssertionError(f"no {kind.__name__} raised")


# ---------------------------------------------------------------- before init
@check("before_init")
def _():
    msg = ("Default process group has not been initialized, please make sure to call "
           "init_process_group.")
    assert not dist.is_initialized()
    expect_error(dist.get_rank, ValueError, msg)
    expect_error(dist.get_world_size, ValueError, msg)
    expect_error(lambda: dist.all_reduce(torch.ones(2)), ValueError, msg)
    expect_error(lambda: dist.barrier(), ValueError, msg)
    expect_error(lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2)), ValueError, msg)


dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=20))
R, N = dist.get_rank(), dist.get_world_size()
out_dir = sys.argv[1]


@check("init")
def _():
    assert dist.is_initialized() and dist.get_backend() == "mpi"
    assert N == int(os.environ["OMPI_COMM_WORLD_SIZE"]) and R == int(os.environ["OMPI_COMM_WORLD_RANK"])
    expect_error(lambda: dist.init_process_group("mpi"), ValueError, "twice")


# ---------------------------------------------------------------- collectives, exact
def vals(rank, dtype, k=5):
    return torch.tensor([(rank + 1) * (j + 1) % 7 + 1 for j in range(k)], dtype=dtype)


@check("all_reduce_every_op")
def _():
    per_rank = [np.array(vals(r, torch.int64).tolist()) for r in range(N)]
    expected = {
        dist.ReduceOp.SUM: sum(per_rank), dist.ReduceOp.PRODUCT: np.prod(per_rank, axis=0),
        dist.ReduceOp.MIN: np.min(per_rank, axis=0), dist.ReduceOp.MAX: np.max(per_rank, axis=0),
        dist.ReduceOp.BAND: np.bitwise_and.reduce(per_rank), dist.ReduceOp.BOR: np.bitwise_or.reduce(per_rank),
        dist.ReduceOp.BXOR: np.bitwise_xor.reduce(per_rank),
    }
    for dtype in (torch.int64, torch.int32, torch.float64, torch.float32, torch.float16):
        for op, want in expected.items():
            floating = dtype in (torch.float64, torch.float32, torch.float16)
            if floating and op in (dist.ReduceOp.BAND, dist.ReduceOp.BOR, dist.ReduceOp.BXOR):
                continue
            t = vals(R, dtype)
            dist.all_reduce(t, op=op)
            assert t.dtype == dtype, (t.dtype, dtype)
            assert t.tolist() == want.tolist(), (dtype, op, t.tolist(), want.tolist())
    for dtype in (torch.float64, torch.float32):
        t = vals(R, dtype)
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.tolist() == (expected[dist.ReduceOp.SUM] / N).astype(t.numpy().dtype).tolist()
    expect_error(lambda: dist.all_reduce(vals(R, torch.int64), op=dist.ReduceOp.AVG), RuntimeError,
                 "result type Float can't be cast to the desired output type Long")
    b = torch.tensor([R == 0, True, False])
    dist.all_reduce(b, op=dist.ReduceOp.MAX)
    assert b.tolist() == [True, True, False]
    # a non-contiguous view is reduced in place through its base
    base = torch.zeros(4, 3, dtype=torch.float64) + R
    dist.all_reduce(base[:, 1])
    assert base[:, 1].tolist() == [sum(range(N))] * 4 and base[:, 0].tolist() == [R] * 4


@check("async_work")
def _():
    t = torch.ones(1000, dtype=torch.float64) * (R + 1)
    w = dist.all_reduce(t, async_op=True)
    assert isinstance(w, dist.Work)
    assert w.wait() is True and w.is_completed() and w.is_success()
    assert t.tolist() == [N * (N + 1) / 2] * 1000
    assert w.result()[0] is t
    assert dist.all_reduce(t) is None


@check("broadcast_reduce")
def _():
    for src in range(N):
        t = vals(R, torch.float64)
        dist.broadcast(t, src=src)
        assert t.tolist() == vals(src, torch.float64).tolist()
    for dst in range(N):
        t = vals(R, torch.int64)
        dist.reduce(t, dst=dst, op=dist.ReduceOp.SUM)
        want = sum(np.array(vals(r, torch.int64).tolist()) for r in range(N))
        assert t.tolist() == (want.tolist() if R == dst else vals(R, torch.int64).tolist())
    t = torch.ones(2) * (R + 2)
    w = dist.broadcast(t, src=N - 1, async_op=True)
    w.wait()
    assert t.tolist() == [N + 1.0] * 2


@check("gathers_scatters")
def _():
    out = [torch.zeros(2, 3, dtype=torch.int64) for _ in range(N)]
    dist.all_gather(out, torch.full((2, 3), R, dtype=torch.int64))
    assert [o.tolist() for o in out] == [[[r] * 3] * 2 for r in range(N)]
    flat = torch.zeros(N * 2, dtype=torch.float32)
    dist.all_gather_into_tensor(flat, torch.tensor([R, -R], dtype=torch.float32))
    assert flat.tolist() == sum(([r, -r] for r in range(N)), [])
    stacked = torch.zeros(N, 2, dtype=torch.float32)
    dist.all_gather_into_tensor(stacked, torch.tensor([R, R], dtype=torch.float32))
    assert stacked.tolist() == [[r, r] for r in range(N)]
    inp = torch.arange(N * 3, dtype=torch.float64) * (R + 1)
    o = torch.zeros(3, dtype=torch.float64)
    dist.reduce_scatter_tensor(o, inp)
    s = N * (N + 1) / 2
    assert o.tolist() == [s * (3 * R + j) for j in range(3)]
    o = torch.zeros(3, dtype=torch.float64)
    dist.reduce_scatter_tensor(o, inp, op=dist.ReduceOp.MAX)
    assert o.tolist() == [N * (3 * R + j) for j in range(3)]
    o = torch.zeros(2, dtype=torch.int64)
    dist.reduce_scatter(o, [torch.tensor([R, r], dtype=torch.int64) for r in range(N)])
    assert o.tolist() == [N * (N - 1) // 2, N * R]
    for root in range(N):
        g = [torch.zeros(2) for _ in range(N)] if R == root else None
        dist.gather(torch.tensor([R, 10.0 * R]), g, dst=root)
        if R == root:
            assert [x.tolist() for x in g] == [[r, 10.0 * r] for r in range(N)]
        t = torch.zeros(2)
        dist.scatter(t, [torch.tensor([k, root]) * 1.0 for k in range(N)] if R == root else None, src=root)
        assert t.tolist() == [R, root]


@check("send_recv")
def _():
    if R == 0:
        for dst in range(1, N):
            dist.send(torch.arange(4, dtype=torch.float64) * dst, dst=dst)
        got = []
        for _ in range(1, N):
            t = torch.zeros(1, dtype=torch.int64)
            src = dist.recv(t)  # from any rank
            got.append((src, t.item()))
        assert sorted(got) == [(r, 100 + r) for r in range(1, N)]
    else:
        t = torch.zeros(4, dtype=torch.float64)
        assert dist.recv(t, src=0) == 0
        assert t.tolist() == [0.0, R, 2.0 * R, 3.0 * R]
        dist.send(torch.tensor([100 + R]), dst=0)
    # isend / irecv in a ring
    nxt, prv = (R + 1) % N, (R - 1) % N
    t = torch.zeros(3)
    rq = dist.irecv(t, src=prv, tag=7)
    sq = dist.isend(torch.ones(3) * R, dst=nxt, tag=7)
    sq.wait()
    rq.wait()
    assert t.tolist() == [prv] * 3 and rq.is_completed()
    expect_error(lambda: dist.send(torch.ones(1), dst=R), ValueError,
                 "Invalid destination rank: destination rank should not be the same as the rank "
                 "of the current process.")


@check("objects")
def _():
    objs = [{"rank": R, "t": torch.arange(3) * R, (1, 2): [1.5, None, "x"]}, (R, True)]
    if R != 1:
        objs = [None, None]
    dist.broadcast_object_list(objs, src=1)
    assert objs[0]["rank"] == 1 and objs[0]["t"].tolist() == [0, 1, 2]
    assert objs[0][(1, 2)] == [1.5, None, "x"] and objs[1] == (1, True)
    everyone = [None] * N
    dist.all_gather_object(everyone, {"r": R, "a": np.arange(R + 1), "f": float("inf")})
    assert [e["r"] for e in everyone] == list(range(N))
    assert [e["a"].tolist() for e in everyone] == [list(range(r + 1)) for r in range(N)]
    assert all(e["f"] == float("inf") for e in everyone)
    expect_error(lambda: dist.all_gather_object([None] * N, lambda: 0), TypeError, "never pickled")


@check("groups")
def _():
    g = dist.new_group([0, N - 1])
    if R in (0, N - 1):
        assert dist.get_world_size(g) == 2 and dist.get_rank(g) == (0 if R == 0 else 1)
        t = torch.tensor([R + 1.0])
        dist.all_reduce(t, group=g)
        assert t.item() == N + 1.0
        t = torch.tensor([float(R)])
        dist.broadcast(t, src=N - 1, group=g)  # src is a global rank, as PyTorch's
        assert t.item() == N - 1
        assert dist.get_process_group_ranks(g) == [0, N - 1]
    else:
        assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
    dist.barrier()


@check("errors_local")
def _():
    expect_error(lambda: dist.all_gather_into_tensor(torch.zeros(N * 2 + 1), torch.ones(2)),
                 RuntimeError, "output tensor size must be equal to world_size times input tensor size")
    expect_error(lambda: dist.all_gather([torch.zeros(2)] * (N + 1), torch.ones(2)), RuntimeError,
                 f"invalid output tensor list at index 0 (expected length {N}, got {N + 1})")
    expect_error(lambda: dist.all_gather([torch.zeros(3) for _ in range(N)], torch.ones(2)),
                 RuntimeError, "invalid tensor size at index 0 (expected (2), got (3))")
    expect_error(lambda: dist.reduce_scatter_tensor(torch.zeros(3), torch.ones(N * 3 + 1)),
                 RuntimeError, "input tensor must be the same size as output size times world size")
    expect_error(lambda: dist.broadcast(torch.ones(2), src=N), RuntimeError, "invalid root rank")
    expect_error(lambda: dist.all_reduce([1, 2]), TypeError, "Expected parameter `tensor`")
    if R != 0:
        expect_error(lambda: dist.scatter(torch.zeros(1), [torch.ones(1)] * N, src=0), ValueError,
                     "must NOT be specified on non-source ranks")
    dist.barrier()


@check("errors_mismatched_shapes")
def _():
    e = expect_error(lambda: dist.all_reduce(torch.ones(2 + R)), RuntimeError,
                     "Detected mismatch between collectives on ranks")
    assert f"TensorShape=[{2 + R}]" in str(e)
    expect_error(lambda: dist.broadcast(torch.ones(3, dtype=torch.float64 if R else torch.float32), src=0),
                 RuntimeError, "Detected mismatch")
    if R == 0:
        dist.send(torch.ones(3), dst=1)
    elif R == 1:
        expect_error(lambda: dist.recv(torch.ones(5), src=0), RuntimeError, "shapes or dtypes differ")
    t = torch.ones(1)
    dist.all_reduce(t)  # the group still works
    assert t.item() == N


@check("errors_timeout")
def _():
    # a receive nobody sends to: cancelled after the timeout
    if R == 0:
        w = dist.irecv(torch.zeros(1), src=1, tag=99)
        t0 = time.monotonic()
        expect_error(lambda: w.wait(timeout=datetime.timedelta(seconds=0.5)), RuntimeError,
                     "Timed out waiting 500ms for recv operation to complete")
        assert time.monotonic() - t0 < 5
    # a collective that only rank 0 enters, on a group of its own with a short timeout
    g = dist.new_group(list(range(N)), timeout=datetime.timedelta(seconds=0.5))
    if R == 0:
        t0 = time.monotonic()
        expect_error(lambda: dist.all_reduce(torch.ones(1), group=g), RuntimeError,
                     "Timed out waiting 500ms for")
        assert time.monotonic() - t0 < 5
    dist.barrier()


# ---------------------------------------------------------------- DDP


def make_model(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 8), nn.Tanh(),
                         nn.Linear(8, 2)).double()


def data(steps, per_rank):
    torch.manual_seed(1234)
    X = torch.randn(steps, N * per_rank, 5, dtype=torch.float64)
    Y = torch.randn(steps, N * per_rank, 2, dtype=torch.float64)
    return X, Y


def same_on_every_rank(params):
    flat = np.concatenate([p.detach().numpy().ravel() for p in params])
    everyone = [None] * N
    dist.all_gather_object(everyone, flat)
    return all(np.array_equal(e, flat) for e in everyone)


def ddp_vs_single(bucket_cap_mb, gradient_as_bucket_view, opt_name):
    steps, per = 4, 3
    X, Y = data(steps, per)
    model = make_model(seed=100 + R)  # seeded differently on every rank
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=bucket_cap_mb,
                                              gradient_as_bucket_view=gradient_as_bucket_view)
    ref = make_model(seed=100)  # rank 0's initial parameters
    for p, q in zip(model.parameters(), ref.parameters()):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy()), "not rank 0's parameters"
    make_opt = (lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)) if opt_name == "sgd" else (
        lambda ps: torch.optim.Adam(ps, lr=0.01))
    opt, ref_opt = make_opt(ddp.parameters()), make_opt(ref.parameters())
    worst = 0.0
    for s in range(steps):
        x, y = X[s, R * per:(R + 1) * per], Y[s, R * per:(R + 1) * per]
        opt.zero_grad()
        ((ddp(x) - y) ** 2).mean().backward()
        opt.step()
        ref_opt.zero_grad()
        ((ref(X[s]) - Y[s]) ** 2).mean().backward()
        ref_opt.step()
        for p, q in zip(model.parameters(), ref.parameters()):
            worst = max(worst, float(np.abs(p.detach().numpy() - q.detach().numpy()).max()))
        assert same_on_every_rank(list(model.parameters())), f"replicas differ after step {s}"
    assert worst < 1e-12, worst
    return ddp


@check("ddp_equals_single_process")
def _():
    ddp = ddp_vs_single(None, False, "sgd")
    assert len(ddp._buckets) == 1


@check("ddp_many_buckets")
def _():
    ddp = ddp_vs_single(0.0001, False, "adam")  # 104-byte buckets, in reverse order
    assert [b.indices for b in ddp._buckets] == [[5, 4], [3, 2], [1], [0]]


@check("ddp_overlaps_backward")
def _():
    # each bucket's all-reduce is posted during backward: when the last layer's bucket goes
    # out, the first layer's gradient has not been computed yet
    model = make_model(seed=3)
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.0001)
    first = model[0].weight
    posted = []
    real = dist._core._internal_all_reduce

    def logging_all_reduce(pg, tensor, *args):
        posted.append(first.grad is None)
        return real(pg, tensor, *args)

    dist._core._internal_all_reduce = logging_all_reduce
    try:
        X, Y = data(1, 3)
        ((ddp(X[0, :3]) - Y[0, :3]) ** 2).mean().backward()
    finally:
        dist._core._internal_all_reduce = real
    # buckets [5, 4], [3, 2], [1], [0]: the last two come out of the first layer's one node
    assert posted[:2] == [True, True] and len(posted) == 4, posted
    assert first.grad is not None


@check("ddp_gradient_as_bucket_view")
def _():
    ddp = ddp_vs_single(0.0001, True, "sgd")
    p = next(ddp.module.parameters())
    b, k = ddp._bucket_of[0]
    assert p.grad._data is ddp._buckets[b].views[k]


@check("ddp_no_sync")
def _():
    per = 2
    X, Y = data(2, per)  # two micro-batches per rank
    model = make_model(seed=7 + R)
    ddp = nn.parallel.DistributedDataParallel(model)
    ref = make_model(seed=7)
    before = [p.detach().numpy().copy() for p in model.parameters()]

    def loss_of(net, x, y):
        return ((net(x) - y) ** 2).mean() / 2  # two micro-batches

    with ddp.no_sync():
        loss_of(ddp, X[0, R * per:(R + 1) * per], Y[0, R * per:(R + 1) * per]).backward()
    local = [p.grad.numpy().copy() for p in model.parameters()]
    assert not same_on_every_rank([p.grad for p in model.parameters()]) or N == 1
    loss_of(ddp, X[1, R * per:(R + 1) * per], Y[1, R * per:(R + 1) * per]).backward()
    # one step on the concatenated micro-batches of every rank: the mean over all of them
    full_x = torch.cat([X[0], X[1]])
    full_y = torch.cat([Y[0], Y[1]])
    ((ref(full_x) - full_y) ** 2).mean().backward()
    for p, q in zip(model.parameters(), ref.parameters()):
        diff = np.abs(p.grad.numpy() - q.grad.numpy()).max()
        assert diff < 1e-12, (diff, p.grad.numpy().ravel()[:3], q.grad.numpy().ravel()[:3])
    assert same_on_every_rank([p.grad for p in model.parameters()])
    assert all(np.array_equal(a, p.detach().numpy()) for a, p in zip(before, model.parameters()))
    assert local  # the accumulated local gradients existed before the synchronized backward


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(3, 2)
        self.b = nn.Linear(3, 2)

    def forward(self, x, use_b=False):
        return self.a(x) + (self.b(x) if use_b else 0)


@check("ddp_unused_parameters_error")
def _():
    torch.manual_seed(0)
    ddp = nn.parallel.DistributedDataParallel(TwoHeads().double())
    ddp(torch.ones(1, 3, dtype=torch.float64)).sum().backward()
    e = expect_error(lambda: ddp(torch.ones(1, 3, dtype=torch.float64)), RuntimeError,
                     "Expected to have finished reduction in the prior iteration before starting a new one.")
    assert f"Parameter indices which did not receive grad for rank {R}: 2 3" in str(e)
    assert "find_unused_parameters=True" in str(e)


@check("ddp_find_unused_parameters")
def _():
    torch.manual_seed(0)
    ddp = nn.parallel.DistributedDataParallel(TwoHeads().double(), find_unused_parameters=True)
    x = torch.ones(2, 3, dtype=torch.float64) * (R + 1)
    for _ in range(2):
        ddp.zero_grad()
        ddp(x).sum().backward()
        assert ddp.module.b.weight.grad is None  # unused on every rank: untouched
        assert ddp.module.a.weight.grad.tolist() == [[N + 1.0] * 3] * 2  # mean of 2 (r + 1)
    ddp.zero_grad()
    ddp(x, use_b=(R == 0)).sum().backward()  # used on rank 0 only: averaged everywhere
    assert ddp.module.b.weight.grad.tolist() == [[2.0 / N] * 3] * 2


@check("ddp_buffers_and_module")
def _():
    torch.manual_seed(R)
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4)).double()
    ddp = nn.parallel.DistributedDataParallel(m)
    assert ddp.module is m
    assert list(ddp.state_dict())[0] == "module.0.weight"
    ddp(torch.randn(5, 3, dtype=torch.float64) + R).sum().backward()  # rank-dependent stats
    after_first = [m[1].running_mean.detach().numpy().copy()]
    dist.broadcast_object_list(after_first, src=0)
    assert N == 1 or R == 0 or not np.array_equal(after_first[0], m[1].running_mean.detach().numpy())
    m.eval()  # the next forward broadcasts rank 0's buffers first, and eval mode keeps them
    ddp(torch.randn(5, 3, dtype=torch.float64))
    assert np.array_equal(m[1].running_mean.detach().numpy(), after_first[0])
    m.train()
    dp = nn.DataParallel(nn.Linear(3, 1))
    assert dp(torch.ones(2, 3)).shape == (2, 1)
    expect_error(lambda: nn.parallel.DistributedDataParallel(nn.Linear(2, 2), device_ids=[0]),
                 ValueError, "device_ids and output_device arguments only work with")


@check("ddp_initial_buffers_broadcast")
def _():
    m = nn.BatchNorm1d(3).double()
    m.running_mean.fill_(float(R))
    nn.parallel.DistributedDataParallel(nn.Sequential(nn.Linear(3, 3).double(), m))
    assert m.running_mean.tolist() == [0.0] * 3


# ---------------------------------------------------------------- DistributedSampler


@check("sampler_shards")
def _():
    for n, drop_last, shuffle in [(10, False, True), (10, True, True), (12, False, False), (3, False, False)]:
        s = DistributedSampler(list(range(n)), shuffle=shuffle, seed=3, drop_last=drop_last)
        s.set_epoch(1)
        mine = list(s)
        everyone = [None] * N
        dist.all_gather_object(everyone, mine)
        assert all(len(e) == len(s) for e in everyone)
        flat = sum(everyone, [])
        if drop_last:
            assert len(set(flat)) == len(flat) == (n // N) * N  # disjoint, tail dropped
        else:
            assert set(flat) == set(range(n))  # covering
            assert len(flat) == -(-n // N) * N  # padded to equal shares
            if n % N == 0:
                assert len(set(flat)) == len(flat)  # disjoint
        if shuffle:
            s.set_epoch(2)
            assert list(s) != mine or len(mine) < 3


with open(os.path.join(out_dir, f"rank{R}.json"), "w") as f:
    json.dump({"rank": R, "world_size": N, "results": results}, f)
dist.destroy_process_group()
