import os
import sys

# The thread count must be fixed before NumPy (or PyTorch) is imported, so that the BLAS and
# OpenMP pools start at that size. `--threads N` sets it; without it, a machine already busy
# with other work (1-minute load average at least half its cores) runs single-threaded:
# multithreaded BLAS and PyTorch on an oversubscribed machine swing by 10x from run to run,
# single-threaded code only slows down in proportion.
threads = None
for i, arg in enumerate(sys.argv):
    if arg.startswith("--threads="):
        threads = arg.split("=", 1)[1]
    elif arg == "--threads" and i + 1 < len(sys.argv):
        threads = sys.argv[i + 1]
if threads is None and "--quick" not in sys.argv and not any(
        v in os.environ for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")):
    try:
        load, cores = os.getloadavg()[0], os.cpu_count() or 1
    except OSError:
        load, cores = 0.0, 1
    if load >= cores / 2:
        threads = "1"
        print(f"bench: load average {load:.1f} on {cores} cores: running single-threaded for steady "
              "timings (--threads N overrides)", flush=True)
        sys.argv.append("--threads=1")
if threads and threads.isdigit():
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = threads

from .suite import main  # noqa: E402

raise SystemExit(main())
