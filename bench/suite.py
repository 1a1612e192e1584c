"""Runs the workloads column by column, prints the table as it goes, writes the result file."""
import argparse
import datetime
import gc
import json
import os
import re
import sys
import time

from . import harness, workloads
from .harness import IMPL_KEYS, Unavailable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(ROOT, "bench", "results")
CPU_KEYS = ("ours_cpu", "torch_cpu", "numpy", "copy_host")
LABEL_WIDTH = 38


class Env:
    """What this machine can run: CUDA through our backend, PyTorch and its CUDA."""

    def __init__(self, quick):
        from autograd_gpu import backend

        self.quick = quick
        self.cpu_count = os.cpu_count()
        self.cuda_ok = backend.cuda_is_available()
        self.cuda_reason = backend.cuda_unavailable_reason()
        self.cp = backend.cupy_module() if self.cuda_ok else None
        self.gpu_name = None
        if self.cuda_ok:
            name = self.cp.cuda.runtime.getDeviceProperties(0)["name"]
            self.gpu_name = name.decode() if isinstance(name, bytes) else str(name)
        try:
            import torch

            self.torch, self.torch_reason = torch, None
        except Exception as e:
            self.torch, self.torch_reason = None, f"{type(e).__name__}: {e}"
        self.torch_cuda_ok = self.torch is not None and self.torch.cuda.is_available()

    def unavailable(self, key):
        """Why column `key` cannot run on this machine, or None when it can."""
        if key in ("ours_cuda", "copy_device") and not self.cuda_ok:
            return f"no GPU: {self.cuda_reason}"
        if key.startswith("torch") and self.torch is None:
            return f"PyTorch not importable ({self.torch_reason})"
        if key == "torch_cuda" and not self.torch_cuda_ok:
            return f"no GPU: PyTorch {self.torch.__version__} has no usable CUDA device"
        return None

    def sync(self, key):
        if key in ("ours_cuda", "copy_device"):
            return self.cp.cuda.runtime.deviceSynchronize
        if key == "torch_cuda":
            return self.torch.cuda.synchronize
        return harness._noop


def run_row(env, row, timing):
    results, runs = {}, {}
    for key in IMPL_KEYS:
        factory = row["impls"].get(key)
        if factory is None:
            results[key] = None  # not applicable to this workload
            continue
        reason = env.unavailable(key)
        if reason is None and key in CPU_KEYS and row.get("cpu_skip"):
            reason = row["cpu_skip"]
        if reason is None and key in CPU_KEYS and row.get("gpu_only"):
            reason = "skipped: GPU-only size"
        if reason is None and row.get("gpu_only") and not env.cuda_ok:
            reason = f"no GPU: {env.cuda_reason}"
        if reason:
            results[key] = {"unavailable": reason}
            continue
        try:
            run, sync = factory(), env.sync(key)
            for _ in range(row.get("warmup", 0)):
                # Untimed calls before the harness's own warm-up, for rows whose first call
                # pays a one-time cost longer than the timing budget (PyTorch CPU builds its
                # oneDNN primitives: ~2 s for LeNet-5): sized from that call, the row would
                # run min_repeats repeats in every column.
                run()
                sync()
            runs[key] = (run, sync)
        except Unavailable as e:
            results[key] = {"unavailable": str(e)}
        except Exception as e:  # a failure is a result: shown as ERROR, never stops the suite
            results[key] = {"error": f"{type(e).__name__}: {e}"}
    results.update(harness.measure_row(runs, timing))
    del runs
    if not timing.quick:
        gc.collect()  # drop the row's arrays before the next one allocates its own
    results = {k: results.get(k) for k in IMPL_KEYS}
    out = {"label": row["label"], "size": row["size"], "results": results,
           "ratios": harness.ratios(results)}
    if row.get("series"):
        out["series"] = row["series"]
    return out


def _slug(s):
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or "unknown"


def result_path(out_dir, machine, only=()):
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    dev = "cuda-" + _slug(machine["gpu"]) if machine["gpu"] else "cpu"
    threads = (machine.get("thread_env") or {}).get("OMP_NUM_THREADS")
    suffix = f"-threads{threads}" if threads else ""  # a pinned run sits beside the default one
    if only:  # a partial run sits beside the full one of the day instead of replacing it
        suffix += "-only-" + "-".join(_slug(w) for w in sorted(only))
    return os.path.join(out_dir, f"{date}-{_slug(machine['host'])}-{dev}{suffix}.json")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (seconds)")
    ap.add_argument("--only", default="",
                    help="comma-separated workload ids, e.g. overhead,matmul or models; the result "
                         "file gets an -only-<ids> suffix and the report shows these workloads "
                         "from it, the others from the machine's last full run")
    ap.add_argument("--out", default=None,
                    help="directory for the result file (default bench/results, "
                         "bench/results/quick for --quick)")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for ours, PyTorch, BLAS and OpenMP (default: each library's own choice; "
                         "1 when the machine is already busy, see bench/__main__.py)")
    ap.add_argument("--no-report", action="store_true", help="do not regenerate bench/REPORT.md")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    env = Env(args.quick)
    if args.threads:
        from autograd_gpu import set_num_threads

        set_num_threads(args.threads)
        if env.torch is not None:
            env.torch.set_num_threads(args.threads)
    timing = harness.Timing(args.quick)
    wanted = {w for w in args.only.split(",") if w}
    suite = [w(env) for w in workloads.ALL]
    if wanted:
        unknown = wanted - {w["id"] for w in suite}
        if unknown:
            ap.error(f"unknown workload(s) {sorted(unknown)}; known: {[w['id'] for w in suite]}")
        suite = [w for w in suite if w["id"] in wanted]
    machine = harness.machine_info(env)
    commit, dirty = harness.git_commit(ROOT)
    doc = {
        "schema": 1,
        "quick": args.quick,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine,
        "versions": harness.versions(env),
        "commit": commit,
        "dirty": dirty,
        "only": [w["id"] for w in suite] if wanted else None,
        "ratios": {k: v[2] for k, v in harness.RATIOS.items()},
        "workloads": [],
    }
    gpu = machine["gpu"] or f"no GPU ({env.cuda_reason})"
    print(f"autograd_gpu benchmarks{' (quick)' if args.quick else ''} on {machine['host']}: "
          f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GiB; {gpu}")
    print(f"commit {commit}{' (dirty)' if dirty else ''}; torch {doc['versions']['torch']}; "
          f"times are medians per call after warm-up")
    total = sum(len(w["rows"]) for w in suite)
    tty = sys.stdout.isatty()
    done = 0
    for w in suite:
        print(f"\n{w['title']}")
        print("      " + harness.table_header(LABEL_WIDTH))
        rows = []
        for row in w["rows"]:
            if tty:
                print(f"[{done + 1:>2}/{total}] {row['label'][:LABEL_WIDTH]} ...", end="\r", flush=True)
            r = run_row(env, row, timing)
            rows.append(r)
            done += 1
            print(f"[{done:>2}/{total}] " + harness.table_line(r, LABEL_WIDTH), flush=True)
            for key, cell in r["results"].items():
                if cell and "error" in cell:
                    print(f"        {key}: {cell['error']}", flush=True)
        doc["workloads"].append({k: w[k] for k in ("id", "title", "size_name", "about", "plot")}
                                | {"rows": rows})
    doc["elapsed_s"] = round(time.perf_counter() - t_start, 1)
    try:
        machine["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass

    out_dir = args.out or (os.path.join(RESULTS_DIR, "quick") if args.quick else RESULTS_DIR)
    os.makedirs(out_dir, exist_ok=True)
    path = result_path(out_dir, machine, wanted)
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"\n{total} rows in {doc['elapsed_s']} s; results: {os.path.relpath(path)}")
    if env.cuda_ok and not args.quick and not wanted:
        # The fused kernels' own benchmark (bandwidth against a device copy) writes its file
        # beside ours; the report reads both.
        print("\nFused GPU kernels (python -m bench.gpu_kernels):", flush=True)
        try:
            from . import gpu_kernels

            gpu_kernels.main(["--out", out_dir])
        except Exception as e:
            print(f"bench.gpu_kernels failed: {type(e).__name__}: {e}", flush=True)
    if not args.quick and not args.no_report and args.out is None:
        from . import report

        report.main([])
    return 0
