"""Which public names of the API reference lack a docstring, or one that names their arguments
and says what they return.

``python docs/_ext/docstring_coverage.py`` walks the names the reference documents
(``apigen.NAMESPACES``, each class or function once) and prints, per namespace:

- no docstring: neither the object's own nor a build-time one (``docstring_check``'s
  descriptions of factory-made functions and in-place Tensor methods count as one);
- arguments: a parameter of the signature that the docstring never names (``self``, ``cls``,
  ``*args``, ``**kwargs`` and ``out``, which docs/more.md describes for every function, are
  not asked for);
- return: a function or method whose docstring has no ``Returns`` section and never says
  "return", "gives" or "yields" (a summary such as "The fractional part x - trunc(x)." says
  what comes back in other words, so this list over-counts; read it, do not gate on it).

``--names`` lists every name under its heading; ``--strict`` exits with status 1 when a name
has no docstring at all. Nothing here runs during ``make docs``.
"""
import argparse
import collections
import inspect
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

import apigen  # noqa: E402
import docstring_check  # noqa: E402

SKIP_PARAMS = {"self", "cls", "out"}
_RETURN = re.compile(r"(?i)\breturns?\b|\breturning\b|\bgives\b|\byields?\b|->")


def _objects():
    """(qualified name, object, kind) for each class and routine of the reference, once each."""
    seen = {}
    for modname, *_ in apigen.NAMESPACES:
        is_class = modname == "autograd_gpu.Tensor"
        for name, obj in apigen.public_names(modname):
            target = obj.__func__ if isinstance(obj, (staticmethod, classmethod)) else obj
            if not (inspect.isclass(target) or inspect.isroutine(target)):
                continue
            if id(target) not in seen:
                what = "class" if inspect.isclass(target) else ("method" if is_class else "function")
                seen[id(target)] = (f"{modname}.{name}", target, what)
    return list(seen.values())


def _doc(qualname, obj, what):
    own = obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj)
    if own and own.strip():
        return inspect.cleandoc(own)
    fallback = docstring_check._fallback(what, qualname, obj)
    return "\n".join(fallback) if fallback else ""


def _params(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values()
            if p.name not in SKIP_PARAMS
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def survey():
    """{"no docstring" | "arguments" | "return": [(qualified name, detail)]} and the total."""
    found = {"no docstring": [], "arguments": [], "return": []}
    items = _objects()
    for qualname, obj, what in items:
        doc = _doc(qualname, obj, what)
        if not doc:
            found["no docstring"].append((qualname, ""))
            continue
        missing = [p for p in _params(obj) if not re.search(r"\b" + re.escape(p) + r"\b", doc)]
        if missing:
            found["arguments"].append((qualname, ", ".join(missing)))
        if what != "class" and not _RETURN.search(doc):
            found["return"].append((qualname, ""))
    return found, len(items)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--names", action="store_true", help="list every name, not only counts")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a name has no docstring")
    args = ap.parse_args(argv)
    found, total = survey()
    print(f"{total} classes and functions in the API reference")
    for heading, rows in found.items():
        by_ns = collections.Counter(q.rsplit(".", 1)[0] for q, _ in rows)
        print(f"\n{heading}: {len(rows)}  " + ", ".join(f"{ns} {n}" for ns, n in by_ns.most_common()))
        if args.names:
            for qualname, detail in rows:
                print(f"  {qualname}" + (f"  ({detail})" if detail else ""))
    return 1 if args.strict and found["no docstring"] else 0


if __name__ == "__main__":
    sys.exit(main())
