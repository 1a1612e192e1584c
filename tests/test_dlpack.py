"""DLPack: zero-copy exchange with PyTorch, NumPy and CuPy, both ways; shared memory is
checked by writing through one side and reading the other.

The cuda cases need CuPy's own DLPack (``cupy.ndarray.__dlpack__``, ``cupy.from_dlpack``):
the suite's CuPy stand-in (tests/cupy_standin) holds host memory and has none, so there they
skip with that reason and run on a machine with a GPU.
"""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.utils import dlpack
from conftest import to_numpy


def test_from_torch_shares_memory(torch):
    t = torch.arange(6.0).reshape(2, 3)
    x = ag.from_dlpack(t)
    assert x.dtype == ag.float32 and tuple(x.shape) == (2, 3) and x.device == ag.device("cpu")
    x[0, 1] = 9.0  # written here, seen there
    assert t[0, 1].item() == 9.0
    t[1, 2] = -4.0  # and back
    assert x[1, 2].item() == -4.0


def test_torch_takes_our_tensor(torch):
    x = ag.arange(4.0, dtype=ag.float64)
    t = torch.from_dlpack(x)
    assert t.dtype == torch.float64 and t.tolist() == [0.0, 1.0, 2.0, 3.0]
    t[0] = 42.0
    assert x[0].item() == 42.0


@pytest.mark.parametrize("view", ["transpose", "strided"])
def test_views_keep_their_layout(view, torch):
    base = torch.arange(12.0).reshape(3, 4)
    t = base.T if view == "transpose" else base[:, ::2]
    x = ag.from_dlpack(t)
    assert x.tolist() == t.tolist()
    x[0, 0] = 100.0
    assert base[0, 0].item() == 100.0


def test_capsules_both_ways(torch):
    t = torch.zeros(3, dtype=torch.int32)
    x = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(t))
    assert x.dtype == ag.int32
    x[1] = 5  # a legacy capsule's memory is writable, as PyTorch takes it
    assert t.tolist() == [0, 5, 0]
    y = ag.ones(2, 2)
    back = torch.utils.dlpack.from_dlpack(dlpack.to_dlpack(y))
    back[1, 1] = 3.0
    assert y[1, 1].item() == 3.0


def test_a_capsule_is_consumed_once(torch):
    cap = torch.utils.dlpack.to_dlpack(torch.ones(2))
    dlpack.from_dlpack(cap)
    with pytest.raises(RuntimeError, match="consumed only once"):
        dlpack.from_dlpack(cap)


def test_capsule_memory_outlives_the_producer(torch):
    import gc

    x = dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(torch.arange(5.0)))
    gc.collect()  # the torch tensor is gone; the capsule's owner keeps the memory
    assert x.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "uint8", "int16",
                                   "int32", "int64", "bool"])
def test_dtypes_round_trip(dtype, torch):
    t = (torch.arange(4) % 2).to(getattr(torch, dtype))
    x = ag.from_dlpack(t)
    assert x.dtype == getattr(ag, dtype) and x.tolist() == t.tolist()
    assert torch.from_dlpack(x).dtype == t.dtype


def test_numpy_both_ways():
    a = np.arange(6.0).reshape(2, 3)
    x = ag.from_dlpack(a)
    x[0, 0] = 7.0
    assert a[0, 0] == 7.0
    y = ag.zeros(3)
    b = np.from_dlpack(y)
    b[2] = 1.5
    assert y.tolist() == [0.0, 0.0, 1.5]


def test_device_and_errors(torch):
    x = ag.ones(2)
    assert x.__dlpack_device__() == (1, 0)
    assert tuple(int(v) for v in torch.ones(1).__dlpack_device__()) == x.__dlpack_device__()
    w = ag.ones(2, requires_grad=True)
    with pytest.raises(BufferError) as ours:
        w.__dlpack__()
    with pytest.raises(BufferError) as theirs:
        torch.ones(2, requires_grad=True).__dlpack__()
    assert str(ours.value) == str(theirs.value)
    assert torch.from_dlpack(w.detach()).tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="__dlpack__"):
        ag.from_dlpack([1.0, 2.0])


def test_the_result_is_a_plain_leaf(torch):
    x = ag.from_dlpack(torch.ones(2))
    assert x.is_leaf and not x.requires_grad
    x.requires_grad_()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def _cupy_with_dlpack():
    import cupy

    if not hasattr(cupy.ndarray, "__dlpack__") or not hasattr(cupy, "from_dlpack"):
        pytest.skip("the CuPy stand-in holds host memory and has no DLPack "
                    "(cupy.ndarray.__dlpack__ / cupy.from_dlpack); runs with a real GPU")
    return cupy


@pytest.mark.gpu
def test_cupy_both_ways():
    cupy = _cupy_with_dlpack()
    a = cupy.arange(6, dtype=cupy.float32).reshape(2, 3)
    x = ag.from_dlpack(a)
    assert x.device == ag.device("cuda", a.device.id) and x.__dlpack_device__()[0] == 2
    x[0, 0] = 5.0
    assert float(a[0, 0]) == 5.0
    y = ag.zeros(3, device="cuda")
    b = cupy.from_dlpack(y)
    b[1] = 2.5
    assert to_numpy(y).tolist() == [0.0, 2.5, 0.0]
    cap = dlpack.to_dlpack(y)
    assert dlpack.from_dlpack(cap).device == y.device
