"""The package's layers (docs/architecture.md): imports go downward only, and the execution
layer (autograd_gpu/backend/) is the only code that chooses how array work runs.

Every import counts, at the top of a module or inside a function: a lazy import is still a
dependency, and a circle of them means no module of the circle can be understood, tested or
replaced on its own.
"""
import ast
import os
import re

import pytest

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "autograd_gpu")


def _modules():
    mods = {}
    for d, _, files in os.walk(ROOT):
        for f in files:
            if f.endswith(".py"):
                path = os.path.join(d, f)
                rel = os.path.relpath(path[:-3], os.path.dirname(ROOT)).replace(os.sep, ".")
                mods[rel[:-len(".__init__")] if rel.endswith(".__init__") else rel] = path
            elif f.endswith(".c") or f.endswith(".so"):  # the tape's C extension
                rel = os.path.relpath(os.path.join(d, f.split(".")[0]), os.path.dirname(ROOT))
                mods.setdefault(rel.replace(os.sep, "."), None)
    return mods


MODULES = _modules()
# the host build of the optimizer kernels: a C++ extension built from kernels/host_optim.cpp
# (absent where no C++ compiler was found at install; its importers then fall back)
MODULES.setdefault("autograd_gpu.backend._host_optim", None)


def _targets(module, node, is_package):
    """The package's modules an import statement of `module` names."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - (node.level - 1)]
            full = ".".join(base + ([node.module] if node.module else []))
        else:
            full = node.module or ""
        names = [full + "." + a.name if full + "." + a.name in MODULES else full
                 for a in node.names]
    out = set()
    for n in names:
        while n and n not in MODULES:  # `import a.b.c` depends on the deepest module named
            n = n.rpartition(".")[0]
        if n.startswith("autograd_gpu"):
            out.add(n)
    return out


def _graph():
    graph = {}
    for m, path in MODULES.items():
        if path is None:
            graph[m] = set()
            continue
        with open(path) as f:
            tree = ast.parse(f.read())
        is_package = path.endswith("__init__.py")
        deps = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps |= _targets(m, node, is_package)
        deps.discard(m)
        graph[m] = deps
    return graph


GRAPH = _graph()


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.append(w)
                        if w == v:
                            break
                    if len(comp) > 1:
                        out.append(sorted(comp))
    return out


def test_the_import_graph_is_read():
    # (a checker that reads nothing finds no cycle: these edges exist)
    assert "autograd_gpu.backend.devices" in GRAPH["autograd_gpu.tensor"] or \
        "autograd_gpu.backend" in GRAPH["autograd_gpu.tensor"]
    assert "autograd_gpu.tensor" in GRAPH["autograd_gpu.ops.arithmetic"]
    assert "autograd_gpu.autograd._tape" in GRAPH["autograd_gpu.autograd.node"]


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_the_package_modules():
    assert _cycles(GRAPH) == []


# what each layer may import (besides itself and the layers it lists), lowest first
_BELOW = {
    "autograd_gpu.backend": ("autograd_gpu.backend", "autograd_gpu.fused"),
    "autograd_gpu.fused": ("autograd_gpu.backend.devices", "autograd_gpu.backend.dtypes",
                           "autograd_gpu.backend.host_threads", "autograd_gpu.backend._host_optim",
                           "autograd_gpu.fused"),
    "autograd_gpu.tensor": ("autograd_gpu.backend", "autograd_gpu.autograd.node",
                            "autograd_gpu.autograd.engine", "autograd_gpu.autograd.grad_mode",
                            "autograd_gpu.autograd._tape"),
}
_TAPE = ("autograd_gpu.autograd.node", "autograd_gpu.autograd.engine",
         "autograd_gpu.autograd.grad_mode", "autograd_gpu.autograd.anomaly")


def _in(module, prefixes):
    return any(module == p or module.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("layer", sorted(_BELOW))
def test_a_layer_imports_only_the_layers_below_it(layer):
    bad = {m: sorted(t for t in deps if not _in(t, _BELOW[layer]))
           for m, deps in GRAPH.items() if _in(m, (layer,))}
    assert {m: d for m, d in bad.items() if d} == {}


def test_the_tape_knows_no_op_and_no_tensor_module():
    for m in _TAPE:
        assert not {t for t in GRAPH[m] if _in(t, ("autograd_gpu.ops", "autograd_gpu.tensor",
                                                   "autograd_gpu.creation", "autograd_gpu.nn"))}, m


def test_ops_import_no_layer_above_them():
    above = ("autograd_gpu.nn", "autograd_gpu.optim", "autograd_gpu.func",
             "autograd_gpu.utils", "autograd_gpu.distributed", "autograd_gpu.viz")
    bad = {m: sorted(t for t in deps if _in(t, above))
           for m, deps in GRAPH.items() if _in(m, ("autograd_gpu.ops",))}
    assert {m: d for m, d in bad.items() if d} == {}


def test_only_the_devices_module_imports_cupy():
    importers = set()
    for m, path in MODULES.items():
        if path is None:
            continue
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                     else [])
            if any(n.split(".")[0] in ("cupy", "cupyx") for n in names):
                importers.add(m)
    # (NCCL's communicator is CuPy's: the distributed backend for it imports it by name)
    assert importers <= {"autograd_gpu.backend.devices", "autograd_gpu.distributed._nccl",
                         "autograd_gpu.distributed._core"}
    assert "autograd_gpu.backend.devices" in importers


# array-type, size, pool and thread decisions: the execution layer's alone
_DECISIONS = re.compile(r"np\.ndarray|_ndarray|__class__ is|__cuda_array_interface__|"
                        r"POOL_MIN_BYTES|host_block|host_ufunc|host_for_blocks|_host_memory|_blocked\b")


def test_ops_nn_optim_and_tensor_leave_how_to_the_execution_layer():
    found = []
    for m, path in MODULES.items():
        if path is None or not (m == "autograd_gpu.tensor" or _in(m, (
                "autograd_gpu.ops", "autograd_gpu.nn", "autograd_gpu.optim"))):
            continue
        with open(path) as f:
            for i, line in enumerate(f, 1):
                if _DECISIONS.search(line):
                    found.append(f"{os.path.relpath(path, ROOT)}:{i}: {line.strip()}")
    assert found == []


def test_the_decision_pattern_matches_what_it_should():
    assert _DECISIONS.search("if type(x) is np.ndarray:")
    assert _DECISIONS.search("if a.nbytes >= POOL_MIN_BYTES:")
    assert not _DECISIONS.search("xp = array_module(x)")
