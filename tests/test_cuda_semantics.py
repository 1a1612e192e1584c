"""Where CuPy differs from NumPy and PyTorch, the library decides, the same on both devices.

Each case here is one of CuPy's differences (GUIDE section 4): work runs on the *current*
device, out-of-range indices wrap, views are always writeable, solve neither broadcasts nor
raises, NumPy arrays are refused as operands. On a machine without a GPU these run against
the strict CuPy stand-in (tests/cupy_standin), with two devices.
"""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn, optim
from conftest import to_numpy

pytestmark = pytest.mark.gpu


def _two_devices():
    if ag.cuda.device_count() < 2:
        pytest.skip("needs two CUDA devices (the stand-in has two; this machine's GPU count is less)")


# ---------------------------------------------------------------- placement on cuda:1


def test_ops_and_backward_on_the_second_device_stay_there():
    _two_devices()
    x = ag.arange(6.0, device="cuda:1").reshape(2, 3).requires_grad_()
    y = (ag.tanh(x) * 2 + x ** 2).sum(dim=1)
    assert y.device == ag.device("cuda:1")
    y.sum().backward()
    assert x.grad.device == ag.device("cuda:1")
    ref = ag.arange(6.0).reshape(2, 3).requires_grad_()
    (ag.tanh(ref) * 2 + ref ** 2).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), to_numpy(ref.grad), rtol=1e-6)
    # second order on cuda:1
    (g,) = ag.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (h,) = ag.autograd.grad(g.sum(), x)
    assert g.device == h.device == ag.device("cuda:1")
    np.testing.assert_allclose(to_numpy(h), 6 * to_numpy(x.detach()), rtol=1e-6)


@pytest.mark.parametrize("opt", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_a_model_on_the_second_device_trains_there_as_on_the_cpu(opt):
    _two_devices()
    ag.manual_seed(0)
    cpu = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    gpu = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).double()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda:1")
    assert all(p.device == ag.device("cuda:1") for p in gpu.parameters())
    kw = {"lr": 0.05} if opt != "Adadelta" else {}
    oc, og = getattr(optim, opt)(cpu.parameters(), **kw), getattr(optim, opt)(gpu.parameters(), **kw)
    X = np.random.default_rng(0).standard_normal((16, 4))
    for _ in range(3):
        for model, o, dev in ((cpu, oc, "cpu"), (gpu, og, "cuda:1")):
            o.zero_grad()
            loss = ((model(ag.tensor(X, device=dev)) - 1.0) ** 2).mean()
            loss.backward()
            o.step()
    for pc, pg in zip(cpu.parameters(), gpu.parameters()):
        assert pg.device == ag.device("cuda:1") and pg.grad.device == ag.device("cuda:1")
        for v in og.state[pg].values():
            if isinstance(v, ag.Tensor) and v.ndim:
                assert v.device == ag.device("cuda:1")
        np.testing.assert_allclose(to_numpy(pg), to_numpy(pc), rtol=1e-10, atol=1e-12)


def test_load_map_location_moves_tensors_between_devices(tmp_path):
    _two_devices()
    path = tmp_path / "two.agt"
    ag.save({"a": ag.ones(2, device="cuda:0"), "b": ag.full((2,), 2.0, device="cuda:1"),
             "c": ag.zeros(2)}, path)
    r = ag.load(path)
    assert [r[k].device for k in "abc"] == [ag.device("cuda:0"), ag.device("cuda:1"), ag.device("cpu")]
    r = ag.load(path, map_location={"cuda:0": "cuda:1", "cuda:1": "cpu", "cpu": "cuda:0"})
    assert [r[k].device for k in "abc"] == [ag.device("cuda:1"), ag.device("cpu"), ag.device("cuda:0")]
    r = ag.load(path, map_location=lambda t, loc: t.to("cuda:1") if loc == "cpu" else "cpu")
    assert [r[k].device for k in "abc"] == [ag.device("cpu"), ag.device("cpu"), ag.device("cuda:1")]
    assert [r[k].tolist() for k in "abc"] == [[1.0, 1.0], [2.0, 2.0], [0.0, 0.0]]


# ---------------------------------------------------------------- mixed devices


@pytest.mark.parametrize("make", [
    lambda x: np.ones(3) * x,
    lambda x: x + np.ones(3),
    lambda x: np.ones((3, 3)) @ x,
    lambda x: ag.where(np.array([True, False, True]), x, 0.0),
    lambda x: x + ag.ones(3),
], ids=["ndarray*t", "t+ndarray", "ndarray@t", "where-ndarray-mask", "t+cpu-tensor"])
def test_host_values_with_cuda_tensors_are_a_device_mismatch(make):
    x = ag.ones(3, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Expected all tensors to be on the same device, but "
                                           r"found at least two devices, cuda:0 and cpu"):
        make(x)


def test_tensors_on_two_gpus_are_a_device_mismatch():
    _two_devices()
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:0 and cuda:1"):
        ag.ones(3, device="cuda:0") * ag.ones(3, device="cuda:1")


def test_cpu_logits_with_cuda_targets_are_a_device_mismatch():
    with pytest.raises(RuntimeError, match="same device.*cpu and cuda:0"):
        nn.functional.cross_entropy(ag.zeros(2, 3), ag.tensor([0, 1], device="cuda"))


# ---------------------------------------------------------------- CuPy's other differences


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_out_of_range_indices_raise_instead_of_wrapping(dev):
    x = ag.arange(3.0, device=dev)
    idx = ag.tensor([4], device=dev)
    with pytest.raises(IndexError, match="index 4 is out of bounds for dimension 0 with size 3"):
        x[idx]
    with pytest.raises(IndexError, match="index 4 is out of bounds"):
        x[idx] = 7.0
    assert x.tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match="index 5 is out of bounds"):
        ag.gather(x, 0, ag.tensor([5], device=dev))
    with pytest.raises(IndexError, match="index out of range in self"):
        nn.functional.embedding(ag.tensor([7], device=dev), ag.ones(3, 2, device=dev))


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_singular_matrices_raise_on_both_devices(dev):
    with pytest.raises(RuntimeError, match="linalg.inv: .*singular"):
        ag.inverse(ag.zeros(2, 2, device=dev))
    with pytest.raises(RuntimeError, match="linalg.solve: .*singular"):
        ag.solve(ag.zeros(2, 2, device=dev), ag.ones(2, device=dev))


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_solve_broadcasts_batch_dimensions_on_both_devices(dev, rng):
    a = rng.standard_normal((2, 1, 3, 3)) + 3 * np.eye(3)
    b = rng.standard_normal((4, 3, 2))
    x = ag.solve(ag.tensor(a, device=dev), ag.tensor(b, device=dev))
    assert x.shape == (2, 4, 3, 2)
    np.testing.assert_allclose(to_numpy(x), np.linalg.solve(a, b), rtol=1e-10)


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
@pytest.mark.parametrize("write", [
    lambda e, dev: e.add_(1), lambda e, dev: e.fill_(2), lambda e, dev: e.mul_(2),
    lambda e, dev: e.copy_(ag.ones(2, 3, device=dev)), lambda e, dev: e.__setitem__(0, 5.0),
    lambda e, dev: e.clamp_(0, 1),
], ids=["add_", "fill_", "mul_", "copy_", "setitem", "clamp_"])
def test_writes_through_a_broadcast_view_are_refused_alike(dev, write):
    x = ag.zeros(3, device=dev)
    e = x.expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor "
                                           "refers to a single memory location"):
        write(e, dev)
    assert x.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_binary_cross_entropy_checks_its_input_range_on_both_devices(dev):
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        nn.functional.binary_cross_entropy(ag.tensor([1.5], device=dev), ag.tensor([1.0], device=dev))


@pytest.mark.parametrize("dev", ["cpu", "cuda"])
def test_a_bad_in_place_op_gives_pytorchs_message_on_both_devices(dev):
    i = ag.zeros(3, dtype=ag.int64, device=dev)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        i += 1.5
    assert i.tolist() == [0, 0, 0]


# ---------------------------------------------------------------- printing


@pytest.mark.parametrize("shape", [(2000,), (40, 50), (3, 7, 100), (7, 7, 7, 7), (1001,), (6, 200),
                                   (8, 8, 8, 8)])
def test_repr_of_a_large_cuda_tensor_copies_only_what_it_prints(shape, monkeypatch):
    from autograd_gpu import _formatting

    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    on_gpu = ag.tensor(x, device="cuda")
    real = _formatting.backend.execute.host_copy
    with monkeypatch.context() as m:  # the reference: the whole array copied, then printed
        m.setattr(_formatting, "_on_host", real)
        whole = repr(on_gpu)
    copied = []
    monkeypatch.setattr(_formatting.backend.execute, "host_copy",
                        lambda a: copied.append(a.size) or real(a))
    assert repr(on_gpu) == whole
    assert "..." in whole and "device='cuda:0'" in whole
    # the summary shows 3 + 3 entries per long axis; one more stands for the "..."
    assert copied and copied[-1] <= np.prod([min(n, 7) for n in shape])
    assert repr(ag.tensor(x)) == whole.replace(",\n       device='cuda:0'", "").replace(
        ", device='cuda:0'", "")


# ---------------------------------------------------------------- subnormals in fused kernels


_TINY = np.finfo(np.float32).tiny


@pytest.mark.parametrize("op", ["relu", "leaky_relu", "abs", "elu", "log", "exp", "sqrt",
                                "sigmoid", "tanh", "clamp", "mul", "div"])
def test_fused_backward_kernels_keep_float32_subnormals(op):
    """CuPy compiles kernels with -ftz=true (the stand-in runs them with FTZ and DAZ set):
    the fused backward must still give the CPU's (and PyTorch's) values where inputs,
    gradients or results are subnormal."""
    x0 = np.array([_TINY / 4, -_TINY / 4, _TINY / 1024, 3e-39, -3e-39, 0.5, -0.5, 2.0],
                  np.float32)
    if op in ("log", "sqrt"):
        x0 = np.abs(x0)
    g0 = np.array([_TINY / 8, -_TINY / 2, 1.0, 1e-39, -2e-39, _TINY / 3, 3.0, -1e-42],
                  np.float32)
    fns = {
        "relu": ag.relu, "leaky_relu": lambda x: ag.nn.functional.leaky_relu(x, 0.5),
        "abs": ag.abs, "elu": ag.nn.functional.elu, "log": ag.log, "exp": ag.exp,
        "sqrt": ag.sqrt, "sigmoid": ag.sigmoid, "tanh": ag.tanh,
        "clamp": lambda x: ag.clamp(x, min=0.0, max=1.0),
        "mul": lambda x: x * ag.tensor(x0[::-1].copy(), device=x.device),
        "div": lambda x: x / ag.tensor(np.full(8, 3.0, np.float32), device=x.device),
    }
    grads = []
    for dev in ("cpu", "cuda"):
        x = ag.tensor(x0, device=dev, requires_grad=True)
        with np.errstate(over="ignore"):  # (1 / a subnormal overflows to inf, as in PyTorch)
            fns[op](x).backward(ag.tensor(g0, device=dev))
        grads.append(to_numpy(x.grad))
    cpu, gpu = grads
    assert np.any((cpu != 0) & (np.abs(cpu) < _TINY)) or op in ("log", "sqrt", "exp", "div")
    np.testing.assert_array_equal(gpu.view(np.uint32), cpu.view(np.uint32))
