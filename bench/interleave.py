"""Does interleaving a row's columns change the ratios? Runs the suite on a few rows in both
modes, alternately, and compares the ratios each run measured.

    python -m bench.interleave [--trials 6] [--threads 1] [--rows KEY,KEY,...]

A trial is one `python -m bench` process on the rows (by default the 3-op overhead row, the
elementwise chain at 1e6 and the SGD step over 1e6 parameters): interleaved (the default:
the repeats of the row's columns alternate) or sequential (`--sequential`: each column's
case runs all its repeats, then the next column's). The modes alternate in the order
I S S I I S ..., so that a drift in the machine's load over the run falls on both alike.
For every row and ratio (ours/PyTorch, ours/NumPy, ours/host copy) it prints the median over
the trials of each mode, the range, and the spread (max/min); the trials' figures, the
machine and its load go to bench/results/interleave-<date>-<host>.json.
"""
import argparse
import datetime
import glob
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile

from .harness import RATIOS
from .suite import ROOT, RESULTS_DIR, _slug

ROWS = ("overhead-x-w-b-sum-fwd-bwd-4-el", "elementwise-n-1e6", "optimizer-sgd-1e6-params")
SHOWN = ("ours_vs_torch_cpu", "ours_vs_numpy", "ours_vs_copy_host")


def _trial(mode, rows, threads, out):
    workloads = sorted({r.split("-", 1)[0] for r in rows})
    k = " or ".join(f"{r}-" for r in rows)  # (the row key then "-<column>")
    cmd = [sys.executable, "-m", "bench", "--only", ",".join(workloads), "--out", out,
           "--threads", str(threads), "--no-report"]
    if mode == "sequential":
        cmd.append("--sequential")
    cmd += ["--", "-k", f"({k}) and not pool", "--benchmark-quiet"]
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    (path,) = glob.glob(os.path.join(out, "*.json"))
    with open(path) as f:
        doc = json.load(f)
    medians = {b["fullname"]: b["stats"]["median"] for b in doc["benchmarks"]}
    out_rows = {}
    for w in doc["bench"]["workloads"]:
        for row in w["rows"]:
            key = f"{w['id']}-{_slug(row['label'])}"
            if key not in rows:
                continue
            t = {c: medians[cell["case"]] for c, cell in row["cells"].items()
                 if cell and "case" in cell}
            ratios = {name: t[a] / t[b] for name, (a, b, _) in RATIOS.items() if a in t and b in t}
            out_rows[key] = {"seconds": t, "ratios": ratios}
    return {"mode": mode, "rows": out_rows, "load_avg_start": doc["bench"]["load_avg_start"],
            "load_avg_end": doc["bench"]["load_avg_end"], "elapsed_s": doc["bench"]["elapsed_s"],
            "machine": doc["bench"]["machine"], "commit": doc["commit_info"].get("id")}


def summary(trials, rows):
    """(row, ratio, mode) -> {median, min, max, spread, n} over the trials."""
    out = {}
    for row in rows:
        for ratio in SHOWN:
            for mode in ("interleaved", "sequential"):
                xs = [t["rows"][row]["ratios"][ratio] for t in trials
                      if t["mode"] == mode and ratio in t["rows"].get(row, {}).get("ratios", {})]
                if xs:
                    out[(row, ratio, mode)] = {"median": statistics.median(xs), "min": min(xs),
                                               "max": max(xs), "spread": max(xs) / min(xs),
                                               "n": len(xs)}
    return out


def table(trials, rows):
    s = summary(trials, rows)
    lines = ["| row | ratio | interleaved: median (min-max) | spread | sequential: median (min-max) "
             "| spread | sequential / interleaved |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        for ratio in SHOWN:
            i, q = s.get((row, ratio, "interleaved")), s.get((row, ratio, "sequential"))
            if not i or not q:
                continue
            lines.append(f"| {row} | {ratio} | {i['median']:.3f} ({i['min']:.3f}-{i['max']:.3f}) | "
                         f"{i['spread']:.2f} | {q['median']:.3f} ({q['min']:.3f}-{q['max']:.3f}) | "
                         f"{q['spread']:.2f} | {q['median'] / i['median']:.3f} |")
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.interleave", description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=6, help="runs of each mode (default 6)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rows", default=",".join(ROWS), help="row keys (<workload>-<label slug>)")
    ap.add_argument("--out", default=RESULTS_DIR)
    args = ap.parse_args(argv)
    rows = [r for r in args.rows.split(",") if r]
    order = []
    for i in range(args.trials):
        order += ["interleaved", "sequential"] if i % 2 == 0 else ["sequential", "interleaved"]
    trials = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, mode in enumerate(order):
            out = os.path.join(tmp, str(n))
            os.makedirs(out)
            t = _trial(mode, rows, args.threads, out)
            trials.append(t)
            shown = "; ".join(f"{r}: " + ", ".join(f"{k} {v:.3f}" for k, v in t["rows"][r]["ratios"].items()
                                                   if k in SHOWN) for r in rows if r in t["rows"])
            print(f"[{n + 1:>2}/{len(order)}] {mode:<11} load {t['load_avg_start'][0]:.2f} {shown}",
                  flush=True)
    lines = table(trials, rows)
    print("\n" + "\n".join(lines))
    date = datetime.datetime.now(datetime.timezone.utc)
    doc = {"created": date.isoformat(timespec="seconds"), "host": socket.gethostname(),
           "threads": args.threads, "rows": rows, "order": order, "trials": trials,
           "summary": [dict(row=r, ratio=q, mode=m, **v) for (r, q, m), v in summary(trials, rows).items()],
           "table": lines}
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"interleave-{date:%Y-%m-%d}-{_slug(socket.gethostname())}"
                                  f"-threads{args.threads}.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"\n{os.path.relpath(path)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
