"""``backends.mps``: Apple's Metal backend, which this library does not have."""


def is_available():
    """False: there is no MPS backend.

    Returns:
        bool.
    """
    return False


def is_built():
    """False: there is no MPS backend.

    Returns:
        bool.
    """
    return False
