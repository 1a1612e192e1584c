"""autograd_gpu.distributed, nn.parallel and DistributedSampler.

The multi-process checks run for real: `mpirun -np 2` and `-np 3` start
tests/distributed_workers/suite.py once each (the checks are named in it); every rank writes
what each check gave, and each test here asserts one check on every rank. The launcher is run
with both of its modes. In-process tests cover what one process can show (the object
encoding, the sampler against PyTorch's, the post-accumulate-grad hook DDP is built on, the
TCP store). They skip, saying why, only where MPI is not installed (`.ci/run` and
`make test` install it)."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import autograd_gpu as ag
import autograd_gpu.distributed as dist
from autograd_gpu.utils.data import DistributedSampler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORKERS = os.path.join(ROOT, "tests", "distributed_workers")
CHECKS = [
    "before_init", "init", "all_reduce_every_op", "async_work", "broadcast_reduce",
    "gathers_scatters", "send_recv", "objects", "groups", "errors_local",
    "errors_mismatched_shapes", "errors_timeout", "ddp_equals_single_process",
    "ddp_many_buckets", "ddp_overlaps_backward", "ddp_gradient_as_bucket_view", "ddp_no_sync",
    "ddp_unused_parameters_error", "ddp_find_unused_parameters", "ddp_buffers_and_module",
    "ddp_initial_buffers_broadcast", "sampler_shards",
]


def _mpi_missing():
    if shutil.which("mpirun") is None:
        return "mpirun is not on PATH (apt-get install openmpi-bin libopenmpi-dev; .ci/run does it)"
    try:
        import mpi4py  # noqa: F401
    except ImportError as e:
        return f"mpi4py is not importable ({e}); pip install mpi4py (make test does it where mpicc exists)"
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def mpi_env():
    env = dict(os.environ)
    # OpenMPI refuses root without these; oversubscribed ranks yield instead of spinning
    env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_mpi_yield_when_idle="1",
               PYTHONPATH=ROOT + os.pathsep + env.get("PYTHONPATH", ""))
    env.pop("AUTOGRAD_GPU_DIST_CHECK", None)
    return env


def mpirun(n, args, timeout):
    return subprocess.run(["mpirun", "-np", str(n), sys.executable] + args, env=mpi_env(),
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT)


_suite_runs = {}


def suite_results(n, tmp_path_factory):
    if n not in _suite_runs:
        out = tmp_path_factory.mktemp(f"ranks{n}")
        proc = mpirun(n, [os.path.join(WORKERS, "suite.py"), str(out)], timeout=150)
        ranks = []
        for r in range(n):
            path = out / f"rank{r}.json"
            ranks.append(json.loads(path.read_text()) if path.exists() else None)
        _suite_runs[n] = (proc, ranks)
    return _suite_runs[n]


@needs_mpi
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("check", CHECKS)
def test_ranks(check, n, tmp_path_factory):
    proc, ranks = suite_results(n, tmp_path_factory)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for r, got in enumerate(ranks):
        assert got is not None, f"rank {r} wrote no results:\n{proc.stderr[-3000:]}"
        assert got["world_size"] == n
        assert got["results"].get(check) == "ok", f"rank {r} of {n}: {got['results'].get(check)}"


def test_check_list_is_the_suites(tmp_path):
    """Every check the suite runs is asserted here (a new check cannot go unasserted)."""
    src = open(os.path.join(WORKERS, "suite.py")).read()
    import re

    assert re.findall(r'@check\("(\w+)"\)', src) == CHECKS


# ---------------------------------------------------------------- the launcher


LAUNCHED = r"""
import os, sys, json
import autograd_gpu as torch, autograd_gpu.distributed as dist
env = {k: os.environ.get(k) for k in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")}
if sys.argv[2] == "mpi":
    dist.init_process_group("mpi")
    t = torch.ones(2) * (dist.get_rank() + 1)
    dist.all_reduce(t)
    env["sum"] = t.tolist()
    env["rank"] = dist.get_rank()
    dist.destroy_process_group()
with open(os.path.join(sys.argv[1], "r%s.json" % env["RANK"]), "w") as f:
    json.dump(env, f)
"""


@needs_mpi
@pytest.mark.parametrize("mode", ["mpirun", "spawn"])
def test_launcher(mode, tmp_path):
    script = tmp_path / "prog.py"
    script.write_text(LAUNCHED)
    what = "mpi" if mode == "mpirun" else "env"
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_gpu.distributed.run", "--nproc-per-node", "3",
         "--launcher", mode, "--master-port", "29533", str(script), str(tmp_path), what],
        env=mpi_env(), capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for r in range(3):
        got = json.loads((tmp_path / f"r{r}.json").read_text())
        assert got["WORLD_SIZE"] == "3" and got["LOCAL_RANK"] == str(r)
        assert got["LOCAL_WORLD_SIZE"] == "3"
        assert (got["MASTER_ADDR"], got["MASTER_PORT"]) == ("127.0.0.1", "29533")
        if mode == "mpirun":
            assert got["rank"] == r and got["sum"] == [6.0, 6.0]


def test_launcher_failure_stops_the_others(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import os, sys, time\nif os.environ['RANK'] == '1': sys.exit(3)\ntime.sleep(60)\n")
    proc = subprocess.run(
        [sys.executable, "-m", "autograd_gpu.distributed.run", "--nproc-per-node", "2",
         "--launcher", "spawn", str(script)], capture_output=True, text=True, timeout=30, cwd=ROOT)
    assert proc.returncode == 3


def test_mpi_backend_refuses_ranks_not_from_mpirun(tmp_path):
    pytest.importorskip("mpi4py", reason="mpi4py is not installed")
    code = ("import autograd_gpu.distributed as d\n"
            "try:\n    d.init_process_group('mpi', world_size=2, rank=1)\n"
            "except ValueError as e:\n    print(e)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, cwd=ROOT, env=mpi_env())
    assert "world_size=2, but MPI started 1 process(es)" in proc.stdout, proc.stdout + proc.stderr
    assert "mpirun" in proc.stdout


# ---------------------------------------------------------------- one process


def test_before_init_errors_and_api_surface(torch):
    msg = ("Default process group has not been initialized, please make sure to call "
           "init_process_group.")
    for fn in (dist.get_rank, dist.get_world_size, dist.get_backend, dist.barrier):
        with pytest.raises(ValueError, match="^" + msg.replace(".", r"\.") + "$"):
            fn()
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.all_reduce(ag.ones(2))
    assert dist.is_available() and not dist.is_initialized()
    for name in ("SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"):
        assert int(getattr(dist.ReduceOp, name)) == int(getattr(torch.distributed.ReduceOp, name).value)
        assert repr(getattr(dist.ReduceOp, name)) == repr(getattr(torch.distributed.ReduceOp, name))
    assert dist.Backend("MPI") == "mpi" and dist.Backend.NCCL == "nccl"
    with pytest.raises(ValueError, match="Invalid backend: 'foo'"):
        dist.Backend("foo")


def test_object_encoding_round_trip_and_refusals():
    from autograd_gpu.distributed._objects import decode, encode

    obj = {"a": [1, 2.5, None, True, "s"], 3: (ag.arange(4) * 2, np.eye(2, dtype=np.float32)),
           (1, "k"): {"nested": float("nan")}, "dt": ag.float64, "dev": ag.device("cpu"),
           "inf": float("-inf"), "p": ag.ones(2, requires_grad=True)}
    back = decode(encode(obj))
    assert back["a"] == [1, 2.5, None, True, "s"]
    assert back[3][0].tolist() == [0, 2, 4, 6] and back[3][0].dtype == ag.int64
    assert back[3][1].dtype == np.float32 and back[3][1].tolist() == [[1, 0], [0, 1]]
    assert np.isnan(back[(1, "k")]["nested"]) and back["inf"] == float("-inf")
    assert back["dt"] is ag.float64 and back["dev"] == ag.device("cpu")
    assert back["p"].requires_grad and back["p"].tolist() == [1.0, 1.0]
    for bad in (lambda: 0, ag.nn.Linear(2, 2), object(), {1, 2}):
        with pytest.raises(TypeError, match="never pickled code"):
            encode(bad)
    assert b"pickle" not in encode(obj)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (12, 4, False),
                                                  (2, 3, False), (7, 2, True), (0, 2, False)])
def test_sampler_equals_pytorch_without_shuffle(torch, n, replicas, drop_last):
    from torch.utils.data import DistributedSampler as TorchSampler

    for r in range(replicas):
        ours = DistributedSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        theirs = TorchSampler(range(n), replicas, r, shuffle=False, drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_sampler_shuffle_epochs_and_errors():
    shards = [list(DistributedSampler(range(11), 4, r, seed=5)) for r in range(4)]
    flat = sum(shards, [])
    assert len(flat) == 12 and set(flat) == set(range(11))  # one index repeated as padding
    assert [list(DistributedSampler(range(11), 4, r, seed=5)) for r in range(4)] == shards
    s = DistributedSampler(range(50), 2, 0, seed=5)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first  # a new order each epoch
    other = DistributedSampler(range(50), 2, 1, seed=5)
    other.set_epoch(1)
    assert sorted(list(s) + list(other)) == list(range(50))  # still disjoint and covering
    with pytest.raises(ValueError, match=r"Invalid rank 4, rank should be in the interval \[0, 3\]"):
        DistributedSampler(range(4), 4, 4)
    with pytest.raises(ValueError, match="has not been initialized"):
        DistributedSampler(range(4))


def test_post_accumulate_grad_hook(torch):
    """The hook DDP relies on, against PyTorch's: it sees the accumulated .grad, runs for
    backward() but not autograd.grad(), only for the inputs= chosen, and can be removed."""
    def run(lib):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        y = lib.ones(3, dtype=lib.float64, requires_grad=True)
        seen = []
        h = x.register_post_accumulate_grad_hook(lambda t: seen.append(("x", t.grad.tolist())))
        y.register_post_accumulate_grad_hook(lambda t: seen.append(("y", t.grad.tolist())))
        (x * 2 + y).sum().backward()
        (x * 3).sum().backward()
        lib.autograd.grad((x * y).sum(), [x, y])
        (x * y).sum().backward(inputs=[y])
        h.remove()
        (x * 2).sum().backward()
        with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
            (x * 2).register_post_accumulate_grad_hook(print)
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
            lib.ones(2).register_post_accumulate_grad_hook(print)
        return sorted(seen[:2]) + seen[2:]

    assert run(ag) == run(torch)


def test_tcp_store():
    import threading

    from autograd_gpu.distributed import TCPStore

    master = TCPStore("127.0.0.1", 29541, 2, True, timeout=5)
    got = {}

    def client():
        c = TCPStore("127.0.0.1", 29541, 2, False, timeout=5)
        got["v"] = c.get("key")  # waits for the master's set
        c.set("back", b"\x00\x01")
        c.close()

    th = threading.Thread(target=client)
    th.start()
    master.set("key", b"value")
    th.join(10)
    assert got["v"] == b"value" and master.get("back") == b"\x00\x01"
    assert master.add("n", 2) == 2 and master.add("n", 3) == 5
    short = TCPStore("127.0.0.1", 29541, 2, False, timeout=0.3)
    with pytest.raises(RuntimeError, match="Timed out after 0.3 s waiting for key 'missing'"):
        short.get("missing")
    short.close()
    master.close()


def test_data_parallel_passes_through():
    torch_like = ag.nn.Linear(3, 2)
    dp = ag.nn.DataParallel(torch_like)
    x = ag.ones(4, 3)
    assert dp.module is torch_like
    assert np.array_equal(dp(x).detach().numpy(), torch_like(x).detach().numpy())
    assert list(dp.state_dict()) == ["module.weight", "module.bias"]
    with pytest.raises(NotImplementedError, match="DistributedDataParallel"):
        ag.nn.DataParallel(torch_like, device_ids=[0, 1])
