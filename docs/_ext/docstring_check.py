"""Keeps the API reference readable and the build warning-free whatever a docstring holds.

Docstrings here are written for ``help()`` as much as for Sphinx, so some hold text that
reStructuredText reads as markup (``|x - y|`` as a substitution, ``kaiming_uniform_`` as a
link, ``*args`` as emphasis). For each docstring (after napoleon has turned its sections
into fields) this checks it with docutils; one that would warn is first escaped (those three
cases), and shown as preformatted text if it would still warn. The build's ``-W`` then fails
on what the docs pages themselves get wrong (a missing name, a broken page reference), not on
punctuation in a docstring.

An in-place Tensor method made by a factory without a docstring of its own gets a short
description that points to its out-of-place form (see ``_fallback``).
"""
import io
import re

from docutils.core import publish_doctree
from docutils.utils import SystemMessage

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
