"""``backends.cudnn``: the library does not use cuDNN (its convolutions are im2col matmuls),
so these flags are accepted and read back only; is_available() is False."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available():
    """False: the library does not use cuDNN.

    Returns:
        bool.
    """
    return False


def version():
    """None: no cuDNN.

    Returns:
        None.
    """
    return None


def is_acceptable(tensor):
    """False: cuDNN takes no tensor here.

    Args:
        tensor: any tensor.

    Returns:
        bool.
    """
    return False


class flags:
    """``with cudnn.flags(enabled=..., benchmark=..., deterministic=..., allow_tf32=...):``
    sets the flags inside the block.

    Args:
        enabled: the value of ``cudnn.enabled`` inside.
        benchmark: of ``cudnn.benchmark``.
        benchmark_limit: of ``cudnn.benchmark_limit``.
        deterministic: of ``cudnn.deterministic``.
        allow_tf32: of ``cudnn.allow_tf32``.
    """

    def __init__(self, enabled=False, benchmark=False, benchmark_limit=10, deterministic=False,
                 allow_tf32=True):
        self.values = {"enabled": enabled, "benchmark": benchmark,
                       "benchmark_limit": benchmark_limit, "deterministic": deterministic,
                       "allow_tf32": allow_tf32}

    def __enter__(self):
        g = globals()
        self.prev = {k: g[k] for k in self.values}
        g.update(self.values)
        return self

    def __exit__(self, *exc):
        globals().update(self.prev)
        return False
