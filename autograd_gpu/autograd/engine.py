"""The backward engine: replays the part of the tape the outputs depend on, newest first.

Nodes are popped from a max-heap keyed on their sequence number. A node's inputs were
recorded before it, so when a node is popped every node that consumes its outputs has
already run and its incoming gradients are complete (summed in `buffers`). No recursion:
a chain of 100,000 ops is a loop of 100,000 iterations. The engine knows nothing about
individual ops.
"""
from heapq import heappop as _heappop, heappush as _heappush
import sys as _sys
import warnings

import numpy as _np

from . import grad_mode
from . import function as _function
from .function import AccumulateGrad as _AccumulateGrad
from ..backend import extra_refs as _extra_refs

_state = grad_mode._state


def _shape_str(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _root_grads(outputs, grad_outputs, create_graph):
    """The gradient that starts each output's backward, checked against the output."""
    Tensor = _function.Tensor
    grads = []
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
            )
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs "
                    f"(the output has shape {_shape_str(out._data.shape)}; pass a gradient of "
                    "that shape, e.g. backward(torch.ones_like(out)), or reduce it with .sum())"
                )
            d = out._data
            g = _np.array(1, d.dtype) if type(d) is _np.ndarray and d.ndim == 0 else out._xp().ones(d.shape, d.dtype)
            if create_graph:
                g = _function._new_tensor(g)
        else:
            if not isinstance(g, Tensor):
                xp = out._xp()
                g = _function._new_tensor(xp.asarray(g, dtype=out._data.dtype))
            elif g._requires_grad and not create_graph:
                g = g.detach()
            if g._data.shape != out._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of "
                    f"torch.Size({_shape_str(g._data.shape)}) and output[{i}] has a shape of "
                    f"torch.Size({_shape_str(out._data.shape)})."
                )
            if type(g._data) is not type(out._data):
                _function._raise_device_mismatch(type(out._grad_fn), (out, g))
            if not create_graph:
                g = g._data
        grads.append(g)
    return grads


def _node_of(t):
    """The node a tensor's gradient flows into: its grad_fn, or its leaf accumulator."""
    if t._grad_fn is not None:
        return t._grad_fn, t._output_nr
    return t._get_accumulator(), 0


def _needed_nodes(roots, targets):
    """Nodes from which some target can be reached (only those must run)."""
    needed = set()
    visited = set()
    # iterative post-order DFS
    stack = [(r, False) for r in roots]
    while stack:
        node, done = stack.pop()
        if done:
            if node in targets or any(
                fn is not None and fn in needed for fn, _ in node.next_functions
            ):
                needed.add(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for fn, _ in node.next_functions:
            if fn is not None and fn not in visited:
                stack.append((fn, False))
    return needed


def run_backward(outputs, grad_outputs, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=False):
    """Backpropagates from `outputs`.

    accumulate=True (Tensor.backward): gradients are added into leaves' `.grad` (only the
    leaves in `inputs`, if given). accumulate=False (autograd.grad): the gradients with
    respect to `inputs` are returned and no `.grad` is touched.
    """
    if retain_graph is None:
        retain_graph = create_graph
    if grad_outputs is None and not create_graph and len(outputs) == 1 and (
        outputs[0]._data.__class__ is _np.ndarray and outputs[0]._data.ndim == 0
        and outputs[0]._requires_grad
    ):  # the common loss.backward(): a 0-d CPU output
        grads = [_np.array(1, outputs[0]._data.dtype)]
    else:
        grads = _root_grads(outputs, grad_outputs, create_graph)

    buffers = {}
    heap = []
    leaf_grads = {}
    for out, g in zip(outputs, grads):
        node, nr = _node_of(out)
        if node.__class__ is _AccumulateGrad:
            prev = leaf_grads.get(node)
            leaf_grads[node] = g if prev is None else prev + g
            continue
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node._n_outputs
            _heappush(heap, (-node.sequence_nr, node))
        buf[nr] = g if buf[nr] is None else buf[nr] + g

    captures = None
    needed = None
    results = None
    if inputs is not None:
        captures = {}
        for k, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError(f"One of the differentiated Tensors (input {k}) does not require grad")
            captures.setdefault(_node_of(t), []).append(k)
        needed = _needed_nodes([e[1] for e in heap] + list(leaf_grads), {n for n, _ in captures})
        results = [None] * len(inputs)

    anomaly = _function.Function._record_trace
    push, pop = _heappush, _heappop
    AccumulateGrad = _AccumulateGrad
    prev_mode = _state.enabled
    _state.enabled = create_graph
    try:
        # sequence numbers are unique, so heap entries never compare nodes
        while heap:
            node = pop(heap)[1]
            node_grads = buffers.pop(node)
            if node._pre_hooks is not None:
                node_grads = _run_hooks(node, node_grads, create_graph)
            if captures is not None:  # (autograd.grad, or backward(inputs=...))
                for nr, g in enumerate(node_grads):
                    ks = captures.get((node, nr))
                    if ks:
                        for k in ks:
                            results[k] = g
                if node not in needed:
                    continue
            if node._n_outputs == 1:
                in_grads = node.backward(node_grads[0])
            else:
                in_grads = node.backward(*_materialize(node, node_grads))
            if not retain_graph:
                node._saved = None
                node._freed = True
            if in_grads.__class__ is not tuple:
                in_grads = (in_grads,)
            if anomaly:
                _check_anomaly(node, in_grads)
            for (fn, nr), g in zip(node.next_functions, in_grads):
                if g is None or fn is None:
                    continue
                if fn.__class__ is AccumulateGrad:
                    # leaves are sinks: sum their gradients here, apply them at the end
                    prev = leaf_grads.get(fn)
                    if prev is None:
                        leaf_grads[fn] = g
                    elif prev.__class__ is _np.ndarray and prev.base is None and (
                        # the dict, `prev`, the call (and the host pool's): ours alone
                        (rc := _sys.getrefcount(prev)) == 3 or rc == 4 and _extra_refs(prev)
                    ):
                        prev += g
                    else:
                        leaf_grads[fn] = prev + g
                    continue
                buf = buffers.get(fn)
                if buf is None:
                    if needed is not None and fn not in needed:
                        continue
                    if fn._n_outputs == 1:
                        buffers[fn] = [g]
                    else:
                        buf = buffers[fn] = [None] * fn._n_outputs
                        buf[nr] = g
                    push(heap, (-fn.sequence_nr, fn))
                else:
                    prev = buf[nr]
                    if prev is None:
                        buf[nr] = g
                    elif prev.__class__ is _np.ndarray and prev.base is None and (
                        # the list, `prev`, the call (and the host pool's): ours alone
                        (rc := _sys.getrefcount(prev)) == 3 or rc == 4 and _extra_refs(prev)
                    ):
                        prev += g  # summed in place: nobody else holds this array
                    else:
                        buf[nr] = prev + g
        in_grads = node_grads = g = prev = None  # drop the loop's references: leaves may adopt arrays
        for acc in list(leaf_grads):
            g = leaf_grads.pop(acc)
            if acc._pre_hooks is not None:
                (g,) = _run_hooks(acc, [g], create_graph)
            if captures is not None:
                for k in captures.get((acc, 0), ()):
                    results[k] = g
                if (acc, 0) not in captures:
                    continue
            if not accumulate:
                continue
            t = acc._ref()
            if t is None:  # a leaf nobody holds any more: its gradient goes nowhere
                continue
            if create_graph or t._grad is not None:
                t._accumulate(g, create_graph)
                continue
            # the first gradient: the leaf may keep the array itself when nothing else can
            # see it: an array (not a NumPy scalar, which is immutable), not a view, and no
            # reference but this local and getrefcount's argument (and the host pool's)
            owned = ((g.__class__ is _np.ndarray or hasattr(g, "__cuda_array_interface__"))
                     and g.base is None
                     and ((rc := _sys.getrefcount(g)) == 2 or rc == 3 and _extra_refs(g)))
            t._accumulate(g, False, owned)
    finally:
        _state.enabled = prev_mode

    if inputs is None:
        return None
    wrap = _function._new_tensor
    for k, g in enumerate(results):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            continue
        dt = inputs[k]._data.dtype
        if not create_graph:
            g = _function.as_array(g)
            results[k] = wrap(g if g.dtype == dt else g.astype(dt))
        elif g._data.dtype != dt:  # a gradient has its input's dtype (mixed-dtype graphs)
            results[k] = g.to(inputs[k].dtype)
    return results


def _materialize(node, grads):
    """Zeros for outputs of a multi-output node that received no gradient."""
    meta = getattr(node, "_output_meta", None)
    if meta is None or all(g is not None for g in grads):
        return grads  # nodes without _output_meta take None for an unused output
    out = []
    for g, (shape, dtype, xp) in zip(grads, meta):
        if g is None:
            g = xp.zeros(shape, dtype)
            if _state.enabled:
                g = _function._new_tensor(g)
        out.append(g)
    return out


def _run_hooks(node, grads, create_graph):
    """Tensor hooks registered on a node's outputs; a hook may replace the gradient."""
    Tensor = _function.Tensor
    grads = list(grads)
    for nr, hooks in node._pre_hooks.items():
        g = grads[nr]
        if g is None:
            continue
        gt = g if isinstance(g, Tensor) else _function._new_tensor(_function.as_array(g))
        for hook in sorted(hooks, key=_runs_last):  # stable: registration order otherwise
            r = hook(gt)
            if r is not None:
                gt = r
        grads[nr] = gt if create_graph else gt._data
    return grads


def _runs_last(hook):
    return getattr(hook, "runs_last", False)


def _check_anomaly(node, in_grads):
    from .anomaly import check_node_output

    check_node_output(node, in_grads)


def warn_nonleaf_grad():
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
        "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
        "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
        "instead.",
        UserWarning,
        stacklevel=3,
    )
