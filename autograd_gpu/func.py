"""Node transforms in the style of ``torch.func`` (and JAX where torch.func has no word):
``grad``, ``grad_and_value``, ``value_and_grad``, ``vjp``, ``jvp``, ``jacrev``, ``jacfwd``
(alias ``jacobian``) and ``hessian``.

    from autograd_gpu.func import grad
    d2 = grad(grad(lambda x: (x ** 3).sum()))   # x -> 6x, summed: needs a scalar
    d2(autograd_gpu.tensor(2.0))               # tensor(12.)

How it works: every differentiated input is replaced by a fresh alias that shares its data. An
input that no graph tracks becomes a new leaf that requires grad; an input that is already part
of a graph (an outer transform's alias, or a caller's parameter) becomes the output of an
identity node, so gradients w.r.t. the alias count only the paths through this call's argument
and never those through a closure (no "perturbation confusion"), while the result stays
differentiable for the outer level. The derivative itself is the engine's ``autograd.grad``:
with ``create_graph=True`` when anything outside this call is tracked (nested transforms, or
parameters that require grad), so transforms compose to any order; plain, graph-free results
otherwise. The caller's tensors are never changed: no ``.grad`` is written and
``requires_grad`` stays as it was.

Inputs and outputs may be Tensors or nested tuples / lists / dicts of Tensors (pytrees).
"""
import functools

from .autograd import grad as _autograd_grad
from .autograd.node import AccumulateGrad, Node
from .autograd.grad_mode import enable_grad
from .tensor import Tensor, _wrap

__all__ = [
    "grad", "grad_and_value", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "jacobian",
    "hessian", "tree_flatten", "tree_unflatten",
]


# ---------------------------------------------------------------- pytrees


class _Leaf:
    """Marks a leaf's place in a tree spec."""

    __slots__ = ()

    def __repr__(self):
        return "*"


_LEAF = _Leaf()


def tree_flatten(tree):
    """``(leaves, spec)``: the Tensors (and other non-container values) of a nested
    tuple / list / dict, depth first, dict entries in insertion order.

    Args:
        tree: a Tensor, or a nested tuple / list / dict (namedtuples too) of them.

    Returns:
        tuple: (leaves, spec): the list of leaves and the structure, for tree_unflatten.
    """
    leaves = []

    def spec_of(node):
        if isinstance(node, (tuple, list)):
            return (type(node), tuple(spec_of(c) for c in node))
        if isinstance(node, dict):
            return (dict, tuple((k, spec_of(v)) for k, v in node.items()))
        leaves.append(node)
        return _LEAF

    return leaves, spec_of(tree)


def tree_unflatten(leaves, spec):
    """Rebuilds the structure `spec` (from tree_flatten) around `leaves`.

    Args:
        leaves: the leaves, in tree_flatten's order.
        spec: the structure tree_flatten returned.

    Returns:
        The nested tuple / list / dict holding the leaves.
    """
    it = iter(leaves)

    def build(s):
        if s is _LEAF:
            return next(it)
        kind, children = s
        if kind is dict:
            return {k: build(c) for k, c in children}
        items = [build(c) for c in children]
        if kind is list:
            return items
        if kind is tuple:
            return tuple(items)
        return kind(*items)  # namedtuple

    return build(spec)


def _map(fn, tree):
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([fn(x) for x in leaves], spec)


# ---------------------------------------------------------------- aliases of the inputs


class _Alias(Node):
    """Identity on a tracked input: a node of its own, so that gradients taken w.r.t. it
    flow only through this use of the input."""

    name = "AliasBackward0"

    def forward(self, x):
        return x

    def backward(self, g):
        return g


def _alias(x, api, where):
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{api}: expected {where} to be a Tensor or a (nested) tuple / list / dict of "
            f"Tensors, got {type(x).__name__}. Pass it as a Tensor, or move it out of argnums "
            "(non-differentiated arguments may be anything)."
        )
    if x._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"{api}: {where} has dtype {x.dtype}; only Tensors of floating point dtype can be "
            "differentiated (convert it with .double() or .float() first)"
        )
    if x._requires_grad:
        with enable_grad():
            return _Alias.apply(x)
    t = _wrap(x._data, None, True)
    t._version = x._version  # a detached alias: same data, same version counter
    return t


def _argnums_tuple(argnums, nargs, api):
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)
    if not nums:
        raise RuntimeError(f"{api}: argnums must be non-empty")
    out = []
    for n in nums:
        if not isinstance(n, int):
            raise RuntimeError(f"{api}: argnums must be an int or a tuple of ints, got {argnums!r}")
        k = n + nargs if n < 0 else n
        if not 0 <= k < nargs:
            raise RuntimeError(
                f"{api}: Got argnums={argnums!r}, but only {nargs} positional inputs were given"
            )
        out.append(k)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{api}: argnums must not contain duplicates, got {argnums!r}")
    return single, tuple(out)


class _Prepared:
    """The call's arguments with the differentiated ones replaced by aliases."""

    def __init__(self, args, argnums, api):
        self.single, self.nums = _argnums_tuple(argnums, len(args), api)
        args = list(args)
        self.specs = []
        self.leaves = []  # per argnum: list of alias tensors
        for n in self.nums:
            leaves, spec = tree_flatten(args[n])
            aliases = [_alias(x, api, f"argument {n}") for x in leaves]
            args[n] = tree_unflatten(aliases, spec)
            self.specs.append(spec)
            self.leaves.append(aliases)
        self.args = args
        self.flat = [t for group in self.leaves for t in group]
        # leaves created here: reaching any other leaf that requires grad means the
        # computation is tracked from outside (outer transform or caller's parameters)
        self.own = {id(t) for t in self.flat if t._grad_fn is None}

    def unflatten(self, flat_grads):
        """Per argnum, the grads in the argument's structure; one tree if argnums was an int."""
        out = []
        i = 0
        for spec, group in zip(self.specs, self.leaves):
            out.append(tree_unflatten(flat_grads[i:i + len(group)], spec))
            i += len(group)
        return out[0] if self.single else tuple(out)


def _tracked_outside(outputs, prepared):
    """True when the outputs' graph reaches something this call did not create: a leaf that
    requires grad, or an alias of an input that was already tracked."""
    if any(t._grad_fn is not None for t in prepared.flat):
        return True
    own = prepared.own
    seen = set()
    stack = [t._grad_fn for t in outputs if isinstance(t, Tensor) and t._grad_fn is not None]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if type(node) is AccumulateGrad:
            var = node.variable  # None: a leaf nobody holds, which no one can differentiate
            if var is not None and id(var) not in own:
                return True
            continue
        for fn, _ in node.next_functions:
            if fn is not None and fn not in seen:
                stack.append(fn)
    # an output that is a caller's tracked tensor itself (f returned a closure variable)
    return any(isinstance(t, Tensor) and t._requires_grad and t._grad_fn is None
               and id(t) not in own for t in outputs)


def _zeros_like(t):
    return _wrap(t._xp().zeros(t._data.shape, t._data.dtype))


def _plain(tree):
    """Detaches the Tensors of a result tree (results of an untracked computation)."""
    return _map(lambda t: t.detach() if isinstance(t, Tensor) else t, tree)


def _grads(outputs, prepared, grad_outputs=None, create_graph=False, retain_graph=None):
    """d outputs / d aliases, zeros for aliases the outputs do not depend on."""
    live = [i for i, o in enumerate(outputs) if o._requires_grad]
    if not live:
        return [_zeros_like(t) for t in prepared.flat]
    outs = [outputs[i] for i in live]
    gos = None if grad_outputs is None else [grad_outputs[i] for i in live]
    with enable_grad():
        gs = _autograd_grad(outs, prepared.flat, grad_outputs=gos, retain_graph=retain_graph,
                            create_graph=create_graph, allow_unused=True)
    return [_zeros_like(t) if g is None else g for g, t in zip(gs, prepared.flat)]


def _call(f, prepared, kwargs):
    with enable_grad():
        return f(*prepared.args, **kwargs)


def _split_aux(result, has_aux, api):
    if not has_aux:
        return result, None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise RuntimeError(
            f"{api}(f, has_aux=True): f must return a pair (output, aux), got "
            f"{type(result).__name__}"
        )
    return result[0], result[1]


# ---------------------------------------------------------------- grad


def grad_and_value(func, argnums=0, has_aux=False):
    """``grad_and_value(f)(*args)`` is ``(gradient, f(*args))`` (with ``has_aux``:
    ``(gradient, (value, aux))``). `f` must return a one-element Tensor.

    Args:
        func: the function; it returns a one-element Tensor (or ``(output, aux)``).
        argnums: the positional argument to differentiate (an int), or a tuple of them.
        has_aux: func returns ``(output, aux)``; aux is passed through.

    Returns:
        A function of func's arguments returning ``(gradient, value)``, the gradient in the
        structure of the differentiated argument (a tuple of them for a tuple argnums).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        p = _Prepared(args, argnums, "grad_and_value")
        result = _call(func, p, kwargs)
        out, aux = _split_aux(result, has_aux, "grad_and_value")
        if not isinstance(out, Tensor):
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a Tensor, got "
                f"{type(out).__name__}"
            )
        if out._data.size != 1:
            raise RuntimeError(
                "grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, got "
                f"tensor with {out._data.ndim} dims and shape {tuple(out._data.shape)}. Maybe "
                "you wanted to use the vjp or jacrev APIs instead?"
            )
        tracked = _tracked_outside([out], p)
        g = p.unflatten(_grads([out], p, create_graph=tracked))
        if not tracked:
            out = out.detach()
            aux = _plain(aux)
        return (g, (out, aux)) if has_aux else (g, out)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a scalar function: ``grad(f)(x)`` is df/dx, with x's structure.

    ``argnums`` (int or tuple of ints) picks the positional arguments to differentiate; with
    ``has_aux=True`` f returns ``(output, aux)`` and ``grad(f)(x)`` is ``(gradient, aux)``.
    Composes: ``grad(grad(f))`` is the second derivative.

    Args:
        func: the function; it returns a one-element Tensor (or ``(output, aux)``).
        argnums: the positional argument to differentiate (an int), or a tuple of them.
        has_aux: func returns ``(output, aux)``; aux is passed through.

    Returns:
        A function of func's arguments returning the gradient (``(gradient, aux)`` with
        has_aux), in the structure of the differentiated argument (a tuple of them for a
        tuple argnums). The caller's tensors get no ``.grad``.

    Examples:
        >>> import autograd_gpu as torch
        >>> from autograd_gpu.func import grad
        >>> grad(lambda x: (x ** 2).sum())(torch.tensor([1.0, 2.0]))
        tensor([2., 4.])
        >>> grad(grad(lambda x: x ** 3))(torch.tensor(2.0))
        tensor(12.)
        >>> grad(lambda x, y: (x * y).sum(), argnums=(0, 1))(
        ...     torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
        (tensor([3., 4.]), tensor([1., 2.]))
        >>> grad(lambda x: ((x ** 2).sum(), x.mean()), has_aux=True)(torch.tensor([1.0, 2.0]))
        (tensor([2., 4.]), tensor(1.5000))
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def value_and_grad(func, argnums=0, has_aux=False):
    """JAX's order: ``value_and_grad(f)(x)`` is ``(f(x), gradient)`` (with ``has_aux``:
    ``((value, aux), gradient)``).

    Args:
        func: the function; it returns a one-element Tensor (or ``(output, aux)``).
        argnums: the positional argument to differentiate (an int), or a tuple of them.
        has_aux: func returns ``(output, aux)``; aux is passed through.

    Returns:
        A function of func's arguments returning ``(value, gradient)``.
    """
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        g, value = gv(*args, **kwargs)
        return value, g

    return wrapper


# ---------------------------------------------------------------- vjp / jvp


def _check_outputs(out, api):
    leaves, spec = tree_flatten(out)
    for x in leaves:
        if not isinstance(x, Tensor):
            raise RuntimeError(
                f"{api}(f, ...): Expected f to be a function that has only Tensors (or nested "
                f"tuples / lists / dicts of Tensors) as outputs, got {type(x).__name__}"
            )
    return leaves, spec


def _cotangent_leaves(ct, spec, outs, api):
    leaves, cspec = tree_flatten(ct)
    if cspec != spec:
        raise RuntimeError(
            f"{api}: Expected pytree structure of cotangents to be the same as pytree structure "
            f"of outputs to the function (outputs {spec}, cotangents {cspec})"
        )
    for i, (c, o) in enumerate(zip(leaves, outs)):
        if not isinstance(c, Tensor):
            raise RuntimeError(f"{api}: cotangent {i} is a {type(c).__name__}, expected a Tensor")
        if c._data.shape != o._data.shape:
            raise RuntimeError(
                f"{api}: Mismatch in shape: cotangent {i} has a shape of {tuple(c._data.shape)} "
                f"and output {i} has a shape of {tuple(o._data.shape)}"
            )
    return leaves


def _vjp(func, primals, has_aux, api, force_graph=False, kwargs=None):
    p = _Prepared(primals, tuple(range(len(primals))), api)
    result = _call(func, p, kwargs or {})
    out, aux = _split_aux(result, has_aux, api)
    outs, spec = _check_outputs(out, api)
    tracked = force_graph or _tracked_outside(outs, p)

    def vjp_fn(cotangents):
        cts = _cotangent_leaves(cotangents, spec, outs, api)
        graph = tracked or any(c._requires_grad for c in cts)
        flat = _grads(outs, p, grad_outputs=cts, create_graph=graph, retain_graph=True)
        return p.unflatten(flat)

    if not tracked:
        out = _plain(out)
        aux = _plain(aux)
    return out, vjp_fn, aux, p, outs, spec


def vjp(func, *primals, has_aux=False):
    """``out, vjp_fn = vjp(f, *primals)``: ``vjp_fn(v)`` is the vector-Jacobian product
    v^T J, one entry per primal (a tuple). `v` has the structure of `out`. ``vjp_fn`` may
    be called any number of times. With ``has_aux``: ``(out, vjp_fn, aux)``.

    Args:
        func: the function of the primals; it returns a Tensor or a pytree of them (or
            ``(output, aux)``).
        primals: the arguments of func at which the Jacobian is taken.
        has_aux: func returns ``(output, aux)``.

    Returns:
        tuple: ``(out, vjp_fn)`` (``(out, vjp_fn, aux)`` with has_aux).
    """
    out, vjp_fn, aux, _, _, _ = _vjp(func, primals, has_aux, "vjp")
    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _tangent_leaves(tangents, p, api):
    t_leaves, tspec = tree_flatten(tuple(tangents))
    pspec = (tuple, tuple(p.specs))
    if tspec != pspec:
        raise RuntimeError(
            f"{api}: Expected primals and tangents to have the same python structure "
            f"(primals {pspec}, tangents {tspec})"
        )
    for i, (t, x) in enumerate(zip(t_leaves, p.flat)):
        if not isinstance(t, Tensor):
            raise RuntimeError(f"{api}: tangent {i} is a {type(t).__name__}, expected a Tensor")
        if t._data.shape != x._data.shape:
            raise RuntimeError(
                f"{api}: Expected primals and tangents to have the same shape, but tangent {i} "
                f"has shape {tuple(t._data.shape)} and primal {i} {tuple(x._data.shape)}"
            )
    return t_leaves


class _Linearized:
    """J^T u for dummy cotangents u (graph kept): J v is then d<J^T u, v>/du, the
    double-vjp construction of forward mode (exact, since J^T u is linear in u)."""

    def __init__(self, func, primals, has_aux, api, kwargs=None):
        out, _, aux, p, outs, spec = _vjp(func, primals, has_aux, api, force_graph=True,
                                          kwargs=kwargs)
        self.p, self.outs, self.spec = p, outs, spec
        self.tracked = _tracked_outside(outs, p)
        self.out = out if self.tracked else _plain(out)
        self.aux = aux if self.tracked else _plain(aux)
        self.us = [_wrap(o._xp().zeros(o._data.shape, o._data.dtype), None, True) for o in outs]
        self.vjp = _grads(outs, p, grad_outputs=self.us, create_graph=True, retain_graph=True)

    def jvp(self, tangent_leaves):
        """J v for tangents given per flat primal leaf; one Tensor per output leaf."""
        pairs = [(g, v) for g, v in zip(self.vjp, tangent_leaves) if g._requires_grad]
        if not pairs:
            return [_zeros_like(o) for o in self.outs]
        with enable_grad():
            gs = _autograd_grad([g for g, _ in pairs], self.us, grad_outputs=[v for _, v in pairs],
                                retain_graph=True, create_graph=self.tracked, allow_unused=True)
        return [_zeros_like(o) if g is None else g for g, o in zip(gs, self.outs)]


def jvp(func, primals, tangents, *, has_aux=False):
    """``out, jvp_out = jvp(f, primals, tangents)``: the Jacobian-vector product J v.

    `primals` and `tangents` are tuples with one entry per argument of f. Computed by the
    double-vjp construction (two reverse passes: v -> d<J^T u, v>/du), which gives forward-
    mode results for every op that has a differentiable backward. With ``has_aux``:
    ``(out, jvp_out, aux)``.

    Args:
        func: the function; it returns a Tensor or a pytree of them (or ``(output, aux)``).
        primals: a tuple, the arguments of func.
        tangents: a tuple, one tangent per primal (same structure and shapes).
        has_aux: func returns ``(output, aux)``.

    Returns:
        tuple: ``(out, jvp_out)``, jvp_out in out's structure (``(out, jvp_out, aux)`` with
        has_aux).
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise RuntimeError(
            "jvp(f, primals, tangents): Expected primals and tangents to be tuples, e.g. "
            "jvp(f, (x,), (v,))"
        )
    lin = _Linearized(func, tuple(primals), has_aux, "jvp")
    t_leaves = _tangent_leaves(tangents, lin.p, "jvp")
    jv = tree_unflatten(lin.jvp(t_leaves), lin.spec)
    return (lin.out, jv, lin.aux) if has_aux else (lin.out, jv)


# ---------------------------------------------------------------- Jacobians


def _one_hot(x, i):
    xp = x._xp()
    e = xp.zeros(x._data.size, x._data.dtype)
    e[i] = 1
    return _wrap(e.reshape(x._data.shape))


def _stack_rows(rows, lead_shape, tail_shape):
    """Rows (each of tail_shape) stacked into a Tensor of lead_shape + tail_shape."""
    from .ops.shape import reshape, stack

    return reshape(stack(rows, 0), tuple(lead_shape) + tuple(tail_shape))


def _stack_cols(cols, lead_shape, tail_shape):
    from .ops.shape import reshape, stack

    return reshape(stack(cols, -1), tuple(lead_shape) + tuple(tail_shape))


def _zeros_shape(like, shape):
    return _wrap(like._xp().zeros(tuple(shape), like._data.dtype))


def _assemble(per_out, p, outs, out_spec):
    """per_out[j][k]: the Jacobian of output leaf j w.r.t. flat input leaf k; returns the
    nested structure out_spec -> (argnums) -> input structure."""
    return tree_unflatten([p.unflatten(row) for row in per_out], out_spec)


def jacrev(func, argnums=0, *, has_aux=False):
    """The Jacobian by reverse mode, one vjp per output element: ``jacrev(f)(x)`` has shape
    ``out.shape + x.shape`` (nested as outputs -> argnums -> inputs for pytrees).

    Args:
        func: the function; it returns a Tensor or a pytree of them (or ``(output, aux)``).
        argnums: the positional argument to differentiate (an int), or a tuple of them.
        has_aux: func returns ``(output, aux)``.

    Returns:
        A function of func's arguments returning the Jacobian (``(jacobian, aux)`` with
        has_aux).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        p = _Prepared(args, argnums, "jacrev")
        result = _call(func, p, kwargs)
        out, aux = _split_aux(result, has_aux, "jacrev")
        outs, spec = _check_outputs(out, "jacrev")
        tracked = _tracked_outside(outs, p)
        per_out = []
        for o in outs:
            n = o._data.size
            if n == 0 or not o._requires_grad:
                per_out.append([_zeros_shape(x, o._data.shape + x._data.shape) for x in p.flat])
                continue
            rows = [[] for _ in p.flat]
            for i in range(n):
                gs = _grads([o], p, grad_outputs=[_one_hot(o, i)], create_graph=tracked,
                            retain_graph=True)
                for k, g in enumerate(gs):
                    rows[k].append(g)
            per_out.append([
                _stack_rows(r, o._data.shape, x._data.shape) for r, x in zip(rows, p.flat)
            ])
        jac = _assemble(per_out, p, outs, spec)
        if not tracked:
            jac = _plain(jac)
            aux = _plain(aux)
        return (jac, aux) if has_aux else jac

    return wrapper


def jacfwd(func, argnums=0, *, has_aux=False):
    """The Jacobian by forward mode (double-vjp jvps), one jvp per input element; same
    layout as jacrev: ``out.shape + x.shape``. Cheaper than jacrev when inputs are few.

    Args:
        func: the function; it returns a Tensor or a pytree of them (or ``(output, aux)``).
        argnums: the positional argument to differentiate (an int), or a tuple of them.
        has_aux: func returns ``(output, aux)``.

    Returns:
        A function of func's arguments returning the Jacobian (``(jacobian, aux)`` with
        has_aux).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        single, nums = _argnums_tuple(argnums, len(args), "jacfwd")
        # only the argnums are linearized; the others are passed through a closure
        def restricted(*diff):
            full = list(args)
            for n, d in zip(nums, diff):
                full[n] = d
            return func(*full, **kwargs)

        lin = _Linearized(restricted, tuple(args[n] for n in nums), has_aux, "jacfwd")
        p, outs = lin.p, lin.outs
        cols = [[[] for _ in p.flat] for _ in outs]  # [out j][in k] -> columns
        for k, x in enumerate(p.flat):
            for i in range(x._data.size):
                tangents = [_one_hot(x, i) if kk == k else _zeros_like(xx)
                            for kk, xx in enumerate(p.flat)]
                for j, jv in enumerate(lin.jvp(tangents)):
                    cols[j][k].append(jv)
        per_out = []
        for j, o in enumerate(outs):
            row = []
            for k, x in enumerate(p.flat):
                if x._data.size == 0:
                    row.append(_zeros_shape(o, o._data.shape + x._data.shape))
                else:
                    row.append(_stack_cols(cols[j][k], o._data.shape, x._data.shape))
            per_out.append(row)
        # p was prepared with argnums = all of `restricted`'s arguments
        p.single = single
        jac = tree_unflatten([p.unflatten(r) for r in per_out], lin.spec)
        if not lin.tracked:
            jac = _plain(jac)
        return (jac, lin.aux) if has_aux else jac

    return wrapper


jacobian = jacfwd


def hessian(func, argnums=0):
    """The Hessian of a scalar function: ``hessian(f)(x)`` has shape ``x.shape + x.shape``.
    Computed as jacrev(jacrev(f)): one gradient with its graph kept, then one second-order
    reverse pass per input element (cheaper here than torch.func's jacfwd(jacrev(f)) on top
    of double-vjp forward mode; the values are the same).

    Args:
        func: the scalar function.
        argnums: the positional argument to differentiate (an int), or a tuple of them.

    Returns:
        A function of func's arguments returning the Hessian.
    """
    return jacrev(jacrev(func, argnums), argnums)


# ---------------------------------------------------------------- vmap


def _fn_name(func):
    return getattr(func, "__name__", type(func).__name__)


def _broadcast_dims(in_dims, args, api):
    """One in_dim per leaf of `args`: an int or None for all, or a tree matching args'
    structure (a leaf of in_dims may stand for a whole subtree)."""
    if isinstance(in_dims, int) and not isinstance(in_dims, bool):
        return [in_dims] * len(tree_flatten(args)[0])
    if not isinstance(in_dims, (tuple, list)):
        raise ValueError(
            f"{api}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
            f"structure of inputs, got: {type(in_dims)}.")
    if len(in_dims) != len(args):
        raise ValueError(
            f"{api}: in_dims is not compatible with the structure of `inputs`. in_dims has "
            f"{len(in_dims)} entries but inputs has {len(args)}.")
    dims = []

    def walk(d, a):
        if d is None or (isinstance(d, int) and not isinstance(d, bool)):
            dims.extend([d] * len(tree_flatten(a)[0]))
        elif isinstance(d, (tuple, list)) and isinstance(a, (tuple, list)) and len(d) == len(a):
            for dd, aa in zip(d, a):
                walk(dd, aa)
        elif isinstance(d, dict) and isinstance(a, dict) and d.keys() == a.keys():
            for k in a:
                walk(d[k], a[k])
        else:
            raise ValueError(f"{api}: in_dims is not compatible with the structure of `inputs`.")

    for d, a in zip(in_dims, args):
        walk(d, a)
    return dims


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a dimension of its inputs, as torch.func.vmap: ``in_dims`` says
    which dim of each input is mapped (None: passed whole to every call), ``out_dims`` where
    the mapped dim goes in each output (None: an output that does not vary, taken from the
    first call). Inputs and outputs may be pytrees.

    It runs ``func`` once per index of the mapped dim, on that slice, and stacks the results:
    the semantics of vmap for any function (nested vmaps, grad inside or outside, in-place
    ops on the slices' copies), at the cost of one call per index instead of one batched
    call. The slices and the stack are differentiable ops, so vmap composes with grad and
    the other transforms. Random ops draw independently per index (torch's
    randomness='different'); randomness and chunk_size are accepted and not otherwise used.

    Args:
        func: the function of one example (its arguments without the mapped dim).
        in_dims: the mapped dim of every input (an int), None (not mapped), or a tuple
            (a pytree) with one entry per argument.
        out_dims: where the mapped dim goes in every output (an int), or one per output.
        randomness: ``"error"``, ``"different"`` or ``"same"`` (checked, not otherwise
            used).
        chunk_size: accepted, not used.

    Returns:
        A function of the batched arguments returning func's outputs stacked along
        out_dims.

    Examples:
        >>> import autograd_gpu as torch
        >>> from autograd_gpu.func import grad, vmap
        >>> vmap(torch.dot)(torch.ones(3, 2), torch.arange(6.0).reshape(3, 2))
        tensor([1., 5., 9.])
        >>> vmap(lambda x: x.sum(), in_dims=1)(torch.arange(6.0).reshape(2, 3))
        tensor([3., 5., 7.])
        >>> add_row = vmap(lambda a, b: a + b, in_dims=(0, None))
        >>> add_row(torch.ones(3, 2), torch.tensor([10.0, 20.0]))
        tensor([[11., 21.],
                [11., 21.],
                [11., 21.]])
        >>> vmap(grad(lambda x: (x ** 3).sum()))(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        tensor([[ 3., 12.],
                [27., 48.]])
    """
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        name = _fn_name(func)
        api = f"vmap({name}, in_dims={in_dims}, ...)(<inputs>)"
        leaves, spec = tree_flatten(args)
        dims = _broadcast_dims(in_dims, args, api)
        size = None
        sizes = []
        norm_dims = []
        for x, d in zip(leaves, dims):
            if d is None:
                norm_dims.append(None)
                continue
            if not isinstance(x, Tensor):
                raise ValueError(
                    f"{api}: Got in_dim={d} for an input but the input is of type "
                    f"{type(x)}. We cannot vmap over non-Tensor arguments, please use None "
                    "as the respective in_dim")
            nd = x.dim()
            if not -nd <= d < nd:
                raise ValueError(
                    f"{api}: Got in_dim={d} for some input, but that input is a Tensor of "
                    f"dimensionality {nd} so expected in_dim to satisfy -{nd} <= in_dim < {nd}.")
            d = d % nd
            norm_dims.append(d)
            sizes.append(x.shape[d])
        if not sizes:
            raise ValueError(
                f"{api}: at least one input must be batched (in_dims must not be all None, "
                "and a mapped input must be a Tensor)")
        if len(set(sizes)) != 1:
            raise ValueError(
                "vmap: Expected all tensors to have the same size in the mapped dimension, got "
                f"sizes {sizes} for the mapped dimension")
        size = sizes[0]
        results = []
        for i in range(size):
            sliced = [x if d is None else x.select(d, i) for x, d in zip(leaves, norm_dims)]
            results.append(func(*tree_unflatten(sliced, spec), **kwargs))
        return _stack_outputs(results, out_dims, name)

    return wrapper


def _stack_outputs(results, out_dims, name):
    out_leaves = [tree_flatten(r) for r in results]
    spec = out_leaves[0][1] if out_leaves else _LEAF
    n = len(out_leaves[0][0]) if out_leaves else 0
    if isinstance(out_dims, (tuple, list)):
        single = not isinstance(results[0], (tuple, list))
        odims = _broadcast_dims(out_dims, (results[0],) if single else results[0],
                                f"vmap({name}, ...)") if not single else list(out_dims)
    else:
        odims = [out_dims] * n
    if len(odims) != n:
        raise ValueError(f"vmap({name}, ...): out_dims is not compatible with the structure "
                         "of `outputs`")
    stacked = []
    for j in range(n):
        column = [leaves[j] for leaves, _ in out_leaves]
        od = odims[j]
        if od is None:
            stacked.append(column[0])
            continue
        if not isinstance(column[0], Tensor):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                f"{type(column[0])}. Did you mean to set out_dims= to None for output?")
        from .ops.shape import stack

        nd = column[0].dim() + 1
        stacked.append(stack(column, od % nd if -nd <= od < nd else _bad_out_dim(od, nd, name)))
    return tree_unflatten(stacked, spec)


def _bad_out_dim(od, nd, name):
    raise IndexError(f"vmap({name}, ...): Dimension out of range (expected to be in range of "
                     f"[{-nd}, {nd - 1}], but got {od})")


# ---------------------------------------------------------------- functional_call


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *,
                    tie_weights=True, strict=False):
    """Calls ``module(*args, **kwargs)`` with its parameters and buffers replaced, for this
    call only, by the tensors in ``parameter_and_buffer_dicts`` (one dict, or a tuple of
    dicts, keyed by dotted names as in ``state_dict``); gradients flow to those tensors.
    ``tie_weights``: a tensor registered under two names (tied weights) is replaced under
    both when one is given. ``strict``: every parameter and buffer must be given, and
    nothing else.

    Args:
        module: the Module to call.
        parameter_and_buffer_dicts: a dict (or a tuple of dicts) of dotted name -> tensor.
        args: the positional argument (a tuple of them, or one value) of the call.
        kwargs: the keyword arguments of the call (a dict).
        tie_weights: replace a tied tensor under all its names.
        strict: require exactly the module's parameters and buffers.

    Returns:
        What the module returns; its own parameters and buffers are restored after.
    """
    if isinstance(parameter_and_buffer_dicts, dict):
        given = dict(parameter_and_buffer_dicts)
    else:
        given = {}
        seen = set()
        dup = []
        for d in parameter_and_buffer_dicts:
            for k in d:
                if k in seen:
                    dup.append(k)
                seen.add(k)
            given.update(d)
        if dup:
            raise ValueError(f"{sorted(set(dup))} appeared in multiple dictionaries; behavior "
                             "of functional call is ambiguous")
    # every (owner module, store, local name) of every dotted name, duplicates included
    slots = {}
    for prefix, mod in module.named_modules(remove_duplicate=False):
        for store in ("_parameters", "_buffers"):
            for k, v in getattr(mod, store).items():
                if v is not None:
                    slots[prefix + ("." if prefix else "") + k] = (mod, store, k, v)
    if tie_weights:
        by_tensor = {}
        for name, (_, _, _, v) in slots.items():
            by_tensor.setdefault(id(v), []).append(name)
        for names in by_tensor.values():
            if len(names) < 2:
                continue
            vals = [given[n] for n in names if n in given]
            if len({id(v) for v in vals}) > 1:
                raise ValueError(
                    f"functional_call got multiple values for keys {sorted(n for n in names if n in given)}, "
                    "which are tied. Consider using tie_weights=False")
            if vals:
                for n in names:
                    given.setdefault(n, vals[0])
    if strict:
        missing = sorted(k for k in slots if k not in given)
        unexpected = sorted(k for k in given if k not in slots)
        if missing or unexpected:
            msg = ""
            if unexpected:
                msg += "\n\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + "."
            if missing:
                msg += "\n\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + "."
            raise RuntimeError(f"Error(s) in reparametrizing for {type(module).__name__}:{msg}")
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    swapped = []
    try:
        for name, value in given.items():
            if name in slots:
                mod, store, k, old = slots[name]
                getattr(mod, store)[k] = value
                swapped.append((mod, store, k, old))
        return module(*args, **(kwargs or {}))
    finally:
        for mod, store, k, old in reversed(swapped):
            getattr(mod, store)[k] = old


__all__ += ["vmap", "functional_call"]
