"""Builds the kernels' host test library and the device compile checks, cached by source hash.

Used by tests/test_kernels.py. Build outputs go under the system temp dir, in a folder
named by a hash of every source and the command line, so an unchanged tree compiles nothing.
"""
import hashlib
import os
import shutil
import subprocess
import tempfile

from autograd_gpu.fused._loader import kernel_dir

# the sources the library loads (kernels/ in a checkout, autograd_gpu/kernels when installed)
KERNELS = os.path.realpath(kernel_dir())
HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "harness.cpp")
CACHE = os.path.join(tempfile.gettempdir(), "autograd_gpu_kernel_build")


def kernel_files():
    return sorted(f for f in os.listdir(KERNELS) if f.endswith((".cu", ".cuh")))


def _digest(paths, extra):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(p.encode() + b"\0" + f.read())
    h.update(repr(extra).encode())
    return h.hexdigest()[:20]


def _run(cmd, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"compile failed: {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")


def host_compiler():
    for c in (os.environ.get("CXX"), "g++", "c++", "clang++"):
        if c and shutil.which(c):
            return c
    return None


def host_library():
    """Path of the shared library built from harness.cpp (None if no C++ compiler)."""
    cxx = host_compiler()
    if cxx is None:
        return None
    flags = ["-O2", "-ffp-contract=off", "-fno-fast-math", "-std=c++14", "-shared", "-fPIC"]
    srcs = [HARNESS] + [os.path.join(KERNELS, f) for f in kernel_files()]
    key = _digest(srcs, (cxx, flags))
    out_dir = os.path.join(CACHE, "host-" + key)
    lib = os.path.join(out_dir, "libagkernels.so")
    if not os.path.exists(lib):
        tmp = lib + f".{os.getpid()}.tmp"
        _run([cxx, *flags, "-I", KERNELS, "-o", tmp, HARNESS], out_dir)
        os.replace(tmp, lib)
    return lib


def nvcc():
    return shutil.which("nvcc")


def device_compile(source_path, archs, include_dirs=(), extra_srcs=()):
    """Compiles `source_path` as device code for every arch in `archs` in one nvcc call;
    raises with nvcc's messages on failure; cached on success."""
    flags = ["-std=c++17", "-c"]
    for a in archs:
        flags += ["-gencode", f"arch=compute_{a},code=sm_{a}"]
    srcs = [source_path] + [os.path.join(KERNELS, f) for f in kernel_files()] + list(extra_srcs)
    key = _digest(srcs, (flags, list(include_dirs)))
    out_dir = os.path.join(CACHE, "nvcc-" + key)
    stamp = os.path.join(out_dir, "ok")
    if os.path.exists(stamp):
        return
    inc = []
    for d in (KERNELS, *include_dirs):
        inc += ["-I", d]
    _run([nvcc(), *flags, *inc, "-o", os.path.join(out_dir, "out.o"), source_path], out_dir)
    with open(stamp, "w") as f:
        f.write("ok\n")
