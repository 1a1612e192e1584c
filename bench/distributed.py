"""Distributed benchmarks: ``python -m bench.distributed [--quick]``.

1. all-reduce bandwidth over 2 ranks, float32 messages of 1 KB to 64 MB: our
   ``dist.all_reduce`` (with and without the cross-rank fingerprint check) against mpi4py's
   own ``Allreduce`` on the same buffers. Bus bandwidth as NCCL's tests define it:
   2 (n - 1) / n * bytes / time.
2. one DDP training step (forward, backward with the bucketed all-reduce, SGD) of a
   256-512-512-10 MLP, batch 64 per rank, float32, with 1, 2 and 3 ranks (one thread per
   rank: on a 2-core machine 3 ranks share the cores).

Each part runs under ``mpirun`` (this module re-launches itself as the ranks); medians of
repeats after a warm-up. The JSON goes to bench/results/distributed-<date>-<host>.json.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [1 << 10, 1 << 14, 1 << 18, 1 << 22, 1 << 26]  # bytes


def _median_time(fn, repeats, barrier):
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        barrier()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def worker_allreduce(quick):
    import numpy as np
    from mpi4py import MPI

    import autograd_gpu as ag
    import autograd_gpu.distributed as dist
    from autograd_gpu.distributed import _core

    dist.init_process_group("mpi")
    comm = MPI.COMM_WORLD
    n = comm.Get_size()
    rows = []
    for nbytes in SIZES[:3] if quick else SIZES:
        k = nbytes // 4
        arr = np.ones(k, np.float32)
        t = ag.from_numpy(arr)
        reps = 5 if quick else max(5, min(200, int(2e8 // max(nbytes, 1) // 50)))
        raw = _median_time(lambda: comm.Allreduce(MPI.IN_PLACE, arr), reps, comm.Barrier)
        ours = _median_time(lambda: dist.all_reduce(t), reps, comm.Barrier)
        _core._CHECK = False
        nocheck = _median_time(lambda: dist.all_reduce(t), reps, comm.Barrier)
        _core._CHECK = True
        bus = 2 * (n - 1) / n * nbytes
        rows.append({"bytes": nbytes, "mpi4py_s": raw, "ours_s": ours, "ours_nocheck_s": nocheck,
                     "mpi4py_GBps": bus / raw / 1e9, "ours_GBps": bus / ours / 1e9,
                     "ours_nocheck_GBps": bus / nocheck / 1e9})
    if comm.Get_rank() == 0:
        print("RESULT " + json.dumps(rows), flush=True)
    dist.destroy_process_group()


def worker_ddp(quick):
    import numpy as np
    from mpi4py import MPI

    import autograd_gpu as ag
    import autograd_gpu.distributed as dist

    dist.init_process_group("mpi")
    nn = ag.nn
    rng = np.random.default_rng(dist.get_rank())
    x = ag.tensor(rng.standard_normal((64, 256)), dtype=ag.float32)
    y = ag.tensor(rng.standard_normal((64, 10)), dtype=ag.float32)
    model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = ag.optim.SGD(ddp.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()

    def step():
        opt.zero_grad()
        loss_fn(ddp(x), y).backward()
        opt.step()

    med = _median_time(step, 5 if quick else 30, MPI.COMM_WORLD.Barrier)
    if dist.get_rank() == 0:
        print("RESULT " + json.dumps({"ranks": dist.get_world_size(), "step_s": med,
                                      "params": sum(p.numel() for p in model.parameters())}),
              flush=True)
    dist.destroy_process_group()


def _launch(n, part, quick):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", OMPI_MCA_mpi_yield_when_idle="1",
               OMP_NUM_THREADS="1", PYTHONPATH=ROOT)  # one thread per rank: ranks share the cores
    cmd = ["mpirun", "-np", str(n), sys.executable, "-m", "bench.distributed", "--worker", part]
    if quick:
        cmd.append("--quick")
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"{part} with {n} ranks failed:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    ap.add_argument("--worker", choices=("allreduce", "ddp"), help=argparse.SUPPRESS)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)
    if args.worker == "allreduce":
        return worker_allreduce(args.quick)
    if args.worker == "ddp":
        return worker_ddp(args.quick)
    if shutil.which("mpirun") is None:
        print("bench.distributed: mpirun is not installed (apt-get install openmpi-bin "
              "libopenmpi-dev; pip install mpi4py): nothing to measure")
        return None
    result = {
        "date": datetime.date.today().isoformat(), "host": platform.node(),
        "cpu_count": os.cpu_count(), "machine": platform.processor() or platform.machine(),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                 text=True, cwd=ROOT).stdout.strip(),
        "load_average": os.getloadavg()[0],
    }
    print("all-reduce, 2 ranks (bus bandwidth, GB/s)")
    print(f"{'bytes':>10} {'mpi4py':>10} {'ours':>10} {'ours, no check':>15}")
    rows = _launch(2, "allreduce", args.quick)
    for r in rows:
        print(f"{r['bytes']:>10} {r['mpi4py_GBps']:>10.3f} {r['ours_GBps']:>10.3f} "
              f"{r['ours_nocheck_GBps']:>15.3f}   ({r['mpi4py_s'] * 1e6:.1f} / {r['ours_s'] * 1e6:.1f} "
              f"/ {r['ours_nocheck_s'] * 1e6:.1f} us)")
    result["allreduce_2ranks"] = rows
    print("DDP step, MLP 256-512-512-10, batch 64 per rank")
    result["ddp_step"] = []
    for n in (1, 2, 3):
        r = _launch(n, "ddp", args.quick)
        result["ddp_step"].append(r)
        print(f"  {n} rank(s): {r['step_s'] * 1e3:.2f} ms")
    if not args.no_save:
        path = os.path.join(ROOT, "bench", "results",
                            f"distributed-{result['date']}-{result['host']}.json")
        with open(path, "w") as f:
            json.dump(result, f, indent=1)
        print("wrote", os.path.relpath(path, ROOT))
    return result


if __name__ == "__main__":
    main()
