"""The ``MultiheadAttention`` layer, as torch.nn's.

Its forward is ``nn.functional.multi_head_attention_forward`` (with
``scaled_dot_product_attention``, defined in nn.functional, composed of the library's
differentiable ops: gradients of every order come from those ops' backward, and the
grad_fn names are the ops', not PyTorch's fused ``ScaledDotProduct...Backward0``). Both
functions are importable from here too.

A row whose every key is masked out gets weights 0 (output 0), as PyTorch's
scaled_dot_product_attention gives; PyTorch's need_weights=True path of
MultiheadAttention gives NaN there, this library gives 0 on both paths.
"""
from ..creation import empty
from . import init
from .functional import (
    _canonical_mask, _none_or_dtype, multi_head_attention_forward, scaled_dot_product_attention,
)
from .layers import Linear
from .module import Module, Parameter

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward", "MultiheadAttention"]


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's out_proj (PyTorch's class of that name: a Linear)."""


class MultiheadAttention(Module):
    """torch.nn.MultiheadAttention: parameters in_proj_weight (3E, E) (or q_proj_weight,
    k_proj_weight, v_proj_weight when kdim/vdim differ from E), in_proj_bias (3E,),
    out_proj (Linear E -> E), bias_k/bias_v (1, 1, E) with add_bias_kv; PyTorch's names and
    initialization (xavier_uniform_ projections, zero biases), so PyTorch state_dicts load.

    Args:
        embed_dim: E, the features of the query and output.
        num_heads: the number of heads (embed_dim divisible by it); each has E / num_heads
            features.
        dropout: the dropout probability on the attention weights (in training mode).
        bias: learn in_proj_bias and out_proj's bias.
        add_bias_kv: learn bias_k and bias_v, appended to the key and value sequences.
        add_zero_attn: append a zero step to the key and value sequences.
        kdim: the features of the key (None: embed_dim).
        vdim: the features of the value (None: embed_dim).
        batch_first: query, key, value and output are (N, L, E) instead of (L, N, E).
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - query: (L, N, E), (N, L, E) with batch_first, or (L, E) unbatched.
        - key: (S, N, kdim), (N, S, kdim) with batch_first, or (S, kdim) unbatched.
        - value: (S, N, vdim), (N, S, vdim) with batch_first, or (S, vdim) unbatched.
        - key_padding_mask: (N, S) or (S,), True (or a float added) at keys to ignore.
        - attn_mask: (L, S) or (N num_heads, L, S), bool (True: not attended) or float.
        - output: query's shape (with E features).
        - weights: (N, L, S) (or (L, S) unbatched) averaged over the heads;
          (N, num_heads, L, S) with average_attn_weights=False; None with need_weights=False.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                f"and num_heads={num_heads} instead")
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **kw))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **kw))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **kw))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **kw))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **kw))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        """Attention of query over key and value.

        Args:
            query: (L, N, E) ((N, L, E) with batch_first; (L, E) unbatched).
            key: (S, N, kdim), likewise.
            value: (S, N, vdim), likewise.
            key_padding_mask: (N, S), True (bool) or a float added at keys to ignore.
            need_weights: also return the attention weights.
            attn_mask: (L, S) or (N num_heads, L, S), True (bool) where not attended, or a
                float added to the scores.
            average_attn_weights: average the weights over the heads.
            is_causal: a hint that attn_mask (then required) is the causal mask.

        Returns:
            (output, weights): output as query's layout ((N, L, E) with batch_first),
            weights (N, L, S) (per head (N, H, L, S) without averaging) or None.
        """
        batched = query.dim() == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                           _none_or_dtype(attn_mask), "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if self.batch_first and batched:
            # keep `query is key is value` (self-attention's single projection) through the swap
            if key is value:
                if query is key:
                    query = key = value = query.transpose(1, 0)
                else:
                    query, key = query.transpose(1, 0), key.transpose(1, 0)
                    value = key
            else:
                query, key, value = (x.transpose(1, 0) for x in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight,
            self.in_proj_bias, self.bias_k, self.bias_v, self.add_zero_attn, self.dropout,
            self.out_proj.weight, self.out_proj.bias, training=self.training,
            key_padding_mask=key_padding_mask, need_weights=need_weights, attn_mask=attn_mask,
            use_separate_proj_weight=not self._qkv_same_embed_dim,
            q_proj_weight=self.q_proj_weight, k_proj_weight=self.k_proj_weight,
            v_proj_weight=self.v_proj_weight, average_attn_weights=average_attn_weights,
            is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights

    def extra_repr(self):
        return ""
