"""Pooling layers: MaxPool1d/2d, AvgPool1d/2d, AdaptiveAvgPool1d/2d, AdaptiveMaxPool1d/2d
(torch.nn's arguments, defaults and reprs)."""
from ..ops import conv as _ops
from .module import Module


def _single(v):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,)


class _MaxPoolNd(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """The maximum over windows of (N, C, L) input (``F.max_pool1d``).

    Args:
        kernel_size: the window size.
        stride: the step of the window (kernel_size when None).
        padding: implicit -inf padding on each side.
        dilation: the spacing between window elements.
        return_indices: also return the int64 flat index (into each input plane) of each
            maximum, as a second result.
        ceil_mode: round the output size up instead of down.

    Shape:
        - Input: (N, C, L_in) or (C, L_in).
        - Output: (N, C, L_out) or (C, L_out), where
          L_out = floor((L_in + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1)
          (ceil with ceil_mode); the indices have the same shape.
    """
    def forward(self, input):
        return _ops.max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                               ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class MaxPool2d(_MaxPoolNd):
    """The maximum over windows of (N, C, H, W) input (``F.max_pool2d``).

    Args:
        kernel_size: the window size (an int or a pair).
        stride: the step of the window (kernel_size when None).
        padding: implicit -inf padding on each side.
        dilation: the spacing between window elements.
        return_indices: also return the int64 flat index (into each input plane) of each
            maximum, as a second result.
        ceil_mode: round the output size up instead of down.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in).
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), where
          H_out = floor((H_in + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1)
          / stride[0] + 1) (ceil with ceil_mode), W_out likewise; the indices have the same
          shape.
    """
    def forward(self, input):
        return _ops.max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                               ceil_mode=self.ceil_mode, return_indices=self.return_indices)


class AvgPool1d(Module):
    """The mean over windows of (N, C, L) input (``F.avg_pool1d``).

    Args:
        kernel_size: the window size.
        stride: the step (kernel_size when None).
        padding: implicit zero padding on each side.
        ceil_mode: round the output size up.
        count_include_pad: count the padding in the divisor.

    Shape:
        - Input: (N, C, L_in) or (C, L_in).
        - Output: (N, C, L_out) or (C, L_out), where
          L_out = floor((L_in + 2 padding - kernel_size) / stride + 1) (ceil with ceil_mode).
    """
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input):
        return _ops.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                               self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean over windows of (N, C, H, W) input (``F.avg_pool2d``).

    Args:
        kernel_size: the window size (an int or a pair).
        stride: the step (kernel_size when None).
        padding: implicit zero padding on each side.
        ceil_mode: round the output size up.
        count_include_pad: count the padding in the divisor.
        divisor_override: divide by this instead.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in).
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out), where
          H_out = floor((H_in + 2 padding[0] - kernel_size[0]) / stride[0] + 1) (ceil with
          ceil_mode), W_out likewise.
    """
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input):
        return _ops.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                               self.count_include_pad, self.divisor_override)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptivePool(Module):
    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """Average pooling to a fixed output length.

    Args:
        output_size: L_out, the length of the output.

    Shape:
        - Input: (N, C, L_in) or (C, L_in).
        - Output: (N, C, L_out) or (C, L_out).
    """
    def forward(self, input):
        return _ops.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool):
    """Average pooling to a fixed output size.

    Args:
        output_size: (H_out, W_out), or one int for both; None in the pair keeps that size
            of the input.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in).
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out).
    """
    def forward(self, input):
        return _ops.adaptive_avg_pool2d(input, self.output_size)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices=False):
        super().__init__(output_size)
        self.return_indices = return_indices


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """Max pooling to a fixed output length.

    Args:
        output_size: L_out, the length of the output.
        return_indices: also return the int64 index of each maximum along L_in.

    Shape:
        - Input: (N, C, L_in) or (C, L_in).
        - Output: (N, C, L_out) or (C, L_out); the indices have the same shape.
    """
    def forward(self, input):
        return _ops.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """Max pooling to a fixed output size.

    Args:
        output_size: (H_out, W_out), or one int for both; None in the pair keeps that size
            of the input.
        return_indices: also return the int64 flat index (into each H_in x W_in plane) of
            each maximum.

    Shape:
        - Input: (N, C, H_in, W_in) or (C, H_in, W_in).
        - Output: (N, C, H_out, W_out) or (C, H_out, W_out); the indices have the same shape.
    """
    def forward(self, input):
        return _ops.adaptive_max_pool2d(input, self.output_size, self.return_indices)
