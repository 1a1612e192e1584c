"""The seven workloads. Each row gives, per column, a factory that builds the data (untimed) and
returns the callable that is timed.

All implementations of a row do the same math in float32 from the same NumPy data: ours
(autograd_gpu on cpu and cuda), PyTorch (cpu and cuda), NumPy written by hand (the CPU limit
for that math: forward and the backward derived on paper), and, for memory-bound rows, a
plain copy of the bytes the work must at least read and write (the bandwidth limit). For the
real-model rows (7) the NumPy column is the same: the forward and its backward derived by hand
(convolutions by im2col and one GEMM, col2im by k*k shifted adds; max pooling's gradient to
each window's first maximum; the LSTM's input projection and weight gradients one GEMM over
all steps), its large arrays kept from one call to the next as a NumPy program running the
step in a loop would keep them (see _Workspace). The NumPy columns allocate through the host
pool like ours: importing the library makes it NumPy's allocator. Where that column is itself slower than
PyTorch (the LSTM rows on the 2-core AMD EPYC: NumPy's OpenBLAS GEMMs alone take about
PyTorch's whole time on MKL), the report says so.
"""
import functools
import math

import numpy as np

import autograd_gpu as ag

from .harness import Unavailable

F32 = np.float32


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------- column helpers


def copy_impls(env, nbytes):
    """A plain copy of `nbytes` bytes on the host and on the device: read once, write once.
    The host copy runs on ours' host threads, the bandwidth they can reach together."""
    n = max(1, nbytes // 4)

    def host():  # on as many threads as ours uses (one block each)
        src = np.ones(n, F32)
        dst = np.empty_like(src)
        share = -(-n // ag.get_num_threads())
        return lambda: ag.backend.host_threads.host_for_blocks(
            lambda lo, hi: np.copyto(dst[lo:hi], src[lo:hi]), n, share)

    def device():
        cp = env.cp
        src = cp.ones(n, cp.float32)
        dst = cp.empty_like(src)
        return lambda: cp.copyto(dst, src)

    return {"copy_host": host, "copy_device": device}


def _ours_nn():
    """autograd_gpu.nn and .optim, or Unavailable saying what is missing."""
    try:
        import autograd_gpu.nn as nn
        import autograd_gpu.optim as optim

        missing = [n for n in ("Sequential", "Linear", "ReLU", "MSELoss") if not hasattr(nn, n)]
        missing += ["optim." + n for n in ("SGD", "Adam") if not hasattr(optim, n)]
    except Exception as e:
        raise Unavailable(f"autograd_gpu.nn/optim not importable ({type(e).__name__}: {e})") from None
    if missing:
        raise Unavailable("autograd_gpu.nn/optim lack " + ", ".join(missing))
    return nn, optim


def _ours_optim(name):
    try:
        import autograd_gpu.optim as optim
    except Exception as e:
        raise Unavailable(f"autograd_gpu.optim not importable ({type(e).__name__}: {e})") from None
    if not hasattr(optim, name):
        raise Unavailable(f"autograd_gpu.optim has no {name}")
    return getattr(optim, name)


def _frameworks(env):
    """(column key, tensor library, device) for the autograd implementations of a row."""
    out = [("ours_cpu", ag, "cpu"), ("ours_cuda", ag, "cuda")]
    if env.torch is not None:
        out += [("torch_cpu", env.torch, "cpu"), ("torch_cuda", env.torch, "cuda")]
    return out


def _columns(env, make):
    """{column: factory} for the autograd columns, each calling make(lib, dev).

    functools.partial binds `make` now: a lambda in a loop would see the loop's last one."""
    return {k: functools.partial(make, lib, dev) for k, lib, dev in _frameworks(env)}


def _t(lib, arr, dev, requires_grad=False):
    """A float32 tensor of `lib` (autograd_gpu or torch) on `dev`, with its own copy of `arr`."""
    return lib.tensor(np.array(arr, F32), device=dev, requires_grad=requires_grad)


# ---------------------------------------------------------------- 1. overhead


def overhead(env):
    rng = _rng()
    x, w, b = (rng.standard_normal(4).astype(F32) for _ in range(3))
    rows = []

    def three_op(lib, dev):
        X, W, B = _t(lib, x, dev), _t(lib, w, dev, True), _t(lib, b, dev, True)

        def run():
            W.grad = None
            B.grad = None
            (X * W + B).sum().backward()

        return run

    def three_op_numpy():
        def run():
            y = x * w + b
            y.sum()
            g = np.ones_like(y)  # d sum / d y
            dw, db = g * x, g  # noqa: F841  (the gradients, computed and dropped like ours)

        return run

    impls = _columns(env, three_op)
    impls["numpy"] = three_op_numpy
    rows.append(dict(label="(x*w + b).sum() fwd+bwd, 4 el.", size=3, impls=impls))

    for k_ops in (1, 8, 64):
        def chain(lib, dev, k_ops=k_ops):
            X = _t(lib, x, dev, True)

            def run():
                X.grad = None
                y = X
                for _ in range(k_ops):
                    y = y * 0.999
                y.sum().backward()

            return run

        def chain_numpy(k_ops=k_ops):
            # (the Python number as ours gets it: NumPy keeps float32, and a np.float32(0.999)
            # built per multiplication cost ~0.15 us more each, flattering the ratio)
            def run():
                y = x
                for _ in range(k_ops):
                    y = y * 0.999
                y.sum()
                g = np.ones_like(x)
                for _ in range(k_ops):
                    g = g * 0.999

            return run

        impls = _columns(env, chain)
        impls["numpy"] = chain_numpy
        rows.append(dict(label=f"chain of {k_ops} mul + sum, fwd+bwd", size=k_ops, impls=impls))
    return dict(
        id="overhead", title="1. Overhead: tiny tensors (4 elements)", size_name="ops in the chain",
        about="Fixed and per-op cost of recording and replaying the tape. The first row is the "
              "3-op expression of the goals; the chains (k multiplications then a sum) give the "
              "cost per op as the slope between k=1 and k=64.",
        rows=rows, plot="loglog",
    )


# ---------------------------------------------------------------- 2. elementwise chain


def elementwise(env):
    sizes = [10**3, 10**4] if env.quick else [10**3, 10**4, 10**5, 10**6, 10**7]
    gpu_sizes = [] if env.quick else [10**8]
    # the same row with the host pool off: what reusing large arrays saves
    pool_sizes = [10**4] if env.quick else [10**6, 10**7]
    rows = []
    for n in sizes + gpu_sizes:
        def ours_like(lib, dev, n=n):
            X = _t(lib, _rng().standard_normal(n, dtype=F32), dev, True)
            tanh, sigmoid = lib.tanh, lib.sigmoid

            def run():
                X.grad = None
                (tanh(X) * sigmoid(X) + X**2).sum().backward()

            return run

        def numpy_(n=n):
            x = _rng().standard_normal(n, dtype=F32)

            def run():
                t = np.tanh(x)
                s = 1 / (1 + np.exp(-x))
                (t * s + x * x).sum()
                # d/dx [tanh*sigmoid + x^2] = (1 - t^2) s + t s (1 - s) + 2x
                dx = (1 - t * t) * s + t * s * (1 - s) + 2 * x  # noqa: F841

            return run

        impls = _columns(env, ours_like)
        impls["numpy"] = numpy_
        # The least a fused forward+backward must move: read x, write x.grad.
        impls.update(copy_impls(env, 4 * n))
        label = f"n = {n:.0e}".replace("e+0", "e")
        rows.append(dict(label=label, size=n, impls=impls, gpu_only=n in gpu_sizes))
        if n in pool_sizes:
            rows.append(dict(label=label + ", host pool off", size=n, impls={
                "ours_cpu": _pool_off(functools.partial(ours_like, ag, "cpu")),
                "torch_cpu": impls.get("torch_cpu"), "numpy": _pool_off(numpy_)}))
    return dict(
        id="elementwise", title="2. Elementwise chain: sum(tanh(x) * sigmoid(x) + x**2), fwd+bwd",
        size_name="elements",
        about="Memory-bound. The copy columns copy 4n bytes (read x, write its gradient), the "
              "least a fused forward+backward must move; 1e8 runs on a GPU only. The 'host "
              "pool off' rows run ours and NumPy with the host pool turned off (every large "
              "array in fresh memory, as NumPy's own allocator and PyTorch's give it; elsewhere "
              "the pool, NumPy's allocator once the library is imported, serves the NumPy "
              "column too): the difference is what reusing large arrays saves in page faults "
              "and page zeroing.",
        rows=rows, plot="loglog",
    )


def _pool_off(factory):
    """A column factory whose timed callable runs with the host pool turned off (its free
    blocks released: every large array in fresh memory)."""

    def make():
        run = factory()

        def run_without_pool():
            limit = ag.backend.host_pool_stats()["limit_bytes"]
            ag.backend.set_host_pool_limit(0)
            try:
                run()
            finally:
                ag.backend.set_host_pool_limit(limit)

        return run_without_pool

    return make


# ---------------------------------------------------------------- 3. matmul


def matmul(env):
    sizes = [32, 64] if env.quick else [256, 512, 1024, 2048, 4096]
    rows = []
    for n in sizes:
        def ours_like(lib, dev, n=n):
            rng = _rng()
            A = _t(lib, rng.standard_normal((n, n), dtype=F32), dev, True)
            B = _t(lib, rng.standard_normal((n, n), dtype=F32), dev, True)

            def run():
                A.grad = None
                B.grad = None
                (A @ B).sum().backward()

            return run

        def numpy_(n=n):
            rng = _rng()
            a, b = rng.standard_normal((n, n), dtype=F32), rng.standard_normal((n, n), dtype=F32)

            def run():
                c = a @ b
                c.sum()
                g = np.ones_like(c)
                da, db = g @ b.T, a.T @ g  # noqa: F841

            return run

        impls = _columns(env, ours_like)
        impls["numpy"] = numpy_
        # 4096^3 on the CPU takes minutes on a small machine: run it where there are cores.
        cpu_skip = None
        if n >= 4096 and (env.cpu_count or 1) < 8:
            cpu_skip = f"skipped: {n}x{n} on the CPU needs >= 8 cores to finish in time"
        rows.append(dict(label=f"{n}x{n} @ {n}x{n}", size=n, impls=impls, cpu_skip=cpu_skip))
    return dict(
        id="matmul", title="3. Matmul: (A @ B).sum(), fwd+bwd (three n^3 products)",
        size_name="n (square)",
        about="Compute-bound: the limit is BLAS, i.e. the NumPy column.",
        rows=rows, plot="loglog",
    )


# ---------------------------------------------------------------- 4. training


def _init_linear(rng, fan_in, fan_out):
    bound = 1 / math.sqrt(fan_in)
    return (rng.uniform(-bound, bound, (fan_out, fan_in)).astype(F32),
            rng.uniform(-bound, bound, fan_out).astype(F32))


def _train_ours(lib, dev, nn, optim, widths, x, y, steps, opt_name, opt_kw, reduction):
    """A Sequential of Linear+ReLU from the given initial weights; returns the timed run."""
    rng = _rng(1)
    init = [_init_linear(rng, a, b) for a, b in zip(widths[:-1], widths[1:])]
    layers = [nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:])]
    mods = []
    for i, lin in enumerate(layers):
        mods.append(lin)
        if i < len(layers) - 1:
            mods.append(nn.ReLU())
    model = nn.Sequential(*mods).to(dev)
    loss_fn = nn.MSELoss(reduction=reduction)
    X, Y = _t(lib, x, dev), _t(lib, y, dev)
    start = [(_t(lib, W, dev), _t(lib, b, dev)) for W, b in init]
    Opt = getattr(optim, opt_name)

    def run():
        with lib.no_grad():
            for lin, (W, b) in zip(layers, start):
                lin.weight.copy_(W)
                lin.bias.copy_(b)
        opt = Opt(model.parameters(), **opt_kw)
        for _ in range(steps):
            loss = loss_fn(model(X), Y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.item())

    return run


def _train_numpy(widths, x, y, steps, opt_name, opt_kw, reduction):
    """The same network, forward and backward by hand; Adam or SGD as PyTorch defines them."""
    rng = _rng(1)
    init = [_init_linear(rng, a, b) for a, b in zip(widths[:-1], widths[1:])]
    lr = opt_kw["lr"]
    b1, b2, eps = 0.9, 0.999, 1e-8

    def run():
        params = [p.copy() for Wb in init for p in Wb]
        if opt_name == "Adam":
            m = [np.zeros_like(p) for p in params]
            v = [np.zeros_like(p) for p in params]
        L = len(init)
        for step in range(1, steps + 1):
            acts, pre = [x], []
            h = x
            for i in range(L):
                W, b = params[2 * i], params[2 * i + 1]
                z = h @ W.T
                z += b
                pre.append(z)
                h = np.maximum(z, 0) if i < L - 1 else z
                acts.append(h)
            diff = h - y
            loss = float((diff * diff).sum())
            g = 2 * diff
            if reduction == "mean":
                loss /= diff.size
                g /= diff.size
            grads = [None] * (2 * L)
            for i in reversed(range(L)):
                grads[2 * i] = g.T @ acts[i]
                grads[2 * i + 1] = g.sum(0)
                if i:
                    g = g @ params[2 * i]
                    g *= pre[i - 1] > 0
            if opt_name == "SGD":
                for p, gp in zip(params, grads):
                    p -= lr * gp
            else:
                bc1, bc2 = 1 - b1**step, 1 - b2**step
                for p, gp, mp, vp in zip(params, grads, m, v):
                    mp *= b1
                    mp += (1 - b1) * gp
                    vp *= b2
                    vp += (1 - b2) * gp * gp
                    denom = np.sqrt(vp)
                    denom /= math.sqrt(bc2)
                    denom += eps
                    p -= (lr / bc1) * mp / denom
        return loss

    return run


def training(env):
    rng = _rng()
    rows = []
    specs = [
        # label, widths, batch, steps, optimizer, kwargs, reduction, gpu only
        ("seed two-layer net, 64x1000-100-10, Adam", [1000, 100, 10], 64, 5 if env.quick else 500,
         "Adam", dict(lr=1e-4), "sum", False),
    ]
    if env.quick:
        specs.append(("MLP 4x64, batch 16, SGD", [64] * 5, 16, 3, "SGD", dict(lr=0.01), "mean", False))
    else:
        specs.append(("MLP 4x1024, batch 256, 50 SGD steps", [1024] * 5, 256, 50, "SGD",
                      dict(lr=0.01), "mean", False))
        specs.append(("MLP 4x4096, batch 4096, 1 SGD step", [4096] * 5, 4096, 1, "SGD",
                      dict(lr=0.01), "mean", True))
    for label, widths, batch, steps, opt_name, opt_kw, reduction, gpu_only in specs:
        if not env.quick and "two-layer" in label:
            label = f"{label}, {steps} steps"
        x = rng.standard_normal((batch, widths[0]), dtype=F32)
        y = rng.standard_normal((batch, widths[-1]), dtype=F32)
        args = (widths, x, y, steps, opt_name, opt_kw, reduction)

        def ours_like(lib, dev, args=args):
            if lib is ag:
                nn, optim = _ours_nn()
            else:
                nn, optim = lib.nn, lib.optim
            return _train_ours(lib, dev, nn, optim, *args)

        impls = _columns(env, ours_like)
        impls["numpy"] = functools.partial(_train_numpy, *args)
        # A GPU-sized network runs its CPU columns only beside a GPU (for the speedup).
        cpu_skip = "skipped: GPU-sized network, its CPU columns run on a CUDA machine" if (
            gpu_only and not env.cuda_ok) else None
        rows.append(dict(label=label, size=widths[0], impls=impls, cpu_skip=cpu_skip))
    return dict(
        id="training", title="4. Training loops (nn.Sequential of Linear+ReLU, MSELoss)",
        size_name="width",
        about="Whole training runs from the same initial weights; `value` in the JSON is the final "
              "loss of each implementation, which must agree.",
        rows=rows, plot=None,
    )


# ---------------------------------------------------------------- 5. optimizer step

OPTIMIZERS = (
    # label, class, kwargs, arrays the update touches (param, grad, state...)
    ("SGD", "SGD", dict(lr=0.01), 2),
    ("SGD momentum=0.9", "SGD", dict(lr=0.01, momentum=0.9), 3),
    ("Adam", "Adam", dict(lr=1e-3), 4),
    ("AdamW", "AdamW", dict(lr=1e-3, weight_decay=0.01), 4),
    ("RMSprop", "RMSprop", dict(lr=1e-2), 3),
    ("Adagrad", "Adagrad", dict(lr=1e-2), 3),
    ("Adadelta", "Adadelta", dict(lr=1.0), 4),
)


def _numpy_step(name, kw, p, g):
    """One step of the optimizer, by hand, PyTorch's formulas with default options.

    The arrays live in this closure, so the updates use ufuncs with `out=` (in place, no copy).
    """
    lr = kw["lr"]
    state = {"t": 0}
    z = np.zeros_like
    sqrt, mul, add, sub, div = np.sqrt, np.multiply, np.add, np.subtract, np.divide

    if name == "SGD" and not kw.get("momentum"):
        def step():
            sub(p, lr * g, out=p)
    elif name == "SGD":
        buf, mom = z(p), kw["momentum"]

        def step():
            mul(buf, mom, out=buf)
            add(buf, g, out=buf)
            sub(p, lr * buf, out=p)
    elif name in ("Adam", "AdamW"):
        m, v, b1, b2, eps, wd = z(p), z(p), 0.9, 0.999, 1e-8, kw.get("weight_decay", 0)

        def step():
            state["t"] += 1
            t = state["t"]
            if name == "AdamW":
                mul(p, 1 - lr * wd, out=p)
            mul(m, b1, out=m)
            add(m, (1 - b1) * g, out=m)
            mul(v, b2, out=v)
            add(v, (1 - b2) * (g * g), out=v)
            denom = sqrt(v)
            div(denom, math.sqrt(1 - b2**t), out=denom)
            add(denom, eps, out=denom)
            sub(p, (lr / (1 - b1**t)) * (m / denom), out=p)
    elif name == "RMSprop":
        sq, alpha, eps = z(p), 0.99, 1e-8

        def step():
            mul(sq, alpha, out=sq)
            add(sq, (1 - alpha) * (g * g), out=sq)
            denom = sqrt(sq)
            add(denom, eps, out=denom)
            sub(p, lr * (g / denom), out=p)
    elif name == "Adagrad":
        acc, eps = z(p), 1e-10

        def step():
            add(acc, g * g, out=acc)
            denom = sqrt(acc)
            add(denom, eps, out=denom)
            sub(p, lr * (g / denom), out=p)
    elif name == "Adadelta":
        sq, acc, rho, eps = z(p), z(p), 0.9, 1e-6

        def step():
            mul(sq, rho, out=sq)
            add(sq, (1 - rho) * (g * g), out=sq)
            delta = sqrt(acc + eps)
            div(delta, sqrt(sq + eps), out=delta)
            mul(delta, g, out=delta)
            mul(acc, rho, out=acc)
            add(acc, (1 - rho) * (delta * delta), out=acc)
            sub(p, lr * delta, out=p)
    else:
        raise ValueError(name)
    return step


def optimizer_step(env):
    sizes = [10**3] if env.quick else [10**6, 10**7]
    rows = []
    for label, cls, kw, touched in OPTIMIZERS:
        for n in sizes:
            def ours_like(lib, dev, n=n, cls=cls, kw=kw):
                Opt = _ours_optim(cls) if lib is ag else getattr(lib.optim, cls)
                rng = _rng()
                p = _t(lib, rng.standard_normal(n, dtype=F32), dev, True)
                p.grad = _t(lib, rng.standard_normal(n, dtype=F32), dev)
                opt = Opt([p], **kw)
                return opt.step

            def numpy_(n=n, cls=cls, kw=kw):
                rng = _rng()
                p = rng.standard_normal(n, dtype=F32)
                g = rng.standard_normal(n, dtype=F32)
                return _numpy_step(cls, kw, p, g)

            impls = _columns(env, ours_like)
            impls["numpy"] = numpy_
            impls.update(copy_impls(env, 4 * n * touched))
            rows.append(dict(label=f"{label}, {n:.0e} params".replace("e+0", "e"), size=n,
                             impls=impls, series=label))
    return dict(
        id="optimizer", title="5. One optimizer step (one parameter tensor, gradient set)",
        size_name="parameters",
        about="Memory-bound. The copy columns copy every array the update touches (parameter, "
              "gradient and state) once.",
        rows=rows, plot="series",
    )


# ---------------------------------------------------------------- 6. least squares


def least_squares(env):
    steps = 20 if env.quick else 5000
    rng = _rng()
    X = ((rng.random((300, 2)) - 0.5) * 5).astype(F32)
    Y = (X @ np.array([-0.5, 2.0], F32) + rng.standard_normal(300).astype(F32) / 2).astype(F32)
    lr = 0.05

    def ours_like(lib, dev):
        Xt, Yt = _t(lib, X, dev), _t(lib, Y, dev)

        def run():
            w = lib.zeros(2, device=dev, requires_grad=True)
            for _ in range(steps):
                loss = ((Xt @ w - Yt) ** 2).mean()
                loss.backward()
                with lib.no_grad():
                    w -= lr * w.grad
                    w.grad.zero_()
            return float(loss.item())

        return run

    def numpy_():
        def run():
            w = np.zeros(2, F32)
            n = len(Y)
            for _ in range(steps):
                r = X @ w - Y
                loss = (r * r).mean()
                w -= lr * ((2 / n) * (X.T @ r))
            return float(loss)

        return run

    impls = _columns(env, ours_like)
    impls["numpy"] = numpy_
    rows = [dict(label=f"300x2 data, {steps} GD steps", size=steps, impls=impls)]
    return dict(
        id="least_squares", title="6. Least squares by gradient descent: mean((X@w - y)**2)",
        size_name="steps",
        about="The seed's regression: overhead-bound (each step is a handful of tiny ops).",
        rows=rows, plot=None,
    )


# ---------------------------------------------------------------- 7. real models


def _nn_of(lib, needs):
    """(nn, nn.functional, optim) of `lib`; for ours, Unavailable naming what is missing.

    `needs` are names such as "nn.Conv2d", "F.max_pool2d", "optim.SGD"."""
    if lib is not ag:
        return lib.nn, lib.nn.functional, lib.optim
    try:
        import autograd_gpu.nn as nn
        import autograd_gpu.nn.functional as F
        import autograd_gpu.optim as optim
    except Exception as e:
        raise Unavailable(f"autograd_gpu.nn/optim not importable ({type(e).__name__}: {e})") from None
    spaces = {"nn": nn, "F": F, "optim": optim}
    missing = [n for n in needs if not hasattr(spaces[n.split(".")[0]], n.split(".", 1)[1])]
    if missing:
        raise Unavailable("autograd_gpu lacks " + ", ".join(missing))
    return nn, F, optim


def _np_weights(shapes, seed=1):
    """Initial float32 arrays for parameters of these shapes (named_parameters order, which is
    PyTorch's in both libraries): uniform in +-1/sqrt(fan_in), fan_in from the weight (a bias
    takes the weight's before it), the bounds of PyTorch's default init for Linear and Conv
    (and for an LSTM whose input size equals its hidden size)."""
    rng, fan, out = _rng(seed), 1, []
    for shape in shapes:
        if len(shape) > 1:
            fan = int(np.prod(shape[1:]))
        bound = 1 / math.sqrt(fan)
        out.append(rng.uniform(-bound, bound, shape).astype(F32))
    return out


def _same_weights(lib, model, dev, seed=1):
    """Sets every parameter of `model` from _np_weights, so that every column (the NumPy one
    too) starts alike. Returns the parameters and their initial values (tensors on `dev`)."""
    params = [p for _, p in model.named_parameters()]
    start = [_t(lib, a, dev) for a in _np_weights([tuple(p.shape) for p in params], seed)]
    with lib.no_grad():
        for p, init in zip(params, start):
            p.copy_(init)
    return params, start


def _conv_fwd_bwd(lib, dev, x, cout, pool):
    """Conv2d(k=3, padding=1) on x (which requires grad), optionally then relu and
    max_pool2d(2); the sum's backward fills the input's, weight's and bias's gradients."""
    nn, F, _ = _nn_of(lib, ["nn.Conv2d", "F.relu", "F.max_pool2d"])
    conv = nn.Conv2d(x.shape[1], cout, 3, padding=1).to(dev)
    params, _ = _same_weights(lib, conv, dev)
    X = _t(lib, x, dev, True)
    relu, max_pool2d = F.relu, F.max_pool2d

    def run():
        X.grad = None
        for p in params:
            p.grad = None
        y = conv(X)
        if pool:
            y = max_pool2d(relu(y), 2)
        loss = y.sum()
        loss.backward()
        return float(loss.item())

    return run


def _lenet(nn):
    """LeNet-5 as it is written today (ReLU and max pooling) for 1x28x28 inputs."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),   # 6x28x28 -> 6x14x14
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),             # 16x10x10 -> 16x5x5
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def _lenet_train(lib, dev, x, y, steps):
    """`steps` SGD steps (lr 0.01, momentum 0.9) of LeNet-5 under cross_entropy, from the same
    initial weights every call (as the training rows: weights copied back, optimizer made
    anew); returns the last loss."""
    nn, F, optim = _nn_of(lib, ["nn.Conv2d", "nn.MaxPool2d", "nn.Flatten", "nn.Sequential",
                                "nn.Linear", "nn.ReLU", "F.cross_entropy", "optim.SGD"])
    model = _lenet(nn).to(dev)
    params, start = _same_weights(lib, model, dev)
    X = _t(lib, x, dev)
    Y = lib.tensor(np.array(y, np.int64), device=dev)
    cross_entropy, SGD = F.cross_entropy, optim.SGD

    def run():
        with lib.no_grad():
            for p, s in zip(params, start):
                p.copy_(s)
        opt = SGD(params, lr=0.01, momentum=0.9)
        for _ in range(steps):
            loss = cross_entropy(model(X), Y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.item())

    return run


def _lstm_fwd_bwd(lib, dev, x, hidden):
    """One-layer nn.LSTM over x (seq, batch, input; requires grad, as an embedding's output
    would), zero initial state; the sum of the outputs' backward fills every gradient."""
    nn, _, _ = _nn_of(lib, ["nn.LSTM"])
    lstm = nn.LSTM(x.shape[2], hidden).to(dev)
    params, _ = _same_weights(lib, lstm, dev)
    X = _t(lib, x, dev, True)

    def run():
        X.grad = None
        for p in params:
            p.grad = None
        out, _ = lstm(X)
        loss = out.sum()
        loss.backward()
        return float(loss.item())

    return run


# ---------------------------------------------------------------- 7. real models, by hand in NumPy


class _Workspace:
    """The arrays a NumPy run writes, kept by name from one call to the next, as a NumPy
    program that runs a step in a loop keeps its buffers (and as ours keeps its host pool).
    Made afresh, the multi-megabyte arrays of these rows fault in their pages again on every
    call, which costs more than the math (on the 2-core VM np.ones of 2 MB: 1.2 ms fresh, 0.04
    ms into a kept array; the conv row 13 ms -> 3.3 ms)."""

    def __init__(self):
        self._arrays = {}

    def __call__(self, name, shape, fill=None):
        """The float32 array `name` of `shape`; `fill`: its value everywhere when first made."""
        a = self._arrays.get(name)
        if a is None or a.shape != shape:
            a = np.empty(shape, F32) if fill is None else np.full(shape, fill, F32)
            self._arrays[name] = a
        return a


# Convolutions: im2col as a (C*k*k + 1, N*Ho*Wo) matrix (its copy reads image rows,
# contiguous), its last row ones, so that the forward GEMM adds the bias and the weight
# gradient's GEMM sums the bias's gradient (at 32x16x32x32 a separate bias add took ~0.3 ms
# and dy.sum(0) ~0.7 ms, the extra row next to nothing). The forward GEMM writes (N*Ho*Wo, O):
# activations are channels last (N, H, W, C) between layers. Of the layouts tried (channels
# first, im2col rows by output position), these GEMMs and the col2im adds were the fastest.


def _np_im2col(a, k, pad, ws, name):
    """a (N, C, H, W), any strides -> the matrix of its k x k windows (stride 1), rows
    (c, u, v) then a row of ones, columns (n, i, j); and (Ho, Wo)."""
    N, C, H, W = a.shape
    ap = ws(name + ".pad", (N, C, H + 2 * pad, W + 2 * pad), fill=0)  # (the border stays 0)
    ap[:, :, pad:pad + H, pad:pad + W] = a
    Ho, Wo = H + 2 * pad - k + 1, W + 2 * pad - k + 1
    K = C * k * k
    cols = ws(name + ".cols", (K + 1, N * Ho * Wo), fill=1)  # (row K stays ones)
    win = np.lib.stride_tricks.sliding_window_view(ap, (k, k), axis=(2, 3))  # N,C,Ho,Wo,k,k
    np.copyto(cols[:K].reshape(C, k, k, N, Ho, Wo), win.transpose(1, 4, 5, 0, 2, 3))
    return cols, (Ho, Wo)


def _np_conv_fwd(a, Wt, b, pad, ws, name):
    """Conv2d (stride 1) of a (N, C, H, W): y (N, Ho, Wo, O) and what the backward needs."""
    O, k, N = Wt.shape[0], Wt.shape[2], a.shape[0]
    cols, (Ho, Wo) = _np_im2col(a, k, pad, ws, name)
    wb = ws(name + ".wb", (O, cols.shape[0]))  # [W | b]
    wb[:, :-1] = Wt.reshape(O, -1)
    wb[:, -1] = b
    y = ws(name + ".y", (N * Ho * Wo, O))
    np.matmul(cols.T, wb.T, out=y)
    return y.reshape(N, Ho, Wo, O), (cols, a.shape, pad)


def _np_conv_bwd(dy, Wt, cache, ws, name, need_dx=True):
    """(dx (N, H, W, C) or None, dW, db) of the convolution, from dy (N, Ho, Wo, O)."""
    cols, (N, C, H, W), pad = cache
    O, k = Wt.shape[0], Wt.shape[2]
    Ho, Wo = dy.shape[1:3]
    dy2 = dy.reshape(N * Ho * Wo, O)
    dwb = cols @ dy2  # one GEMM over every output position: [dW | db] transposed
    dW, db = dwb[:-1].T.reshape(Wt.shape), dwb[-1].copy()
    if not need_dx:
        return None, dW, db
    dcols = ws(name + ".dcols", (N * Ho * Wo, C * k * k))
    np.matmul(dy2, Wt.reshape(O, -1), out=dcols)
    dcols = dcols.reshape(N, Ho, Wo, C, k, k)
    # col2im: each of the k*k kernel offsets adds its slab into a shifted window of dx
    dxp = ws(name + ".dxp", (N, H + 2 * pad, W + 2 * pad, C))
    dxp.fill(0)
    for u in range(k):
        for v in range(k):
            dxp[:, u:u + Ho, v:v + Wo] += dcols[..., u, v]
    return dxp[:, pad:pad + H, pad:pad + W], dW, db


def _np_relu_pool_fwd(y, ws, name):
    """max_pool2d(relu(y), 2) of y (N, H, W, C). relu commutes with max: the max is taken
    first and relu applied to the quarter-sized result."""
    q = (y[:, 0::2, 0::2], y[:, 0::2, 1::2], y[:, 1::2, 0::2], y[:, 1::2, 1::2])
    m = ws(name + ".m", q[0].shape)
    np.maximum(q[0], q[1], out=m)
    np.maximum(m, q[2], out=m)
    np.maximum(m, q[3], out=m)
    p = ws(name + ".p", m.shape)
    np.maximum(m, 0, out=p)
    return p, (q, m, y.shape)


def _np_relu_pool_bwd(dp, cache, ws, name):
    """The gradient of y from the pooled output's dp: each window's gradient goes to its first
    maximum in row-major order (PyTorch's pick among ties), times relu's mask, which is that
    of the pooled value (m > 0 exactly when the chosen element is)."""
    q, m, shape = cache
    dm = ws(name + ".dm", m.shape)
    np.multiply(dp, m > 0, out=dm)
    first = q[0] == m
    second = (q[1] == m) > first  # (on bools, a > b is a and not b)
    taken = first | second
    third = (q[2] == m) > taken
    taken |= third
    dy = ws(name + ".dy", shape)  # every element is in one window: the four writes fill it
    np.multiply(dm, first, out=dy[:, 0::2, 0::2])
    np.multiply(dm, second, out=dy[:, 0::2, 1::2])
    np.multiply(dm, third, out=dy[:, 1::2, 0::2])
    np.multiply(dm, ~taken, out=dy[:, 1::2, 1::2])
    return dy


def _np_conv_step(x, Wt, b, pool, ws):
    """sum(conv(x)), or sum(max_pool2d(relu(conv(x)), 2)), and its gradients (dx, dW, db);
    x (N, C, H, W), Conv2d(k=3, padding=1)."""
    y, cache = _np_conv_fwd(x, Wt, b, 1, ws, "conv")
    if pool:
        p, pcache = _np_relu_pool_fwd(y, ws, "pool")
        loss = p.sum()
        dp = ws("dp", p.shape)
        dp.fill(1)  # d sum / d p
        dy = _np_relu_pool_bwd(dp, pcache, ws, "pool")
    else:
        loss = y.sum()
        dy = ws("dy", y.shape)
        dy.fill(1)
    dx, dW, db = _np_conv_bwd(dy, Wt, cache, ws, "conv")
    return float(loss), (dx.transpose(0, 3, 1, 2), dW, db)


def _conv_numpy(x, cout, pool):
    Wt, b = _np_weights([(cout, x.shape[1], 3, 3), (cout,)])
    ws = _Workspace()
    return lambda: _np_conv_step(x, Wt, b, pool, ws)[0]


LENET_SHAPES = [(6, 1, 5, 5), (6,), (16, 6, 5, 5), (16,), (120, 400), (120,), (84, 120), (84,),
                (10, 84), (10,)]


def _np_lenet_grads(params, x, y, ws):
    """Cross-entropy (mean) of LeNet-5 on x (N, 1, 28, 28), labels y, and its gradients."""
    c1w, c1b, c2w, c2b, w1, b1, w2, b2, w3, b3 = params
    N = x.shape[0]
    y1, cc1 = _np_conv_fwd(x, c1w, c1b, 2, ws, "c1")             # N,28,28,6
    p1, pc1 = _np_relu_pool_fwd(y1, ws, "p1")                    # N,14,14,6
    y2, cc2 = _np_conv_fwd(p1.transpose(0, 3, 1, 2), c2w, c2b, 0, ws, "c2")  # N,10,10,16
    p2, pc2 = _np_relu_pool_fwd(y2, ws, "p2")                    # N,5,5,16
    flat = p2.transpose(0, 3, 1, 2).reshape(N, -1)               # PyTorch's (C, H, W) order
    h1 = flat @ w1.T
    h1 += b1
    r1 = np.maximum(h1, 0)
    h2 = r1 @ w2.T
    h2 += b2
    r2 = np.maximum(h2, 0)
    z = r2 @ w3.T
    z += b3
    z -= z.max(1, keepdims=True)  # log-softmax, shifted
    e = np.exp(z)
    s = e.sum(1, keepdims=True)
    rows = np.arange(N)
    loss = (np.log(s[:, 0]) - z[rows, y]).mean()
    dz = e / s
    dz[rows, y] -= 1
    dz /= N
    gw3, gb3 = dz.T @ r2, dz.sum(0)
    d = dz @ w3
    d *= h2 > 0
    gw2, gb2 = d.T @ r1, d.sum(0)
    d = d @ w2
    d *= h1 > 0
    gw1, gb1 = d.T @ flat, d.sum(0)
    d = (d @ w1).reshape(N, p2.shape[3], *p2.shape[1:3]).transpose(0, 2, 3, 1)
    d = _np_relu_pool_bwd(d, pc2, ws, "p2")
    d, gc2w, gc2b = _np_conv_bwd(d, c2w, cc2, ws, "c2")
    d = _np_relu_pool_bwd(d, pc1, ws, "p1")
    _, gc1w, gc1b = _np_conv_bwd(d, c1w, cc1, ws, "c1", need_dx=False)  # (x needs none)
    return loss, [gc1w, gc1b, gc2w, gc2b, gw1, gb1, gw2, gb2, gw3, gb3]


def _np_lenet_train(init, x, y, steps, ws, lr=0.01, momentum=0.9):
    """`steps` of PyTorch's SGD with momentum (first step: buffer = gradient) from `init`:
    (the last loss, the parameters after the steps)."""
    params = [p.copy() for p in init]
    bufs = None
    for _ in range(steps):
        loss, grads = _np_lenet_grads(params, x, y, ws)
        if bufs is None:
            bufs = grads
        else:
            for buf, g in zip(bufs, grads):
                buf *= momentum
                buf += g
        for p, buf in zip(params, bufs):
            p -= lr * buf
    return float(loss), params


def _lenet_numpy(x, y, steps):
    init = _np_weights(LENET_SHAPES)
    ws = _Workspace()
    return lambda: _np_lenet_train(init, x, y, steps, ws)[0]


def _np_lstm_step(x, w_ih, w_hh, b_ih, b_hh, ws):
    """sum of a one-layer LSTM's outputs over x (T, B, In), zero initial state, PyTorch's gate
    order (i, f, g, o) in the weights, and its gradients (dx, dW_ih, dW_hh, db_ih, db_hh)."""
    T, B, n_in = x.shape
    H = w_hh.shape[1]
    G = 4 * H
    # The forward runs its gates in the order i, f, o, g, from transposed copies of the
    # weights (a GEMM on a transposed view ran ~2x slower at these sizes), the sigmoid gates'
    # rows halved: sigmoid(z) = (1 + tanh(z/2)) / 2, so one tanh over the whole (B, 4H) row
    # and two ops do all four gates (~40% less than exp-based sigmoids and a separate tanh).
    # The backward writes the gradients in PyTorch's order.
    order = ((0, 2 * H, 0.5), (3 * H, G, 0.5), (2 * H, 3 * H, 1))  # rows of i+f, o, g
    wih_t, whh_t = ws("wih_t", (n_in, G)), ws("whh_t", (H, G))
    bias = ws("bias", (G,))
    at = 0
    for lo, hi, scale in order:
        to = slice(at, at + hi - lo)
        np.multiply(w_ih[lo:hi].T, scale, out=wih_t[:, to])
        np.multiply(w_hh[lo:hi].T, scale, out=whh_t[:, to])
        np.add(b_ih[lo:hi], b_hh[lo:hi], out=bias[to])
        bias[to] *= scale
        at += hi - lo
    xf = x.reshape(T * B, n_in)
    acts = ws("acts", (T, B, G))  # the input projection of every step as one GEMM
    np.matmul(xf, wih_t, out=acts.reshape(T * B, G))
    acts += bias
    hs = ws("hs", (T + 1, B, H), fill=0)  # hs[t + 1]: step t's output (hs[0] = h_0 = 0)
    cs = ws("cs", (T + 1, B, H), fill=0)  # (c_0 = 0)
    tcs = ws("tcs", (T, B, H))
    tmp = ws("tmp", (B, G))
    for t in range(T):
        a = acts[t]  # the step's pre-activations, made its activations in place
        if t:  # (h_0 = 0: the first step has no recurrent term)
            np.matmul(hs[t], whh_t, out=tmp)
            a += tmp
        np.tanh(a, out=a)
        s = a[:, :3 * H]
        s *= 0.5
        s += 0.5
        i, f, o, g = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c = cs[t + 1]
        np.multiply(f, cs[t], out=c)
        np.multiply(i, g, out=tmp[:, :H])
        c += tmp[:, :H]
        np.tanh(c, out=tcs[t])
        np.multiply(o, tcs[t], out=hs[t + 1])
    loss = hs[1:].sum()

    # Backward. The factors each gate's gradient takes from dc or dh, for all steps at once:
    # d i = dc g i(1-i), d f = dc c_prev f(1-f), d g = dc i (1-g^2), d o = dh tanh(c) o(1-o),
    # and dc += dh o (1 - tanh(c)^2); then per step only the products with dh and dc remain.
    i, f, o, g = acts[..., :H], acts[..., H:2 * H], acts[..., 2 * H:3 * H], acts[..., 3 * H:]
    fac = ws("fac", (T, B, 3, H))  # for i, f, g (PyTorch's order, as dgates)
    fo, fc = ws("fo", (T, B, H)), ws("fc", (T, B, H))
    tmp3 = ws("tmp3", (T, B, H))
    np.subtract(1, i, out=tmp3)
    tmp3 *= i
    np.multiply(tmp3, g, out=fac[:, :, 0])
    np.subtract(1, f, out=tmp3)
    tmp3 *= f
    np.multiply(tmp3, cs[:-1], out=fac[:, :, 1])
    np.multiply(g, g, out=tmp3)
    np.subtract(1, tmp3, out=tmp3)
    np.multiply(tmp3, i, out=fac[:, :, 2])
    np.subtract(1, o, out=tmp3)
    tmp3 *= o
    np.multiply(tmp3, tcs, out=fo)
    np.multiply(tcs, tcs, out=tmp3)
    np.subtract(1, tmp3, out=tmp3)
    np.multiply(tmp3, o, out=fc)
    dgates = ws("dgates", (T, B, G))
    dg4 = dgates.reshape(T, B, 4, H)
    dh = ws("dh", (B, H))
    dh.fill(1)  # d loss / d h_t = 1 for every output
    dc = ws("dc", (B, H))
    dc.fill(0)
    for t in reversed(range(T)):
        np.multiply(dh, fo[t], out=dg4[t, :, 3])
        np.multiply(dh, fc[t], out=tmp[:, :H])
        dc += tmp[:, :H]
        np.multiply(dc[:, None], fac[t], out=dg4[t, :, :3])
        if t:
            dc *= f[t]
            np.matmul(dgates[t], w_hh, out=dh)
            dh += 1
    dgf = dgates.reshape(T * B, G)
    # both weight gradients as one GEMM over the stacked steps' [x_t | h_t-1] (~25% less
    # than a GEMM each)
    xh = ws("xh", (T, B, n_in + H))
    xh[:, :, :n_in] = x
    xh[:, :, n_in:] = hs[:-1]
    dw = dgf.T @ xh.reshape(T * B, n_in + H)
    db = dgf.sum(0)
    dx = (dgf @ w_ih).reshape(T, B, n_in)
    return float(loss), (dx, dw[:, :n_in], dw[:, n_in:], db, db)  # (b_ih's = b_hh's)


def _lstm_numpy(x, hidden):
    H, n_in = hidden, x.shape[2]
    w = _np_weights([(4 * H, n_in), (4 * H, H), (4 * H,), (4 * H,)])
    ws = _Workspace()
    return lambda: _np_lstm_step(x, *w, ws)[0]


def models(env):
    rng = _rng()
    q = env.quick
    rows = []
    # conv: batch, in channels, out channels, height = width
    n, cin, cout, hw = (2, 3, 4, 8) if q else (32, 3, 16, 32)
    x = rng.standard_normal((n, cin, hw, hw), dtype=F32)
    shape = f"{n}x{cin}x{hw}x{hw}"
    for pool, label in ((False, f"Conv2d {cin}->{cout} k3 p1, {shape}"),
                        (True, f"conv+relu+maxpool {cin}->{cout}, {shape}")):
        impls = _columns(env, functools.partial(_conv_fwd_bwd, x=x, cout=cout, pool=pool))
        impls["numpy"] = functools.partial(_conv_numpy, x, cout, pool)
        rows.append(dict(label=label, size=n * cin * hw * hw, impls=impls, warmup=1))

    batch, steps = (4, 2) if q else (64, 1)
    x = rng.random((batch, 1, 28, 28), dtype=F32)  # MNIST-sized images in [0, 1)
    y = rng.integers(0, 10, batch)
    label = f"LeNet-5 SGD step, batch {batch}" if steps == 1 else f"LeNet-5, batch {batch}, {steps} SGD steps"
    impls = _columns(env, functools.partial(_lenet_train, x=x, y=y, steps=steps))
    impls["numpy"] = functools.partial(_lenet_numpy, x, y, steps)
    rows.append(dict(label=label, size=batch, impls=impls, warmup=1))

    # LSTM: sequence, batch, input size, hidden size (the word-model step, and a small one)
    lstm_specs = [(5, 2, 8, 8)] if q else [(35, 20, 200, 200), (35, 16, 32, 64)]
    for seq, b, n_in, hidden in lstm_specs:
        x = (0.5 * rng.standard_normal((seq, b, n_in))).astype(F32)
        impls = _columns(env, functools.partial(_lstm_fwd_bwd, x=x, hidden=hidden))
        impls["numpy"] = functools.partial(_lstm_numpy, x, hidden)
        rows.append(dict(label=f"LSTM {n_in}->{hidden}, seq {seq}, batch {b}", size=seq * b * hidden,
                         impls=impls, warmup=1))
    return dict(
        id="models", title="7. Real models: conv layers, a LeNet-5 step, an LSTM (fwd+bwd)",
        size_name="input elements, batch, or seq*batch*hidden",
        about="Layers of real programs, from the same initial weights in every column (`value` "
              "is the loss, which must agree). Conv rows: the sum of Conv2d(k=3, padding=1) "
              "(then relu and max_pool2d(2)), backward to input, weight and bias. LeNet-5: "
              "conv5-relu-pool-conv5-relu-pool-linear 400-120-84-10, cross_entropy, one SGD step "
              "(momentum 0.9) on a batch of 1x28x28 images, weights reset each call. LSTM: one "
              "layer, zero initial state, the sum of the outputs backward to input and weights. "
              "Every column gets one untimed call before the harness's warm-up (PyTorch's first "
              "LeNet-5 step builds its oneDNN primitives, ~2 s). The NumPy column does the "
              "same math with its backward written by hand (see the module's docstring), from "
              "the same initial weights; it keeps its large arrays between calls.",
        rows=rows, plot=None,
    )


ALL = (overhead, elementwise, matmul, training, optimizer_step, least_squares, models)
