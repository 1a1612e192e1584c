"""Copies the benchmark report (bench/REPORT.md, made by ``make report``) and its plots into
docs/generated/benchmarks/ at build time, so the site shows the report as committed."""
import glob
import os
import shutil


def copy(srcdir):
    bench = os.path.join(os.path.dirname(srcdir), "bench")
    out = os.path.join(srcdir, "generated", "benchmarks")
    os.makedirs(out, exist_ok=True)
    report = os.path.join(bench, "REPORT.md")
    if os.path.exists(report):
        with open(report, encoding="utf-8") as f:
            text = f.read()
    else:
        text = "# Benchmark report\n\nNo report yet: `make bench` then `make report` write it.\n"
    target = os.path.join(out, "report.md")
    old = open(target, encoding="utf-8").read() if os.path.exists(target) else None
    if old != text:
        with open(target, "w", encoding="utf-8") as f:
            f.write(text)
    for png in glob.glob(os.path.join(bench, "*.png")):
        dest = os.path.join(out, os.path.basename(png))
        if not os.path.exists(dest) or os.path.getmtime(dest) < os.path.getmtime(png):
            shutil.copy2(png, dest)


def setup(app):
    app.connect("builder-inited", lambda app: copy(app.srcdir))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
