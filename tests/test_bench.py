"""The benchmark suite in quick mode (tiny sizes), so that it cannot rot: `python -m bench
--quick` runs every workload as pytest-benchmark cases (each row a group, each column a case),
the JSON it writes has pytest-benchmark's fields and the suite's, the implementations of a row
compute the same thing, the report is built from it, a sequential run and a comparison with a
saved run work. Speed is not asserted here: the goals are checked in bench/REPORT.md."""
import copy
import functools
import json
import math
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from bench import harness, report, suite

WORKLOADS = ["overhead", "elementwise", "matmul", "training", "optimizer", "least_squares", "models"]
CPU_COLUMNS = ("ours_cpu", "numpy")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bench(*args, path=()):
    """`python -m bench ARGS` in a fresh process (the thread pools and the CuPy stand-in,
    where the tests use it, as such a run would have them; `path` first on its PYTHONPATH):
    (exit status, output)."""
    env = dict(os.environ)
    try:
        from conftest import CUPY_STANDIN, STANDIN
    except ImportError:
        CUPY_STANDIN = False
    if CUPY_STANDIN:
        path = [*path, STANDIN]
    if path:
        env["PYTHONPATH"] = os.pathsep.join([*path, env.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    rc, text = _bench("--quick", "--out", str(out))
    assert rc == 0, text[-5000:]
    (path,) = out.glob("*.json")
    with open(path) as f:
        data = json.load(f)
    return path, report.from_benchmark_json(data, path.name), text, data


def _cells(doc):
    for w in doc["workloads"]:
        for row in w["rows"]:
            for key, cell in row["results"].items():
                yield w["id"], row, key, cell


def test_result_file_name_and_header(quick_run):
    path, doc, _, data = quick_run
    m = doc["machine"]
    dev = "cuda-" if m["gpu"] else "cpu"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-[a-z0-9-]+-" + dev + r".*\.json", path.name)
    # pytest-benchmark's own fields, the machine's description among them
    for key in ("machine_info", "commit_info", "benchmarks", "datetime", "version"):
        assert key in data
    assert data["machine_info"]["bench"] == {k: v for k, v in m.items() if not k.startswith("load_avg")}
    assert data["bench"]["schema"] == 2 and doc["quick"] is True and doc["mode"] == "interleaved"
    for key in ("host", "cpu", "cores", "ram_gb", "gpu", "python"):
        assert key in m
    assert m["cores"] >= 1
    assert doc["versions"]["numpy"] and doc["versions"]["autograd_gpu"]
    if doc["commit"] not in (None, "unversioned"):
        assert re.fullmatch(r"[0-9a-f]{40}", doc["commit"])
    assert [w["id"] for w in doc["workloads"]] == WORKLOADS
    assert doc["only"] is None


def test_each_row_is_a_group_and_each_column_a_case(quick_run):
    _, doc, _, data = quick_run
    groups = {}
    for b in data["benchmarks"]:
        col = b["extra_info"]["column"]
        assert col in harness.IMPL_KEYS and b["name"] == f"test_bench[{b['param']}]"
        assert b["param"].endswith("-" + col) and b["fullname"].startswith("bench/bench_suite.py::")
        assert b["group"] == f"{b['extra_info']['workload']}: {b['extra_info']['row']}"
        st = b["stats"]
        assert st["rounds"] >= 2 and st["iterations"] >= 1 and len(st["data"]) == st["rounds"]
        assert 0 < st["min"] <= st["median"] <= st["max"] < 60
        assert b["options"]["timer"] == "clock"  # (harness.clock, by its name)
        groups.setdefault(b["group"], []).append(col)
    rows = {f"{w['id']}: {r['label']}": r for w in doc["workloads"] for r in w["rows"]}
    for group, cols in groups.items():
        assert len(cols) == len(set(cols)) and group in rows
        measured = [k for k, c in rows[group]["results"].items() if c and "median" in c]
        assert sorted(cols) == sorted(measured)


def test_every_cell_is_a_timing_or_says_why_not(quick_run):
    _, doc, _, _ = quick_run
    for wid, row, key, cell in _cells(doc):
        assert set(row["results"]) == set(harness.IMPL_KEYS)
        if cell is None:
            continue  # the column does not apply to this workload (e.g. a copy for matmul)
        assert "error" not in cell, f"{wid} / {row['label']} / {key}: {cell['error']}"
        if "median" in cell:
            assert 0 < cell["min"] <= cell["median"] <= cell["max"] < 60
            assert cell["repeats"] >= 2 and cell["number"] >= 1
        else:
            assert cell["unavailable"]


def test_cpu_columns_ran_everywhere(quick_run):
    _, doc, _, _ = quick_run
    for wid, row, key, cell in _cells(doc):
        if key in CPU_COLUMNS:
            assert "median" in cell, f"{wid} / {row['label']} / {key}: {cell}"


def test_gpu_columns_say_no_gpu_when_there_is_none(quick_run):
    _, doc, _, _ = quick_run
    if doc["machine"]["gpu"]:
        pytest.skip("this machine has a GPU: its columns were measured")
    for _, _, key, cell in _cells(doc):
        if key in ("ours_cuda", "copy_device") and cell is not None:
            assert cell["unavailable"].startswith("no GPU")
    assert doc["machine"]["gpu_note"]


def test_ratios_are_quotients_of_the_medians(quick_run):
    _, doc, _, _ = quick_run
    seen = 0
    for w in doc["workloads"]:
        for row in w["rows"]:
            for name, (num, den, _) in harness.RATIOS.items():
                a, b = row["results"].get(num) or {}, row["results"].get(den) or {}
                if "median" in a and "median" in b:
                    assert row["ratios"][name] == pytest.approx(a["median"] / b["median"])
                    seen += 1
                else:
                    assert row["ratios"][name] is None
    assert seen > 0


def test_implementations_compute_the_same_thing(quick_run):
    """Training runs start from the same weights: their final losses agree across columns."""
    _, doc, _, _ = quick_run
    checked = 0
    for w in doc["workloads"]:
        if w["id"] not in ("training", "least_squares"):
            continue
        for row in w["rows"]:
            values = {k: c["value"] for k, c in row["results"].items() if c and "value" in c}
            assert "numpy" in values and "ours_cpu" in values, row
            for k, v in values.items():
                assert math.isfinite(v)
                assert v == pytest.approx(values["numpy"], rel=1e-4), (row["label"], k, values)
                checked += 1
    assert checked >= 6


def test_model_rows_agree_with_pytorch(quick_run):
    """The real-model rows start ours, PyTorch and the hand-written NumPy from the same
    weights: the losses agree. (float32 throughout: the columns sum in different orders, a
    few ulps of the largest partial sums apart; rel 1e-4 is ~800 ulps, abs 1e-3 covers a
    conv sum near zero whose terms are O(1), while a wrong initial weight or a wrong layer
    moves the loss by whole percents.)"""
    _, doc, _, _ = quick_run
    (w,) = [w for w in doc["workloads"] if w["id"] == "models"]
    labels = [r["label"] for r in w["rows"]]
    for part in ("Conv2d", "conv+relu+maxpool", "LeNet-5", "LSTM"):
        assert any(label.startswith(part) for label in labels), (part, labels)
    for row in w["rows"]:
        values = {k: c["value"] for k, c in row["results"].items() if c and "value" in c}
        assert "ours_cpu" in values and "numpy" in values, row
        assert values["numpy"] == pytest.approx(values["ours_cpu"], rel=1e-4, abs=1e-3), (
            row["label"], values)
        if "torch_cpu" not in values:
            assert "unavailable" in row["results"]["torch_cpu"]
            continue
        for k, v in values.items():
            assert math.isfinite(v)
            assert v == pytest.approx(values["torch_cpu"], rel=1e-4, abs=1e-3), (row["label"], k, values)


# ---------------------------------------------------------------- the NumPy columns' backward


def _oracle(name):
    """An autograd library to check the hand-written gradients against: ours or PyTorch."""
    if name == "torch":
        return pytest.importorskip("torch")
    import autograd_gpu

    return autograd_gpu


def _assert_grads(mine, ref, what):
    """float32 gradients from two implementations that add in different orders: each entry
    is a sum of at most a few thousand O(1) products here, so they differ by a few ulps of
    the largest partial sums, ~1e-6 of the gradient's scale. rtol 1e-4 and atol 1e-4 of the
    largest |entry| leave room for that, while a wrong backward (a dropped kernel offset, a
    swapped gate, a gradient sent to the wrong element of a window) is off by O(scale)."""
    assert len(mine) == len(ref), what
    for i, (a, r) in enumerate(zip(mine, ref)):
        r = np.asarray(r)
        assert a.shape == r.shape and a.dtype == np.float32, (what, i, a.shape, r.shape, a.dtype)
        np.testing.assert_allclose(a, r, rtol=1e-4, atol=1e-4 * np.abs(r).max(),
                                   err_msg=f"{what} [{i}]")


def _grad_of(t):
    return t.grad.detach().cpu().numpy()


@pytest.mark.parametrize("lib_name", ["ours", "torch"])
@pytest.mark.parametrize("pool", [False, True], ids=["conv", "conv_relu_pool"])
def test_numpy_conv_gradients_match_autograd(lib_name, pool):
    """The NumPy column of the conv rows: its loss and its hand-written gradients of input,
    weight and bias against autograd's, from the same weights (H != W: a swapped axis shows)."""
    from bench import workloads as wl

    lib = _oracle(lib_name)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 8, 6), dtype=np.float32)
    loss, grads = wl._np_conv_step(x, *wl._np_weights([(4, 3, 3, 3), (4,)]), pool, wl._Workspace())
    nn, F, _ = wl._nn_of(lib, ["nn.Conv2d", "F.relu", "F.max_pool2d"])
    conv = nn.Conv2d(3, 4, 3, padding=1)
    params, _ = wl._same_weights(lib, conv, "cpu")
    X = wl._t(lib, x, "cpu", True)
    y = conv(X)
    if pool:
        y = F.max_pool2d(F.relu(y), 2)
    ref = y.sum()
    ref.backward()
    assert loss == pytest.approx(float(ref.item()), rel=1e-5, abs=1e-4)
    _assert_grads(grads, [_grad_of(X)] + [_grad_of(p) for p in params], f"conv pool={pool}")


def test_numpy_max_pool_gradient_goes_to_the_first_maximum_of_a_window():
    """Ties: PyTorch's max_pool2d sends a window's gradient to its first maximum, row-major;
    relu's zero gradient at zero is kept (a window of zeros gets none)."""
    from bench import workloads as wl

    ws = wl._Workspace()
    # windows (N, H, W, C = 1): all equal; the last two equal; the middle two; one max; zeros
    wins = [[[2, 2], [2, 2]], [[1, 0], [3, 3]], [[1, 5], [5, 0]], [[0, 1], [4, 2]],
            [[0, 0], [0, 0]]]
    y = np.array(wins, np.float32).reshape(1, 5, 2, 2).transpose(0, 2, 1, 3).reshape(1, 2, 10, 1)
    p, cache = wl._np_relu_pool_fwd(y, ws, "p")
    assert p.ravel().tolist() == [2, 3, 5, 4, 0]
    dp = np.array([1, 2, 3, 4, 5], np.float32).reshape(1, 1, 5, 1)
    dy = wl._np_relu_pool_bwd(dp, cache, ws, "p")
    got = dy.reshape(2, 5, 2).transpose(1, 0, 2)
    want = [[[1, 0], [0, 0]], [[0, 0], [2, 0]], [[0, 3], [0, 0]], [[0, 0], [4, 0]],
            [[0, 0], [0, 0]]]
    assert got.tolist() == want
    try:
        import torch
    except ImportError:
        return
    Y = torch.tensor(y.transpose(0, 3, 1, 2), requires_grad=True)
    out = torch.nn.functional.max_pool2d(torch.relu(Y), 2)
    out.backward(torch.tensor(dp.reshape(out.shape)))
    assert Y.grad.numpy().transpose(0, 2, 3, 1).tolist() == dy.tolist()


@pytest.mark.parametrize("lib_name", ["ours", "torch"])
def test_numpy_lstm_gradients_match_autograd(lib_name):
    """The NumPy column of the LSTM rows: the sum of the outputs and its gradients through
    time of the input and the four weights, against autograd's (In != H, B != T)."""
    from bench import workloads as wl

    lib = _oracle(lib_name)
    T, B, n_in, H = 5, 3, 7, 6
    x = (0.5 * np.random.default_rng(4).standard_normal((T, B, n_in))).astype(np.float32)
    w = wl._np_weights([(4 * H, n_in), (4 * H, H), (4 * H,), (4 * H,)])
    loss, grads = wl._np_lstm_step(x, *w, wl._Workspace())
    nn, _, _ = wl._nn_of(lib, ["nn.LSTM"])
    lstm = nn.LSTM(n_in, H)
    params, start = wl._same_weights(lib, lstm, "cpu")
    for a, s in zip(w, start):  # (the NumPy draw is _same_weights' draw)
        assert np.array_equal(a, s.detach().cpu().numpy())
    X = wl._t(lib, x, "cpu", True)
    out, _ = lstm(X)
    ref = out.sum()
    ref.backward()
    assert loss == pytest.approx(float(ref.item()), rel=1e-5, abs=1e-4)
    _assert_grads(grads, [_grad_of(X)] + [_grad_of(p) for p in params], "lstm")


@pytest.mark.parametrize("lib_name", ["ours", "torch"])
def test_numpy_lenet_gradients_and_sgd_steps_match_autograd(lib_name):
    """The NumPy column of the LeNet-5 row: the cross-entropy's gradients of all ten
    parameters, and the parameters after two SGD steps with momentum, against autograd's."""
    from bench import workloads as wl

    lib = _oracle(lib_name)
    rng = np.random.default_rng(5)
    x = rng.random((3, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 3)
    init = wl._np_weights(wl.LENET_SHAPES)
    nn, F, optim = wl._nn_of(lib, ["nn.Conv2d", "nn.MaxPool2d", "nn.Flatten", "nn.Sequential",
                                   "nn.Linear", "nn.ReLU", "F.cross_entropy", "optim.SGD"])
    model = wl._lenet(nn)
    params, start = wl._same_weights(lib, model, "cpu")
    assert [tuple(p.shape) for p in params] == wl.LENET_SHAPES
    X, Y = wl._t(lib, x, "cpu"), lib.tensor(np.array(y, np.int64))

    loss, grads = wl._np_lenet_grads([p.copy() for p in init], x, y, wl._Workspace())
    ref = F.cross_entropy(model(X), Y)
    ref.backward()
    assert float(loss) == pytest.approx(float(ref.item()), rel=1e-5)
    _assert_grads(grads, [_grad_of(p) for p in params], "lenet grads")

    loss, after = wl._np_lenet_train(init, x, y, 2, wl._Workspace())
    opt = optim.SGD(params, lr=0.01, momentum=0.9)
    for _ in range(2):
        ref = F.cross_entropy(model(X), Y)
        opt.zero_grad()
        ref.backward()
        opt.step()
    assert loss == pytest.approx(float(ref.item()), rel=1e-5)
    # the updates (after - before), small beside the weights: compared on their own scale
    _assert_grads([a - s for a, s in zip(after, init)],
                  [p.detach().cpu().numpy() - s for p, s in zip(params, init)], "lenet steps")


def test_progress_table_is_printed(quick_run):
    _, doc, out, _ = quick_run
    total = sum(len(w["rows"]) for w in doc["workloads"])
    assert f"[ 1/{total}]" in out and f"[{total}/{total}]" in out
    assert "ours cpu" in out and "/torch" in out
    for w in doc["workloads"]:
        assert w["title"] in out
    assert "benchmark 'least_squares: " in out  # (pytest-benchmark's table of the group)


def test_report_from_the_result_file(quick_run, tmp_path):
    path, doc, _, _ = quick_run
    report.main(["--results", str(path.parent), "--out", str(tmp_path), "--include-quick"])
    text = (tmp_path / "REPORT.md").read_text()
    assert "## Goals" in text and "## Machines" in text and "| interleaved |" in text
    for w in doc["workloads"]:
        assert f"### {w['title']}" in text
    assert report.machine_name(doc) in text
    for goal in report.GOALS:
        assert goal[0] in text
    if not doc["machine"]["gpu"]:
        assert "pending: no result from a CUDA machine yet" in text
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "plots skipped" in text
    else:
        for name in ("overhead.png", "elementwise.png", "matmul.png"):
            assert (tmp_path / name).stat().st_size > 1000
            assert f"]({name})" in text


def test_report_skips_quick_files_by_default(quick_run, tmp_path):
    path, _, _, _ = quick_run
    report.main(["--results", str(path.parent), "--out", str(tmp_path)])
    assert "No results yet" in (tmp_path / "REPORT.md").read_text()


def test_sequential_run_and_a_regression_against_a_saved_run(quick_run, tmp_path):
    """--sequential times each case with pytest-benchmark's own loop; --compare FILE compares
    with a saved run and fails where a case got slower (here: against the quick run with
    every time divided by 1000, so that every case has regressed)."""
    _, _, _, data = quick_run
    fast = copy.deepcopy(data)
    for b in fast["benchmarks"]:
        for k in ("min", "max", "mean", "median", "stddev", "q1", "q3", "iqr", "total"):
            b["stats"][k] /= 1000
        b["stats"]["data"] = [x / 1000 for x in b["stats"]["data"]]
    saved = tmp_path / "saved" / "0001_fast.json"
    saved.parent.mkdir()
    saved.write_text(json.dumps(fast))
    out = tmp_path / "out"
    rc, text = _bench("--quick", "--sequential", "--only", "least_squares", "--out", str(out),
                      "--compare", str(saved))
    assert rc != 0 and "Performance has regressed" in text, text[-3000:]
    assert "least_squares-300x2-data-20-gd-steps-ours_cpu" in text
    (path,) = out.glob("*.json")
    data = json.loads(path.read_text())
    doc = report.from_benchmark_json(data)
    assert doc["mode"] == "sequential" and doc["only"] == ["least_squares"]
    (row,) = doc["workloads"][0]["rows"]
    values = {k: c["value"] for k, c in row["results"].items() if c and "value" in c}
    assert "ours_cpu" in values and "numpy" in values
    assert values["ours_cpu"] == pytest.approx(values["numpy"], rel=1e-4)
    assert {b["extra_info"]["mode"] for b in data["benchmarks"]} == {"sequential"}


def test_without_pytest_benchmark_the_stand_in_writes_the_same_json(quick_run, tmp_path):
    """A Python with pytest alone (a lent CUDA machine's): bench/minibench.py stands in for
    the plugin, and the report reads its file like pytest-benchmark's."""
    hide = tmp_path / "hide"
    hide.mkdir()
    (hide / "pytest_benchmark.py").write_text("raise ImportError('not installed here')\n")
    out = tmp_path / "out"
    rc, text = _bench("--quick", "--only", "least_squares", "--out", str(out), "--",
                      "-p", "no:benchmark", path=[str(hide)])
    assert rc == 0, text[-3000:]
    (path,) = out.glob("*.json")
    data = json.loads(path.read_text())
    assert data["version"] == "minibench"
    _, _, _, real = quick_run
    for key in ("machine_info", "commit_info", "benchmarks", "datetime", "bench"):
        assert key in data
    b, = [x for x in data["benchmarks"] if x["extra_info"]["column"] == "ours_cpu"]
    ref, = [x for x in real["benchmarks"] if x["fullname"] == b["fullname"]]
    assert set(b) <= set(ref) and set(b["stats"]) <= set(ref["stats"])
    assert data["machine_info"]["bench"]["host"] == real["machine_info"]["bench"]["host"]
    doc = report.from_benchmark_json(data)
    (row,) = doc["workloads"][0]["rows"]
    assert "median" in row["results"]["ours_cpu"] and row["ratios"]["ours_vs_numpy"] > 0


def test_names_of_runs_and_their_storage(tmp_path):
    machine = {"host": "h", "gpu": None, "thread_env": {}}
    full = suite.result_path(str(tmp_path), machine)
    part = suite.result_path(str(tmp_path), machine, {"models"})
    assert part != full and part.endswith("-h-cpu-only-models.json")
    pinned = dict(machine, thread_env={"OMP_NUM_THREADS": "1"})
    assert suite.storage_dir(pinned, str(tmp_path)) == str(tmp_path / "h-cpu-threads1")
    assert suite.storage_dir({"host": "x", "gpu": "NVIDIA H200"}, "r") == os.path.join("r", "x-cuda-nvidia-h200")
    xeon = {"host": "vm", "cpu": "Intel(R) Xeon(R) Processor", "gpu": None}  # (one host name,
    epyc = {"host": "vm", "cpu": "AMD EPYC 7B13 64-Core Processor", "gpu": None}  # two CPUs)
    assert suite.storage_dir(xeon, "r") == os.path.join("r", "vm-intel-xeon-cpu")
    assert suite.storage_dir(epyc, "r") == os.path.join("r", "vm-amd-epyc-7b13-64-core-cpu")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-abcdef0123-only-models", suite.save_name("abcdef0123456", ["models"]))
    assert suite.last_committed(str(tmp_path)) is None  # (nothing committed there)


def test_the_suite_is_not_collected_by_make_test():
    """No timed tests: `make test` collects tests/ only, and no test there takes the
    benchmark fixture; the cases live in bench/bench_suite.py."""
    import tomllib

    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        assert tomllib.load(f)["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    for name in os.listdir(os.path.join(ROOT, "tests")):
        if name.endswith(".py") and name != os.path.basename(__file__):
            with open(os.path.join(ROOT, "tests", name)) as f:
                assert not re.search(r"def test_\w*\([^)]*\bbenchmark\b", f.read()), name


def _bench_json(rows, created, only=None, complete=True, host="h", workload="overhead"):
    """A minimal pytest-benchmark file of the suite: rows of (label, {column: median})."""
    benchmarks, out_rows = [], []
    for label, medians in rows:
        cells = {k: None for k in harness.IMPL_KEYS}
        for col, t in medians.items():
            name = f"bench/bench_suite.py::test_bench[{workload}-{label}-{col}]"
            cells[col] = {"case": name}
            benchmarks.append({"group": f"{workload}: {label}", "fullname": name,
                               "extra_info": {"column": col},
                               "stats": {"median": t, "min": t, "max": t, "rounds": 3, "iterations": 1}})
        out_rows.append({"label": label, "size": 1, "group": f"{workload}: {label}", "cells": cells})
    return {"machine_info": {}, "commit_info": {"id": "a" * 40, "dirty": False},
            "datetime": created, "benchmarks": benchmarks, "version": "5.3.1",
            "bench": {"schema": 2, "quick": False, "mode": "interleaved", "only": only,
                      "machine": {"host": host, "gpu": None}, "versions": {},
                      "workloads": [{"id": workload, "title": workload, "rows": out_rows,
                                     "complete": complete}]}}


def test_partial_runs_and_the_report_merges_them(tmp_path):
    storage = tmp_path / "h-cpu" / "Linux-CPython-3.11-64bit"
    storage.mkdir(parents=True)
    full = _bench_json([("r1", {"ours_cpu": 2.0, "torch_cpu": 10.0}),
                        ("r2", {"ours_cpu": 3.0, "torch_cpu": 10.0})], "2026-01-01T00:00:00+00:00")
    (storage / "0001_full.json").write_text(json.dumps(full))
    # -k ran one column of r1: only that cell changes
    part = _bench_json([("r1", {"ours_cpu": 1.0})], "2026-01-02T00:00:00+00:00",
                       only=["overhead"], complete=False)
    part["bench"]["workloads"][0]["rows"][0]["cells"]["torch_cpu"] = {"not_run": "deselected"}
    (storage / "0002_part.json").write_text(json.dumps(part))
    (doc,) = report.load(str(tmp_path))
    rows = {r["label"]: r for r in doc["workloads"][0]["rows"]}
    assert rows["r1"]["ratios"]["ours_vs_torch_cpu"] == pytest.approx(0.1)
    assert rows["r2"]["ratios"]["ours_vs_torch_cpu"] == pytest.approx(0.3)
    assert doc["merged"][0]["only"] == ["overhead"] and "0002_part.json" in doc["_file"]
    # --only overhead ran the workload whole: it replaces the full run's
    whole = _bench_json([("r3", {"ours_cpu": 5.0, "torch_cpu": 10.0})], "2026-01-03T00:00:00+00:00",
                        only=["overhead"], complete=True)
    (tmp_path / "2026-01-03-h-cpu-only-overhead.json").write_text(json.dumps(whole))
    (doc,) = report.load(str(tmp_path))
    assert [r["label"] for r in doc["workloads"][0]["rows"]] == ["r3"]
    # a full run after the partial ones replaces them all
    newer = dict(full, datetime="2026-01-04T00:00:00+00:00")
    (storage / "0003_newer.json").write_text(json.dumps(newer))
    (doc,) = report.load(str(tmp_path))
    assert "merged" not in doc and [r["label"] for r in doc["workloads"][0]["rows"]] == ["r1", "r2"]


def test_load_keeps_the_latest_run_per_machine_and_skips_other_files(tmp_path):
    for i, created in enumerate(["2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"]):
        (tmp_path / f"{i}.json").write_text(json.dumps(_bench_json([("r", {"ours_cpu": 1.0})], created)))
    (tmp_path / "other.json").write_text(json.dumps(_bench_json([("r", {"ours_cpu": 1.0})],
                                                                "2026-01-01T00:00:00+00:00", host="g")))
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "distributed-2026-01-01-h.json").write_text(json.dumps({"allreduce": []}))
    (tmp_path / "old-schema.json").write_text(json.dumps({"schema": 1, "workloads": []}))
    docs = report.load(str(tmp_path))
    assert [(d["machine"]["host"], d["created"][:10]) for d in docs] == [("g", "2026-01-01"), ("h", "2026-01-02")]
    # a run of the harness from before pytest-benchmark (schema 1) is read as it is
    old = dict(_doc(0.2), schema=1, quick=False, host="o", versions={})
    old["machine"] = {"host": "o", "gpu": None}
    (tmp_path / "2025-01-01-o-cpu.json").write_text(json.dumps(old))
    (doc,) = [d for d in report.load(str(tmp_path)) if d["machine"]["host"] == "o"]
    assert doc["mode"].startswith("interleaved") and doc["workloads"][0]["rows"][0]["ratios"]["ours_vs_torch_cpu"] == 0.2


def test_clock_replays_recorded_repeats_and_syncs_when_live():
    clock = harness.Clock()
    clock.replay([(1.0, 1.5), (2.0, 2.25)])
    assert [clock() for _ in range(4)] == [1.0, 1.5, 2.0, 2.25]
    synced = []
    clock.live(lambda: synced.append(1))
    t = clock()
    assert synced == [1] and abs(t - time.perf_counter()) < 1.0


def test_measure_row_records_the_repeats_stamps():
    cells = harness.measure_row({"numpy": (lambda: time.sleep(0.001), harness._noop)},
                                harness.Timing(quick=True))
    c = cells["numpy"]
    per_call = sorted((t1 - t0) / c["number"] for t0, t1 in c["stamps"])
    assert len(c["stamps"]) == c["repeats"] and per_call[len(per_call) // 2] == c["median"]
    assert all(t0 < t1 for t0, t1 in c["stamps"])


# ---------------------------------------------------------------- the parts, with known answers


def test_measure_row_times_and_isolates_failures():
    timing = harness.Timing(quick=True)
    calls = []

    def sleepy():
        calls.append(1)
        time.sleep(0.003)
        return 7.0

    def broken():
        raise ValueError("boom")

    cells = harness.measure_row({"ours_cpu": (sleepy, harness._noop),
                                 "numpy": (broken, harness._noop)}, timing)
    assert cells["numpy"] == {"error": "ValueError: boom"}
    c = cells["ours_cpu"]
    assert 0.003 <= c["min"] <= c["median"] <= c["max"]  # (no upper limit: load varies)
    assert c["value"] == 7.0 and c["repeats"] >= timing.min_repeats
    assert len(calls) == 2 + c["repeats"] * c["number"]  # (two warm-up calls)


def test_run_row_makes_the_rows_extra_warmup_calls_in_every_column():
    class StubEnv:
        cuda_ok = False

        def unavailable(self, key):
            return None

        def sync(self, key):
            return harness._noop

    calls = {"numpy": 0, "ours_cpu": 0}

    def factory(key):
        def run():
            calls[key] += 1
            time.sleep(0.003)
        return run

    row = {"label": "r", "size": 1, "warmup": 2,
           "impls": {k: functools.partial(factory, k) for k in calls}}
    out = suite.run_row(StubEnv(), row, harness.Timing(quick=True))
    for key, n in calls.items():
        cell = out["results"][key]
        assert n == 2 + 2 + cell["repeats"] * cell["number"], (key, n, cell)


def test_measure_row_loops_tiny_calls():
    cells = harness.measure_row({"numpy": (lambda: None, harness._noop)}, harness.Timing(quick=True))
    assert cells["numpy"]["number"] > 1 and "value" not in cells["numpy"]


def test_measure_row_sizes_the_loop_from_warm_calls_not_the_first():
    # PyTorch's first backward costs ~5 ms, later ones ~80 us: a loop sized from the first
    # call would time a handful of cold calls per repeat.
    state = {"calls": 0}

    def slow_first():
        state["calls"] += 1
        if state["calls"] == 1:
            time.sleep(0.008)  # (longer than a quick repeat, shorter than its budget)

    timing = harness.Timing(quick=True)
    cells = harness.measure_row({"torch_cpu": (slow_first, harness._noop)}, timing)
    c = cells["torch_cpu"]
    assert c["number"] > 10 and c["median"] < 0.001


def _doc(ratio, gpu=None):
    row = {"label": "(x*w + b).sum() fwd+bwd, 4 el.", "size": 3,
           "results": {"ours_cpu": {"median": ratio * 1e-4}, "torch_cpu": {"median": 1e-4}},
           "ratios": {"ours_vs_torch_cpu": ratio}}
    return {"machine": {"host": "h", "gpu": gpu}, "created": "2026-01-01T00:00:00+00:00",
            "workloads": [{"id": "overhead", "rows": [row]}]}


@pytest.mark.parametrize("ratio, verdict", [(0.2, "**pass**"), (0.25, "**pass**"), (0.3, "**MISS**")])
def test_goal_verdicts(ratio, verdict):
    lines = report.goal_rows([_doc(ratio)])
    line = next(x for x in lines if x.startswith("| 3-op fwd+bwd"))
    assert line.rstrip().endswith(f"| {verdict} |")
    gpu_line = next(x for x in lines if x.startswith("| GPU: MLP 4096"))
    assert "pending" in gpu_line


def test_elementwise_goal_is_judged_on_the_pooled_row_not_the_pool_off_comparison():
    def row(label, ratio):
        return {"label": label, "size": 10**7, "ratios": {"ours_vs_torch_cpu": ratio},
                "results": {"ours_cpu": {"median": ratio}, "torch_cpu": {"median": 1.0}}}

    doc = {"machine": {"host": "h", "gpu": None}, "created": "2026-01-01T00:00:00+00:00",
           "workloads": [{"id": "elementwise", "rows": [row("n = 1e7", 0.45),
                                                        row("n = 1e7, host pool off", 0.65)]}]}
    line = next(x for x in report.goal_rows([doc]) if x.startswith("| elementwise chain"))
    assert "pool off" not in line and line.rstrip().endswith("| **pass** |")


def _chain_doc(ours, numpy, torch):
    """An overhead workload whose chains of 1 and 64 ops cost `fixed + k * per_op` per column,
    (fixed, per_op) given for each."""
    rows = []
    for k in (1, 64):
        res = {col: {"median": f + k * p} for col, (f, p) in
               (("ours_cpu", ours), ("numpy", numpy), ("torch_cpu", torch))}
        rows.append({"label": f"chain of {k} mul + sum, fwd+bwd", "size": k, "results": res,
                     "ratios": report.ratios(res)})
    return {"machine": {"host": "h", "gpu": None}, "created": "2026-01-01T00:00:00+00:00",
            "workloads": [{"id": "overhead", "rows": rows}]}


@pytest.mark.parametrize("per_op, verdict", [(1.4e-6, "**pass**"), (1.6e-6, "**MISS**")])
def test_per_op_goal_is_the_slope_ratio(per_op, verdict):
    # (fixed costs differ widely and must not count: only the slope does)
    doc = _chain_doc(ours=(9e-6, per_op), numpy=(1e-6, 1e-6), torch=(50e-6, 5e-6))
    line = next(x for x in report.goal_rows([doc]) if x.startswith("| per-op cost"))
    assert f"{per_op / 1e-6:.2f}x" in line and line.rstrip().endswith(f"| {verdict} |")


def test_rows_slower_than_pytorch_are_listed_with_numpys_ratio():
    doc = _chain_doc(ours=(9e-6, 2e-6), numpy=(1e-6, 1e-6), torch=(5e-6, 1e-6))
    lines = report.above_torch_rows([doc])
    # chain of 1: 11 vs 6 us (1.83x, NumPy 0.33x); chain of 64: 137 vs 69 us (1.99x)
    assert any("chain of 1 mul" in x and "| 1.83x | 0.33x |" in x for x in lines)
    assert any("chain of 64 mul" in x and "| 1.99x |" in x for x in lines)
    fast = _chain_doc(ours=(1e-6, 1e-6), numpy=(1e-6, 1e-6), torch=(5e-6, 1e-6))
    assert report.above_torch_rows([fast]) == ["Every CPU row is at or below PyTorch CPU's time."]


def test_results_directory_default(monkeypatch):
    assert os.path.basename(suite.RESULTS_DIR) == "results"
    assert os.path.isdir(os.path.dirname(suite.RESULTS_DIR))


def _kernel_doc(fractions):
    rows = [dict(op=op, n=n, dtype="float32", fused_s=1e-3, unfused_s=3e-3, bytes=8 * n,
                 fused_GBps=8 * n / 1e-3 / 1e9, copy_GBps=1.0, fraction_of_copy=f, speedup_vs_unfused=3.0)
            for op, n, f in fractions]
    return {"gpu": "Test GPU", "date": "2026-01-01T00:00:00+00:00", "backward": rows, "adam": None}


@pytest.mark.parametrize("low, verdict", [(0.9, "**pass**"), (0.8, "**MISS**")])
def test_fused_backward_goal_reads_gpu_kernel_results(low, verdict, tmp_path):
    # Sizes below 1e7 do not count toward the goal, however slow.
    kd = _kernel_doc([("relu", 10**6, 0.1), ("relu", 10**7, 0.95), ("tanh", 10**8, low)])
    (tmp_path / "gpu_kernels-test-gpu.json").write_text(json.dumps(kd))
    (kd_loaded,) = report.load_kernels(str(tmp_path))
    line = next(x for x in report.goal_rows([], [kd_loaded]) if x.startswith("| GPU: fused backward"))
    assert line.rstrip().endswith(f"| {verdict} |") and "Test GPU" in line
    assert ("below: tanh" in line) == (verdict == "**MISS**")
    assert any("| Test GPU | tanh | 1e+08 |" in x for x in report.kernel_tables([kd_loaded]))


def test_profile_names_the_library_functions(capsys):
    from bench import profile

    assert profile.main(["overhead", "--quick", "--seconds", "0.05", "--top", "40"]) == 0
    out = capsys.readouterr().out
    assert "ours_cpu" in out and "calls in" in out
    assert os.path.join("autograd_gpu", "autograd", "engine.py") in out


def test_the_command_line_help_prints(capsys):
    with pytest.raises(SystemExit) as info:
        suite.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "--compare-fail" in out and "median:25%" in out


@pytest.mark.gpu
def test_gpu_kernels_runs_through_and_writes_its_json(tmp_path):
    # the whole of bench.gpu_kernels at its tiny sizes (on the CuPy stand-in here): each fused
    # backward and the Adam step against their CuPy array code, and the JSON written
    from bench import gpu_kernels

    assert gpu_kernels.main(["--tiny", "--out", str(tmp_path)]) == 0
    (path,) = tmp_path.glob("gpu_kernels-*.json")
    data = json.loads(path.read_text())
    assert {r["n"] for r in data["backward"]} == {10**5, 10**6}
    assert all(r["fused_s"] > 0 and r["unfused_s"] > 0 for r in data["backward"])
    assert data["adam"]["n"] == 10**6 and data["adam"]["fused_s"] > 0
