"""The C tape's replay on CUDA arrays: gradient sums and .grad writes on the gradients' own
device, in place where nobody else sees the array (as on the CPU), and loss.backward()'s
fast path for a 0-d CUDA loss. On a machine without a GPU these run against the strict CuPy
stand-in (tests/cupy_standin), which refuses an operand that is not on the current device.
"""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd import _tape
from conftest import to_numpy

pytestmark = pytest.mark.gpu


def _two_devices():
    if ag.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices (the stand-in has two; this machine's GPU count is less)")


def test_gradients_summed_on_another_device_than_the_outputs_stay_there():
    _two_devices()
    x = ag.tensor([1.0, 2.0], device="cuda:0", requires_grad=True)
    y = x.to("cuda:1")
    loss = ((y * y).sum() + (y * 3).sum()).to("cuda:0")  # y's two gradients meet on cuda:1
    loss.backward()
    assert x.grad.device == ag.device("cuda:0")
    assert to_numpy(x.grad).tolist() == [5.0, 7.0]  # 2 y + 3


def test_a_leaf_on_another_device_accumulates_there():
    _two_devices()
    w = ag.tensor([1.0, 2.0], device="cuda:1", requires_grad=True)
    for _ in range(2):  # the second backward adds into the existing .grad, on cuda:1
        ((w * w).sum() + w.sum()).to("cuda:0").backward()
    assert w.grad.device == ag.device("cuda:1")
    assert to_numpy(w.grad).tolist() == [6.0, 10.0]  # twice 2 w + 1


class _Fresh(ag.autograd.Function):
    """Identity whose backward returns a new array: its address is noted in `made`, and the
    array itself is also kept in `held` when the forward was told to hold it."""
    made, held = [], []

    @staticmethod
    def forward(ctx, x, hold):
        ctx.hold = hold
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        out = g * 1.0
        _Fresh.made.append(ag.backend.data_ptr(out._data))
        if ctx.hold:
            _Fresh.held.append(out)
        return out, None


def test_a_leafs_second_gradient_is_summed_in_place_into_a_cuda_array_nobody_else_sees():
    _Fresh.made.clear()
    x = ag.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (_Fresh.apply(x, False) * 2 + _Fresh.apply(x, False) * 3).sum().backward()
    assert to_numpy(x.grad).tolist() == [5.0, 5.0]
    # the first gradient's own array took the second and became .grad (no new array)
    assert ag.backend.data_ptr(x.grad._data) == _Fresh.made[0]


def test_an_array_someone_else_holds_is_never_summed_into_on_cuda():
    _Fresh.made.clear()
    _Fresh.held.clear()
    x = ag.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    (_Fresh.apply(x, True) * 2 + _Fresh.apply(x, True) * 3).sum().backward()
    assert to_numpy(x.grad).tolist() == [5.0, 5.0]
    assert sorted(to_numpy(h).tolist() for h in _Fresh.held) == [[2.0, 2.0], [3.0, 3.0]]
    assert ag.backend.data_ptr(x.grad._data) not in _Fresh.made


@pytest.mark.parametrize("device", ["cuda:0", "cuda:1"])
def test_loss_backward_of_a_0d_cuda_loss_runs_the_fast_path_on_its_device(device):
    if device == "cuda:1":
        _two_devices()
    w = ag.tensor([[1.0, -2.0], [0.5, 3.0]], device=device, requires_grad=True)
    loss = (w.tanh() * w).sum()
    assert _tape.backward_scalar(loss, False, False) is True
    assert w.grad.device == ag.device(device)
    ref = ag.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    (ref.tanh() * ref).sum().backward()
    np.testing.assert_allclose(to_numpy(w.grad), to_numpy(ref.grad), rtol=1e-15, atol=0)
    # a 1-element tensor that is not 0-d, and a leaf, are left to the general path
    assert _tape.backward_scalar((w * 1.0).sum().reshape(1), False, False) is False
    assert _tape.backward_scalar(w, False, False) is False
