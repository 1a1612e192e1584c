"""``autograd_gpu.backends``: torch.backends' switches, settable as in PyTorch.

None of them changes a result here: the library does not use cuDNN (cudnn.is_available() is
False, version() None), has no MPS backend, and does not switch CuPy's matmuls to TF32, so
``cudnn.benchmark / deterministic / enabled / allow_tf32``, ``cuda.matmul.allow_tf32`` and
``set_float32_matmul_precision`` are accepted and remembered (and read back) only. Every
op computes in the precision of its dtype; the library's ops are deterministic on the CPU.
"""
import warnings

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]

_PRECISIONS = ("highest", "high", "medium")


def set_float32_matmul_precision(precision):
    """"highest" (the default), "high" or "medium", as torch's; remembered only (the
    matmuls always compute in float32). "high"/"medium" read back as matmul.allow_tf32.

    Args:
        precision: ``"highest"``, ``"high"`` or ``"medium"`` (anything else warns and
            changes nothing).

    Returns:
        None.
    """
    if precision not in _PRECISIONS:
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    cuda.matmul._precision = precision


def get_float32_matmul_precision():
    """The float32 matmul precision setting (``"highest"``, ``"high"`` or ``"medium"``).

    Returns:
        str.
    """
    return cuda.matmul._precision
