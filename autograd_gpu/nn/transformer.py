"""Transformer layers, as torch.nn's: TransformerEncoderLayer, TransformerEncoder,
TransformerDecoderLayer, TransformerDecoder, Transformer.

Same submodules, parameter names and initialization as PyTorch (so a PyTorch state_dict
loads and gives PyTorch's outputs), post-norm by default, pre-norm with norm_first, ReLU or
GELU (by name) or any callable as the activation. PyTorch's inference fast path (fused
kernels, nested tensors) is not here: every call takes the path PyTorch takes in training,
which computes the same function; enable_nested_tensor is accepted and ignored.
"""
import copy
import math

from ..creation import full
from ..ops.elementwise import gelu, relu
from .activation_attention import MultiheadAttention
from .functional import _canonical_mask, _none_or_dtype
from .layers import Dropout, Linear
from .module import Module, ModuleList
from .normalization import LayerNorm
from . import init

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder",
           "TransformerEncoderLayer", "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """(sz, sz) float mask: 0 on and below the diagonal, -inf above (position i sees j <= i)."""
    return full((sz, sz), -math.inf, dtype=dtype, device=device).triu(1)


def _get_activation_fn(activation):
    if activation == "relu":
        return relu
    if activation == "gelu":
        return gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _seq_len(src, batch_first):
    if src.dim() == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """is_causal if given; else (None) whether `mask` is exactly the causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    causal = _generate_square_subsequent_mask(sz, device=mask.device, dtype=mask.dtype)
    if tuple(mask.shape) != tuple(causal.shape):
        return False
    return bool((mask == causal).all())


class TransformerEncoderLayer(Module):
    """Self-attention and a feed-forward block (linear1, activation, dropout, linear2), each
    with a residual connection and LayerNorm (after it; before it with norm_first).

    Args:
        d_model: E, the features of the input and output.
        nhead: the number of attention heads (d_model divisible by it).
        dim_feedforward: the hidden size of the feed-forward block.
        dropout: the dropout probability (attention weights, after each block and inside
            the feed-forward block).
        activation: of the feed-forward block: ``"relu"``, ``"gelu"`` or a callable.
        layer_norm_eps: the eps of the LayerNorms.
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E).
        norm_first: LayerNorm before each block (pre-norm) instead of after the residual
            sum (post-norm).
        bias: the Linear and LayerNorm layers learn biases.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - src: (L, N, E), (N, L, E) with batch_first, or (L, E) unbatched.
        - src_mask: (L, L) or (N nhead, L, L), bool (True: not attended) or float (added).
        - src_key_padding_mask: (N, L) or (L,), True at padding positions.
        - output: src's shape.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        self.activation_relu_or_gelu = 1 if activation is relu else 2 if activation is gelu else 0
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               _none_or_dtype(src_mask), "src_mask", src.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype, False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over the encoder's output (memory) and a feed-forward
    block, each with a residual connection and LayerNorm (norm1..3).

    Args:
        d_model: E, the features of the input and output.
        nhead: the number of attention heads (d_model divisible by it).
        dim_feedforward: the hidden size of the feed-forward block.
        dropout: the dropout probability (attention weights, after each block and inside
            the feed-forward block).
        activation: of the feed-forward block: ``"relu"``, ``"gelu"`` or a callable.
        layer_norm_eps: the eps of the LayerNorms.
        batch_first: inputs and outputs are (N, L, E) instead of (L, N, E).
        norm_first: LayerNorm before each block (pre-norm) instead of after the residual
            sum (post-norm).
        bias: the Linear and LayerNorm layers learn biases.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - tgt: (T, N, E), (N, T, E) with batch_first, or (T, E) unbatched.
        - memory: (S, N, E), (N, S, E) with batch_first, or (S, E) unbatched.
        - tgt_mask: (T, T); memory_mask: (T, S); tgt_key_padding_mask: (N, T);
          memory_key_padding_mask: (N, S).
        - output: tgt's shape.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                            batch_first=batch_first, bias=bias, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout,
                                                 batch_first=batch_first, bias=bias, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation) if isinstance(activation, str) else activation

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoder(Module):
    """`num_layers` deep copies of `encoder_layer` (layers.0, layers.1, ...), then `norm`.

    Args:
        encoder_layer: a TransformerEncoderLayer, copied num_layers times.
        num_layers: the number of layers.
        norm: a module applied to the last layer's output (None: none).
        enable_nested_tensor: accepted and ignored (no nested tensors here).
        mask_check: accepted, as PyTorch's (only its nested-tensor path reads it).

    Shape:
        - src: (L, N, E), (N, L, E) with the layer's batch_first, or (L, E) unbatched.
        - mask: (L, L); src_key_padding_mask: (N, L).
        - output: src's shape.
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False  # (no nested tensors here: the padded path always)
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               _none_or_dtype(mask), "mask", src.dtype)
        mask = _canonical_mask(mask, "mask", None, "", src.dtype, False)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """`num_layers` deep copies of `decoder_layer`, then `norm`.

    Args:
        decoder_layer: a TransformerDecoderLayer, copied num_layers times.
        num_layers: the number of layers.
        norm: a module applied to the last layer's output (None: none).

    Shape:
        - tgt: (T, N, E), (N, T, E) with the layer's batch_first, or (T, E) unbatched.
        - memory: (S, N, E), (N, S, E) with batch_first, or (S, E) unbatched.
        - output: tgt's shape.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        seq_len = _seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """Encoder (num_encoder_layers, final LayerNorm) and decoder (num_decoder_layers, final
    LayerNorm); every weight with more than one dim xavier_uniform_, as PyTorch.

    Args:
        d_model: E, the features of the inputs and output.
        nhead: the number of attention heads (d_model divisible by it).
        num_encoder_layers: the layers of the encoder.
        num_decoder_layers: the layers of the decoder.
        dim_feedforward: the hidden size of each feed-forward block.
        dropout: the dropout probability.
        activation: of the feed-forward blocks: ``"relu"``, ``"gelu"`` or a callable.
        custom_encoder: a module used as the encoder instead.
        custom_decoder: a module used as the decoder instead.
        layer_norm_eps: the eps of the LayerNorms.
        batch_first: inputs and output are (N, L, E) instead of (L, N, E).
        norm_first: pre-norm layers instead of post-norm.
        bias: the Linear and LayerNorm layers learn biases.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - src: (S, N, E), (N, S, E) with batch_first, or (S, E) unbatched.
        - tgt: (T, N, E), (N, T, E) with batch_first, or (T, E) unbatched.
        - src_mask: (S, S); tgt_mask: (T, T); memory_mask: (T, S).
        - src_key_padding_mask: (N, S); tgt_key_padding_mask: (N, T);
          memory_key_padding_mask: (N, S).
        - output: tgt's shape.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation=relu, custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **kw)
            self.encoder = TransformerEncoder(
                layer, num_encoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                            layer_norm_eps, batch_first, norm_first, bias, **kw)
            self.decoder = TransformerDecoder(
                layer, num_decoder_layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batched = src.dim() == 3
        if batched and src.shape[0 if self.batch_first else 1] != tgt.shape[0 if self.batch_first else 1]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The causal mask for a sequence of length `sz`: 0 where attending is allowed, -inf
        above the diagonal (float32 unless `dtype`).

        Args:
            sz: the sequence length.
            device: the mask's device.
            dtype: the mask's dtype.

        Returns:
            Tensor: the (sz, sz) float mask.
        """
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)


