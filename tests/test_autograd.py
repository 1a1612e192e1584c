"""The tape: leaves, grad accumulation, retain_grad, hooks, grad mode, retain_graph,
create_graph and higher derivatives, autograd.grad, deep graphs, and PyTorch's errors."""
import os
import threading

import numpy as np
import pytest

import autograd_gpu as ag
from conftest import to_numpy


def test_leaves_and_requires_grad():
    v1 = ag.tensor([1.0, 1.0], requires_grad=True)
    v2 = ag.tensor([2.0, 2.0])
    s = v1 + v2
    assert v1.is_leaf and v2.is_leaf and not s.is_leaf
    assert s.requires_grad and not v2.requires_grad
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        s.requires_grad = False
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        ag.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        ag.tensor([1, 2], requires_grad=True)
    x = ag.ones(2)
    x.requires_grad = True
    assert x.requires_grad and x.is_leaf


def test_grad_fn_names_and_next_functions(torch):
    for lib in (ag, torch):
        x = lib.tensor(5.0, requires_grad=True)
        c = lib.tensor(3.0)
        y = c * lib.sin(x) + x + c
        names = []
        fn = y.grad_fn
        while fn is not None:
            names.append(type(fn).__name__ if lib is torch else fn.name)
            nxt = [f for f, _ in fn.next_functions if f is not None]
            fn = nxt[0] if nxt else None
        if lib is ag:
            ours = names
        else:
            theirs = names
    assert ours == theirs  # AddBackward0, AddBackward0, MulBackward0, SinBackward0, AccumulateGrad


def test_gradients_accumulate_and_can_be_reset():
    x = ag.tensor(5.0, requires_grad=True)
    for expected in (30.0, 60.0):
        (3 * x ** 2).backward()
        assert x.grad.item() == expected
    x.grad = None
    (3 * x ** 2).backward()
    assert x.grad.item() == 30.0
    x.grad.zero_()
    assert x.grad.item() == 0.0
    with pytest.raises(RuntimeError, match="different size"):
        x.grad = ag.ones(2)


def test_shared_gradient_arrays_are_not_aliased():
    # Add hands the same gradient array to both inputs; each leaf must own its .grad
    a = ag.ones(3, requires_grad=True)
    b = ag.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0, 1.0]
    (a + b).sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0] and b.grad.tolist() == [2.0, 2.0, 2.0]


def test_nonleaf_grad_warns_and_retain_grad_keeps_it():
    A = ag.rand(3, 2, requires_grad=True)
    B = ag.rand(2, 1, requires_grad=True)
    temp = A @ B
    temp.sum().backward()
    with pytest.warns(UserWarning, match="retain_grad"):
        assert temp.grad is None
    temp = A @ B
    temp.retain_grad()
    temp.sum().backward()
    assert temp.grad.tolist() == [[1.0]] * 3
    np.testing.assert_allclose(to_numpy(B.grad), 2 * to_numpy(A).sum(0)[:, None], rtol=1e-6)


def test_detach_shares_data_and_data_attribute():
    x = ag.ones(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    with ag.no_grad():
        d[0] = 5.0
    assert x[0].item() == 5.0
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad
    x.data = ag.zeros(3)
    assert x.tolist() == [0.0, 0.0, 0.0] and x.requires_grad
    assert not x.data.requires_grad


def test_backward_with_gradient_argument_and_inputs():
    x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = ag.tensor([0.5, 0.5, 0.5], requires_grad=True)
    y = x * w
    y.backward(ag.tensor([1.0, 0.0, 2.0]), inputs=[x])
    assert x.grad.tolist() == [0.5, 0.0, 1.0]
    assert w.grad is None


def test_backward_errors_match_pytorch():
    w = ag.rand(5, requires_grad=True)
    with ag.no_grad():
        y = ag.sum(w)
    with pytest.raises(RuntimeError, match="^element 0 of tensors does not require grad and does "
                       "not have a grad_fn$"):
        y.backward()
    y = w * 2
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        y.backward()
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape of "
                       r"torch.Size\(\[4\]\) and output\[0\] has a shape of torch.Size\(\[5\]\)"):
        y.backward(ag.ones(4))
    assert w.grad is None  # nothing was accumulated by the failed calls


def test_second_backward_fails_with_pytorch_message_unless_retained():
    x = ag.tensor(5.0, requires_grad=True)
    y = 3 * x ** 2
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.item() == 60.0
    with pytest.raises(RuntimeError, match=r"^Trying to backward through the graph a second time "
                       r".*Specify retain_graph=True.*detach\(\)"):
        y.backward()


def test_autograd_grad_returns_without_touching_grad():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    z = ag.tensor([1.0], requires_grad=True)
    y = (x ** 3).sum()
    (g,) = ag.autograd.grad(y, x, retain_graph=True)
    assert g.tolist() == [3.0, 12.0] and x.grad is None
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors appears to not have "
                       "been used in the graph. Set allow_unused=True"):
        ag.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = ag.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None and gx.tolist() == [3.0, 12.0]
    # grad_outputs for a non-scalar output, and an intermediate as input
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    out = h ** 2
    (gh,) = ag.autograd.grad(out, h, grad_outputs=ag.tensor([1.0, 0.5]))
    assert gh.tolist() == [6.0, 6.0]


def test_higher_order_derivatives():
    x = ag.tensor(2.0, requires_grad=True)
    y = x ** 4
    (d1,) = ag.autograd.grad(y, x, create_graph=True)
    (d2,) = ag.autograd.grad(d1, x, create_graph=True)
    (d3,) = ag.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (32.0, 48.0, 48.0)
    # backward(create_graph=True) leaves a differentiable .grad
    x = ag.tensor(3.0, requires_grad=True)
    (x ** 3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.item() == 27.0
    x.grad = None
    g.backward()
    assert x.grad.item() == 18.0


def test_gradient_of_gradient_norm_matches_pytorch(torch):
    def run(lib):
        w = lib.tensor([[0.3, -0.2], [0.1, 0.4]], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([[1.0, 2.0], [-1.0, 0.5]], dtype=lib.float64)
        loss = lib.tanh(x @ w).pow(2).sum()
        (g,) = lib.autograd.grad(loss, w, create_graph=True)
        (g * g).sum().backward()
        return w.grad.detach().numpy()
    np.testing.assert_allclose(run(ag), run(torch), rtol=1e-12)


def test_hooks_can_replace_gradients():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [30.0, 30.0]
    h.remove()
    x.grad = None
    (x * 1).sum().backward()
    assert seen == [[30.0, 30.0]] and x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        ag.ones(1).register_hook(lambda g: g)


def test_grad_mode_contexts_decorators_and_threads():
    x = ag.ones(2, requires_grad=True)
    with ag.no_grad():
        assert not (x * 2).requires_grad
        with ag.enable_grad():
            assert (x * 2).requires_grad
    with ag.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad

    @ag.no_grad()
    def f():
        return x * 2

    assert not f().requires_grad and ag.is_grad_enabled()
    ag.set_grad_enabled(False)
    assert not ag.is_grad_enabled()
    ag.set_grad_enabled(True)

    seen = []
    with ag.no_grad():
        t = threading.Thread(target=lambda: seen.append((x * 2).requires_grad))
        t.start()
        t.join()
    assert seen == [True]  # grad mode is per thread


def test_chain_of_100000_ops_backpropagates_without_recursion():
    x = ag.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_dropping_the_loss_frees_the_graph():
    import gc
    import weakref

    gc.disable()
    try:
        x = ag.ones(3, requires_grad=True)
        y = (x * 2).exp().sum()
        node = weakref.ref(y.grad_fn)
        del y
        assert node() is None
    finally:
        gc.enable()


def test_inplace_on_leaf_requiring_grad_raises():
    w = ag.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an "
                       "in-place operation"):
        w += 1
    assert w.tolist() == [1.0, 1.0] and w._version_number == 0


def test_gradcheck_detects_a_wrong_gradient():
    from autograd_gpu.autograd.node import Node

    class BadSquare(Node):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, g):
            (x,) = self.saved_tensors
            return g * x  # should be 2x

    x = ag.tensor([0.5, -1.5], dtype=ag.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        ag.autograd.gradcheck(BadSquare.apply, (x,))
    assert not ag.autograd.gradcheck(BadSquare.apply, (x,), raise_exception=False)
    assert ag.autograd.gradcheck(lambda t: t * t, (x,))
    assert ag.autograd.gradgradcheck(lambda t: t * t * t, (x,))


def test_saved_tensors_of_a_function_that_saved_nothing_is_empty():
    from autograd_gpu.autograd.node import Node

    class Double(Node):
        def forward(self, x):
            return x * 2

        def backward(self, g):
            assert list(self.saved_tensors) == []  # as PyTorch's ctx.saved_tensors: ()
            return g * 2

    x = ag.tensor([1.0, 2.0], requires_grad=True)
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_zero_dim_leaf_grad_is_an_array_that_zero_clears():
    # a 0-d op returns NumPy scalars; the leaf's .grad must still be a writable array
    x = ag.tensor(0.5, requires_grad=True)
    (x * ag.cos(4 * x) + 2 * ag.abs(x)).backward()
    assert isinstance(x.grad._data, np.ndarray)
    first = x.grad.item()
    x.grad.zero_()
    assert x.grad.item() == 0.0
    (x * ag.cos(4 * x) + 2 * ag.abs(x)).backward()
    assert x.grad.item() == first


def test_fresh_gradient_is_kept_without_copy_but_never_shared():
    w = ag.ones(3, requires_grad=True)
    (w * ag.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert w.grad._data.base is None
    a, b = ag.ones(3, requires_grad=True), ag.ones(3, requires_grad=True)
    (a + b).sum().backward()  # Add gives both leaves the same array: each needs its own
    assert not np.shares_memory(a.grad._data, b.grad._data)
    g = ag.tensor([1.0, 2.0, 3.0])
    u = ag.ones(3, requires_grad=True)
    u.backward(g)  # a gradient the caller holds is copied, not adopted
    assert not np.shares_memory(u.grad._data, g._data)


def test_grad_fn_name_is_a_string_and_callable_as_in_pytorch(torch):
    x = ag.ones(2, 3, requires_grad=True)
    lin = ag.nn.Linear(3, 2)
    cases = [x * 2, x.sum(), x.sum(1), ag.matmul(x, ag.ones(3)), lin(x), ag.nn.functional.linear(x, lin.weight)]
    names = [y.grad_fn.name() for y in cases]
    assert all(isinstance(n, str) and n == y.grad_fn.name for n, y in zip(names, cases))
    tx = torch.ones(2, 3, requires_grad=True)
    tlin = torch.nn.Linear(3, 2)
    expected = [y.grad_fn.name() for y in (tx * 2, tx.sum(), tx.sum(1), torch.matmul(tx, torch.ones(3)),
                                            tlin(tx), torch.nn.functional.linear(tx, tlin.weight))]
    assert names == expected
    assert (x * 2).grad_fn.next_functions[0][0].name() == "AccumulateGrad"


def test_nonleaf_grad_warning_is_pytorchs_and_points_at_the_caller(torch):
    msgs = []
    for lib in (ag, torch):
        y = lib.ones(2, requires_grad=True) * 2
        with pytest.warns(UserWarning) as rec:
            assert y.grad is None
        msgs.append(str(rec[0].message))
        # (stacklevel: the user's line, not the library's; under mutmut its trampoline adds
        # a frame)
        if lib is ag and "MUTANT_UNDER_TEST" not in os.environ:
            assert rec[0].filename == __file__
    # (PyTorch's message ends with a link to its pull request and the C++ source line)
    assert msgs[1].startswith(msgs[0] + " See github.com/pytorch/pytorch/pull/30531")


def test_post_accumulate_grad_hooks_run_after_every_leaf_is_written_as_pytorch(torch):
    def run(lib, inputs_arg):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        a.grad = lib.tensor([10.0, 10.0], dtype=lib.float64)
        log = []
        a.register_post_accumulate_grad_hook(lambda t: log.append(("a1", t.grad.tolist())))
        a.register_post_accumulate_grad_hook(lambda t: log.append(("a2", t.grad.tolist())))
        b.register_post_accumulate_grad_hook(lambda t: log.append(("b", t.grad.tolist())))
        loss = (a * a).sum() * b.sum()
        if inputs_arg:
            loss.backward(inputs=[b])
        else:
            loss.backward()
        lib.autograd.grad((a * 3).sum(), a)  # autograd.grad writes no .grad: no hook runs
        return log

    for inputs_arg in (False, True):
        ours, theirs = run(ag, inputs_arg), run(torch, inputs_arg)
        assert sorted(ours) == sorted(theirs), (inputs_arg, ours, theirs)
        assert [e for e in ours if e[0] != "b"] == [e for e in theirs if e[0] != "b"]  # a1 then a2
    assert sorted(run(ag, False)) == [("a1", [16.0, 22.0]), ("a2", [16.0, 22.0]), ("b", [5.0])]


def test_a_hooked_leaf_is_written_as_soon_as_its_gradient_is_complete_as_pytorch(torch):
    # each weight's hook runs while the backward still has the earlier layers to go: their
    # .grad is not written yet (what lets DistributedDataParallel all-reduce during backward)
    def run(lib):
        ws = [lib.tensor(np.random.default_rng(k).normal(size=(4, 4)), requires_grad=True)
              for k in range(3)]
        log = []
        for k, w in enumerate(ws):
            w.register_post_accumulate_grad_hook(
                lambda t, k=k: log.append((k, [v.grad is None for v in ws], t.grad.sum().item())))
        h = lib.ones(2, 4, dtype=lib.float64)
        for w in ws:
            h = (h @ w).tanh()
        (h * h).sum().backward()
        return log

    ours, theirs = run(ag), run(torch)
    assert [e[:2] for e in ours] == [e[:2] for e in theirs] == [
        (2, [True, True, False]), (1, [True, False, False]), (0, [False, False, False])]
    assert np.allclose([e[2] for e in ours], [e[2] for e in theirs], rtol=1e-12, atol=0)


def test_the_engine_counts_only_live_leaves_with_post_accumulate_hooks():
    # (while one lives, every backward counts the edges into hooked leaves first; once none
    # does, loss.backward() takes its fast path again)
    import gc

    from autograd_gpu.autograd import engine

    gc.collect()  # (earlier tests' hooked leaves in reference cycles)
    before = engine._post_accumulate_leaves[0]
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: None)
    w.register_post_accumulate_grad_hook(lambda t: None)
    assert engine._post_accumulate_leaves[0] == before + 1
    del w
    gc.collect()
    assert engine._post_accumulate_leaves[0] == before


def test_a_hooked_leafs_gradient_is_adopted_as_grad_without_a_copy():
    made = []

    class Fresh(ag.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            out = (g * 3.0)._data
            made.append(ag.backend.data_ptr(out))
            return ag.from_numpy(out)

    w = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: None)
    Fresh.apply(w).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0, 3.0]
    assert ag.backend.data_ptr(w.grad._data) == made[0]


def test_between_nodes_callbacks_run_after_each_node_of_a_hooked_backward():
    # (DistributedDataParallel's: it tests its all-reduces in flight there; held weakly)
    import gc

    from autograd_gpu.autograd import engine

    class Ticks:
        n = 0

        def tick(self):
            self.n += 1

    ticks = Ticks()
    engine.call_between_nodes(ticks.tick)
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    (w * 2).sum().backward()  # no hooked leaf: the callbacks do not run
    assert ticks.n == 0
    w.register_post_accumulate_grad_hook(lambda t: None)
    (w * 2).sum().backward()  # SumBackward0, then MulBackward0
    assert ticks.n == 2
    n = len(engine._between_nodes)
    del ticks
    gc.collect()
    assert len(engine._between_nodes) == n - 1


def test_a_leaf_used_twice_is_written_once_with_both_gradients(torch):
    def run(lib):
        w = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([0.5, 3.0], dtype=lib.float64, requires_grad=True)
        log = []
        w.register_post_accumulate_grad_hook(lambda t: log.append(("w", t.grad.tolist())))
        x.register_post_accumulate_grad_hook(lambda t: log.append(("x", t.grad.tolist())))
        y = (w * x).exp() * w  # w reaches the loss twice, at different depths
        y.sum().backward()
        return log

    assert run(ag) == run(torch)


def test_hooks_on_a_multi_output_node_and_retain_grad_order_as_pytorch(torch):
    def run(lib):
        x = lib.tensor([[1.0, 5.0], [4.0, 2.0]], dtype=lib.float64, requires_grad=True)
        v, i = x.max(dim=1)  # output 1 (indices) gets no gradient: hooks of output 0 still run
        v.retain_grad()  # registered first, but retain_grad sees what the later hooks return
        v.register_hook(lambda g: g * 2)
        v.register_hook(lambda g: g + 1)
        (v * lib.tensor([1.0, 3.0], dtype=lib.float64)).sum().backward()
        return x.grad.tolist(), v.grad.tolist()

    assert run(ag) == run(torch)


def test_a_hook_under_create_graph_gets_the_differentiable_gradient(torch):
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * x
        y.register_hook(lambda g: g * x)  # (the hook's result stays on the graph)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return g.tolist(), h.tolist()

    assert run(ag) == run(torch)


def test_gradient_shape_mismatch_message_names_every_dim(torch):
    msgs = []
    for lib in (ag, torch):
        y = lib.ones(2, 3, requires_grad=True) * 2
        with pytest.raises(RuntimeError) as e:
            y.backward(lib.ones(3, 2))
        msgs.append(str(e.value))
    assert msgs[0] == msgs[1]
