"""Profiles one row of the suite with cProfile: where a missed goal spends its time.

    python -m bench.profile overhead            # the first row of a workload, ours on cpu
    python -m bench.profile elementwise --row 1e7 --seconds 5 --top 25
    python -m bench.profile training --row 4x1024 --column numpy

Runs the row's callable (after one warm-up call) for about --seconds under cProfile and prints
the functions with the most time of their own, as file:line.
"""
import argparse
import cProfile
import pstats
import time

from . import workloads
from .suite import Env


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    ap.add_argument("workload", help="overhead, elementwise, matmul, training, optimizer, least_squares, models")
    ap.add_argument("--row", default="", help="a piece of the row's label (default: the first row)")
    ap.add_argument("--column", default="ours_cpu", help="ours_cpu, torch_cpu, numpy, ...")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--top", type=int, default=20)
    ap.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    ap.add_argument("--quick", action="store_true", help="the quick suite's sizes")
    args = ap.parse_args(argv)

    env = Env(args.quick)
    suite = {w.__name__: w for w in workloads.ALL}
    suite["optimizer"] = workloads.optimizer_step
    if args.workload not in suite:
        ap.error(f"unknown workload {args.workload!r}; known: {sorted(suite)}")
    w = suite[args.workload](env)
    rows = [r for r in w["rows"] if args.row in r["label"]]
    if not rows:
        ap.error(f"no row of {args.workload} has {args.row!r} in its label: "
                 f"{[r['label'] for r in w['rows']]}")
    row = rows[0]
    factory = row["impls"].get(args.column)
    if factory is None:
        ap.error(f"row {row['label']!r} has no column {args.column!r}")
    run, sync = factory(), env.sync(args.column)
    run()
    sync()
    prof = cProfile.Profile()
    calls, t0 = 0, time.perf_counter()
    prof.enable()
    while True:
        run()
        sync()
        calls += 1
        if time.perf_counter() - t0 >= args.seconds:
            break
    prof.disable()
    wall = time.perf_counter() - t0
    print(f"{args.workload} / {row['label']} / {args.column}: {calls} calls in {wall:.2f} s "
          f"under the profiler ({wall / calls * 1e3:.3f} ms per call, inflated by cProfile)")
    pstats.Stats(prof).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
