"""Loss modules; each calls the op of the same name in `autograd_gpu.ops.loss`."""
from . import functional as F
from .module import Module


def _legacy(size_average, reduce, reduction):
    if size_average is None and reduce is None:
        return reduction
    if reduce is False:
        return "none"
    return "sum" if size_average is False else "mean"


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = _legacy(size_average, reduce, reduction)

    def extra_repr(self):
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)


class MSELoss(_Loss):
    """mean / sum of (x - y)^2.

    Args:
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """mean / sum of |x - y| (gradient sign(x - y), 0 at x = y).

    Args:
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """The Huber loss: 0.5 d² where abs(d) < delta, else delta (abs(d) - 0.5 delta), d = input -
    target.

    Args:
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        delta: where the loss turns from quadratic to linear.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """
    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class BCELoss(_WeightedLoss):
    """-w (y log x + (1 - y) log(1 - x)) on probabilities x; logs clamped at -100.

    Args:
        weight: a rescaling weight w, broadcast against the input.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + BCE in one stable op (finite for any logit).

    Args:
        weight: a rescaling weight, broadcast against the input.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        pos_weight: a weight of the positive examples, broadcast along the last dim (one
            per class).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean",
                 pos_weight=None):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(
            input, target, weight=self.weight, reduction=self.reduction, pos_weight=self.pos_weight)


class CrossEntropyLoss(_WeightedLoss):
    """log_softmax + NLL over class indices (ignore_index, label_smoothing, weight), or
    against class probabilities when the target is a float tensor of the input's shape.

    Args:
        weight: a weight per class, shape (C,).
        size_average: deprecated form of reduction, as in PyTorch.
        ignore_index: a target index that contributes nothing (nor counts in the mean).
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        label_smoothing: in [0, 1], the share of the target mass spread evenly over the
            classes.

    Shape:
        - Input: (N, C), (C,) or (N, C, d_1, ..., d_k): unnormalized logits.
        - Target: class indices (N,), () or (N, d_1, ..., d_k) (int64, in [0, C)), or class
          probabilities of the input's shape (float).
        - Output: a scalar, or the target's shape without C with reduction ``'none'``.
    """

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean", label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """The negative log-likelihood loss of log-probabilities (N, C, ...) and class indices.

    Args:
        weight: a weight per class.
        size_average: deprecated form of reduction, as in PyTorch.
        ignore_index: a target value that contributes nothing.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C), (C,) or (N, C, d_1, ..., d_k): log-probabilities.
        - Target: (N,), () or (N, d_1, ..., d_k): class indices (int64).
        - Output: a scalar, or the target's shape with reduction ``'none'``.
    """
    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None,
                 reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


# ---------------------------------------------------------------- more losses
# (PyTorch prints these without their arguments: "KLDivLoss()", whatever the reduction)


class _PlainLoss(_Loss):
    def extra_repr(self):
        return ""


class SmoothL1Loss(_PlainLoss):
    """0.5 d^2 / beta where |d| < beta, else |d| - beta / 2 (d = input - target).

    Args:
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.
        beta: where the loss turns from quadratic to linear (0: the L1 loss).

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", beta=1.0):
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input, target):
        return _L.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class KLDivLoss(_PlainLoss):
    """target (log target - input) with input log-probabilities; reduction 'batchmean'
    divides the sum by the batch size.

    Args:
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'batchmean'``, ``'sum'`` or ``'none'``.
        log_target: the target is given as log-probabilities too.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """

    def __init__(self, size_average=None, reduce=None, reduction="mean", log_target=False):
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return _L.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class MarginRankingLoss(_PlainLoss):
    """max(0, -y (x1 - x2) + margin).

    Args:
        margin: the margin.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input1, Input2: (N,) or ().
        - Target: the inputs' shape, values 1 or -1.
        - Output: a scalar, or (N,) with reduction ``'none'``.
    """
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return _L.margin_ranking_loss(input1, input2, target, margin=self.margin,
                                      reduction=self.reduction)


class HingeEmbeddingLoss(_PlainLoss):
    """x where y = 1, max(0, margin - x) where y = -1.

    Args:
        margin: the margin.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, values 1 or -1.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """
    def __init__(self, margin=1.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input, target):
        return _L.hinge_embedding_loss(input, target, margin=self.margin, reduction=self.reduction)


class CosineEmbeddingLoss(_PlainLoss):
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1.

    Args:
        margin: the margin.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input1, Input2: (N, D) or (D,).
        - Target: (N,) or (), values 1 or -1.
        - Output: a scalar, or (N,) with reduction ``'none'``.
    """
    def __init__(self, margin=0.0, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.margin = margin

    def forward(self, input1, input2, target):
        return _L.cosine_embedding_loss(input1, input2, target, margin=self.margin,
                                        reduction=self.reduction)


class PoissonNLLLoss(_PlainLoss):
    """The Poisson negative log-likelihood: exp(input) - target input (log_input), or input -
    target log(input + eps).

    Args:
        log_input: the input is the log of the rate.
        full: add the Stirling term.
        size_average: deprecated form of reduction, as in PyTorch.
        eps: keeps log away from 0.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """
    def __init__(self, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return _L.poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full,
                                   eps=self.eps, reduction=self.reduction)


class GaussianNLLLoss(_PlainLoss):
    """The Gaussian negative log-likelihood 0.5 (log(var) + (input - target)² / var), var
    clamped at eps.

    Args:
        full: add the constant 0.5 log(2 pi).
        eps: the lower bound of var.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: ``(N, *)`` or ``(*)``.
        - Target: the input's shape.
        - Var: the input's shape, or it with one dim of size 1, or with one dim fewer (one
          variance shared along that dim).
        - Output: a scalar, or the input's shape with reduction ``'none'``.
    """
    def __init__(self, *, full=False, eps=1e-6, reduction="mean"):
        super().__init__(None, None, reduction)
        self.full, self.eps = full, eps

    def forward(self, input, target, var):
        return _L.gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps,
                                    reduction=self.reduction)


class SoftMarginLoss(_PlainLoss):
    """mean of log(1 + exp(-y x)), targets y of 1 or -1.

    Args:
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: ``(*)``, any shape.
        - Target: ``(*)``, the input's shape.
        - Output: a scalar, or ``(*)`` with reduction ``'none'``.
    """
    def forward(self, input, target):
        return _L.soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_PlainLoss):
    """The multi-label one-versus-all loss: binary cross-entropy with logits, averaged over classes.

    Args:
        weight: a weight per class.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C) or (C,).
        - Target: the input's shape, 0 or 1 per class.
        - Output: a scalar, or (N,) with reduction ``'none'``.
    """
    def __init__(self, weight=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return _L.multilabel_soft_margin_loss(input, target, weight=self.weight,
                                              reduction=self.reduction)


class TripletMarginLoss(_PlainLoss):
    """max(d(a, p) - d(a, n) + margin, 0) with the p-norm distance.

    Args:
        margin: the margin.
        p: the norm's order.
        eps: added to differences.
        swap: use the smaller of d(a, n) and d(p, n).
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Anchor, Positive, Negative: (N, D) or (D,).
        - Output: a scalar, or (N,) with reduction ``'none'``.
    """
    def __init__(self, margin=1.0, p=2.0, eps=1e-6, swap=False, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if margin <= 0:
            raise ValueError(
                f"TripletMarginLoss: expected margin to be greater than 0, got {margin} instead")
        self.margin, self.p, self.eps, self.swap = margin, p, eps, swap

    def forward(self, anchor, positive, negative):
        return _L.triplet_margin_loss(anchor, positive, negative, margin=self.margin, p=self.p,
                                      eps=self.eps, swap=self.swap, reduction=self.reduction)


class MultiMarginLoss(_PlainLoss):
    """The multi-class hinge loss sum_i max(0, margin - x[y] + x[i])^p / C.

    Args:
        p: 1 or 2.
        margin: the margin.
        weight: a weight per class.
        size_average: deprecated form of reduction, as in PyTorch.
        reduce: deprecated form of reduction, as in PyTorch.
        reduction: ``'mean'``, ``'sum'`` or ``'none'``.

    Shape:
        - Input: (N, C) or (C,).
        - Target: (N,) or (), class indices (int64).
        - Output: a scalar, or (N,) with reduction ``'none'``.
    """
    def __init__(self, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                 reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        if p not in (1, 2):
            raise ValueError("only p == 1 and p == 2 supported")
        if weight is not None and weight.dim() != 1:
            raise ValueError(
                f"MultiMarginLoss: expected weight to be None or 1D tensor, got {weight.dim()}D "
                "instead")
        self.p, self.margin = p, margin
        self.register_buffer("weight", weight)

    def forward(self, input, target):
        return _L.multi_margin_loss(input, target, p=self.p, margin=self.margin,
                                    weight=self.weight, reduction=self.reduction)


from ..ops import loss as _L  # noqa: E402
