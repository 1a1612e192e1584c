"""`python -m bench`: the suite on pytest-benchmark, then the report.

bench/bench_suite.py has one pytest-benchmark case per (row, column): each row of
bench/workloads.py is a benchmark group (`<workload>: <row label>`), each of its columns
(ours cpu and cuda, PyTorch cpu and cuda, NumPy by hand, the host and device copy) a case.
By default the columns of a row are measured together, their repeats interleaved
(harness.measure_row), and each case hands its column's repeats to pytest-benchmark through
the suite's clock (harness.clock); `--sequential` times each case on its own with
pytest-benchmark's loop instead (see docs/guide/performance.md for what interleaving changes).

    python -m bench                    # the whole suite; saves bench/results/<host>-<cpu>-<device>/
    python -m bench --quick            # tiny sizes in seconds (what the tests run)
    python -m bench --only overhead,models --threads 1
    python -m bench --compare          # also compare with the last committed run of this machine
    python -m bench -- -k "sgd and ours_cpu"   # anything after -- goes to pytest

The same cases run under pytest directly:

    pytest bench/bench_suite.py -p no:cacheprovider --benchmark-only --bench-quick
"""
import argparse
import datetime
import gc
import os
import re
import subprocess
import sys
import time

from . import harness
from .harness import IMPL_KEYS, Unavailable

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS_DIR = os.path.join(ROOT, "bench", "results")
SUITE_FILE = os.path.join(ROOT, "bench", "bench_suite.py")
CPU_KEYS = ("ours_cpu", "torch_cpu", "numpy", "copy_host")
LABEL_WIDTH = 38
# pytest-benchmark's table: seconds per call (stats are per iteration), repeats and loop size
BENCHMARK_COLUMNS = "min,median,max,rounds,iterations"
# what --compare flags as a regression by default: a case's median slower by more than this
COMPARE_FAIL = "median:25%"


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


def prepare_row(env, row, keys=IMPL_KEYS):
    """Builds the columns `keys` of a row: (cells, runs). `cells` maps a column that will not
    be timed to None (not applicable to the row), {"unavailable": why} or {"error": what};
    `runs` maps the others to (run, sync), after the row's untimed extra calls."""
    cells, runs = {}, {}
    for key in keys:
        factory = row["impls"].get(key)
        if factory is None:
            cells[key] = None  # not applicable to this workload
            continue
        reason = env.unavailable(key)
        if reason is None and key in CPU_KEYS and row.get("cpu_skip"):
            reason = row["cpu_skip"]
        if reason is None and key in CPU_KEYS and row.get("gpu_only"):
            reason = "skipped: GPU-only size"
        if reason is None and row.get("gpu_only") and not env.cuda_ok:
            reason = f"no GPU: {env.cuda_reason}"
        if reason:
            cells[key] = {"unavailable": reason}
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
            cells[key] = {"unavailable": str(e)}
        except Exception as e:  # a failure is a result: shown as ERROR, never stops the suite
            cells[key] = {"error": f"{type(e).__name__}: {e}"}
    return cells, runs


def run_row(env, row, timing, keys=IMPL_KEYS):
    """Measures the columns `keys` of one row together, their repeats interleaved."""
    results, runs = prepare_row(env, row, keys)
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


# ---------------------------------------------------------------- names of result files


def _slug(s):
    return re.sub(r"[^A-Za-z0-9]+", "-", s).strip("-").lower() or "unknown"


def machine_slug(machine):
    """<host>-<cpu>-<device>[-threadsN]: a machine and thread setting, whose runs compare (the
    CPU model is part of it: one host name may be given to machines of different CPUs)."""
    dev = "cuda-" + _slug(machine["gpu"]) if machine.get("gpu") else "cpu"
    cpu = re.sub(r"\((R|TM)\)|\b(Processor|CPU)\b", "", machine.get("cpu") or "").strip()
    threads = (machine.get("thread_env") or {}).get("OMP_NUM_THREADS")
    return "-".join([_slug(machine["host"])] + ([_slug(cpu)] if cpu else []) + [dev]) + (
        f"-threads{threads}" if threads else "")


def _only_suffix(only):
    return "-only-" + "-".join(_slug(w) for w in sorted(only)) if only else ""


def result_path(out_dir, machine, only=()):
    """The file a run with --out writes (pytest-benchmark's --benchmark-json): a partial run
    (--only) gets an -only-<ids> suffix, so that it sits beside the day's full run."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    return os.path.join(out_dir, f"{date}-{machine_slug(machine)}{_only_suffix(only)}.json")


def storage_dir(machine, results_dir=RESULTS_DIR):
    """Where `make bench` saves its runs (pytest-benchmark's --benchmark-storage): one folder
    per machine and thread setting, so that --benchmark-compare finds the same machine's."""
    return os.path.join(results_dir, machine_slug(machine))


def save_name(commit, only=()):
    """pytest-benchmark's --benchmark-save name: <date>-<commit>[-only-<ids>] (it prefixes a
    running number)."""
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    return f"{date}-{(commit or 'nogit')[:10]}{_only_suffix(only)}"


def last_committed(storage, root=ROOT):
    """The newest run saved under `storage` that git has committed, or None."""
    try:
        out = subprocess.run(["git", "ls-files", "--", os.path.relpath(storage, root)], cwd=root,
                             capture_output=True, text=True, timeout=10).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    runs = [f for f in out if re.fullmatch(r"\d{4}_.*\.json", os.path.basename(f))]
    return os.path.join(root, max(runs, key=os.path.basename)) if runs else None


# ---------------------------------------------------------------- the pytest session


class BenchRun:
    """The state of one pytest session over bench/bench_suite.py (bench/conftest.py makes it):
    the rows and their cases, what each case measured, and the part of the JSON that
    pytest-benchmark does not write (the rows' labels and sizes, why a column did not run)."""

    def __init__(self, quick=False, only=(), sequential=False, threads=None, write=print):
        self.t0 = time.perf_counter()
        self.quick, self.sequential, self.write = quick, sequential, write
        try:
            self.load_start = [round(x, 2) for x in os.getloadavg()]
        except OSError:
            self.load_start = None
        from . import workloads

        self.env = Env(quick)
        if threads:
            from autograd_gpu import set_num_threads

            set_num_threads(threads)
            if self.env.torch is not None:
                self.env.torch.set_num_threads(threads)
        self.timing = harness.Timing(quick)
        self.machine = harness.machine_info(self.env)
        self.machine.pop("load_avg_start", None)  # (varies run to run: kept out of machine_info)
        self.versions = harness.versions(self.env)
        suite = [w(self.env) for w in workloads.ALL]
        self.wanted = [w for w in only if w]
        if self.wanted:
            unknown = set(self.wanted) - {w["id"] for w in suite}
            if unknown:
                raise ValueError(f"unknown workload(s) {sorted(unknown)}; known: {[w['id'] for w in suite]}")
            suite = [w for w in suite if w["id"] in self.wanted]
        self.suite, self.rows, self.cases = suite, {}, []
        for w in suite:
            for row in w["rows"]:
                key = f"{w['id']}-{_slug(row['label'])}"
                assert key not in self.rows, key
                row["key"], row["group"], row["workload"] = key, f"{w['id']}: {row['label']}", w["id"]
                self.rows[key] = row
                self.cases += [(key, k) for k in IMPL_KEYS if row["impls"].get(k) is not None]
        self.selected = {}   # row key -> the columns whose cases survived selection (-k)
        self.cells = {}      # row key -> column -> cell (measured or why not)
        self.nodeids = {}    # (row key, column) -> the case's pytest node id
        self.done = {}       # row key -> columns finished
        self._titles_shown = set()

    @staticmethod
    def case_id(case):
        return f"{case[0]}-{case[1]}"

    def select(self, items):
        """The cases pytest will run, after -k and other deselection."""
        self.selected = {}
        for item in items:
            case = getattr(getattr(item, "callspec", None), "params", {}).get("case")
            if case is not None:
                self.selected.setdefault(case[0], []).append(case[1])
                self.nodeids[case] = item.nodeid
        self.partial = bool(self.wanted) or len(self.nodeids) < len(self.cases)

    # -- measuring

    def _measure_interleaved(self, key):
        row = self.rows[key]
        self._title(row)
        cells, runs = prepare_row(self.env, row, self.selected.get(key, ()))
        cells.update(harness.measure_row(runs, self.timing))
        del runs
        if not self.timing.quick:
            gc.collect()  # drop the row's arrays before the next one allocates its own
        self.cells[key] = cells

    def run_case(self, benchmark, case):
        """One case: its column of its row, recorded by pytest-benchmark's `benchmark`."""
        import pytest

        key, col = case
        row = self.rows[key]
        benchmark.group = row["group"]
        benchmark.extra_info.update(workload=row["workload"], row=row["label"], column=col,
                                    mode="sequential" if self.sequential else "interleaved")
        try:
            if self.sequential:
                cell = self._run_sequential(benchmark, row, col)
            else:
                if key not in self.cells:
                    self._measure_interleaved(key)
                cell = self.cells[key][col]
                if cell and "stamps" in cell:
                    harness.clock.replay(cell["stamps"])
                    try:
                        benchmark.pedantic(harness._noop, rounds=len(cell["stamps"]),
                                           iterations=cell["number"])
                    finally:
                        harness.clock.live(harness._noop)
            if cell and "value" in cell:
                benchmark.extra_info["value"] = cell["value"]
        finally:
            self._case_done(key, col)
        if cell is None:
            pytest.skip("not applicable to this row")
        if "unavailable" in cell:
            pytest.skip(cell["unavailable"])
        if "error" in cell:
            pytest.fail(f"{row['group']} / {col}: {cell['error']}", pytrace=False)

    def _run_sequential(self, benchmark, row, col):
        """Times one column on its own: the harness's warm-up and loop size, then
        pytest-benchmark's rounds, the clock waiting for the device before each reading."""
        self._title(row)
        cells, runs = prepare_row(self.env, row, [col])
        cells = self.cells.setdefault(row["key"], {}) | cells
        self.cells[row["key"]] = cells
        if col not in runs:
            return cells[col]
        run, sync = runs.pop(col)
        try:
            number, est, value = harness.plan_column(run, sync, self.timing)
            harness.clock.live(sync)
            try:
                last = benchmark.pedantic(run, rounds=harness.repeats_for([est], self.timing),
                                          iterations=number)
            finally:
                harness.clock.live(harness._noop)
        except Exception as e:
            cells[col] = harness._error(e)
            return cells[col]
        finally:
            del run
            if not self.timing.quick:
                gc.collect()
        s = benchmark.stats.stats
        cells[col] = {"median": s.median, "min": s.min, "max": s.max, "repeats": s.rounds,
                      "number": number}
        if last is not None or value is not None:
            cells[col]["value"] = last if last is not None else value
        return cells[col]

    # -- printing as it goes

    def _title(self, row):
        if row["workload"] in self._titles_shown:
            return
        self._titles_shown.add(row["workload"])
        w = next(w for w in self.suite if w["id"] == row["workload"])
        self.write("")
        self.write(w["title"])
        self.write("      " + harness.table_header(LABEL_WIDTH))

    def _case_done(self, key, col):
        done = self.done.setdefault(key, set())
        done.add(col)
        if done >= set(self.selected.get(key, ())):
            n = list(self.rows).index(key) + 1
            results = {k: self.cells.get(key, {}).get(k) for k in IMPL_KEYS}
            row = self.rows[key]
            line = harness.table_line({"label": row["label"], "results": results,
                                       "ratios": harness.ratios(results)}, LABEL_WIDTH)
            self.write(f"[{n:>2}/{len(self.rows)}] {line}")

    # -- what the JSON gets beside pytest-benchmark's own fields

    def machine_info(self):
        return dict(self.machine)

    def doc(self):
        """The "bench" part of the JSON: the workloads and rows as the report shows them, with
        each selected case's node id (its benchmark in "benchmarks") or why it has none."""
        try:
            load_end = [round(x, 2) for x in os.getloadavg()]
        except OSError:
            load_end = None
        workloads = []
        for w in self.suite:
            rows, complete = [], True
            for row in w["rows"]:
                cols = self.selected.get(row["key"], [])
                if not cols:
                    complete = False
                    continue
                if len(cols) < sum(1 for k in IMPL_KEYS if row["impls"].get(k) is not None):
                    complete = False
                cells = {}
                for k in IMPL_KEYS:
                    if row["impls"].get(k) is None:
                        cells[k] = None
                    elif k not in cols:
                        cells[k] = {"not_run": "deselected"}
                    else:
                        cell = (self.cells.get(row["key"]) or {}).get(k)
                        if cell and "median" in cell:
                            cells[k] = {"case": self.nodeids[(row["key"], k)]}
                        elif cell:
                            cells[k] = cell
                        else:
                            cells[k] = {"not_run": "the case did not run"}
                out = {"label": row["label"], "size": row["size"], "group": row["group"],
                       "cells": cells}
                if row.get("series"):
                    out["series"] = row["series"]
                rows.append(out)
            if rows:
                workloads.append({k: w[k] for k in ("id", "title", "size_name", "about", "plot")}
                                 | {"rows": rows, "complete": complete})
        return {
            "schema": 2,
            "quick": self.quick,
            "mode": "sequential" if self.sequential else "interleaved",
            "only": [w["id"] for w in workloads] if self.partial else None,
            "elapsed_s": round(time.perf_counter() - self.t0, 1),
            "load_avg_start": self.load_start,
            "load_avg_end": load_end,
            "machine": self.machine,
            "versions": self.versions,
            "ratios": {k: v[2] for k, v in harness.RATIOS.items()},
            "workloads": workloads,
        }


# ---------------------------------------------------------------- python -m bench


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="tiny sizes, few repeats (seconds)")
    ap.add_argument("--only", default="",
                    help="comma-separated workload ids, e.g. overhead,matmul or models; the run is "
                         "saved with an -only-<ids> suffix and the report shows these workloads "
                         "from it, the others from the machine's last full run")
    ap.add_argument("--out", default=None,
                    help="write the run to DIR/<date>-<host>-<cpu>-<device>.json (pytest-benchmark's "
                         "--benchmark-json) instead of saving it under bench/results/<host>-<cpu>-<device>/; "
                         "the report is not rebuilt")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads for ours, PyTorch, BLAS and OpenMP (default: each library's own choice; "
                         "1 when the machine is already busy, see bench/__main__.py)")
    ap.add_argument("--sequential", action="store_true",
                    help="time each case on its own (pytest-benchmark's loop) instead of "
                         "interleaving the repeats of a row's columns")
    ap.add_argument("--compare", nargs="?", const="last", default=None, metavar="FILE",
                    help="compare with a saved run (default: the last committed one of this machine) "
                         "and fail on regressions (--compare-fail)")
    ap.add_argument("--compare-fail", default=COMPARE_FAIL,
                    help="pytest-benchmark's --benchmark-compare-fail (default: %(default)s)")
    ap.add_argument("--no-report", action="store_true", help="do not regenerate bench/REPORT.md")
    args = ap.parse_args(argv)
    wanted = [w for w in args.only.split(",") if w]

    env = Env(args.quick)
    machine = harness.machine_info(env)
    commit, _ = harness.git_commit(ROOT)
    pytest_args = [SUITE_FILE, f"--rootdir={ROOT}", "-p", "no:cacheprovider", "-q",
                   "--benchmark-only", f"--benchmark-columns={BENCHMARK_COLUMNS}",
                   "--benchmark-sort=name", "-rfE"]
    if args.quick:
        pytest_args.append("--bench-quick")
    if wanted:
        pytest_args.append("--bench-only=" + ",".join(wanted))
    if args.threads:
        pytest_args.append(f"--bench-threads={args.threads}")
    if args.sequential:
        pytest_args.append("--bench-sequential")
    out_dir = args.out
    if out_dir is None and args.quick:
        out_dir = os.path.join(RESULTS_DIR, "quick")
    storage = storage_dir(machine)
    if out_dir is not None:
        os.makedirs(out_dir, exist_ok=True)
        path = result_path(out_dir, machine, wanted)
        pytest_args.append(f"--benchmark-json={path}")
    else:
        path = None
        pytest_args += [f"--benchmark-storage={storage}", f"--benchmark-save={save_name(commit, wanted)}"]
    if args.compare:
        against = last_committed(storage) if args.compare == "last" else args.compare
        if against is None:
            print(f"bench: nothing committed under {os.path.relpath(storage, ROOT)} to compare with",
                  flush=True)
        else:
            pytest_args += [f"--benchmark-compare={os.path.abspath(against)}",
                            f"--benchmark-compare-fail={args.compare_fail}"]
            if out_dir is not None:  # (compare reads the storage folder of the file's machine)
                pytest_args.append(f"--benchmark-storage={storage}")
    pytest_args += extra
    gpu = machine["gpu"] or f"no GPU ({env.cuda_reason})"
    print(f"autograd_gpu benchmarks{' (quick)' if args.quick else ''} on {machine['host']}: "
          f"{machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']} GiB; {gpu}")
    print("pytest " + " ".join(os.path.relpath(a, ROOT) if a == SUITE_FILE else a for a in pytest_args),
          flush=True)
    import pytest

    rc = int(pytest.main(pytest_args))
    if path:
        print(f"results: {os.path.relpath(path)}")
    if env.cuda_ok and not args.quick and not wanted:
        # The fused kernels' own benchmark (bandwidth against a device copy) writes its file
        # beside ours; the report reads both.
        print("\nFused GPU kernels (python -m bench.gpu_kernels):", flush=True)
        try:
            from . import gpu_kernels

            gpu_kernels.main(["--out", out_dir or RESULTS_DIR])
        except Exception as e:
            print(f"bench.gpu_kernels failed: {type(e).__name__}: {e}", flush=True)
    if out_dir is None and not args.no_report:
        from . import report

        report.main([])
    return rc
