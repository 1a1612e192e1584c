"""``GradScaler``: loss scaling for float16 training, as torch.amp.GradScaler.

``scaler.scale(loss).backward()`` multiplies the loss by the scale (2**16 at first), so small
float16 gradients do not flush to zero; ``scaler.step(optimizer)`` unscales the gradients
(unless ``unscale_`` did already) and runs the step only if they are all finite;
``scaler.update()`` halves the scale after a step with inf/NaN (backoff_factor) and doubles
it after growth_interval clean steps (growth_factor).

Unlike PyTorch's, it also unscales float16 gradients (PyTorch refuses them: "Attempting to
unscale FP16 gradients."), so float16 parameters can be trained with it, on the CPU too.
"""
import warnings
from collections import defaultdict

from .. import backend
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor

_READY, _UNSCALED, _STEPPED = 0, 1, 2


def _new_state():
    return {"stage": _READY, "found_inf": None}


class GradScaler:
    """Loss scaling for mixed-precision training, as ``torch.amp.GradScaler``:
    ``scaler.scale(loss).backward()``, ``scaler.step(optimizer)``, ``scaler.update()``.

    Args:
        device: the device type of the gradients.
        init_scale: the initial scale factor.
        growth_factor: the factor the scale grows by after growth_interval steps without inf/NaN.
        backoff_factor: the factor the scale shrinks by after a step with inf/NaN gradients.
        growth_interval: the number of clean steps between growths.
        enabled: if False, every method passes through.
    """
    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0,
                 backoff_factor=0.5, growth_interval=2000, enabled=True):
        self._device = str(device)
        if enabled and self._device.startswith("cuda") and not backend.cuda_is_available():
            warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  "
                          "Disabling.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled
        if enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale = float(init_scale)
        self._scale = None  # a Python float: the scale lives on the host (no device sync)
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._init_growth_tracker = 0
        self._growth_tracker = None
        self._per_optimizer_states = defaultdict(_new_state)

    # ---------------------------------------------------------------- scaling
    def scale(self, outputs):
        """`outputs` (a tensor, or nested lists/tuples of them) times the scale.

        Args:
            outputs: the loss (or several).

        Returns:
            outputs scaled, in the same structure (unchanged when disabled).
        """
        if not self._enabled:
            return outputs
        if self._scale is None:
            self._scale, self._growth_tracker = self._init_scale, self._init_growth_tracker
        s = self._scale

        def apply(x):
            if isinstance(x, Tensor):
                return x * s
            if isinstance(x, (list, tuple)):
                return type(x)(apply(v) for v in x)
            raise ValueError("outputs must be a Tensor or an iterable of Tensors")

        return apply(outputs)

    def _check_scale_initialized(self, fn):
        if self._scale is None:
            raise AssertionError(
                f"Attempted {fn} but _scale is None.  This may indicate your script did not "
                "use scaler.scale(loss or outputs) earlier in the iteration.")

    def unscale_(self, optimizer):
        """Divides optimizer's gradients by the scale, in place, and records whether any is
        inf or NaN (then step() skips this optimizer's step).

        Args:
            optimizer: the Optimizer whose parameters' ``.grad`` are unscaled.
        """
        if not self._enabled:
            return
        self._check_scale_initialized("unscale_")
        state = self._per_optimizer_states[optimizer]
        if state["stage"] == _UNSCALED:
            raise RuntimeError(
                "unscale_() has already been called on this optimizer since the last update().")
        if state["stage"] == _STEPPED:
            raise RuntimeError("unscale_() is being called after step().")
        inv = 1.0 / self._scale
        found = False
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    g = p.grad
                    if g is None:
                        continue
                    xp = g._xp()
                    data = g._data
                    data *= data.dtype.type(inv) if data.dtype.kind == "f" else inv
                    if not found and not bool(xp.isfinite(data).all()):
                        found = True
        state["found_inf"] = found
        state["stage"] = _UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(*args, **kwargs) unless this iteration's gradients have an inf or
        NaN (then nothing changes and None is returned).

        Args:
            optimizer: the Optimizer.
            args: passed to ``optimizer.step``.
            kwargs: passed to ``optimizer.step`` (no closure while enabled).

        Returns:
            What ``optimizer.step`` returns, or None when the step was skipped.
        """
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check_scale_initialized("step")
        state = self._per_optimizer_states[optimizer]
        if state["stage"] == _STEPPED:
            raise RuntimeError("step() has already been called since the last update().")
        if state["stage"] == _READY:
            self.unscale_(optimizer)
        if state["found_inf"] is None:
            raise AssertionError("No inf checks were recorded for this optimizer.")
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = _STEPPED
        return result

    def update(self, new_scale=None):
        """The scale for the next iteration: new_scale if given; else backoff after an inf,
        growth after growth_interval steps without one.

        Args:
            new_scale: a float or one-element tensor to use as the scale (None: the rule
                above).
        """
        if not self._enabled:
            return
        self._check_scale_initialized("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1:
                    raise AssertionError("new_scale should be a float or a 1-element tensor.")
                new_scale = new_scale.item()
            self._scale = float(new_scale)
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values()
                     if s["found_inf"] is not None]
            if not found:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found):
                self._scale *= self._backoff_factor
                self._growth_tracker = 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    self._scale *= self._growth_factor
                    self._growth_tracker = 0
        self._per_optimizer_states = defaultdict(_new_state)

    # ---------------------------------------------------------------- accessors and state
    def get_scale(self):
        """The current scale (1.0 when disabled).

        Returns:
            float.
        """
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else self._scale

    def get_growth_factor(self):
        """The growth factor.

        Returns:
            float.
        """
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        """Sets the growth factor.

        Args:
            new_factor: a float > 1.
        """
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self):
        """The backoff factor.

        Returns:
            float.
        """
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        """Sets the backoff factor.

        Args:
            new_factor: a float < 1.
        """
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self):
        """The number of clean steps between growths.

        Returns:
            int.
        """
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        """Sets the number of clean steps between growths.

        Args:
            new_interval: an int.
        """
        self._growth_interval = int(new_interval)

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def is_enabled(self):
        """Whether the scaler is on.

        Returns:
            bool.
        """
        return self._enabled

    def state_dict(self):
        """{scale, growth_factor, backoff_factor, growth_interval, _growth_tracker} (empty
        when disabled), as PyTorch's.

        Returns:
            dict.
        """
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        """Restores what ``state_dict()`` returned (nothing when disabled).

        Args:
            state_dict: the dict.
        """
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = float(state_dict["scale"])
        if self._scale is not None:
            self._scale = self._init_scale
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._init_growth_tracker = int(state_dict["_growth_tracker"])
        if self._growth_tracker is not None:
            self._growth_tracker = self._init_growth_tracker
