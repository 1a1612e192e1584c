"""``autograd_gpu.cuda.amp``: the deprecated torch.cuda.amp names, as thin aliases of
``amp.autocast("cuda", ...)`` and ``amp.GradScaler("cuda", ...)`` that warn as PyTorch's."""
import warnings

from . import autocast_mode, grad_scaler
from .. import backend


class autocast(autocast_mode.autocast):
    """Deprecated: ``amp.autocast("cuda", ...)`` (warns with a FutureWarning).

    Args:
        enabled: False makes the region a no-op.
        dtype: the lower precision.
        cache_enabled: cast each parameter once per outermost region.
    """

    def __init__(self, enabled=True, dtype=backend.float16, cache_enabled=True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    def __call__(self, func):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return autocast_mode.autocast("cuda", self.fast_dtype, self._enabled,
                                          self._cache_enabled)(func)


class GradScaler(grad_scaler.GradScaler):
    """Deprecated: ``amp.GradScaler("cuda", ...)`` (warns with a FutureWarning).

    Args:
        init_scale: the initial scale factor.
        growth_factor: the factor the scale grows by.
        backoff_factor: the factor the scale shrinks by.
        growth_interval: the number of clean steps between growths.
        enabled: if False, every method passes through.
    """

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning,
                      stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval,
                         enabled)


custom_fwd = autocast_mode.custom_fwd
custom_bwd = autocast_mode.custom_bwd
