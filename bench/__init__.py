"""The benchmark suite: autograd_gpu on cpu and cuda against PyTorch, hand-written NumPy and a
plain copy of the same bytes, as pytest-benchmark cases (bench/bench_suite.py: each row a
group, each column a case). `python -m bench` runs it, `python -m bench --quick` runs tiny
sizes in seconds, `python -m bench.report` rebuilds bench/REPORT.md from bench/results/."""
