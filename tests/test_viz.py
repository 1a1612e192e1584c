"""Graph drawings (make_dot, as torchviz) and text dumps; node names checked against PyTorch's."""
import collections
import re
import shutil
import struct
import subprocess

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import viz

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(
    DOT is None,
    reason="Graphviz's `dot` program is not installed (apt-get install -y graphviz)",
)


def _regression(m, device=None):
    """Seed 001's linear-regression error, for autograd_gpu or torch (`m`)."""
    kw = {} if device is None else {"device": device}
    m.manual_seed(42)
    X_train = m.randn(100, 5, **kw)
    y_train = m.mean(X_train, axis=1)
    theta = m.randn(5, **kw).requires_grad_(True)
    y_pred = m.matmul(X_train, theta)
    mse_train = m.mean((y_train - y_pred) ** 2)
    return mse_train, dict(X_train=X_train, mse_train=mse_train, theta=theta)


def _sin_example(m, device=None):
    kw = {} if device is None else {"device": device}
    x = m.tensor(5.0, requires_grad=True, **kw)
    c = m.tensor(3.0, requires_grad=True, **kw)
    y = c * m.sin(x) + x + c
    return y, dict(x=x, c=c, y=y)


def _source(dot):
    """DOT text from make_dot's result (a graphviz.Digraph, or text without the package)."""
    return dot if isinstance(dot, str) else dot.source


def _torch_graph(out):
    """Node names (multiset) and number of edges of PyTorch's backward graph."""
    names, edges, seen, stack = collections.Counter(), 0, set(), [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        names[type(fn).__name__] += 1
        for u, _ in fn.next_functions:
            if u is not None:
                edges += 1
                stack.append(u)
    return names, edges


_NODE = re.compile(r'^\t(\S+) \[label=(?:"((?:[^"\\]|\\.)*)"|(\w+))(.*)\]$', re.M)
_EDGE = re.compile(r"^\t(\S+) -> (\S+)( \[.*\])?$", re.M)


def _parse(source):
    """{node id: (label, attrs text)} and [(a, b, attrs)] from DOT text."""
    nodes = {}
    for m in _NODE.finditer(source):
        label = m.group(2) if m.group(2) is not None else m.group(3)
        label = label.replace("\\n", "\n")
        nodes[m.group(1).strip('"')] = (label, m.group(4))
    edges = [(a.strip('"'), b.strip('"'), attrs or "") for a, b, attrs in _EDGE.findall(source)]
    return nodes, edges


def _fn_nodes(nodes):
    """Backward-node names: the boxes without a fill colour (tensors have one)."""
    return collections.Counter(
        label.split("\n")[0] for label, attrs in nodes.values() if "fillcolor" not in attrs
    )


def _render_png(source, tmp_path):
    path = tmp_path / "graph.dot"
    path.write_text(source)
    png = tmp_path / "graph.png"
    subprocess.run([DOT, "-Tpng", str(path), "-o", str(png)], check=True, timeout=60,
                   capture_output=True)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return data, width, height


@pytest.mark.parametrize("example", [_regression, _sin_example])
def test_nodes_and_edges_match_pytorch(example, device, torch):
    out, params = example(ag, device)
    tout, _ = example(torch)
    names, n_edges = _torch_graph(tout)
    nodes, edges = _parse(_source(viz.make_dot(out, params)))
    assert _fn_nodes(nodes) == names
    # node-to-node edges, leaf -> AccumulateGrad edges, and grad_fn -> output
    n_leaves = names["AccumulateGrad"]
    assert len(edges) == n_edges + n_leaves + 1


@needs_dot
def test_seed_regression_graph_renders_to_png(tmp_path, device):
    mse_train, params = _regression(ag, device)
    dot = viz.make_dot(mse_train, params, show_attrs=True, show_saved=True)
    graphviz = pytest.importorskip("graphviz", reason="the graphviz Python package (extra `viz`)")

    assert isinstance(dot, graphviz.Digraph)
    src = dot.source
    for name in ("MeanBackward0", "PowBackward0", "SubBackward0", "MvBackward0", "AccumulateGrad"):
        assert name in src
    nodes, edges = _parse(src)
    labels = {label: attrs for label, attrs in nodes.values()}
    assert "fillcolor=lightblue" in labels["theta\n (5)"]
    assert "fillcolor=darkolivegreen1" in labels["mse_train\n ()"]
    # X_train needs no grad: it is not a leaf of the graph, only saved by MvBackward0
    assert "X_train\n (100, 5)" not in labels
    assert "fillcolor=orange" in labels["self\n (100, 5)"]
    data, width, height = _render_png(src, tmp_path)
    assert len(data) > 5000 and width > 200 and height > 200


@needs_dot
def test_plain_dot_string_without_graphviz_package(tmp_path, monkeypatch, device):
    pytest.importorskip("graphviz", reason="compares with the graphviz Python package's output")
    mse_train, params = _regression(ag, device)
    with_pkg = _source(viz.make_dot(mse_train, params, show_attrs=True, show_saved=True))
    monkeypatch.setattr(viz, "_load_graphviz", lambda: None)
    text = viz.make_dot(mse_train, params, show_attrs=True, show_saved=True)
    assert isinstance(text, str) and text.startswith("digraph {")
    a_nodes, a_edges = _parse(with_pkg)
    b_nodes, b_edges = _parse(text)
    assert a_nodes.keys() == b_nodes.keys()
    assert sorted(lbl for lbl, _ in a_nodes.values()) == sorted(lbl for lbl, _ in b_nodes.values())
    assert sorted(a_edges) == sorted(b_edges)
    data, width, height = _render_png(text, tmp_path)
    assert len(data) > 5000


def test_attrs_and_saved_only_when_asked(device):
    y, params = _sin_example(ag, device)
    plain = _parse(_source(viz.make_dot(y, params)))[0]
    assert not any("orange" in attrs for _, attrs in plain.values())
    assert all("---" not in label for label, _ in plain.values())
    full = _parse(_source(viz.make_dot(y, params, show_attrs=True, show_saved=True)))[0]
    mul = next(label for label, _ in full.values() if label.startswith("MulBackward0"))
    # Mul saved both inputs: c (a leaf) and sin(x) (an intermediate), scalars here
    assert re.search(r"self: .*\(\)", mul) and re.search(r"other: .*\(\)", mul)
    assert any("orange" in attrs and label == "other\n ()" for label, attrs in full.values())
    # c is saved and a leaf: its box stays a light blue leaf box, labelled from params
    assert sum(label == "c\n ()" and "lightblue" in attrs for label, attrs in full.values()) == 1


def test_after_backward_the_freed_values_are_gone(device):
    y, params = _sin_example(ag, device)
    y.backward()
    nodes, _ = _parse(_source(viz.make_dot(y, params, show_attrs=True, show_saved=True)))
    assert not any("orange" in attrs for _, attrs in nodes.values())
    assert _fn_nodes(nodes)["MulBackward0"] == 1


def test_tuple_outputs_and_views(device):
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, device=device)
    a, b = (x * 2).sum(), x.exp()
    nodes, edges = _parse(_source(viz.make_dot((a, b), {"x": x})))
    outs = [label for label, attrs in nodes.values() if "darkolivegreen1" in attrs]
    assert sorted(outs) == ["\n ()", "\n (2, 2)"]
    assert sum(label == "x\n (2, 2)" for label, _ in nodes.values()) == 1


def test_deep_chain_does_not_recurse(device):
    x = ag.tensor([1.0], requires_grad=True, device=device)
    y = x
    for _ in range(3000):
        y = y * 1.0
    nodes, edges = _parse(_source(viz.make_dot(y)))
    assert _fn_nodes(nodes) == {"MulBackward0": 3000, "AccumulateGrad": 1}
    text = viz.format_graph(y)
    assert text.count("MulBackward0") == 3000


def test_print_graph_tree(capsys, device, torch):
    y, params = _sin_example(ag, device)
    viz.print_graph(y, params)
    text = capsys.readouterr().out
    lines = text.rstrip("\n").split("\n")
    assert lines[0].startswith("y () float32  <- AddBackward0")
    names, n_edges = _torch_graph(_sin_example(torch)[0])
    # one line per edge of the graph plus the root; shared nodes are marked, not expanded
    assert len(lines) == n_edges + 1
    assert sum("(shown above)" in line for line in lines) == 2
    body = collections.Counter(
        re.sub(r"^[│├└─ ]*", "", line).split()[0] for line in lines[1:] if "(shown above)" not in line
    )
    body["AddBackward0"] += 1  # the root's node is on the first line
    assert body == names
    assert any(line.endswith("x () float32") and "AccumulateGrad" in line for line in lines)


def test_print_graph_saved_and_leaf_output(device):
    x = ag.tensor([1.0, 2.0], requires_grad=True, device=device)
    text = viz.format_graph(ag.sin(x) * x, {"x": x}, show_saved=True)
    assert "MulBackward0  [saved: self tensor (2) float32, other tensor (2) float32]" in text
    assert viz.format_graph(x, {"x": x}) == "x (2) float32  (leaf, requires_grad)"


def test_params_must_be_a_dict_of_tensors():
    y, _ = _sin_example(ag)
    with pytest.raises(TypeError, match="dict of name -> Tensor"):
        viz.make_dot(y, [1, 2])
    with pytest.raises(TypeError, match=r"params\['a'\] is a float"):
        viz.make_dot(y, {"a": 1.0})
    with pytest.raises(TypeError, match="expected a Tensor"):
        viz.make_dot(np.zeros(3))
