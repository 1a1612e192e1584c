"""Shared fixtures: the devices to run on, and PyTorch as the oracle where importable."""
import os

import numpy as np
import pytest

import autograd_gpu as ag

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


@pytest.fixture
def rng():
    return np.random.default_rng(0)
