"""autograd_gpu.save / load: round trips, devices, and files that must be refused."""
import io
import json
import os
import signal
import stat
import subprocess
import sys
import time
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


def _saved_from(path, locations):
    """A file as `save` writes it for tensors living on `locations` (one tensor each, value
    i): written on the CPU, with the header's device names set to those locations."""
    ag.save([ag.full((2,), float(i)) for i in range(len(locations))], path)
    with np.load(path, allow_pickle=False) as npz:
        entries = {k: npz[k] for k in npz.files}
    header = json.loads(bytes(entries["__autograd_gpu__"]).decode())
    for item, loc in zip(header["root"]["items"], locations):
        item["device"] = loc
    entries["__autograd_gpu__"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **entries)


@pytest.mark.skipif(ag.cuda.is_available(), reason="needs a machine where cuda cannot be used")
def test_every_form_of_map_location_moves_tensors_saved_on_a_gpu(tmp_path):
    """Tensors saved on cuda:0 and cuda:1, loaded where no GPU is usable: only a map_location
    that really maps every one of them to the CPU loads the file."""
    path = tmp_path / "gpu.agt"
    _saved_from(path, ["cuda:0", "cuda:1"])
    with pytest.raises(RuntimeError, match="cuda"):
        ag.load(path)  # by default back to the saved devices: there is none here
    with pytest.raises(RuntimeError, match="saved on cuda:0 cannot be put on cuda:0.*map_location=.cpu."):
        ag.load(path)
    with pytest.raises(RuntimeError, match="cuda"):
        ag.load(path, map_location={"cuda:0": "cpu"})  # cuda:1 is not in the dict
    seen = []

    def keep_on_host(t, location):
        seen.append((location, t.device.type, t.tolist()))
        return t

    forms = ["cpu", ag.device("cpu"), {"cuda:0": "cpu", "cuda:1": ag.device("cpu")},
             keep_on_host, lambda t, location: "cpu"]
    for form in forms:
        r = ag.load(path, map_location=form)
        assert [t.device for t in r] == [ag.device("cpu")] * 2, form
        assert [t.tolist() for t in r] == [[0.0, 0.0], [1.0, 1.0]], form
    assert seen == [("cuda:0", "cpu", [0.0, 0.0]), ("cuda:1", "cpu", [1.0, 1.0])]
    with pytest.raises(TypeError, match="map_location"):
        ag.load(path, map_location=3)
    with pytest.raises(TypeError, match="returned None"):
        ag.load(path, map_location=lambda t, location: None)


def test_load_accepts_pytorchs_keywords_and_refuses_pickle_arguments(tmp_path):
    ag.save({"w": ag.ones(2)}, tmp_path / "w")
    assert ag.load(tmp_path / "w", weights_only=True, mmap=None)["w"].tolist() == [1.0, 1.0]
    assert ag.load(tmp_path / "w", weights_only=False)["w"].tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="no pickled objects"):
        ag.load(tmp_path / "w", pickle_module=__import__("pickle"))


# ---------------------------------------------------------------- atomic saves


def test_saving_over_a_file_replaces_it_whole_and_leaves_nothing_else(tmp_path):
    path = tmp_path / "ckpt.agt"
    ag.save({"w": ag.zeros(3)}, path)
    ag.save({"w": ag.ones(3)}, path)
    assert ag.load(path)["w"].tolist() == [1.0, 1.0, 1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.agt"]
    # the mode open() would have given, not the temporary file's 0600
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_a_failing_save_keeps_the_old_file_and_removes_its_temporary(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.agt"
    ag.save({"w": ag.zeros(3)}, path)

    def disk_full(fh, **entries):
        fh.write(b"PK partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(RuntimeError, match="writing .*ckpt.agt failed .*No space left.*unchanged") as e:
        ag.save({"w": ag.ones(3)}, path)
    assert isinstance(e.value.__cause__, OSError)
    monkeypatch.undo()
    assert ag.load(path)["w"].tolist() == [0.0, 0.0, 0.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.agt"]


_SAVER = """
import sys
import numpy as np
import autograd_gpu as ag
path = sys.argv[1]
states = [{"step": k, "w": ag.from_numpy(np.full(4_000_000, float(k), np.float32))} for k in (1, 2)]
print("ready", flush=True)
i = 0
while True:
    ag.save(states[i % 2], path)
    i += 1
"""


def test_a_save_killed_at_any_moment_leaves_the_old_or_the_new_checkpoint(tmp_path):
    """A child saves two 16 MB states over one path in turn; it is killed with SIGKILL at 12
    moments spread over several saves. After each kill the path loads, whole, to one of the
    two states."""
    path = tmp_path / "ckpt.agt"
    ag.save({"step": 0, "w": ag.zeros(4_000_000)}, path)
    script = tmp_path / "saver.py"
    script.write_text(_SAVER)
    seen = set()
    for delay in np.linspace(0.0, 0.6, 12):
        proc = subprocess.Popen([sys.executable, str(script), str(path)], stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        proc.stdout.close()
        r = ag.load(path)
        w = r["w"].numpy()
        assert r["step"] in (0, 1, 2) and w.shape == (4_000_000,)
        assert np.all(w == r["step"]), "a checkpoint mixing two states"
        seen.add(r["step"])
    assert len(seen) >= 2  # the kills did land between saves of different states


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
