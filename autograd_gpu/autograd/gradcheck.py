"""Numerical gradient checks: central differences in float64, PyTorch's tolerances."""
import numpy as np

from .grad_mode import enable_grad


class GradcheckError(RuntimeError):
    pass


def _tensors(inputs):
    from ..tensor import Tensor

    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    return tuple(inputs), [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]


def _outputs(fn, inputs):
    from ..tensor import Tensor

    out = fn(*inputs)
    outs = (out,) if isinstance(out, Tensor) else tuple(out)
    return [o for o in outs if isinstance(o, Tensor) and o.dtype.is_floating_point]


def _host(a):
    return a if type(a) is np.ndarray else a.get()


def _flat_outputs(fn, inputs):
    return np.concatenate([_host(o._data).reshape(-1) for o in _outputs(fn, inputs)] or [np.zeros(0)])


def numerical_jacobian(fn, inputs, eps=1e-6):
    """For each differentiable input, a (numel_in, numel_out_total) matrix by central differences.

    Args:
        fn: the function of the inputs.
        inputs: a Tensor or a tuple of arguments.
        eps: the step of the differences.

    Returns:
        list: one NumPy float64 matrix per input that requires grad.
    """
    inputs, diff = _tensors(inputs)
    # grad mode on: `fn` may itself differentiate (gradgradcheck's vector-Jacobian product)
    with enable_grad():
        outs = _outputs(fn, inputs)
        n_out = sum(o.numel() for o in outs)
        jacs = []
        for i in diff:
            x = inputs[i]
            arr = x._data
            J = np.zeros((x.numel(), n_out))
            # element by element through its index, so views (non-contiguous inputs) work too
            for k, idx in enumerate(np.ndindex(*arr.shape)):
                orig = arr[idx].item()
                arr[idx] = orig + eps
                plus = _flat_outputs(fn, inputs)
                arr[idx] = orig - eps
                minus = _flat_outputs(fn, inputs)
                arr[idx] = orig
                J[k] = (plus - minus) / (2 * eps)
            jacs.append(J)
    return jacs


def analytical_jacobian(fn, inputs):
    """Rows from reverse mode: one backward per output element (autograd.grad).

    Args:
        fn: the function of the inputs.
        inputs: a Tensor or a tuple of arguments.

    Returns:
        list: one NumPy float64 (numel_in, numel_out_total) matrix per input that requires
        grad.
    """
    from .engine import grad as autograd_grad

    inputs, diff = _tensors(inputs)
    outs = _outputs(fn, inputs)
    n_out = sum(o.numel() for o in outs)
    jacs = [np.zeros((inputs[i].numel(), n_out)) for i in diff]
    col = 0
    for o in outs:
        for k in range(o.numel()):
            seed = o._xp().zeros(o.shape, o._data.dtype)
            seed.reshape(-1)[k] = 1
            from ..tensor import _wrap

            if not o.requires_grad:
                col += 1
                continue
            gs = autograd_grad([o], [inputs[i] for i in diff], [_wrap(seed)], retain_graph=True,
                               allow_unused=True)
            for j, g in enumerate(gs):
                if g is not None:
                    if g.shape != inputs[diff[j]].shape:
                        raise GradcheckError(
                            f"gradient for input {diff[j]} has shape {tuple(g.shape)}, expected "
                            f"{tuple(inputs[diff[j]].shape)}"
                        )
                    if g.dtype != inputs[diff[j]].dtype:
                        raise GradcheckError(
                            f"gradient for input {diff[j]} has dtype {g.dtype}, expected "
                            f"{inputs[diff[j]].dtype}"
                        )
                    jacs[j][:, col] = _host(g._data).reshape(-1)
            col += 1
    return jacs


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """Compares reverse-mode gradients of `fn` at `inputs` with central differences.

    Inputs that require grad should be float64. Returns True, or raises GradcheckError
    (returns False with raise_exception=False).

    Args:
        fn: the function of the inputs, returning a Tensor or a tuple of them.
        inputs: a Tensor or a tuple of arguments (those that require grad are checked).
        eps: the step of the central differences.
        atol: the absolute tolerance.
        rtol: the relative tolerance.
        raise_exception: raise on a mismatch (False: return False).

    Returns:
        bool: True when every Jacobian matches.
    """
    inputs, diff = _tensors(inputs)
    for i in diff:
        if inputs[i].dtype.name != "float64":
            import warnings

            warnings.warn(f"gradcheck input {i} is {inputs[i].dtype}, not float64: expect noise")
    num = numerical_jacobian(fn, inputs, eps)
    ana = analytical_jacobian(fn, inputs)
    for j, (n, a) in enumerate(zip(num, ana)):
        if not np.allclose(a, n, rtol=rtol, atol=atol):
            if not raise_exception:
                return False
            bad = np.abs(a - n).max()
            raise GradcheckError(
                f"Jacobian mismatch for output 0 with respect to input {diff[j]},\n"
                f"numerical:{n}\nanalytical:{a}\n(max abs difference {bad:.3g})"
            )
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, eps=1e-6, atol=1e-5, rtol=1e-3,
                  raise_exception=True, **_ignored):
    """gradcheck of the map (inputs, v) -> vector-Jacobian product of `fn`, so second
    derivatives are checked against differences of first derivatives.

    Args:
        fn: the function of the inputs.
        inputs: a Tensor or a tuple of arguments.
        grad_outputs: the vectors v, one per output (None: random normal ones).
        eps: the step of the central differences.
        atol: the absolute tolerance.
        rtol: the relative tolerance.
        raise_exception: raise on a mismatch (False: return False).

    Returns:
        bool: True when every Jacobian matches.
    """
    from ..creation import randn
    from .engine import grad as autograd_grad

    inputs, diff = _tensors(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        grad_outputs = [randn(o.shape, dtype=o.dtype, device=o.device).requires_grad_() for o in outs]
    n_in = len(inputs)

    def vjp(*args):
        xs, vs = args[:n_in], args[n_in:]
        os = _outputs(fn, xs)
        grads = autograd_grad(os, [xs[i] for i in diff], list(vs), create_graph=True,
                              allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(vjp, tuple(inputs) + tuple(grad_outputs), eps, atol, rtol, raise_exception)
