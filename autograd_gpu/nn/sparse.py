"""Embedding: a lookup table of num_embeddings vectors of size embedding_dim, as
torch.nn.Embedding (weight ~ N(0, 1), the padding_idx row zero)."""
from ..autograd.grad_mode import no_grad
from ..creation import empty
from ..ops import embedding as _emb
from . import init
from .module import Module, Parameter


class Embedding(Module):
    """A lookup table: row i of weight for index i. The weight starts N(0, 1).

    Args:
        num_embeddings: the number of rows.
        embedding_dim: the size of each row.
        padding_idx: a row that stays zero and gets no gradient.
        max_norm: rows looked up are rescaled in place to at most this norm.
        norm_type: the p of that norm.
        scale_grad_by_freq: divide gradients by the index counts in the batch.
        sparse: not supported (must be False).
        _weight: a (num_embeddings, embedding_dim) tensor used as the weight (shared, not
            initialized), as ``from_pretrained`` passes it.
        _freeze: the weight does not require grad.
        device: the device of the weight (None: the default device).
        dtype: the dtype of the weight (None: the default dtype).

    Shape:
        - Input: ``(*)``, integer indices in [0, num_embeddings).
        - Output: ``(*, embedding_dim)``.
    """
    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported (sparse=False)")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = _emb._padding_index(padding_idx, num_embeddings)
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, device=device, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if list(_weight.shape) != [num_embeddings, embedding_dim]:
                raise AssertionError("Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input):
        return _emb.embedding(input, self.weight, self.padding_idx, self.max_norm,
                              self.norm_type, self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is `embeddings` (2-D, memory shared), trained only when
        freeze=False.

        Args:
            embeddings: the (num_embeddings, embedding_dim) weight.
            freeze: the weight does not require grad.
            padding_idx: as the constructor's.
            max_norm: as the constructor's.
            norm_type: as the constructor's.
            scale_grad_by_freq: as the constructor's.
            sparse: as the constructor's (must be False).

        Returns:
            Embedding: the new module.
        """
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
