"""A stand-in for the part of pytest-benchmark the suite uses, for a machine whose Python has
pytest but not pytest-benchmark (a lent CUDA machine with no network: `make gpu-check`).

bench/conftest.py loads it only when `import pytest_benchmark` fails. It gives the
`benchmark` fixture (group, extra_info, pedantic, stats), the `benchmark` mark's timer, and
writes the same JSON layout (machine_info, commit_info, benchmarks with their stats and
data, datetime, version) for --benchmark-json and --benchmark-save/--benchmark-storage, so
that bench/report.py reads its files like pytest-benchmark's. It prints no tables and does
not compare (--benchmark-compare says so and is ignored)."""
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import time

import pytest

VERSION = "minibench"
# options of pytest-benchmark that `python -m bench` passes: accepted, most of them unused
OPTIONS = {"--benchmark-only": dict(action="store_true"),
           "--benchmark-quiet": dict(action="store_true"),
           "--benchmark-columns": dict(default=None), "--benchmark-sort": dict(default=None),
           "--benchmark-json": dict(default=None), "--benchmark-storage": dict(default=None),
           "--benchmark-save": dict(default=None), "--benchmark-compare": dict(default=None),
           "--benchmark-compare-fail": dict(default=None)}


def machine_id():
    return "-".join([platform.system(), platform.python_implementation(),
                     ".".join(platform.python_version_tuple()[:2]), platform.architecture()[0]])


class Stats:
    def __init__(self, data):
        s = sorted(data)
        n = len(s)
        self.data, self.rounds = list(data), n
        self.min, self.max, self.median = s[0], s[-1], statistics.median(s)
        self.mean = statistics.mean(s)
        self.stddev = statistics.stdev(s) if n > 1 else 0.0
        q = statistics.quantiles(s, n=4) if n > 1 else [s[0]] * 3
        self.q1, self.q3 = q[0], q[2]
        self.iqr, self.total = self.q3 - self.q1, sum(s)
        self.ops = 1 / self.mean if self.mean else 0.0

    def as_dict(self, iterations):
        out = {k: getattr(self, k) for k in ("min", "max", "mean", "stddev", "rounds", "median",
                                             "iqr", "q1", "q3", "total", "ops", "data")}
        out["iterations"] = iterations
        return out


class _Metadata:
    def __init__(self, stats, iterations):
        self.stats, self.iterations = stats, iterations


class Benchmark:
    """What bench/suite.py's cases use of pytest-benchmark's fixture."""

    def __init__(self, node, timer, record):
        self.node, self.timer, self.record = node, timer, record
        self.group, self.extra_info, self.stats = None, {}, None

    def pedantic(self, target, args=(), kwargs=None, rounds=1, iterations=1, warmup_rounds=0):
        kwargs = kwargs or {}
        for _ in range(warmup_rounds):
            target(*args, **kwargs)
        data, result = [], None
        for _ in range(rounds):
            t0 = self.timer()
            for _ in range(iterations):
                result = target(*args, **kwargs)
            data.append((self.timer() - t0) / iterations)
        self.stats = _Metadata(Stats(data), iterations)
        self.record(self)
        return result

    def as_dict(self):
        name = self.node.name
        param = getattr(getattr(self.node, "callspec", None), "id", None)
        params = getattr(getattr(self.node, "callspec", None), "params", None)
        return {"group": self.group, "name": name, "fullname": self.node.nodeid,
                "params": params, "param": param, "extra_info": self.extra_info,
                "options": {"timer": getattr(self.timer, "__name__", str(self.timer))},
                "stats": self.stats.stats.as_dict(self.stats.iterations)}


class Plugin:
    def __init__(self, config):
        self.config, self.benchmarks = config, []

    @pytest.fixture
    def benchmark(self, request):
        marker = request.node.get_closest_marker("benchmark")
        timer = (marker.kwargs.get("timer") if marker else None) or time.perf_counter
        return Benchmark(request.node, timer, self.benchmarks.append)

    def _json(self):
        try:
            commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                                    cwd=str(self.config.rootpath), timeout=10).stdout.strip()
            dirty = bool(subprocess.run(["git", "status", "--porcelain", "-uno"], capture_output=True,
                                        text=True, cwd=str(self.config.rootpath), timeout=10).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            commit, dirty = "unversioned", False
        machine_info = {"node": platform.node(), "machine": platform.machine(),
                        "python_implementation": platform.python_implementation(),
                        "python_version": platform.python_version(), "release": platform.release(),
                        "system": platform.system()}
        self.config.hook.pytest_benchmark_update_machine_info(config=self.config, machine_info=machine_info)
        out = {"machine_info": machine_info,
               "commit_info": {"id": commit or "unversioned", "dirty": dirty},
               "benchmarks": [b.as_dict() for b in self.benchmarks],
               "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
               "version": VERSION}
        self.config.hook.pytest_benchmark_update_json(config=self.config, benchmarks=self.benchmarks,
                                                      output_json=out)
        return out

    def pytest_sessionfinish(self, session):
        opt = self.config.getoption
        if opt("benchmark_compare"):
            print("bench: pytest-benchmark is not installed here: no comparison", flush=True)
        if not self.benchmarks or not (opt("benchmark_json") or opt("benchmark_save")):
            return
        doc = self._json()
        paths = []
        if opt("benchmark_json"):
            paths.append(opt("benchmark_json"))
        if opt("benchmark_save"):
            folder = os.path.join(opt("benchmark_storage") or ".benchmarks", machine_id())
            os.makedirs(folder, exist_ok=True)
            nums = [int(os.path.basename(p)[:4]) for p in glob.glob(os.path.join(folder, "[0-9]" * 4 + "_*.json"))]
            paths.append(os.path.join(folder, f"{max(nums, default=0) + 1:04d}_{opt('benchmark_save')}.json"))
        for path in paths:
            with open(path, "w") as f:
                json.dump(doc, f, indent=4)
            print(f"Wrote benchmark data in: {path}", flush=True)


class Hooks:
    """The two hooks of pytest-benchmark that bench/conftest.py implements."""

    @pytest.hookspec
    def pytest_benchmark_update_machine_info(self, config, machine_info):
        pass

    @pytest.hookspec
    def pytest_benchmark_update_json(self, config, benchmarks, output_json):
        pass


def addoption(parser):
    g = parser.getgroup("benchmark", "pytest-benchmark's options (not installed: bench/minibench.py)")
    for name, kw in OPTIONS.items():
        g.addoption(name, **kw)


def configure(config):
    config.addinivalue_line("markers", "benchmark: the suite's timer (bench/minibench.py)")
    config.pluginmanager.register(Plugin(config), "minibench")
