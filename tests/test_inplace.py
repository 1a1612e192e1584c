"""In-place safety: version counters, saved tensors modified after the forward, in-place ops
on non-leaf tensors, leaves and views, and the optimizer's no_grad update. PyTorch (float64)
is the oracle for every gradient and every version number."""
import re

import numpy as np
import pytest

import autograd_gpu as ag
from conftest import to_numpy

MODIFIED = (
    r"one of the variables needed for gradient computation has been modified by an inplace "
    r"operation: \[{dtype} \({shape}\)\]{where} is at version {v}; expected version {e} instead"
)


def _tensors(lib, data, dtype, **kw):
    return lib.tensor(np.asarray(data), dtype=dtype, **kw)


def _both(torch, data, requires_grad=False):
    """The same float64 values as an autograd_gpu tensor and a torch tensor."""
    a = ag.tensor(np.asarray(data, dtype=np.float64), dtype=ag.float64, requires_grad=requires_grad)
    t = torch.tensor(np.asarray(data, dtype=np.float64), dtype=torch.float64,
                     requires_grad=requires_grad)
    return a, t


def _version(t):
    return t._version_number if isinstance(t, ag.Tensor) else t._version


# in-place ops as (name, fn(x, lib, other)); `other` has x's shape, values in (0.5, 1.5)
INPLACE_OPS = [
    ("add_", lambda x, lib, o: x.add_(o)),
    ("add_alpha", lambda x, lib, o: x.add_(o, alpha=2)),
    ("sub_", lambda x, lib, o: x.sub_(o)),
    ("sub_alpha", lambda x, lib, o: x.sub_(o, alpha=0.5)),
    ("mul_", lambda x, lib, o: x.mul_(o)),
    ("mul_scalar", lambda x, lib, o: x.mul_(3.0)),
    ("div_", lambda x, lib, o: x.div_(o)),
    ("pow_", lambda x, lib, o: x.pow_(2)),
    ("clamp_", lambda x, lib, o: x.clamp_(-0.5, 0.5)),
    ("clamp_min", lambda x, lib, o: x.clamp_(min=0.0)),
    ("copy_", lambda x, lib, o: x.copy_(o)),
    ("fill_", lambda x, lib, o: x.fill_(2.5)),
    ("zero_", lambda x, lib, o: x.zero_()),
    ("setitem_int", lambda x, lib, o: x.__setitem__(1, 7.0)),
    ("setitem_slice", lambda x, lib, o: x.__setitem__(slice(0, 2), o[:2])),
    ("setitem_mask", lambda x, lib, o: x.__setitem__(x > 0, 1.0)),
]


def _iadd(x, o):
    x += o
    return x


def _isub(x, o):
    x -= o
    return x


def _imul(x, o):
    x *= o
    return x


def _idiv(x, o):
    x /= o
    return x


def _ipow(x, o):
    x **= 2
    return x


INPLACE_OPS += [
    ("iadd", lambda x, lib, o: _iadd(x, o)),
    ("isub", lambda x, lib, o: _isub(x, o)),
    ("imul", lambda x, lib, o: _imul(x, o)),
    ("idiv", lambda x, lib, o: _idiv(x, o)),
    ("ipow", lambda x, lib, o: _ipow(x, o)),
]
OP_IDS = [n for n, _ in INPLACE_OPS]
X0 = [-1.0, 0.25, 2.0]
O0 = [0.5, 1.25, 1.5]


# ------------------------------------------------------------------ version counters


@pytest.mark.parametrize("name,op", INPLACE_OPS, ids=OP_IDS)
def test_every_inplace_op_bumps_version_as_torch(torch, name, op):
    xa, xt = _both(torch, X0)
    oa, ot = _both(torch, O0)
    assert _version(xa) == _version(xt) == 0
    ra = op(xa, ag, oa)
    op(xt, torch, ot)
    if ra is not None:
        assert ra is xa  # in-place ops return self
    assert _version(xa) == _version(xt) >= 1
    np.testing.assert_array_equal(to_numpy(xa), xt.numpy())
    op(xa, ag, oa)
    op(xt, torch, ot)
    assert _version(xa) == _version(xt) >= 2
    assert _version(oa) == _version(ot) == 0  # the other operand is untouched


NONLEAF_OPS = [pytest.param(n, op, id=n) for n, op in INPLACE_OPS]


@pytest.mark.parametrize("name,op", NONLEAF_OPS)
def test_inplace_op_on_nonleaf_bumps_version_and_matches_torch_gradients(torch, name, op):
    """x = y * 2; <in-place op on x>; backward through x: values, versions and grads as torch."""
    ya, yt = _both(torch, X0, requires_grad=True)
    oa, ot = _both(torch, O0, requires_grad=True)
    outs = []
    for lib, y, o in ((ag, ya, oa), (torch, yt, ot)):
        x = y * 2
        v0 = _version(x)
        op(x, lib, o)
        assert _version(x) == v0 + 1
        assert not x.is_leaf and x.requires_grad
        loss = (x * x).sum() + x.sin().sum()
        loss.backward()
        outs.append((x.detach(), y.grad, o.grad))
    (xa, gya, goa), (xt, gyt, got) = outs
    np.testing.assert_allclose(to_numpy(xa), xt.numpy(), rtol=1e-12, atol=0)
    np.testing.assert_allclose(to_numpy(gya), gyt.numpy(), rtol=1e-12, atol=1e-15)
    if got is None:
        assert goa is None or not np.any(to_numpy(goa))
    else:
        np.testing.assert_allclose(to_numpy(goa), got.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "make_view",
    [
        pytest.param(lambda x: x[1:], id="slice"),
        pytest.param(lambda x: x[0], id="index"),
        pytest.param(lambda x: x.reshape(6), id="reshape"),
        pytest.param(lambda x: x.view(3, 2), id="view"),
        pytest.param(lambda x: x.t(), id="t"),
        pytest.param(lambda x: x.transpose(0, 1), id="transpose"),
        pytest.param(lambda x: x.permute(1, 0), id="permute"),
        pytest.param(lambda x: x.unsqueeze(0), id="unsqueeze"),
        pytest.param(lambda x: x.detach(), id="detach"),
        pytest.param(lambda x: x[1:].reshape(3)[::2], id="view-of-view"),
    ],
)
def test_views_and_detach_share_the_version_counter(torch, make_view):
    xa, xt = _both(torch, np.arange(6.0).reshape(2, 3))
    for x in (xa, xt):
        v = make_view(x)
        v.mul_(2)                           # through the view
        assert _version(x) == _version(v) == 1
        x.add_(1)                           # through the base
        assert _version(v) == _version(x) == 2
        w = make_view(x)                    # a view taken later sees the same counter
        assert _version(w) == 2
    np.testing.assert_array_equal(to_numpy(xa), xt.numpy())


def test_out_of_place_results_have_their_own_version_counter():
    x = ag.tensor([1.0, 2.0, 3.0])
    y = x + 1
    c = x.clone()
    y.add_(1)
    c.add_(1)
    assert x._version_number == 0
    assert y._version_number == 1 and c._version_number == 1
    np.testing.assert_array_equal(to_numpy(x), [1.0, 2.0, 3.0])


# ------------------------------------------------------------------ saved tensors modified


def test_modified_saved_input_of_nonleaf_raises_torch_message(torch):
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        z = y * y                       # saves y (version 0)
        y.add_(1)                       # y -> version 1
        return z.sum()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        prog(torch).backward()
    loss = prog(ag)
    with pytest.raises(RuntimeError, match=MODIFIED.format(
            dtype="float32", shape="3,", where=", which is output 0 of AddBackward0,", v=1, e=0)):
        loss.backward()


def test_modified_saved_input_leaf_without_grad_raises(torch):
    """w needs no gradient, but MulBackward0 needs w's values for x's gradient."""
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        w = lib.tensor([[4.0, 5.0, 6.0], [1.0, 1.0, 1.0]])
        z = x * w[0]
        w[0, 1] = 0.0                     # modifies the view w[0] through its base
        return z.sum()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        prog(torch).backward()
    with pytest.raises(RuntimeError, match=MODIFIED.format(
            dtype="float32", shape="3,", where="", v=1, e=0)):
        prog(ag).backward()


def test_modified_saved_input_twice_reports_current_version():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0])
    z = (x * w).sum()
    w.add_(1)
    w.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 2; expected version 0 instead"):
        z.backward()


def test_modified_saved_tensor_not_needed_is_fine(torch):
    """Add saves nothing, so modifying its input afterwards is harmless (as in torch)."""
    for lib in (ag, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0])
        z = (x + w).sum()
        w.add_(1)
        z.backward()
        assert x.grad.tolist() == [1.0, 1.0]


def test_saved_input_restored_by_value_still_raises():
    """Versions count writes, not values: writing the same values back still raises."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0])
    z = (x * w).sum()
    w.copy_(ag.tensor([3.0, 4.0]))
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


@pytest.mark.parametrize(
    "modify",
    [
        pytest.param("no_grad", id="no_grad"),
        pytest.param("detach", id="detach"),
        pytest.param("view_no_grad", id="view-no-grad"),
        pytest.param("grad_mode", id="grad-mode"),
    ],
)
def test_modified_saved_output_raises_torch_message(torch, modify):
    """The issue's example: exp saves its output; changing it must fail at backward."""
    def prog(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp()
        if modify == "no_grad":
            with lib.no_grad():
                y.add_(1)
        elif modify == "detach":
            y.detach().add_(1)
        elif modify == "view_no_grad":
            with lib.no_grad():
                y[1:].mul_(2)
        else:
            y.add_(1)
        return y.sum()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        prog(torch).backward()
    with pytest.raises(RuntimeError, match=MODIFIED.format(
            dtype="float32", shape="3,", where=", which is output 0 of ExpBackward0,", v=1, e=0)):
        prog(ag).backward()


def test_error_from_modified_tensor_leaves_grads_untouched():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward()
    before = (to_numpy(x.grad).copy(), to_numpy(w.grad).copy())
    y = x * 1
    z = (y * w).sum()
    with ag.no_grad():
        w.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()
    np.testing.assert_array_equal(to_numpy(x.grad), before[0])
    np.testing.assert_array_equal(to_numpy(w.grad), before[1])


# ------------------------------------------------------------------ non-leaf in-place, recorded


def test_issue_example_nonleaf_iadd_then_exp(torch):
    grads = []
    for lib in (ag, torch):
        y = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        x = y * 2
        x += 1
        x.exp().sum().backward()
        grads.append(y.grad)
    np.testing.assert_allclose(to_numpy(grads[0]), grads[1].numpy(), rtol=1e-13)
    np.testing.assert_allclose(to_numpy(grads[0]), 2 * np.exp(2 * np.array([0.5, -1.0, 2.0]) + 1),
                               rtol=1e-13)


def test_chain_of_inplace_ops_on_nonleaf_matches_torch_first_and_second_order(torch):
    rng = np.random.default_rng(1)
    y0 = rng.uniform(0.5, 1.5, (3, 4))
    w0 = rng.uniform(0.5, 1.5, (4,))

    def prog(lib, y, w):
        x = y * 1.5
        x.add_(w)
        x.mul_(w)
        x.sub_(y, alpha=0.5)
        x.div_(w + 1)
        x.pow_(2)
        x[0] = w * 3
        x[1:, 1] = 0.0
        x.clamp_(0.1, 3.0)
        return (x.sin() * y).sum()

    res = []
    for lib in (ag, torch):
        y = lib.tensor(y0, dtype=lib.float64, requires_grad=True)
        w = lib.tensor(w0, dtype=lib.float64, requires_grad=True)
        loss = prog(lib, y, w)
        gy, gw = (ag.autograd if lib is ag else torch.autograd).grad(loss, (y, w), create_graph=True)
        (gy.sum() + (gw * gw).sum()).backward()
        res.append([loss.detach(), gy.detach(), gw.detach(), y.grad, w.grad])
    for a, t in zip(*res):
        np.testing.assert_allclose(to_numpy(a), t.numpy(), rtol=1e-11, atol=1e-13)


def test_inplace_on_nonleaf_that_does_not_require_grad_with_grad_operand(torch):
    """A buffer without grad becomes part of the graph when a grad-requiring value enters."""
    res = []
    for lib in (ag, torch):
        w = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        buf = lib.zeros(3, dtype=lib.float64)
        buf.add_(w * w)
        buf[0] = w[2]
        assert buf.requires_grad and not buf.is_leaf
        buf.sum().backward()
        res.append(w.grad)
    np.testing.assert_array_equal(to_numpy(res[0]), res[1].numpy())


# ------------------------------------------------------------------ leaves and views that require grad

LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation"


@pytest.mark.parametrize("name,op", INPLACE_OPS, ids=OP_IDS)
def test_inplace_on_leaf_requiring_grad_raises_and_changes_nothing(torch, name, op):
    xt = torch.tensor(X0, requires_grad=True)
    with pytest.raises(RuntimeError, match=LEAF_MSG):
        op(xt, torch, torch.tensor(O0))
    x = ag.tensor(X0, requires_grad=True)
    with pytest.raises(RuntimeError, match=LEAF_MSG):
        op(x, ag, ag.tensor(O0))
    np.testing.assert_array_equal(to_numpy(x), X0)
    assert x.is_leaf and x.requires_grad and x.grad is None and x.grad_fn is None
    assert x._version_number == 0


@pytest.mark.parametrize("name,op", INPLACE_OPS, ids=OP_IDS)
@pytest.mark.parametrize(
    "make_view",
    [pytest.param(lambda x: x[0], id="row"), pytest.param(lambda x: x.t(), id="t"),
     pytest.param(lambda x: x.reshape(6), id="reshape")],
)
def test_inplace_on_view_of_leaf_requiring_grad_raises_and_changes_nothing(torch, name, op,
                                                                           make_view):
    x0 = np.array([[-1.0, 0.25, 2.0], [0.5, -0.5, 1.0]])
    xt = torch.tensor(x0, requires_grad=True)
    vt = make_view(xt)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        op(vt, torch, torch.ones(vt.shape))
    x = ag.tensor(x0, requires_grad=True)
    v = make_view(x)
    with pytest.raises(RuntimeError, match="view of .*requires grad.*in-place"):
        op(v, ag, ag.ones(v.shape))
    np.testing.assert_array_equal(to_numpy(x), x0.astype(np.float32))
    assert x.is_leaf and x.grad is None and x._version_number == 0


def test_inplace_on_view_of_nonleaf_is_correct_or_refused(torch):
    """torch rebases the view's history (CopySlices); refusing with a clear error is also safe,
    silently computing something else is not."""
    yt = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    xt = yt * 2
    xt[:2].mul_(3)
    xt.sum().backward()
    y = ag.tensor([1.0, 2.0, 3.0], dtype=ag.float64, requires_grad=True)
    x = y * 2
    try:
        x[:2].mul_(3)
    except RuntimeError as e:
        # this library's refusal, word for word, before anything was written
        assert re.fullmatch(VIEW_WRITE_REFUSED.format(shape=r"\(2,\)"), str(e)), str(e)
        np.testing.assert_array_equal(to_numpy(x), [2.0, 4.0, 6.0])
        assert x._version_number == 0 and y.grad is None
        assert xt.detach().tolist() == [6.0, 12.0, 6.0] and yt.grad.tolist() == [6.0, 6.0, 2.0]
        return
    np.testing.assert_array_equal(to_numpy(x), xt.detach().numpy())
    x.sum().backward()
    np.testing.assert_array_equal(to_numpy(y.grad), yt.grad.numpy())


def test_recorded_inplace_on_view_of_plain_buffer_updates_base_or_refuses(torch):
    bt = torch.zeros(3, dtype=torch.float64)
    wt = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    bt[:2].add_(wt)
    b = ag.zeros(3, dtype=ag.float64)
    w = ag.tensor([1.0, 2.0], dtype=ag.float64, requires_grad=True)
    v = b[:2]
    try:
        v.add_(w)
    except RuntimeError as e:  # refusing is acceptable: with this library's message, untouched
        assert re.fullmatch(VIEW_WRITE_REFUSED.format(shape=r"\(2,\)"), str(e)), str(e)
        assert b.tolist() == [0.0, 0.0, 0.0] and not b.requires_grad and w.grad is None
        assert bt.detach().tolist() == [1.0, 2.0, 0.0] and bt.requires_grad  # (torch rebases)
        return
    np.testing.assert_array_equal(to_numpy(b), bt.detach().numpy())
    b.sum().backward()
    np.testing.assert_array_equal(to_numpy(w.grad), [1.0, 1.0])


def test_view_taken_before_recorded_inplace_sees_the_write(torch):
    vals = []
    for lib in (ag, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        v = y[:2]
        y.add_(1)
        vals.append(v.detach())
    np.testing.assert_array_equal(to_numpy(vals[0]), vals[1].numpy())


# ------------------------------------------------------------------ the optimizer's update


def test_no_grad_sgd_update_on_leaves_matches_torch(torch):
    rng = np.random.default_rng(3)
    w0, x0, t0 = rng.normal(size=(4, 3)), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    hist = []
    for lib in (ag, torch):
        w = lib.tensor(w0, dtype=lib.float64, requires_grad=True)
        x = lib.tensor(x0, dtype=lib.float64)
        t = lib.tensor(t0, dtype=lib.float64)
        versions = []
        for _ in range(5):
            loss = ((x @ w - t) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w.sub_(0.1 * w.grad)
                w.mul_(0.999)          # weight decay, in place too
            w.grad.zero_()
            versions.append(_version(w))
            assert w.is_leaf and w.requires_grad and w.grad_fn is None
        hist.append((w.detach(), versions, loss.detach()))
    np.testing.assert_allclose(to_numpy(hist[0][0]), hist[1][0].numpy(), rtol=1e-13)
    assert hist[0][1] == hist[1][1]
    np.testing.assert_allclose(to_numpy(hist[0][2]), hist[1][2].numpy(), rtol=1e-13)


def test_no_grad_inplace_result_does_not_require_grad_history():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    with ag.no_grad():
        w.add_(ag.tensor([1.0, 1.0], requires_grad=True))
        w[0] = 5.0
        w.clamp_(max=4.0)
    assert w.is_leaf and w.grad_fn is None and w.requires_grad
    np.testing.assert_array_equal(to_numpy(w), [4.0, 3.0])
    (w * w).sum().backward()
    np.testing.assert_array_equal(to_numpy(w.grad), [8.0, 6.0])


def test_grad_accumulation_buffer_is_not_aliased_by_user_tensors():
    """A tensor taken from .grad before the next backward must not change behind the user's back
    unless it is .grad itself (torch accumulates into .grad in place as well)."""
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    g1 = x.grad.clone()
    (x * 3).sum().backward()
    np.testing.assert_array_equal(to_numpy(g1), [3.0, 3.0])
    np.testing.assert_array_equal(to_numpy(x.grad), [6.0, 6.0])


def test_writes_through_data_are_invisible_to_autograd(torch):
    res = []
    for lib in (ag, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        z = (x * w).sum()
        w.data.mul_(2)
        assert _version(w) == 0
        z.backward()                 # torch uses the new values of w, without complaint
        res.append((x.grad.detach().numpy().copy(), w.grad.detach().numpy().copy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta"])
def test_optimizer_step_bumps_versions_so_a_stale_graph_raises(torch, name):
    """`loss = f(w); opt.step(); loss.backward()` would use updated weights: torch refuses."""
    from autograd_gpu import optim

    for lib, mod in ((ag, optim), (torch, torch.optim)):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = lib.tensor([3.0, 4.0], requires_grad=True)
        opt = getattr(mod, name)([w], lr=0.1)
        (w * w).sum().backward()
        stale = (x * w).sum()
        v0 = _version(w)
        opt.step()
        assert _version(w) > v0
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            stale.backward()


@pytest.mark.parametrize("how", ["fill_", "copy_"])
def test_recorded_fill_and_copy_overwrite_inf_and_nan(torch, how):
    res = []
    for lib in (ag, torch):
        x = lib.tensor([1.0, float("inf"), float("nan")], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([5.0, 6.0, 7.0], dtype=lib.float64, requires_grad=True)
        y = x * 1
        if how == "fill_":
            y.fill_(2.0)
        else:
            y.copy_(w)
        (y * w).sum().backward()
        res.append((y.detach().numpy().copy(), w.grad.detach().numpy().copy(),
                    x.grad.detach().numpy().copy()))
    for a, t in zip(*res):
        np.testing.assert_array_equal(a, t)


@pytest.mark.parametrize("case", ["broadcast-self", "promote-dtype", "int-buffer"])
def test_recorded_inplace_keeps_shape_and_dtype_of_self(torch, case):
    outcomes = []
    for lib in (ag, torch):
        x = lib.ones(3, requires_grad=True)
        y = x * 2
        try:
            if case == "broadcast-self":
                y.add_(lib.ones(2, 3))
            elif case == "promote-dtype":
                y.mul_(lib.ones(3, dtype=lib.float64))
            else:
                y = lib.zeros(3, dtype=lib.int64)
                y.add_(x)
        except RuntimeError as e:
            outcomes.append(("raises", str(e).split(":")[0][:30]))
            continue
        outcomes.append((tuple(y.shape), str(y.dtype).split(".")[-1]))
    assert outcomes[0] == outcomes[1]


# This library's refusals (autograd_gpu/tensor.py and the tape), matched whole: a refusal
# with any other message (a crash, a broken check) fails the tests that accept refusing
VIEW_WRITE_REFUSED = (r"an in-place operation with grad mode on was applied to a view of shape "
                      r"{shape}; recording in-place writes through views is not supported\. Use "
                      r"an out-of-place op, or clone\(\) the view first\.")
STALE_VIEW_REFUSED = (r"MulBackward0: an input is a view \(shape \([0-9, ]+\)\) of a tensor that "
                      r"was modified by an in-place operation in grad mode after the view was "
                      r"taken; the view's values include that change but its gradient history "
                      r"does not\. Take the view again after the in-place operation \(or clone\(\) "
                      r"it before\)\.")


def _correct_or_refused(lib_result, expected):
    """Either the right gradient, or this library's stale-view refusal: never a silently wrong
    number, nor some other error."""
    if isinstance(lib_result, RuntimeError):
        assert re.fullmatch(STALE_VIEW_REFUSED, str(lib_result)), str(lib_result)
        return
    np.testing.assert_allclose(lib_result, expected, rtol=1e-12)


def _grad_or_error(fn):
    try:
        return fn()
    except RuntimeError as e:
        return e


@pytest.mark.parametrize("case", ["slice-then-mul_", "view-then-setitem", "t-then-mul_-self"])
def test_view_taken_before_recorded_inplace_differentiates_through_it(torch, case):
    x0 = np.array([[1.0, 2.0], [3.0, 4.0]])

    def prog(lib):
        x = lib.tensor(x0, dtype=lib.float64, requires_grad=True)
        y = x * 2
        if case == "slice-then-mul_":
            v = y[0]
            y.mul_(3)
            loss = (v * v).sum()
        elif case == "view-then-setitem":
            v = y.view(4)
            y[0, 1] = 0.0
            loss = (v * x.view(4)).sum()
        else:
            v = y.t()
            y.mul_(y)
            loss = (v * v).sum()
        loss.backward()
        return x.grad.detach().numpy().copy()

    expected = _grad_or_error(lambda: prog(torch))
    if isinstance(expected, RuntimeError):     # torch refuses; the math still has an answer
        assert case == "t-then-mul_-self" and "modified by an inplace operation" in str(expected)
        expected = 4 * (2 * x0) ** 3 * 2      # d/dx sum(((2x)^2)^2)
    else:  # what torch computes there, derived by hand (the view sees the in-place change)
        by_hand = {"slice-then-mul_": [[72.0, 144.0], [0.0, 0.0]],
                   "view-then-setitem": [[4.0, 0.0], [12.0, 16.0]]}[case]
        np.testing.assert_allclose(expected, by_hand, rtol=1e-12)
    _correct_or_refused(_grad_or_error(lambda: prog(ag)), expected)


def test_retain_grad_follows_the_tensor_through_inplace_ops(torch):
    res = []
    for lib in (ag, torch):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.mul_(3)
        (y * y).sum().backward()
        res.append((x.grad.detach().numpy().copy(), y.grad.detach().numpy().copy()))
    np.testing.assert_array_equal(res[0][0], res[1][0])
    np.testing.assert_array_equal(res[0][1], res[1][1])      # d/dy_new sum(y^2) = 2 y_new
