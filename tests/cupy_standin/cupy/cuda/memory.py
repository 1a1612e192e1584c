"""cupy.cuda.memory: the pool and CuPy's OutOfMemoryError."""
from .. import _core


class OutOfMemoryError(MemoryError):
    def __init__(self, size, total, limit=0):
        super().__init__(f"Out of memory allocating {size:,} bytes (allocated so far: {total:,} bytes).")
        self.size, self.total = size, total


class MemoryPool(_core._Pool):
    pass
