"""``nn.utils.rnn``: PackedSequence and the functions that make and undo one, as PyTorch's.

A PackedSequence holds the steps of a batch of sequences of different lengths, sorted by
decreasing length: ``data`` is every step's rows of the sequences still running, step after
step, and ``batch_sizes[t]`` is how many are running at step t. RNN, LSTM and GRU accept one
and return their output as one. Packing and padding are each one gather (an indexing op), so
gradients flow through them.
"""
import collections

import numpy as np

from ...creation import full, tensor
from ...ops.shape import cat, stack
from ...tensor import Tensor

_Fields = collections.namedtuple(
    "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


class PackedSequence(_Fields):
    """(data, batch_sizes, sorted_indices, unsorted_indices); batch_sizes is an int64 CPU
    tensor; the index tensors are None when the batch came sorted (enforce_sorted=True).

    Args:
        data: ``(sum of the lengths, *)``, every step's rows of the running sequences.
        batch_sizes: int64 CPU tensor, the number of running sequences at each step.
        sorted_indices: the permutation that sorted the batch by decreasing length, or None.
        unsorted_indices: its inverse (computed from sorted_indices when None).
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        idx = [None if i is None else i.to(data.device) for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *idx)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def double(self):
        return self.to(dtype=_dtype("float64"))

    def float(self):
        return self.to(dtype=_dtype("float32"))

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def _steps(self):
        return [int(b) for b in self.batch_sizes.tolist()]


def _dtype(name):
    from ... import backend

    return getattr(backend, name)


def _invert_permutation(perm):
    raw = perm._data
    inv = raw.copy()
    inv[raw] = perm._xp().arange(raw.shape[0])
    return tensor(inv, device=perm.device)


def _lengths_list(lengths):
    if isinstance(lengths, Tensor):
        return [int(n) for n in lengths.tolist()]
    return [int(n) for n in lengths]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """A padded batch ``(T, B, *)`` (``(B, T, *)`` with batch_first) of sequences of the given
    lengths as a PackedSequence. With enforce_sorted=False the batch is sorted here (and
    unsorted again by pad_packed_sequence and by the RNNs' h_n).

    Args:
        input: the padded batch, ``(T, B, *)`` or ``(B, T, *)`` with batch_first.
        lengths: the B lengths (a list or a 1-D tensor), each in [1, T].
        batch_first: input is ``(B, T, *)``.
        enforce_sorted: the lengths must come in decreasing order (False: sort them here).

    Returns:
        PackedSequence: the running rows of every step (gradients flow back to input).
    """
    lengths = _lengths_list(lengths)
    batch = input.shape[0 if batch_first else 1]
    if len(lengths) != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
            f"(batch_size={batch})")
    if any(n <= 0 for n in lengths):
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0")
    steps = input.shape[1 if batch_first else 0]
    if max(lengths) > steps:
        raise RuntimeError(
            f"The longest sequence has length {max(lengths)}, but the input has only {steps} "
            "steps")
    if enforce_sorted:
        if any(a < b for a, b in zip(lengths, lengths[1:])):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX exportability.")
        order = list(range(batch))
        sorted_indices = None
    else:  # stable, by decreasing length, as PyTorch's sort
        order = sorted(range(batch), key=lambda b: -lengths[b])
        sorted_indices = tensor(np.array(order, dtype=np.int64), device=input.device)
    sorted_lengths = [lengths[b] for b in order]
    batch_sizes = [sum(1 for n in sorted_lengths if n > t) for t in range(sorted_lengths[0])]
    # row (t, order[k]) of the (T * B, *) view for every running sequence k at step t
    seq = np.array(order, dtype=np.int64)
    rows = np.concatenate([seq[:b] * steps + t if batch_first else t * batch + seq[:b]
                           for t, b in enumerate(batch_sizes)])
    flat = input.reshape((-1,) + tuple(input.shape[2:]))
    data = flat[tensor(rows, device=input.device)]
    return PackedSequence(data, tensor(np.array(batch_sizes, dtype=np.int64)), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of pack_padded_sequence: (padded batch, lengths), the batch in its
    original order, the steps past each sequence's end filled with padding_value.

    Args:
        sequence: a PackedSequence.
        batch_first: return ``(B, T, *)`` instead of ``(T, B, *)``.
        padding_value: the value of the steps past each sequence's end.
        total_length: pad to this many steps (at least the longest length; None: the
            longest length).

    Returns:
        tuple: (padded, lengths): the padded batch and the int64 CPU tensor of the B lengths.
    """
    data, sizes = sequence.data, sequence._steps()
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    lengths = [sum(1 for b in sizes if b > k) for k in range(batch)]  # sorted order
    starts = np.concatenate([[0], np.cumsum(sizes)])
    pad_row = data.shape[0]  # an extra row of padding_value, after the data
    order = list(range(batch)) if sequence.unsorted_indices is None else [
        int(i) for i in sequence.unsorted_indices.tolist()]
    # for the output's (t, b): sequence b of the original order sits at sorted place order[b]
    k = np.array(order, dtype=np.int64)[None, :]
    t = np.arange(steps)[:, None]
    running = t < np.array(lengths)[k]
    rows = np.where(running, starts[np.minimum(t, len(sizes) - 1)] + k, pad_row).astype(np.int64)
    if batch_first:
        rows = rows.T
    fill = full((1,) + tuple(data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = cat([data, fill], 0)[tensor(np.ascontiguousarray(rows), device=data.device)]
    out_lengths = tensor(np.array([lengths[k] for k in order], dtype=np.int64))
    return padded, out_lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Tensors of shape ``(L_i, *)`` stacked into ``(max L, B, *)`` (``(B, max L, *)`` with
    batch_first), padded with padding_value on the right (or the left).

    Args:
        sequences: a list of B tensors ``(L_i, *)``, the same trailing shape.
        batch_first: return ``(B, max L, *)`` instead of ``(max L, B, *)``.
        padding_value: the value of the padding.
        padding_side: ``"right"`` (after each sequence) or ``"left"`` (before it).

    Returns:
        Tensor: the padded batch.
    """
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    longest = max(s.shape[0] for s in sequences)
    rows = []
    for s in sequences:
        extra = longest - s.shape[0]
        if extra:
            pad = full((extra,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Tensors of shape ``(L_i, *)`` as a PackedSequence (sorted by length if
    enforce_sorted=False).

    Args:
        sequences: a list of tensors ``(L_i, *)``, the same trailing shape.
        enforce_sorted: the lengths must come in decreasing order (False: sort them here).

    Returns:
        PackedSequence: the sequences packed.
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch.

    Args:
        padded_sequences: ``(T, B, *)``, or ``(B, T, *)`` with batch_first.
        lengths: the B lengths (a list or a 1-D tensor).
        batch_first: padded_sequences is ``(B, T, *)``.

    Returns:
        list: B tensors, the b-th of shape ``(lengths[b], *)``.
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[b, :n] for b, n in enumerate(_lengths_list(lengths))]


def unpack_sequence(packed_sequences):
    """The list of sequences of a PackedSequence, in their original order.

    Args:
        packed_sequences: a PackedSequence.

    Returns:
        list: tensors ``(L_i, *)``, one per sequence.
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


__all__ = [
    "PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
    "pack_sequence", "unpad_sequence", "unpack_sequence",
]
