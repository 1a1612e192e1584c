"""Loss functions, each one op with its own backward (so that a fused kernel can replace a
backward without changing the graph): MSE, L1, Huber, BCE, BCE-with-logits, NLL and
cross-entropy (class indices, with weight / ignore_index / label_smoothing; and class
probabilities). Each takes ``reduction`` = 'mean' | 'sum' | 'none'.

Backward formulas use only operators and the library's functions, so they run on raw arrays
in a first-order pass and record a graph under ``create_graph`` (second order works).
Class weights, ``pos_weight`` and integer targets are constants (no gradient).
"""
import math
import warnings

import numpy as np

from ..autograd.node import Node
from ..backend import array_module
from ..backend.execute import formula, sum_of_squares
from ..tensor import Tensor
from .arithmetic import _shape, sum_to
from .elementwise import abs, clamp, log, log1p, exp, relu, sigmoid, sign, maximum
from .elementwise import _sigmoid as sigmoid_of
from .reduction import softmax

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(l, reduction):
    if reduction == "mean":
        return l.mean()
    if reduction == "sum":
        return l.sum()
    return l


def _grad_scale(g, reduction, n):
    """The output gradient as a factor on the elementwise derivative."""
    if reduction == "mean":
        return g * (1.0 / n) if n else g * float("nan")
    return g


def _raw(x):
    return x._data if isinstance(x, Tensor) else x


@formula
def mse_backward(xp, x, t, g, norm):
    """(d/dx, d/dt) of mse_loss as the fused kernel computes them; norm = 2/N for 'mean', 2
    otherwise; g broadcasts. (The host's backward rounds as PyTorch's CPU kernel does.)"""
    gx = norm * (x - t) * g
    return gx, -gx


@formula
def mse_x_backward(xp, x, t, g, norm):
    """d/dx of mse_loss alone (targets rarely need a gradient: one array less written)."""
    return norm * (x - t) * g


class MseLoss(Node):
    def forward(self, x, y, reduction):
        self.reduction, self.shapes = reduction, (_shape(x), _shape(y))
        self.save_for_backward(x, y)
        d = x - y
        if reduction != "none":
            s = sum_of_squares(d)  # (on the host one BLAS pass)
            if s is not None:
                return s / d.size if reduction == "mean" else s
        return _reduce(d * d, reduction)

    def backward(self, g):
        x, y = self.saved_tensors
        need = self.needs_input_grad
        n = _numel(x, y)
        if n:  # CUDA: one fused kernel (kernels/loss_grad.cuh), both gradients in one pass
            norm = 2.0 / n if self.reduction == "mean" else 2.0
            if need[1]:
                r = mse_backward.accelerated(x, y, g, norm)
                gx, gy = (None, None) if r is None else r
            else:
                gx, gy = mse_x_backward.accelerated(x, y, g, norm), None
            if gx is not None:
                return (sum_to(gx, self.shapes[0]) if need[0] else None,
                        sum_to(gy, self.shapes[1]) if need[1] else None)
        d = (x - y) * (_grad_scale(g, self.reduction, n) * 2.0)
        return (sum_to(d, self.shapes[0]) if need[0] else None,
                sum_to(-d, self.shapes[1]) if need[1] else None)


class L1Loss(Node):
    def forward(self, x, y, reduction):
        self.reduction, self.shapes = reduction, (_shape(x), _shape(y))
        self.save_for_backward(x, y)
        return _reduce(array_module(x).abs(x - y), reduction)

    def backward(self, g):
        x, y = self.saved_tensors
        d = sign(x - y) * _grad_scale(g, self.reduction, _numel(x, y))
        need = self.needs_input_grad
        return (sum_to(d, self.shapes[0]) if need[0] else None,
                sum_to(-d, self.shapes[1]) if need[1] else None)


class HuberLoss(Node):
    """0.5 d^2 where |d| < delta, delta (|d| - delta / 2) elsewhere (d = x - y)."""

    def forward(self, x, y, reduction, delta):
        self.reduction, self.delta, self.shapes = reduction, delta, (_shape(x), _shape(y))
        self.save_for_backward(x, y)
        xp = array_module(x)
        d = x - y
        a = xp.abs(d)
        l = xp.where(a < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
        return _reduce(l.astype(d.dtype, copy=False), reduction)

    def backward(self, g):
        x, y = self.saved_tensors
        d = clamp(x - y, -self.delta, self.delta) * _grad_scale(g, self.reduction, _numel(x, y))
        need = self.needs_input_grad
        return (sum_to(d, self.shapes[0]) if need[0] else None,
                sum_to(-d, self.shapes[1]) if need[1] else None)


class BinaryCrossEntropy(Node):
    """-w (y log x + (1 - y) log(1 - x)), each log clamped at -100 (PyTorch's rule)."""

    def forward(self, x, y, reduction, weight):
        xp = array_module(x)
        # (on a GPU the check is one reduction and one sync per call; PyTorch's CUDA kernel
        # asserts on the device instead, which leaves the context unusable)
        if x.size and bool(((x < 0) | (x > 1)).any()):
            raise RuntimeError(
                "all elements of input should be between 0 and 1 (binary_cross_entropy takes "
                "probabilities; for logits use binary_cross_entropy_with_logits)"
            )
        self.reduction, self.weight, self.shapes = reduction, weight, (_shape(x), _shape(y))
        self.save_for_backward(x, y)
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 below
            lx = xp.maximum(xp.log(x), -100)
            l1x = xp.maximum(xp.log1p(-x), -100)
        l = -(y * lx + (1 - y) * l1x)
        if weight is not None:
            l = l * weight
        return _reduce(l.astype(x.dtype, copy=False), reduction)

    def backward(self, g):
        x, y = self.saved_tensors
        s = _grad_scale(g, self.reduction, _numel(x, y))
        if self.weight is not None:
            s = s * self.weight
        need = self.needs_input_grad
        gx = gy = None
        if need[0]:
            gx = sum_to((x - y) / maximum((1 - x) * x, 1e-12) * s, self.shapes[0])
        if need[1]:
            with np.errstate(divide="ignore"):
                d = maximum(log(1 - x), -100) - maximum(log(x), -100)
            gy = sum_to(d * s, self.shapes[1])
        return gx, gy


def _log_sigmoid(xp, x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _bce_logits_backward(xp, x, t, w, pw, g, has_pw):
    s = sigmoid_of(x)
    if has_pw:
        pt = pw * t
        gx = ((pt + 1 - t) * s - pt) * g * w
        gt = -(pw * _log_sigmoid(xp, x) - _log_sigmoid(xp, -x)) * g * w
    else:
        gx = (s - t) * g * w
        gt = -x * g * w
    return gx, gt


@formula
def bce_logits_backward(xp, x, t, w, pw, g, has_pw):
    """(d/dx, d/dt) of binary_cross_entropy_with_logits; g carries the reduction's 1/N."""
    return _bce_logits_backward(xp, x, t, w, pw, g, has_pw)


@formula
def bce_logits_x_backward(xp, x, t, w, pw, g, has_pw):
    """d/dx of binary_cross_entropy_with_logits alone."""
    return _bce_logits_backward(xp, x, t, w, pw, g, has_pw)[0]


def bce_logits_grads(x, t, g, weight=None, pos_weight=None, need_t=True, fused_only=False):
    """(d/dx, d/dt or None) of binary_cross_entropy_with_logits; with `fused_only`, None
    unless the fused kernel ran."""
    w = 1 if weight is None else weight
    pw = 1 if pos_weight is None else pos_weight
    has_pw = pos_weight is not None
    f = bce_logits_backward if need_t else bce_logits_x_backward
    r = f.accelerated(x, t, w, pw, g, has_pw) if fused_only else f(x, t, w, pw, g, has_pw)
    if r is None or need_t:
        return r
    return r, None


class BinaryCrossEntropyWithLogits(Node):
    """Stable form: max(x, 0) - x y + log1p(exp(-|x|)); with pos_weight p:
    (1 - y) x + (1 + (p - 1) y) (log1p(exp(-|x|)) + max(-x, 0)); times weight."""

    def forward(self, x, y, reduction, weight, pos_weight):
        xp = array_module(x)
        self.reduction, self.weight, self.pos_weight = reduction, weight, pos_weight
        self.shapes = (_shape(x), _shape(y))
        self.save_for_backward(x, y)
        sp = xp.log1p(xp.exp(-xp.abs(x)))  # softplus(-|x|): never overflows
        if pos_weight is None:
            l = xp.maximum(x, 0) - x * y + sp
        else:
            l = (1 - y) * x + (1 + (pos_weight - 1) * y) * (sp + xp.maximum(-x, 0))
        if weight is not None:
            l = l * weight
        return _reduce(l.astype(x.dtype, copy=False), reduction)

    def backward(self, g):
        x, y = self.saved_tensors
        s = _grad_scale(g, self.reduction, _numel(x, y))
        # CUDA: one fused kernel (kernels/loss_grad.cuh) for the weighted gradient(s)
        need = self.needs_input_grad
        r = bce_logits_grads(x, y, s, self.weight, self.pos_weight, need[1], fused_only=True)
        if r is not None:
            gx, gy = r
            return (sum_to(gx, self.shapes[0]) if need[0] else None,
                    sum_to(gy, self.shapes[1]) if need[1] else None)
        if self.weight is not None:
            s = s * self.weight
        pw, need = self.pos_weight, self.needs_input_grad
        gx = gy = None
        if pw is None:
            if need[0]:
                gx = (sigmoid(x) - y) * s
            if need[1]:
                gy = -x * s
        else:
            if need[0]:
                gx = ((1 + (pw - 1) * y) * sigmoid(x) - pw * y) * s
            if need[1]:
                gy = ((pw - 1) * (log1p(exp(-abs(x))) + relu(-x)) - x) * s
        return (None if gx is None else sum_to(gx, self.shapes[0]),
                None if gy is None else sum_to(gy, self.shapes[1]))


def _numel(x, y):
    sx, sy = tuple(_shape(x)), tuple(_shape(y))
    return math.prod(sx if sx == sy else np.broadcast_shapes(sx, sy))


def _checked_targets(target, C, ignore_index):
    """The class indices as int64 and where they are ignored; an index out of range raises."""
    t = target.astype(np.int64, copy=False)
    ignored = t == ignore_index
    bad = ~ignored & ((t < 0) | (t >= C))
    if bad.any():
        raise IndexError(
            f"Target {int(t[bad].reshape(-1)[0])} is out of bounds (cross_entropy/nll_loss: "
            f"{C} classes, valid targets are 0..{C - 1} or ignore_index={ignore_index})"
        )
    return t, ignored


def _class_coefficients(xp, x, target, weight, ignore_index, label_smoothing):
    """Q[i, c] with loss_i = -sum_c Q[i, c] * log_softmax(x)[i, c] (class axis 1, or 0 for an
    unbatched input), and the mean's denominator (sum of the targets' weights)."""
    cdim = 1 if x.ndim >= 2 else 0
    C = x.shape[cdim]
    t, ignored = _checked_targets(target, C, ignore_index)
    t_exp = xp.expand_dims(t, cdim)
    cshape = [1] * x.ndim
    cshape[cdim] = C
    classes = xp.arange(C).reshape(cshape)
    onehot = (t_exp == classes).astype(x.dtype)
    keep = (~xp.expand_dims(ignored, cdim)).astype(x.dtype)
    if weight is None:
        wt = keep  # weight of each sample's target
        q = onehot * (1.0 - label_smoothing)
        if label_smoothing:
            q = q + label_smoothing / C
    else:
        w = weight.astype(x.dtype, copy=False).reshape(cshape)
        wt = (onehot * w).sum(axis=cdim, keepdims=True) * keep
        q = onehot * w * (1.0 - label_smoothing)
        if label_smoothing:
            q = q + w * (label_smoothing / C)
    q = q * keep
    return q, wt.sum(), cdim


def _grad_denom(xp, denom):
    """The mean's divisor for the gradient: with every target ignored PyTorch's loss is nan
    but its gradient is 0 (dividing by inf gives that without a host sync)."""
    return xp.where(denom == 0, xp.inf, denom)


def cross_entropy_grad(lp, target, s, weight=None, label_smoothing=0.0, ignore_index=None):
    """d/dlogits of cross_entropy from the saved log-probabilities lp (N, C, ...).

    target: int64 class indices (N, ...); s: per-row factor (N, ...) = incoming gradient x
    reduction factor ('mean': 1 / sum of the kept targets' weights). Rows whose target is
    ignore_index get a zero gradient. See kernels/loss_grad.cuh for the formula.
    """
    xp = array_module(lp)
    C = lp.shape[1]
    if ignore_index is not None:
        keep = target != ignore_index
        target = xp.where(keep, target, 0)
        s = s * keep
    tgt = xp.expand_dims(target, 1)
    eps = float(label_smoothing)
    if weight is None:
        wt = 1.0
        wsum = float(C)
        wc = xp.ones((), lp.dtype)
    else:
        wt = xp.expand_dims(weight[target], 1)
        wsum = weight.sum()
        wc = weight.reshape((1, C) + (1,) * (lp.ndim - 2))
    s = xp.expand_dims(s, 1)
    sA = s * ((1 - eps) * wt + (eps / C) * wsum)
    b = s * ((1 - eps) * wt)
    c = s * (eps / C)
    cls = xp.arange(C, dtype=np.int64).reshape((1, C) + (1,) * (lp.ndim - 2))
    return cross_entropy_backward(lp, sA, b, c, wc, cls, tgt.astype(np.int64, copy=False))


@formula
def cross_entropy_backward(xp, lp, sA, b, c, wc, cls, tgt):
    """sA exp(lp) - b [cls == tgt] - c wc: the gradient of cross_entropy in the logits from
    the per-row coefficients cross_entropy_grad computes (kernels/loss_grad.cuh)."""
    r = sA * xp.exp(lp)
    r = xp.where(cls == tgt, r - b, r)
    return (r - c * wc).astype(lp.dtype, copy=False)


class CrossEntropy(Node):
    """log_softmax + negative log-likelihood over class indices, in one op.

    loss_i = -sum_c Q[i, c] log_softmax(x_i)[c] with Q = (1 - eps) w[t_i] onehot(t_i) + eps w / C
    (zero where t_i == ignore_index); 'mean' divides by the sum of w[t_i] over kept samples.
    A first-order backward runs from the saved log-probabilities: one fused kernel on CUDA,
    its NumPy twin on the CPU (see kernels/loss_grad.cuh).
    """

    name = "NllLossBackward0"

    def forward(self, x, target, reduction, weight, ignore_index, label_smoothing):
        xp = array_module(x)
        cdim = 1 if x.ndim >= 2 else 0
        C = x.shape[cdim]
        t, ignored = _checked_targets(target, C, ignore_index)
        m = xp.amax(x, axis=cdim, keepdims=True)
        shifted = x - m
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=cdim, keepdims=True))
        # loss_i = -(1 - eps) w[t_i] logp[i, t_i] - eps / C sum_c w_c logp[i, c], 0 where
        # ignored: the target's entry is gathered (no dense one-hot matrix)
        safe = xp.where(ignored, 0, t)
        keep = (~ignored).astype(x.dtype)
        lp_t = xp.take_along_axis(logp, xp.expand_dims(safe, cdim), axis=cdim).squeeze(cdim)
        w = None if weight is None else weight.astype(x.dtype, copy=False)
        wt = keep if w is None else w[safe] * keep  # each sample's target weight
        l = -(1.0 - label_smoothing) * wt * lp_t
        if label_smoothing:
            cshape = [1] * x.ndim
            cshape[cdim] = C
            wl = logp if w is None else logp * w.reshape(cshape)
            l = l - (label_smoothing / C) * wl.sum(axis=cdim) * keep
        denom = wt.sum()
        self.target, self.weight, self.ignore_index = target, weight, ignore_index
        self.eps, self.cdim, self.reduction = label_smoothing, cdim, reduction
        self.grad_denom = _grad_denom(xp, denom)
        self.save_for_backward(x, logp)
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: nan
                return l.sum() / denom
        return _reduce(l, reduction)

    def backward(self, g):
        x, logp = self.saved_tensors
        if self.reduction == "mean":
            g = g / self.grad_denom
        if isinstance(g, Tensor):  # create_graph: the same gradient as differentiable ops
            if self.reduction == "none":
                g = g.reshape(_kept(g.shape, self.cdim))
            q, _, _ = _class_coefficients(array_module(x._data), x._data, self.target, self.weight,
                                          self.ignore_index, self.eps)
            return (softmax(x, self.cdim) * q.sum(axis=self.cdim, keepdims=True) - q) * g, None
        xp = array_module(logp)
        t = self.target
        s = g if g.shape == t.shape else xp.broadcast_to(g, t.shape)  # one factor per sample
        w = None if self.weight is None else self.weight.astype(logp.dtype, copy=False)
        if self.cdim == 0:  # an unbatched input: a batch of one
            logp, t, s = logp[None], t[None], s[None]
        gx = cross_entropy_grad(logp, t, s, weight=w, label_smoothing=self.eps,
                                ignore_index=self.ignore_index)
        return (gx[0] if self.cdim == 0 else gx), None


class CrossEntropyProbs(Node):
    """Cross-entropy against class probabilities t: -sum_c w_c t~_c log_softmax(x)_c with
    t~ = (1 - eps) t + eps / C; 'mean' divides by the number of samples."""

    name = "CrossEntropyLossBackward0"

    def forward(self, x, t, reduction, weight, label_smoothing):
        xp = array_module(x)
        cdim = 1 if x.ndim >= 2 else 0
        C = x.shape[cdim]
        cshape = [1] * x.ndim
        cshape[cdim] = C
        self.w = None if weight is None else weight.astype(x.dtype, copy=False).reshape(cshape)
        self.cdim, self.reduction, self.eps, self.C = cdim, reduction, label_smoothing, C
        self.n = x.size // C if C else 0
        m = xp.amax(x, axis=cdim, keepdims=True)
        shifted = x - m
        logp = shifted - xp.log(xp.exp(shifted).sum(axis=cdim, keepdims=True))
        self.save_for_backward(x, t)
        l = -(self._q(t) * logp).sum(axis=cdim)
        if reduction == "mean":
            return l.sum() / self.n
        return _reduce(l, reduction)

    def _q(self, t):
        q = t * (1.0 - self.eps) + self.eps / self.C if self.eps else t
        return q if self.w is None else q * self.w

    def backward(self, g):
        x, t = self.saved_tensors
        if self.reduction == "none":
            g = g.reshape(_kept(g.shape, self.cdim))
        elif self.reduction == "mean":
            g = g * (1.0 / self.n)
        need = self.needs_input_grad
        q = self._q(t)
        gx = (softmax(x, self.cdim) * q.sum(axis=self.cdim, keepdims=True) - q) * g if need[0] else None
        gt = None
        if need[1]:
            lse = x - _log_softmax_of(x, self.cdim)  # log-sum-exp, broadcast
            wl = x - lse
            if self.w is not None:
                wl = wl * self.w
            gt = -(wl * (1.0 - self.eps)) * g
        return gx, gt


def _log_softmax_of(x, cdim):
    from .reduction import log_softmax

    return log_softmax(x, cdim)


class NllLoss(Node):
    """-w[t_i] x[i, t_i]; 'mean' divides by the sum of w[t_i] over kept samples."""

    def forward(self, x, target, reduction, weight, ignore_index):
        xp = array_module(x)
        q, denom, cdim = _class_coefficients(xp, x, target, weight, ignore_index, 0.0)
        self.q, self.cdim, self.reduction = q, cdim, reduction
        self.grad_denom = _grad_denom(xp, denom)
        l = -(q * x).sum(axis=cdim)
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):  # every target ignored: nan
                return l.sum() / denom
        return _reduce(l, reduction)

    def backward(self, g):
        if self.reduction == "none":
            g = g.reshape(_kept(g.shape, self.cdim))
        elif self.reduction == "mean":
            g = g / self.grad_denom
        return -self.q * g, None


def _kept(shape, cdim):
    return tuple(shape[:cdim]) + (1,) + tuple(shape[cdim:])


# ---------------------------------------------------------------- plain functions


def _check_reduction(reduction, op):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: {reduction} is not a valid value for reduction (use 'mean', 'sum' or 'none')")


def _warn_shapes(input, target, op):
    si, st = tuple(_shape(input)), tuple(_shape(target))
    if si != st:
        warnings.warn(
            f"{op}: Using a target size ({st}) that is different to the input size ({si}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure "
            "they have the same size.", UserWarning, stacklevel=3)


def mse_loss(input, target, reduction="mean"):
    """The mean squared error (input - target)².

    Args:
        input: the input tensor.
        target: the targets, input's shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> F.mse_loss(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
        tensor(2.)
    """
    _check_reduction(reduction, "mse_loss")
    _warn_shapes(input, target, "mse_loss")
    return MseLoss.apply(input, target, reduction=reduction)


def l1_loss(input, target, reduction="mean"):
    """The mean absolute error abs(input - target).

    Args:
        input: the input tensor.
        target: the targets, input's shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor.
    """
    _check_reduction(reduction, "l1_loss")
    _warn_shapes(input, target, "l1_loss")
    return L1Loss.apply(input, target, reduction=reduction)


def huber_loss(input, target, reduction="mean", delta=1.0):
    """The Huber loss (quadratic below delta, linear above).

    Args:
        input: the input tensor.
        target: the targets, input's shape.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        delta: where the loss turns linear.

    Returns:
        Tensor.
    """
    _check_reduction(reduction, "huber_loss")
    _warn_shapes(input, target, "huber_loss")
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    return HuberLoss.apply(input, target, reduction=reduction, delta=float(delta))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-(t log(x) + (1 - t) log(1 - x)), logs clamped at -100.

    Args:
        input: probabilities in [0, 1].
        target: targets in [0, 1], input's shape.
        weight: a weight per element (broadcast).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor.
    """
    _check_reduction(reduction, "binary_cross_entropy")
    if tuple(_shape(input)) != tuple(_shape(target)):
        raise ValueError(
            f"Using a target size ({tuple(_shape(target))}) that is different to the input size "
            f"({tuple(_shape(input))}) is deprecated. Please ensure they have the same size."
        )
    return BinaryCrossEntropy.apply(input, target, reduction=reduction, weight=_raw(weight))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input), in the stable form (finite at any logit).

    Args:
        input: logits.
        target: targets in [0, 1], input's shape.
        weight: a weight per element (broadcast).
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: a weight of the positive term per class.

    Returns:
        Tensor.
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    if tuple(_shape(input)) != tuple(_shape(target)):
        raise ValueError(
            f"Target size ({tuple(_shape(target))}) must be the same as input size "
            f"({tuple(_shape(input))})"
        )
    return BinaryCrossEntropyWithLogits.apply(
        input, target, reduction=reduction, weight=_raw(weight), pos_weight=_raw(pos_weight))


def _check_class_input(input, target, op):
    si, st = tuple(_shape(input)), tuple(_shape(target))
    if len(si) == 0:
        raise ValueError(f"{op}: input must have a class dimension, got a 0-d input")
    expect = si[:1] + si[2:] if len(si) >= 2 else ()
    if st != expect:
        raise ValueError(
            f"{op}: expected target of shape {expect} for input of shape {si} (class indices), "
            f"got {st}"
        )


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """log_softmax over classes (dim 1) and the negative log-likelihood, fused.

    Args:
        input: logits (N, C, ...) or (C,).
        target: class indices (N, ...) or class probabilities of input's shape.
        weight: a weight per class.
        size_average: deprecated form of reduction, as in PyTorch.
        ignore_index: a target index that contributes nothing.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: the amount of probability spread over all classes.

    Returns:
        Tensor.

    Examples:
        >>> import autograd_gpu as torch
        >>> import autograd_gpu.nn.functional as F
        >>> logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
        >>> loss = F.cross_entropy(logits, torch.tensor([0, 2]))
        >>> loss
        tensor(0.6691, grad_fn=<NllLossBackward0>)
        >>> loss.backward()
        >>> logits.grad
        tensor([[-0.1065,  0.0533,  0.0533],
                [ 0.1667,  0.1667, -0.3333]])
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    t = _raw(target)
    if hasattr(t, "dtype") and t.dtype.kind == "f":
        if tuple(_shape(input)) != tuple(_shape(target)):
            raise ValueError(
                f"cross_entropy: class-probability target of shape {tuple(_shape(target))} must "
                f"match the input's shape {tuple(_shape(input))}"
            )
        return CrossEntropyProbs.apply(input, target, reduction=reduction, weight=_raw(weight),
                                       label_smoothing=float(label_smoothing))
    if not hasattr(t, "dtype") or t.dtype.kind not in "iu":
        raise TypeError(
            "cross_entropy: target must be class indices (an integer tensor) or class "
            f"probabilities (a float tensor), got {type(target).__name__}"
        )
    _check_class_input(input, target, "cross_entropy")
    return CrossEntropy.apply(input, t, reduction=reduction, weight=_raw(weight),
                              ignore_index=int(ignore_index), label_smoothing=float(label_smoothing))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    """The negative log-likelihood of log-probabilities and class indices.

    Args:
        input: log-probabilities (N, C, ...) or (C,).
        target: class indices.
        weight: a weight per class.
        size_average: deprecated form of reduction, as in PyTorch.
        ignore_index: a target index that contributes nothing.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor.
    """
    _check_reduction(reduction, "nll_loss")
    t = _raw(target)
    if not hasattr(t, "dtype") or t.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must be class indices (an integer tensor), got "
                        f"{getattr(t, 'dtype', type(target).__name__)}")
    _check_class_input(input, target, "nll_loss")
    return NllLoss.apply(input, t, reduction=reduction, weight=_raw(weight),
                         ignore_index=int(ignore_index))


# ---------------------------------------------------------------- more losses
# smooth_l1 and soft_margin are ops of their own (as in PyTorch); the others are composed
# from differentiable ops in PyTorch's own order, so their values, graph names
# (MeanBackward0, ...) and derivatives of any order follow from those ops.


def _legacy_reduction(size_average, reduce, reduction):
    """PyTorch's deprecated size_average / reduce pair, when given, overrides `reduction`."""
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


def _valid_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _size_warning(input, target):
    si, st = tuple(_shape(input)), tuple(_shape(target))
    if si != st:
        warnings.warn(
            f"Using a target size ({target.shape!r}) that is different to the input size "
            f"({input.shape!r}). This will likely lead to incorrect results due to broadcasting. "
            "Please ensure they have the same size.", UserWarning, stacklevel=3)


class SmoothL1Loss(Node):
    """0.5 d^2 / beta where |d| < beta, |d| - beta / 2 elsewhere (d = x - y)."""

    def forward(self, x, y, reduction, beta):
        xp = array_module(x)
        self.reduction, self.beta, self.shapes = reduction, beta, (_shape(x), _shape(y))
        self.save_for_backward(x, y)
        d = x - y
        a = xp.abs(d)
        l = xp.where(a < beta, 0.5 * d * d / beta, a - 0.5 * beta)
        return _reduce(l.astype(d.dtype, copy=False), reduction)

    def backward(self, g):
        x, y = self.saved_tensors
        d = clamp((x - y) / self.beta, -1.0, 1.0) * _grad_scale(g, self.reduction, _numel(x, y))
        need = self.needs_input_grad
        return (sum_to(d, self.shapes[0]) if need[0] else None,
                sum_to(-d, self.shapes[1]) if need[1] else None)


class SoftMarginLoss(Node):
    """log(1 + exp(-y x)), as max(z, 0) + log1p(exp(-|z|)) with z = -y x (no overflow)."""

    def forward(self, x, y, reduction):
        xp = array_module(x)
        self.reduction, self.shapes = reduction, (_shape(x), _shape(y))
        self.save_for_backward(x, y)
        z = -(x * y)
        l = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))
        return _reduce(l.astype(z.dtype, copy=False), reduction)

    def backward(self, g):
        x, y = self.saved_tensors
        s = sigmoid(-(x * y)) * _grad_scale(g, self.reduction, _numel(x, y))
        need = self.needs_input_grad
        return (sum_to(-y * s, self.shapes[0]) if need[0] else None,
                sum_to(-x * s, self.shapes[1]) if need[1] else None)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """0.5 d² / beta where abs(d) < beta, else abs(d) - 0.5 beta.

    Args:
        input: the input tensor.
        target: the targets.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        beta: the threshold (0: the L1 loss).

    Returns:
        Tensor.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _size_warning(input, target)
    _valid_reduction(reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:  # PyTorch's l1 form: |d| reduced (AbsBackward0 / MeanBackward0 ...)
        return _reduce(abs(input - target), reduction)
    return SmoothL1Loss.apply(input, target, reduction=reduction, beta=float(beta))


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):
    """log(1 + exp(-target * input)), stable at any margin.

    Args:
        input: the input tensor.
        target: labels 1 or -1.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _size_warning(input, target)
    _valid_reduction(reduction)
    return SoftMarginLoss.apply(input, target, reduction=reduction)


def _xlogy(x, y):
    """x log y, 0 where x == 0 (PyTorch's xlogy; y == x here)."""
    from .elementwise import where

    zero = _raw(x) == 0
    return where(zero, 0.0, x * log(where(zero, 1.0, y)))


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """Pointwise target (log target - input), input holding log-probabilities;
    'batchmean' divides the sum by the batch size (the KL divergence proper).

    Args:
        input: log-probabilities.
        target: probabilities (log-probabilities with log_target), input's shape.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'batchmean'``, ``'mean'`` (with PyTorch's warning), ``'sum'`` or
            ``'none'``.
        log_target: target holds log-probabilities.

    Returns:
        Tensor: 0-d, or one loss per element with reduction='none'.
    """
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, reduction)
    elif reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support "
            "size.'batchmean' divides only by the batch size, and aligns with the KL div math "
            "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
            "major release.", UserWarning, stacklevel=2)
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_target:
        l = exp(target) * (target - input)
    else:
        l = _xlogy(target, target) - target * input
    if reduction == "batchmean":
        s = l.sum()
        return s / input.shape[0] if input.ndim else s
    return _reduce(l, reduction)


def margin_ranking_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                        reduction="mean"):
    """max(0, -y (x1 - x2) + margin).

    Args:
        input1: the first scores.
        input2: the second scores, input1's shape.
        target: 1 where input1 should rank higher, -1 where input2 should.
        margin: the margin.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per element with reduction='none'.
    """
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _valid_reduction(reduction)
    if not (input1.ndim == input2.ndim == target.ndim):
        raise RuntimeError(
            "margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {input1.shape!r}, input2: {input2.shape!r}, target: {target.shape!r} ")
    return _reduce(_clamp_min(-target * (input1 - input2) + margin, 0.0), reduction)


def hinge_embedding_loss(input, target, margin=1.0, size_average=None, reduce=None,
                         reduction="mean"):
    """x where y == 1, max(0, margin - x) where y == -1.

    Args:
        input: the input (distances, say).
        target: 1 or -1, input's shape.
        margin: the margin.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per element with reduction='none'.
    """
    from .elementwise import where

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _valid_reduction(reduction)
    t = _raw(target)
    margin_part = where(t != 1, _clamp_min(margin - input, 0.0), 0.0)
    self_part = where(t != -1, input, 0.0)
    return _reduce(margin_part + self_part, reduction)


def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    """1 - cos(x1, x2) where y == 1, max(0, cos(x1, x2) - margin) where y == -1.

    Args:
        input1: the first vectors, (N, D) or (D,).
        input2: the second vectors, input1's shape.
        target: 1 or -1 per pair, (N,) or 0-d.
        margin: the margin, in [-1, 1].
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per sample with reduction='none'.
    """
    from .elementwise import sqrt, where

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _valid_reduction(reduction)
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if target.ndim == 1:
        if input1.ndim != 2 or input2.ndim != 2:
            raise RuntimeError(
                "1D target tensor expects 2D input tensors, but found inputs with sizes "
                f"{list(input1.shape)} and {list(input2.shape)}.")
    elif input1.ndim != 1 or input2.ndim != 1:
        raise RuntimeError(
            "0D target tensor expects 1D input tensors, but found inputs with sizes "
            f"{list(input1.shape)} and {list(input2.shape)}.")
    dim = input1.ndim - 1
    eps = 1e-12  # PyTorch's EPSILON
    prod = (input1 * input2).sum(dim)
    mag1 = (input1 * input1).sum(dim) + eps
    mag2 = (input2 * input2).sum(dim) + eps
    cos = prod / sqrt(mag1 * mag2)
    t = _raw(target)
    pos = where(t == 1, 1 - cos, 0.0)
    neg = where(t == -1, _clamp_min(cos - margin, 0.0), 0.0)
    return _reduce(pos + neg, reduction)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8,
                     reduce=None, reduction="mean"):
    """exp(x) - y x (log_input), else x - y log(x + eps); `full` adds Stirling's term
    y log y - y + log(2 pi y) / 2 where y > 1.

    Args:
        input: the predicted rates (their logs with log_input).
        target: the observed counts, input's shape.
        log_input: input holds log-rates.
        full: add Stirling's approximation of log(target!).
        size_average: deprecated form of reduction, as in PyTorch.
        eps: added to input inside the log when log_input is False.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per element with reduction='none'.
    """
    from .elementwise import where

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _valid_reduction(reduction)
    if log_input:
        l = exp(input) - target * input
    else:
        l = input - target * log(input + eps)
    if full:
        big = _raw(target) > 1
        t = where(big, target, 1.0)  # (log of the masked-out values never taken)
        stirling = t * log(t) - t + 0.5 * log(2 * math.pi * t)
        l = l + where(big, stirling, 0.0)
    return _reduce(l, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """(log(max(var, eps)) + (x - y)^2 / max(var, eps)) / 2 (+ log(2 pi) / 2 with `full`);
    the clamp does not stop var's gradient, as in PyTorch.

    Args:
        input: the predicted means.
        target: the observations, input's shape.
        var: the predicted variances (non-negative): input's shape, one dimension of size 1,
            input's shape less the last dimension, or a number.
        full: add the constant log(2 pi) / 2.
        eps: the least variance used.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per element with reduction='none'.
    """
    from .nn_functional import ClampedClone
    from .shape import unsqueeze

    if isinstance(var, (int, float)) and not isinstance(var, bool):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = input.detach() * 0 + float(var)
    elif bool((_raw(var) < 0).any()):
        raise ValueError("var has negative entry/entries")
    si, sv = tuple(input.shape), tuple(var.shape)
    if sv != si:
        if si[:-1] == sv:  # one value per sample: broadcast over the last dimension
            var = unsqueeze(var, -1)
        elif not (len(si) == len(sv) and builtins_sum(b for a, b in zip(si, sv) if a != b) == 1):
            raise ValueError("var is of incorrect size")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    var = ClampedClone.apply(var, lo=float(eps))
    d = input - target
    l = 0.5 * (log(var) + d * d / var)
    if full:
        l = l + 0.5 * math.log(2 * math.pi)
    return _reduce(l, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None,
                                reduction="mean"):
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), averaged over the classes (last dim).

    Args:
        input: the logits, (N, C) or (C,).
        target: 0 or 1 per class, input's shape.
        weight: an optional weight per class (broadcast).
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per sample with reduction='none'.
    """
    from .nn_functional import log_sigmoid

    reduction = _legacy_reduction(size_average, reduce, reduction)
    l = -(target * log_sigmoid(input) + (1 - target) * log_sigmoid(-input))
    if weight is not None:
        l = l * weight
    cdim = input.ndim - 1
    l = l.sum(cdim) / input.shape[cdim]
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not valid")
    return _reduce(l, reduction)


def triplet_margin_loss(anchor, positive, negative, margin=1.0, p=2, eps=1e-6, swap=False,
                        size_average=None, reduce=None, reduction="mean"):
    """max(0, d(a, p) - d(a, n) + margin), d the pairwise p-distance; `swap` takes
    min(d(a, n), d(p, n)).

    Args:
        anchor: the anchors, (N, D) or (D,).
        positive: the positive examples, anchor's shape.
        negative: the negative examples, anchor's shape.
        margin: the margin.
        p: the order of the distance's norm.
        eps: added to the differences (as pairwise_distance).
        swap: use the smaller of d(a, n) and d(p, n).
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per sample with reduction='none'.
    """
    from .nn_functional import pairwise_distance
    from .elementwise import minimum

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _valid_reduction(reduction)
    a, pz, n = anchor.ndim, positive.ndim, negative.ndim
    if not (a == pz == n):
        raise RuntimeError(
            "The anchor, positive, and negative tensors are expected to have the same number of "
            f"dimensions, but got: anchor {a}D, positive {pz}D, and negative {n}D inputs")
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _reduce(_clamp_min(margin + d_pos - d_neg, 0.0), reduction)


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None,
                      reduce=None, reduction="mean"):
    """sum over j != y of max(0, margin - x[y] + x[j])^p (times weight[y]), over C classes.

    Args:
        input: the scores, (N, C) or (C,).
        target: the class index of each sample, (N,) (or one for a (C,) input).
        p: 1 or 2.
        margin: the margin.
        weight: an optional (C,) weight per class.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Returns:
        Tensor: 0-d, or one loss per sample with reduction='none'.
    """
    from .shape import unsqueeze

    reduction = _legacy_reduction(size_average, reduce, reduction)
    _valid_reduction(reduction)
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if input.ndim > 2 or input.ndim == 0 or input.numel() == 0 and input.ndim != 2:
        raise RuntimeError(
            "Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
            f"{list(input.shape)}")
    x = input if input.ndim == 2 else unsqueeze(input, 0)
    n, C = x.shape
    t = _raw(target).reshape(-1).astype(np.int64, copy=False)
    if t.shape[0] != n:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{n}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}.")
    if t.size and bool(((t < 0) | (t >= C)).any()):
        raise RuntimeError("target out of range")
    if weight is not None and tuple(weight.shape) != (C,):
        raise RuntimeError(f"inconsistent weight size, expected {C} but got {list(weight.shape)}")
    w = None if weight is None else _raw(weight)
    return MultiMarginLoss.apply(input, target=t, p=p, margin=float(margin), weight=w,
                                 reduction=reduction)


class MultiMarginLoss(Node):
    """loss_i = sum over j != y_i of max(0, margin - x[i, y_i] + x[i, j])^p * w[y_i] / C.

    The backward needs only constant masks and, for p = 2, the margins z (rebuilt from x
    with a one-hot sum, so create_graph differentiates them)."""

    def forward(self, x, target, p, margin, weight, reduction):
        xp = array_module(x)
        self.in_shape = x.shape
        x = x.reshape((1, -1)) if x.ndim == 1 else x  # an unbatched sample: a batch of one
        n, C = x.shape
        t = xp.asarray(target)
        self.onehot = (xp.arange(C).reshape(1, -1) == t.reshape(-1, 1)).astype(x.dtype)
        z = margin - (x * self.onehot).sum(axis=1, keepdims=True) + x
        self.mask = ((z > 0) * (1 - self.onehot)).astype(x.dtype)
        zp = z * self.mask if p == 1 else z * z * self.mask
        self.coef = xp.full((n, 1), 1.0 / C, dtype=x.dtype)
        if weight is not None:
            self.coef = self.coef * weight.astype(x.dtype, copy=False)[t].reshape(-1, 1)
        self.p, self.margin, self.reduction, self.n = p, margin, reduction, n
        self.save_for_backward(x)
        l = (zp * self.coef).sum(axis=1)
        return _reduce(l.reshape(()) if len(self.in_shape) == 1 else l, reduction)

    def backward(self, g):
        (x,) = self.saved_tensors
        if self.reduction == "none":
            g = g.reshape((-1, 1))
        elif self.reduction == "mean":
            g = g * (1.0 / self.n) if self.n else g * float("nan")
        if self.p == 1:
            d = self.mask * self.coef
        else:
            z = self.margin - (x * self.onehot).sum(axis=1, keepdims=True) + x
            d = z * (self.mask * self.coef * 2.0)
        gxm = d * g
        gx = gxm - self.onehot * gxm.sum(axis=1, keepdims=True)
        return gx.reshape(self.in_shape) if len(self.in_shape) == 1 else gx


def _clamp_min(x, lo):
    from .elementwise import clamp_min

    return clamp_min(x, lo)


import builtins as _builtins  # noqa: E402

builtins_sum = _builtins.sum
