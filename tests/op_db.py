"""A table of differentiable op cases, in the spirit of PyTorch's OpInfo.

Each `OpCase` names one op (or one form of it: a keyword, the method form, a reflected Python
scalar) with
  - `op(M, *xs)`: the call, written once against a library namespace `M`, so the very same
    lambda runs on autograd_gpu and on PyTorch (the oracle). `M.F` is the functional namespace
    (torch.nn.functional for PyTorch, the package itself here);
  - `samples`: how to build inputs for each shape of GUIDE section 4, respecting the op's domain
    (log needs x > 0) and keeping clear of kinks (abs at 0, clamp at its bounds), so that
    central differences with eps=1e-6 see a smooth function;
  - flags for what a case supports (second order, the oracle, float32).
A sample may carry `views`: functions applied to the inputs inside the function under test, so
that the op sees a non-contiguous view (a transpose, a strided slice) while the leaves that
gradcheck perturbs stay contiguous.
"""
import zlib
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np


class Lib:
    """A library as the op lambdas see it: the module, plus `F` for the functional namespace."""

    def __init__(self, mod, F):
        self._mod, self.F = mod, F

    def __getattr__(self, name):
        return getattr(self._mod, name)


@dataclass
class Sample:
    arrays: tuple
    views: Optional[tuple] = None  # one callable (or None) per array
    desc: str = ""


@dataclass
class OpCase:
    name: str
    op: Callable
    samples: Callable  # rng -> list[Sample]
    gradgrad: bool = True
    oracle: bool = True
    f32: bool = False
    family: str = ""
    # oracle tolerances (float64); integer outputs such as indices are compared exactly
    rtol: float = 1e-7
    atol: float = 1e-9
    tags: tuple = field(default_factory=tuple)


# ---------------------------------------------------------------- value generators


def _away(x, kinks, gap):
    """Moves values within `gap` of a kink to the other side, further out."""
    for k in kinks:
        near = np.abs(x - k) < gap
        x = np.where(near, k + np.where(x >= k, gap, -gap) * 2, x)
    return x


def make_values(rng, shape, domain="real", kinks=()):
    if domain == "real":
        x = rng.uniform(-2.0, 2.0, shape)
    elif domain == "pos":
        x = rng.uniform(0.5, 2.0, shape)
    elif domain == "nonzero":
        x = rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    elif domain == "unit":  # inside (-1, 1), e.g. tan, or log1p
        x = rng.uniform(-0.8, 0.8, shape)
    else:
        raise ValueError(domain)
    x = _away(np.asarray(x, dtype=np.float64), kinks, 0.05)
    return np.array(x, dtype=np.float64, order="C")  # (ascontiguousarray would make () into (1,))


T = lambda x: x.T  # noqa: E731  a transposed (non-contiguous) view of a 2-D input
STRIDED = lambda x: x[::2]  # noqa: E731  a strided slice


def unary_samples(domain="real", kinks=(), shapes=None, noncontig=True, zero_size=True):
    """The GUIDE shapes for one input: (), (3,), (2,3), a 3-D batch, a zero-size array, and
    two non-contiguous views (a transpose and a strided slice)."""
    if shapes is None:
        shapes = [(), (3,), (2, 3), (2, 3, 4)]
        if zero_size:
            shapes = shapes + [(0, 3)]

    def gen(rng):
        out = [Sample((make_values(rng, s, domain, kinks),), desc=str(s)) for s in shapes]
        # the views have the shapes (2, 3) and (3,): only for ops that take those
        if noncontig and (2, 3) in shapes:
            out.append(Sample((make_values(rng, (3, 2), domain, kinks),), (T,), "(3,2).T"))
        if noncontig and (3,) in shapes:
            out.append(Sample((make_values(rng, (6,), domain, kinks),), (STRIDED,), "(6,)[::2]"))
        return out

    return gen


BINARY_SHAPES = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (2, 3)),
    ((1, 3), (2, 1)),
    ((), (2, 3)),
    ((2, 3, 4), (3, 4)),
    ((2, 1, 4), (3, 1)),
    ((0, 3), (3,)),
]


def binary_samples(domains=("real", "real"), shapes=BINARY_SHAPES, noncontig=True, kinks=((), ())):
    def gen(rng):
        out = []
        for sa, sb in shapes:
            out.append(Sample(
                (make_values(rng, sa, domains[0], kinks[0]), make_values(rng, sb, domains[1], kinks[1])),
                desc=f"{sa}|{sb}",
            ))
        if noncontig:
            out.append(Sample(
                (make_values(rng, (3, 2), domains[0], kinks[0]), make_values(rng, (3, 2), domains[1], kinks[1])),
                (T, T), "(3,2).T|(3,2).T",
            ))
            out.append(Sample(
                (make_values(rng, (6,), domains[0], kinks[0]), make_values(rng, (3,), domains[1], kinks[1])),
                (STRIDED, None), "(6,)[::2]|(3,)",
            ))
        return out

    return gen


def fixed_samples(*specs):
    """Samples from explicit (shapes, domain, views) specs."""

    def gen(rng):
        out = []
        for spec in specs:
            shapes, domain = spec[0], spec[1]
            views = spec[2] if len(spec) > 2 else None
            arrays = tuple(make_values(rng, s, domain) for s in shapes)
            desc = "|".join(str(s) for s in shapes) + (" (views)" if views else "")
            out.append(Sample(arrays, views, desc))
        return out

    return gen


def distinct_samples(shapes, views=None):
    """Inputs whose entries are pairwise at least 0.1 apart (max/min/sort-like ops have a
    kink wherever two entries tie)."""

    def gen(rng):
        out = []
        for s in shapes:
            n = int(np.prod(s)) if s else 1
            vals = rng.permutation(n) * 0.1 - 0.05 * n + rng.uniform(0, 0.01)
            out.append(Sample((vals.reshape(s).astype(np.float64),), desc=str(s)))
        if views:
            vals = rng.permutation(6) * 0.1 - 0.3
            out.append(Sample((vals.reshape(3, 2),), (T,), "(3,2).T"))
        return out

    return gen


def wellcond_samples(shapes, extra=()):
    """Square matrices far from singular: random plus 3 I (batched where the shape is)."""

    def gen(rng):
        out = []
        for spec in shapes:
            spec = spec if isinstance(spec[0], tuple) else (spec,)
            arrays = []
            for k, s in enumerate(spec):
                a = rng.uniform(-1, 1, s)
                if k == 0 and len(s) >= 2 and s[-1] == s[-2]:
                    a = a + 3 * np.eye(s[-1])
                arrays.append(np.array(a, order="C"))
            out.append(Sample(tuple(arrays), desc="|".join(str(s) for s in spec)))
        for arrays, views, desc in extra:
            out.append(Sample(tuple(a(rng) for a in arrays), views, desc))
        return out

    return gen


# ---------------------------------------------------------------- the table

OPS = []


def add(name, op, samples, family, **kw):
    OPS.append(OpCase(name, op, samples, family=family, **kw))


# --- arithmetic: + - * / ** and the reflected Python-scalar forms
A = "arith"
add("add", lambda M, a, b: M.add(a, b), binary_samples(), A, f32=True)
add("add_op", lambda M, a, b: a + b, binary_samples(), A)
add("add_method", lambda M, a, b: a.add(b), binary_samples(), A)
add("add_alpha", lambda M, a, b: M.add(a, b, alpha=2.5), binary_samples(), A)
add("add_scalar", lambda M, a: a + 2.5, unary_samples(), A)
add("radd_scalar", lambda M, a: 2.5 + a, unary_samples(), A)
add("sub", lambda M, a, b: M.sub(a, b), binary_samples(), A)
add("sub_op", lambda M, a, b: a - b, binary_samples(), A, f32=True)
add("sub_method", lambda M, a, b: a.sub(b), binary_samples(), A)
add("sub_alpha_scalar", lambda M, a: M.sub(a, 1.5, alpha=2), unary_samples(), A)
add("add_alpha_scalar", lambda M, a: a.add(1.5, alpha=-3), unary_samples(), A)
add("sub_scalar", lambda M, a: a - 2.5, unary_samples(), A)
add("rsub_scalar", lambda M, a: 2.5 - a, unary_samples(), A)
add("mul", lambda M, a, b: M.mul(a, b), binary_samples(), A)
add("mul_op", lambda M, a, b: a * b, binary_samples(), A, f32=True)
add("mul_method", lambda M, a, b: a.mul(b), binary_samples(), A)
add("mul_scalar", lambda M, a: a * 2.5, unary_samples(), A)
add("rmul_scalar", lambda M, a: 2.5 * a, unary_samples(), A)
add("mul_self", lambda M, a: a * a, unary_samples(), A)
add("div", lambda M, a, b: M.div(a, b), binary_samples(("real", "nonzero")), A)
add("div_op", lambda M, a, b: a / b, binary_samples(("real", "nonzero")), A, f32=True)
add("div_method", lambda M, a, b: a.div(b), binary_samples(("real", "nonzero")), A)
add("div_scalar", lambda M, a: a / 2.5, unary_samples(), A)
add("rdiv_scalar", lambda M, a: 2.5 / a, unary_samples("nonzero"), A)
add("pow", lambda M, a, b: M.pow(a, b), binary_samples(("pos", "real")), A, f32=True)
add("pow_op", lambda M, a, b: a ** b, binary_samples(("pos", "real")), A)
add("pow_method", lambda M, a, b: a.pow(b), binary_samples(("pos", "real")), A)
add("pow_scalar_2", lambda M, a: a ** 2, unary_samples(), A)
add("pow_scalar_2f", lambda M, a: a ** 2.0, unary_samples(), A)
add("pow_scalar_3", lambda M, a: a ** 3, unary_samples(), A)
add("pow_scalar_0", lambda M, a: a ** 0, unary_samples(), A)
add("pow_scalar_1", lambda M, a: a ** 1, unary_samples(), A)
add("pow_scalar_half", lambda M, a: a ** 0.5, unary_samples("pos"), A)
add("pow_scalar_neg", lambda M, a: a ** -1.5, unary_samples("pos"), A)
add("rpow_scalar", lambda M, a: 2.5 ** a, unary_samples(), A)
add("neg", lambda M, a: M.neg(a), unary_samples(), A)
add("neg_op", lambda M, a: -a, unary_samples(), A)
add("neg_method", lambda M, a: a.neg(), unary_samples(), A)

# --- elementwise math and activations
E = "elementwise"


def _unary(name, domain="real", kinks=(), method=True, f32=False, fname=None, F=False, **kw):
    fname = fname or name
    if F:
        add(name, lambda M, x: getattr(M.F, fname)(x), unary_samples(domain, kinks), E, f32=f32, **kw)
    else:
        add(name, lambda M, x: getattr(M, fname)(x), unary_samples(domain, kinks), E, f32=f32, **kw)
    if method:
        add(name + "_method", lambda M, x: getattr(x, fname)(), unary_samples(domain, kinks), E, **kw)


_unary("abs", kinks=(0,), f32=True)
add("abs_op", lambda M, x: abs(x), unary_samples(kinks=(0,)), E)
_unary("exp", f32=True)
_unary("log", "pos", f32=True)
_unary("log1p", "unit")
_unary("sqrt", "pos", f32=True)
_unary("sin", f32=True)
_unary("cos")
_unary("tan", "unit")
_unary("tanh", f32=True)
_unary("sigmoid", f32=True)
_unary("relu", kinks=(0,), f32=True)
add("leaky_relu", lambda M, x: M.F.leaky_relu(x), unary_samples(kinks=(0,)), E)
add("leaky_relu_slope", lambda M, x: M.F.leaky_relu(x, 0.2), unary_samples(kinks=(0,)), E)
add("elu", lambda M, x: M.F.elu(x), unary_samples(kinks=(0,)), E)
add("elu_alpha", lambda M, x: M.F.elu(x, alpha=0.5), unary_samples(kinks=(0,)), E)
add("silu", lambda M, x: M.F.silu(x), unary_samples(), E, f32=True)
add("softplus", lambda M, x: M.F.softplus(x), unary_samples(), E)
add("softplus_beta", lambda M, x: M.F.softplus(x, beta=2.0, threshold=3.0),
    unary_samples(kinks=(1.5,)), E)
add("gelu", lambda M, x: M.F.gelu(x), unary_samples(), E, f32=True)
add("gelu_tanh", lambda M, x: M.F.gelu(x, approximate="tanh"), unary_samples(), E)
add("clamp", lambda M, x: M.clamp(x, -0.5, 0.7), unary_samples(kinks=(-0.5, 0.7)), E, f32=True)
add("clamp_min", lambda M, x: M.clamp(x, min=-0.5), unary_samples(kinks=(-0.5,)), E)
add("clamp_max", lambda M, x: M.clamp(x, max=0.7), unary_samples(kinks=(0.7,)), E)
add("clamp_method", lambda M, x: x.clamp(-0.5, 0.7), unary_samples(kinks=(-0.5, 0.7)), E)
add("clip", lambda M, x: M.clip(x, -0.5, 0.7), unary_samples(kinks=(-0.5, 0.7)), E)
add("clip_method", lambda M, x: x.clip(min=-0.5, max=0.7), unary_samples(kinks=(-0.5, 0.7)), E)
add("clamp_tensor", lambda M, x, lo: M.clamp(x, min=lo), binary_samples(), E)
add("clamp_tensor_both", lambda M, x, lo: M.clamp(x, min=lo, max=lo + 1.0), binary_samples(), E)
add("maximum", lambda M, a, b: M.maximum(a, b), binary_samples(), E, f32=True)
add("maximum_method", lambda M, a, b: a.maximum(b), binary_samples(), E)
add("minimum", lambda M, a, b: M.minimum(a, b), binary_samples(), E)
add("minimum_method", lambda M, a, b: a.minimum(b), binary_samples(), E)
add("where", lambda M, a, b: M.where(a > 0.1, a, b), binary_samples(kinks=((0.1,), ())), E, f32=True)
add("where_bcast_cond", lambda M, a, b: M.where(b > 0, a, b * 2), binary_samples(kinks=((), (0,))), E)
add("where_scalar", lambda M, a: M.where(a > 0, a, 0.5), unary_samples(kinks=(0,)), E)
add("where_method", lambda M, a, b: a.where(a > 0.1, b), binary_samples(kinks=((0.1,), ())), E)

# --- reductions
R = "reduction"
add("sum", lambda M, x: M.sum(x), unary_samples(), R, f32=True)
add("sum_method", lambda M, x: x.sum(), unary_samples(), R)
add("sum_dim", lambda M, x: M.sum(x, dim=-1), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4), (0, 3)]), R)
add("sum_dim_keepdim", lambda M, x: x.sum(0, keepdim=True), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4), (0, 3)]), R)
add("sum_dims", lambda M, x: x.sum((0, 2)), unary_samples(shapes=[(2, 3, 4), (0, 3, 2)], noncontig=False), R)
add("mean", lambda M, x: M.mean(x), unary_samples(zero_size=False), R, f32=True)
add("mean_method", lambda M, x: x.mean(), unary_samples(zero_size=False), R)
add("mean_dim", lambda M, x: M.mean(x, dim=1), unary_samples(shapes=[(2, 3), (2, 3, 4), (0, 3)]), R)
add("mean_dim_keepdim", lambda M, x: x.mean((-1, 0), keepdim=True), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("var", lambda M, x: M.var(x), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4)]), R, f32=True)
add("var_method", lambda M, x: x.var(), unary_samples(shapes=[(3,), (2, 3)]), R)
add("var_dim", lambda M, x: M.var(x, dim=1, keepdim=True), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("var_unbiased_false", lambda M, x: M.var(x, unbiased=False), unary_samples(shapes=[(3,), (2, 3)]), R)
add("var_correction0", lambda M, x: M.var(x, 0, correction=0), unary_samples(shapes=[(3,), (2, 3)]), R)
add("std", lambda M, x: M.std(x), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4)]), R, f32=True)
add("std_method", lambda M, x: x.std(), unary_samples(shapes=[(3,), (2, 3)]), R)
add("std_dim", lambda M, x: M.std(x, dim=0), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("std_unbiased_false", lambda M, x: x.std(unbiased=False), unary_samples(shapes=[(3,), (2, 3)]), R)
add("prod", lambda M, x: M.prod(x), unary_samples("nonzero", zero_size=False), R, f32=True)
add("prod_method", lambda M, x: x.prod(), unary_samples("nonzero", zero_size=False), R)
add("prod_dim", lambda M, x: M.prod(x, 1), unary_samples("nonzero", shapes=[(2, 3), (2, 3, 4), (0, 3)]), R)
add("prod_dim_keepdim", lambda M, x: x.prod(0, keepdim=True), unary_samples("nonzero", shapes=[(3,), (2, 3), (2, 3, 4)]), R)
add("max", lambda M, x: M.max(x), distinct_samples([(), (3,), (2, 3), (2, 3, 4)], views=True), R, f32=True)
add("max_method", lambda M, x: x.max(), distinct_samples([(3,), (2, 3)], views=True), R)
add("min", lambda M, x: M.min(x), distinct_samples([(), (3,), (2, 3), (2, 3, 4)], views=True), R)
add("min_method", lambda M, x: x.min(), distinct_samples([(3,), (2, 3)], views=True), R)
add("max_dim", lambda M, x: M.max(x, dim=1), distinct_samples([(2, 3), (2, 3, 4)], views=True), R)
add("max_dim_keepdim", lambda M, x: x.max(0, keepdim=True), distinct_samples([(3,), (2, 3), (2, 3, 4)], views=True), R)
add("max_dim_values", lambda M, x: x.max(dim=-1).values, distinct_samples([(3,), (2, 3)], views=True), R)
add("min_dim", lambda M, x: M.min(x, dim=1), distinct_samples([(2, 3), (2, 3, 4)], views=True), R)
add("min_dim_keepdim", lambda M, x: x.min(-1, keepdim=True), distinct_samples([(3,), (2, 3)], views=True), R)
add("max_binary", lambda M, a, b: M.max(a, b), binary_samples(), R)
add("min_binary", lambda M, a, b: M.min(a, b), binary_samples(), R)
add("amax", lambda M, x: M.amax(x), distinct_samples([(), (3,), (2, 3), (2, 3, 4)], views=True), R)
add("amax_dim", lambda M, x: M.amax(x, dim=1, keepdim=True), distinct_samples([(2, 3), (2, 3, 4)], views=True), R)
add("amax_dims", lambda M, x: x.amax((0, 2)), distinct_samples([(2, 3, 4)]), R)
add("amin", lambda M, x: M.amin(x), distinct_samples([(), (3,), (2, 3), (2, 3, 4)], views=True), R)
add("amin_dim", lambda M, x: x.amin(0), distinct_samples([(3,), (2, 3), (2, 3, 4)], views=True), R)
add("logsumexp", lambda M, x: M.logsumexp(x, dim=-1), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4)]), R, f32=True)
add("logsumexp_keepdim", lambda M, x: x.logsumexp(0, keepdim=True), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4)]), R)
add("logsumexp_dims", lambda M, x: M.logsumexp(x, dim=(0, 1)), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("softmax", lambda M, x: M.softmax(x, dim=-1), unary_samples(), R, f32=True)
add("softmax_dim0", lambda M, x: x.softmax(0), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4), (0, 3)]), R)
add("softmax_F", lambda M, x: M.F.softmax(x, dim=1), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("log_softmax", lambda M, x: M.log_softmax(x, dim=-1), unary_samples(), R, f32=True)
add("log_softmax_dim0", lambda M, x: x.log_softmax(0), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4), (0, 3)]), R)
add("log_softmax_F", lambda M, x: M.F.log_softmax(x, dim=1), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("norm", lambda M, x: M.norm(x), unary_samples(zero_size=False), R, f32=True)
add("norm_method", lambda M, x: x.norm(), unary_samples(zero_size=False), R)
add("norm_p2_dim", lambda M, x: M.norm(x, 2, dim=1), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("norm_fro_dims", lambda M, x: M.norm(x, "fro", dim=(0, 1), keepdim=True), unary_samples(shapes=[(2, 3), (2, 3, 4)]), R)
add("norm_p1", lambda M, x: M.norm(x, 1), unary_samples(kinks=(0,), zero_size=False), R)
add("norm_p1_dim", lambda M, x: x.norm(p=1, dim=0), unary_samples(kinks=(0,), shapes=[(3,), (2, 3), (2, 3, 4)]), R)
add("norm_inf", lambda M, x: M.norm(x, float("inf")), distinct_samples([(3,), (2, 3), (2, 3, 4)], views=True), R)
add("norm_inf_dim", lambda M, x: x.norm(float("inf"), dim=1), distinct_samples([(2, 3), (2, 3, 4)], views=True), R)
add("norm_p3", lambda M, x: M.norm(x, 3), unary_samples(kinks=(0,), zero_size=False), R)
add("norm_p3_dim", lambda M, x: x.norm(3, dim=-1, keepdim=True), unary_samples(kinks=(0,), shapes=[(3,), (2, 3), (2, 3, 4)]), R)

# --- shape ops
S = "shape"
add("reshape", lambda M, x: M.reshape(x, (3, -1)), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4)]), S)
add("reshape_method", lambda M, x: x.reshape(-1), unary_samples(), S)
add("reshape_varargs", lambda M, x: x.reshape(1, 3, -1), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4)], noncontig=False), S)
add("reshape_kw", lambda M, x: x.reshape(shape=(-1,)), unary_samples(), S)
add("reshape_scalar", lambda M, x: x.reshape(()), unary_samples(shapes=[(), (1,), (1, 1)], noncontig=False), S)
add("view", lambda M, x: x.view(-1, 3), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4), (0, 3)], noncontig=False), S)
add("view_chain", lambda M, x: (x.view(6) * 2).view(3, 2), unary_samples(shapes=[(2, 3)], noncontig=False), S)
add("flatten", lambda M, x: M.flatten(x), unary_samples(), S)
add("flatten_method", lambda M, x: x.flatten(1), unary_samples(shapes=[(2, 3), (2, 3, 4), (0, 3)]), S)
add("flatten_range", lambda M, x: x.flatten(0, 1), unary_samples(shapes=[(2, 3), (2, 3, 4)]), S)
add("transpose", lambda M, x: M.transpose(x, 0, 1), unary_samples(shapes=[(2, 3), (2, 3, 4), (0, 3)]), S)
add("transpose_method", lambda M, x: x.transpose(-1, 0), unary_samples(shapes=[(3,), (2, 3), (2, 3, 4)]), S)
add("transpose_scalar", lambda M, x: x.transpose(0, -1), unary_samples(shapes=[()], noncontig=False), S)
add("T", lambda M, x: x.T, unary_samples(shapes=[(2, 3), (0, 3)]), S)
add("mT", lambda M, x: x.mT, unary_samples(shapes=[(2, 3), (2, 3, 4)]), S)
add("t", lambda M, x: x.t(), unary_samples(shapes=[(3,), (2, 3)]), S)
add("permute", lambda M, x: M.permute(x, (2, 0, 1)), unary_samples(shapes=[(2, 3, 4), (0, 3, 2)], noncontig=False), S)
add("permute_method", lambda M, x: x.permute(1, 0), unary_samples(shapes=[(2, 3), (0, 3)]), S)
add("permute_kw", lambda M, x: x.permute(dims=(1, 0)), unary_samples(shapes=[(2, 3), (0, 3)]), S)
add("permute_neg", lambda M, x: x.permute(-1, 0, 1), unary_samples(shapes=[(2, 3, 4)], noncontig=False), S)
add("squeeze", lambda M, x: M.squeeze(x), fixed_samples(([(1, 3, 1)], "real"), ([(1,)], "real"), ([()], "real"), ([(2, 3)], "real")), S)
add("squeeze_dim", lambda M, x: x.squeeze(0), fixed_samples(([(1, 3, 1)], "real"), ([(2, 3)], "real"), ([(1, 0)], "real")), S)
add("squeeze_neg", lambda M, x: x.squeeze(-1), fixed_samples(([(1, 3, 1)], "real"), ([(3, 1)], "real")), S)
add("unsqueeze", lambda M, x: M.unsqueeze(x, 0), unary_samples(), S)
add("unsqueeze_neg", lambda M, x: x.unsqueeze(-1), unary_samples(), S)
add("unsqueeze_mid", lambda M, x: x.unsqueeze(1), unary_samples(shapes=[(3,), (2, 3), (0, 3)]), S)
add("expand", lambda M, x: x.expand(2, 3), fixed_samples(([(1, 3)], "real"), ([(3,)], "real"), ([()], "real"), ([(2, 1)], "real")), S)
add("expand_neg", lambda M, x: x.expand(4, -1, 3), fixed_samples(([(2, 1)], "real"), ([(2, 3)], "real"), ([(1, 1)], "real")), S)
add("expand_view", lambda M, x: x.T.expand(2, 3, 2), fixed_samples(([(2, 3)], "real")), S)
add("broadcast_to", lambda M, x: M.broadcast_to(x, (2, 3, 3)), fixed_samples(([(1, 3)], "real"), ([(3,)], "real"), ([()], "real"), ([(3, 1)], "real")), S)
add("cat", lambda M, a, b: M.cat([a, b]), fixed_samples(([(2, 3), (4, 3)], "real"), ([(3,), (2,)], "real"), ([(0, 3), (2, 3)], "real"), ([(2, 3, 4), (1, 3, 4)], "real"), ([(3, 2), (2, 2)], "real", (None, T))), S)
add("cat_dim1", lambda M, a, b: M.cat((a, b), dim=1), fixed_samples(([(2, 3), (2, 1)], "real"), ([(2, 3, 4), (2, 2, 4)], "real"), ([(2, 0), (2, 3)], "real"), ([(3, 2), (2, 2)], "real", (T, None))), S)
add("cat_neg", lambda M, a, b, c: M.cat([a, b, c], -1), fixed_samples(([(2, 3), (2, 1), (2, 2)], "real"), ([(3,), (1,), (2,)], "real")), S)
add("cat_same", lambda M, a: M.cat([a, a * 2, a]), unary_samples(shapes=[(3,), (2, 3)]), S)
add("stack", lambda M, a, b: M.stack([a, b]), binary_samples(shapes=[((), ()), ((3,), (3,)), ((2, 3), (2, 3)), ((0, 3), (0, 3))], noncontig=True), S)
add("stack_dim", lambda M, a, b: M.stack((a, b), dim=-1), binary_samples(shapes=[((3,), (3,)), ((2, 3), (2, 3)), ((2, 3, 4), (2, 3, 4))]), S)
add("stack_mid", lambda M, a, b, c: M.stack([a, b, c], 1), fixed_samples(([(2, 3), (2, 3), (2, 3)], "real"), ([(3, 2), (3, 2), (2, 3)], "real", (T, T, None))), S)
add("split", lambda M, x: M.split(x, 2), unary_samples(shapes=[(3,), (5, 2), (4, 3, 2)]), S)
add("split_kw", lambda M, x: x.split(split_size=2, dim=0), unary_samples(shapes=[(3,), (5, 2)]), S)
add("split_sections", lambda M, x: x.split([1, 2], dim=1), fixed_samples(([(2, 3)], "real"), ([(2, 3, 4)], "real"), ([(0, 3)], "real"), ([(3, 2)], "real", (T,))), S)
add("split_used_one", lambda M, x: x.split(1)[1] * 3, unary_samples(shapes=[(3,), (2, 3)]), S)
add("chunk", lambda M, x: M.chunk(x, 2), unary_samples(shapes=[(3,), (4, 3), (5, 2, 2)]), S)
add("chunk_dim", lambda M, x: x.chunk(3, dim=1), fixed_samples(([(2, 3)], "real"), ([(2, 7)], "real"), ([(3, 2)], "real", (T,))), S)
add("chunk_partial", lambda M, x: x.chunk(3)[0].sum() + x.chunk(3)[2].sum(), unary_samples(shapes=[(3,), (6, 2)]), S)

# --- indexing
I = "indexing"
IDX = np.array([2, 0, 2, 2])
BOOL_ROWS = np.array([True, False, True])
add("getitem_int", lambda M, x: x[1], unary_samples(shapes=[(3,), (3, 2), (3, 2, 4)]), I)
add("getitem_neg_int", lambda M, x: x[-1], unary_samples(shapes=[(3,), (3, 2)]), I)
add("getitem_slice", lambda M, x: x[1:], unary_samples(shapes=[(3,), (3, 2), (3, 2, 4)]), I)
add("getitem_step", lambda M, x: x[::2, 1:], unary_samples(shapes=[(3, 2), (5, 3, 2)], noncontig=False), I)
add("getitem_tuple", lambda M, x: x[1, :, 0], unary_samples(shapes=[(3, 2, 4)], noncontig=False), I)
add("getitem_none", lambda M, x: x[None, :, None], unary_samples(shapes=[(3,), (3, 2)]), I)
add("getitem_ellipsis", lambda M, x: x[..., 1], unary_samples(shapes=[(3, 2), (3, 2, 4)]), I)
add("getitem_ellipsis_none", lambda M, x: x[..., None, 0:1], unary_samples(shapes=[(3,), (3, 2)]), I)
add("getitem_empty", lambda M, x: x[2:2], unary_samples(shapes=[(3,), (3, 2)]), I)
add("getitem_intarray", lambda M, x: x[M.tensor(IDX, device=x.device)], unary_samples(shapes=[(3,), (3, 2), (3, 2, 4)]), I)
add("getitem_intarray_dim1", lambda M, x: x[:, M.tensor([1, 1, 0], device=x.device)], unary_samples(shapes=[(3, 2), (3, 2, 4)]), I)
add("getitem_intarray_list", lambda M, x: x[[0, 2, 0]], unary_samples(shapes=[(3,), (3, 2)]), I)
add("getitem_intarray_2d", lambda M, x: x[M.tensor([[0, 2], [2, 2]], device=x.device)], unary_samples(shapes=[(3,), (3, 2)]), I)
add("getitem_intarray_pair", lambda M, x: x[M.tensor([0, 2, 2], device=x.device), M.tensor([1, 0, 1], device=x.device)], unary_samples(shapes=[(3, 2), (3, 2, 4)]), I)
# an integer and an index array separated by a slice: PyTorch applies the integer first (NumPy
# would move the indexed dim to the front)
add("getitem_int_slice_array", lambda M, x: x[1, :, M.tensor([3, 0, 3], device=x.device)], unary_samples(shapes=[(3, 2, 4)], noncontig=False), I)
add("getitem_array_slice_int", lambda M, x: x[M.tensor([0, 2, 2], device=x.device), :, -1], unary_samples(shapes=[(3, 2, 4)], noncontig=False), I)
add("getitem_int_none_slice_array", lambda M, x: x[-1, None, :, M.tensor([1, 0], device=x.device)], unary_samples(shapes=[(3, 2, 4)], noncontig=False), I)
add("getitem_int_slice_bool", lambda M, x: x[0, 1:, M.tensor([True, False, False, True], device=x.device)], unary_samples(shapes=[(3, 2, 4)], noncontig=False), I)
add("getitem_bool", lambda M, x: x[M.tensor(BOOL_ROWS, device=x.device)], unary_samples(shapes=[(3,), (3, 2), (3, 2, 4)]), I)
add("getitem_bool_mask", lambda M, x: x[x > 0], unary_samples(kinks=(0,)), I)
add("getitem_bool_mask_2d", lambda M, x, y: x[y > 0], fixed_samples(([(2, 3), (2, 3)], "real"), ([(3, 2), (3, 2)], "real", (T, T))), I)

# setitem with grad: x[key] = v recorded on a clone (x itself is a leaf)


def _setitem(key):
    def op(M, x, v):
        y = x * 1.0
        y[key(M, x) if callable(key) else key] = v
        return y

    return op


add("setitem_slice", _setitem(slice(1, 3)), fixed_samples(([(4,), (2,)], "real"), ([(4, 3), (2, 3)], "real"), ([(4, 3), (3,)], "real"), ([(4, 3), ()], "real")), I)
add("setitem_int", _setitem(1), fixed_samples(([(3,), ()], "real"), ([(3, 2), (2,)], "real"), ([(3, 2), (1,)], "real")), I)
add("setitem_tuple", _setitem((slice(None), 0)), fixed_samples(([(3, 2), (3,)], "real"), ([(3, 2, 4), (3, 4)], "real")), I)
add("setitem_intarray", _setitem(lambda M, x: M.tensor([0, 2], device=x.device)), fixed_samples(([(3,), (2,)], "real"), ([(3, 2), (2, 2)], "real"), ([(3, 2), (2,)], "real")), I)
add("setitem_bool", _setitem(lambda M, x: M.tensor(BOOL_ROWS, device=x.device)), fixed_samples(([(3,), (2,)], "real"), ([(3, 2), (2, 2)], "real"), ([(3, 2), ()], "real")), I)
add("setitem_ellipsis", _setitem((Ellipsis, 1)), fixed_samples(([(2, 3), (2,)], "real"), ([(2, 2, 3), (2, 2)], "real")), I)
add("setitem_int_slice_array", _setitem(lambda M, x: (1, slice(None), M.tensor([3, 0], device=x.device))), fixed_samples(([(2, 3, 4), (3, 2)], "real"), ([(2, 3, 4), (2,)], "real")), I)
add("setitem_array_slice_int", _setitem(lambda M, x: (M.tensor([0, 1], device=x.device), slice(None), 2)), fixed_samples(([(2, 3, 4), (2, 3)], "real"), ([(2, 3, 4), (1, 3)], "real")), I)
add("setitem_nonleaf_chain", lambda M, x, v: _chain_setitem(M, x, v), fixed_samples(([(4,), (2,)], "real"), ([(4, 3), (3,)], "real")), I)


def _chain_setitem(M, x, v):
    y = x * 2.0  # (exp would save its output, which the writes below change: an error)
    y[0] = v[0] * 2 if v.ndim else v * 2
    y[1:3] = y[1:3].clone() * v  # (y[1:3] * v would save a view that the write then changes)
    return y.sum(0) if y.ndim > 1 else y

# --- linear algebra
L = "linalg"
add("matmul_1d_1d", lambda M, a, b: M.matmul(a, b), fixed_samples(([(3,), (3,)], "real"), ([(6,), (3,)], "real", (STRIDED, None)), ([(0,), (0,)], "real")), L)
add("matmul_2d_1d", lambda M, a, b: a @ b, fixed_samples(([(2, 3), (3,)], "real"), ([(3, 2), (3,)], "real", (T, None)), ([(0, 3), (3,)], "real")), L)
add("matmul_1d_2d", lambda M, a, b: a @ b, fixed_samples(([(3,), (3, 2)], "real"), ([(3,), (2, 3)], "real", (None, T)), ([(3,), (3, 0)], "real")), L)
add("matmul_2d_2d", lambda M, a, b: M.matmul(a, b), fixed_samples(([(2, 3), (3, 4)], "real"), ([(1, 1), (1, 1)], "real"), ([(3, 2), (4, 3)], "real", (T, T)), ([(2, 0), (0, 4)], "real"), ([(0, 3), (3, 2)], "real")), L, f32=True)
add("matmul_method", lambda M, a, b: a.matmul(b), fixed_samples(([(2, 3), (3, 4)], "real"),), L)
add("matmul_batched", lambda M, a, b: a @ b, fixed_samples(([(2, 2, 3), (2, 3, 4)], "real"), ([(2, 2, 3), (3, 4)], "real"), ([(2, 3), (2, 3, 4)], "real"), ([(2, 1, 2, 3), (3, 3, 2)], "real"), ([(2, 2, 3), (3,)], "real"), ([(3,), (2, 3, 4)], "real"), ([(0, 2, 3), (3, 1)], "real")), L, f32=True)
add("rmatmul_ndarray", lambda M, a: np.ones((2, 3)) @ a if M.__name__ != "torch" else M.ones(2, 3, dtype=a.dtype) @ a, fixed_samples(([(3, 4)], "real"), ([(3,)], "real")), L, tags=("ndarray",))
add("dot", lambda M, a, b: M.dot(a, b), fixed_samples(([(3,), (3,)], "real"), ([(6,), (3,)], "real", (STRIDED, None)), ([(0,), (0,)], "real")), L)
add("dot_method", lambda M, a, b: a.dot(b), fixed_samples(([(3,), (3,)], "real"),), L)
add("mv", lambda M, a, b: M.mv(a, b), fixed_samples(([(2, 3), (3,)], "real"), ([(3, 2), (3,)], "real", (T, None))), L)
add("mv_method", lambda M, a, b: a.mv(b), fixed_samples(([(2, 3), (3,)], "real"),), L)
add("mm", lambda M, a, b: M.mm(a, b), fixed_samples(([(2, 3), (3, 4)], "real"), ([(3, 2), (4, 3)], "real", (T, T)), ([(2, 0), (0, 3)], "real")), L)
add("mm_method", lambda M, a, b: a.mm(b), fixed_samples(([(2, 3), (3, 4)], "real"),), L)
add("bmm", lambda M, a, b: M.bmm(a, b), fixed_samples(([(2, 2, 3), (2, 3, 4)], "real"), ([(0, 2, 3), (0, 3, 1)], "real")), L)
add("bmm_method", lambda M, a, b: a.bmm(b), fixed_samples(([(2, 2, 3), (2, 3, 4)], "real"),), L)
add("outer", lambda M, a, b: M.outer(a, b), fixed_samples(([(3,), (2,)], "real"), ([(6,), (2,)], "real", (STRIDED, None)), ([(0,), (2,)], "real")), L)
add("outer_method", lambda M, a, b: a.outer(b), fixed_samples(([(3,), (2,)], "real"),), L)
add("inverse", lambda M, a: M.inverse(a), wellcond_samples([(1, 1), (3, 3), (2, 3, 3)], extra=[((lambda r: np.ascontiguousarray(r.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)),), (T,), "(3,3).T")]), L, f32=True)
add("inverse_method", lambda M, a: a.inverse(), wellcond_samples([(3, 3)]), L)
add("solve_vec", lambda M, a, b: M.linalg.solve(a, b) if M.__name__ == "torch" else M.solve(a, b), wellcond_samples([((3, 3), (3,)), ((2, 3, 3), (2, 3))]), L, tags=("solve",))
add("solve_mat", lambda M, a, b: M.linalg.solve(a, b) if M.__name__ == "torch" else M.solve(a, b), wellcond_samples([((3, 3), (3, 2)), ((2, 3, 3), (2, 3, 4)), ((1, 1), (1, 1))]), L, tags=("solve",))
add("solve_broadcast", lambda M, a, b: M.linalg.solve(a, b) if M.__name__ == "torch" else M.solve(a, b), wellcond_samples([((3, 3), (2, 3, 2)), ((2, 3, 3), (3, 2)), ((2, 3, 3), (3,)), ((2, 1, 2, 2), (3, 2, 1))]), L, tags=("solve",))
add("pinverse", lambda M, a: M.pinverse(a), fixed_samples(([(3, 2)], "real"), ([(2, 3)], "real"), ([(3, 3)], "real"), ([(2, 3)], "real", (T,))), L, rtol=1e-6, atol=1e-8)
add("pinverse_method", lambda M, a: a.pinverse(), fixed_samples(([(3, 2)], "real"),), L, rtol=1e-6, atol=1e-8)

# --- sorting, scans, gather/scatter and more shape ops (ops/sorting.py, ops/scan.py, and the
# later parts of ops/shape.py and ops/indexing.py)


def _ix(M, x, a):
    """An index tensor on x's device."""
    return M.tensor(np.asarray(a), device=x.device)


def zeros_samples(shapes, at):
    """Real values with exact zeros at the given flat positions (cumprod's special case)."""

    def gen(rng):
        out = []
        for s, pos in zip(shapes, at):
            x = make_values(rng, s, "nonzero")
            x.reshape(-1)[list(pos)] = 0.0
            out.append(Sample((x,), desc=f"{s} zeros at {list(pos)}"))
        return out

    return gen


SO = "sorting"
DS = distinct_samples([(), (3,), (2, 3, 4)], views=True)
DS_ROWS = distinct_samples([(3,), (2, 3, 4)], views=True)
DS_SMALL = distinct_samples([(3,), (2, 3)])
add("sort", lambda M, x: M.sort(x), DS, SO, f32=True)
add("sort_desc_dim0", lambda M, x: x.sort(0, descending=True), DS_ROWS, SO)
add("sort_values_stable", lambda M, x: x.sort(dim=-1, stable=True).values * 2, DS_ROWS, SO)
add("msort", lambda M, x: M.msort(x), DS_ROWS, SO)
add("topk", lambda M, x: M.topk(x, 2), distinct_samples([(3,), (2, 3), (2, 3, 4)], views=True), SO, f32=True)
add("topk_smallest_dim0", lambda M, x: x.topk(1, dim=0, largest=False), DS_ROWS, SO)
add("kthvalue", lambda M, x: M.kthvalue(x, 2), DS_ROWS, SO)
add("kthvalue_keepdim", lambda M, x: x.kthvalue(1, 0, keepdim=True), DS_ROWS, SO)
add("median", lambda M, x: M.median(x), DS, SO, f32=True)
add("median_dim", lambda M, x: x.median(-1), DS_ROWS, SO)
add("median_dim_keepdim", lambda M, x: M.median(x, 0, keepdim=True), DS_ROWS, SO)
add("nanmedian", lambda M, x: M.nanmedian(x), DS_SMALL, SO)
add("nanmedian_dim", lambda M, x: x.nanmedian(0), DS_ROWS, SO)
add("mode", lambda M, x: M.mode(x), DS_ROWS, SO)
for _it in ("linear", "lower", "higher", "midpoint", "nearest"):
    add(f"quantile_{_it}", lambda M, x, it=_it: M.quantile(x, 0.35, interpolation=it), DS_ROWS if _it == "linear" else DS_SMALL, SO, f32=_it == "linear")
    add(f"quantile_dim_{_it}", lambda M, x, it=_it: x.quantile(M.tensor([0.2, 0.75], dtype=x.dtype, device=x.device), dim=-1, keepdim=True, interpolation=it), DS_ROWS if _it == "linear" else DS_SMALL, SO)
add("nanquantile", lambda M, x: M.nanquantile(x, M.tensor([0.1, 0.5, 1.0], dtype=x.dtype, device=x.device), dim=0), DS_ROWS, SO)
add("quantile_keepdim_all", lambda M, x: M.quantile(x, 0.6, keepdim=True), DS_SMALL, SO)

SC = "scan"
add("cumsum", lambda M, x: M.cumsum(x, 0), unary_samples(), SC, f32=True)
add("cumsum_method", lambda M, x: x.cumsum(dim=-1), unary_samples(shapes=[(2, 3)], noncontig=False), SC)
add("cumprod", lambda M, x: M.cumprod(x, -1), unary_samples("nonzero", shapes=[(), (3,), (2, 3), (0, 3)]), SC, f32=True)
add("cumprod_dim0", lambda M, x: x.cumprod(0), unary_samples("nonzero", shapes=[(2, 3, 4)]), SC)
add("cumprod_zeros", lambda M, x: M.cumprod(x, -1), zeros_samples([(4,), (4,), (2, 4), (3, 3), (5,)], [(0,), (1, 3), (1, 5, 6), (2, 4, 5, 6), (1, 2)]), SC)
add("cumprod_zeros_dim0", lambda M, x: M.cumprod(x, 0), zeros_samples([(3, 2), (4,)], [(0, 3), (2,)]), SC)
add("cummax", lambda M, x: M.cummax(x, 0), DS, SC)
add("cummin", lambda M, x: x.cummin(-1), DS, SC)
add("logcumsumexp", lambda M, x: M.logcumsumexp(x, -1), unary_samples(), SC, f32=True)
add("logcumsumexp_dim0", lambda M, x: (x * 40).logcumsumexp(0), unary_samples(shapes=[(2, 3, 4)]), SC)

SH = "shape_more"
add("flip", lambda M, x: M.flip(x, (0,)), unary_samples(shapes=[(3,), (2, 3), (0, 3)]), SH, f32=True)
add("flip_dims", lambda M, x: x.flip(-1, 0), unary_samples(shapes=[(2, 3), (2, 3, 4)]), SH)
add("fliplr", lambda M, x: M.fliplr(x), unary_samples(shapes=[(2, 3), (2, 3, 4)]), SH)
add("flipud", lambda M, x: x.flipud(), unary_samples(shapes=[(3,), (2, 3)]), SH)
add("roll", lambda M, x: M.roll(x, 2), unary_samples(shapes=[(), (2, 3), (0, 3)]), SH)
add("roll_dims", lambda M, x: x.roll((1, -4), (0, 1)), unary_samples(shapes=[(2, 3), (2, 3, 4)]), SH)
add("rot90", lambda M, x: M.rot90(x), unary_samples(shapes=[(2, 3), (2, 3, 4)]), SH)
add("rot90_k", lambda M, x: x.rot90(-1, (1, -1)), unary_samples(shapes=[(2, 3, 4)], noncontig=False), SH)
add("rot90_2", lambda M, x: M.rot90(x, 2, (0, 1)), unary_samples(shapes=[(2, 3)]), SH)
add("repeat", lambda M, x: x.repeat(2, 1, 2), unary_samples(shapes=[(), (2, 3), (0, 3)]), SH, f32=True)
add("tile", lambda M, x: M.tile(x, (2,)), unary_samples(shapes=[(3,), (2, 3)], noncontig=False), SH)
add("repeat_interleave", lambda M, x: M.repeat_interleave(x, 2), unary_samples(shapes=[(), (2, 3), (0, 3)]), SH)
add("repeat_interleave_tensor", lambda M, x: x.repeat_interleave(_ix(M, x, [2, 0, 1]), dim=-1), unary_samples(shapes=[(3,), (2, 3)]), SH)
add("tril", lambda M, x: M.tril(x), unary_samples(shapes=[(2, 3), (2, 3, 4), (0, 3)]), SH, f32=True)
add("tril_k", lambda M, x: x.tril(-1), unary_samples(shapes=[(2, 3), (2, 3, 4)]), SH)
add("triu", lambda M, x: M.triu(x, 1), unary_samples(shapes=[(2, 3), (2, 3, 4), (0, 3)]), SH)
add("diag_2d", lambda M, x: M.diag(x), unary_samples(shapes=[(2, 3), (0, 3)]), SH)
add("diag_2d_offset", lambda M, x: x.diag(-1), unary_samples(shapes=[(2, 3)]), SH)
add("diag_1d", lambda M, x: M.diag(x, 1), unary_samples(shapes=[(3,)]), SH)
add("diag_embed", lambda M, x: M.diag_embed(x), unary_samples(shapes=[(3,), (2, 3)]), SH)
add("diag_embed_dims", lambda M, x: x.diag_embed(-1, 0, 2), unary_samples(shapes=[(2, 3)]), SH)
add("diagonal", lambda M, x: M.diagonal(x), unary_samples(shapes=[(2, 3), (2, 3, 4), (0, 3)]), SH, f32=True)
add("diagonal_dims", lambda M, x: x.diagonal(1, -1, 0), unary_samples(shapes=[(2, 3, 4)], noncontig=False), SH)
add("diagonal_neg", lambda M, x: x.diagonal(offset=-1), unary_samples(shapes=[(2, 3)]), SH)
add("trace", lambda M, x: M.trace(x), unary_samples(shapes=[(2, 3), (0, 3)]), SH)
add("narrow", lambda M, x: M.narrow(x, -1, 1, 2), unary_samples(shapes=[(3,), (2, 3, 4)], noncontig=False), SH)
add("select", lambda M, x: x.select(0, -1), unary_samples(shapes=[(3,), (2, 3, 4)], noncontig=False), SH)
add("unbind", lambda M, x: M.unbind(x, -1), unary_samples(shapes=[(3,), (2, 3)]), SH)
add("movedim", lambda M, x: M.movedim(x, 0, -1), unary_samples(shapes=[(2, 3), (2, 3, 4)]), SH)
add("moveaxis_many", lambda M, x: x.moveaxis((0, 2), (1, 0)), unary_samples(shapes=[(2, 3, 4)], noncontig=False), SH)
add("hstack", lambda M, a, b: M.hstack([a, b]), fixed_samples(([(2, 3), (2, 1)], "real"), ([(3,), (2,)], "real"), ([(), ()], "real")), SH)
add("vstack", lambda M, a, b: M.vstack((a, b)), fixed_samples(([(2, 3), (1, 3)], "real"), ([(3,), (3,)], "real"), ([(2, 3), (3,)], "real")), SH)
add("row_stack", lambda M, a, b: M.row_stack((a, b)), fixed_samples(([(3,), (3,)], "real"),), SH)
add("dstack", lambda M, a, b: M.dstack([a, b]), fixed_samples(([(2, 3), (2, 3)], "real"), ([(3,), (3,)], "real"), ([(2, 3, 1), (2, 3, 2)], "real")), SH)
add("column_stack", lambda M, a, b: M.column_stack([a, b]), fixed_samples(([(3,), (3, 2)], "real"), ([(), (1, 2)], "real")), SH)
add("block_diag", lambda M, a, b, c: M.block_diag(a, b, c), fixed_samples(([(2, 3), (2,), ()], "real"), ([(1, 1), (0, 2), (2, 2)], "real")), SH)
add("tensor_split", lambda M, x: M.tensor_split(x, 3, -1), unary_samples(shapes=[(4,), (2, 5)]), SH)
add("tensor_split_indices", lambda M, x: x.tensor_split([1, -1, 9]), unary_samples(shapes=[(4,), (4, 2)], noncontig=False), SH)
add("hsplit", lambda M, x: M.hsplit(x, 2), unary_samples(shapes=[(4,), (2, 4)], noncontig=False), SH)
add("vsplit", lambda M, x: x.vsplit([1]), unary_samples(shapes=[(2, 3), (3, 2)]), SH)
add("meshgrid_ij", lambda M, a, b: M.meshgrid(a, b, indexing="ij"), fixed_samples(([(3,), (2,)], "real"), ([(), (2,)], "real")), SH)
add("meshgrid_xy", lambda M, a, b, c: M.meshgrid([a, b, c], indexing="xy"), fixed_samples(([(3,), (2,), (2,)], "real"),), SH)
add("cartesian_prod", lambda M, a, b: M.cartesian_prod(a, b), fixed_samples(([(3,), (2,)], "real"), ([(0,), (2,)], "real")), SH)
add("combinations", lambda M, x: M.combinations(x), unary_samples(shapes=[(3,), (1,)]), SH)
add("combinations_r3", lambda M, x: M.combinations(x, 3, with_replacement=True), unary_samples(shapes=[(2,)]), SH)
add("atleast_3d", lambda M, a, b: M.atleast_3d(a, b), fixed_samples(([(), (3,)], "real"), ([(2, 3), (2, 1, 3)], "real")), SH)
add("atleast_2d", lambda M, x: M.atleast_2d(x), unary_samples(shapes=[(), (3,), (2, 3)], noncontig=False), SH)

SX = "scatter"
X34 = [(3, 4), (2, 4)]
IDX24 = np.array([[0, 2, 1, 0], [2, 0, 1, 0]])
add("gather", lambda M, x: M.gather(x, 0, _ix(M, x, IDX24)), fixed_samples(([(3, 4)], "real"), ([(4, 3)], "real", (T,))), SX, f32=True)
add("gather_dim1", lambda M, x: x.gather(1, _ix(M, x, [[3, 3], [0, 1], [2, 0]])), fixed_samples(([(3, 4)], "real"),), SX)
add("take_along_dim", lambda M, x: M.take_along_dim(x, _ix(M, x, [[0], [3], [1]]), 1), fixed_samples(([(3, 4)], "real"),), SX)
add("take_along_dim_bcast", lambda M, x: M.take_along_dim(x, _ix(M, x, [[2, 0, 0, 1]]), dim=0), fixed_samples(([(3, 4)], "real"), ([(3, 1)], "real")), SX)
add("take_along_dim_flat", lambda M, x: M.take_along_dim(x, _ix(M, x, [5, 0, 5])), fixed_samples(([(3, 4)], "real"), ([(2, 3)], "real", None)), SX)
add("take", lambda M, x: M.take(x, _ix(M, x, [[0, -1], [4, 4]])), fixed_samples(([(3, 4)], "real"), ([(5,)], "real"), ([(4, 3)], "real", (T,))), SX)
add("scatter", lambda M, x, s: M.scatter(x, 0, _ix(M, x, IDX24[:1]), s), fixed_samples(([(3, 4), (1, 4)], "real"),), SX, f32=True)
add("scatter_src_larger", lambda M, x, s: x.scatter(1, _ix(M, x, [[1, 0], [3, 2]]), s[:, :2]), fixed_samples(([(3, 4), (2, 4)], "real"),), SX)
add("scatter_value", lambda M, x: M.scatter(x, 1, _ix(M, x, [[0, 3], [1, 1]]), 1.5), fixed_samples(([(3, 4)], "real"),), SX)
add("scatter_add", lambda M, x, s: M.scatter_add(x, 0, _ix(M, x, IDX24), s), fixed_samples((X34, "real")), SX, f32=True)
add("scatter_add_method", lambda M, x, s: x.scatter_add(1, _ix(M, x, [[0, 0, 1, 1], [3, 3, 3, 3]]), s), fixed_samples(([(2, 4), (2, 4)], "real"),), SX)
for _red in ("sum", "prod", "mean", "amax", "amin"):
    for _inc in (True, False):
        add(f"scatter_reduce_{_red}_{'self' if _inc else 'noself'}",
            lambda M, x, s, r=_red, inc=_inc: M.scatter_reduce(x, 0, _ix(M, x, IDX24), s, r, include_self=inc),
            fixed_samples((X34, "nonzero")), SX, f32=_red == "sum" and _inc)
add("scatter_reduce_prod_zeros", lambda M, x, s: M.scatter_reduce(x * M.tensor([[0.0], [1.0], [1.0]], dtype=x.dtype, device=x.device), 0, _ix(M, x, IDX24), s * M.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0]], dtype=x.dtype, device=x.device), "prod"), fixed_samples((X34, "nonzero")), SX)
add("index_add", lambda M, x, s: M.index_add(x, 0, _ix(M, x, [2, 2]), s, alpha=-1.5), fixed_samples((X34, "real"),), SX, f32=True)
add("index_add_dim1", lambda M, x, s: x.index_add(1, _ix(M, x, [0, 3, 0]), s), fixed_samples(([(2, 4), (2, 3)], "real"),), SX)
add("index_copy", lambda M, x, s: M.index_copy(x, 0, _ix(M, x, [2, 0]), s), fixed_samples((X34, "real"),), SX)
add("index_select", lambda M, x: M.index_select(x, -1, _ix(M, x, [2, 0, 2])), fixed_samples(([(3,)], "real"), ([(2, 3)], "real"), ([(3, 2)], "real", (T,))), SX)
add("index_fill", lambda M, x: M.index_fill(x, 1, _ix(M, x, [0, 2]), -2.0), fixed_samples(([(3, 4)], "real"), ([(4, 3)], "real", (T,))), SX)
add("index_fill_tensor", lambda M, x, v: x.index_fill(1, _ix(M, x, [0, 2, 2]), v), fixed_samples(([(3, 4), ()], "real"),), SX)
add("index_put", lambda M, x, v: M.index_put(x, (_ix(M, x, [0, 2]), _ix(M, x, [1, 1])), v), fixed_samples(([(3, 4), (2,)], "real"), ([(3, 4), ()], "real")), SX)
add("index_put_accumulate", lambda M, x, v: x.index_put((_ix(M, x, [0, 2, 0]),), v, accumulate=True), fixed_samples(([(3, 4), (4,)], "real"), ([(3, 4), (3, 4)], "real")), SX)
add("index_put_inplace", lambda M, x, v: (x * 1.0).index_put_((_ix(M, x, [1, 0]),), v), fixed_samples(([(3, 4), (2, 4)], "real"),), SX)
add("put", lambda M, x, s: (x * 1.0).put_(_ix(M, x, [0, -1, 5]), s), fixed_samples(([(3, 4), (3,)], "real"),), SX)
add("put_accumulate", lambda M, x, s: (x * 1.0).put_(_ix(M, x, [[5, 5], [0, 1]]), s, accumulate=True), fixed_samples(([(3, 4), (2, 2)], "real"),), SX)
add("masked_select", lambda M, x, y: M.masked_select(x, y > 0), fixed_samples(([(2, 3), (2, 3)], "real"), ([(2, 3), (3,)], "real"), ([(3,), (2, 3)], "real")), SX)
add("masked_scatter", lambda M, x, y, s: M.masked_scatter(x, y > 0, s), fixed_samples(([(2, 3), (2, 3), (7,)], "real"), ([(2, 3), (3,), (2, 3)], "real")), SX)
add("scatter_inplace", lambda M, x, s: (x * 1.0).scatter_(0, _ix(M, x, IDX24[:1]), s), fixed_samples(([(3, 4), (1, 4)], "real"),), SX)
add("index_add_inplace", lambda M, x, s: (x * 1.0).index_add_(0, _ix(M, x, [1, 1]), s), fixed_samples((X34, "real"),), SX)
add("masked_scatter_inplace", lambda M, x, y, s: (x * 1.0).masked_scatter_(y > 0, s), fixed_samples(([(2, 3), (2, 3), (6,)], "real"),), SX)

# --- math extras: more elementwise math, fused multiply-adds, reductions, linear algebra
# (compact samples: a scalar, a matrix, broadcasting or a zero-size array, one view)
X = "math_extra"
_SH = [(), (2, 3)]
_BSH = [((), ()), ((1, 3), (2, 1))]


def _xu(name, op, domain="real", kinks=(), zero_size=False, **kw):
    add(name, op, unary_samples(domain, kinks, shapes=_SH + [(0, 3)] * zero_size), X, **kw)


def _pair_samples(domains=("real", "real"), kinks=((), ()), zero_size=False):
    """A scalar pair, broadcasting, a transposed view (and a zero-size pair)."""
    base = binary_samples(domains, _BSH + [((0, 3), (3,))] * zero_size, noncontig=False, kinks=kinks)

    def gen(rng):
        return base(rng) + [Sample(
            (make_values(rng, (3, 2), domains[0], kinks[0]), make_values(rng, (3, 2), domains[1], kinks[1])),
            (T, T), "(3,2).T|(3,2).T")]

    return gen


def _xb(name, op, domains=("real", "real"), kinks=((), ()), zero_size=False, **kw):
    add(name, op, _pair_samples(domains, kinks, zero_size), X, **kw)


_xu("log2", lambda M, x: M.log2(x), "pos", f32=True, zero_size=True)
_xu("log10", lambda M, x: M.log10(x), "pos")
_xu("exp2", lambda M, x: M.exp2(x))
_xu("expm1", lambda M, x: M.expm1(x), f32=True)
_xu("asin", lambda M, x: M.asin(x), "unit")
_xu("acos", lambda M, x: M.acos(x), "unit")
_xu("atan", lambda M, x: M.atan(x))
_xu("sinh", lambda M, x: M.sinh(x))
_xu("cosh", lambda M, x: M.cosh(x))
_xu("asinh", lambda M, x: M.asinh(x))
_xu("acosh", lambda M, x: M.acosh(x + 1.0), "pos")
_xu("atanh", lambda M, x: M.atanh(x), "unit", f32=True)
_xu("erf", lambda M, x: M.erf(x), f32=True, zero_size=True)
_xu("erfc", lambda M, x: M.erfc(x))
_xu("erfinv", lambda M, x: M.erfinv(x), "unit")
_xu("reciprocal", lambda M, x: M.reciprocal(x), "nonzero", f32=True)
_xu("frac", lambda M, x: M.frac(x), kinks=(-1, 0, 1))
_xu("sinc", lambda M, x: M.sinc(x), f32=True)
_xu("logit", lambda M, x: M.logit(x * 0.5 + 0.5), "unit")
_xu("logit_eps", lambda M, x: M.logit(x * 0.6 + 0.5, eps=0.2), "unit", kinks=(-0.5, 0.5))
_xu("nan_to_num", lambda M, x: M.nan_to_num(x), f32=True, zero_size=True)
_xu("clamp_min_scalar", lambda M, x: M.clamp_min(x, 0.3), kinks=(0.3,))
_xu("clamp_max_scalar", lambda M, x: x.clamp_max(-0.2), kinks=(-0.2,))
_xu("fmod_scalar", lambda M, x: M.fmod(x, 1.5), kinks=(-1.5, 1.5))
_xu("remainder_scalar", lambda M, x: x.remainder(1.5), kinks=(-1.5, 0, 1.5))
_xu("copysign_scalar", lambda M, x: M.copysign(x, -1.0), kinks=(0,))
_xu("xlogy_scalar_self", lambda M, y: M.xlogy(2.0, y), "pos")
_xu("xlogy_scalar_other", lambda M, x: M.xlogy(x, 3.0))
_xu("math_methods", lambda M, x: x.arcsinh().sinh().expm1().exp2().log10().atan().arctan(), "pos")
_xb("clamp_min_tensor", lambda M, a, b: M.clamp_min(a, b))
_xb("clamp_max_tensor", lambda M, a, b: a.clamp_max(b))
_xb("logaddexp", lambda M, a, b: M.logaddexp(a, b), f32=True, zero_size=True)
_xb("logaddexp2", lambda M, a, b: a.logaddexp2(b))
_xb("xlogy", lambda M, a, b: M.xlogy(a, b), ("real", "pos"), f32=True)
_xb("hypot", lambda M, a, b: M.hypot(a, b), ("nonzero", "nonzero"), f32=True)
_xb("atan2", lambda M, a, b: M.atan2(a, b), ("nonzero", "nonzero"), f32=True)
_xb("copysign", lambda M, a, b: M.copysign(a, b), kinks=((0,), (0,)))
_xb("fmod", lambda M, a, b: M.fmod(a * 0.3, b), ("real", "pos"))
_xb("remainder", lambda M, a, b: M.remainder(a * 0.2 + 0.5, b), ("pos", "pos"))
add("addcmul", lambda M, x, a, b: M.addcmul(x, a, b, value=0.5), fixed_samples(([(2, 3), (3,), (2, 1)], "real"), ([(), (), ()], "real"), ([(3, 2), (2, 3), (3,)], "real", (T, None, None))), X, f32=True)
add("addcdiv", lambda M, x, a, b: M.addcdiv(x, a, b, value=-2), fixed_samples(([(2, 3), (3,), (2, 1)], "nonzero"), ([(), (), ()], "nonzero"), ([(0, 3), (3,), (1,)], "nonzero")), X, f32=True)
add("lerp_scalar", lambda M, a, b: M.lerp(a, b, 0.3), _pair_samples(zero_size=True), X, f32=True)
add("lerp_scalar_high", lambda M, a, b: a.lerp(b, 0.8), binary_samples(shapes=_BSH, noncontig=False), X)
add("lerp_tensor", lambda M, a, b, w: M.lerp(a, b, w), fixed_samples(([(2, 3), (3,), (2, 1)], "real"), ([(), (), ()], "real"), ([(3,), (3,), (3,)], "unit")), X, f32=True)
add("addmm", lambda M, x, a, b: M.addmm(x, a, b), fixed_samples(([(2, 4), (2, 3), (3, 4)], "real"), ([(4,), (2, 3), (3, 4)], "real"), ([(2, 2), (3, 2), (3, 2)], "real", (None, T, None)), ([(2, 4), (2, 0), (0, 4)], "real")), X, f32=True)
add("addmm_beta_alpha", lambda M, x, a, b: M.addmm(x, a, b, beta=0.5, alpha=-2.0), fixed_samples(([(2, 2), (2, 3), (3, 2)], "real"), ([(1,), (1, 2), (2, 1)], "real")), X)
add("addmm_beta0", lambda M, x, a, b: x.addmm(a, b, beta=0), fixed_samples(([(2, 2), (2, 3), (3, 2)], "real"),), X)
add("addmv", lambda M, x, a, b: M.addmv(x, a, b, alpha=2), fixed_samples(([(2,), (2, 3), (3,)], "real"), ([(), (2, 3), (3,)], "real"), ([(2,), (3, 2), (3,)], "real", (None, T, None))), X)
add("baddbmm", lambda M, x, a, b: M.baddbmm(x, a, b, beta=2, alpha=0.5), fixed_samples(([(2, 2, 2), (2, 2, 3), (2, 3, 2)], "real"), ([(2,), (1, 2, 1), (1, 1, 2)], "real")), X)
add("addbmm", lambda M, x, a, b: x.addbmm(a, b), fixed_samples(([(2, 2), (2, 2, 3), (2, 3, 2)], "real"), ([(), (1, 1, 2), (1, 2, 1)], "real")), X)
add("einsum_mm", lambda M, a, b: M.einsum("ij,jk->ik", a, b), fixed_samples(([(2, 3), (3, 2)], "real"), ([(3, 2), (3, 2)], "real", (T, None)), ([(2, 0), (0, 2)], "real")), X, f32=True)
add("einsum_list", lambda M, a, b: M.einsum("bij,bjk", [a, b]), fixed_samples(([(2, 2, 3), (2, 3, 1)], "real"),), X)
add("einsum_sublist", lambda M, a, b: M.einsum(a, [0, 1], b, [1, 2], [0, 2]), fixed_samples(([(2, 3), (3, 2)], "real"),), X)
add("einsum_diag_trace", lambda M, a: M.einsum("ii->i", a) * M.einsum("jj", a), fixed_samples(([(3, 3)], "real"), ([(3, 3)], "real", (T,))), X)
add("einsum_ellipsis_bcast", lambda M, a, b: M.einsum("...ij,...jk->...ik", a, b), fixed_samples(([(2, 1, 3), (3, 2)], "real"), ([(1, 2), (2, 2, 1)], "real")), X)
add("einsum_three", lambda M, a, b, c: M.einsum("bn,anm,bm->ba", a, b, c), fixed_samples(([(2, 2), (1, 2, 2), (2, 2)], "real"),), X)
add("einsum_sum_outer", lambda M, a, b: M.einsum("ij,k->jk", a, b), fixed_samples(([(2, 2), (2,)], "real"), ([(1, 3), (0,)], "real")), X)
add("tensordot", lambda M, a, b: M.tensordot(a, b, dims=2), fixed_samples(([(2, 2, 2), (2, 2, 1)], "real"), ([(1, 3), (1, 3)], "real")), X)
add("tensordot_1", lambda M, a, b: M.tensordot(a, b, 1), fixed_samples(([(3,), (3, 2)], "real"), ([(2, 3), (3,)], "real")), X)
add("tensordot_lists", lambda M, a, b: M.tensordot(a, b, dims=([1, 0], [0, 2])), fixed_samples(([(2, 3), (3, 1, 2)], "real"),), X)
add("kron", lambda M, a, b: M.kron(a, b), fixed_samples(([(2, 2), (2, 1)], "real"), ([(2,), (1, 3)], "real"), ([(), (2,)], "real")), X)
add("cross", lambda M, a, b: M.cross(a, b, dim=-1), fixed_samples(([(3,), (3,)], "real"), ([(2, 3), (1, 3)], "real"), ([(3, 2), (2, 3)], "real", (T, None))), X, f32=True)
add("cross_dim0", lambda M, a, b: a.cross(b, dim=0), fixed_samples(([(3, 2), (3, 1)], "real"),), X)
add("det", lambda M, a: M.det(a), wellcond_samples([(1, 1), (3, 3), (2, 2, 2)], extra=[((lambda r: np.ascontiguousarray(r.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)),), (T,), "(3,3).T")]), X, f32=True)
add("slogdet", lambda M, a: M.slogdet(a), wellcond_samples([(3, 3), (2, 2, 2)]), X)
add("slogdet_negative", lambda M, a: M.slogdet(-a)[1], wellcond_samples([(3, 3)]), X)
add("logdet", lambda M, a: M.logdet(a), wellcond_samples([(2, 2), (2, 3, 3)]), X)
add("matrix_power", lambda M, a: M.matrix_power(a, 3), fixed_samples(([(2, 2)], "real"), ([(2, 2, 2)], "real"), ([(2, 2)], "real", (T,))), X)
add("matrix_power_0", lambda M, a: a.matrix_power(0) * a, fixed_samples(([(2, 2)], "real"),), X)
add("matrix_power_neg", lambda M, a: M.matrix_power(a, -2), wellcond_samples([(2, 2), (3, 3)]), X)
add("cdist", lambda M, a, b: M.cdist(a, b), fixed_samples(([(3, 2), (2, 2)], "real"), ([(2, 2, 2), (1, 3, 2)], "real"), ([(0, 2), (2, 2)], "real")), X, f32=True)
add("cdist_p1_p3", lambda M, a, b: M.cdist(a, b, p=1) + M.cdist(a, b, p=3.0), fixed_samples(([(3, 2), (2, 2)], "real"),), X)
add("dist", lambda M, a, b: M.dist(a, b), binary_samples(shapes=_BSH, noncontig=False), X, f32=True)
add("dist_p3", lambda M, a, b: a.dist(b, 3), binary_samples(shapes=[((2, 3), (3,))], noncontig=False), X)
add("std_mean", lambda M, x: M.std_mean(x, 1), unary_samples(shapes=[(2, 3), (2, 3, 2)]), X)
add("var_mean", lambda M, x: M.var_mean(x, correction=0), unary_samples(shapes=[(3,), (2, 3)]), X)
add("var_mean_dim_keepdim", lambda M, x: M.var_mean(x, (0, 1), keepdim=True), unary_samples(shapes=[(2, 3), (2, 3, 2)], noncontig=False), X)
add("nansum", lambda M, x: M.nansum(x), unary_samples(shapes=_SH), X, f32=True)
add("nansum_dim", lambda M, x: x.nansum(1, keepdim=True), unary_samples(shapes=[(2, 3), (0, 3)]), X)
add("nanmean", lambda M, x: M.nanmean(x, 0), unary_samples(shapes=[(3,), (2, 3)]), X)
add("aminmax", lambda M, x: M.aminmax(x), distinct_samples([(), (3,), (2, 3)], views=True), X)
add("aminmax_dim", lambda M, x: x.aminmax(dim=1, keepdim=True), distinct_samples([(2, 3), (2, 3, 2)], views=True), X)


def by_family(family):
    return [c for c in OPS if c.family == family]


def case_samples(case):
    """The samples of a case, the same on every run (seeded by the case's name)."""
    return case.samples(np.random.default_rng(zlib.crc32(case.name.encode())))


# --- ties in max/amax/min/amin (the rows above never tie). Each reduced group holds its
# largest and its smallest value exactly twice, the rest distinct and 0.1 apart. PyTorch splits
# the gradient of a tie evenly between the tied entries (amax/amin, and max()/min() without a
# dim); central differences see 1/2 per entry of a two-way tie, so gradcheck checks the split
# (sending it all to one entry, or 1 to each, fails). Second order is not checked here: a
# perturbation of eps breaks the tie, so numerically the gradient jumps.
def tied_samples(shapes, dims=None, views=False):
    """`dims`: the reduced dims (None: the whole tensor); every group needs 4+ entries."""

    def groups_tied(rng, shape):
        axes = tuple(range(len(shape))) if dims is None else tuple(d % len(shape) for d in dims)
        kept = [d for d in range(len(shape)) if d not in axes]
        moved = np.empty([shape[d] for d in kept] + [int(np.prod([shape[d] for d in axes]))])
        for idx in np.ndindex(*moved.shape[:-1]):
            m = moved.shape[-1]
            vals = (np.arange(m - 2) * 0.1 - 0.05 * m + rng.uniform(0, 0.01))
            vals = np.concatenate([vals[:1], vals, vals[-1:]])  # smallest and largest twice
            moved[idx] = rng.permutation(vals)
        full = moved.reshape([shape[d] for d in kept] + [shape[d] for d in axes])
        return np.ascontiguousarray(np.moveaxis(full, range(len(kept), len(shape)), axes))

    def gen(rng):
        out = [Sample((groups_tied(rng, s),), desc=f"{s} ties") for s in shapes]
        if views:  # the op sees the transpose of a (4, 2) leaf: ties along the view's groups
            base = groups_tied(rng, (2, 4)).T.copy()
            out.append(Sample((base,), (T,), "(4,2).T ties"))
        return out

    return gen


_TIE = "reduction"
add("max_ties", lambda M, x: M.max(x), tied_samples([(4,), (2, 3), (2, 3, 2)], views=True), _TIE, gradgrad=False, f32=True)
add("min_ties", lambda M, x: x.min(), tied_samples([(5,), (2, 3)], views=True), _TIE, gradgrad=False)
add("amax_ties", lambda M, x: M.amax(x), tied_samples([(4,), (2, 3, 2)], views=True), _TIE, gradgrad=False, f32=True)
add("amin_ties", lambda M, x: M.amin(x), tied_samples([(4,), (2, 3)], views=True), _TIE, gradgrad=False)
add("amax_dim_ties", lambda M, x: M.amax(x, dim=1, keepdim=True), tied_samples([(2, 4), (2, 5, 3)], dims=(1,)), _TIE, gradgrad=False)
add("amax_dims_ties", lambda M, x: x.amax((0, 2)), tied_samples([(2, 3, 2)], dims=(0, 2)), _TIE, gradgrad=False)
add("amin_dim_ties", lambda M, x: x.amin(-1), tied_samples([(4,), (3, 4)], dims=(-1,), views=False), _TIE, gradgrad=False)
add("amin_dims_ties", lambda M, x: M.amin(x, (0, 1), keepdim=True), tied_samples([(2, 2, 3)], dims=(0, 1)), _TIE, gradgrad=False)
