"""Embedding lookup (rows of a weight matrix picked by integer indices) and one_hot.

The lookup's backward scatter-adds the output gradient into a zero matrix of the weight's
shape (`xp.add.at`: repeated indices accumulate); that scatter is itself a node whose
backward is the lookup again, so gradients of any order work. Rows at padding_idx get no
gradient; scale_grad_by_freq divides each row's gradient by its index's count in the batch.
"""
import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.node import Node
from ..backend import array_module
from ..tensor import Tensor, _wrap


class Embedding(Node):
    name = "EmbeddingBackward0"

    def forward(self, weight, *, indices, padding_idx, scale_grad_by_freq):
        self.indices, self.padding_idx, self.scale = indices, padding_idx, scale_grad_by_freq
        self.num_weights = weight.shape[0]
        return array_module(weight).take(weight, indices, axis=0)

    def backward(self, g):
        return EmbeddingDenseBackward.apply(
            g, indices=self.indices, num_weights=self.num_weights,
            padding_idx=self.padding_idx, scale_grad_by_freq=self.scale)


class EmbeddingDenseBackward(Node):
    """The weight's gradient: g's rows added at their indices (linear in g)."""

    name = "EmbeddingDenseBackwardBackward0"

    def forward(self, g, *, indices, num_weights, padding_idx, scale_grad_by_freq):
        xp = array_module(g)
        flat = indices.reshape(-1)
        rows = g.reshape(flat.size, g.shape[-1])
        # the factor each looked-up row's gradient is multiplied by: 0 at padding_idx,
        # 1 / count with scale_grad_by_freq (None when every factor is 1)
        factor = None
        if scale_grad_by_freq:
            counts = xp.bincount(flat, minlength=num_weights)
            factor = 1.0 / counts[flat].astype(g.dtype)
        if padding_idx is not None:
            keep = (flat != padding_idx).astype(g.dtype)
            factor = keep if factor is None else factor * keep
        if factor is not None:
            rows = rows * factor[:, None]
        out = xp.zeros((num_weights, g.shape[-1]), g.dtype)
        xp.add.at(out, flat, rows)
        self.indices, self.factor = indices, factor
        return out

    def backward(self, gg):
        out = Embedding.apply(gg, indices=self.indices, padding_idx=None, scale_grad_by_freq=False)
        if self.factor is not None:
            out = out * self.factor.reshape(self.indices.shape + (1,))
        return out


def _check_indices(indices, num_weights):
    if indices.dtype.kind not in "iu" or indices.dtype.itemsize < 4:
        from ..tensor import _TYPE_NAMES

        name = _TYPE_NAMES.get(indices.dtype.name, indices.dtype.name)
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got torch.{name} instead (while checking arguments for "
            "embedding)")
    # explicit: NumPy would wrap a negative index around, CuPy any out-of-range one
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num_weights):
        raise IndexError("index out of range in self")


def _padding_index(padding_idx, num_weights):
    if padding_idx is None:
        return None
    if padding_idx > 0:
        assert padding_idx < num_weights, "Padding_idx must be within num_embeddings"
    elif padding_idx < 0:
        assert padding_idx >= -num_weights, "Padding_idx must be within num_embeddings"
        padding_idx = num_weights + padding_idx
    return int(padding_idx)


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Rows of `weight` looked up by `indices` whose norm exceeds max_norm scaled in place to
    norm max_norm (PyTorch's factor max_norm / (norm + 1e-7))."""
    w = weight._data
    xp = array_module(w)
    rows = xp.unique(indices.reshape(-1))
    picked = w[rows]
    if norm_type == float("inf"):
        norms = xp.abs(picked).max(axis=1)
    else:
        norms = (xp.abs(picked) ** norm_type).sum(axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(w.dtype)
    w[rows] = picked * scale[:, None]
    weight._version[0] += 1
    return weight


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """As torch.nn.functional.embedding: weight[input], for an integer input of any shape.

    Args:
        input: the indices, an integer tensor (or array) of any shape.
        weight: the embedding matrix, shape (num_embeddings, embedding_dim).
        padding_idx: the row (negative: from the end) whose gradient stays 0.
        max_norm: rows looked up with a larger norm are rescaled to it, in place in weight.
        norm_type: the p of the p-norm max_norm compares against.
        scale_grad_by_freq: scale each row's gradient by 1 / its count in the batch.
        sparse: must be False (sparse gradients are not supported here; True raises).

    Returns:
        Tensor: shape ``input.shape + (embedding_dim,)``.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> weight = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
        >>> F.embedding(torch.tensor([2, 0]), weight)
        tensor([[2., 2.],
                [0., 0.]])
    """
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported (sparse=False)")
    indices = input._data if isinstance(input, Tensor) else array_module(weight._data).asarray(input)
    num_weights = weight.shape[0]
    padding_idx = _padding_index(padding_idx, num_weights)
    _check_indices(indices, num_weights)
    if max_norm is not None:
        with no_grad():
            embedding_renorm_(weight, indices, max_norm, norm_type)
    return Embedding.apply(weight, indices=indices, padding_idx=padding_idx,
                           scale_grad_by_freq=bool(scale_grad_by_freq))


def one_hot(tensor, num_classes=-1):
    """As torch.nn.functional.one_hot: an int64 tensor of shape input.shape + (num_classes,),
    1 at each value's place; num_classes=-1 takes the largest value plus one.

    Args:
        tensor: the class values, an int64 tensor of any shape (each in [0, num_classes)).
        num_classes: the number of classes (-1: inferred as above).

    Returns:
        Tensor: int64, shape ``tensor.shape + (num_classes,)``.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> F.one_hot(torch.tensor([0, 2, 1]))
        tensor([[1, 0, 0],
                [0, 0, 1],
                [0, 1, 0]])
    """
    idx = tensor._data
    if idx.dtype != np.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = array_module(idx)
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    if idx.size:
        if int(idx.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        if int(idx.max()) >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    out = (idx[..., None] == xp.arange(num_classes)).astype(np.int64)
    return _wrap(out)


__all__ = ["embedding", "one_hot", "embedding_renorm_"]
