"""Worker information. Loading always runs in the main process here; with num_workers > 0
the DataLoader plays each worker's part in turn, and get_worker_info() tells the dataset
which worker it is serving while it does."""
import threading

__all__ = ["WorkerInfo", "get_worker_info"]


class WorkerInfo:
    """The worker a dataset is being read for: ``id`` (0 to num_workers - 1),
    ``num_workers``, ``seed`` (the loader's base seed + id) and ``dataset`` (the worker's own
    shallow copy of the dataset, which worker_init_fn may reconfigure).

    Args:
        kwargs: the attributes (read-only once set).
    """

    __initialized = False

    def __init__(self, **kwargs):
        for k, v in kwargs.items():
            setattr(self, k, v)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, key, val):
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {self.__class__.__name__} objects")
        super().__setattr__(key, val)

    def __repr__(self):
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{self.__class__.__name__}({items})"


_current = threading.local()


def get_worker_info():
    """The WorkerInfo of the worker being served, or None in the main process (outside a
    DataLoader with num_workers > 0).

    Returns:
        WorkerInfo or None.
    """
    return getattr(_current, "info", None)


class _serving:
    """Context manager: makes `info` the current worker while a worker's part runs."""

    __slots__ = ("info", "prev")

    def __init__(self, info):
        self.info = info

    def __enter__(self):
        self.prev = getattr(_current, "info", None)
        _current.info = self.info

    def __exit__(self, *exc):
        _current.info = self.prev
