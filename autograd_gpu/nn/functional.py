"""``autograd_gpu.nn.functional``: the functions behind the layers, as ``torch.nn.functional``."""
from ..autograd.node import Node
from ..backend import device_of
from ..ops import loss as _loss
from ..ops.elementwise import (
    elu, gelu, leaky_relu, relu, sigmoid, silu, softplus, tanh,
)
from ..ops.reduction import log_softmax as _log_softmax, softmax as _softmax
from ..ops.shape import flatten as _flatten
from ..ops.conv import (
    adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
    avg_pool1d, avg_pool2d, conv1d, conv2d, conv_transpose1d, conv_transpose2d, max_pool1d,
    max_pool2d,
)
from ..ops.embedding import embedding, one_hot
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from ..ops.nn_functional import (
    alpha_dropout, celu, cosine_similarity, dropout1d, dropout2d, dropout3d,
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
    """y = x W^T + b in one node (x of shape (*, in_features))."""

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
    (seeded by ``manual_seed``)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    from ..creation import _generator

    out = Dropout.apply(input, p=float(p), generator=_generator(device_of(input._data)))
    if inplace:
        from ..autograd.grad_mode import no_grad

        with no_grad():
            input.copy_(out)
        return input
    return out


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    """exp(x) / sum(exp(x)) along dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension that sums to 1.
        dtype: cast the input to this dtype first.

    Returns:
        Tensor.
    """
    return _softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    """log(softmax(x)) along dim, computed stably.

    Args:
        input: the input tensor.
        dim: the dimension normalized over.
        dtype: cast the input to this dtype first.

    Returns:
        Tensor.
    """
    return _log_softmax(input, dim, dtype)


def flatten(input, start_dim=0, end_dim=-1):
    """Flattens dimensions start_dim .. end_dim into one.

    Args:
        input: the input tensor.
        start_dim: the first dimension flattened.
        end_dim: the last one.

    Returns:
        Tensor.
    """
    return _flatten(input, start_dim, end_dim)


def relu6(input):
    from ..ops.elementwise import clamp

    return clamp(input, 0.0, 6.0)


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

# attention (composed of the ops above; nn.activation_attention)
from .activation_attention import (  # noqa: E402
    multi_head_attention_forward, scaled_dot_product_attention,
)

__all__ += ["scaled_dot_product_attention", "multi_head_attention_forward"]
