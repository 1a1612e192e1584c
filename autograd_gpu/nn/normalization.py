"""Normalization layers: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, as
torch.nn's (same arguments, parameters, buffers, reprs and train/eval behaviour)."""
import numbers

from .. import backend
from ..autograd.grad_mode import no_grad
from ..creation import empty, ones, tensor, zeros
from ..ops import normalization as _norm
from . import init
from .module import Module, Parameter


class _NormBase(Module):
    """Parameters weight (ones) and bias (zeros) when affine; buffers running_mean (zeros),
    running_var (ones) and num_batches_tracked (an int64 0) when track_running_stats."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        _affine_parameters(self, affine, bias, (num_features,), device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 tensor(0, dtype=backend.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input):
        raise NotImplementedError

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    def forward(self, input):
        self._check_input_dim(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative average over the batches seen
                factor = 1.0 / float(self.num_batches_tracked.item())
        # in eval mode the running statistics, unless there are none
        use_batch = self.training or (self.running_mean is None and self.running_var is None)
        keep = not self.training or self.track_running_stats
        return _norm.batch_norm(
            input, self.running_mean if keep else None, self.running_var if keep else None,
            self.weight, self.bias, use_batch, factor, self.eps)


class BatchNorm1d(_BatchNorm):
    """Over (N, C) or (N, C, L) input, per channel C: normalized by the batch's mean and
    (biased) variance in training mode, by the running ones in eval mode.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for numerical stability.
        momentum: the weight of the new batch's statistics in the running ones
            (None: a cumulative average over the batches seen).
        affine: learn a per-channel weight and bias.
        track_running_stats: keep running_mean and running_var (used in eval mode); without
            them the batch's statistics are used in eval mode too.
        device: the device of the parameters and buffers.
        dtype: the dtype of the parameters and buffers.
        bias: with affine, learn the bias too (False: the weight only).

    Shape:
        - Input: (N, C) or (N, C, L).
        - Output: the input's shape.
    """

    def _check_input_dim(self, input):
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Over (N, C, H, W) input, per channel C: normalized by the batch's mean and (biased)
    variance in training mode, by the running ones in eval mode.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for numerical stability.
        momentum: the weight of the new batch's statistics in the running ones
            (None: a cumulative average over the batches seen).
        affine: learn a per-channel weight and bias.
        track_running_stats: keep running_mean and running_var (used in eval mode); without
            them the batch's statistics are used in eval mode too.
        device: the device of the parameters and buffers.
        dtype: the dtype of the parameters and buffers.
        bias: with affine, learn the bias too (False: the weight only).

    Shape:
        - Input: (N, C, H, W).
        - Output: the input's shape.
    """

    def _check_input_dim(self, input):
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Over (N, C, D, H, W) input, per channel C: normalized by the batch's mean and (biased)
    variance in training mode, by the running ones in eval mode.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for numerical stability.
        momentum: the weight of the new batch's statistics in the running ones
            (None: a cumulative average over the batches seen).
        affine: learn a per-channel weight and bias.
        track_running_stats: keep running_mean and running_var (used in eval mode); without
            them the batch's statistics are used in eval mode too.
        device: the device of the parameters and buffers.
        dtype: the dtype of the parameters and buffers.
        bias: with affine, learn the bias too (False: the weight only).

    Shape:
        - Input: (N, C, D, H, W).
        - Output: the input's shape.
    """

    def _check_input_dim(self, input):
        if input.dim() != 5:
            raise ValueError(f"expected 5D input (got {input.dim()}D input)")


class _InstanceNorm(_NormBase):
    """Each sample's channels normalized over their spatial dims. affine and
    track_running_stats default to False, as PyTorch's; an input without the batch dim is
    taken as a batch of one."""

    _spatial = 1

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats,
                         device, dtype, bias=bias)

    def _check_input_dim(self, input):
        n = self._spatial
        if input.dim() not in (n + 1, n + 2):
            raise ValueError(f"expected {n + 1}D or {n + 2}D input (got {input.dim()}D input)")

    def forward(self, input):
        self._check_input_dim(input)
        feature_dim = input.dim() - (self._spatial + 1)
        if input.shape[feature_dim] != self.num_features and self.affine:
            raise ValueError(
                f"expected input's size at dim={feature_dim} to match num_features "
                f"({self.num_features}), but got: {input.shape[feature_dim]}.")
        unbatched = input.dim() == self._spatial + 1
        x = input.unsqueeze(0) if unbatched else input
        out = _norm.instance_norm(
            x, self.running_mean, self.running_var, self.weight, self.bias,
            self.training or not self.track_running_stats,
            self.momentum if self.momentum is not None else 0.0, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Normalizes each channel of each sample of (N, C, L) input over L.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for numerical stability.
        momentum: the weight of the new statistics in the running ones (with
            track_running_stats).
        affine: learn a per-channel weight and bias (False by default).
        track_running_stats: keep running_mean and running_var and use them in eval mode
            (False by default: each sample's own statistics always).
        device: the device of the parameters and buffers.
        dtype: the dtype of the parameters and buffers.
        bias: with affine, learn the bias too (False: the weight only).

    Shape:
        - Input: (N, C, L) or (C, L).
        - Output: the input's shape.
    """
    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Normalizes each channel of each sample of (N, C, H, W) input over H, W.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for numerical stability.
        momentum: the weight of the new statistics in the running ones (with
            track_running_stats).
        affine: learn a per-channel weight and bias (False by default).
        track_running_stats: keep running_mean and running_var and use them in eval mode
            (False by default: each sample's own statistics always).
        device: the device of the parameters and buffers.
        dtype: the dtype of the parameters and buffers.
        bias: with affine, learn the bias too (False: the weight only).

    Shape:
        - Input: (N, C, H, W) or (C, H, W).
        - Output: the input's shape.
    """
    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Normalizes each channel of each sample of (N, C, D, H, W) input over D, H, W.

    Args:
        num_features: C, the number of channels.
        eps: added to the variance for numerical stability.
        momentum: the weight of the new statistics in the running ones (with
            track_running_stats).
        affine: learn a per-channel weight and bias (False by default).
        track_running_stats: keep running_mean and running_var and use them in eval mode
            (False by default: each sample's own statistics always).
        device: the device of the parameters and buffers.
        dtype: the dtype of the parameters and buffers.
        bias: with affine, learn the bias too (False: the weight only).

    Shape:
        - Input: (N, C, D, H, W) or (C, D, H, W).
        - Output: the input's shape.
    """
    _spatial = 3


class LayerNorm(Module):
    """Normalizes over the last len(normalized_shape) dims; weight (ones) and bias (zeros)
    of that shape when elementwise_affine (bias=False leaves the bias out).

    Args:
        normalized_shape: the trailing shape normalized over (an int for the last dim).
        eps: added to the variance for numerical stability.
        elementwise_affine: learn a weight and bias of normalized_shape.
        bias: with elementwise_affine, learn the bias too.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - Input: ``(N, *)``, the trailing dims equal to normalized_shape.
        - Output: the input's shape.
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _affine_parameters(self, elementwise_affine, bias, (*self.normalized_shape,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return _norm.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """num_channels in num_groups groups, each normalized per sample; per-channel weight
    (ones) and bias (zeros) when affine.

    Args:
        num_groups: the number of groups (num_channels divisible by it).
        num_channels: C, the channels of the input.
        eps: added to the variance for numerical stability.
        affine: learn a per-channel weight and bias.
        device: the device of the parameters.
        dtype: the dtype of the parameters.
        bias: with affine, learn the bias too.

    Shape:
        - Input: ``(N, C, *)``.
        - Output: the input's shape.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if num_channels % num_groups != 0:
            raise ValueError(
                f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _affine_parameters(self, affine, bias, (num_channels,), device, dtype)
        self.reset_parameters()

    def reset_parameters(self):
        _reset_affine(self)

    def forward(self, input):
        return _norm.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")


def _affine_parameters(module, affine, bias, shape, device, dtype):
    """weight (and bias, unless bias=False) of `shape` when affine, else both None: the
    learnable scale and shift every normalization layer has, under PyTorch's names."""
    if affine:
        module.weight = Parameter(empty(*shape, device=device, dtype=dtype))
        if bias:
            module.bias = Parameter(empty(*shape, device=device, dtype=dtype))
        else:
            module.register_parameter("bias", None)
    else:
        module.register_parameter("weight", None)
        module.register_parameter("bias", None)


def _reset_affine(module):
    """PyTorch's initial scale 1 and shift 0 (nothing without them)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)
