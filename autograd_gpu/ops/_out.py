"""``out=``: the one wrapper that gives a public function PyTorch's out= argument.

``with_out(fn)`` returns ``fn`` taking ``out=`` as well. With ``out=None`` it is ``fn``. With an
out tensor (or, for functions that return (values, indices), a tuple of them) it applies
PyTorch's rules, in PyTorch's order:

- no autograd through out=: in grad mode, an argument (or out) that requires grad is refused
  with PyTorch's message;
- the result is computed as usual (out may alias an input: it is written only afterwards);
- out on another device than the result: the same-device error;
- dtype: where PyTorch casts into out (elementwise ops, most reductions, cat, ...), out's
  dtype must be able to hold the result's kind (no float into an integer tensor, nothing but
  bool into a bool one); where PyTorch needs out of the result's very dtype (matmul, sort's
  values and indices, ...), any other dtype is refused;
- shape: an out of the wrong shape is resized (``Tensor.resize_``), with PyTorch's
  deprecation warning if it had elements, silently if it was empty;
- the values are written into out's own memory by ``Tensor.copy_`` (views of out see them,
  its version counter moves), and out itself is returned.

Factory functions (zeros, arange, rand, ...) take out's dtype and device when none is given.
``install(namespace)`` wraps the public functions of the package namespace listed below.
"""
import functools
import inspect
import warnings

from ..autograd.grad_mode import _state, no_grad
from ..tensor import _TORCH_TYPE_NAMES, Tensor

# PyTorch's C++ names of dtypes in "Expected out tensor to have dtype float, but got ..."
_C_TYPE_NAMES = {
    "float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
    "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
    "bool": "bool",
}

# functions whose out must have the result's dtype exactly (PyTorch checks, never casts)
EXACT = frozenset("""
    matmul mm bmm mv dot addmm addmv addbmm baddbmm tril triu gather where clamp clip norm
    amax amin aminmax diag cross inverse masked_select index_select logcumsumexp quantile
    nanquantile matrix_power nan_to_num sort topk kthvalue mode median msort max min cummax
    cummin take_along_dim searchsorted bucketize nonzero all any std_mean var_mean
""".split())

# functions that make a tensor from nothing: out gives the dtype and device by default
FACTORIES = frozenset("zeros ones empty full eye arange linspace logspace rand randn randint randperm".split())

# the package's public functions that take out= in PyTorch 2.13
NAMES = """
    abs acos acosh add addbmm addcdiv addcmul addmm addmv all amax amin aminmax any arange
    asin asinh atan atan2 atanh baddbmm bernoulli bmm bucketize cat ceil clamp clip
    column_stack concat concatenate copysign cos cosh cross cummax cummin cumprod cumsum
    diag div divide dot dstack empty eq erf erfc erfinv exp exp2 expm1 eye floor
    floor_divide fmod frac full gather ge ger gt heaviside hstack hypot index_select inner
    inverse isneginf isposinf kron kthvalue le lerp linspace log log10 log1p log2 logaddexp
    logaddexp2 logcumsumexp logical_and logical_not logical_or logical_xor logit logspace
    logsumexp lt masked_select matmul matrix_power max maximum mean median min minimum mm
    mode msort mul multinomial multiply mv nan_to_num nanmean nanquantile nansum ne neg
    negative nonzero norm normal ones outer pow prod quantile rand randint randn randperm
    reciprocal remainder round row_stack rsqrt searchsorted sigmoid sign signbit sin sinc
    sinh sort sqrt square stack std std_mean sub subtract sum take_along_dim tan tanh topk
    tril triu true_divide trunc var var_mean vstack where xlogy zeros
    digamma lgamma mvlgamma polygamma
""".split()


def with_out(fn, name=None):
    """`fn` with PyTorch's ``out=`` keyword (see the module docstring)."""
    name = name or fn.__name__
    exact, factory = name in EXACT, name in FACTORIES

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        outs = _out_tensors(name, out)
        if _state.enabled and (_any_requires_grad(args) or _any_requires_grad(kwargs.values())
                               or any(o._requires_grad for o in outs)):
            raise RuntimeError(
                f"{name}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad.")
        if factory:  # out's dtype and device unless the call names them
            kwargs.setdefault("dtype", outs[0].dtype)
            kwargs.setdefault("device", outs[0].device)
        with no_grad():
            result = fn(*args, **kwargs)
            results = tuple(result) if isinstance(result, tuple) else (result,)
            if len(results) != len(outs):
                raise TypeError(
                    f"{name}(): out= takes {len(results)} tensor{'s' if len(results) > 1 else ''}"
                    f" here, but got {len(outs)}")
            for o, r in zip(outs, results):
                _write(name, o, r, exact)
        if isinstance(result, tuple):
            return type(result)(*outs) if hasattr(result, "_fields") else tuple(outs)
        return out

    params = list(inspect.signature(fn).parameters.values())
    if "out" not in (p.name for p in params):  # show out= in help() and signature()
        at = next((i for i, p in enumerate(params) if p.kind is p.VAR_KEYWORD), len(params))
        params.insert(at, inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None))
        try:
            wrapper.__signature__ = inspect.Signature(params)
        except ValueError:  # (an unusual parameter order: keep fn's own)
            pass
    wrapper._takes_out = True
    return wrapper


def _out_tensors(name, out):
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(o).__name__}")
    return outs


def _any_requires_grad(values):
    for v in values:
        if isinstance(v, Tensor):
            if v._requires_grad:
                return True
        elif isinstance(v, (list, tuple)) and _any_requires_grad(v):
            return True
    return False


def _can_cast(src, dst):
    """PyTorch's canCast for out=: no floating point into an integer or bool tensor, and
    nothing but bool into a bool one."""
    if src.kind == "f" and dst.kind in "iub":
        return False
    return not (dst.kind == "b" and src.kind != "b")


def _write(name, out, result, exact):
    if not isinstance(result, Tensor):  # (a Python number from a function: as a tensor)
        from ..creation import tensor

        result = tensor(result, device=out.device)
    r, o = result._data, out._data
    if out.device != result.device:
        raise RuntimeError(
            "Expected all tensors to be on the same device, but found at least two devices, "
            f"{out.device} and {result.device}! (in {name} with out=)")
    if exact and o.dtype != r.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {_C_TYPE_NAMES[r.dtype.name]}, but got "
            f"{_C_TYPE_NAMES[o.dtype.name]} instead")
    if not _can_cast(r.dtype, o.dtype):
        raise RuntimeError(
            f"result type {_TORCH_TYPE_NAMES[r.dtype.name]} can't be cast to the desired "
            f"output type {_TORCH_TYPE_NAMES[o.dtype.name]}")
    if o.shape != r.shape:
        if o.size:
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(o.shape)}, which does not match the required output shape "
                f"{list(r.shape)}. This behavior is deprecated, and in a future PyTorch "
                "release outputs will not be resized unless they have zero elements. You can "
                "explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).", UserWarning, stacklevel=4)
        out.resize_(tuple(r.shape))
    out.copy_(result)


def install(namespace):
    """Replaces each function of NAMES in `namespace` (a module's globals) by its out= form;
    a function that already takes out= (wrapped before) is left as it is."""
    for n in NAMES:
        fn = namespace.get(n)
        if fn is not None and callable(fn) and not getattr(fn, "_takes_out", False):
            namespace[n] = with_out(fn, n)


__all__ = ["with_out", "install", "NAMES"]
