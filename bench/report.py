"""Builds bench/REPORT.md (and bench/*.png when matplotlib is importable) from the suite's
pytest-benchmark files in bench/results/: the runs `make bench` saves
(bench/results/<host>-<cpu>-<device>/<platform>/NNNN_<date>-<commit>.json) and those written with
`python -m bench --out` at the top of the folder. One table per workload with each machine's
latest run, and the goals of the suite with pass or miss per machine.

    python -m bench.report [--results DIR] [--out DIR]
"""
import argparse
import glob
import json
import os

from .harness import IMPL_KEYS, IMPLS, RATIOS, fmt_ratio, fmt_time, ratios

HERE = os.path.dirname(os.path.abspath(__file__))

# The goals the suite must show: (goal, reference figures on the CPU machine where they were
# taken, workload id, row predicate, [(ratio, "<=" or ">=", target)], needs a GPU).
GOALS = (
    ("3-op fwd+bwd, 4 elements", "PyTorch CPU 78 us, NumPy 4.5 us", "overhead",
     lambda r: r["label"].startswith("(x*w + b)"), [("ours_vs_torch_cpu", "<=", 0.25)], False),
    ("least squares, 5000 steps", "PyTorch CPU 0.74 s, NumPy 0.034 s", "least_squares",
     lambda r: r["size"] == 5000, [("ours_vs_torch_cpu", "<=", 0.25)], False),
    ("two-layer net, 500 Adam steps", "PyTorch CPU 0.45 s, NumPy 0.23 s", "training",
     lambda r: "two-layer" in r["label"] and "500 steps" in r["label"],
     [("ours_vs_torch_cpu", "<=", 0.6)], False),
    ("elementwise chain, 1e7, fwd+bwd", "PyTorch CPU 200 ms, NumPy 79 ms", "elementwise",
     lambda r: r["size"] == 10**7 and "pool off" not in r["label"],  # (not the comparison row)
     [("ours_vs_torch_cpu", "<=", 0.5)], False),
    ("4-layer MLP, 50 steps", "PyTorch CPU 1.9 s, NumPy 1.8 s", "training",
     lambda r: "4x1024" in r["label"], [("ours_vs_numpy", "<=", 1.05)], False),
    # Issue 19: the op protocol's cost against NumPy's own (hand-written NumPy of the same work).
    ("per-op cost (chains of 1 to 64 multiplications)", "NumPy 1.1 us per op (1 thread)",
     "per_op", None, [("slope_vs_numpy", "<=", 1.5)], False),
    ("3-op fwd+bwd, 4 elements, against NumPy", "NumPy 2.5 us (1 thread)", "overhead",
     lambda r: r["label"].startswith("(x*w + b)"), [("ours_vs_numpy", "<=", 2.5)], False),
    ("least squares, 5000 steps, against NumPy", "NumPy 35 ms (1 thread)", "least_squares",
     lambda r: r["size"] == 5000, [("ours_vs_numpy", "<=", 2.0)], False),
    # Issue 17: real models, each within 1.5x of PyTorch (oneDNN on the CPU, cuDNN on a GPU).
    ("conv2d+relu+max_pool2d, batch 32, fwd+bwd", "PyTorch CPU 6.5 ms (1 thread)", "models",
     lambda r: r["label"].startswith("conv+relu+maxpool 3->16, 32x"),
     [("ours_vs_torch_cpu", "<=", 1.5)], False),
    ("LeNet-5 step, batch 64", "PyTorch CPU 6.2 ms (1 thread)", "models",
     lambda r: r["label"] == "LeNet-5 SGD step, batch 64", [("ours_vs_torch_cpu", "<=", 1.5)], False),
    ("LSTM 200, seq 35, batch 20, fwd+bwd", "PyTorch CPU 9.7 ms (1 thread)", "models",
     lambda r: r["label"] == "LSTM 200->200, seq 35, batch 20", [("ours_vs_torch_cpu", "<=", 1.5)],
     False),
    ("GPU: conv, LeNet-5, LSTM rows", "", "models",
     lambda r: (r["label"].startswith("conv+relu+maxpool 3->16, 32x")
                or r["label"] in ("LeNet-5 SGD step, batch 64", "LSTM 200->200, seq 35, batch 20")),
     [("ours_vs_torch_cuda", "<=", 1.5)], True),
    # Measured by bench.gpu_kernels (each fused backward kernel against a device copy).
    ("GPU: fused backward, >= 1e7", "", "gpu_kernels",
     lambda r: r["n"] >= 10**7, [("fraction_of_copy", ">=", 0.85)], True),
    ("GPU: MLP 4096, one step", "", "training",
     lambda r: "4x4096" in r["label"], [("ours_vs_torch_cuda", "<=", 1.1), ("gpu_speedup", ">=", 50)],
     True),
)

RATIO_HEADERS = (("gpu_speedup", "GPU speedup"), ("ours_vs_torch_cpu", "ours/torch cpu"),
                 ("ours_vs_torch_cuda", "ours/torch cuda"), ("ours_vs_numpy", "ours/numpy"),
                 ("ours_vs_copy_host", "ours/copy host"), ("device_bw_fraction", "dev copy/ours"))


def from_benchmark_json(data, name=""):
    """A pytest-benchmark file of the suite as the report reads a run: its machine, versions,
    commit, and the workloads' rows with each column's median, spread, repeats and loop size
    (from the case's stats) or why it has none. None for other JSON files."""
    b = data.get("bench") if isinstance(data, dict) else None
    if not isinstance(b, dict) or b.get("schema") != 2:
        return None
    cases = {x["fullname"]: x for x in data.get("benchmarks", [])}
    workloads = []
    for w in b["workloads"]:
        rows = []
        for r in w["rows"]:
            results = {}
            for k in IMPL_KEYS:
                c = r["cells"].get(k)
                if c and "case" in c:
                    bm = cases.get(c["case"])
                    if bm is None:
                        c = {"error": f"no benchmark recorded for {c['case']}"}
                    else:
                        st = bm["stats"]
                        c = {"median": st["median"], "min": st["min"], "max": st["max"],
                             "repeats": st["rounds"], "number": st["iterations"],
                             "case": bm["fullname"]}
                        if "value" in (bm.get("extra_info") or {}):
                            c["value"] = bm["extra_info"]["value"]
                results[k] = c
            row = {"label": r["label"], "size": r["size"], "results": results,
                   "ratios": ratios(results)}
            if r.get("series"):
                row["series"] = r["series"]
            rows.append(row)
        workloads.append({k: v for k, v in w.items() if k != "rows"} | {"rows": rows})
    commit = data.get("commit_info") or {}
    machine = dict(b["machine"], load_avg_start=b.get("load_avg_start"),
                   load_avg_end=b.get("load_avg_end"))
    return {"quick": b["quick"], "mode": b.get("mode"), "created": data["datetime"],
            "machine": machine, "versions": b["versions"], "commit": commit.get("id"),
            "dirty": commit.get("dirty"), "only": b.get("only"), "elapsed_s": b.get("elapsed_s"),
            "workloads": workloads, "_file": name}


def result_files(results_dir):
    """The suite's runs under results_dir: saved ones (<machine>/<platform>/NNNN_*.json, as
    pytest-benchmark's storage lays them out) and --out ones at the top."""
    paths = glob.glob(os.path.join(results_dir, "*.json"))
    paths += glob.glob(os.path.join(results_dir, "*", "*", "[0-9][0-9][0-9][0-9]_*.json"))
    return sorted(paths)


def _is_run(cell):
    return bool(cell) and "not_run" not in cell


def _merge(base, doc):
    """base with the cells a later partial run measured: a workload the partial run ran whole
    replaces base's; otherwise each of its rows replaces the cells it ran."""
    merged = dict(base, workloads=[dict(w, rows=[dict(r, results=dict(r["results"]))
                                                 for r in w["rows"]]) for w in base["workloads"]])
    for w in doc["workloads"]:
        i = next((i for i, v in enumerate(merged["workloads"]) if v["id"] == w["id"]), None)
        if i is None:
            merged["workloads"].append(w)
        elif w.get("complete"):
            merged["workloads"][i] = w
        else:
            rows = merged["workloads"][i]["rows"]
            for r in w["rows"]:
                old = next((o for o in rows if o["label"] == r["label"]), None)
                if old is None:
                    rows.append(r)
                    continue
                old["results"].update({k: c for k, c in r["results"].items() if _is_run(c)})
                old["ratios"] = ratios(old["results"])
    m = doc["machine"]
    merged["_file"] = f"{base['_file']}, {doc['_file']}"
    merged["merged"] = base.get("merged", []) + [
        {"only": [w["id"] for w in doc["workloads"]], "created": doc["created"],
         "commit": doc.get("commit"), "dirty": doc.get("dirty"),
         "load_avg_start": m.get("load_avg_start"), "load_avg_end": m.get("load_avg_end"),
         "elapsed_s": doc.get("elapsed_s")}]
    return merged


def load(results_dir, include_quick=False):
    """The latest full (not quick) run per machine, oldest machine first.

    A later partial run (`python -m bench --only ...`, or pytest's -k: its `only` field set)
    replaces what it measured in the machine's latest full run and adds what that lacks."""
    docs = []
    for path in result_files(results_dir):
        try:
            with open(path) as f:
                data = json.load(f)
            doc = from_benchmark_json(data, os.path.relpath(path, results_dir))
            if (doc is None and isinstance(data, dict) and data.get("schema") == 1
                    and {"machine", "created", "workloads"} <= set(data)):
                # a run of the harness from before the suite moved to pytest-benchmark: already
                # in the form read here (its columns were interleaved too)
                doc = dict(data, mode="interleaved (before pytest-benchmark)",
                           _file=os.path.relpath(path, results_dir))
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if doc is None or (doc.get("quick") and not include_quick):
            continue
        docs.append(doc)
    latest = {}
    for doc in sorted(docs, key=lambda d: (d["created"], bool(d.get("only")))):
        m = doc["machine"]
        key = (m["host"], m.get("cpu"), m.get("gpu"), _threads(m))
        base = latest.get(key)
        latest[key] = doc if not doc.get("only") or base is None else _merge(base, doc)
    return sorted(latest.values(), key=lambda d: d["created"])


def _threads(m):
    return (m.get("thread_env") or {}).get("OMP_NUM_THREADS")


def machine_name(doc):
    m = doc["machine"]
    cpu = m.get("cpu") or "CPU"
    name = f"{m['host']} ({cpu}, {m['gpu']})" if m.get("gpu") else f"{m['host']} ({cpu}, CPU only)"
    return name + (f", threads={_threads(m)}" if _threads(m) else "")


def _cell_md(cell):
    s = fmt_time(cell)
    return "-" if s == "-" else s


def _check(value, op, target):
    return value <= target if op == "<=" else value >= target


def goal_rows(docs, kernel_docs=()):
    lines = ["| goal | reference (this CPU machine) | target | machine | measured | result |",
             "|---|---|---|---|---|---|"]
    for name, ref, wid, pred, checks, needs_gpu in GOALS:
        if wid == "gpu_kernels":
            lines += _kernel_goal(name, pred, checks, kernel_docs)
            continue
        if wid == "per_op":
            lines += _per_op_goal(name, ref, checks, docs)
            continue
        target = "; ".join(f"{RATIOS[r][0].replace('_', ' ')}/{RATIOS[r][1].replace('_', ' ')} {op} {t}"
                           for r, op, t in checks)
        relevant = [d for d in docs if d["machine"].get("gpu")] if needs_gpu else docs
        if not relevant:
            why = "pending: no result from a CUDA machine yet" if needs_gpu else "no results yet"
            lines.append(f"| {name} | {ref} | {target} | - | - | {why} |")
            continue
        for d in relevant:
            w = next((w for w in d["workloads"] if w["id"] == wid), None)
            rows = [r for r in (w["rows"] if w else []) if pred(r)]
            measured, verdicts = [], []
            for r in rows:
                for ratio, op, t in checks:
                    v = r["ratios"].get(ratio)
                    if v is None:
                        num, den = RATIOS[ratio][:2]
                        missing = [k for k in (num, den) if not (r["results"].get(k) or {}).get("median")]
                        why = "; ".join(f"{k}: {_reason(r['results'].get(k))}" for k in missing)
                        measured.append(f"{r['label']}: {ratio} n/a ({why})")
                        verdicts.append(None)
                    else:
                        measured.append(f"{r['label']}: {v:.3f}x "
                                        f"({_times(r, RATIOS[ratio][0], RATIOS[ratio][1])})")
                        verdicts.append(_check(v, op, t))
            if not rows:
                result = "not measured"
            elif any(v is None for v in verdicts):
                result = "n/a"
            else:
                result = "**pass**" if all(verdicts) else "**MISS**"
            lines.append(f"| {name} | {ref} | {target} | {machine_name(d)} | "
                         f"{'<br>'.join(measured) or '-'} | {result} |")
    return lines


def _slopes(w):
    """Per-op cost of each column, from the chains of 1 and 64 ops of an overhead workload."""
    by_size = {r["size"]: r for r in w["rows"] if r["label"].startswith("chain")}
    if 1 not in by_size or 64 not in by_size:
        return {}
    out = {}
    for k, _ in IMPLS:
        a, b = by_size[1]["results"].get(k) or {}, by_size[64]["results"].get(k) or {}
        if "median" in a and "median" in b:
            out[k] = (b["median"] - a["median"]) / 63
    return out


def _per_op_goal(name, ref, checks, docs):
    (_, op, t), = checks
    target = f"ours cpu per op / numpy per op {op} {t}"
    lines = []
    for d in docs:
        w = next((w for w in d["workloads"] if w["id"] == "overhead"), None)
        s = _slopes(w) if w else {}
        if "ours_cpu" not in s or not s.get("numpy"):
            continue
        v = s["ours_cpu"] / s["numpy"]
        lines.append(f"| {name} | {ref} | {target} | {machine_name(d)} | {v:.2f}x "
                     f"({s['ours_cpu'] * 1e6:.2f} us vs {s['numpy'] * 1e6:.2f} us per op) | "
                     f"{'**pass**' if _check(v, op, t) else '**MISS**'} |")
    return lines or [f"| {name} | {ref} | {target} | - | - | no results yet |"]


def above_torch_rows(docs):
    """Every CPU row where ours is slower than PyTorch CPU, with hand-written NumPy's ratio to
    PyTorch where the row has a NumPy column (above 1: NumPy itself does not reach PyTorch)."""
    lines = ["| machine | workload | row | ours/torch cpu | numpy/torch cpu |", "|---|---|---|---|---|"]
    n = 0
    for d in docs:
        for w in d["workloads"]:
            for r in w["rows"]:
                v = r["ratios"].get("ours_vs_torch_cpu")
                if v is None or v <= 1.0:
                    continue
                res = r["results"]
                num, torch = (res.get("numpy") or {}).get("median"), (res.get("torch_cpu") or {}).get("median")
                nt = f"{num / torch:.2f}x" if num and torch else "no NumPy column"
                lines.append(f"| {machine_name(d)} | {w['id']} | {r['label']} | {v:.2f}x | {nt} |")
                n += 1
    if not n:
        return ["Every CPU row is at or below PyTorch CPU's time."]
    return lines


def _kernel_goal(name, pred, checks, kernel_docs):
    (ratio, op, t), = checks
    target = f"fused kernel bandwidth / device copy bandwidth {op} {t}"
    if not kernel_docs:
        return [f"| {name} | | {target} | - | - | pending: no `bench.gpu_kernels` result from a "
                "CUDA machine yet |"]
    lines = []
    for d in kernel_docs:
        rows = [r for r in d.get("backward", []) if pred(r)]
        bad = [r for r in rows if not _check(r[ratio], op, t)]
        worst = min(rows, key=lambda r: r[ratio]) if rows else None
        measured = (f"{len(rows)} kernels x sizes; lowest {100 * worst[ratio]:.0f}% "
                    f"({worst['op']}, n={worst['n']:.0e})" if worst else "-")
        if bad:
            measured += "; below: " + ", ".join(sorted({r["op"] for r in bad}))
        result = "not measured" if not rows else ("**pass**" if not bad else "**MISS**")
        lines.append(f"| {name} | | {target} | {d['gpu']} ({d['date'][:10]}) | {measured} | {result} |")
    return lines


def load_kernels(results_dir):
    """bench.gpu_kernels result files (one per GPU)."""
    out = []
    for path in sorted(glob.glob(os.path.join(results_dir, "gpu_kernels-*.json"))):
        try:
            with open(path) as f:
                doc = json.load(f)
            if "backward" in doc and "gpu" in doc:
                out.append(doc)
        except (OSError, ValueError):
            continue
    return out


def kernel_tables(kernel_docs):
    if not kernel_docs:
        return []
    out = ["### 8. Fused GPU kernels (`python -m bench.gpu_kernels`)", "",
           "Each fused backward kernel's effective bandwidth (bytes it must read and write / time) "
           "against a device-to-device copy, and its speedup over the same formula as separate "
           "CuPy calls; then Adam over 10M parameters.", "",
           "| GPU | kernel | n | fused | GB/s | % of copy | vs unfused |", "|---|---|---|---|---|---|---|"]
    for d in kernel_docs:
        for r in d["backward"]:
            out.append(f"| {d['gpu']} | {r['op']} | {r['n']:.0e} | {fmt_time({'median': r['fused_s']})} | "
                       f"{r['fused_GBps']:.0f} | {100 * r['fraction_of_copy']:.0f}% | "
                       f"{fmt_ratio(r['speedup_vs_unfused'])} |")
    out.append("")
    for d in kernel_docs:
        a = d.get("adam")
        if a:
            line = (f"Adam, {a['n']:.0e} params on {d['gpu']}: fused {fmt_time({'median': a['fused_s']})}, "
                    f"unfused CuPy {fmt_time({'median': a['unfused_cupy_s']})} "
                    f"({fmt_ratio(a['speedup_vs_unfused'])})")
            if a.get("torch_fused_s"):
                line += (f", torch fused {fmt_time({'median': a['torch_fused_s']})} "
                         f"(ours {fmt_ratio(a['ratio_vs_torch_fused'])})")
            out += [line + ".", ""]
    return out


def _reason(cell):
    if not cell:
        return "not measured"
    return cell.get("unavailable") or cell.get("error") or "?"


def _times(row, a, b):
    return f"{fmt_time(row['results'].get(a))} vs {fmt_time(row['results'].get(b))}"


def workload_table(wid, docs):
    present = [(d, w) for d in docs for w in d["workloads"] if w["id"] == wid]
    if not present:
        return []
    w0 = present[-1][1]
    impl_cols = [(k, h) for k, h in IMPLS
                 if any((r["results"].get(k) is not None) for _, w in present for r in w["rows"])]
    ratio_cols = [(k, h) for k, h in RATIO_HEADERS
                  if any(k in r["ratios"] for _, w in present for r in w["rows"])]
    out = [f"### {w0['title']}", "", w0.get("about", ""), ""]
    head = ["row", "machine"] + [h for _, h in impl_cols] + [h for _, h in ratio_cols]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    labels = []
    for _, w in present:
        for r in w["rows"]:
            if r["label"] not in labels:
                labels.append(r["label"])
    notes = {}
    for label in labels:
        for d, w in present:
            r = next((r for r in w["rows"] if r["label"] == label), None)
            if r is None:
                continue
            cells = [label, machine_name(d)]
            for k, _ in impl_cols:
                cell = r["results"].get(k)
                cells.append(_cell_md(cell))
                if cell and ("error" in cell or ("unavailable" in cell
                                                 and not cell["unavailable"].startswith("no GPU"))):
                    cols = notes.setdefault(cell.get("error") or cell["unavailable"], [])
                    if k not in cols:
                        cols.append(k)
            cells += [fmt_ratio(r["ratios"].get(k)) for k, _ in ratio_cols]
            out.append("| " + " | ".join(cells) + " |")
    if notes:
        out.append("")
        out += [f"- {', '.join(cols)}: {reason}" for reason, cols in notes.items()]
    if wid == "overhead":
        out += ["", *_per_op_lines(present)]
    out.append("")
    return out


def _per_op_lines(present):
    """Fixed and per-op cost from the chains of 1 and 64 ops."""
    lines = []
    for d, w in present:
        slopes = _slopes(w)
        chain1 = next((r for r in w["rows"] if r["label"].startswith("chain") and r["size"] == 1), None)
        parts = []
        for k, h in IMPLS:
            if k in slopes:
                per_op = slopes[k]
                fixed = chain1["results"][k]["median"] - per_op
                parts.append(f"{h}: {per_op * 1e6:.2f} us per op, {fixed * 1e6:.1f} us fixed")
        if parts:
            lines.append(f"Per op (slope from 1 to 64 ops) on {machine_name(d)}: " + "; ".join(parts) + ".")
    return lines


# ---------------------------------------------------------------- plots


def plots(docs, out_dir):
    """Log-log time against size per implementation, and GPU speedup against size.
    Returns (list of png names, note or None)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:
        return [], f"plots skipped: matplotlib is not importable ({type(e).__name__}: {e})"
    made = []
    styles = {"cpu": "-", "cuda": "--"}
    for wid in ("overhead", "elementwise", "matmul", "optimizer"):
        present = [(d, w) for d in docs for w in d["workloads"] if w["id"] == wid]
        if not present:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.5))
        any_line = False
        for d, w in present:
            rows = w["rows"]
            if wid == "overhead":
                rows = [r for r in rows if r["label"].startswith("chain")]
            if wid == "optimizer":
                rows = [r for r in rows if r.get("series") == "Adam"]
            for k, h in IMPLS:
                pts = [(r["size"], r["results"][k]["median"]) for r in rows
                       if (r["results"].get(k) or {}).get("median")]
                if len(pts) < 2:
                    continue
                xs, ys = zip(*sorted(pts))
                style = styles["cuda"] if ("cuda" in k or "device" in k) else styles["cpu"]
                lbl = h if len(present) == 1 else f"{h}, {machine_name(d)}"
                ax.plot(xs, ys, style, marker="o", label=lbl)
                any_line = True
        if not any_line:
            plt.close(fig)
            continue
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(present[-1][1]["size_name"])
        ax.set_ylabel("seconds (median)")
        title = present[-1][1]["title"]
        ax.set_title(title + (" (Adam)" if wid == "optimizer" else ""), fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        name = f"{wid}.png"
        fig.savefig(os.path.join(out_dir, name), dpi=110)
        plt.close(fig)
        made.append(name)

    # GPU speedup against size, one line per workload with sizes, per GPU machine.
    gpu_docs = [d for d in docs if d["machine"].get("gpu")]
    pts_any = False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for d in gpu_docs:
        for w in d["workloads"]:
            if w["id"] not in ("elementwise", "matmul", "optimizer"):
                continue
            rows = w["rows"] if w["id"] != "optimizer" else [r for r in w["rows"] if r.get("series") == "Adam"]
            pts = [(r["size"], r["ratios"]["gpu_speedup"]) for r in rows if r["ratios"].get("gpu_speedup")]
            if len(pts) >= 2:
                xs, ys = zip(*sorted(pts))
                ax.plot(xs, ys, marker="o", label=f"{w['id']}, {machine_name(d)}")
                pts_any = True
    note = None
    if pts_any:
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.axhline(1, color="gray", lw=0.8)
        ax.set_xlabel("size (elements, n, or parameters)")
        ax.set_ylabel("ours cpu / ours cuda")
        ax.set_title("GPU speedup against size", fontsize=9)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out_dir, "gpu_speedup.png"), dpi=110)
        made.append("gpu_speedup.png")
    else:
        note = "No GPU speedup plot yet: no result file comes from a machine with a usable GPU."
    plt.close(fig)
    return made, note


# ---------------------------------------------------------------- the report


def build(docs, out_dir, kernel_docs=()):
    lines = ["# Benchmark report", "",
             "Generated by `python -m bench.report` from the suite's pytest-benchmark files in "
             "`bench/results/` (the latest full run per machine and thread setting, with the partial "
             "runs after it). `make bench` runs the suite (`bench/bench_suite.py`: each row a "
             "benchmark group, each column a case), saves its JSON under "
             "`bench/results/<host>-<cpu>-<device>/` and regenerates this file; `python -m bench --compare` "
             "compares a run with the machine's last committed one and fails on a regression.", ""]
    if not docs:
        lines += ["No results yet: run `make bench`.", ""]
    lines += ["## Machines", "",
              "| machine | CPU | cores | RAM | GPU | threads | load avg start / end | versions | commit "
              "| date | run time | columns timed |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for d in docs:
        m, v = d["machine"], d["versions"]
        ver = ", ".join(f"{k} {x}" for k, x in v.items() if x)
        gpu = m.get("gpu") or "none usable"
        commit = (d.get("commit") or "?")[:10] + (" (dirty)" if d.get("dirty") else "")
        threads = ", ".join(f"{k}={x}" for k, x in (m.get("thread_env") or {}).items()) or "default"
        if m.get("ours_threads"):
            threads += f"; ours {m['ours_threads']}"
        if m.get("torch_threads"):
            threads += f"; torch {m['torch_threads']}"
        load = " / ".join(str((m.get(k) or ["?"])[0]) for k in ("load_avg_start", "load_avg_end"))
        lines.append(f"| {machine_name(d)} | {m['cpu']} | {m['cores']} | {m['ram_gb']} GiB | {gpu} | "
                     f"{threads} | {load} | {ver} | {commit} | {d['created'][:16].replace('T', ' ')} UTC | "
                     f"{d.get('elapsed_s', '?')} s | {d.get('mode') or '?'} |")
        for p in d.get("merged", []):
            commit = (p.get("commit") or "?")[:10] + (" (dirty)" if p.get("dirty") else "")
            load = " / ".join(str((p.get(k) or ["?"])[0]) for k in ("load_avg_start", "load_avg_end"))
            lines.append(f"| {machine_name(d)}: {', '.join(p['only'])} only | | | | | | {load} | | "
                         f"{commit} | {p['created'][:16].replace('T', ' ')} UTC | "
                         f"{p.get('elapsed_s', '?')} s | |")
    if docs:
        lines += ["", "Result files: " + "; ".join(f"{machine_name(d)}: `{d['_file']}`" for d in docs)
                  + "."]
    lines += ["", "The load average (1 minute) shows how busy the machine was with other work: on a "
              "machine shared with other jobs, timings of multithreaded code (BLAS, PyTorch) swing "
              "widely; `python -m bench --threads 1` gives steadier figures there.", ""]
    lines += ["How to read the tables: times are medians per call after a warm-up (GPU columns "
              "synchronize the device before the clock stops). `interleaved` runs measure a row's "
              "columns together, their repeats alternating, so that load from other work falls on "
              "all of them alike; `sequential` ones time each column on its own. Ratios:", ""]
    lines += [f"- **{h}**: {RATIOS[k][2]}" for k, h in RATIO_HEADERS]
    lines += ["", "`no GPU` means the machine had no usable CUDA device (the reason is in the JSON); "
              "`skipped` marks sizes kept off a machine too small to run them in time; `-` means "
              "not applicable.", "", "## Goals", ""]
    lines += goal_rows(docs, kernel_docs)
    lines += ["", "### Rows slower than PyTorch CPU", "",
              "The goal is every row at or below PyTorch CPU's time. These rows are not; where "
              "hand-written NumPy is itself slower than PyTorch (numpy/torch above 1), the row "
              "is bound by NumPy's own work there.", ""]
    lines += above_torch_rows(docs)
    lines += ["", "## Results", ""]
    ids = []
    for d in docs:
        for w in d["workloads"]:
            if w["id"] not in ids:
                ids.append(w["id"])
    for wid in ids:
        lines += workload_table(wid, docs)
    lines += kernel_tables(kernel_docs)
    made, note = plots(docs, out_dir)
    lines += ["## Plots", ""]
    for name in made:
        lines += [f"![{name}]({name})", ""]
    if note:
        lines += [note, ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--out", default=HERE, help="directory for REPORT.md and the plots")
    ap.add_argument("--include-quick", action="store_true",
                    help="also read quick-mode result files (for checking the report itself)")
    args = ap.parse_args(argv)
    docs = load(args.results, args.include_quick)
    os.makedirs(args.out, exist_ok=True)
    text = build(docs, args.out, load_kernels(args.results))
    path = os.path.join(args.out, "REPORT.md")
    with open(path, "w") as f:
        f.write(text)
    print(f"report: {os.path.relpath(path)} from {len(docs)} result file(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
