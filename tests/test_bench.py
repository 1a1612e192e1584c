"""The benchmark suite in quick mode (tiny sizes), so that it cannot rot: every workload runs,
the result file has the structure the report reads, the implementations of a row compute
the same thing, and the report is built from it. Speed is not asserted here."""
import functools
import json
import math
import os
import re
import time

import pytest

from bench import harness, report, suite

WORKLOADS = ["overhead", "elementwise", "matmul", "training", "optimizer", "least_squares", "models"]
CPU_COLUMNS = ("ours_cpu", "numpy")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = suite.main(["--quick", "--out", str(out)])
    assert rc == 0
    (path,) = out.glob("*.json")
    with open(path) as f:
        return path, json.load(f), buf.getvalue()


def _cells(doc):
    for w in doc["workloads"]:
        for row in w["rows"]:
            for key, cell in row["results"].items():
                yield w["id"], row, key, cell


def test_result_file_name_and_header(quick_run):
    path, doc, _ = quick_run
    m = doc["machine"]
    dev = "cuda-" if m["gpu"] else "cpu"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d-[a-z0-9-]+-" + dev + r".*\.json", path.name)
    assert doc["schema"] == 1 and doc["quick"] is True
    for key in ("host", "cpu", "cores", "ram_gb", "gpu", "python"):
        assert key in m
    assert m["cores"] >= 1
    assert doc["versions"]["numpy"] and doc["versions"]["autograd_gpu"]
    if doc["commit"] is not None:
        assert re.fullmatch(r"[0-9a-f]{40}", doc["commit"])
    assert [w["id"] for w in doc["workloads"]] == WORKLOADS


def test_every_cell_is_a_timing_or_says_why_not(quick_run):
    _, doc, _ = quick_run
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
    _, doc, _ = quick_run
    for wid, row, key, cell in _cells(doc):
        if key in CPU_COLUMNS and not (key == "numpy" and wid == "models"):  # (no NumPy column)
            assert "median" in cell, f"{wid} / {row['label']} / {key}: {cell}"


def test_gpu_columns_say_no_gpu_when_there_is_none(quick_run):
    _, doc, _ = quick_run
    if doc["machine"]["gpu"]:
        pytest.skip("this machine has a GPU: its columns were measured")
    for _, _, key, cell in _cells(doc):
        if key in ("ours_cuda", "copy_device") and cell is not None:
            assert cell["unavailable"].startswith("no GPU")
    assert doc["machine"]["gpu_note"]


def test_ratios_are_quotients_of_the_medians(quick_run):
    _, doc, _ = quick_run
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
    _, doc, _ = quick_run
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
    """The real-model rows start ours and PyTorch from the same weights: the losses agree."""
    _, doc, _ = quick_run
    (w,) = [w for w in doc["workloads"] if w["id"] == "models"]
    labels = [r["label"] for r in w["rows"]]
    for part in ("Conv2d", "conv+relu+maxpool", "LeNet-5", "LSTM"):
        assert any(label.startswith(part) for label in labels), (part, labels)
    for row in w["rows"]:
        values = {k: c["value"] for k, c in row["results"].items() if c and "value" in c}
        assert "ours_cpu" in values, row
        if "torch_cpu" not in values:
            assert "unavailable" in row["results"]["torch_cpu"]
            continue
        for k, v in values.items():
            assert math.isfinite(v)
            assert v == pytest.approx(values["torch_cpu"], rel=1e-4, abs=1e-3), (row["label"], k, values)


def test_partial_run_sits_beside_the_full_one_and_the_report_merges_them(tmp_path):
    machine = {"host": "h", "gpu": None, "thread_env": {}}
    full = suite.result_path(str(tmp_path), machine)
    part = suite.result_path(str(tmp_path), machine, {"models"})
    assert part != full and part.endswith("-cpu-only-models.json")

    def row(label, ratio):
        return {"label": label, "size": 1, "ratios": {"ours_vs_torch_cpu": ratio},
                "results": {"ours_cpu": {"median": ratio}, "torch_cpu": {"median": 1.0}}}

    base = dict(_doc(0.2), schema=1, quick=False, only=None, commit="a" * 40)
    base["workloads"].append({"id": "models", "rows": [row("old", 9.0)]})
    later = {"schema": 1, "quick": False, "only": ["models", "matmul"], "commit": "b" * 40,
             "machine": {"host": "h", "gpu": None}, "created": "2026-01-02T00:00:00+00:00",
             "workloads": [{"id": "models", "rows": [row("new", 1.2)]},
                           {"id": "matmul", "rows": [row("m", 0.9)]}]}
    (tmp_path / "full.json").write_text(json.dumps(base))
    (tmp_path / "part.json").write_text(json.dumps(later))
    (doc,) = report.load(str(tmp_path))
    assert [w["id"] for w in doc["workloads"]] == ["overhead", "models", "matmul"]
    assert doc["workloads"][0]["rows"][0]["ratios"]["ours_vs_torch_cpu"] == 0.2
    assert [r["label"] for r in doc["workloads"][1]["rows"]] == ["new"]
    assert doc["commit"] == "a" * 40 and doc["merged"][0]["commit"] == "b" * 40
    # a full run after the partial one replaces both
    newer = dict(base, created="2026-01-03T00:00:00+00:00")
    (tmp_path / "newer.json").write_text(json.dumps(newer))
    (doc,) = report.load(str(tmp_path))
    assert "merged" not in doc and [r["label"] for r in doc["workloads"][1]["rows"]] == ["old"]


def test_progress_table_is_printed(quick_run):
    _, doc, out = quick_run
    total = sum(len(w["rows"]) for w in doc["workloads"])
    assert f"[ 1/{total}]" in out and f"[{total}/{total}]" in out
    assert "ours cpu" in out and "/torch" in out
    for w in doc["workloads"]:
        assert w["title"] in out


def test_report_from_the_result_file(quick_run, tmp_path):
    path, doc, _ = quick_run
    report.main(["--results", str(path.parent), "--out", str(tmp_path), "--include-quick"])
    text = (tmp_path / "REPORT.md").read_text()
    assert "## Goals" in text and "## Machines" in text
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
    path, _, _ = quick_run
    report.main(["--results", str(path.parent), "--out", str(tmp_path)])
    assert "No results yet" in (tmp_path / "REPORT.md").read_text()


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


def test_load_keeps_the_latest_run_per_machine(tmp_path):
    for i, created in enumerate(["2026-01-01T00:00:00+00:00", "2026-01-02T00:00:00+00:00"]):
        doc = dict(_doc(0.1 * (i + 1)), schema=1, quick=False, created=created)
        (tmp_path / f"{i}.json").write_text(json.dumps(doc))
    (tmp_path / "broken.json").write_text("{not json")
    docs = report.load(str(tmp_path))
    assert len(docs) == 1 and docs[0]["created"].startswith("2026-01-02")


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
