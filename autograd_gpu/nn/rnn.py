"""Recurrent layers: RNN (tanh / relu), LSTM, GRU and their cells, as torch.nn's.

An LSTM layer's direction over a dense batch (every sequence running every step) is one
node, ops/nn_functional.LstmLayer: its steps run on raw arrays without the tape, the input
projection and the weight gradients are one matmul each over all steps, and under
create_graph its backward replays the per-step composite below, so gradients of any order
work. Everything else (GRU, RNN, an LSTM over a packed batch that shrinks, states of another
dtype) is built from the library's differentiable ops (linear, addmm, sigmoid, tanh, split,
cat; LSTM steps: addmm and LstmCell). There the input projection of every time step,
x W_ih^T + b_ih (+ b_hh for LSTM and RNN), is one matmul over the whole sequence, seen as
(L * N, H_in), before the loop; each step then adds h W_hh^T in one addmm node (W_hh
transposed once per layer). The projections are cut into steps by one split node along that
first dim (its backward is one cat), so every step works on contiguous 2-D (N, G) arrays,
and the outputs join by one cat and one reshape.

Gate order and formulas are PyTorch's:
  LSTM  i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh);  c' = s(f) c + s(i) tanh(g),
        h' = s(o) tanh(c')
  GRU   r, z, n from x W_ih^T + b_ih and h W_hh^T + b_hh;  r, z = s(x_r + h_r), s(x_z + h_z),
        n = tanh(x_n + r (W_hn h + b_hn)),  h' = (1 - z) n + z h
  RNN   h' = tanh or relu(x W_ih^T + b_ih + h W_hh^T + b_hh)
A PackedSequence input (nn.utils.rnn) runs each step on the sequences still running (the
first batch_sizes[t] rows); a sequence's final state is its state at its own last step.
proj_size (LSTM projections) is not supported.
"""
import math
import numbers
import warnings

from ..creation import empty, zeros
from ..ops.elementwise import relu, sigmoid, tanh
from ..ops.indexing import index_select
from ..ops.linalg import addmm, matmul
from ..ops.nn_functional import lstm_cell, lstm_layer
from ..ops.shape import cat, split, stack
from . import functional as F
from . import init
from .module import Module, Parameter
from .utils.rnn import PackedSequence

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _linear(x, w, b):
    return F.Linear.apply(x, w, b)


# ---------------------------------------------------------------- one time step


def _lstm_step(gi, h, c, w_hh_t):
    """gi: the step's input projection (both biases included); returns (h', c')."""
    gates = addmm(gi, h, w_hh_t)  # gi + h W_hh^T in one node
    return lstm_cell(gates, c)  # the gates' activations and the new state in one node


def _gru_step(gi, h, w_hh_t, b_hh):
    n_hidden = h.shape[-1]
    gh = addmm(b_hh, h, w_hh_t) if b_hh is not None else matmul(h, w_hh_t)
    i_rz, i_n = split(gi, [2 * n_hidden, n_hidden], -1)
    h_rz, h_n = split(gh, [2 * n_hidden, n_hidden], -1)
    r, z = split(sigmoid(i_rz + h_rz), n_hidden, -1)
    n = tanh(i_n + r * h_n)
    return n + z * (h - n)


def _rnn_step(gi, h, w_hh_t, act):
    return act(addmm(gi, h, w_hh_t))


def _input_bias(mode, b_ih, b_hh):
    """The bias of the input projection: both biases where they are added before the gates
    (LSTM, RNN); GRU's b_hh stays in the step, as its b_hn sits inside r * (W_hn h + b_hn)."""
    if b_ih is None or mode == "GRU":
        return b_ih
    return b_ih + b_hh


def _step(mode, gi, h, c, w_hh_t, b_hh):
    if mode == "LSTM":
        return _lstm_step(gi, h, c, w_hh_t)
    if mode == "GRU":
        return _gru_step(gi, h, w_hh_t, b_hh), None
    return _rnn_step(gi, h, w_hh_t, tanh if mode == "RNN_TANH" else relu), None


def _one_lstm_node(x, h, c, w_ih, batch_sizes):
    """Whether an LSTM layer's direction runs as one LstmLayer node: every sequence runs
    every step (a packed batch that shrinks takes the per-step composite) and the states
    have the input's dtype (the node's buffers are of one dtype; mixed ones keep the
    composite's promotion)."""
    return (len(batch_sizes) > 0 and batch_sizes[-1] == batch_sizes[0]
            and h.dtype == c.dtype == x.dtype == w_ih.dtype)


def _cut(x, sizes):
    """x split along dim 0 into pieces of `sizes` rows (x itself when one piece)."""
    return split(x, sizes, 0) if len(sizes) > 1 else (x,)


def _run_direction(mode, gi, h, c, w_hh, b_hh, reverse, batch_sizes):
    """One layer in one direction. gi: the input projections of all steps, step after step,
    batch_sizes[t] rows at step t (all N for a padded batch; decreasing for a packed one,
    whose running sequences are the first rows); h, c: (N, H); b_hh: GRU's hidden bias
    (None for the others, whose gi has it). Returns (outputs, rows as gi's; h_n; c_n)."""
    steps = _cut(gi, batch_sizes)
    w_hh_t = w_hh.t()  # once: its gradient is transposed back once, not per step
    outs = [None] * len(steps)
    n_batch = h.shape[0]
    if batch_sizes[-1] == n_batch:  # every sequence runs every step
        order = range(len(steps) - 1, -1, -1) if reverse else range(len(steps))
        for t in order:
            h, c = _step(mode, steps[t], h, c, w_hh_t, b_hh)
            outs[t] = h
    elif not reverse:  # sequences end as the batch shrinks: their last states are final
        done_h, done_c = [], []
        for t, b in enumerate(batch_sizes):
            if b < h.shape[0]:
                h, end = split(h, [b, h.shape[0] - b], 0)
                done_h.append(end)
                if c is not None:
                    c, end = split(c, [b, c.shape[0] - b], 0)
                    done_c.append(end)
            h, c = _step(mode, steps[t], h, c, w_hh_t, b_hh)
            outs[t] = h
        h = cat([h] + done_h[::-1], 0)
        c = cat([c] + done_c[::-1], 0) if c is not None else None
    else:  # backwards, sequences start (from their initial state) as the batch grows
        cuts = sorted(set(batch_sizes))
        sizes = [cuts[0]] + [b - a for a, b in zip(cuts, cuts[1:])]
        h_parts, c_parts = list(_cut(h, sizes)), (list(_cut(c, sizes)) if c is not None else None)
        h, c = h_parts.pop(0), (c_parts.pop(0) if c is not None else None)
        for t in range(len(steps) - 1, -1, -1):
            if batch_sizes[t] > h.shape[0]:
                h = cat([h, h_parts.pop(0)], 0)
                c = cat([c, c_parts.pop(0)], 0) if c is not None else None
            h, c = _step(mode, steps[t], h, c, w_hh_t, b_hh)
            outs[t] = h
    return (cat(outs, 0) if len(outs) > 1 else outs[0]), h, c


# ---------------------------------------------------------------- the layers


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k},
    bias_hh_l{k} (suffix _reverse for the backward direction), uniform in
    +-1/sqrt(hidden_size); input (L, N, H_in), (N, L, H_in) with batch_first, or (L, H_in).

    Args:
        mode: ``"LSTM"``, ``"GRU"``, ``"RNN_TANH"`` or ``"RNN_RELU"``.
        input_size: H_in, the features of each step's input.
        hidden_size: H_out, the features of the hidden state.
        num_layers: the number of stacked layers (each one's output the next one's input).
        bias: learn b_ih and b_hh (False: no biases).
        batch_first: input and output are (N, L, H) instead of (L, N, H) (the states keep
            their layout).
        dropout: the probability of dropout on each layer's output but the last, in
            training mode.
        bidirectional: run a second direction backwards over the sequence (D = 2).
        proj_size: only 0 (LSTM projections are not supported: NotImplementedError).
        device: the device of the parameters.
        dtype: the dtype of the parameters.
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of "
                "an element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                "dropout expects num_layers greater than 1, but got dropout="
                f"{dropout} and num_layers={num_layers}", UserWarning, stacklevel=2)
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size:
            raise NotImplementedError("proj_size (LSTM projections) is not supported")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        gate_size = _GATES[mode] * hidden_size
        directions = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * directions
            for direction in range(directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = [("weight_ih", (gate_size, layer_input)),
                          ("weight_hh", (gate_size, hidden_size))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                for name, shape in shapes:
                    full = f"{name}_l{layer}{suffix}"
                    setattr(self, full, Parameter(empty(*shape, device=device, dtype=dtype)))
                    self._flat_weights_names.append(full)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    @property
    def all_weights(self):
        """Per layer and direction, [weight_ih, weight_hh, bias_ih, bias_hh] (as PyTorch)."""
        per = 4 if self.bias else 2
        names = self._flat_weights_names
        return [[getattr(self, n) for n in names[i:i + per]] for i in range(0, len(names), per)]

    def _layer_params(self, layer, direction):
        suffix = "_reverse" if direction == 1 else ""
        get = lambda name: getattr(self, f"{name}_l{layer}{suffix}") if (  # noqa: E731
            self.bias or name.startswith("weight")) else None
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh")

    def _check_hidden(self, hx, expected, name="Expected hidden size"):
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"{name} {expected}, got {list(hx.shape)}")

    def forward(self, input, hx=None):
        name = type(self).__name__
        is_lstm = self.mode == "LSTM"
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if input.dim() not in (2, 3):
            tensor = " tensor" if name == "RNN" else ""  # (PyTorch's wording differs so)
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{tensor} instead")
        w_dtype = self.weight_ih_l0.dtype
        if input.dtype != w_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({w_dtype}). "
                f"Convert input: input.to({w_dtype}), or convert model: model.to({input.dtype})")
        batched = input.dim() == 3
        if hx is not None:
            want = 3 if batched else 2
            kind = "batched 3-D" if batched else "unbatched 2-D"
            if is_lstm and (hx[0].dim() != want or hx[1].dim() != want):
                raise RuntimeError(
                    f"For {kind} input, hx and cx should also be {want}-D but got "
                    f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            if not is_lstm and hx.dim() != want:
                raise RuntimeError(
                    f"For {kind} input, hx should also be {want}-D but got {hx.dim()}-D tensor")
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                hx = tuple(p.unsqueeze(1) for p in hx) if is_lstm else hx.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {input.shape[-1]}")
        n_steps, n_batch = input.shape[0], input.shape[1]
        # (L * N, H_in): every step's rows at once, so that each step is a 2-D slice
        output, h_n, c_n = self._run(input.reshape(n_steps * n_batch, input.shape[2]),
                                     [n_batch] * n_steps, hx)
        output = output.reshape(n_steps, n_batch, output.shape[1])
        if not batched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if is_lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, ((h_n, c_n) if is_lstm else h_n)

    def _forward_packed(self, packed, hx):
        """The layers over a PackedSequence: hx in the caller's batch order (permuted to
        the packed order here), output a PackedSequence, h_n in the caller's order."""
        is_lstm = self.mode == "LSTM"
        data = packed.data
        if data.dtype != self.weight_ih_l0.dtype:
            w_dtype = self.weight_ih_l0.dtype
            raise ValueError(
                f"RNN input dtype ({data.dtype}) does not match weight dtype ({w_dtype}). "
                f"Convert input: input.to({w_dtype}), or convert model: model.to({data.dtype})")
        if data.dim() != 2:
            raise RuntimeError(f"input must have 2 dimensions, got {data.dim()}")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                f"got {data.shape[-1]}")
        order, undo = packed.sorted_indices, packed.unsorted_indices
        if hx is not None and order is not None:
            hx = (tuple(index_select(p, 1, order) for p in hx) if is_lstm
                  else index_select(hx, 1, order))
        output, h_n, c_n = self._run(data, packed._steps(), hx)
        if undo is not None:
            h_n = index_select(h_n, 1, undo)
            c_n = index_select(c_n, 1, undo) if is_lstm else None
        output = PackedSequence(output, packed.batch_sizes, order, undo)
        return output, ((h_n, c_n) if is_lstm else h_n)

    def _run(self, layer_input, batch_sizes, hx):
        """Every layer and direction over layer_input (the steps' rows, batch_sizes[t] at
        step t): returns (the last layer's output rows, h_n, c_n)."""
        is_lstm = self.mode == "LSTM"
        directions = 2 if self.bidirectional else 1
        expected = (self.num_layers * directions, batch_sizes[0], self.hidden_size)
        dev, dtype = layer_input.device, layer_input.dtype
        if hx is None:
            h0 = zeros(*expected, dtype=dtype, device=dev)
            c0 = zeros(*expected, dtype=dtype, device=dev) if is_lstm else None
        elif is_lstm:
            h0, c0 = hx
            self._check_hidden(h0, expected, "Expected hidden[0] size")
            self._check_hidden(c0, expected, "Expected hidden[1] size")
        else:
            h0, c0 = hx, None
            self._check_hidden(h0, expected)
        h_states = split(h0, 1, 0) if expected[0] > 1 else (h0,)
        c_states = (split(c0, 1, 0) if expected[0] > 1 else (c0,)) if is_lstm else None
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outs = []
            for direction in range(directions):
                w_ih, w_hh, b_ih, b_hh = self._layer_params(layer, direction)
                k = layer * directions + direction
                h, c = h_states[k].squeeze(0), (c_states[k].squeeze(0) if is_lstm else None)
                if is_lstm and _one_lstm_node(layer_input, h, c, w_ih, batch_sizes):
                    out, h, c = lstm_layer(layer_input, h, c, w_ih, w_hh, b_ih, b_hh,
                                           reverse=direction == 1)
                else:
                    gi = _linear(layer_input, w_ih, _input_bias(self.mode, b_ih, b_hh))
                    out, h, c = _run_direction(
                        self.mode, gi, h, c, w_hh, b_hh if self.mode == "GRU" else None,
                        direction == 1, batch_sizes)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = cat(outs, 1) if directions == 2 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        return layer_input, stack(h_n, 0), (stack(c_n, 0) if is_lstm else None)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _rnn_args(args, kwargs, names):
    """RNNBase's arguments from PyTorch's positional-or-keyword calling forms."""
    values = dict(zip(names, args))
    for k, v in kwargs.items():
        if k in values:
            raise TypeError(f"got multiple values for argument '{k}'")
        values[k] = v
    return values


class RNN(RNNBase):
    """Elman RNN, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (nonlinearity='relu': relu).
    RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False).

    Args:
        input_size: H_in, the features of each step's input.
        hidden_size: H_out, the features of the hidden state.
        num_layers: the number of stacked layers (each one's output the next one's input).
        nonlinearity: ``"tanh"`` or ``"relu"``.
        bias: learn b_ih and b_hh (False: no biases).
        batch_first: input and output are (N, L, H) instead of (L, N, H) (the states keep
            their layout).
        dropout: the probability of dropout on each layer's output but the last, in
            training mode.
        bidirectional: run a second direction backwards over the sequence (D = 2).
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - input: (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) unbatched, or a
          ``PackedSequence`` (``nn.utils.rnn``).
        - h_0: (D num_layers, N, H_out), or (D num_layers, H_out) unbatched; zeros when
          not given.
        - output: (L, N, D H_out), (N, L, D H_out) with batch_first, (L, D H_out) unbatched
          (a ``PackedSequence`` for a packed input): the last layer's h at every step.
        - h_n: the shape of h_0, each layer and direction's final state.

    ``forward(input, h_0=None)`` returns ``(output, h_n)``.
    """

    def __init__(self, *args, **kwargs):
        names = ["input_size", "hidden_size", "num_layers", "nonlinearity", "bias",
                 "batch_first", "dropout", "bidirectional", "device", "dtype"]
        values = _rnn_args(args, kwargs, names)
        if "proj_size" in values:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        nonlinearity = values.pop("nonlinearity", "tanh")
        if nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, **values)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False); forward(input, (h_0, c_0)) returns (output, (h_n, c_n)).

    Each step: i, f, g, o = split(x W_ih^T + b_ih + h W_hh^T + b_hh), c' = sigmoid(f) c +
    sigmoid(i) tanh(g), h' = sigmoid(o) tanh(c').

    Args:
        input_size: H_in, the features of each step's input.
        hidden_size: H_out, the features of the hidden state.
        num_layers: the number of stacked layers (each one's output the next one's input).
        bias: learn b_ih and b_hh (False: no biases).
        batch_first: input and output are (N, L, H) instead of (L, N, H) (the states keep
            their layout).
        dropout: the probability of dropout on each layer's output but the last, in
            training mode.
        bidirectional: run a second direction backwards over the sequence (D = 2).
        proj_size: only 0 (LSTM projections are not supported: NotImplementedError).
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - input: (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) unbatched, or a
          ``PackedSequence`` (``nn.utils.rnn``).
        - h_0, c_0: (D num_layers, N, H_out), or (D num_layers, H_out) unbatched; zeros
          when not given.
        - output: (L, N, D H_out), (N, L, D H_out) with batch_first, (L, D H_out) unbatched
          (a ``PackedSequence`` for a packed input): the last layer's h at every step.
        - h_n, c_n: the shape of h_0, each layer and direction's final states.

    Examples:
        >>> import autograd_gpu as torch
        >>> lstm = torch.nn.LSTM(10, 20, num_layers=2, batch_first=True)
        >>> lstm
        LSTM(10, 20, num_layers=2, batch_first=True)
        >>> output, (h_n, c_n) = lstm(torch.randn(3, 5, 10))
        >>> output.shape
        autograd_gpu.Size([3, 5, 20])
        >>> h_n.shape, c_n.shape
        (autograd_gpu.Size([2, 3, 20]), autograd_gpu.Size([2, 3, 20]))
    """

    def __init__(self, *args, **kwargs):
        names = ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "proj_size", "device", "dtype"]
        super().__init__("LSTM", **_rnn_args(args, kwargs, names))


class GRU(RNNBase):
    """GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False); forward(input, h_0) returns (output, h_n).

    Each step: r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r (W_hn h +
    b_hn)), h' = (1 - z) n + z h.

    Args:
        input_size: H_in, the features of each step's input.
        hidden_size: H_out, the features of the hidden state.
        num_layers: the number of stacked layers (each one's output the next one's input).
        bias: learn b_ih and b_hh (False: no biases).
        batch_first: input and output are (N, L, H) instead of (L, N, H) (the states keep
            their layout).
        dropout: the probability of dropout on each layer's output but the last, in
            training mode.
        bidirectional: run a second direction backwards over the sequence (D = 2).
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - input: (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) unbatched, or a
          ``PackedSequence`` (``nn.utils.rnn``).
        - h_0: (D num_layers, N, H_out), or (D num_layers, H_out) unbatched; zeros when
          not given.
        - output: (L, N, D H_out), (N, L, D H_out) with batch_first, (L, D H_out) unbatched
          (a ``PackedSequence`` for a packed input): the last layer's h at every step.
        - h_n: the shape of h_0, each layer and direction's final state.
    """

    def __init__(self, *args, **kwargs):
        names = ["input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                 "bidirectional", "device", "dtype"]
        values = _rnn_args(args, kwargs, names)
        if "proj_size" in values:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", **values)


# ---------------------------------------------------------------- cells


class RNNCellBase(Module):
    """Parameters weight_ih (G, input_size), weight_hh (G, hidden_size), bias_ih, bias_hh
    (G,), uniform in +-1/sqrt(hidden_size); G = gates * hidden_size.

    Args:
        input_size: the features of x.
        hidden_size: the features of h.
        bias: learn b_ih and b_hh.
        device: the device of the parameters.
        dtype: the dtype of the parameters.
    """

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        g = self._gates * hidden_size
        self.weight_ih = Parameter(empty(g, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(empty(g, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(g, device=device, dtype=dtype))
            self.bias_hh = Parameter(empty(g, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nl = getattr(self, "nonlinearity", "tanh")
        if nl != "tanh":
            s += f", nonlinearity={nl}"
        return s

    def _prepare(self, input, states):
        """input as (N, input_size) and each state as (N, hidden_size) (zeros when None),
        checked as PyTorch checks them; and whether the input was unbatched."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for k, s in enumerate(states):
            if s is not None and s.dim() not in (1, 2):
                what = "hidden" if len(states) == 1 else f"hx[{k}]"
                raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {s.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
            states = [s.unsqueeze(0) if s is not None else None for s in states]
        if input.shape[1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[1]} expected {self.input_size}")
        out = []
        for k, s in enumerate(states):
            if s is None:
                s = zeros(input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
            elif s.dim() != 2 or s.shape[0] != input.shape[0]:
                raise RuntimeError(
                    f"Input batch size {input.shape[0]} doesn't match hidden{k} batch size {s.shape[0]}")
            elif s.shape[1] != self.hidden_size:
                raise RuntimeError(
                    f"hidden{k} has inconsistent hidden_size: got {s.shape[1]}, expected {self.hidden_size}")
            out.append(s)
        return input, out, batched


class RNNCell(RNNCellBase):
    """One step of an Elman RNN: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        input_size: the features of x.
        hidden_size: the features of h.
        bias: learn b_ih and b_hh.
        nonlinearity: ``"tanh"`` or ``"relu"``.
        device: the device of the parameters (None: the default device).
        dtype: the dtype of the parameters (None: the default dtype).

    Shape:
        - input: (N, input_size) or (input_size,).
        - hx: (N, hidden_size) or (hidden_size,); zeros when not given.
        - output: h', the shape of hx.
    """
    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        act = tanh if self.nonlinearity == "tanh" else relu
        gi = _linear(x, self.weight_ih, _input_bias("RNN", self.bias_ih, self.bias_hh))
        h = _rnn_step(gi, h, self.weight_hh.t(), act)
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: (h, c) -> (h', c'), gates in PyTorch's order i, f, g, o.

    Args:
        input_size: the features of x.
        hidden_size: the features of h and c.
        bias: learn b_ih and b_hh.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - input: (N, input_size) or (input_size,).
        - hx: a pair (h, c), each (N, hidden_size) or (hidden_size,); zeros when not given.
        - output: the pair (h', c'), each of h's shape.
    """
    _gates = 4

    def forward(self, input, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        x, (h, c), batched = self._prepare(input, [h0, c0])
        gi = _linear(x, self.weight_ih, _input_bias("LSTM", self.bias_ih, self.bias_hh))
        h, c = _lstm_step(gi, h, c, self.weight_hh.t())
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: h -> h', gates in PyTorch's order r, z, n.

    Args:
        input_size: the features of x.
        hidden_size: the features of h.
        bias: learn b_ih and b_hh.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - input: (N, input_size) or (input_size,).
        - hx: (N, hidden_size) or (hidden_size,); zeros when not given.
        - output: h', the shape of hx.
    """
    _gates = 3

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        h = _gru_step(_linear(x, self.weight_ih, self.bias_ih), h, self.weight_hh.t(), self.bias_hh)
        return h if batched else h.squeeze(0)
