"""The legacy surface against PyTorch: autograd.Variable, the legacy tensor types
(FloatTensor, ...), Tensor.type(), and torch.accelerator."""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd import Variable

LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
          "CharTensor", "ByteTensor", "BoolTensor"]


def _dtype_name(d):
    return str(d).split(".")[-1]


def test_variable_returns_a_tensor(torch):
    for mod, V in ((ag, Variable), (torch, torch.autograd.Variable)):
        t = mod.tensor([1.0, 2.0])
        v = V(t, requires_grad=True)
        assert type(v) is type(t) and v is not t
        assert v.requires_grad and v.is_leaf and v.tolist() == [1.0, 2.0]
        assert isinstance(t, V) and isinstance(v, V) and not isinstance(3.0, V)
        v2 = V(v * 2)  # history dropped, memory shared
        assert not v2.requires_grad and v2.grad_fn is None
        (v * v).sum().backward()
        assert v.grad.tolist() == [2.0, 4.0]
        assert tuple(V().shape) == (0,)
        with pytest.raises(TypeError, match="Variable data has to be a tensor, but got list"):
            V([1, 2])
        with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
            V(mod.tensor([1, 2]), requires_grad=True)
        with pytest.warns(UserWarning, match="volatile was removed"):
            V(t, volatile=True)
    t = ag.tensor([1.0, 2.0])
    v = Variable(t)
    v.add_(1)  # shares memory with the tensor it came from
    assert t.tolist() == [2.0, 3.0]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_types_construct_and_test(name, torch):
    ours, theirs = getattr(ag, name), getattr(torch, name)
    data = [1, 0, 2] if name != "BoolTensor" else [True, False, True]
    a, b = ours(data), theirs(data)
    assert _dtype_name(a.dtype) == _dtype_name(b.dtype) == _dtype_name(ours.dtype)
    assert a.tolist() == b.tolist()
    assert tuple(ours(2, 3).shape) == tuple(theirs(2, 3).shape) == (2, 3)
    assert tuple(ours(ag.Size([4])).shape) == (4,)
    assert tuple(ours().shape) == tuple(theirs().shape) == (0,)
    assert ours(np.array(data)).tolist() == theirs(np.array(data)).tolist()
    assert isinstance(a, ours) and isinstance(a, ag.Tensor) and not issubclass(ours, ag.Tensor)
    assert isinstance(b, theirs) and not issubclass(theirs, torch.Tensor)
    other = "DoubleTensor" if name != "DoubleTensor" else "FloatTensor"
    assert not isinstance(a, getattr(ag, other)) and not isinstance(b, getattr(torch, other))
    assert repr(ours) == repr(theirs) and ours.dtype.name == _dtype_name(theirs.dtype)
    assert not a.requires_grad and not ours.is_cuda


def test_legacy_constructor_errors(torch):
    for mod in (ag, torch):
        with pytest.raises(TypeError, match=r"new\(\): data must be a sequence \(got float\)"):
            mod.FloatTensor(2.5)
        with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=float, device=cpu, "
                                            r".*\(got TensorOptions\(dtype=long int, device=cpu"):
            mod.FloatTensor(mod.tensor([1, 2]))
        with pytest.raises(RuntimeError, match="Trying to create tensor with negative dimension "
                                               r"-1: \[2, -1\]"):
            mod.FloatTensor(2, -1)
        t = mod.tensor([1.0, 2.0])
        alias = mod.FloatTensor(t)
        alias[0] = 5.0
        assert t.tolist() == [5.0, 2.0]  # the same memory
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu but "
                                           "device type: cuda was passed"):
        ag.FloatTensor([1.0], device="cuda")


def test_type_names_and_conversions(torch, device):
    dtypes = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
    for d in dtypes:
        t = torch.zeros(2).to(getattr(torch, d))
        assert ag.zeros(2).to(getattr(ag, d)).type() == t.type()
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)
    for spec in ("torch.DoubleTensor", "DoubleTensor", "float64"):
        for t, mod in ((x, ag), (tx, torch)):
            arg = getattr(mod, spec) if spec != "torch.DoubleTensor" else spec
            y = t.type(arg)
            assert _dtype_name(y.dtype) == "float64" and y.tolist() == [1.0, 2.0]
            assert y.requires_grad
    assert x.type(ag.FloatTensor) is x and x.type("torch.FloatTensor") is x
    assert x.type(ag.float32) is x
    y = x.type("torch.LongTensor")
    assert y.dtype == ag.int64 and y.type() == "torch.LongTensor"
    (x.type(ag.DoubleTensor) * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0] and x.grad.dtype == ag.float32
    for bad, name in (("torch.Foo", "torch.Foo"), ("float", "float"), (int, "int")):
        for t in (x, tx):
            with pytest.raises(ValueError, match=f"invalid type: '{name}'"):
                t.type(bad)
    g = ag.ones(2, device=device)
    assert g.type() == ("torch.cuda.FloatTensor" if device == "cuda" else "torch.FloatTensor")
    h = g.type("torch.DoubleTensor")  # a CPU type: moved to the host
    assert h.device == ag.device("cpu") and h.dtype == ag.float64
    assert g.type(ag.float64).device == g.device  # a dtype keeps the device


def test_accelerator_matches_cuda(torch):
    acc = ag.accelerator
    assert acc.is_available() == ag.cuda.is_available()
    assert acc.device_count() == ag.cuda.device_count()
    if ag.cuda.is_available():
        assert acc.current_accelerator() == ag.device("cuda")
        assert acc.current_accelerator(check_available=True) == ag.device("cuda")
        assert acc.current_device_index() == ag.cuda.current_device()
        ag.ones(3, device="cuda").sum()
        acc.synchronize()
        acc.synchronize(0)
        acc.synchronize("cuda:0")
        with pytest.raises(ValueError, match="cpu doesn't match the current accelerator cuda"):
            acc.synchronize("cpu")
        return
    # no GPU here: the same answers and errors as a PyTorch without an accelerator
    assert acc.current_accelerator() is None and acc.device_count() == 0
    assert torch.accelerator.is_available() is False
    assert acc.current_accelerator(check_available=True) is None
    for mod in (ag, torch):
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                               "available"):
            mod.accelerator.synchronize()
        with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is "
                                               "available"):
            mod.accelerator.current_device_index()
        with pytest.raises(RuntimeError, match="Accelerator expected"):
            mod.accelerator.synchronize("cpu")
