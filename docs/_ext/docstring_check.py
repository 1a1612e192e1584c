"""Keeps the API reference readable and the build warning-free whatever a docstring holds.

Docstrings here are written for ``help()`` as much as for Sphinx, so some hold text that
reStructuredText reads as markup (``|x - y|`` as a substitution, ``kaiming_uniform_`` as a
link, ``*args`` as emphasis). For each docstring (after napoleon has turned its sections
into fields) this checks it with docutils; one that would warn is first escaped (those three
cases), and shown as preformatted text if it would still warn. The build's ``-W`` then fails
on what the docs pages themselves get wrong (a missing name, a broken page reference), not on
punctuation in a docstring.

Objects that are made by a factory (the in-place Tensor methods, comparison functions, the
padding layers) cannot carry a docstring of their own in the source; they get the short
description from ``FALLBACK`` below.
"""
import io
import re

from docutils.core import publish_doctree
from docutils.utils import SystemMessage

FALLBACK = {
    # comparisons and logical functions (one factory in ops/elementwise.py)
    "eq": "input == other elementwise (no gradient).", "ne": "input != other elementwise (no gradient).",
    "lt": "input < other elementwise (no gradient).", "le": "input <= other elementwise (no gradient).",
    "gt": "input > other elementwise (no gradient).", "ge": "input >= other elementwise (no gradient).",
    "less": "input < other elementwise (no gradient).", "greater": "input > other elementwise (no gradient).",
    "logical_and": "Elementwise logical AND of the truth values (bool result).",
    "logical_or": "Elementwise logical OR of the truth values (bool result).",
    "logical_xor": "Elementwise logical XOR of the truth values (bool result).",
    "logical_not": "Elementwise logical NOT of the truth values (bool result).",
    "ceil": "The smallest integer value >= x (zero gradient).", "floor": "The largest integer value <= x (zero gradient).",
    "round": "x rounded to the nearest integer, halves to even (zero gradient).",
    "trunc": "x rounded towards zero (zero gradient).",
    "isfinite": "True where x is finite.", "isinf": "True where x is +inf or -inf.", "isnan": "True where x is NaN.",
    # Tensor methods bound as lambdas
    "where": "self where condition is True, else other (``torch.where(condition, self, other)``).",
    "view_as": "A view with other's shape.", "reshape_as": "self reshaped to other's shape.",
    "bernoulli": "0/1 draws that are 1 with probability self (or p) (``torch.bernoulli``).",
    "multinomial": "Indices drawn from the categorical distribution with weights self (``torch.multinomial``).",
    "polygamma": "The n-th derivative of digamma of self (``torch.polygamma(n, self)``).",
    "resize_as_": "Resize in place to other's shape (see ``resize_``).",
    # padding layers (made by one factory in nn/padding.py)
    "ConstantPad1d": "Pads the last dimension with a constant value (``F.pad(mode='constant')``).",
    "ConstantPad2d": "Pads the last 2 dimensions with a constant value (``F.pad(mode='constant')``).",
    "ConstantPad3d": "Pads the last 3 dimensions with a constant value (``F.pad(mode='constant')``).",
    "ZeroPad1d": "Pads the last dimension with zeros.", "ZeroPad2d": "Pads the last 2 dimensions with zeros.",
    "ZeroPad3d": "Pads the last 3 dimensions with zeros.",
    "ReflectionPad1d": "Pads the last dimension with its reflection (``F.pad(mode='reflect')``).",
    "ReflectionPad2d": "Pads the last 2 dimensions with their reflection (``F.pad(mode='reflect')``).",
    "ReflectionPad3d": "Pads the last 3 dimensions with their reflection (``F.pad(mode='reflect')``).",
    "ReplicationPad1d": "Pads the last dimension by repeating its edge values (``F.pad(mode='replicate')``).",
    "ReplicationPad2d": "Pads the last 2 dimensions by repeating their edge values (``F.pad(mode='replicate')``).",
    "ReplicationPad3d": "Pads the last 3 dimensions by repeating their edge values (``F.pad(mode='replicate')``).",
    "CircularPad1d": "Pads the last dimension by wrapping around (``F.pad(mode='circular')``).",
    "CircularPad2d": "Pads the last 2 dimensions by wrapping around (``F.pad(mode='circular')``).",
    "CircularPad3d": "Pads the last 3 dimensions by wrapping around (``F.pad(mode='circular')``).",
}

_DIRECTIVE = re.compile(r"^(\s*)\.\. [\w:-]+::.*$")
_ROLE = re.compile(r":[\w:+.-]+:`([^`]*)`")
_SPANS = re.compile(r"(``.*?``|`[^`]*`_?|:[\w:+.-]+:`[^`]*`)")


def _warns(lines):
    """True if docutils reports anything at warning level or above for this text."""
    text = "\n".join(_DIRECTIVE.sub(r"\1..", line) for line in lines)
    text = _ROLE.sub(lambda m: "``" + m.group(1).replace("`", "") + "``", text)
    stream = io.StringIO()
    try:
        publish_doctree(text, settings_overrides={
            "report_level": 2, "halt_level": 5, "warning_stream": stream,
            "file_insertion_enabled": False, "raw_enabled": False})
    except SystemMessage:
        return True
    except Exception:  # noqa: BLE001  (anything docutils cannot parse is not safe to hand on)
        return True
    return bool(stream.getvalue().strip())


def _escape_line(line):
    parts = _SPANS.split(line)
    for i in range(0, len(parts), 2):  # the even parts lie outside literals and roles
        p = parts[i].replace("|", r"\|")
        p = re.sub(r"(?<=\w)_(?=[\s,.;:)\]]|$)", r"\\_", p)
        p = re.sub(r"(?<![\w*\\])(\*\*?)(?=\w)", lambda m: "\\*" * len(m.group(1)), p)
        parts[i] = p
    return "".join(parts)


def _fallback(what, name, obj):
    short = name.rsplit(".", 1)[-1]
    if short in FALLBACK:
        return [FALLBACK[short]]
    if what == "method" and short.endswith("_") and not short.endswith("__"):
        base = short[:-1]
        return [f"In-place version of :meth:`Tensor.{base}`: writes the result into this tensor "
                "and returns it (see the in-place rules in :doc:`/guide/autograd`)."
                if ".Tensor." in name else f"In-place version of ``{base}``."]
    return None


def process(app, what, name, obj, options, lines):
    if not any(line.strip() for line in lines):
        extra = _fallback(what, name, obj)
        if extra:
            lines[:] = extra
        return
    if not _warns(lines):
        return
    escaped = [_escape_line(line) for line in lines]
    if not _warns(escaped):
        lines[:] = escaped
        return
    # still not clean: the summary line as plain words, the rest preformatted
    first = re.sub(r"[`*|_\\]", "", lines[0]).strip() or "(see below)"
    first = re.sub(r"::$", ":", first)
    lines[:] = [first, "", "::", ""] + ["    " + line for line in lines]


def setup(app):
    # after napoleon (priority 500), so its sections are fields by then
    app.connect("autodoc-process-docstring", process, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
