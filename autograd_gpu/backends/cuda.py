"""``backends.cuda``: ``matmul.allow_tf32`` (linked to set_float32_matmul_precision, as in
PyTorch) and the reduced-precision-reduction flags, accepted and read back only; the SDPA
backend switches answer for the one implementation here (the math one)."""
from .. import backend as _backend


class _MatmulFlags:
    _precision = "highest"
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self):
        return self._precision != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value):
        self._precision = "high" if value else "highest"

    def __setattr__(self, name, value):
        if name not in ("allow_tf32", "_precision", "allow_fp16_reduced_precision_reduction",
                        "allow_bf16_reduced_precision_reduction"):
            raise AttributeError("Unknown attribute " + name)
        object.__setattr__(self, name, value)


matmul = _MatmulFlags()


def is_built():
    """True when CuPy is importable with a usable device (the library's CUDA backend).

    Returns:
        bool.
    """
    return _backend.cuda_is_available()


def flash_sdp_enabled():
    """False: there is no flash attention kernel here.

    Returns:
        bool.
    """
    return False


def mem_efficient_sdp_enabled():
    """False: there is no memory-efficient attention kernel here.

    Returns:
        bool.
    """
    return False


def math_sdp_enabled():
    """True: scaled_dot_product_attention always takes the math path.

    Returns:
        bool.
    """
    return True


def enable_flash_sdp(enabled):
    """Accepted for PyTorch programs; changes nothing.

    Args:
        enabled: ignored.
    """
    pass


def enable_mem_efficient_sdp(enabled):
    """Accepted for PyTorch programs; changes nothing.

    Args:
        enabled: ignored.
    """
    pass


def enable_math_sdp(enabled):
    """Accepted for PyTorch programs; changes nothing (the math path is the only one).

    Args:
        enabled: ignored.
    """
    pass
