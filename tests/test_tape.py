"""The tape's C loops (autograd/_tape.c): the paths the op tests do not reach on their own.

The op, autograd and in-place tests run every op through these loops; here are the rare
branches: a 0-d output of a multi-output node as the root, the fallback from the C
backward to the Python set-up, bad arguments, and gradients summed in place only where
nobody else holds the array.
"""
import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd import _tape
from autograd_gpu.autograd.node import Node


def test_scalar_backward_from_a_multi_output_node():
    # v is output 0 of MaxBackward0 (values, indices): the C root seeds that slot only
    x = ag.tensor([1.0, 5.0, 3.0], requires_grad=True)
    v, i = x.max(dim=0)
    assert v.ndim == 0 and i.item() == 1
    v.backward()
    assert x.grad.tolist() == [0.0, 1.0, 0.0]


def test_scalar_backward_retains_the_graph_only_when_asked():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_backward_of_a_leaf_and_of_a_non_scalar_falls_back_to_the_python_set_up():
    x = ag.tensor(3.0, requires_grad=True)
    x.backward()  # a 0-d leaf: no grad_fn, so not the C root
    assert x.grad.item() == 1.0
    y = ag.tensor([1.0, 2.0], requires_grad=True)
    (y * 2).backward(ag.ones(2))
    assert y.grad.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        (y * 2).backward()


def test_a_first_gradient_is_adopted_only_when_nobody_else_holds_it():
    seen = []
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1.0
    y.register_hook(lambda g: seen.append(g) or None)  # the hook keeps the gradient
    y.sum().backward()
    x.grad.zero_()  # must not change what the hook saw
    assert seen[0].tolist() == [1.0, 1.0]


def test_gradients_summed_in_place_never_write_into_a_held_array():
    # x feeds two consumers; the second gradient is summed into the first's buffer only
    # when the engine alone holds that buffer, never into the array the hook kept
    kept = []
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1.0
    a.register_hook(lambda g: kept.append(g) or None)
    z = a * 2.0 + a * 3.0
    z.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    assert kept[0].tolist() == [5.0, 5.0]
    x.grad.zero_()
    assert kept[0].tolist() == [5.0, 5.0]


def test_accumulating_into_grad_bumps_its_version():
    x = ag.tensor([1.0], requires_grad=True)
    (x * 2).sum().backward()
    g = x.grad
    before = g._version[0]
    (x * 2).sum().backward()
    assert x.grad is g and g.tolist() == [4.0] and g._version[0] == before + 1


def test_a_tensor_made_without_init_is_refused_not_crashed_on():
    bare = object.__new__(ag.Tensor)  # no slot set
    with pytest.raises(AttributeError, match="without data"):
        bare * 2


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: _tape.wrap(), r"wrap\(data"),
        (lambda: _tape.init(np.zeros(1), np.zeros(1)), "not a Tensor"),
        (lambda: _tape.apply(), "Node subclass"),
        (lambda: _tape.backward_loop([], {}), "12 arguments"),
        (lambda: _tape.resolve_saved(None, ()), r"resolve_saved\(node"),
        (lambda: _tape.backward_scalar(None), "backward_scalar"),
    ],
)
def test_bad_arguments_to_the_c_functions_raise_type_errors(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_grad_mode_is_restored_when_a_backward_raises():
    class Boom(Node):
        def forward(self, x):
            return x * 1

        def backward(self, g):
            raise ValueError("boom")

    x = ag.tensor([1.0], requires_grad=True)
    y = Boom.apply(x).sum()
    with pytest.raises(ValueError, match="boom"):
        y.backward()
    assert ag.is_grad_enabled()
    y3 = Boom.apply(x).sum()
    with ag.no_grad():  # restored to off, not to the default
        with pytest.raises(ValueError, match="boom"):
            y3.backward()
        assert not ag.is_grad_enabled()


# ------------------------------------------------ the in-place gradient-sum rule (_tape.c summed)
# A second gradient for a slot that already holds an array is summed into that array in place
# only when the table holds the array's one reference and it is a plain NumPy array, not a
# view; otherwise into a new array. Each test below gives the loop a held, shared or view array
# and fails if the sum is always taken in place.

def _loop(roots, buffers, leaf_grads=None):
    """The engine's C loop, called as run_backward calls it (first order, into .grad)."""
    _tape.backward_loop(roots, buffers, {} if leaf_grads is None else leaf_grads, None, None,
                        None, False, False, True, Node._record_trace, None, None)


def test_a_seed_held_by_the_caller_is_never_summed_into():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    b = x * 2.0
    a = b * 3.0
    ga, gb = ag.tensor([1.0, 10.0]), ag.tensor([100.0, 1000.0])
    # b's slot starts with gb's own array; a's backward adds 3 * ga into that slot
    ag.autograd.backward([a, b], [ga, gb])
    assert gb.tolist() == [100.0, 1000.0]
    assert x.grad.tolist() == [2 * (100.0 + 3.0), 2 * (1000.0 + 30.0)]


def test_a_seed_held_only_through_the_table_is_summed_and_correct():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    b = x * 2.0
    a = b * 3.0
    _loop([a.grad_fn, b.grad_fn], {a.grad_fn: [np.ones(2)], b.grad_fn: [np.full(2, 5.0)]})
    assert x.grad.tolist() == [2 * (5.0 + 3.0)] * 2


def test_a_view_in_the_table_is_not_summed_into_its_base():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    b = x * 2.0
    a = b * 3.0
    base = np.array([[5.0, 7.0], [11.0, 13.0]])
    # the table holds the view's only reference, but the view writes into `base`
    _loop([a.grad_fn, b.grad_fn], {a.grad_fn: [np.ones(2)], b.grad_fn: [base[0]]})
    assert base.tolist() == [[5.0, 7.0], [11.0, 13.0]]
    assert x.grad.tolist() == [2 * (5.0 + 3.0), 2 * (7.0 + 3.0)]


def test_one_array_given_to_two_slots_is_not_summed_into():
    # AddBackward returns its output gradient itself for both inputs: u's and v's slots hold
    # one array; u's second gradient (from u * 5) must not change v's
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    u, v = x * 2.0, x * 3.0
    d = (u * 5.0).sum() + (u + v).sum()
    d.backward()
    assert x.grad.tolist() == [6.0 * 2 + 1.0 * 3] * 2


def test_a_leafs_first_gradient_held_by_the_caller_is_never_summed_into():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    b = x * 2.0
    gx, gb = ag.tensor([100.0, 1000.0]), ag.tensor([1.0, 10.0])
    ag.autograd.backward([x, b], [gx, gb], retain_graph=True)  # x's sink starts with gx's array; then 2 * gb
    assert gx.tolist() == [100.0, 1000.0]
    assert x.grad.tolist() == [102.0, 1020.0]
    g = ag.autograd.grad([b, b], [x], [gb, gb])[0]  # (the Python set-up sums the same root twice)
    assert gb.tolist() == [1.0, 10.0] and g.tolist() == [4.0, 40.0]


def test_a_leaf_sink_holding_a_view_is_not_summed_into_its_base():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    b = x * 2.0
    base = np.array([[5.0, 7.0], [11.0, 13.0]])
    _loop([b.grad_fn], {b.grad_fn: [np.ones(2)]}, {x._get_accumulator(): base[1]})
    assert base.tolist() == [[5.0, 7.0], [11.0, 13.0]]
    assert x.grad.tolist() == [13.0, 15.0]


# ------------------------------------------------ ops on their inputs' device (_tape.OnDevice)

def test_wrapped_ops_keep_what_a_function_has_and_pickle_by_reference():
    # ops/_device.py wraps the ops that work on raw arrays outside their nodes: what
    # introspection, pickle and deepcopy see must stay as for the plain functions
    import copy
    import functools
    import inspect
    import pickle

    wrapped = [v for m in (ag, ag.nn.functional, ag.linalg) for v in vars(m).values()
               if type(v) is _tape.OnDevice]
    wrapped += [v for v in vars(ag.Tensor).values() if type(v) is _tape.OnDevice]
    assert len(wrapped) > 300
    assert all(pickle.loads(pickle.dumps(w)) is w and copy.deepcopy(w) is w for w in wrapped)
    assert inspect.signature(ag.sort) == inspect.signature(ag.sort.__wrapped__)
    assert ag.sort.__doc__ == ag.sort.__wrapped__.__doc__ and ag.sort.__name__ == "sort"
    pad = pickle.loads(pickle.dumps(functools.partial(ag.nn.functional.pad, pad=(1, 1))))
    assert pad(ag.ones(2)).tolist() == [0.0, 1.0, 1.0, 0.0]
    x = ag.tensor([3.0, 1.0, 2.0])
    assert x.sort().values.tolist() == ag.Tensor.sort(x).values.tolist() == [1.0, 2.0, 3.0]
    assert x[ag.tensor([2, 0])].tolist() == [2.0, 3.0]
