"""The C extensions; everything else about the package is in pyproject.toml.

pip builds them on install, with the C compiler Python was built with:
* autograd_gpu.autograd._tape (autograd/_tape.c): the tape's hot loops; Python's headers only.
* autograd_gpu.backend._host_arith (backend/_host_arith.c): + - * / of host arrays, NumPy's
  unary loops called from C, and the host's C threads; NumPy's C headers too (numpy is a
  build requirement).
* autograd_gpu.backend._host_memory (backend/_host_memory.c): the host pool, NumPy's allocator
  for large arrays; NumPy's C headers.
* autograd_gpu.backend._host_optim (kernels/host_optim.cpp): the optimizer updates of
  kernels/optim.cuh for the host, where a C++ compiler is found (optional: without one, the
  NumPy formulas run instead), on _host_arith's threads.
* autograd_gpu.backend._host_grad (kernels/host_grad.cpp): the arithmetic backward formulas
  of kernels/elementwise_grad.cuh for the host, one pass each on _host_arith's threads
  (optional too: without it, the NumPy formulas run); NumPy's C headers.
"""
import numpy
from setuptools import Extension, setup

setup(ext_modules=[
    Extension("autograd_gpu.autograd._tape", ["autograd_gpu/autograd/_tape.c"]),
    Extension("autograd_gpu.backend._host_arith", ["autograd_gpu/backend/_host_arith.c"],
              include_dirs=[numpy.get_include()]),
    Extension("autograd_gpu.backend._host_memory", ["autograd_gpu/backend/_host_memory.c"],
              include_dirs=[numpy.get_include()]),
    Extension("autograd_gpu.backend._host_optim", ["kernels/host_optim.cpp"],
              include_dirs=["kernels"],
              depends=["kernels/optim.cuh", "kernels/ag_common.cuh", "kernels/host_optim_steps.inc",
                       "kernels/host_api.h"],
              language="c++",
              extra_compile_args=["-O3", "-std=c++14", "-ffp-contract=off", "-fno-fast-math",
                                  "-fno-math-errno"],
              optional=True),
    Extension("autograd_gpu.backend._host_grad", ["kernels/host_grad.cpp"],
              include_dirs=["kernels", numpy.get_include()],
              depends=["kernels/elementwise_grad.cuh", "kernels/ag_common.cuh", "kernels/host_api.h"],
              language="c++",
              extra_compile_args=["-O3", "-std=c++14", "-ffp-contract=off", "-fno-fast-math",
                                  "-fno-math-errno"],
              optional=True),
])
