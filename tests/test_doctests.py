"""The ``>>>`` examples of the documentation pages (docs/**/*.md, in ```pycon blocks) and of
the main modules' docstrings, run as doctests.

Each page runs as one doctest (its blocks share names, in order), so a page reads as one
session. Float output is compared as printed, with ELLIPSIS and NORMALIZE_WHITESPACE.
"""
import doctest
import importlib
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# The modules whose docstrings hold the main examples (every name they define is searched).
MODULES = [
    "autograd_gpu", "autograd_gpu.creation", "autograd_gpu.tensor", "autograd_gpu.autograd",
    "autograd_gpu.autograd.engine", "autograd_gpu.autograd.grad_mode",
    "autograd_gpu.autograd.function", "autograd_gpu.func", "autograd_gpu.nn.layers", "autograd_gpu.nn.module", "autograd_gpu.nn.conv",
    "autograd_gpu.nn.rnn", "autograd_gpu.optim.sgd", "autograd_gpu.optim.adam",
    "autograd_gpu.optim.lr_scheduler", "autograd_gpu.utils.data.dataloader",
    "autograd_gpu.utils.data.dataset", "autograd_gpu.serialization", "autograd_gpu.viz",
    "autograd_gpu.linalg", "autograd_gpu.ops.conv", "autograd_gpu.ops.elementwise",
    "autograd_gpu.ops.embedding", "autograd_gpu.ops.indexing", "autograd_gpu.ops.linalg",
    "autograd_gpu.ops.loss", "autograd_gpu.ops.nn_functional", "autograd_gpu.ops.normalization",
    "autograd_gpu.ops.reduction", "autograd_gpu.ops.shape", "autograd_gpu.ops.sorting",
]

_FENCE = re.compile(r"^```pycon[^\n]*\n(.*?)^```", re.S | re.M)


def _pages():
    return sorted(p for p in DOCS.rglob("*.md")
                  if "_build" not in p.parts and "generated" not in p.parts)


def _page_test(path):
    text = path.read_text(encoding="utf-8")
    blocks = []
    for m in _FENCE.finditer(text):
        blocks.append((text.count("\n", 0, m.start(1)), m.group(1)))
    # One session per page: the blocks joined, each keeping its line numbers for reports.
    body = ""
    for line, block in blocks:
        body += "\n" * max(0, line - body.count("\n")) + block
    if not blocks:
        return None
    return doctest.DocTestParser().get_doctest(body, {}, str(path.relative_to(ROOT)), str(path), 0)


def _docstring_tests():
    finder = doctest.DocTestFinder(exclude_empty=True)
    out = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if test.examples:
                out.setdefault(test.name, test)
    return sorted(out.values(), key=lambda t: t.name)


PAGE_TESTS = [t for t in (_page_test(p) for p in _pages()) if t is not None]
DOCSTRING_TESTS = _docstring_tests()


def _run(test):
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    out = []
    runner.run(test, out=out.append)
    failed = runner.summarize(verbose=False).failed
    assert failed == 0, "".join(out)


def test_there_are_examples():
    # Guards the collection itself: a regex or path change must not make this file vacuous.
    assert len(PAGE_TESTS) >= 10
    assert len(DOCSTRING_TESTS) >= 5


def test_every_module_with_examples_is_collected():
    # A docstring example in a module missing from MODULES would never run (DocTestFinder
    # only searches the names a module defines itself).
    package = ROOT / "autograd_gpu"
    with_examples = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in package.rglob("*.py")
        if re.search(r"^\s*>>> ", path.read_text(encoding="utf-8"), re.M)
    }
    assert sorted(with_examples - set(MODULES)) == []


@pytest.mark.parametrize("test", PAGE_TESTS, ids=lambda t: t.name)
def test_docs_page(test):
    _run(test)


@pytest.mark.parametrize("test", DOCSTRING_TESTS, ids=lambda t: t.name)
def test_docstring(test):
    _run(test)


def test_a_wrong_example_fails():
    # The runner and flags used above do report a mismatch (and accept whitespace changes).
    bad = doctest.DocTestParser().get_doctest(
        ">>> 1 + 1\n3\n", {}, "bad", "bad", 0)
    with pytest.raises(AssertionError):
        _run(bad)
    good = doctest.DocTestParser().get_doctest(
        ">>> [1,  2]\n[1, 2]\n", {}, "good", "good", 0)
    _run(good)
