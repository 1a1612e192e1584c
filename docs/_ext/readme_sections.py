"""Places README's reference text in the guide pages, at build time.

README.md is the library's reference, kept true to the code as features land. This splits
it into chunks (a ``##`` section, cut further at a paragraph that opens with a bold title
and at the openers listed below) and writes, for each guide page, the chunks that belong to
it, in README order, to docs/generated/readme/<page>.md; the page includes that file under
its own introduction and examples. A chunk whose section is not in PAGES (a section someone
has just added) lands on the "More reference" page, so every README section is always
somewhere in the docs. ``python docs/_ext/readme_sections.py`` prints where each chunk goes.
"""
import os
import re

# README "## section" -> the page its text goes to (unless an opener or bold title says else)
PAGES = {
    "Install": "install",
    "The two commands": "install",
    "Documentation": "install",
    "Example": "quickstart",
    "Devices": "tensors",
    "Tensors and autograd": "tensors",
    "Functional transforms, graph drawings, anomaly detection": "func",
    "Custom Functions, autograd.functional, legacy names": "autograd",
    "Fused CUDA kernels": "kernels",
    "Reliability: in-place safety, memory, bad input, fuzzing": "development",
    "Op correctness: how every differentiable op is checked": "development",
    "optim, nn, save/load and examples": "nn",
    "Mixed precision, device utilities, backend flags": "amp",
    "Faults and resuming": "faults",
    "Distributed training": "distributed",
    "Benchmarks": "performance",
    "Development": "development",
}

# Line prefixes that start a new chunk inside a section: (section, prefix, page, title).
OPENERS = [
    ("Tensors and autograd", "Autograd:", "autograd", "Autograd"),
    ("Tensors and autograd", "How the tape works", "autograd", "How the tape works"),
    ("Tensors and autograd", "Ops are Python", "autograd", "Python ops, C bookkeeping"),
    ("Tensors and autograd", "In-place ops", "autograd", "In-place operations"),
    ("Tensors and autograd", "Float-valued functions", "tensors", "Integer inputs of float functions"),
    ("Tensors and autograd", "`grad_fn.name()`", "autograd", "Node names and NumPy warnings"),
    ("Tensors and autograd", "Ops (each as", "tensors", "Operations"),
    ("Tensors and autograd", "Conventions at kinks", "autograd", "Gradients at kinks and NaN"),
    ("Tensors and autograd", "Sorting, scans, gather", "tensors", "Sorting, scans, gather and scatter"),
    ("Tensors and autograd", "Everyday math", "tensors", "Everyday math, reductions, linear algebra, construction"),
    ("Tensors and autograd", "Random numbers:", "tensors", "Random numbers"),
    ("Tensors and autograd", "Samplers", "tensors", "Samplers"),
    ("Tensors and autograd", "`autograd_gpu.linalg`", "linalg", "torch.linalg"),
    ("Tensors and autograd", "`lgamma`", "linalg", "The gamma-function family"),
    ("Tensors and autograd", "`autograd_gpu.distributions`", "linalg", "torch.distributions"),
    ("Functional transforms, graph drawings, anomaly detection", "`autograd_gpu.viz.make_dot", "debugging", "Drawing the graph"),
    ("Functional transforms, graph drawings, anomaly detection", "`autograd_gpu.autograd.detect_anomaly", "debugging", "Anomaly detection"),
    ("Custom Functions, autograd.functional, legacy names", "`autograd_gpu.autograd.functional`", "autograd", "autograd.functional"),
    ("Custom Functions, autograd.functional, legacy names", "Legacy names:", "tensors", "Legacy names"),
    ("Reliability: in-place safety, memory, bad input, fuzzing", "- **In-place ops**", "autograd", "In-place safety"),
    ("Reliability: in-place safety, memory, bad input, fuzzing", "- **Memory**", "autograd", "Memory"),
    ("Reliability: in-place safety, memory, bad input, fuzzing", "- **Host buffer pool**", "performance", "Host buffer pool"),
    ("Reliability: in-place safety, memory, bad input, fuzzing", "- **Host threads and blocks**", "performance", "Host threads and blocks"),
    ("Reliability: in-place safety, memory, bad input, fuzzing", "- **Bad input**", "development", "Bad input, fuzzing, determinism"),
    ("Benchmarks", "Latest CPU figures", "performance", "Latest figures"),
]

# A bold-titled paragraph's page, by the start of its title (else its section's page).
BOLD = {
    "Optimizers": "optim",
    "Modules": "nn", "Losses": "nn", "Convolutions": "nn", "Normalization": "nn",
    "More functional": "nn", "Attention": "nn",
    "Data loading": "data",
    "save / load": "serialization",
    "Examples": "quickstart",
    "vmap": "func",
}

# Headings for a section's first chunk where the section's own title says more than it holds.
TITLES = {
    "Tensors and autograd": "The tensor surface",
    "Functional transforms, graph drawings, anomaly detection": "torch.func transforms",
    "Custom Functions, autograd.functional, legacy names": "Custom Functions",
    "optim, nn, save/load and examples": "The training loop",
    "Mixed precision, device utilities, backend flags": "Mixed precision",
}

OTHER = "other"  # chunks of sections not in PAGES


def chunks(text):
    """(section, title, page, markdown) for each chunk of README, in order."""
    out = []
    section, title, page, buf = None, None, None, []
    fence = False
    prev_blank = True

    def flush():
        body = "\n".join(buf).strip("\n")
        if section is not None and body.strip():
            out.append((section, title, page, body))

    for line in text.split("\n"):
        if line.startswith("```"):
            fence = not fence
        if not fence and line.startswith("## "):
            flush()
            section = line[3:].strip()
            title, page, buf = TITLES.get(section, section), PAGES.get(section, OTHER), []
            prev_blank = True
            continue
        if section is None:  # the overview above the first section stays in README
            continue
        opener = None
        if not fence:
            opener = next((o for o in OPENERS if o[0] == section and line.startswith(o[1])), None)
            if opener is None and prev_blank and line.startswith("**"):
                m = re.match(r"\*\*(.+?)\*\*", line)
                if m:
                    bold = m.group(1).strip().rstrip(".:")
                    target = next((p for k, p in BOLD.items() if bold.startswith(k)),
                                  PAGES.get(section, OTHER))
                    opener = (section, None, target, bold)
        if opener is not None:
            flush()
            title, page, buf = opener[3], opener[2], []
            if opener[1] is None:  # a bold title becomes the heading
                line = re.sub(r"^\*\*(.+?)\*\*[.:]?\s*", "", line)
        buf.append(line)
        prev_blank = not line.strip()
    flush()
    return out


def _markdown(items):
    parts = []
    for _section, title, _page, body in items:
        parts.append(f"## {title}\n\n{body}\n")
    return "\n".join(parts)


def write(srcdir):
    root = os.path.dirname(srcdir)
    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        text = f.read()
    out = os.path.join(srcdir, "generated", "readme")
    os.makedirs(out, exist_ok=True)
    by_page = {}
    for item in chunks(text):
        by_page.setdefault(item[2], []).append(item)
    pages = set(PAGES.values()) | {p for o in OPENERS for p in [o[2]]} | set(BOLD.values()) | {OTHER}
    for page in pages:
        items = by_page.get(page, [])
        body = _markdown(items)
        if page == OTHER and not items:
            body = "Every README section currently has its place in a guide page.\n"
        path = os.path.join(out, page + ".md")
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != body:
            with open(path, "w", encoding="utf-8") as f:
                f.write(body)


def setup(app):
    app.connect("builder-inited", lambda app: write(app.srcdir))
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "..", "README.md"), encoding="utf-8") as f:
        for section, title, page, body in chunks(f.read()):
            print(f"{page:12s} {section[:40]:40s} | {title[:50]} ({body.count(chr(10)) + 1} lines)")
