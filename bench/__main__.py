import os
import sys

# `--threads N` must size the BLAS and OpenMP pools before NumPy (or PyTorch) is imported.
for i, arg in enumerate(sys.argv):
    n = arg.split("=", 1)[1] if arg.startswith("--threads=") else (
        sys.argv[i + 1] if arg == "--threads" and i + 1 < len(sys.argv) else None)
    if n and n.isdigit():
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = n

from .suite import main  # noqa: E402

raise SystemExit(main())
