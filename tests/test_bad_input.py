"""Bad input, table-driven: each bad call raises the expected exception type with a message
that names the problem (PyTorch's wording where PyTorch has one), and leaves the user's
tensors, their .grad, versions and the optimizer's state exactly as they were."""
import copy
import io
import os
import re
import types

import numpy as np
import pytest

import autograd_gpu as ag

# (parts of the package: a module that fails to import fails this file, never skips rows)
from autograd_gpu import nn, optim
from autograd_gpu.serialization import load as ag_load, save as ag_save

BROADCAST = r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"
MATMUL = r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"
FLOAT_ONLY = r"Only Tensors of floating point( and complex)? dtype can require gradients"
SECOND = r"Trying to backward through the graph a second time.*retain_graph=True"
SCALAR = r"grad can be implicitly created only for scalar outputs"
NO_GRAD_FN = r"element 0 of tensors does not require grad and does not have a grad_fn"
LEAF = r"a leaf Variable that requires grad is being used in an in-place operation"
DIM_RANGE = r"Dimension out of range \(expected to be in range of \[-2, 1\], but got {}\)"


def _world():
    """What a user has in hand mid-training: leaves with .grad, a non-leaf, a graph already
    used once, an integer tensor, and an optimizer with state."""
    rng = np.random.default_rng(0)
    w = types.SimpleNamespace()
    w.a = ag.tensor(rng.normal(size=(2, 3)), requires_grad=True)          # (2, 3)
    w.b = ag.tensor(rng.normal(size=(2, 4)), requires_grad=True)          # (2, 4)
    w.v3 = ag.tensor(rng.normal(size=3), requires_grad=True)
    w.c = ag.tensor(rng.normal(size=(4, 5)))
    w.i = ag.arange(3)
    w.m = ag.tensor(rng.normal(size=(3, 3)), dtype=ag.float64)
    w.used = (w.a * w.v3).sum()               # backwarded once below: its graph is freed
    w.used.backward()
    w.y = w.a * 2                              # a non-scalar non-leaf requiring grad
    w.free = ag.tensor([1.0, 2.0, 3.0])       # a scalar-free tensor without grad
    w.opt = None
    if optim is not None:
        w.opt = optim.Adam([w.a, w.b, w.v3], lr=0.01)
        w.b.grad = ag.ones(2, 4)
        w.opt.step()
        w.sgd = optim.SGD([w.c.requires_grad_()], lr=0.1, momentum=0.9)
        w.c.grad = ag.ones(4, 5)
        w.sgd.step()
    w.scalar = (w.b * w.b).sum()             # after the updates: its saved b is current
    w.model = None
    if nn is not None and hasattr(nn, "Linear"):
        ag.manual_seed(0)
        w.model = nn.Linear(3, 4)
    return w


def _snapshot(w):
    """Copies of everything the user can observe."""
    snap = {}
    for name, t in vars(w).items():
        if isinstance(t, ag.Tensor):
            g = t._grad
            snap[name] = (
                np.array(t._data, copy=True), None if g is None else np.array(g._data, copy=True),
                t._version_number, t.requires_grad, t.grad_fn, t.dtype, tuple(t.shape),
            )
    for name in ("opt", "sgd"):
        opt = getattr(w, name, None)
        if opt is not None:
            sd = opt.state_dict()
            snap[name] = copy.deepcopy(
                {"groups": [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups],
                 "state": {k: {kk: (np.array(vv._data, copy=True) if isinstance(vv, ag.Tensor)
                                    else vv) for kk, vv in s.items()}
                           for k, s in sd["state"].items()}}
            )
    if w.model is not None:
        snap["model"] = {k: np.array(v._data, copy=True) for k, v in w.model.state_dict().items()}
    return snap


def _assert_same(before, after):
    assert before.keys() == after.keys()
    for k in before:
        _eq(before[k], after[k], k)


def _eq(x, y, where):
    if isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape, where
        np.testing.assert_array_equal(x, y, err_msg=where)
    elif isinstance(x, dict):
        assert x.keys() == y.keys(), where
        for k in x:
            _eq(x[k], y[k], f"{where}.{k}")
    elif isinstance(x, (list, tuple)):
        assert len(x) == len(y), where
        for i, (p, q) in enumerate(zip(x, y)):
            _eq(p, q, f"{where}[{i}]")
    elif isinstance(x, float) and np.isnan(x):
        assert isinstance(y, float) and np.isnan(y), where
    else:
        assert x is y or x == y, f"{where}: {x!r} != {y!r}"


def _setitem(t, key, v):
    t[key] = v


def _iadd(x, y):
    x += y


def _load_bytes(data):
    return ag_load(io.BytesIO(data))


def _truncated_file(tmp, w):
    path = os.path.join(tmp, "ckpt.pt")
    ag_save({"a": w.a, "b": w.b}, path)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    return ag_load(path)


def _npz_file(tmp):
    path = os.path.join(tmp, "foreign.npz")
    np.savez(path, x=np.arange(3.0))
    return ag_load(path)


def _torch_like_file(tmp):
    """A zip archive as torch.save writes it (pickled data), which must not be unpickled."""
    import zipfile

    path = os.path.join(tmp, "model.pth")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
        z.writestr("archive/version", b"3\n")
    return ag_load(path)


# (id, call(w, tmp), exception type, message regex, marks)
ROWS = [
    # ---- broadcasting: every binary op, (2, 3) against (2, 4)
    ("add-shapes", lambda w, _: w.a + w.b, RuntimeError, BROADCAST),
    ("sub-shapes", lambda w, _: w.a - w.b, RuntimeError, BROADCAST),
    ("mul-shapes", lambda w, _: w.a * w.b, RuntimeError, BROADCAST),
    ("div-shapes", lambda w, _: w.a / w.b, RuntimeError, BROADCAST),
    ("pow-shapes", lambda w, _: w.a ** w.b, RuntimeError, BROADCAST),
    ("maximum-shapes", lambda w, _: ag.maximum(w.a, w.b), RuntimeError, BROADCAST),
    ("minimum-shapes", lambda w, _: ag.minimum(w.a, w.b), RuntimeError, BROADCAST),
    ("where-shapes", lambda w, _: ag.where(w.a > 0, w.a, w.b), RuntimeError, BROADCAST),
    ("lt-shapes", lambda w, _: w.a < w.b, RuntimeError, BROADCAST),
    ("eq-shapes", lambda w, _: w.a == w.b, RuntimeError, BROADCAST),
    pytest.param("add_-shapes", lambda w, _: w.free.add_(ag.ones(2, 4)), RuntimeError,
                 r"size of tensor a \(3\) must match the size of tensor b \(4\)"),
    pytest.param("iadd-broadcast-self", lambda w, _: _iadd(w.free, ag.ones(2, 3)), RuntimeError,
                 r"output with shape \[3\] doesn't match the broadcast shape \[2, 3\]"),
    pytest.param("int-add_-float", lambda w, _: w.i.add_(0.5), RuntimeError,
                 r"result type Float can't be cast to the desired output type Long"),
    pytest.param("bool-mul_-int", lambda w, _: (w.free > 1).mul_(2), RuntimeError,
                 r"result type Long can't be cast to the desired output type Bool"),
    pytest.param("expanded-add_", lambda w, _: w.free[:1].expand(3).add_(1), RuntimeError,
                 r"more than one element of the written-to tensor refers to a single memory location"),
    pytest.param("copy_-shapes", lambda w, _: w.free.copy_(ag.ones(4)), RuntimeError,
                 r"The size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton "
                 r"dimension 0"),
    ("expand", lambda w, _: w.a.expand(4, 5), RuntimeError,
     r"The expanded size of the tensor.* must match the existing size"),
    # ---- linear algebra
    ("matmul", lambda w, _: w.a @ w.c, RuntimeError, MATMUL),
    ("mm", lambda w, _: ag.mm(w.a, w.c), RuntimeError, MATMUL),
    ("bmm-batch", lambda w, _: ag.bmm(ag.ones(2, 3, 4), ag.ones(3, 4, 5)), RuntimeError,
     r"batch1 and batch2 must have same number of batches|Expected size for first two dimensions"
     r"|size of tensor a \(2\) must match the size of tensor b \(3\) at non-singleton dimension 0"),
    ("mv", lambda w, _: ag.mv(w.a, ag.ones(4)), RuntimeError,
     r"size mismatch|cannot be multiplied"),
    ("dot", lambda w, _: ag.dot(w.v3, ag.ones(4)), RuntimeError,
     r"inconsistent tensor size.*3.*4|1D tensors expected"),
    ("matmul-0d", lambda w, _: ag.tensor(2.0) @ w.v3, RuntimeError,
     r"both arguments to matmul need to be at least 1D"),
    # ---- cat / stack / split / shapes
    ("cat-shapes", lambda w, _: ag.cat([w.a, w.b], dim=0), RuntimeError,
     r"Sizes of tensors must match except in dimension 0"),
    ("cat-ndim", lambda w, _: ag.cat([w.a, w.v3]), RuntimeError,
     r"Tensors must have same number of dimensions|Sizes of tensors must match"),
    ("cat-empty", lambda w, _: ag.cat([]), RuntimeError, r"expected a non-empty list of Tensors"),
    ("cat-dim", lambda w, _: ag.cat([w.a, w.a], dim=2), IndexError, DIM_RANGE.format(2)),
    ("stack-shapes", lambda w, _: ag.stack([w.a, w.b]), RuntimeError,
     r"stack expects each tensor to be equal size"),
    ("stack-empty", lambda w, _: ag.stack([]), RuntimeError, r"expected a non-empty list of Tensors"),
    ("split-sizes", lambda w, _: w.a.split([1, 1], dim=1), RuntimeError,
     r"split_with_sizes expects split_sizes to sum exactly to 3"),
    ("reshape", lambda w, _: w.a.reshape(4), RuntimeError, r"shape '\[4\]' is invalid for input of size 6"),
    ("view", lambda w, _: w.a.view(5, -1), RuntimeError, r"shape '\[5, -1\]' is invalid for input of size 6"),
    ("permute", lambda w, _: w.a.permute(0), RuntimeError, r"number of dimensions .* does not match"),
    ("transpose-dim", lambda w, _: w.a.transpose(0, 2), IndexError, DIM_RANGE.format(2)),
    ("sum-dim", lambda w, _: w.a.sum(dim=3), IndexError, DIM_RANGE.format(3)),
    ("softmax-dim", lambda w, _: w.a.softmax(dim=-3), IndexError, DIM_RANGE.format(-3)),
    ("unsqueeze-dim", lambda w, _: w.a.unsqueeze(4), IndexError,
     r"Dimension out of range \(expected to be in range of \[-3, 2\], but got 4\)"),
    # ---- indexing
    ("index-int", lambda w, _: w.a[2], IndexError, r"index 2 is out of bounds for (axis|dimension) 0 with size 2"),
    ("index-neg", lambda w, _: w.v3[-4], IndexError, r"index -4 is out of bounds for (axis|dimension) 0 with size 3"),
    ("index-too-many", lambda w, _: w.a[0, 0, 0], IndexError, r"too many indices"),
    ("index-float", lambda w, _: w.a[ag.tensor([0.0])], IndexError,
     r"tensors used as indices must be long, int, byte or bool tensors"),
    ("index-array-oob", lambda w, _: w.v3[ag.tensor([0, 5])], IndexError,
     r"index 5 is out of bounds for (axis|dimension) 0 with size 3"),
    ("index-mask-shape", lambda w, _: w.a[ag.tensor([True, False, True])], IndexError,
     r"(mask|boolean index).*(shape|dimension)"),
    ("setitem-shape", lambda w, _: _setitem(w.free, slice(0, 2), ag.ones(3)), RuntimeError,
     r"shape mismatch|could not broadcast|cannot be broadcast"),
    ("setitem-leaf", lambda w, _: _setitem(w.a, 0, 1.0), RuntimeError, LEAF),
    # ---- dtypes and requires_grad
    ("int-requires-grad", lambda w, _: ag.tensor([1, 2, 3], requires_grad=True), RuntimeError, FLOAT_ONLY),
    ("int-requires-grad_", lambda w, _: w.i.requires_grad_(), RuntimeError, FLOAT_ONLY),
    ("bool-requires-grad", lambda w, _: ag.tensor([True]).requires_grad_(), RuntimeError, FLOAT_ONLY),
    ("arange-requires-grad", lambda w, _: ag.arange(3, requires_grad=True), RuntimeError, FLOAT_ONLY),
    ("nonleaf-requires-grad-off", lambda w, _: setattr(w.y, "requires_grad", False), RuntimeError,
     r"you can only change requires_grad flags of leaf variables"),
    ("numpy-requires-grad", lambda w, _: w.a.numpy(), RuntimeError,
     r"Can't call numpy\(\) on Tensor that requires grad. Use tensor.detach\(\).numpy\(\) instead."),
    ("item-many", lambda w, _: w.a.item(), RuntimeError,
     r"a Tensor with 6 elements cannot be converted to Scalar"),
    ("bool-many", lambda w, _: bool(w.a), RuntimeError,
     r"Boolean value of Tensor with more than one value is ambiguous"),
    ("inplace-leaf", lambda w, _: w.a.mul_(2), RuntimeError, LEAF),
    ("grad-assign-shape", lambda w, _: setattr(w.a, "grad", ag.zeros(3)), RuntimeError,
     r"assigned grad has data of a different size"),
    ("grad-assign-type", lambda w, _: setattr(w.a, "grad", np.zeros((2, 3))), TypeError,
     r"assigned grad expected to be a Tensor or None"),
    # ---- backward misuse
    ("backward-twice", lambda w, _: w.used.backward(), RuntimeError, SECOND),
    ("grad-twice", lambda w, _: ag.autograd.grad(w.used, w.a), RuntimeError, SECOND),
    ("backward-nonscalar", lambda w, _: w.y.backward(), RuntimeError, SCALAR),
    ("grad-nonscalar", lambda w, _: ag.autograd.grad(w.y, w.a), RuntimeError, SCALAR),
    ("backward-grad-shape", lambda w, _: w.y.backward(ag.ones(3)), RuntimeError,
     r"Mismatch in shape: grad_output\[0\] has a shape of torch.Size\(\[3\]\) and output\[0\] "
     r"has a shape of torch.Size\(\[2, 3\]\)"),
    ("backward-no-grad", lambda w, _: w.free.sum().backward(), RuntimeError, NO_GRAD_FN),
    ("grad-unused", lambda w, _: ag.autograd.grad(w.scalar, [w.b, w.v3]), RuntimeError,
     r"One of the differentiated Tensors appears to not have been used in the graph. "
     r"Set allow_unused=True"),
    ("grad-input-no-grad", lambda w, _: ag.autograd.grad(w.scalar, [w.free]), RuntimeError,
     r"One of the differentiated Tensors.*does not require grad"),
    ("backward-empty-inputs", lambda w, _: w.scalar.backward(inputs=[]), RuntimeError,
     r"'inputs' argument to backward\(\) cannot be empty"),
    # ---- optimizers
    pytest.param("adam-nan-lr", lambda w, _: optim.Adam([w.a], lr=float("nan")), ValueError,
                 r"Invalid learning rate: nan"),
    pytest.param("sgd-negative-lr", lambda w, _: optim.SGD([w.a], lr=-0.1), ValueError,
                 r"Invalid learning rate: -0.1"),
    pytest.param("adam-beta", lambda w, _: optim.Adam([w.a], betas=(1.0, 0.999)), ValueError,
                 r"Invalid beta parameter at index 0: 1.0"),
    pytest.param("adam-nan-eps", lambda w, _: optim.Adam([w.a], eps=float("nan")), ValueError,
                 r"Invalid epsilon value: nan"),
    pytest.param("sgd-nan-momentum", lambda w, _: optim.SGD([w.a], lr=0.1, momentum=float("nan")),
                 ValueError, r"Invalid momentum value: nan"),
    pytest.param("optimizer-tensor-params", lambda w, _: optim.SGD(w.a, lr=0.1), TypeError,
                 r"params argument given to the optimizer should be an iterable of Tensors"),
    pytest.param("optimizer-empty", lambda w, _: optim.SGD([], lr=0.1), ValueError,
                 r"optimizer got an empty parameter list"),
    pytest.param("optimizer-load-mismatch",
                 lambda w, _: w.opt.load_state_dict({"state": {}, "param_groups": []}), ValueError,
                 r"loaded state dict has a different number of parameter groups"),
    # ---- modules
    pytest.param("linear-in-features", lambda w, _: w.model(ag.ones(2, 5)), RuntimeError,
                 r"mat1 and mat2 shapes cannot be multiplied \(2x5 and 3x4\)"),
    # ---- files
    pytest.param("load-truncated", lambda w, tmp: _truncated_file(tmp, w), RuntimeError,
                 r"autograd_gpu.load: .*ckpt.pt.* (truncated|corrupted)"),
    pytest.param("load-garbage", lambda w, _: _load_bytes(b"\x00not a checkpoint" * 10), RuntimeError,
                 r"autograd_gpu.load: .* is not a file written by autograd_gpu.save"),
    pytest.param("load-empty", lambda w, _: _load_bytes(b""), RuntimeError,
                 r"autograd_gpu.load: .*(truncated|not a file written)"),
    pytest.param("load-foreign-npz", lambda w, tmp: _npz_file(tmp), RuntimeError,
                 r"autograd_gpu.load: .*foreign.npz has no autograd_gpu header"),
    pytest.param("load-torch-zip", lambda w, tmp: _torch_like_file(tmp), RuntimeError,
                 r"autograd_gpu.load: .*model.pth has no autograd_gpu header"),
    pytest.param("load-missing", lambda w, tmp: ag_load(os.path.join(tmp, "nope.pt")),
                 (RuntimeError, FileNotFoundError), r"nope.pt"),
    pytest.param("save-module-object", lambda w, tmp: ag_save(w.model, os.path.join(tmp, "m.pt")),
                 TypeError, r"autograd_gpu.save cannot store a Linear.*state_dict\(\)"),
]


def _rows(rows):
    out = []
    for r in rows:
        if hasattr(r, "marks"):  # a pytest.param (itself a tuple)
            rid, *vals = r.values
            out.append(pytest.param(*vals, id=rid, marks=r.marks))
        else:
            out.append(pytest.param(*r[1:], id=r[0]))
    return out


@pytest.mark.parametrize("call,exc,pattern", _rows(ROWS))
def test_bad_call_raises_and_changes_nothing(call, exc, pattern, tmp_path):
    w = _world()
    before = _snapshot(w)
    with pytest.raises(exc, match=pattern):
        call(w, str(tmp_path))
    _assert_same(before, _snapshot(w))


def test_the_table_has_at_least_40_bad_calls():
    assert len(ROWS) >= 40
    # each row is its own case, and its pattern names something: a pattern that matches the
    # empty string (".*", "(a|)") would accept any message at all
    rows = [r.values if hasattr(r, "marks") else r for r in ROWS]
    ids = [r[0] for r in rows]
    assert len(set(ids)) == len(ids), [i for i in ids if ids.count(i) > 1]
    for r in rows:
        assert re.search(r[3], "") is None, r[0]


# ------------------------------------------------------------------ devices

NO_CUDA = pytest.mark.skipif(ag.cuda.is_available(), reason="a CUDA device is usable here")

CUDA_REQUESTS = [
    pytest.param(lambda w: ag.tensor([1.0], device="cuda"), id="tensor"),
    pytest.param(lambda w: ag.zeros(3, device="cuda:0"), id="zeros"),
    pytest.param(lambda w: ag.randn(2, device=ag.device("cuda")), id="randn"),
    pytest.param(lambda w: w.a.cuda(), id="cuda()"),
    pytest.param(lambda w: w.a.to("cuda"), id="to"),
    pytest.param(lambda w: w.free.to(device="cuda", dtype=ag.float64), id="to-dtype"),
]


@NO_CUDA
@pytest.mark.parametrize("call", CUDA_REQUESTS)
def test_cuda_requested_without_a_usable_gpu_says_why(call):
    w = _world()
    before = _snapshot(w)
    with pytest.raises(RuntimeError, match=r"(?i)cuda") as info:
        call(w)
    reason = ag.cuda.unavailable_reason()
    assert reason and reason in str(info.value)
    _assert_same(before, _snapshot(w))


MIXED = [
    pytest.param(lambda w, g: w.a + g, id="add"),
    pytest.param(lambda w, g: w.a * g, id="mul"),
    pytest.param(lambda w, g: ag.maximum(w.a, g), id="maximum"),
    pytest.param(lambda w, g: ag.where(w.a > 0, w.a, g), id="where"),
    pytest.param(lambda w, g: w.a @ g.t(), id="matmul"),
    pytest.param(lambda w, g: ag.cat([w.a, g]), id="cat"),
    pytest.param(lambda w, g: ag.stack([w.a, g]), id="stack"),
    pytest.param(lambda w, g: w.y.backward(g), id="backward-gradient"),
    pytest.param(lambda w, g: setattr(w.a, "grad", g), id="grad-assign"),
    pytest.param(lambda w, g: _setitem(w.free, slice(0, 3), g[0]), id="setitem"),
]


@pytest.mark.gpu
@pytest.mark.parametrize("call", MIXED)
def test_mixed_devices_raise_and_change_nothing(call):
    w = _world()
    g = ag.ones(2, 3, device="cuda")
    before = _snapshot(w)
    with pytest.raises(RuntimeError, match=r"(same device|different device|devices).*(cuda:0|cpu)"):
        call(w, g)
    _assert_same(before, _snapshot(w))
