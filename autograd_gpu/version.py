"""``autograd_gpu.version``: ``__version__``, and ``cuda``: the CUDA runtime version CuPy
uses ("12.4"), None without a usable CUDA device; read lazily, so importing the library
never probes for a GPU."""
__version__ = "0.1.0"
git_version = None
hip = None
debug = False


def __getattr__(name):
    if name == "cuda":
        from . import backend

        if not backend.cuda_is_available():
            return None
        v = int(backend.cupy_module().cuda.runtime.runtimeGetVersion())
        return f"{v // 1000}.{(v % 1000) // 10}"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
