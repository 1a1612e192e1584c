"""Stages a copy of the package and the tests for `make mutate` (mutmut 3) in build/mutation.

mutmut mutates the copy it makes under <stage>/mutants, so the checkout is never touched. Two
things are done to the staged copy only:
- setup.cfg (mutmut's configuration: what to mutate, which tests) is put at its root;
- mutmut skips decorated functions, and every optimizer update in optim/_functional.py is
  wrapped by `@_blocked`; the copy spells that decorator as the equivalent assignment after
  the function (`f = _blocked(f)`), so the update formulas are mutated too.
"""
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def stage(dest):
    dest = pathlib.Path(dest)
    keep = dest / "mutants"  # mutmut's cache of earlier results survives a restage
    for sub in ("autograd_gpu", "tests"):
        if (dest / sub).exists():
            shutil.rmtree(dest / sub)
        shutil.copytree(ROOT / sub, dest / sub,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis"))
    shutil.copy2(ROOT / "tests" / "mutation" / "setup.cfg", dest / "setup.cfg")
    functional = dest / "autograd_gpu" / "optim" / "_functional.py"
    src = functional.read_text()
    names = re.findall(r"^@_blocked\ndef (\w+)\(", src, flags=re.M)
    src = re.sub(r"^@_blocked\n(def \w+\()", r"\1", src, flags=re.M)
    src += "".join(f"\n{n} = _blocked({n})\n" for n in names)
    functional.write_text(src)
    if keep.exists():
        # a restaged source file must be mutated again: mutmut compares mtimes
        for sub in ("autograd_gpu", "tests"):
            if (keep / sub).exists():
                shutil.rmtree(keep / sub)
    return names


if __name__ == "__main__":
    print("staged; undecorated for mutmut:", ", ".join(stage(sys.argv[1])))
