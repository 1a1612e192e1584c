"""``torch.autograd.functional``: ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``vhp``, ``hvp``
with PyTorch's signatures, return structures and errors, on top of ``autograd.grad``.

`inputs` is a Tensor or a tuple of Tensors, and `func` returns a Tensor or a tuple of them;
a tuple on either side gives a tuple in the result (the Jacobian of a tuple function of a
tuple of inputs is ``jac[i][j]`` = d output i / d input j, of shape ``out_i.shape +
in_j.shape``). Results are detached unless ``create_graph=True``, in which case they are
differentiable with respect to the caller's inputs that require grad. Forward-mode products
(``jvp``, ``hvp``, ``strategy="forward-mode"``) use the double-backward trick, as PyTorch
does for ``jvp`` and ``hvp``: J v = d<J^T u, v>/du, exact for every op with a differentiable
backward. ``vectorize=True`` is accepted; with no vmap here it computes the same values
one row (or column) at a time.
"""
from .engine import grad as _autograd_grad
from .grad_mode import enable_grad, is_grad_enabled, set_grad_enabled
from .node import Node

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _tensor_type():
    from .node import Tensor

    return Tensor


def _size_repr(t):
    return "torch.Size([" + ", ".join(str(n) for n in t.shape) + "])"


def _as_tuple(x, what, api):
    """(was it a tuple, the Tensors as a tuple), with PyTorch's TypeError for anything else."""
    Tensor = _tensor_type()
    is_tuple = isinstance(x, tuple)
    items = x if is_tuple else (x,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            where = f"value at index {i}" if is_tuple else f"given {what}"
            raise TypeError(
                f"The {what} given to {api} must be either a Tensor or a tuple of Tensors but "
                f"the {where} has type {type(el)}."
            )
    return is_tuple, items


def _unpack(res, is_tuple):
    return res if is_tuple else res[0]


def _unpack2(res, outer_is_tuple, inner_is_tuple):
    if not inner_is_tuple:
        res = tuple(row[0] for row in res)
    return res if outer_is_tuple else res[0]


class _Alias(Node):
    """A new Tensor object standing for an input that requires grad, connected to it, so
    that derivatives w.r.t. it see only the uses through `func`'s argument (not the same
    tensor captured by a closure)."""

    name = "AliasBackward0"

    def forward(self, x):
        return x

    def backward(self, g):
        return g


def _prepare(inputs, create_graph, need_graph):
    out = []
    for t in inputs:
        if create_graph and t.requires_grad:
            with enable_grad():
                out.append(_Alias.apply(t))
        else:
            out.append(t.detach().requires_grad_(need_graph))
    return tuple(out)


def _detach_results(res, create_graph):
    """Results without history unless the caller asked for a graph (nested tuples too)."""
    if create_graph:
        return res
    Tensor = _tensor_type()
    return tuple(r.detach() if isinstance(r, Tensor) else _detach_results(r, False) for r in res)


def _check_v(v, like, like_is_tuple):
    if len(v) != len(like):
        if like_is_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(like)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (a, b) in enumerate(zip(v, like)):
        if tuple(a.shape) != tuple(b.shape):
            where = f"Entry {i} in " if like_is_tuple else ""
            raise RuntimeError(
                f"{where}v has invalid size: should be {_size_repr(b)} but got {_size_repr(a)}."
            )


def _check_requires_grad(tensors, kind, strict):
    """strict mode: every output (or gradient, Jacobian, Hessian) must depend on the inputs."""
    if not strict:
        return
    for i, t in enumerate(tensors):
        if t is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode."
            )
        if t.requires_grad:
            continue
        if kind == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should "
                "ensure that your function is thrice differentiable and that the hessian "
                "depends on the inputs."
            )
        if kind == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example)."
            )
        if kind == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                "user-provided function. This is not allowed in strict mode."
            )
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs "
            "must be computed in a differentiable manner from the input when running in strict "
            "mode."
        )


def _grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """autograd.grad over the outputs that require grad (None per input when none does, or
    for an input they do not depend on)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return _autograd_grad([o for o, _ in pairs], list(inputs), [g for _, g in pairs],
                          retain_graph=retain_graph, create_graph=create_graph,
                          allow_unused=True)


_NONE_MESSAGES = {
    "back": lambda i: (
        f"The output of the user-provided function is independent of input {i}. This is not "
        "allowed in strict mode."
    ),
    "back_trick": lambda i: (
        f"The gradient with respect to the input is independent of entry {i} in the "
        "grad_outputs when using the double backward trick to compute forward mode gradients. "
        "This is not allowed in strict mode."
    ),
    "double_back": lambda i: (
        f"The jacobian of the user-provided function is independent of input {i}. This is not "
        "allowed in strict mode."
    ),
    "double_back_trick": lambda i: (
        f"The hessian of the user-provided function is independent of entry {i} in the "
        "grad_jacobian. This is not allowed in strict mode as it prevents from using the "
        "double backward trick to replace forward mode AD."
    ),
}


def _zeros_for_none(grads, refs, strict, create_graph, stage):
    """Zeros (of each ref's shape) for the gradients that are None; strict mode raises."""
    from ..creation import zeros_like

    out = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_NONE_MESSAGES[stage](i))
            g = zeros_like(ref)
        elif strict and create_graph and not g.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This "
                "is not allowed in strict mode when create_graph=True."
            )
        out.append(g)
    return tuple(out)


def _v_or_default(v, like, like_is_tuple, create_graph, api, message):
    if v is not None:
        _, v = _as_tuple(v, "v", api)
        v = _prepare(v, create_graph, need_graph=False)
        _check_v(v, like, like_is_tuple)
        return v
    if len(like) != 1 or like[0].numel() != 1:
        raise RuntimeError(message)
    return None


# ---------------------------------------------------------------- products


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T J)``: the vector-Jacobian product, one entry per input. `v` has
    the outputs' structure (optional for a single one-element output).

    Args:
        func: a function of the input Tensors returning a Tensor or a tuple of them.
        inputs: a Tensor or a tuple of them, the point at which it is taken.
        v: the vector, shaped as the outputs (a Tensor or tuple).
        create_graph: make the results differentiable (else they carry no history).
        strict: raise when an output does not depend on an input (else zeros).

    Returns:
        tuple: (func(*inputs), vjp), vjp shaped as the inputs.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "vjp")
        _check_requires_grad(outputs, "outputs", strict)
        v = _v_or_default(v, outputs, outputs_tuple, create_graph, "vjp",
                          "The vector v can only be None if the user-provided function returns "
                          "a single Tensor with a single element.")
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grads = _grad(outputs, inputs, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, "back")
    return (_unpack(_detach_results(outputs, create_graph), outputs_tuple),
            _unpack(_detach_results(result, create_graph), inputs_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), J v)``: the Jacobian-vector product, one entry per output. `v` has
    the inputs' structure (optional for a single one-element input).

    Args:
        func: a function of the input Tensors returning a Tensor or a tuple of them.
        inputs: a Tensor or a tuple of them, the point at which it is taken.
        v: the vector, shaped as the inputs (a Tensor or tuple).
        create_graph: make the results differentiable (else they carry no history).
        strict: raise when an output does not depend on an input (else zeros).

    Returns:
        tuple: (func(*inputs), jvp), jvp shaped as the outputs.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _v_or_default(v, inputs, inputs_tuple, create_graph, "jvp",
                          "The vector v can only be None if the input to the user-provided "
                          "function is a single Tensor with a single element.")
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "jvp")
        _check_requires_grad(outputs, "outputs", strict)
        # J^T u is linear in u: its value does not matter, only that it is finite
        us = tuple(_dummy_cotangent(o) for o in outputs)
        grad_inputs = _grad(outputs, inputs, us, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grads = _grad(grad_inputs, us, v, create_graph=create_graph)
        result = _zeros_for_none(grads, outputs, strict, create_graph, "back_trick")
    return (_unpack(_detach_results(outputs, create_graph), outputs_tuple),
            _unpack(_detach_results(result, create_graph), outputs_tuple))


def _dummy_cotangent(t):
    from ..creation import zeros_like

    return zeros_like(t, requires_grad=True)


def _scalar_output(func, inputs, strict, api):
    outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                       api)
    _check_requires_grad(outputs, "outputs", strict)
    if outputs_tuple:
        raise RuntimeError(f"The function given to {api} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {api} should contain a single element"
        )
    return outputs


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), v^T H)`` for a scalar `func`, one entry per input.

    Args:
        func: a function of the input Tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of them, the point at which it is taken.
        v: the vector, shaped as the inputs.
        create_graph: make the results differentiable (else they carry no history).
        strict: raise when an output does not depend on an input (else zeros).

    Returns:
        tuple: (func(*inputs), vhp), vhp shaped as the inputs.
    """
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vhp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _v_or_default(v, inputs, inputs_tuple, create_graph, "vhp",
                          "The vector v can only be None if the input to the user-provided "
                          "function is a single Tensor with a single element.")
        outputs = _scalar_output(func, inputs, strict, "vhp")
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grads = _grad(jac, inputs, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, "double_back")
    return (_detach_results(outputs, create_graph)[0],
            _unpack(_detach_results(result, create_graph), inputs_tuple))


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(*inputs), H v)`` for a scalar `func`, one entry per input (by the double
    backward trick on the gradient; equal to vhp for twice continuously differentiable
    functions, and slower).

    Args:
        func: a function of the input Tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of them, the point at which it is taken.
        v: the vector, shaped as the inputs.
        create_graph: make the results differentiable (else they carry no history).
        strict: raise when an output does not depend on an input (else zeros).

    Returns:
        tuple: (func(*inputs), hvp), hvp shaped as the inputs.
    """
    from ..creation import zeros_like

    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hvp")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        v = _v_or_default(v, inputs, inputs_tuple, create_graph, "hvp",
                          "The vector v can only be None if the input to the user-provided "
                          "function is a single Tensor with a single element.")
        outputs = _scalar_output(func, inputs, strict, "hvp")
        jac = _grad(outputs, inputs, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        grad_jac = tuple(zeros_like(t, requires_grad=True) for t in inputs)
        double_back = _grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict)
    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grads = _grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _zeros_for_none(grads, inputs, strict, create_graph, "double_back_trick")
    return (_detach_results(outputs, create_graph)[0],
            _unpack(_detach_results(result, create_graph), inputs_tuple))


# ---------------------------------------------------------------- Jacobian and Hessian


def _one_hot(t, k):
    from ..tensor import _wrap

    e = t._xp().zeros(t._data.size, t._data.dtype)
    e[k] = 1
    return _wrap(e.reshape(t._data.shape))


def _stacked(parts, lead, tail, like, dim):
    """`parts` stacked along `dim` (0: rows, -1: columns) into lead + tail, zeros if empty."""
    from ..creation import zeros
    from ..ops.shape import reshape, stack

    shape = tuple(lead) + tuple(tail)
    if not parts:
        return zeros(shape, dtype=like.dtype, device=like.device)
    return reshape(stack(parts, dim), shape)


def _check_strategy(strategy):
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more '
            'performant. Otherwise, prefer to use "reverse-mode".'
        )


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False,
             strategy="reverse-mode"):
    """The Jacobian of `func` at `inputs`: a Tensor of shape ``out.shape + in.shape``, nested
    as ``jac[i][j]`` (output i, input j) where `func` returns a tuple or `inputs` is one.
    Reverse mode costs one backward per output element; ``strategy="forward-mode"`` (with
    ``vectorize=True``, as PyTorch requires) one double-backward jvp per input element.

    Args:
        func: a function of the input Tensors returning a Tensor or a tuple of them.
        inputs: a Tensor or a tuple of them, the point at which it is taken.
        create_graph: make the results differentiable (else they carry no history).
        strict: raise when an output does not depend on an input (else zeros).
        vectorize: accepted (no vmap here: the same values); required by forward-mode.
        strategy: ``"reverse-mode"`` or ``"forward-mode"``.

    Returns:
        Tensor or nested tuple: the Jacobian.
    """
    _check_strategy(strategy)
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either '
                'set `create_graph=False` or `strategy="reverse-mode"`.'
            )
        return _jacobian_forward(func, inputs, strict, vectorize)
    with enable_grad():
        inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare(inputs, create_graph, need_graph=True)
        outputs_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                           "jacobian")
        _check_requires_grad(outputs, "outputs", strict)
        if vectorize and strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are "
                "not supported together. Please either set `strict=False` or "
                "`vectorize=False`."
            )
        jac = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            for k in range(out.numel()):
                grads = _grad((out,), inputs, (_one_hot(out, k),), create_graph=create_graph,
                              retain_graph=True)
                for j, (g, x) in enumerate(zip(grads, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {j}. This is not allowed in strict mode."
                            )
                        g = _zeros_of(x)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            "The jacobian of the user-provided function is independent of "
                            f"input {i}. This is not allowed in strict mode when "
                            "create_graph=True."
                        )
                    rows[j].append(g)
            jac.append(tuple(_stacked(r, out.shape, x.shape, x, 0) for r, x in zip(rows, inputs)))
        jac = _detach_results(tuple(jac), create_graph)
        return _unpack2(jac, outputs_tuple, inputs_tuple)


def _zeros_of(t):
    from ..creation import zeros_like

    return zeros_like(t)


def _jacobian_forward(func, inputs, strict, vectorize):
    if strict:
        raise RuntimeError(
            "torch.autograd.functional.jacobian: `strict=True` and `strategy=\"forward-mode\"` "
            "are not supported together (yet). Please either set `strict=False` or "
            "`strategy=\"reverse-mode\"`."
        )
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
    if not vectorize:
        raise NotImplementedError(
            "Computing Jacobian using forward-AD or forward-over-reverse Hessian is only "
            "implemented for `vectorize=True`."
        )
    with enable_grad():
        # inputs that require grad stay connected: the outer level of a forward-over-reverse
        # Hessian differentiates through them
        prepared = tuple(t if t.requires_grad else t.detach().requires_grad_(True) for t in inputs)
        outputs_tuple, outputs = _as_tuple(func(*prepared), "outputs", "jacobian")
        us = tuple(_dummy_cotangent(o) for o in outputs)
        grad_inputs = _grad(outputs, prepared, us, create_graph=True)
    pairs = [(g, j) for j, g in enumerate(grad_inputs) if g is not None and g.requires_grad]
    cols = [[[] for _ in inputs] for _ in outputs]  # [output i][input j] -> columns
    for j, x in enumerate(inputs):
        for k in range(x.numel()):
            live = [g for g, jj in pairs if jj == j]
            jv = _grad(live, us, [_one_hot(x, k)] * len(live), retain_graph=True) if live \
                else (None,) * len(outputs)
            for i, (g, out) in enumerate(zip(jv, outputs)):
                cols[i][j].append(_zeros_of(out) if g is None else g)
    # lists, as PyTorch's forward-mode path returns them (where a tuple is not unpacked)
    jac = [
        [_stacked(cols[i][j], out.shape, x.shape, out, -1).detach() for j, x in enumerate(inputs)]
        for i, out in enumerate(outputs)
    ]
    return _unpack2(jac, outputs_tuple, inputs_tuple)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """The Hessian of a scalar `func`: shape ``in.shape + in.shape``, nested as ``H[i][j]``
    when `inputs` is a tuple. The Jacobian of the gradient (``outer_jacobian_strategy`` picks
    how the outer one is taken).

    Args:
        func: a function of the input Tensors returning a one-element Tensor.
        inputs: a Tensor or a tuple of them, the point at which it is taken.
        create_graph: make the results differentiable (else they carry no history).
        strict: raise when an output does not depend on an input (else zeros).
        vectorize: accepted (no vmap here: the same values).
        outer_jacobian_strategy: ``"reverse-mode"`` or ``"forward-mode"``.

    Returns:
        Tensor or nested tuple: the Hessian.
    """
    inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')

    def scalar_func(*inp):
        out = func(*inp)
        is_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(outs, "outputs", strict)
        if is_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        return out.squeeze()

    def gradient(*inp):
        jac = jacobian(scalar_func, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict)
        return jac

    res = jacobian(gradient, inputs, create_graph=create_graph, strict=strict,
                   vectorize=vectorize, strategy=outer_jacobian_strategy)
    return _unpack2(res, inputs_tuple, inputs_tuple)
