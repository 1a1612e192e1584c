"""Pictures and text dumps of the backward graph.

``make_dot(output, params=None, show_attrs=False, show_saved=False)`` draws the graph as
torchviz does for PyTorch: one grey box per backward node (``MulBackward0``, ...), an
``AccumulateGrad`` box per leaf, leaf tensors as light blue boxes labelled
``name\\n (shape)`` from `params`, the output tensor in dark olive green, saved tensors in
orange (``show_saved``) and each node's saved values and attributes (``show_attrs``).
It returns a ``graphviz.Digraph`` when the `graphviz` package is importable (render it with
``.render(...)``, or show it in a notebook), else the DOT source as a string, which the
``dot`` program renders (``dot -Tpng graph.dot -o graph.png``).

``print_graph(output)`` prints the same graph as an indented tree, for terminals.
"""
import re
import sys

from .autograd.node import AccumulateGrad
from .tensor import Tensor

__all__ = ["make_dot", "print_graph", "format_graph"]

_NODE_ATTR = dict(
    style="filled", shape="box", align="left", fontsize="10", ranksep="0.1", height="0.2",
    fontname="monospace",
)
_OUTPUT, _BASE, _LEAF, _SAVED = "darkolivegreen1", "darkolivegreen3", "lightblue", "orange"
# node fields that are bookkeeping, not attributes of the op
_HIDDEN = {"next_functions", "sequence_nr", "needs_input_grad", "name"}


def _size_str(shape):
    return "(" + ", ".join(str(int(n)) for n in shape) + ")"


def _describe(value):
    """A short text for an attribute value: arrays and tensors by shape and dtype."""
    if isinstance(value, Tensor):
        return f"tensor {_size_str(value.shape)} {value.dtype.name}"
    if hasattr(value, "shape") and hasattr(value, "dtype") and getattr(value, "ndim", 0) > 0:
        return f"array {_size_str(value.shape)} {value.dtype}"
    if hasattr(value, "shape") and hasattr(value, "dtype"):  # 0-d array or NumPy scalar
        return str(value.item() if hasattr(value, "item") else value)
    return str(value)


def _saved_entries(fn):
    """(name, object) for what a node saved: tensors (inputs), arrays (outputs and others)
    and plain values. Empty once backward has freed them."""
    saved = getattr(fn, "_saved", None)
    if not saved:
        return []
    out = []
    n_in = 0
    for i, s in enumerate(saved):
        tensor = None
        if type(s) is tuple and len(s) == 2 and isinstance(s[0], Tensor):
            tensor = s[0]  # (input, version at save time)
        elif hasattr(s, "tensor") and isinstance(getattr(s, "tensor"), Tensor):
            tensor = s.tensor
        if tensor is not None:
            out.append(("self" if n_in == 0 else "other" if n_in == 1 else f"input{n_in}", tensor))
            n_in += 1
        elif hasattr(s, "array") and hasattr(s, "index"):
            out.append(("result" if s.index == 0 else f"result{s.index}", s.array))
        else:
            out.append((f"saved{i}", s))
    return out


def _attributes(fn):
    """(name, value) for the node's own attributes (axes, shapes, masks, constants)."""
    d = getattr(fn, "__dict__", None) or {}
    return [(k, v) for k, v in d.items() if not k.startswith("_") and k not in _HIDDEN]


def _is_array(obj):
    return isinstance(obj, Tensor) or (
        hasattr(obj, "shape") and hasattr(obj, "dtype") and getattr(obj, "ndim", 0) > 0
    )


def _fn_label(fn, show_attrs, max_attr_chars):
    name = fn.name
    if not show_attrs:
        return name
    attrs = [(k, _describe(v)) for k, v in _saved_entries(fn)]
    attrs += [(k, _describe(v)) for k, v in _attributes(fn)]
    if not attrs:
        return name
    # the layout torchviz uses: a column of names, a column of (truncated) values
    col1 = max(len(k) for k, _ in attrs)
    col2 = min(max(len(v) for _, v in attrs), max_attr_chars)
    sep = "-" * max(col1 + col2 + 2, len(name))

    def cut(s):
        return s[: col2 - 3] + "..." if len(s) > col2 else s

    rows = "\n".join(f"{k:>{col1}}: {cut(v):>{col2}}" for k, v in attrs)
    return name + "\n" + sep + "\n" + rows


class _Graph:
    """Nodes (id -> label, colour, rank) and edges, emitted as DOT or a graphviz.Digraph."""

    def __init__(self):
        self.nodes = {}
        self.edges = []

    def node(self, key, label, fillcolor=None, rank=0):
        old = self.nodes.get(key)
        # a tensor that is both saved and a leaf/output keeps its leaf/output box
        if old is None or rank >= old[2]:
            self.nodes[key] = (label, fillcolor, rank)

    def edge(self, a, b, **attrs):
        self.edges.append((a, b, attrs))

    def size(self):
        # as torchviz: grow the page with the graph, at least 12 inches
        s = max(12.0, 0.15 * (len(self.nodes) + len(self.edges)))
        return f"{s:g},{s:g}"

    def digraph(self, graphviz):
        dot = graphviz.Digraph(node_attr=_NODE_ATTR, graph_attr=dict(size=self.size()))
        for key, (label, color, _) in self.nodes.items():
            attrs = {} if color is None else {"fillcolor": color}
            dot.node(key, _escape(label), **attrs)
        for a, b, attrs in self.edges:
            dot.edge(a, b, **attrs)
        return dot

    def source(self):
        def attr_list(d):
            # the label first, as graphviz.Digraph writes it
            keys = sorted(d, key=lambda k: (k != "label", k))
            return " ".join(f"{k}={_quote(d[k])}" for k in keys)

        lines = ["digraph {", f"\tgraph [size={_quote(self.size())}]", f"\tnode [{attr_list(_NODE_ATTR)}]"]
        for key, (label, color, _) in self.nodes.items():
            attrs = {"label": label}
            if color is not None:
                attrs["fillcolor"] = color
            lines.append(f"\t{_quote(key)} [{attr_list(attrs)}]")
        for a, b, attrs in self.edges:
            extra = f" [{attr_list(attrs)}]" if attrs else ""
            lines.append(f"\t{_quote(a)} -> {_quote(b)}{extra}")
        lines.append("}")
        return "\n".join(lines) + "\n"


def _escape(label):
    return label.replace("\\", "\\\\")


_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|-?(\.[0-9]+|[0-9]+(\.[0-9]*)?)")
_KEYWORDS = {"node", "edge", "graph", "digraph", "subgraph", "strict"}


def _quote(s):
    """A DOT ID: bare where DOT allows (as graphviz.Digraph writes it), else quoted."""
    s = str(s)
    if _ID.fullmatch(s) and s.lower() not in _KEYWORDS:
        return s
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def _load_graphviz():
    try:
        import graphviz
    except ImportError:
        return None
    return graphviz


def _as_outputs(output):
    outs = tuple(output) if isinstance(output, (tuple, list)) else (output,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(
                f"make_dot: expected a Tensor (or a tuple of Tensors), got {type(o).__name__}"
            )
    return outs


def _param_map(params, api):
    if params is None:
        return {}
    if not hasattr(params, "items"):
        raise TypeError(
            f"{api}: params must be a dict of name -> Tensor (e.g. dict(model.named_parameters())), "
            f"got {type(params).__name__}"
        )
    out = {}
    for k, v in params.items():
        if not isinstance(v, Tensor):
            raise TypeError(f"{api}: params[{k!r}] is a {type(v).__name__}, expected a Tensor")
        out[id(v)] = k
    return out


def _build(output, params, show_attrs, show_saved, max_attr_chars):
    names = _param_map(params, "make_dot")
    g = _Graph()

    def var_label(t, name=None):
        if name is None:
            name = names.get(id(t), "")
        shape = t.shape if isinstance(t, Tensor) else getattr(t, "shape", ())
        return f"{name}\n {_size_str(shape)}"

    stack = []
    for out in _as_outputs(output):
        g.node(str(id(out)), var_label(out), _OUTPUT, rank=3)
        if out._grad_fn is not None:
            g.edge(str(id(out._grad_fn)), str(id(out)))
            stack.append(out._grad_fn)
        base = out._base
        if base is not None:
            g.node(str(id(base)), var_label(base), _BASE, rank=3)
            g.edge(str(id(base)), str(id(out)), style="dotted")

    seen = set()
    # depth first and iterative: a chain of 100,000 ops is fine
    while stack:
        fn = stack.pop()
        if fn in seen:
            continue
        seen.add(fn)
        key = str(id(fn))
        if show_saved:
            for name, obj in _saved_entries(fn):
                if _is_array(obj) or (hasattr(obj, "shape") and hasattr(obj, "dtype")):
                    g.node(str(id(obj)), var_label(obj, name), _SAVED, rank=1)
                    g.edge(key, str(id(obj)), dir="none")
        g.node(key, _fn_label(fn, show_attrs, max_attr_chars), None)
        if type(fn) is AccumulateGrad:
            var = fn.variable
            if var is not None:
                g.node(str(id(var)), var_label(var), _LEAF, rank=2)
                g.edge(str(id(var)), key)
        children = [u for u, _ in fn.next_functions if u is not None]
        for u in children:
            g.edge(str(id(u)), key)
        stack.extend(reversed(children))
    return g


def make_dot(var, params=None, show_attrs=False, show_saved=False, max_attr_chars=50):
    """The backward graph of `var` (a Tensor or a tuple of Tensors) as a ``graphviz.Digraph``
    (or DOT source text when the graphviz package is not installed).

    params: dict name -> Tensor, for labels (``dict(x=x, theta=theta)`` or
    ``dict(model.named_parameters())``). show_saved: draw what each node saved for backward
    (orange). show_attrs: list each node's saved values and attributes in its box. Saved
    tensors are only there until a backward without ``retain_graph=True`` frees them.

    Args:
        var: the output Tensor, or a tuple of them.
        params: dict name -> Tensor, the labels of the leaves.
        show_attrs: list each node's saved values and attributes in its box.
        show_saved: draw the saved tensors.
        max_attr_chars: cut each attribute's text at this many characters.

    Returns:
        graphviz.Digraph, or str (the DOT source) without the graphviz package.
    """
    g = _build(var, params, show_attrs, show_saved, max_attr_chars)
    graphviz = _load_graphviz()
    if graphviz is None:
        return g.source()
    return g.digraph(graphviz)


def format_graph(output, params=None, show_saved=False):
    """The backward graph of `output` as an indented tree (one line per node); a node
    reached a second time is printed once more, marked, without its inputs.

    Args:
        output: the output Tensor, or a tuple of them.
        params: dict name -> Tensor, the names shown for the leaves.
        show_saved: list what each node saved for backward.

    Returns:
        str: the tree, one line per node.
    """
    names = _param_map(params, "print_graph")
    outs = _as_outputs(output)
    lines = []

    def tensor_text(t):
        name = names.get(id(t))
        return (f"{name} " if name else "") + f"{_size_str(t.shape)} {t.dtype.name}"

    def node_text(fn):
        text = fn.name
        if type(fn) is AccumulateGrad:
            var = fn.variable
            if var is not None:
                text += "  " + tensor_text(var)
        elif show_saved:
            saved = _saved_entries(fn)
            if saved:
                text += "  [saved: " + ", ".join(
                    f"{k} {_describe(v)}" for k, v in saved
                ) + "]"
        return text

    for out in outs:
        head = tensor_text(out)
        if out._grad_fn is None:
            lines.append(head + ("  (leaf, requires_grad)" if out._requires_grad else "  (no grad_fn)"))
            continue
        seen = set()
        # pre-order, iterative: (node, its line, the prefix its children continue with)
        stack = [(out._grad_fn, head + "  <- ", "")]
        while stack:
            fn, text, prefix = stack.pop()
            if fn in seen:
                lines.append(text + node_text(fn) + "  (shown above)")
                continue
            seen.add(fn)
            lines.append(text + node_text(fn))
            children = [u for u, _ in fn.next_functions if u is not None]
            for i in range(len(children) - 1, -1, -1):
                last = i == len(children) - 1
                stack.append((children[i], prefix + ("└─ " if last else "├─ "),
                              prefix + ("   " if last else "│  ")))
    return "\n".join(lines)


def print_graph(output, params=None, show_saved=False, file=None):
    """Prints the backward graph of `output` as a tree (see format_graph).

    Args:
        output: the output Tensor, or a tuple of them.
        params: dict name -> Tensor, the names shown for the leaves.
        show_saved: list what each node saved for backward.
        file: the stream written to (None: sys.stdout).

    Returns:
        None.

    Examples:
        >>> import autograd_gpu as torch
        >>> from autograd_gpu.viz import print_graph
        >>> x = torch.ones(3, requires_grad=True)
        >>> w = torch.ones(3, requires_grad=True)
        >>> print_graph((x * w).sum(), params={"x": x, "w": w})
        () float32  <- SumBackward0
        └─ MulBackward0
           ├─ AccumulateGrad  x (3) float32
           └─ AccumulateGrad  w (3) float32
    """
    print(format_graph(output, params, show_saved), file=file if file is not None else sys.stdout)
