"""cupyx.profiler.benchmark, timed on the host (the stand-in runs synchronously)."""
import time

import numpy as np


class _Result:
    def __init__(self, name, cpu_times):
        self.name = name
        self.cpu_times = np.asarray(cpu_times)
        self.gpu_times = np.asarray([cpu_times])


def benchmark(func, args=(), kwargs={}, n_repeat=10000, *, name=None, n_warmup=10,
              max_duration=float("inf"), devices=None):
    for _ in range(n_warmup):
        func(*args, **kwargs)
    times, start = [], time.perf_counter()
    for _ in range(n_repeat):
        t = time.perf_counter()
        func(*args, **kwargs)
        times.append(time.perf_counter() - t)
        if time.perf_counter() - start > max_duration:
            break
    return _Result(name or getattr(func, "__name__", "func"), times)
