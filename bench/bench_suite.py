"""The benchmark suite as pytest-benchmark cases: each row of bench/workloads.py is a benchmark
group, each of its columns a case (`<workload>-<row>-<column>`). Run by `python -m bench`
(`make bench`); its options are in bench/conftest.py. The cases time, they assert nothing:
the goals are checked in bench/REPORT.md (bench/report.py)."""
import pytest

from bench import harness

# Every case reads the suite's clock: it waits for the device before each reading (GPU
# columns), or replays the repeats of an interleaved row (see harness.Clock).
pytestmark = pytest.mark.benchmark(timer=harness.clock)


def test_bench(benchmark, bench_run, case):
    bench_run.run_case(benchmark, case)
