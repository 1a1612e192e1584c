"""Which way the imports go inside nn and distributed (every import counts, lazy ones too).

nn: the layers use nn.functional, never the reverse: nn.functional (attention included)
imports no other module of nn. distributed: the backends (_mpi, _nccl) sit below the
collectives (_core) and share the reduce operations with it through _reduce_op; they never
import _core. The public names stay where they were.
"""
import ast
import os

import pytest

import autograd_gpu as ag
import autograd_gpu.distributed as dist
import autograd_gpu.nn.functional as F

PKG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "autograd_gpu")


def _imports(module):
    """The autograd_gpu modules and packages named by any import in `module` (a dotted name
    inside autograd_gpu), as dotted names; `from .pkg import name` counts as pkg.name."""
    parts = module.split(".")
    path = os.path.join(PKG, *parts[1:]) + ".py"
    package = parts[:-1]
    with open(path) as f:
        tree = ast.parse(f.read())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("autograd_gpu")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)]
                full = ".".join(base + ([node.module] if node.module else []))
            else:
                full = node.module or ""
            if full.startswith("autograd_gpu"):
                out |= {full + "." + a.name for a in node.names} | {full}
    out.discard(module)
    return out


def test_the_reader_sees_imports():
    assert "autograd_gpu.nn.functional" in _imports("autograd_gpu.nn.layers")
    assert "autograd_gpu.distributed._mpi" in _imports("autograd_gpu.distributed._core")


def test_nn_functional_imports_no_other_nn_module():
    nn_deps = {m for m in _imports("autograd_gpu.nn.functional")
               if m == "autograd_gpu.nn" or m.startswith("autograd_gpu.nn.")}
    assert nn_deps == set()


@pytest.mark.parametrize("backend", ["_mpi", "_nccl", "_reduce_op"])
def test_distributed_backends_do_not_import_the_collectives(backend):
    deps = _imports("autograd_gpu.distributed." + backend)
    assert not {m for m in deps if m.startswith("autograd_gpu.distributed._core")}
    assert "autograd_gpu.distributed" not in deps  # (the package's __init__ imports _core)


def test_reduce_op_needs_nothing_of_the_package():
    assert _imports("autograd_gpu.distributed._reduce_op") == set()


def test_public_names_stay_where_they_were():
    from autograd_gpu.distributed import _core
    from autograd_gpu.nn import activation_attention

    assert F.scaled_dot_product_attention is activation_attention.scaled_dot_product_attention
    assert F.multi_head_attention_forward is activation_attention.multi_head_attention_forward
    assert ag.nn.MultiheadAttention is activation_attention.MultiheadAttention
    assert {"scaled_dot_product_attention", "multi_head_attention_forward"} <= set(F.__all__)
    assert dist.RedOpType is _core.RedOpType is dist.ReduceOp.RedOpType
    assert dist.ReduceOp is _core.ReduceOp
    assert dist.ReduceOp.SUM == 0 and repr(dist.ReduceOp.AVG) == "<RedOpType.AVG: 1>"


def test_attention_still_runs_from_both_places():
    q = ag.randn(2, 3, 4)
    out = F.scaled_dot_product_attention(q, q, q, is_causal=True)
    assert tuple(out.shape) == (2, 3, 4)
    mha = ag.nn.MultiheadAttention(4, 2, batch_first=True)
    y, w = mha(q, q, q)
    assert tuple(y.shape) == (2, 3, 4) and tuple(w.shape) == (2, 3, 3)
