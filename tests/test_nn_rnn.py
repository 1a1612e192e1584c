"""Recurrent layers (RNN, LSTM, GRU and their cells) against torch.nn: a PyTorch state_dict
loaded into the same architecture gives PyTorch's outputs, final states and gradients
(float64 and float32), first and second derivatives, reprs, parameter names and shapes,
initialization, dropout between layers, and PyTorch's error messages."""
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu import nn
from autograd_gpu.autograd import gradcheck, gradgradcheck
from conftest import to_numpy

F64 = dict(rtol=1e-9, atol=1e-12)
# float32: a recurrence over a few steps; errors of a few ulp of O(1) values
F32 = dict(rtol=1e-4, atol=1e-5)


def _pair(torch, name, args, kw, precision="float64", device="cpu", seed=0):
    """The PyTorch module and ours with PyTorch's weights, loaded via NumPy."""
    torch.manual_seed(seed)
    theirs = getattr(torch.nn, name)(*args, **kw).to(getattr(torch, precision))
    ours = getattr(nn, name)(*args, **kw)
    sd = {k: ag.tensor(v.detach().numpy().copy(), device=device) for k, v in theirs.state_dict().items()}
    ours.to(getattr(ag, precision)).to(device)
    ours.load_state_dict(sd)
    return ours, theirs


def _flat(out):
    """The tensors of an RNN result: output, h_n (and c_n)."""
    if isinstance(out, tuple):
        return [t for o in out for t in _flat(o)]
    return [out]


def _check_run(torch, ours, theirs, inputs, device, tol, seed=1):
    """Runs both on the same inputs (arrays: the input, then states); compares every output
    and the gradients of a random weighting of them w.r.t. inputs and parameters."""
    dtype = ag.float64 if inputs[0].dtype == np.float64 else ag.float32
    a = [ag.tensor(x, dtype=dtype, device=device, requires_grad=True) for x in inputs]
    t = [torch.tensor(x, requires_grad=True) for x in inputs]
    pack = lambda xs, lstm: (xs[0],) if len(xs) == 1 else (  # noqa: E731
        (xs[0], (xs[1], xs[2])) if lstm else (xs[0], xs[1]))
    lstm = "LSTM" in type(theirs).__name__ and not type(theirs).__name__.endswith("Cell")
    if type(theirs).__name__ == "LSTMCell":
        args_o = (a[0],) if len(a) == 1 else (a[0], (a[1], a[2]))
        args_t = (t[0],) if len(t) == 1 else (t[0], (t[1], t[2]))
    else:
        args_o, args_t = pack(a, lstm), pack(t, lstm)
    outs, touts = _flat(ours(*args_o)), _flat(theirs(*args_t))
    assert len(outs) == len(touts)
    rng = np.random.default_rng(seed)
    loss_o, loss_t = 0, 0
    for o, to in zip(outs, touts):
        assert tuple(o.shape) == tuple(to.shape)
        np.testing.assert_allclose(to_numpy(o), to.detach().numpy(), **tol)
        w = rng.standard_normal(tuple(to.shape)).astype(inputs[0].dtype)
        loss_o = loss_o + (o * ag.tensor(w, device=device)).sum()
        loss_t = loss_t + (to * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    for x, y in zip(a, t):
        np.testing.assert_allclose(to_numpy(x.grad), y.grad.numpy(), **tol)
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == m
        np.testing.assert_allclose(to_numpy(p.grad), q.grad.numpy(), **tol, err_msg=n)


SEQ_CASES = [
    ("LSTM", (3, 4), {"num_layers": 2, "bidirectional": True, "batch_first": True}),
    ("LSTM", (3, 4), {}),
    ("LSTM", (3, 4), {"bias": False, "num_layers": 2}),
    ("GRU", (3, 4), {"num_layers": 2}),
    ("GRU", (3, 4), {"bidirectional": True, "batch_first": True}),
    ("RNN", (3, 4), {}),
    ("RNN", (3, 4), {"nonlinearity": "relu", "num_layers": 2, "bidirectional": True}),
    ("RNN", (3, 4, 1, "relu", False)),
]


def _case(c):
    return c if len(c) == 3 else (c[0], c[1], {})


@pytest.mark.parametrize("case", SEQ_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(SEQ_CASES)])
@pytest.mark.parametrize("precision", ["float64", "float32"])
@pytest.mark.parametrize("with_state", [False, True])
def test_sequence_layers_match_torch(torch, device, case, precision, with_state):
    name, args, kw = _case(case)
    ours, theirs = _pair(torch, name, args, kw, precision, device)
    assert repr(ours) == repr(theirs)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    np_dtype = np.float64 if precision == "float64" else np.float32
    rng = np.random.default_rng(3)
    seq, batch = 5, 2
    shape = (batch, seq, 3) if kw.get("batch_first") else (seq, batch, 3)
    inputs = [rng.standard_normal(shape).astype(np_dtype)]
    if with_state:
        layers = (kw.get("num_layers", 1) if len(case) == 3 else args[2]) * (2 if kw.get("bidirectional") else 1)
        n_states = 2 if name == "LSTM" else 1
        inputs += [rng.standard_normal((layers, batch, 4)).astype(np_dtype) for _ in range(n_states)]
    _check_run(torch, ours, theirs, inputs, device, F64 if precision == "float64" else F32)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_unbatched_input(torch, name):
    ours, theirs = _pair(torch, name, (3, 4), {"num_layers": 2, "bidirectional": True})
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((6, 3))]
    inputs += [rng.standard_normal((4, 4)) for _ in range(2 if name == "LSTM" else 1)]
    _check_run(torch, ours, theirs, inputs, "cpu", F64)


def test_state_dict_from_torch_gives_torch_outputs_lstm_2_layers_bidirectional_batch_first(torch):
    """The seed use case: train nothing, load PyTorch's weights, get PyTorch's numbers."""
    torch.manual_seed(7)
    theirs = torch.nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True)
    ours = nn.LSTM(10, 20, num_layers=2, bidirectional=True, batch_first=True)
    ours.load_state_dict({k: ag.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((3, 7, 10)).astype(np.float32)
    out, (h, c) = ours(ag.tensor(x))
    tout, (th, tc) = theirs(torch.tensor(x))
    assert tuple(out.shape) == (3, 7, 40) and tuple(h.shape) == tuple(c.shape) == (4, 3, 20)
    for u, v in ((out, tout), (h, th), (c, tc)):
        np.testing.assert_allclose(to_numpy(u), v.detach().numpy(), **F32)


CELL_CASES = [("LSTMCell", {}), ("LSTMCell", {"bias": False}), ("GRUCell", {}),
              ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"})]


@pytest.mark.parametrize("name,kw", CELL_CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CELL_CASES)])
@pytest.mark.parametrize("form", ["batched", "batched_state", "unbatched_state"])
@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_cells_match_torch(torch, device, name, kw, form, precision):
    ours, theirs = _pair(torch, name, (3, 4), kw, precision, device)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    np_dtype = np.float64 if precision == "float64" else np.float32
    rng = np.random.default_rng(5)
    lead = () if form == "unbatched_state" else (2,)
    inputs = [rng.standard_normal(lead + (3,)).astype(np_dtype)]
    if form != "batched":
        inputs += [rng.standard_normal(lead + (4,)).astype(np_dtype)
                   for _ in range(2 if name == "LSTMCell" else 1)]
    _check_run(torch, ours, theirs, inputs, device, F64 if precision == "float64" else F32)


# ---------------------------------------------------------------- derivatives


GRAD_MODULES = [("LSTM", {"bidirectional": True}), ("GRU", {"num_layers": 2}), ("RNN", {}),
                ("LSTMCell", {}), ("GRUCell", {}), ("RNNCell", {"nonlinearity": "tanh"})]


@pytest.mark.parametrize("name,kw", GRAD_MODULES, ids=[n for n, _ in GRAD_MODULES])
def test_gradcheck_and_gradgradcheck_wrt_input_and_states(name, kw):
    ag.manual_seed(0)
    m = getattr(nn, name)(2, 3, **kw).double()
    rng = np.random.default_rng(0)
    cell = name.endswith("Cell")
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    x = ag.tensor(rng.standard_normal((2, 2) if cell else (3, 2, 2)), requires_grad=True)
    state_shape = (2, 3) if cell else (layers, 2, 3)
    h = ag.tensor(rng.standard_normal(state_shape) * 0.5, requires_grad=True)
    if "LSTM" in name:
        c = ag.tensor(rng.standard_normal(state_shape) * 0.5, requires_grad=True)
        fn = (lambda x, h, c: m(x, (h, c))) if cell else (lambda x, h, c: _flat(m(x, (h, c))))
        inputs = [x, h, c]
    else:
        fn = (lambda x, h: m(x, h)) if cell else (lambda x, h: _flat(m(x, h)))
        inputs = [x, h]
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_second_derivatives_wrt_parameters_match_torch(torch, name):
    """d/dW of |dL/dW|^2 (create_graph=True through every step) equals PyTorch's."""
    ours, theirs = _pair(torch, name, (2, 3), {"num_layers": 2})
    x = np.random.default_rng(1).standard_normal((4, 2, 2))
    results = []
    for mod, lib, inp in ((ours, ag, ag.tensor(x)), (theirs, torch, torch.tensor(x))):
        params = list(mod.parameters())
        out = mod(inp)[0]
        grads = lib.autograd.grad((out ** 2).sum(), params, create_graph=True)
        penalty = sum((g * g).sum() for g in grads)
        results.append(lib.autograd.grad(penalty, params))
    for u, v in zip(*results):
        np.testing.assert_allclose(to_numpy(u), v.numpy(), rtol=1e-8, atol=1e-11)


# ---------------------------------------------------------------- construction


def test_init_uniform_in_inverse_sqrt_hidden():
    ag.manual_seed(0)
    m = nn.LSTM(30, 100, num_layers=2, bidirectional=True)
    bound = 1 / np.sqrt(100)
    for name, p in m.named_parameters():
        w = to_numpy(p)
        assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound, name
    w = to_numpy(m.weight_hh_l1_reverse)
    np.testing.assert_allclose(w.std(), bound / np.sqrt(3), rtol=0.02)


def test_all_weights_and_parameter_order(torch):
    ours, theirs = _pair(torch, "GRU", (3, 4), {"num_layers": 2, "bidirectional": True})
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [[tuple(p.shape) for p in layer] for layer in ours.all_weights] == [
        [tuple(p.shape) for p in layer] for layer in theirs.all_weights]


REPRS = [
    ("LSTM", (3, 4, 2), {"bias": False, "batch_first": True, "dropout": 0.5, "bidirectional": True}),
    ("GRU", (3, 4), {"num_layers": 2}), ("RNN", (3, 4), {"nonlinearity": "relu"}),
    ("LSTMCell", (3, 4), {}), ("GRUCell", (3, 4), {"bias": False}),
    ("RNNCell", (3, 4), {"nonlinearity": "relu"}),
]


@pytest.mark.parametrize("name,args,kw", REPRS, ids=[r[0] for r in REPRS])
def test_reprs(torch, name, args, kw):
    assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw))


def test_dropout_between_layers(torch):
    """dropout=1 zeroes the second layer's input: deterministic, and equal to PyTorch in
    training mode; in eval mode no dropout."""
    ours, theirs = _pair(torch, "LSTM", (3, 4), {"num_layers": 2, "dropout": 1.0})
    x = np.random.default_rng(0).standard_normal((5, 2, 3))
    for mode in ("train", "eval"):
        getattr(ours, mode)()
        getattr(theirs, mode)()
        _check_run(torch, ours, theirs, [x], "cpu", F64)
    ours.train()
    a, b = ours(ag.tensor(x))[0], ours.eval()(ag.tensor(x))[0]
    assert not np.allclose(to_numpy(a), to_numpy(b))


def test_dropout_with_one_layer_warns_as_torch(torch):
    with pytest.warns(UserWarning) as ours:
        nn.LSTM(3, 4, dropout=0.3)
    with warnings.catch_warnings(record=True) as theirs:
        warnings.simplefilter("always")
        torch.nn.LSTM(3, 4, dropout=0.3)
    assert str(ours[0].message) == str(theirs[0].message)


# ---------------------------------------------------------------- errors


def _same_error(torch, call):
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(type(theirs.value)) as mine:
        call(ag)
    assert str(mine.value) == str(theirs.value)


RNN_ERRORS = [
    lambda m: m.nn.LSTM(10, 20)(m.randn(5, 3, 7)),
    lambda m: m.nn.GRU(10, 20, batch_first=True)(m.randn(3, 5, 7)),
    lambda m: m.nn.LSTM(10, 20)(m.randn(5, 3, 10), (m.randn(1, 4, 20), m.randn(1, 3, 20))),
    lambda m: m.nn.LSTM(10, 20)(m.randn(5, 3, 10), (m.randn(1, 3, 20), m.randn(2, 3, 20))),
    lambda m: m.nn.LSTM(10, 20)(m.randn(5, 3, 10), (m.randn(3, 20), m.randn(3, 20))),
    lambda m: m.nn.GRU(10, 20)(m.randn(5, 3, 10), m.randn(2, 3, 20)),
    lambda m: m.nn.RNN(10, 20)(m.randn(5, 3, 10), m.randn(1, 3, 20, 1)),
    lambda m: m.nn.RNN(10, 20)(m.randn(5, 10), m.randn(1, 3, 20)),
    lambda m: m.nn.RNN(10, 20)(m.randn(5, 3, 10, 2)),
    lambda m: m.nn.LSTM(10, 20)(m.randn(5, 3, 10, 2)),
    lambda m: m.nn.RNN(10, 20, nonlinearity="foo"),
    lambda m: m.nn.LSTM(10, 20, dropout=1.5),
    lambda m: m.nn.GRU(10, 0),
    lambda m: m.nn.LSTMCell(10, 20)(m.randn(3, 7)),
    lambda m: m.nn.RNNCell(10, 20)(m.randn(3, 2, 10)),
    lambda m: m.nn.GRUCell(10, 20)(m.randn(3, 10), m.randn(4, 20)),
    lambda m: m.nn.RNNCell(10, 20)(m.randn(3, 10), m.randn(20)),
    lambda m: m.nn.LSTMCell(10, 20)(m.randn(3, 10), (m.randn(3, 20), m.randn(3, 2, 20))),
    lambda m: m.nn.RNNCell(10, 20, nonlinearity="foo")(m.randn(3, 10)),
]


@pytest.mark.parametrize("i", range(len(RNN_ERRORS)))
def test_errors_as_torch(torch, i):
    _same_error(torch, RNN_ERRORS[i])


def test_input_dtype_must_match_weights(torch):
    with pytest.raises(ValueError) as theirs:
        torch.nn.GRU(3, 4)(torch.randn(2, 3, 3, dtype=torch.float64))
    with pytest.raises(ValueError) as ours:
        nn.GRU(3, 4)(ag.randn(2, 3, 3, dtype=ag.float64))
    # the same words; dtypes are named by their library
    assert str(ours.value).replace("autograd_gpu.", "torch.") == str(theirs.value)


def test_not_supported_say_so():
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)


# ---------------------------------------------------------------- PackedSequence

from autograd_gpu.nn.utils import rnn as rnn_utils  # noqa: E402

PACK_CASES = [([4, 2, 3], False, False), ([4, 3, 1], True, False), ([2, 4, 3], False, True),
              ([3, 3, 3], True, True), ([1, 4, 2, 4], False, False)]


@pytest.mark.parametrize("lengths,enforce_sorted,batch_first", PACK_CASES)
def test_pack_and_pad_match_torch(torch, lengths, enforce_sorted, batch_first):
    tu = torch.nn.utils.rnn
    if enforce_sorted and lengths != sorted(lengths, reverse=True):
        pytest.skip("unsorted lengths with enforce_sorted: an error, tested below")
    rng = np.random.default_rng(0)
    shape = (len(lengths), 4, 2) if batch_first else (4, len(lengths), 2)
    x = rng.standard_normal(shape)
    a, t = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    p = rnn_utils.pack_padded_sequence(a, lengths, batch_first, enforce_sorted)
    tp = tu.pack_padded_sequence(t, lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(to_numpy(p.data), tp.data.detach().numpy())
    assert p.batch_sizes.tolist() == tp.batch_sizes.tolist() and p.batch_sizes.dtype == ag.int64
    for mine, theirs in ((p.sorted_indices, tp.sorted_indices), (p.unsorted_indices, tp.unsorted_indices)):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine.tolist() == theirs.tolist()
    o, n = rnn_utils.pad_packed_sequence(p, batch_first, padding_value=-2.0, total_length=5)
    to, tn = tu.pad_packed_sequence(tp, batch_first, padding_value=-2.0, total_length=5)
    np.testing.assert_array_equal(to_numpy(o), to.detach().numpy())
    assert n.tolist() == tn.tolist() == lengths
    g = rng.standard_normal(tuple(to.shape))
    o.backward(ag.tensor(g))
    to.backward(torch.tensor(g))
    np.testing.assert_array_equal(to_numpy(a.grad), t.grad.numpy())


def test_pad_sequence_pack_sequence_unpack(torch):
    tu = torch.nn.utils.rnn
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 3)]
    ours, theirs = [ag.tensor(s) for s in seqs], [torch.tensor(s) for s in seqs]
    for kw in ({}, {"batch_first": True, "padding_value": 7.0}, {"padding_side": "left"}):
        np.testing.assert_array_equal(to_numpy(rnn_utils.pad_sequence(ours, **kw)),
                                      tu.pad_sequence(theirs, **kw).numpy())
    p, tp = rnn_utils.pack_sequence(ours, enforce_sorted=False), tu.pack_sequence(theirs, enforce_sorted=False)
    np.testing.assert_array_equal(to_numpy(p.data), tp.data.numpy())
    for u, v in zip(rnn_utils.unpack_sequence(p), seqs):
        np.testing.assert_array_equal(to_numpy(u), v)


@pytest.mark.parametrize("name,kw", [("LSTM", {"num_layers": 2, "bidirectional": True}),
                                     ("GRU", {"bidirectional": True}), ("RNN", {"num_layers": 2}),
                                     ("LSTM", {"batch_first": True})])
@pytest.mark.parametrize("with_state", [False, True])
def test_packed_input_matches_torch(torch, name, kw, with_state):
    """Outputs (packed), final states (each sequence's state at its own last step, in the
    caller's batch order) and gradients w.r.t. input, states and parameters, as PyTorch."""
    tu = torch.nn.utils.rnn
    ours, theirs = _pair(torch, name, (3, 4), kw)
    rng = np.random.default_rng(2)
    lengths, bf = [2, 5, 3, 5], kw.get("batch_first", False)
    x = rng.standard_normal((4, 5, 3) if bf else (5, 4, 3))
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    states = [rng.standard_normal((layers, 4, 4)) for _ in range(2 if name == "LSTM" else 1)]
    a = [ag.tensor(v, requires_grad=True) for v in [x] + states]
    t = [torch.tensor(v, requires_grad=True) for v in [x] + states]
    results = []
    for lib, utils, mod, xs in ((ag, rnn_utils, ours, a), (torch, tu, theirs, t)):
        packed = utils.pack_padded_sequence(xs[0], lengths, bf, enforce_sorted=False)
        hx = None if not with_state else ((xs[1], xs[2]) if name == "LSTM" else xs[1])
        out, hn = mod(packed, hx)
        assert type(out).__name__ == "PackedSequence"
        padded, _ = utils.pad_packed_sequence(out, bf)
        flat = [padded] + (list(hn) if name == "LSTM" else [hn])
        w = np.random.default_rng(3)
        loss = sum((f * lib.tensor(w.standard_normal(tuple(f.shape)))).sum() for f in flat)
        loss.backward()
        results.append(flat)
    for u, v in zip(*results):
        np.testing.assert_allclose(to_numpy(u), v.detach().numpy(), **F64)
    for u, v in zip(a if with_state else a[:1], t if with_state else t[:1]):
        np.testing.assert_allclose(to_numpy(u.grad), v.grad.numpy(), **F64)
    for (n, p), (m, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(to_numpy(p.grad), q.grad.numpy(), **F64, err_msg=n)


def test_packed_gradcheck():
    ag.manual_seed(0)
    m = nn.GRU(2, 3, bidirectional=True).double()
    x = ag.tensor(np.random.default_rng(0).standard_normal((3, 3, 2)), requires_grad=True)

    def fn(x):
        out, h = m(rnn_utils.pack_padded_sequence(x, [1, 3, 2], enforce_sorted=False))
        return rnn_utils.pad_packed_sequence(out)[0], h

    assert gradcheck(fn, [x])
    assert gradgradcheck(fn, [x])


PACK_ERRORS = [
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 3]),
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 0, 3], enforce_sorted=False),
    lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2]),
    lambda m: m.nn.utils.rnn.pad_packed_sequence(
        m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2, 1]), total_length=2),
]


@pytest.mark.parametrize("i", range(len(PACK_ERRORS)))
def test_pack_errors_as_torch(torch, i):
    _same_error(torch, PACK_ERRORS[i])


# ---------------------------------------------------------------- the one-node LSTM layer


from autograd_gpu.nn import rnn as rnn_module  # noqa: E402
from autograd_gpu.ops.nn_functional import lstm_layer  # noqa: E402

LAYER_CASES = [({}, False), ({"bidirectional": True}, True), ({"num_layers": 2}, True),
               ({"num_layers": 2, "bidirectional": True, "batch_first": True}, True),
               ({"bias": False, "bidirectional": True}, False)]


def _node_names(t):
    """The names of every node the tensor's graph holds."""
    names, todo, seen = set(), [t.grad_fn], set()
    while todo:
        fn = todo.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        names.add(str(fn.name))
        todo.extend(f for f, _ in getattr(fn, "next_functions", ()))
    return names


@pytest.mark.parametrize("kw,with_state", LAYER_CASES, ids=[str(i) for i in range(len(LAYER_CASES))])
def test_lstm_layer_node_matches_per_step_composite(device, monkeypatch, kw, with_state):
    """A dense batch runs each layer and direction as one LstmLayer node; its outputs and
    gradients (input, states, every parameter) are the per-step composite's, to rounding."""
    ag.manual_seed(0)
    m = nn.LSTM(3, 4, **kw).double().to(device)
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal((2, 6, 3) if kw.get("batch_first") else (6, 2, 3))]
    if with_state:
        arrays += [rng.standard_normal((layers, 2, 4)) for _ in range(2)]
    results = []
    for node in (True, False):
        if not node:
            monkeypatch.setattr(rnn_module, "_one_lstm_node", lambda *a: False)
        xs = [ag.tensor(a, device=device, requires_grad=True) for a in arrays]
        out, (h, c) = m(xs[0], (xs[1], xs[2]) if with_state else None)
        assert ("LstmLayerBackward0" in _node_names(out)) == node
        assert ("LstmCellBackward0" in _node_names(out)) != node
        w = np.random.default_rng(5)
        loss = sum((t * ag.tensor(w.standard_normal(tuple(t.shape)), device=device)).sum()
                   for t in (out, h, c))
        m.zero_grad()
        loss.backward()
        results.append([to_numpy(t) for t in (out, h, c)] + [to_numpy(x.grad) for x in xs]
                       + [to_numpy(p.grad) for p in m.parameters()])
    for u, v in zip(*results):
        np.testing.assert_allclose(u, v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("which", ["h_n", "c_n", "h_n and c_n", "output"])
@pytest.mark.parametrize("kw", [{"num_layers": 2, "bidirectional": True}, {"batch_first": True}],
                         ids=["2-layers-bidirectional", "batch_first"])
def test_lstm_gradients_of_some_outputs_alone_match_torch(torch, which, kw):
    """Only h_n, only c_n, or only the output reaching the loss: the node gets None for
    the other gradients."""
    ours, theirs = _pair(torch, "LSTM", (3, 4), kw)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3))
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    states = [rng.standard_normal((layers, 2, 4)) for _ in range(2)]
    results = []
    for lib, mod in ((ag, ours), (torch, theirs)):
        xs = [lib.tensor(a, requires_grad=True) for a in [x] + states]
        out, (h, c) = mod(xs[0], (xs[1], xs[2]))
        picked = {"h_n": [h], "c_n": [c], "h_n and c_n": [h, c], "output": [out]}[which]
        loss = sum((t * t).sum() for t in picked)
        loss.backward()
        results.append([x.grad for x in xs] + [p.grad for p in mod.parameters()])
    for u, v in zip(*results):
        np.testing.assert_allclose(to_numpy(u), v.numpy(), **F64)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_lstm_layer_gradcheck_and_gradgradcheck_every_input(reverse, bias):
    """The node itself w.r.t. x, h0, c0 and all four weights and biases, first and second
    order (the second through the create_graph replay of the composite)."""
    rng = np.random.default_rng(7)
    steps, n, n_in, hid = 3, 2, 2, 3
    arrays = [rng.standard_normal((steps * n, n_in)), 0.5 * rng.standard_normal((n, hid)),
              0.5 * rng.standard_normal((n, hid)), 0.5 * rng.standard_normal((4 * hid, n_in)),
              0.5 * rng.standard_normal((4 * hid, hid))]
    if bias:
        arrays += [0.5 * rng.standard_normal(4 * hid), 0.5 * rng.standard_normal(4 * hid)]
    inputs = [ag.tensor(a, requires_grad=True) for a in arrays]
    fn = lambda *a: lstm_layer(*a, reverse=reverse)  # noqa: E731
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def test_lstm_second_derivatives_bidirectional_with_final_states_match_torch(torch):
    """create_graph through the node of each direction, h_n and c_n in the loss too."""
    ours, theirs = _pair(torch, "LSTM", (2, 3), {"bidirectional": True, "batch_first": True})
    x = np.random.default_rng(8).standard_normal((2, 4, 2))
    results = []
    for mod, lib in ((ours, ag), (theirs, torch)):
        inp = lib.tensor(x, requires_grad=True)
        params = list(mod.parameters())
        out, (h, c) = mod(inp)
        loss = (out ** 2).sum() + (h * c).sum() + c.sum()
        grads = lib.autograd.grad(loss, [inp] + params, create_graph=True)
        penalty = sum((g * g).sum() for g in grads)
        results.append(lib.autograd.grad(penalty, [inp] + params))
    for u, v in zip(*results):
        np.testing.assert_allclose(to_numpy(u), v.numpy(), rtol=1e-8, atol=1e-11)



def test_lstm_layer_backward_twice_with_retain_graph():
    """The node's buffers are read, never written, by backward: a second pass with
    retain_graph gives the same gradients again; without it, PyTorch's error."""
    m = nn.LSTM(3, 4, bidirectional=True).double()
    x = ag.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)), requires_grad=True)
    out, (h, c) = m(x)
    loss = (out ** 2).sum() + c.sum()
    loss.backward(retain_graph=True)
    first = [to_numpy(x.grad).copy()] + [to_numpy(p.grad).copy() for p in m.parameters()]
    loss.backward()
    second = [to_numpy(x.grad)] + [to_numpy(p.grad) for p in m.parameters()]
    for u, v in zip(first, second):
        np.testing.assert_allclose(v, 2 * u, rtol=1e-13, atol=1e-15)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()
