"""autograd_gpu.save / load: round trips, devices, and files that must be refused."""
import io
from collections import OrderedDict

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn, optim
from conftest import to_numpy


@pytest.mark.parametrize("dtype", [ag.float32, ag.float64, ag.int64, ag.bool, ag.float16, ag.uint8])
def test_tensor_round_trip(tmp_path, dtype, device):
    t = (ag.randn(3, 4, device=device) * 10).to(dtype)
    path = tmp_path / "t.agt"
    ag.save(t, path)
    r = ag.load(path)
    assert r.dtype == dtype and r.shape == t.shape and r.device == t.device
    np.testing.assert_array_equal(to_numpy(r), to_numpy(t))


def test_nested_structures_and_sharing(tmp_path):
    a = ag.randn(2, requires_grad=True)
    obj = {"a": a, "again": a, 3: [1, 2.5, float("inf"), float("nan"), None, True, "s"],
           "t": (ag.zeros(0), ag.tensor(7)), "od": OrderedDict(x=ag.ones(1)), "dt": ag.float64,
           "dev": ag.device("cpu"), "arr": np.arange(3)}
    ag.save(obj, tmp_path / "o")
    r = ag.load(tmp_path / "o")
    assert r["a"] is r["again"] and r["a"].requires_grad and r["a"].is_leaf
    np.testing.assert_array_equal(to_numpy(r["a"]), to_numpy(a))
    assert r[3][:3] == [1, 2.5, float("inf")] and np.isnan(r[3][3]) and r[3][4:] == [None, True, "s"]
    assert isinstance(r["t"], tuple) and r["t"][0].shape == (0,) and r["t"][1].item() == 7
    assert isinstance(r["od"], OrderedDict)
    assert r["dt"] is ag.float64 and r["dev"] == ag.device("cpu")
    np.testing.assert_array_equal(r["arr"], np.arange(3))


def test_model_and_optimizer_state(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    opt = optim.Adam(model.parameters(), lr=0.01, amsgrad=True)
    x, y = ag.randn(8, 3), ag.randn(8, 1)

    def train(m, o, n):
        for _ in range(n):
            o.zero_grad()
            nn.functional.mse_loss(m(x), y).backward()
            o.step()

    train(model, opt, 5)
    ag.save({"model": model.state_dict(), "opt": opt.state_dict()}, tmp_path / "ckpt")
    ck = ag.load(tmp_path / "ckpt")
    model2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    model2.load_state_dict(ck["model"])
    opt2 = optim.Adam(model2.parameters(), lr=0.5)
    opt2.load_state_dict(ck["opt"])
    assert opt2.param_groups[0]["lr"] == 0.01 and opt2.param_groups[0]["amsgrad"] is True
    train(model, opt, 5)
    train(model2, opt2, 5)
    for p, q in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(to_numpy(p), to_numpy(q))


def test_file_objects_and_map_location():
    buf = io.BytesIO()
    ag.save([ag.ones(2)], buf)
    buf.seek(0)
    r = ag.load(buf, map_location="cpu")
    assert r[0].device == ag.device("cpu")
    buf.seek(0)
    assert ag.load(buf, map_location={"cuda:0": "cpu"})[0].device.type == "cpu"


@pytest.mark.gpu
def test_map_location_cuda_to_cpu(tmp_path):
    ag.save(ag.ones(3, device="cuda"), tmp_path / "g")
    assert ag.load(tmp_path / "g", map_location="cpu").device.type == "cpu"
    assert ag.load(tmp_path / "g").device.type == "cuda"


def test_refuses_objects_that_need_code(tmp_path):
    with pytest.raises(TypeError, match="save its state_dict"):
        ag.save(nn.Linear(2, 2), tmp_path / "m")
    with pytest.raises(TypeError, match="cannot store a function"):
        ag.save({"f": lambda: 0}, tmp_path / "f")


def test_truncated_file(tmp_path):
    path = tmp_path / "t"
    ag.save({"w": ag.randn(100, 100)}, path)
    data = path.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        bad = tmp_path / f"cut{cut}"
        bad.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="autograd_gpu.load: .*(truncated|corrupted)"):
            ag.load(bad)


def test_foreign_files(tmp_path, torch):
    # a PyTorch checkpoint (a zip holding a pickle) is refused without unpickling it
    tp = tmp_path / "torch.pt"
    torch.save({"w": torch.ones(2)}, tp)
    with pytest.raises(RuntimeError, match="no autograd_gpu header"):
        ag.load(tp)
    # a pickle file never reaches pickle.load
    import pickle

    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    pk = tmp_path / "evil.pkl"
    pk.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(RuntimeError, match="autograd_gpu.load"):
        ag.load(pk)
    assert not marker.exists()
    # an npz holding an object array is refused (allow_pickle=False)
    npz = tmp_path / "obj.npz"
    np.savez(npz, __autograd_gpu__=np.array([Evil()], dtype=object))
    with pytest.raises(RuntimeError, match="autograd_gpu.load"):
        ag.load(npz)
    assert not marker.exists()
    # a plain npz, a bare npy, a text file
    np.savez(tmp_path / "plain.npz", a=np.ones(2))
    with pytest.raises(RuntimeError, match="no autograd_gpu header"):
        ag.load(tmp_path / "plain.npz")
    np.save(tmp_path / "bare.npy", np.ones(2))
    with pytest.raises(RuntimeError, match="bare .npy"):
        ag.load(tmp_path / "bare.npy")
    (tmp_path / "text").write_text("hello")
    with pytest.raises(RuntimeError, match="autograd_gpu.load"):
        ag.load(tmp_path / "text")


def test_corrupted_header(tmp_path):
    path = tmp_path / "h.npz"
    np.savez(path, __autograd_gpu__=np.frombuffer(b'{"format": "other"}', dtype=np.uint8))
    with pytest.raises(RuntimeError, match="unknown header format"):
        ag.load(path)
    np.savez(path, __autograd_gpu__=np.frombuffer(b'{"format": "autograd_gpu.save", "version": 1, '
                                                  b'"root": {"T": "tensor", "key": "t9", "device": "cpu", '
                                                  b'"requires_grad": false}}', dtype=np.uint8))
    with pytest.raises(RuntimeError, match="corrupted"):
        ag.load(path)


def test_tensors_refuse_pickle():
    import pickle

    with pytest.raises(TypeError, match="autograd_gpu.save"):
        pickle.dumps(ag.ones(2))
