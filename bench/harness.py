"""Timing, machine description and the terminal table of the benchmark suite.

Every cell of a result is measured the same way: one warm-up call, then warm calls for at
least a repeat's length (their mean picks how many calls make one repeat, so that tiny
workloads are timed over a loop rather than one call lost in timer noise), then `repeats`
timed repeats; the figure is the median per call.
GPU implementations pass a `sync` that waits for the device, so a repeat ends when the
work is done, not when it was queued.
"""
import math
import os
import platform
import socket
import statistics
import subprocess
import time

# Column keys, in table order, with the header shown for each.
IMPLS = (
    ("ours_cpu", "ours cpu"),
    ("ours_cuda", "ours cuda"),
    ("torch_cpu", "torch cpu"),
    ("torch_cuda", "torch cuda"),
    ("numpy", "numpy"),
    ("copy_host", "copy host"),
    ("copy_device", "copy dev"),
)
IMPL_KEYS = tuple(k for k, _ in IMPLS)

# Ratios every row carries: name -> (numerator column, denominator column, what it means).
RATIOS = {
    "gpu_speedup": ("ours_cpu", "ours_cuda", "ours cpu / ours cuda (higher is better)"),
    "ours_vs_torch_cpu": ("ours_cpu", "torch_cpu", "ours cpu / PyTorch cpu (lower is better)"),
    "ours_vs_torch_cuda": ("ours_cuda", "torch_cuda", "ours cuda / PyTorch cuda (lower is better)"),
    "ours_vs_numpy": ("ours_cpu", "numpy", "ours cpu / hand-written NumPy, the CPU limit (lower is better)"),
    "ours_vs_copy_host": ("ours_cpu", "copy_host", "ours cpu / host copy of the same bytes (lower is better)"),
    "device_bw_fraction": ("copy_device", "ours_cuda",
                           "device copy / ours cuda: fraction of copy bandwidth reached (higher is better)"),
}


# Set by `--threads N` before NumPy loads, so that BLAS and OpenMP pools start at that size.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class Unavailable(Exception):
    """An implementation that cannot run here (no GPU, no PyTorch, an API not written yet)."""


class Timing:
    """How long to measure. Quick mode keeps the whole suite to seconds."""

    def __init__(self, quick):
        self.quick = quick
        # A repeat lasts at least this long (tiny workloads loop `number` calls per repeat).
        self.min_repeat_s = 0.002 if quick else 0.05
        self.min_repeats = 2 if quick else 3
        self.max_repeats = 3 if quick else 11
        # Time spent per column beyond warm-up; long workloads stop at min_repeats.
        self.budget_s = 0.02 if quick else 1.5


def _noop():
    pass


def _error(e):
    return {"error": f"{type(e).__name__}: {e}"}


def plan_column(run, sync, timing):
    """Warms one column up and sizes its loop: returns (number, seconds per repeat, value).

    One warm-up call; a second when the first was shorter than the timing budget (the first
    pays one-time costs: PyTorch's first backward starts its engine, ~5 ms against ~80 us
    later, so a loop sized from it timed a handful of cold calls per repeat); then, for calls
    shorter than a repeat, warm calls for at least min_repeat_s, whose mean sets how many
    calls (`number`) make one repeat. `value` is what run's last call returned."""
    t0 = time.perf_counter()
    value = run()
    sync()
    first = time.perf_counter() - t0
    number = 1
    if first < timing.budget_s:
        t0 = time.perf_counter()
        value = run()
        sync()
        first = time.perf_counter() - t0
    if first < timing.min_repeat_s:
        # warm calls until min_repeat_s has passed; the loop is sized from their mean
        calls, t0 = 0, time.perf_counter()
        while True:
            run()
            calls += 1
            sync()
            warm = (time.perf_counter() - t0) / calls
            if calls * warm >= timing.min_repeat_s or calls >= 100_000:
                break
        number = min(100_000, max(1, math.ceil(timing.min_repeat_s / max(warm, 1e-7))))
        first = warm
    return number, max(first * number, 1e-9), value


def repeats_for(estimates, timing):
    """How many repeats every column of a row gets, from each column's seconds per repeat:
    the timing budget per column, within [min_repeats, max_repeats]."""
    total = sum(estimates) or 1e-9
    return int(min(timing.max_repeats,
                   max(timing.min_repeats, timing.budget_s * max(1, len(estimates)) // total)))


def measure_row(runs, timing):
    """Times several implementations of one row; `runs` maps column -> (run, sync).

    Each column gets a warm-up (which also picks how many calls make one repeat), then the
    repeats of all columns are interleaved, so a change in machine load during the row touches
    every column alike and the ratios stay fair. Returns column -> result cell: the median
    seconds per call with the spread, the clock readings at the start and end of every repeat
    (`stamps`, what the pytest-benchmark cases replay), and the value of run's last call when
    it returns one.
    """
    cells, plan = {}, {}
    for key, (run, sync) in runs.items():
        try:
            number, est, value = plan_column(run, sync, timing)
            plan[key] = [run, sync, number, est, [], value]
        except Exception as e:  # a failure is a result, shown as ERROR; the suite goes on
            cells[key] = _error(e)
    repeats = repeats_for([p[3] for p in plan.values()], timing)
    for _ in range(repeats):
        for key in list(plan):
            run, sync, number, _, stamps, _ = plan[key]
            try:
                t0 = time.perf_counter()
                for _ in range(number):
                    value = run()
                sync()
                stamps.append((t0, time.perf_counter()))
                plan[key][5] = value
            except Exception as e:
                cells[key] = _error(e)
                del plan[key]
    for key, (_, _, number, _, stamps, value) in plan.items():
        samples = [(t1 - t0) / number for t0, t1 in stamps]
        cells[key] = {
            "median": statistics.median(samples),
            "min": min(samples),
            "max": max(samples),
            "repeats": len(samples),
            "number": number,
            "stamps": stamps,
        }
        if value is not None:
            cells[key]["value"] = value
    return cells


class Clock:
    """The timer of the pytest-benchmark cases (bench/bench_suite.py names it in its mark).

    live(sync): each reading first waits for the device (`sync`), then reads perf_counter, so
    a GPU round ends when its work is done, not when it was queued. replay(stamps): the
    readings a measurement already took, in order, as (start, end) of every repeat: the
    interleaved rows are measured by measure_row, and each column's case hands its repeats to
    pytest-benchmark through this clock."""

    def __init__(self):
        self.__name__ = "clock"
        self.live(_noop)

    def live(self, sync):
        self._sync, self._stamps = sync, None

    def replay(self, stamps):
        self._sync, self._stamps = _noop, iter([t for pair in stamps for t in pair])

    def __call__(self):
        if self._stamps is not None:
            return next(self._stamps)
        self._sync()
        return time.perf_counter()


clock = Clock()


# ---------------------------------------------------------------- the machine


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb():
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def git_commit(root):
    """(commit, dirty) of the checkout the suite runs from, or (None, None) outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
        status = subprocess.run(["git", "status", "--porcelain", "-uno"], cwd=root,
                                capture_output=True, text=True, timeout=10).stdout
        return commit, bool(status.strip()) if commit else None
    except (OSError, subprocess.SubprocessError):
        return None, None


def machine_info(env):
    info = {
        "host": socket.gethostname(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpu": env.gpu_name,
        "gpu_note": None if env.cuda_ok else env.cuda_reason,
    }
    from autograd_gpu import get_num_threads

    info["ours_threads"] = get_num_threads()
    if env.torch is not None:
        info["torch_threads"] = env.torch.get_num_threads()
    info["thread_env"] = {k: os.environ[k] for k in THREAD_VARS if k in os.environ}
    try:
        info["load_avg_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    return info


def versions(env):
    import numpy

    import autograd_gpu

    out = {"autograd_gpu": autograd_gpu.__version__, "numpy": numpy.__version__}
    out["torch"] = env.torch.__version__ if env.torch is not None else None
    try:
        import cupy

        out["cupy"] = cupy.__version__
    except Exception:
        out["cupy"] = None
    return out


# ---------------------------------------------------------------- printing


def fmt_time(cell):
    """A result cell as a short string: '12.3 us', 'no GPU', 'n/a', 'ERROR'."""
    if cell is None:
        return "-"
    if "median" in cell:
        s = cell["median"]
        if s < 1e-3:
            return f"{s * 1e6:.1f} us"
        if s < 1:
            return f"{s * 1e3:.2f} ms"
        return f"{s:.3f} s"
    if "error" in cell:
        return "ERROR"
    reason = cell.get("unavailable", "")
    if reason.startswith("no GPU"):
        return "no GPU"
    if reason.startswith("skipped"):
        return "skipped"
    return "n/a"


def fmt_ratio(x):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:.0f}x"
    if x >= 10:
        return f"{x:.1f}x"
    return f"{x:.2f}x"


TERM_RATIOS = (("gpu_speedup", "GPU x"), ("ours_vs_torch_cpu", "/torch"),
               ("ours_vs_torch_cuda", "/torch-cu"), ("ours_vs_numpy", "/numpy"),
               ("ours_vs_copy_host", "/copy"))


def table_header(label_width):
    cols = [f"{'':<{label_width}}"] + [f"{h:>10}" for _, h in IMPLS] + [f"{h:>9}" for _, h in TERM_RATIOS]
    return " ".join(cols)


def table_line(row, label_width):
    cols = [f"{row['label'][:label_width]:<{label_width}}"]
    cols += [f"{fmt_time(row['results'].get(k)):>10}" for k in IMPL_KEYS]
    cols += [f"{fmt_ratio(row['ratios'].get(k)):>9}" for k, _ in TERM_RATIOS]
    return " ".join(cols)


def ratios(results):
    out = {}
    for name, (num, den, _) in RATIOS.items():
        a, b = results.get(num) or {}, results.get(den) or {}
        if "median" in a and "median" in b and b["median"] > 0:
            out[name] = a["median"] / b["median"]
        else:
            out[name] = None
    return out
