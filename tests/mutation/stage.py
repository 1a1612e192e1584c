"""Stages a copy of the package and the tests for one area of `make mutate` (mutmut 3).

    python tests/mutation/stage.py DEST AREA [GLOB ...]

AREA is a `[mutate:AREA]` section of tests/mutation/setup.cfg (its files, its mutant globs,
its tests); GLOBs, when given, replace the area's mutant globs. mutmut mutates the copy it
makes under DEST/mutants, so the checkout is never touched. Done to the staged copy only:
- DEST/setup.cfg is mutmut's configuration: the [mutmut] section of tests/mutation/setup.cfg
  with the area's `only_mutate`, its tests (`pytest_add_cli_args_test_selection`) and, where
  it has its own, its `pytest_add_cli_args` put in;
  DEST/mutants.txt holds the globs, one a line (`mutmut run` takes them as arguments);
  pyproject.toml is copied beside it, for pytest's configuration (markers, warning filters);
- mutmut skips decorated functions: the backward formulas wrapped by `@formula`
  (backend.execute.formula, in ops/arithmetic.py and ops/loss.py) and the engine's
  `run_backward` (`@_runs_post_accumulate_hooks`) are spelled in the copy as the equivalent
  assignment right after the function (`f = formula(f)`: the decorator is a plain name, so
  Python binds the same object either way), so they are mutated too;
- the host build of the optimizer kernels (autograd_gpu/backend/_host_optim*.so, an optional
  extension) is left out, so the optimizers run the NumPy formulas of optim/_functional.py
  (the package's path where that extension was not built), the code under test; the host
  build is checked against those formulas bit for bit by tests/test_host_optim.py.
Each staging starts mutmut afresh (DEST/mutants removed): the results of a run stand for the
code it ran on.
"""
import ast
import configparser
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
# module-level decorators (plain names) spelled as assignments in the staged copy
UNDECORATE = ("formula", "_runs_post_accumulate_hooks")
SCOPE = ("ops", "optim/_functional.py", "autograd/engine.py", "autograd/node.py",
         "serialization.py")


def undecorate(src):
    """`src` with each module-level `@NAME` (NAME in UNDECORATE, the function's only
    decorator) removed and ``f = NAME(f)`` put on the line after the function; the
    functions' names."""
    lines = src.splitlines(keepends=True)
    found = []
    for node in ast.parse(src).body:
        if (isinstance(node, ast.FunctionDef) and len(node.decorator_list) == 1
                and isinstance(node.decorator_list[0], ast.Name)
                and node.decorator_list[0].id in UNDECORATE):
            found.append((node.decorator_list[0].lineno, node.end_lineno,
                          node.decorator_list[0].id, node.name))
    for deco_line, end, deco, name in reversed(found):  # (bottom up: line numbers hold)
        assert lines[deco_line - 1].strip() == "@" + deco, lines[deco_line - 1]
        lines.insert(end, f"{name} = {deco}({name})\n")
        del lines[deco_line - 1]
    return "".join(lines), [name for _, _, _, name in found]


def area_config(area):
    """The [mutmut] configuration and the mutant globs of `area`."""
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.optionxform = str
    cfg.read(ROOT / "tests" / "mutation" / "setup.cfg", encoding="utf-8")
    section = "mutate:" + area
    if not cfg.has_section(section):
        areas = [s.split(":", 1)[1] for s in cfg.sections() if s.startswith("mutate:")]
        raise SystemExit(f"no area {area!r} in tests/mutation/setup.cfg: {', '.join(areas)}")
    out = configparser.ConfigParser(interpolation=None)
    out.optionxform = str
    out["mutmut"] = dict(cfg["mutmut"])
    out["mutmut"]["only_mutate"] = cfg[section]["only_mutate"]
    out["mutmut"]["pytest_add_cli_args_test_selection"] = cfg[section]["tests"]
    if cfg.has_option(section, "pytest_add_cli_args"):  # (the area's own, replacing the base's)
        out["mutmut"]["pytest_add_cli_args"] = cfg[section]["pytest_add_cli_args"]
    globs = [g for g in cfg[section]["mutants"].split("\n") if g.strip()]
    return out, globs


def stage(dest, area, globs=()):
    dest = pathlib.Path(dest)
    config, area_globs = area_config(area)
    for sub in ("autograd_gpu", "tests", "mutants"):
        if (dest / sub).exists():
            shutil.rmtree(dest / sub)
    dest.mkdir(parents=True, exist_ok=True)
    for sub in ("autograd_gpu", "tests"):
        shutil.copytree(ROOT / sub, dest / sub,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis"))
    with open(dest / "setup.cfg", "w", encoding="utf-8") as f:
        f.write("# written by tests/mutation/stage.py from tests/mutation/setup.cfg, area "
                f"{area}\n")
        config.write(f)
    (dest / "mutants.txt").write_text("".join(g + "\n" for g in (globs or area_globs)),
                                      encoding="utf-8")
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    for ext in (dest / "autograd_gpu" / "backend").glob("_host_optim*"):
        ext.unlink()
    names = []
    for part in SCOPE:
        top = dest / "autograd_gpu" / part
        for path in sorted(top.glob("*.py")) if top.is_dir() else [top]:
            src, found = undecorate(path.read_text())
            if found:
                path.write_text(src)
                names += found
    return names


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    names = stage(sys.argv[1], sys.argv[2], [g for g in sys.argv[3:] if g.strip()])
    print(f"staged {sys.argv[2]} in {sys.argv[1]}; undecorated for mutmut:", ", ".join(names))
