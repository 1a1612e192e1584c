"""The fused CUDA kernels of the backward formulas: which kernel accelerates which formula.

A formula is written once, in `xp` terms, beside its op's forward (autograd_gpu/ops/*.py), and
wrapped by autograd_gpu.backend.execute.formula; the table below registers, under the
formula's name, the kernel that computes it from the templates in kernels/*.cuh (in the same
operation order as the formula: the tests compile those templates for the host and compare the
two, see tests/test_kernels.py). The execution layer runs the kernel when every array is a
CuPy array of one float dtype, and the formula itself otherwise.
"""
from ._loader import Spec

_EW = "elementwise_grad.cuh"
_LOSS = "loss_grad.cuh"


# ---------------------------------------------------------------- unary, linear in g


def _unary(name, arg, body, scalars=(), flags=()):
    return Spec(name, _EW, f"out_ = ag::{body};", ins=(arg, "g"), scalars=scalars,
                outs=("out",), flags=flags)


_SPECS = {  # formula name -> kernel
    "relu_backward": _unary("relu", "y", "relu_grad<C>(y_, g_)"),
    "leaky_relu_backward": _unary("leaky_relu", "x", "leaky_relu_grad<C>(x_, g_, slope)", ("slope",)),
    "sigmoid_backward": _unary("sigmoid", "y", "sigmoid_grad<C>(y_, g_)"),
    "tanh_backward": _unary("tanh", "y", "tanh_grad<C>(y_, g_)"),
    "gelu_backward": _unary("gelu", "x", "gelu_grad<C>(x_, g_)"),
    "gelu_tanh_backward": _unary("gelu_tanh", "x", "gelu_tanh_grad<C>(x_, g_)"),
    "silu_backward": _unary("silu", "x", "silu_grad<C>(x_, g_)"),
    "softplus_backward": _unary("softplus", "x", "softplus_grad<C>(x_, g_, beta, threshold)",
                       ("beta", "threshold")),
    "elu_backward": _unary("elu", "x", "elu_grad<C>(x_, g_, alpha)", ("alpha",)),
    "exp_backward": _unary("exp", "y", "exp_grad<C>(y_, g_)"),
    "log_backward": _unary("log", "x", "log_grad<C>(x_, g_)"),
    "sqrt_backward": _unary("sqrt", "y", "sqrt_grad<C>(y_, g_)"),
    "abs_backward": _unary("abs", "x", "abs_grad<C>(x_, g_)"),
    "clamp_backward": _unary("clamp", "x", "clamp_grad<C>(x_, g_, lo, hi, has_lo, has_hi)",
                    ("lo", "hi"), ("has_lo", "has_hi")),
    "pow_base_backward": _unary("pow_base", "a", "pow_base_grad<C>(a_, b, g_)", ("b",)),
    "pow_backward": Spec("pow", _EW, "ga_ = ag::pow_base_grad<C>(a_, b_, g_);\n"
                "gb_ = ag::pow_exponent_grad<C>(a_, b_, y_, g_);",
                ins=("a", "b", "y", "g"), outs=("ga", "gb")),
    "mul_backward": Spec("mul", _EW, "ag::mul_grad<C>(a_, b_, g_, ga_, gb_);", ins=("a", "b", "g"),
                outs=("ga", "gb")),
    "div_backward": Spec("div", _EW, "ag::div_grad<C>(a_, b_, g_, ga_, gb_);", ins=("a", "b", "g"),
                outs=("ga", "gb")),
    "mse_backward": Spec("mse", _LOSS, "ag::mse_grad<C>(x_, t_, norm, g_, gx_, gt_);", ins=("x", "t", "g"),
                scalars=("norm",), outs=("gx", "gt")),
    # the input's gradient only (targets rarely need one): one array less written
    "mse_x_backward": Spec("mse_x", _LOSS, "C gt_;\nag::mse_grad<C>(x_, t_, norm, g_, gx_, gt_);",
                  ins=("x", "t", "g"), scalars=("norm",), outs=("gx",)),
    "bce_logits_backward": Spec("bce_logits", _LOSS,
                       "ag::bce_logits_grad<C>(x_, t_, w_, pw_, has_pw, g_, gx_, gt_);",
                       ins=("x", "t", "w", "pw", "g"), outs=("gx", "gt"), flags=("has_pw",)),
    "bce_logits_x_backward": Spec("bce_logits_x", _LOSS,
                         "C gt_;\nag::bce_logits_grad<C>(x_, t_, w_, pw_, has_pw, g_, gx_, gt_);",
                         ins=("x", "t", "w", "pw", "g"), outs=("gx",), flags=("has_pw",)),
    "cross_entropy_backward": Spec("cross_entropy", _LOSS,
                          "out_ = ag::cross_entropy_grad<C>(lp_, cls == tgt, sA_, b_, c_, wc_);",
                          ins=("lp", "sA", "b", "c", "wc"), typed=(("cls", "int64"), ("tgt", "int64")),
                          outs=("out",)),
}


# compile-time flags from a formula's scalars (one kernel per combination used)
_FLAGS = {
    "clamp_backward": lambda lo, hi: (lo is not None, hi is not None),
    "bce_logits_backward": lambda has_pw: (bool(has_pw),),
    "bce_logits_x_backward": lambda has_pw: (bool(has_pw),),
}
# float inputs converted to the first array's dtype before the kernel (scalars and per-row
# factors computed in another precision); Python numbers among the inputs always are
_CAST = {
    "cross_entropy_backward": (1, 2, 3, 4),
}


def registered(name):
    """(kernel Spec, flags function or None, indices to cast) for formula `name`, or None."""
    sp = _SPECS.get(name)
    if sp is None:
        return None
    return sp, _FLAGS.get(name), _CAST.get(name, ())


def specs():
    """Every registered kernel Spec, by formula name."""
    return dict(_SPECS)
