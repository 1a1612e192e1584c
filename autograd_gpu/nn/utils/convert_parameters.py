"""parameters_to_vector / vector_to_parameters, as torch.nn.utils."""
from ...tensor import Tensor


def _check_same_device(param, old_device):
    dev = param.device
    if old_device is None:
        return dev
    if dev != old_device:
        raise TypeError("Found two parameters on different devices, this is currently not "
                        "supported.")
    return old_device


def parameters_to_vector(parameters):
    """The parameters flattened and concatenated into one 1-D tensor (differentiable).

    Args:
        parameters: an iterable of tensors, all on one device.

    Returns:
        Tensor: 1-D, of the parameters' total number of elements.
    """
    from ...ops.shape import cat

    device = None
    vec = []
    for p in parameters:
        device = _check_same_device(p, device)
        vec.append(p.reshape(-1))
    return cat(vec)


def vector_to_parameters(vec, parameters):
    """Copies consecutive slices of the 1-D `vec` into the parameters' data (each reshaped
    to its parameter; the parameters' .data are replaced, as PyTorch does).

    Args:
        vec: a 1-D tensor of the parameters' total number of elements.
        parameters: an iterable of tensors, all on one device.

    Returns:
        None: the parameters are changed in place.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for p in parameters:
        device = _check_same_device(p, device)
        n = p.numel()
        p.data = vec[pointer:pointer + n].view_as(p).data
        pointer += n
