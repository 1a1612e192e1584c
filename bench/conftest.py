"""pytest options and hooks of the benchmark suite (bench/bench_suite.py).

Only the suite's own runs load this file (`python -m bench`, or pytest given bench/bench_suite.py):
`make test` collects tests/ and times nothing. The options:

    --bench-quick        tiny sizes, few repeats (the tests' quick mode)
    --bench-only IDS     comma-separated workload ids (overhead, elementwise, matmul, training,
                         optimizer, least_squares, models)
    --bench-threads N    threads for ours, PyTorch, BLAS and OpenMP
    --bench-sequential   time each case on its own instead of interleaving a row's columns

Where pytest-benchmark is not installed (a lent machine's own Python), bench/minibench.py
stands in for it: the same cases, fixture and JSON, without its tables and comparisons.
"""
import os
import sys

import pytest

from bench import harness

try:
    import pytest_benchmark  # noqa: F401
except ImportError:  # (a machine with pytest alone: the suite's stand-in for the plugin)
    from bench import minibench
else:
    minibench = None


def pytest_addhooks(pluginmanager):
    if minibench is not None:
        pluginmanager.add_hookspecs(minibench.Hooks)


def pytest_addoption(parser):
    if minibench is not None:
        minibench.addoption(parser)
    g = parser.getgroup("bench", "autograd_gpu benchmark suite")
    g.addoption("--bench-quick", action="store_true", help="tiny sizes, few repeats (seconds)")
    g.addoption("--bench-only", default="", help="comma-separated workload ids")
    g.addoption("--bench-threads", type=int, default=None,
                help="threads for ours, PyTorch, BLAS and OpenMP")
    g.addoption("--bench-sequential", action="store_true",
                help="time each case on its own (no interleaving of a row's columns)")


def pytest_configure(config):
    if minibench is not None:
        minibench.configure(config)
    threads = config.getoption("bench_threads")
    if threads:
        # The BLAS and OpenMP pools take their size when NumPy (or PyTorch) loads.
        if any(m in sys.modules for m in ("numpy", "torch")):
            if os.environ.get("OMP_NUM_THREADS") != str(threads):
                print(f"bench: NumPy is already loaded, BLAS keeps its thread count; "
                      f"set OMP_NUM_THREADS={threads} beforehand (python -m bench does)", flush=True)
        else:
            for var in harness.THREAD_VARS:
                os.environ[var] = str(threads)
    from bench.suite import BenchRun

    def write(line):
        # the row's line as it finishes, past pytest's capture of the case's output
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capman = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or capman is None:
            print(line, flush=True)
            return
        with capman.global_and_fixture_disabled():
            if getattr(getattr(reporter, "_tw", None), "width_of_current_line", 0):
                reporter.write("\n")  # (after the progress dots)
            reporter.write_line(line)

    try:
        config._bench_run = BenchRun(
            quick=config.getoption("bench_quick"),
            only=config.getoption("bench_only").split(","),
            sequential=config.getoption("bench_sequential"),
            threads=threads, write=write)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        run = metafunc.config._bench_run
        metafunc.parametrize("case", run.cases, ids=[run.case_id(c) for c in run.cases])


def pytest_collection_finish(session):
    session.config._bench_run.select(session.items)


@pytest.fixture(scope="session")
def bench_run(request):
    return request.config._bench_run


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["bench"] = config._bench_run.machine_info()


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["bench"] = config._bench_run.doc()
