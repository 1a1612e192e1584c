"""``nn.parallel``: DistributedDataParallel (one process per replica, on
autograd_gpu.distributed) and DataParallel (one device)."""
from .data_parallel import DataParallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel"]
