"""Shared fixtures: the devices to run on, and PyTorch as the oracle where importable.

Where real CuPy has no usable GPU, the strict CuPy stand-in of tests/cupy_standin takes its
place (see its docstring), so the suite's cuda cases run on every machine; with a GPU the
real CuPy is used. AUTOGRAD_GPU_STANDIN=0 turns the stand-in off (the cuda cases then skip),
AUTOGRAD_GPU_STANDIN_DEVICES sets its number of devices (default 2). Tests run with the CPU
as the default device; the cuda cases ask for their device.
"""
import inspect
import os
import sys

import numpy as np
import pytest

STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cupy_standin")


def _manifest(real):
    """What CuPy 14 has: its names per module, ndarray's methods, its functions' signatures."""
    mods = {"cupy": real, "cupy.linalg": real.linalg, "cupy.random": real.random,
            "cupy.fft": real.fft}
    names = {m: {n for n in dir(mod) if not n.startswith("_")} for m, mod in mods.items()}
    names["ndarray"] = {n for n in dir(real.ndarray) if not n.startswith("_")}
    sigs = {}
    for m, mod in mods.items():
        for n in names[m]:
            obj = getattr(mod, n, None)
            if inspect.isfunction(obj):
                try:
                    sigs[f"{m}.{n}"] = inspect.signature(obj)
                except (TypeError, ValueError):
                    pass
    names["signatures"] = sigs
    return names


def _use_cupy_standin():
    if os.environ.get("AUTOGRAD_GPU_STANDIN", "1") == "0":
        return False
    try:
        import cupy as real

        if real.cuda.runtime.getDeviceCount() > 0 and real.is_available():
            return False  # a real GPU: the real CuPy
    except ImportError:
        real = None
    except Exception:
        pass
    manifest = _manifest(real) if real is not None else None
    for name in list(sys.modules):
        if name.split(".")[0] in ("cupy", "cupyx", "cupy_backends"):
            del sys.modules[name]
    sys.path.insert(0, STANDIN)
    import cupy

    cupy._core.install(manifest)
    return True


os.environ.setdefault("AUTOGRAD_GPU_DEVICE", "cpu")
CUPY_STANDIN = _use_cupy_standin()

import autograd_gpu as ag  # noqa: E402

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def _cuda_skip_reason():
    if ag.cuda.is_available():
        return None
    return f"no usable CUDA device here: {ag.cuda.unavailable_reason()}"


def pytest_collection_modifyitems(config, items):
    reason = _cuda_skip_reason()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(params=DEVICES)
def device(request):
    """Each test that takes `device` runs on the CPU and, where one is usable, on CUDA."""
    return request.param


def _import_torch():
    if os.environ.get("AUTOGRAD_GPU_ORACLE") == "0":
        return None, "the PyTorch oracle is switched off (make test ORACLE=0)"
    try:
        import torch
    except ImportError as e:
        return None, f"PyTorch is not importable ({e}); install torch==2.13.0 for oracle tests"
    return torch, None


@pytest.fixture(scope="session")
def torch():
    """PyTorch (CPU), or a skip that says why it is not here."""
    mod, reason = _import_torch()
    if mod is None:
        pytest.skip(reason)
    mod.set_default_dtype(mod.float32)
    return mod


def to_numpy(t):
    """A host NumPy copy of an autograd_gpu tensor (either device)."""
    return t.detach().cpu().numpy()


def needs_two_devices():
    """Skips the calling test where fewer than two CUDA devices are usable."""
    import autograd_gpu as ag

    if ag.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices (the stand-in has two; this machine's GPU count is less)")


@pytest.fixture
def rng():
    return np.random.default_rng(0)
