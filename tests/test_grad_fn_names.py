"""grad_fn names as PyTorch's: every op and form of the op table (tests/op_db.py, every sample),
and the indexing, reshaping and matmul forms whose node PyTorch picks by the call.

Printed tensors show ``grad_fn=<...>``, so the name of each output's node must be the one
PyTorch gives (``type(t.grad_fn).__name__``), None where PyTorch records none.
"""
import numpy as np
import pytest

import autograd_gpu as ag
import autograd_gpu.nn.functional  # noqa: F401  (the M.F namespace of the op lambdas)
from op_db import OPS, Lib, case_samples

AG = Lib(ag, ag.nn.functional)

CASES = [pytest.param(c, id=c.name) for c in OPS if c.oracle]


def _fn(case, lib, sample):
    views = sample.views or (None,) * len(sample.arrays)

    def f(*xs):
        xs = [v(x) if v is not None else x for v, x in zip(views, xs)]
        return case.op(lib, *xs)

    return f


def _outs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def ours(t):
    return None if t.grad_fn is None else t.grad_fn.name()


def theirs(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


@pytest.mark.parametrize("case", CASES)
def test_op_table_names_match_pytorch(case, torch):
    tlib = Lib(torch, torch.nn.functional)
    wrong = []
    for s in case_samples(case):
        xs = [ag.tensor(a, dtype=ag.float64, requires_grad=True) for a in s.arrays]
        txs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in s.arrays]
        got = [ours(o) for o in _outs(_fn(case, AG, s)(*xs))]
        want = [theirs(o) for o in _outs(_fn(case, tlib, s)(*txs))]
        if got != want:
            wrong.append(f"{s.desc}: {got} != PyTorch's {want}")
    assert not wrong, f"{case.name}: " + "; ".join(wrong)


def test_the_table_is_walked():
    # every row with a PyTorch counterpart is compared (a guard against an empty walk)
    assert len(CASES) > 300


def _pair(torch, shape, f, names=None):
    a = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape)
    x = ag.tensor(a, dtype=ag.float64, requires_grad=True) * 1
    tx = torch.tensor(a, dtype=torch.float64, requires_grad=True) * 1
    return ours(f(ag, x)), theirs(f(torch, tx))


KEYS = [
    0, -1, (0, 1), (slice(None), 1), (None,), (0, None), (None, 0), (slice(1, None),),
    (0, slice(1, None)), (slice(1, None), 0), (slice(None),), (Ellipsis,), (Ellipsis, 0),
    (0, Ellipsis), (slice(None), slice(None)), (slice(None, None, 2),), (slice(0, 3),),
    (slice(0, 9),), (slice(None), None), (1, None, slice(None)), (0, 1, 2),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_basic_indexing_names(key, torch):
    """x[0] selects, x[:, 1] selects, x[1:] slices, x[None] unsqueezes, x[:] is an alias:
    the node of the last component that changes the view."""
    got, want = _pair(torch, (3, 4, 5), lambda M, x: x[key])
    assert got == want


SET_KEYS = [
    (slice(None),), (Ellipsis,), (0,), (None,), ("i",), (0, "i"), (slice(None), "i"),
    (slice(1, None), "i"), ("i", 0), (None, "i"),
]


@pytest.mark.parametrize("key", SET_KEYS, ids=[repr(k) for k in SET_KEYS])
@pytest.mark.parametrize("value", ["number", "tensor"])
def test_setitem_names(key, value, torch):
    """x[key] = v: CopySlices where the key's basic part makes a view, else fill/copy for a
    basic key and IndexPutBackward0 for an index array."""
    def f(M, x):
        k = tuple(M.tensor([0, 1]) if c == "i" else c for c in key)
        x[k] = 2.0 if value == "number" else M.ones(5, dtype=M.float64)
        return x

    got, want = _pair(torch, (3, 4, 5), f)
    assert got == want


FORMS = {
    "reshape_contiguous": ((2, 3, 4), lambda M, x: x.reshape(6, 4)),
    "reshape_alias": ((2, 4, 4), lambda M, x: x[:, ::2].reshape(2, 2, 4)),
    "reshape_copy": ((2, 3, 4), lambda M, x: x[:, ::2].reshape(-1)),
    "reshape_transposed": ((2, 3), lambda M, x: x.t().reshape(-1)),
    "view": ((2, 3, 4), lambda M, x: x.view(4, 6)),
    "flatten_one_dim": ((2, 3, 4), lambda M, x: x.flatten(1, 1)),
    "flatten_scalar": ((), lambda M, x: x.flatten()),
    "squeeze_all": ((2, 1, 3), lambda M, x: x.squeeze()),
    "squeeze_int": ((2, 1, 3), lambda M, x: x.squeeze(1)),
    "squeeze_tuple": ((2, 1, 3), lambda M, x: x.squeeze((0, 1))),
    "squeeze_nothing": ((2, 3), lambda M, x: x.squeeze()),
    "t_vector": ((3,), lambda M, x: x.t()),
    "t_matrix": ((2, 3), lambda M, x: x.t()),
    "T": ((2, 3), lambda M, x: x.T),
    "mT": ((2, 3), lambda M, x: x.mT),
    "split_int": ((2, 3), lambda M, x: x.split(2, 1)[0]),
    "split_one_piece": ((2, 3), lambda M, x: x.split(3, 1)[0]),
    "split_sizes_one_piece": ((2, 3), lambda M, x: x.split([3], 1)[0]),
    "chunk": ((2, 3), lambda M, x: x.chunk(3, 1)[0]),
    "unbind": ((2, 3), lambda M, x: x.unbind(0)[1]),
    "narrow": ((2, 3), lambda M, x: x.narrow(1, 0, 2)),
    "select": ((2, 3), lambda M, x: x.select(0, 1)),
    "atleast_1d_scalar": ((), lambda M, x: M.atleast_1d(x)),
    "atleast_3d_matrix": ((2, 3), lambda M, x: M.atleast_3d(x)),
    "matmul_matrix_batch": ((2, 3), lambda M, x: x @ M.ones(2, 3, 4, dtype=M.float64)),
    "matmul_row_batch": ((1, 3), lambda M, x: x @ M.ones(2, 3, 4, dtype=M.float64)),
    "matmul_batch_matrix": ((2, 2, 3), lambda M, x: x @ M.ones(3, 4, dtype=M.float64)),
    "bmm": ((2, 2, 3), lambda M, x: M.bmm(x, M.ones(2, 3, 4, dtype=M.float64))),
    "mm": ((2, 3), lambda M, x: M.mm(x, M.ones(3, 4, dtype=M.float64))),
    "matrix_power_1": ((2, 2), lambda M, x: M.matrix_power(x, 1)),
    "einsum_permute": ((2, 3), lambda M, x: M.einsum("ij->ji", x)),
    "einsum_sum": ((2, 3), lambda M, x: M.einsum("ij->j", x)),
    "einsum_outer": ((2,), lambda M, x: M.einsum("i,j->ij", x, x)),
    "rot90_0": ((2, 3), lambda M, x: M.rot90(x, 0)),
    "repeat_interleave_dim": ((2, 3), lambda M, x: x.repeat_interleave(2, dim=1)),
    "topk_scalar": ((), lambda M, x: x.topk(1)[0]),
    "quantile_scalar_q": ((2, 5), lambda M, x: M.quantile(x, 0.5, dim=1)),
    "clamp_tensor_min": ((2, 3), lambda M, x: M.clamp(x, min=M.zeros(3, dtype=M.float64))),
    "rsub": ((3,), lambda M, x: 1 - x),
    "prod_all": ((3,), lambda M, x: x.prod()),
    "prod_dim": ((2, 3), lambda M, x: x.prod(1)),
}


@pytest.mark.parametrize("form", list(FORMS))
def test_forms_pytorch_names_by_the_call(form, torch):
    shape, f = FORMS[form]
    got, want = _pair(torch, shape, f)
    assert got == want


def test_split_into_one_piece_is_a_view_not_the_input():
    x = ag.ones(2, 3, requires_grad=True) * 1
    (piece,) = x.split(3, 1)
    assert piece is not x and piece.grad_fn.name() == "SplitBackward0"
    piece.sum().backward()  # the gradient still flows through the new node


def test_flatten_of_a_vector_is_the_input_itself():
    x = ag.ones(3, requires_grad=True)
    assert x.flatten() is x  # PyTorch returns self when start_dim == end_dim


def test_composite_keeps_its_own_backward_under_the_name(torch):
    """A composite shown under PyTorch's name (std) still differentiates as itself."""
    from autograd_gpu.autograd import gradcheck, gradgradcheck

    x = ag.tensor([[1.0, 2.0, 4.0], [0.5, 3.0, 1.5]], dtype=ag.float64, requires_grad=True)
    assert x.std(1).grad_fn.name() == "StdBackward0"
    assert gradcheck(lambda a: a.std(1), (x,))
    assert gradgradcheck(lambda a: a.std(1), (x,))
