"""``autograd_gpu.nn.init``: in-place initializers, as ``torch.nn.init`` (same formulas and
gains; the random numbers come from this library's generators, seeded by ``manual_seed``)."""
import math

from ..autograd.grad_mode import no_grad


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity (PyTorch's values).

    Args:
        nonlinearity: ``"linear"``, ``"conv2d"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``,
            ``"leaky_relu"``, ``"selu"``, ..
        param: the negative slope for leaky_relu.

    Returns:
        float.
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
              "conv_transpose3d", "sigmoid")
    if nonlinearity in linear:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float)):
            raise ValueError(f"negative_slope {slope} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError(
            "Fan in and fan out can not be computed for tensor with fewer than 2 dimensions"
        )
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _rng(tensor, generator):
    from ..creation import _generator

    return (generator if generator is not None else _generator(tensor.device))._rng


def _fill(tensor, arr):
    with no_grad():
        tensor._xp().copyto(tensor._data, arr, casting="unsafe")
        tensor._version[0] += 1
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill tensor in place with uniform numbers in [a, b).

    Args:
        tensor: the tensor to fill.
        a: the lower bound.
        b: the upper bound.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    with no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill tensor in place with normal numbers.

    Args:
        tensor: the tensor to fill.
        mean: the mean.
        std: the standard deviation.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    with no_grad():
        return tensor.normal_(mean, std, generator=generator)


def constant_(tensor, val):
    """Fill tensor in place with val.

    Args:
        tensor: the tensor to fill.
        val: the value.

    Returns:
        Tensor: tensor
    """
    with no_grad():
        tensor._data.fill(val)
        tensor._version[0] += 1
    return tensor


def zeros_(tensor):
    """Fill tensor in place with zeros.

    Args:
        tensor: the tensor to fill.

    Returns:
        Tensor: tensor
    """
    return constant_(tensor, 0.0)


def ones_(tensor):
    """Fill tensor in place with ones.

    Args:
        tensor: the tensor to fill.

    Returns:
        Tensor: tensor
    """
    return constant_(tensor, 1.0)


def eye_(tensor):
    """Fill a 2-D tensor in place with the identity matrix.

    Args:
        tensor: the 2-D tensor to fill.

    Returns:
        Tensor: tensor
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    xp = tensor._xp()
    return _fill(tensor, xp.eye(*tensor.shape))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform init: U(-a, a), a = gain sqrt(6 / (fan_in + fan_out)).

    Args:
        tensor: the tensor to fill (at least 2-D).
        gain: the scale factor.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    a = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal init: N(0, std²), std = gain sqrt(2 / (fan_in + fan_out)).

    Args:
        tensor: the tensor to fill (at least 2-D).
        gain: the scale factor.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform init: U(-b, b), b = gain sqrt(3 / fan).

    Args:
        tensor: the tensor to fill (at least 2-D).
        a: the negative slope of the rectifier after this layer (leaky_relu).
        mode: ``"fan_in"`` or ``"fan_out"``, the fan used.
        nonlinearity: the nonlinearity, for calculate_gain.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    if 0 in tuple(tensor.shape):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal init: N(0, std²), std = gain / sqrt(fan).

    Args:
        tensor: the tensor to fill (at least 2-D).
        a: the negative slope of the rectifier after this layer (leaky_relu).
        mode: ``"fan_in"`` or ``"fan_out"``, the fan used.
        nonlinearity: the nonlinearity, for calculate_gain.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    if 0 in tuple(tensor.shape):
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


# ---------------------------------------------------------------- orthogonal, truncated normal,
# sparse, dirac: PyTorch's constructions, drawn from this library's generators


def _draw_normal(tensor, shape, generator):
    from ..creation import _generator

    gen = generator if generator is not None else _generator(tensor.device)
    return gen._normal(shape)  # float64, on the tensor's device


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix (the Q of a QR decomposition of a normal matrix, signs
    fixed by R's diagonal) over the tensor seen as (size(0), -1), times `gain`.

    Args:
        tensor: the tensor to fill (at least 2-D).
        gain: the scale factor.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _draw_normal(tensor, (rows, cols), generator)
    if rows < cols:
        flat = flat.T
    xp = tensor._xp()
    q, r = xp.linalg.qr(flat)
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tuple(tensor.shape)))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal(mean, std) restricted to [a, b], by the inverse CDF of a uniform draw
    between the CDF's values at a and b (as PyTorch), then clamped to [a, b].

    Args:
        tensor: the tensor to fill.
        mean: the mean of the normal distribution.
        std: its standard deviation.
        a: the lower bound.
        b: the upper bound.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    import warnings

    from ..ops.elementwise import erfinv
    from ..tensor import _wrap

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    lo, hi = cdf((a - mean) / std), cdf((b - mean) / std)
    from ..creation import _generator

    gen = generator if generator is not None else _generator(tensor.device)
    u = gen._uniform(tuple(tensor.shape)) * (2 * hi - 2 * lo) + (2 * lo - 1)
    with no_grad():
        z = erfinv(_wrap(u))._data
    xp = tensor._xp()
    return _fill(tensor, xp.clip(z * (std * math.sqrt(2.0)) + mean, a, b))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """A 2-D tensor drawn from Normal(0, std) with, in each column, ceil(sparsity * rows)
    entries (at random rows) set to zero.

    Args:
        tensor: the 2-D tensor to fill.
        sparsity: the fraction of each column set to zero.
        std: the standard deviation of the nonzero entries.
        generator: the Generator to draw from (None: the device's global one).

    Returns:
        Tensor: tensor
    """
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = int(math.ceil(sparsity * rows))
    from ..creation import _generator

    gen = generator if generator is not None else _generator(tensor.device)
    values = gen._normal((rows, cols)) * std
    if num_zeros:
        # each column's zero rows: the first num_zeros of a random permutation of the rows
        keys = gen._uniform((rows, cols))
        order = keys.argsort(axis=0)[:num_zeros]
        xp = tensor._xp()
        values[order, xp.arange(cols)[None, :]] = 0.0
    return _fill(tensor, values)


def dirac_(tensor, groups=1):
    """Conv weights (3-, 4- or 5-D) that pass their input through: per group, output
    channel d takes input channel d at the kernel's centre.

    Args:
        tensor: the 3-, 4- or 5-D tensor to fill, (C_out, C_in, *kernel).
        groups: the number of groups (C_out divisible by it), each its own identity.

    Returns:
        Tensor: tensor
    """
    if tensor.dim() not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tuple(tensor.shape)
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    xp = tensor._xp()
    out = xp.zeros(sizes, dtype=tensor._data.dtype)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for d in range(min(per_group, sizes[1])):
            out[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, out)
