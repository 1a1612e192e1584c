"""Convolution layers: Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (torch.nn's
parameters, default initialization, reprs and state_dict keys)."""
import math

import numpy as np

from ..creation import empty, tensor
from ..ops import conv as _ops
from . import init
from .module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _ntuple(value, n):
    if isinstance(value, (int, np.integer)):
        return (int(value),) * n
    value = tuple(value)
    return value * n if len(value) == 1 else value


def _pad_index(n, lo, hi, mode):
    """The source index of each position of a length-n axis padded by (lo, hi)."""
    i = np.arange(-lo, n + hi)
    if mode == "reflect":
        period = 2 * (n - 1)
        i = np.abs(i) % period if period else np.zeros_like(i)
        return np.where(i >= n, period - i, i)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    return i % n  # circular


def _pad(input, pads, mode):
    """`input` padded on its last len(pads) dims by pads[d] = (lo, hi), in `mode`
    ('reflect', 'replicate' or 'circular'): a gather by index, so its gradient (repeated
    positions summed) comes from indexing's own backward."""
    nd = len(pads)
    shape = tuple(input.shape[-nd:])
    for d, ((lo, hi), n) in enumerate(zip(pads, shape)):
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"Argument #4: Padding size should be less than the corresponding input dimension, "
                f"but got: padding ({lo}, {hi}) at dimension {input.ndim - nd + d} of input "
                f"{list(input.shape)}"
            )
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
    idx = [_pad_index(n, lo, hi, mode) for (lo, hi), n in zip(pads, shape)]
    if nd == 1:
        return input[..., tensor(idx[0], device=input.device)]
    return input[..., tensor(idx[0][:, None], device=input.device),
                 tensor(idx[1][None, :], device=input.device)]


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", output_padding=0, device=None,
                 dtype=None):
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        kernel_size, stride, dilation = (_ntuple(v, nd) for v in (kernel_size, stride, dilation))
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                # (a set, as PyTorch's: the same order as its message in this process)
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {set(('same', 'valid'))}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        else:
            padding = _ntuple(padding, nd)
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {set(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding, self.dilation = (
            kernel_size, stride, padding, dilation)
        self.transposed = self._transposed
        self.output_padding = _ntuple(output_padding, nd)
        self.groups, self.padding_mode = groups, padding_mode
        if padding == "same":  # the (lo, hi) pads PyTorch's 'same' gives each dim
            self._pads = tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                               for d, k in zip(dilation, kernel_size))
        elif padding == "valid":
            self._pads = ((0, 0),) * nd
        else:
            self._pads = tuple((p, p) for p in padding)
        wshape = ((in_channels, out_channels // groups) if self._transposed else
                  (out_channels, in_channels // groups)) + kernel_size
        self.weight = Parameter(empty(*wshape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        # PyTorch's default: kaiming_uniform_(a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        # and the bias in the same bound
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        nd = self._nd
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if isinstance(self.padding, str) or self.padding != (0,) * nd:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * nd:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * nd:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    _fn = None

    def forward(self, input):
        if self.padding_mode != "zeros":
            input = _pad(input, self._pads, self.padding_mode)
            return type(self)._fn(input, self.weight, self.bias, self.stride, 0, self.dilation,
                                  self.groups)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              self.dilation, self.groups)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L): weight (C_out, C_in/groups, k), bias (C_out,).

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output.
        kernel_size: the window size (an int or a tuple of 1).
        stride: the step of the window (an int or a tuple of 1).
        padding: implicit padding on each side (an int or a tuple of 1), or ``"valid"``
            (none) or ``"same"`` (the output as long as the input; stride 1 only).
        dilation: the spacing between kernel elements.
        groups: split the channels into this many groups, each convolved on its own (in and
            out channels divisible by it).
        bias: add a learnable bias of shape (C_out,).
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - Input: (N, C_in, L_in) or (C_in, L_in).
        - Output: (N, C_out, L_out) or (C_out, L_out), where
          L_out = floor((L_in + 2 padding - dilation (kernel_size - 1) - 1) / stride + 1).
    """

    _nd = 1
    _fn = staticmethod(_ops.conv1d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W): weight (C_out, C_in/groups, kh, kw), bias (C_out,).

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output.
        kernel_size: the window size (an int or a tuple of 2).
        stride: the step of the window (an int or a tuple of 2).
        padding: implicit padding on each side (an int or a tuple of 2), or ``"valid"``
            (none) or ``"same"`` (the output as long as the input; stride 1 only).
        dilation: the spacing between kernel elements.
        groups: split the channels into this many groups, each convolved on its own (in and
            out channels divisible by it).
        bias: add a learnable bias of shape (C_out,).
        padding_mode: ``"zeros"``, ``"reflect"``, ``"replicate"`` or ``"circular"``.
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in).
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), where
          H_out = floor((H_in + 2 padding[0] - dilation[0] (kernel_size[0] - 1) - 1)
          / stride[0] + 1), and W_out likewise with the second entries.

    Examples:
        >>> import autograd_gpu as torch
        >>> conv = torch.nn.Conv2d(3, 8, kernel_size=3, padding=1)
        >>> conv
        Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
        >>> conv.weight.shape
        autograd_gpu.Size([8, 3, 3, 3])
        >>> conv(torch.randn(2, 3, 32, 32)).shape
        autograd_gpu.Size([2, 8, 32, 32])
        >>> torch.nn.Conv2d(3, 8, 3, stride=2)(torch.randn(2, 3, 32, 32)).shape
        autograd_gpu.Size([2, 8, 15, 15])
    """

    _nd = 2
    _fn = staticmethod(_ops.conv2d)

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, device=device, dtype=dtype)


class _ConvTransposeNd(_ConvNd):
    _transposed = True
    _fn = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(
                f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, device=device, dtype=dtype)

    def _output_padding(self, input, output_size):
        """output_padding, or the one that gives `output_size` (PyTorch's rule and errors)."""
        if output_size is None:
            return self.output_padding
        nd = self._nd
        lead = 2 if input.ndim == nd + 2 else 1
        output_size = list(output_size)
        if len(output_size) == lead + nd:
            output_size = output_size[lead:]
        if len(output_size) != nd:
            raise ValueError(
                f"ConvTranspose{nd}D: for {input.ndim}D input, output_size must have {nd} or "
                f"{lead + nd} elements (got {len(output_size)})"
            )
        lo = [(input.shape[d + lead] - 1) * self.stride[d] - 2 * self.padding[d]
              + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(nd)]
        hi = [lo[d] + self.stride[d] - 1 for d in range(nd)]
        for size, a, b in zip(output_size, lo, hi):
            if size < a or size > b:
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes range from "
                    f"{lo} to {hi} (for an input of {input.shape[lead:]})"
                )
        return tuple(output_size[d] - lo[d] for d in range(nd))

    def forward(self, input, output_size=None):
        output_padding = self._output_padding(input, output_size)
        return type(self)._fn(input, self.weight, self.bias, self.stride, self.padding,
                              output_padding, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """Transposed 1-D convolution: weight (C_in, C_out/groups, k), bias (C_out,).

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output.
        kernel_size: the window size (an int or a tuple of 1).
        stride: the step of the window (an int or a tuple of 1).
        padding: dilation (kernel_size - 1) - padding zeros are implicitly added to each side
            of the input (an int or a tuple of 1).
        output_padding: extra size added to one side of the output (less than stride or
            dilation); ``forward(input, output_size)`` can choose it instead.
        groups: split the channels into this many groups, each convolved on its own.
        bias: add a learnable bias of shape (C_out,).
        dilation: the spacing between kernel elements.
        padding_mode: only ``"zeros"`` (anything else raises ValueError).
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - Input: (N, C_in, L_in) or (C_in, L_in).
        - Output: (N, C_out, L_out) or (C_out, L_out), where
          L_out = (L_in - 1) stride - 2 padding + dilation (kernel_size - 1) + output_padding + 1.
    """

    _nd = 1
    _fn = staticmethod(_ops.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """Transposed 2-D convolution: weight (C_in, C_out/groups, kh, kw), bias (C_out,).

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the channels of the output.
        kernel_size: the window size (an int or a tuple of 2).
        stride: the step of the window (an int or a tuple of 2).
        padding: dilation (kernel_size - 1) - padding zeros are implicitly added to each side
            of the input (an int or a tuple of 2).
        output_padding: extra size added to one side of the output (less than stride or
            dilation); ``forward(input, output_size)`` can choose it instead.
        groups: split the channels into this many groups, each convolved on its own.
        bias: add a learnable bias of shape (C_out,).
        dilation: the spacing between kernel elements.
        padding_mode: only ``"zeros"`` (anything else raises ValueError).
        device: the device of the parameters.
        dtype: the dtype of the parameters.

    Shape:
        - Input: (N, C_in, H_in, W_in) or (C_in, H_in, W_in).
        - Output: (N, C_out, H_out, W_out) or (C_out, H_out, W_out), where
          H_out = (H_in - 1) stride[0] - 2 padding[0] + dilation[0] (kernel_size[0] - 1)
          + output_padding[0] + 1, and W_out likewise with the second entries.
    """

    _nd = 2
    _fn = staticmethod(_ops.conv_transpose2d)
