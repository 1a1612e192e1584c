"""``autograd_gpu.nn.functional``: the functions behind the layers, as ``torch.nn.functional``."""
import math as _math
import warnings as _warnings

from .. import backend as _backend
from ..autograd.node import Node
from ..backend import device_of
from ..creation import ones as _ones, zeros as _zeros, zeros_like as _zeros_like
from ..ops.linalg import baddbmm as _baddbmm, matmul as _matmul
from ..tensor import Tensor as _Tensor, _wrap
from ..ops import loss as _loss
from ..ops.elementwise import (
    clamp as _clamp, elu as _elu, gelu, leaky_relu as _leaky_relu, relu as _relu, sigmoid,
    silu as _silu, softplus, tanh, where as _where,
)
from ..ops.reduction import log_softmax as _log_softmax, softmax as _softmax
from ..ops.shape import cat as _cat, flatten as _flatten
from ..ops.conv import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
    avg_pool1d, avg_pool2d, conv1d, conv2d, conv_transpose1d, conv_transpose2d, max_pool1d,
    max_pool2d,
)
from ..ops.embedding import embedding, one_hot
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from ..ops.nn_functional import (
    in_place as _in_place, alpha_dropout, celu, cosine_similarity, dropout1d, dropout2d, dropout3d,
    feature_alpha_dropout, glu, hardshrink, hardsigmoid, hardswish, hardtanh, interpolate,
    log_sigmoid, logsigmoid, mish, normalize, pad, pairwise_distance, prelu, selu, softmin,
    softshrink, softsign, tanhshrink, threshold,
)
from ..ops.loss import (
    cosine_embedding_loss, gaussian_nll_loss, hinge_embedding_loss, kl_div, margin_ranking_loss,
    multi_margin_loss, multilabel_soft_margin_loss, poisson_nll_loss, smooth_l1_loss,
    soft_margin_loss, triplet_margin_loss,
)

binary_cross_entropy = _loss.binary_cross_entropy
binary_cross_entropy_with_logits = _loss.binary_cross_entropy_with_logits
cross_entropy = _loss.cross_entropy
huber_loss = _loss.huber_loss
l1_loss = _loss.l1_loss
mse_loss = _loss.mse_loss
nll_loss = _loss.nll_loss


class Linear(Node):
    """y = x W^T + b in one node (x of shape ``(*, in_features)``)."""

    name = "AddmmBackward0"

    def forward(self, x, w, b):
        self.save_for_backward(x, w)
        self.has_bias = b is not None
        if not self.has_bias:
            self.name = "MmBackward0"
        if x.ndim == 0 or x.shape[-1] != w.shape[1]:
            xs = "x".join(str(n) for n in (x.shape if x.ndim != 1 else (1,) + x.shape))
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({xs} and {w.shape[1]}x{w.shape[0]}) "
                "(in linear: the input's last dimension must equal in_features)"
            )
        y = x @ w.T
        if b is not None:
            y += b
        return y

    def backward(self, g):
        x, w = self.saved_tensors
        need = self.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gx = g @ w
        if need[1] or need[2]:
            g2 = g.reshape((-1, g.shape[-1])) if g.ndim != 2 else g
            if need[1]:
                x2 = x.reshape((-1, x.shape[-1])) if x.ndim != 2 else x
                gw = g2.T @ x2
            if need[2]:
                gb = g2.sum(axis=0)
        return gx, gw, gb



def linear(input, weight, bias=None):
    """x W^T + b.

    Args:
        input: the input tensor.
        weight: the weight, (out_features, in_features).
        bias: the bias, (out_features,), or None.

    Returns:
        Tensor: shape (..., out_features)
    """
    return Linear.apply(input, weight, bias)


class Dropout(Node):
    name = "NativeDropoutBackward0"

    def forward(self, x, p, generator):
        u = generator._uniform(x.shape)  # the device's stream: get/set_rng_state restore masks
        keep = u >= p
        self.mask = keep.astype(x.dtype) * (1.0 / (1.0 - p)) if p < 1 else keep.astype(x.dtype)
        return x * self.mask

    def backward(self, g):
        return g * self.mask


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) in
    training; the identity otherwise. The mask comes from the device's generator
    (seeded by ``manual_seed``).

    Args:
        input: the input tensor.
        p: the probability of an element to be zeroed, in [0, 1].
        training: apply dropout (False: return input unchanged).
        inplace: write the result into input and return it (recorded: the gradient flows
            through the mask, as PyTorch's).

    Returns:
        Tensor: of input's shape (input itself when not training, p is 0 or inplace).
    """
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    from ..creation import _generator

    return _in_place(Dropout.apply, input, inplace, p=float(p),
                     generator=_generator(device_of(input._data)))


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension that sums to 1.
        _stacklevel: ignored (PyTorch's warning stack level).
        dtype: cast the input to this dtype first.

    Returns:
        Tensor: of input's shape, nonnegative, summing to 1 along dim.
    """
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension normalized over.
        _stacklevel: ignored (PyTorch's warning stack level).
        dtype: cast the input to this dtype first.

    Returns:
        Tensor: of input's shape, the log-probabilities along dim.
    """
    return _log_softmax(input, dim, dtype)


def flatten(input, start_dim=0, end_dim=-1):
    """Flattens dimensions start_dim .. end_dim into one.

    Args:
        input: the input tensor.
        start_dim: the first dimension flattened.
        end_dim: the last one.

    Returns:
        Tensor: input with dims start_dim .. end_dim merged into one.
    """
    return _flatten(input, start_dim, end_dim)


def relu(input, inplace=False):
    """max(x, 0), as ``torch.nn.functional.relu``; the gradient at 0 is 0.

    Args:
        input: the input tensor.
        inplace: write the result into `input` and return it.

    Returns:
        Tensor.
    """
    return _in_place(_relu, input, inplace)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x where x >= 0, else negative_slope * x.

    Args:
        input: the input tensor.
        negative_slope: the slope for x < 0.
        inplace: write the result into `input` and return it.

    Returns:
        Tensor.
    """
    return _in_place(_leaky_relu, input, inplace, negative_slope)


def elu(input, alpha=1.0, inplace=False):
    """x where x > 0, else alpha (exp(x) - 1).

    Args:
        input: the input tensor.
        alpha: the value the negative side tends to, times -1.
        inplace: write the result into `input` and return it.

    Returns:
        Tensor.
    """
    return _in_place(_elu, input, inplace, alpha)


def silu(input, inplace=False):
    """x * sigmoid(x).

    Args:
        input: the input tensor.
        inplace: write the result into `input` and return it.

    Returns:
        Tensor.
    """
    return _in_place(_silu, input, inplace)


def relu6(input, inplace=False):
    """min(max(x, 0), 6).

    Args:
        input: the input tensor.
        inplace: write the result into `input` and return it.

    Returns:
        Tensor.
    """
    return _in_place(_clamp, input, inplace, 0.0, 6.0)


__all__ = [
    "linear", "dropout", "softmax", "log_softmax", "flatten", "relu", "leaky_relu", "sigmoid",
    "tanh", "gelu", "silu", "softplus", "elu", "mse_loss", "l1_loss", "huber_loss",
    "cross_entropy", "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
]
__all__ += ["batch_norm", "layer_norm", "group_norm", "instance_norm", "embedding", "one_hot"]
__all__ += [
    "alpha_dropout", "celu", "cosine_similarity", "dropout1d", "dropout2d", "dropout3d",
    "feature_alpha_dropout", "glu", "hardshrink", "hardsigmoid", "hardswish", "hardtanh",
    "interpolate", "log_sigmoid", "logsigmoid", "mish", "normalize", "pad", "pairwise_distance",
    "prelu", "selu", "softmin", "softshrink", "softsign", "tanhshrink", "threshold",
    "cosine_embedding_loss", "gaussian_nll_loss", "hinge_embedding_loss", "kl_div",
    "margin_ranking_loss", "multi_margin_loss", "multilabel_soft_margin_loss",
    "poisson_nll_loss", "smooth_l1_loss", "soft_margin_loss", "triplet_margin_loss",
]
__all__ += [
    "conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
    "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool2d",
]

# ---------------------------------------------------------------- attention
# scaled_dot_product_attention and multi_head_attention_forward, composed of the library's
# differentiable ops (matmul, baddbmm, softmax, where, dropout, linear), so gradients of every
# order, w.r.t. the inputs, the weights and a float mask, come from those ops' backward; there
# is no fused kernel (and the grad_fn names are those of the ops, not PyTorch's fused
# ``ScaledDotProduct...Backward0``). The MultiheadAttention layer (nn.activation_attention)
# is built on them.
#
# A row whose every key is masked out gets weights 0 (output 0), as PyTorch's
# scaled_dot_product_attention gives; PyTorch's need_weights=True path of
# MultiheadAttention gives NaN there, this library gives 0 on both paths.


def _masked_softmax(scores):
    """softmax over the last dim, with rows that are all -inf (every key masked) giving 0
    instead of NaN: such rows are set to 0 before the softmax (no NaN is ever computed) and
    their weights zeroed after."""
    dead = (scores._data == -_math.inf).all(axis=-1, keepdims=True)
    if not bool(dead.any()):
        return _softmax(scores, -1)
    dead = _wrap(dead)
    return _where(dead, 0.0, _softmax(_where(dead, 0.0, scores), -1))


def _check_sdpa(query, key, value, attn_mask):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, _Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{name}' must be Tensor, "
                            f"not {type(t).__name__}")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{_c_name(query.dtype)} key.dtype: {_c_name(key.dtype)} and value.dtype: "
            f"{_c_name(value.dtype)} instead.")
    if attn_mask is not None and attn_mask.dtype != _backend.bool and not attn_mask.is_floating_point():
        raise RuntimeError(
            "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
            f"attn_mask.dtype: {_c_name(attn_mask.dtype)} and  query.dtype: "
            f"{_c_name(query.dtype)} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            "scaled_dot_product_attention: query, key and value must be at least 2-D, got "
            f"{query.dim()}-D, {key.dim()}-D and {value.dim()}-D")


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}


def _c_name(dtype):
    return _C_NAMES.get(dtype.name, dtype.name)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """softmax(Q K^T * scale + mask) V over the last two dims (..., L, E) x (..., S, E).

    Args:
        query: (..., L, E).
        key: (..., S, E).
        value: (..., S, Ev).
        attn_mask: bool (True = may attend) or float (added to the scores), broadcastable
            to (..., L, S).
        dropout_p: dropout on the weights (always applied when > 0, as PyTorch's function,
            which has no training flag).
        is_causal: query i attends keys j <= i (top-left aligned, as PyTorch; not with an
            attn_mask).
        scale: the factor of the scores (None: 1/sqrt(E)).
        enable_gqa: key/value heads (dim -3) are repeated to the query's number of heads.

    Returns:
        Tensor: (..., L, Ev), the weighted sums of the values. A query row whose keys are
        all masked gives 0.
    """
    _check_sdpa(query, key, value, attn_mask)
    n_q, n_k = query.shape[-2], key.shape[-2]
    scale = 1.0 / _math.sqrt(query.shape[-1]) if scale is None else float(scale)
    if enable_gqa and query.dim() >= 3:
        hq, hk, hv = query.shape[-3], key.shape[-3], value.shape[-3]
        if hq % hk or hq % hv:
            raise RuntimeError("Number of heads in key and value must divide the number of "
                               "heads in query")
        if hk != hq:
            key = key.repeat_interleave(hq // hk, -3)
        if hv != hq:
            value = value.repeat_interleave(hq // hv, -3)
    scores = _matmul(query, key.transpose(-2, -1)) * scale
    keep = None
    if is_causal and attn_mask is not None:
        raise RuntimeError(
            "_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if is_causal:
        keep = _ones(n_q, n_k, dtype=_backend.bool, device=query.device).tril()
    if attn_mask is not None:
        if attn_mask.dtype == _backend.bool:
            keep = attn_mask
        else:
            scores = scores + attn_mask
    if keep is not None:
        scores = _where(keep, scores, -_math.inf)
    weights = _masked_softmax(scores) if keep is not None or attn_mask is not None else _softmax(scores, -1)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, True)
    return _matmul(weights, value)


# ---------------------------------------------------------------- multi-head attention


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as a float one (-inf where True, 0 elsewhere); a float one unchanged."""
    if mask is None:
        return None
    if mask.dtype != _backend.bool and not mask.is_floating_point():
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        _warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. "
                      "Use same type for both instead.", stacklevel=3)
    if mask.dtype == _backend.bool:
        mask = _where(mask, -_math.inf, _zeros_like(mask, dtype=target_type))
    return mask


def _none_or_dtype(t):
    return None if t is None else t.dtype


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError(
                "For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                f"found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError(
                "For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                f"found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                f"{key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError(
                "For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                f"but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError(
                    "For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                    f"but found {attn_mask.dim()}-D tensor instead")
            want = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.dim() == 3 and tuple(attn_mask.shape) != want:
                raise AssertionError(
                    f"Expected `attn_mask` shape to be {want} but got {attn_mask.shape}")
        return False
    raise AssertionError("query should be unbatched 2D or batched 3D tensor but received "
                         f"{query.dim()}-D query tensor")


def _in_projection(query, key, value, w, b, w_q, w_k, w_v):
    """q, k, v projections: from the packed (3E, E) weight (one linear when query, key and
    value are the same tensor, as in self-attention) or from three separate weights."""
    if w is not None:
        if query is key and key is value:
            return linear(query, w, b).chunk(3, -1)
        w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _pad_last(mask):
    return pad(mask, (0, 1))


def multi_head_attention_forward(
        query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
        bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True,
        key_padding_mask=None, need_weights=True, attn_mask=None,
        use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
        v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
        is_causal=False):
    """torch.nn.functional.multi_head_attention_forward: query (L, N, E), key (S, N, kdim),
    value (S, N, vdim) (or unbatched (L, E), ...). Returns (output (L, N, E), weights (N, L,
    S) averaged over heads, (N, H, L, S) if not average_attn_weights, or None when not
    need_weights).

    Args:
        query: (L, N, E) or (L, E).
        key: (S, N, kdim) or (S, kdim).
        value: (S, N, vdim) or (S, vdim).
        embed_dim_to_check: E, checked against query's last dim.
        num_heads: H, the number of heads (E divisible by it).
        in_proj_weight: the packed (3E, E) q, k, v projection (without
            use_separate_proj_weight).
        in_proj_bias: the packed (3E,) projection bias, or None.
        bias_k: (1, 1, E) appended to the projected keys, or None.
        bias_v: (1, 1, E) appended to the projected values, or None.
        add_zero_attn: append a zero key and value step.
        dropout_p: dropout on the attention weights (in training).
        out_proj_weight: the (E, E) output projection.
        out_proj_bias: its (E,) bias, or None.
        training: apply dropout.
        key_padding_mask: (N, S), True (bool) or a float added at keys to ignore.
        need_weights: also return the attention weights.
        attn_mask: (L, S) or (N H, L, S), True (bool) where not attended, or float added.
        use_separate_proj_weight: project with q_proj_weight, k_proj_weight and
            v_proj_weight instead of in_proj_weight.
        q_proj_weight: (E, E).
        k_proj_weight: (E, kdim).
        v_proj_weight: (E, vdim).
        static_k: (N H, S, E / H) keys used as they are instead of projecting key.
        static_v: (N H, S, E / H) values used as they are instead of projecting value.
        average_attn_weights: average the returned weights over the heads.
        is_causal: a hint that attn_mask (then required) is the causal mask.

    Returns:
        tuple: (output, weights) as above.
    """
    batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask",
                                       _none_or_dtype(attn_mask), "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint alone: sdpa's causal masking
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match "
                                 f"value's {value.shape[:2]}")
        q, k, v = _in_projection(query, key, value, None, in_proj_bias, q_proj_weight,
                                 k_proj_weight, v_proj_weight)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
        q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, None, None, None)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but "
                                   f"should be {(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should "
                               f"be {(bsz * num_heads, tgt_len, src_len)}.")
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key.")
        k = _cat([k, bias_k.repeat(1, bsz, 1)])
        v = _cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    elif (bias_k is None) != (bias_v is None):
        raise AssertionError("bias_k is set but bias_v is None" if bias_v is None
                             else "bias_v is set but bias_k is None")
    # heads into the batch: (N * H, L, head_dim)
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_k is None else static_k)
    v = (v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
         if static_v is None else static_v)
    if add_zero_attn:
        shape = (bsz * num_heads, 1, head_dim)
        k = _cat([k, _zeros(*shape, dtype=k.dtype, device=k.device)], 1)
        v = _cat([v, _zeros(*shape, dtype=v.dtype, device=v.device)], 1)
        if attn_mask is not None:
            attn_mask = _pad_last(attn_mask)
        if key_padding_mask is not None:
            key_padding_mask = _pad_last(key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        kpm = (key_padding_mask.reshape(bsz, 1, 1, src_len).expand(bsz, num_heads, 1, src_len)
               .reshape(bsz * num_heads, 1, src_len))
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    if need_weights:
        q_scaled = q * _math.sqrt(1.0 / float(head_dim))
        if attn_mask is not None:
            scores = _baddbmm(attn_mask, q_scaled, k.transpose(-2, -1))
            weights = _masked_softmax(scores)
        else:
            weights = _softmax(_matmul(q_scaled, k.transpose(-2, -1)), -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p, True)
        out = _matmul(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        attn_mask = (attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1
                     else attn_mask.reshape(bsz, num_heads, -1, src_len))
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, embed_dim)
    if not batched:
        out = out.squeeze(1)
    return out, None


__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]
