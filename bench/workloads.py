"""The seven workloads. Each row gives, per column, a factory that builds the data (untimed) and
returns the callable that is timed.

All implementations of a row do the same math in float32 from the same NumPy data: ours
(autograd_gpu on cpu and cuda), PyTorch (cpu and cuda), NumPy written by hand (the CPU limit
for that math: forward and the backward derived on paper), and, for memory-bound rows, a
plain copy of the bytes the work must at least read and write (the bandwidth limit). The
real-model rows (7) have no NumPy column: a hand-written convolution or LSTM backward would
be a second library, not a limit to compare with.
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
    # the same row with the host buffer pool off: what reusing large arrays saves
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
                "torch_cpu": impls.get("torch_cpu"), "numpy": numpy_}))
    return dict(
        id="elementwise", title="2. Elementwise chain: sum(tanh(x) * sigmoid(x) + x**2), fwd+bwd",
        size_name="elements",
        about="Memory-bound. The copy columns copy 4n bytes (read x, write its gradient), the "
              "least a fused forward+backward must move; 1e8 runs on a GPU only. The 'host "
              "pool off' rows run ours with the host buffer pool turned off (every large "
              "result in fresh memory, as NumPy and PyTorch allocate): the difference is what "
              "reusing large arrays saves in page faults and page zeroing.",
        rows=rows, plot="loglog",
    )


def _pool_off(factory):
    """A column factory whose timed callable runs with the host pool turned off."""

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


def _same_weights(lib, model, dev, seed=1):
    """Sets every parameter of `model` from NumPy, so that ours and PyTorch start alike.

    Uniform in +-1/sqrt(fan_in), fan_in from the weight (a bias takes its weight's), the
    bounds of PyTorch's default init for Linear and Conv (and for an LSTM whose input size
    equals its hidden size). Parameters come in named_parameters order, which is PyTorch's in
    both libraries. Returns the parameters and their initial values (tensors on `dev`)."""
    rng, fan = _rng(seed), 1
    params, start = [], []
    with lib.no_grad():
        for _, p in model.named_parameters():
            shape = tuple(p.shape)
            if len(shape) > 1:
                fan = int(np.prod(shape[1:]))
            bound = 1 / math.sqrt(fan)
            init = _t(lib, rng.uniform(-bound, bound, shape), dev)
            p.copy_(init)
            params.append(p)
            start.append(init)
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
        rows.append(dict(label=label, size=n * cin * hw * hw, impls=impls, warmup=1))

    batch, steps = (4, 2) if q else (64, 1)
    x = rng.random((batch, 1, 28, 28), dtype=F32)  # MNIST-sized images in [0, 1)
    y = rng.integers(0, 10, batch)
    label = f"LeNet-5 SGD step, batch {batch}" if steps == 1 else f"LeNet-5, batch {batch}, {steps} SGD steps"
    impls = _columns(env, functools.partial(_lenet_train, x=x, y=y, steps=steps))
    rows.append(dict(label=label, size=batch, impls=impls, warmup=1))

    # LSTM: sequence, batch, input size, hidden size (the word-model step, and a small one)
    lstm_specs = [(5, 2, 8, 8)] if q else [(35, 20, 200, 200), (35, 16, 32, 64)]
    for seq, b, n_in, hidden in lstm_specs:
        x = (0.5 * rng.standard_normal((seq, b, n_in))).astype(F32)
        impls = _columns(env, functools.partial(_lstm_fwd_bwd, x=x, hidden=hidden))
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
              "LeNet-5 step builds its oneDNN primitives, ~2 s). No NumPy column: see the "
              "module's docstring.",
        rows=rows, plot=None,
    )


ALL = (overhead, elementwise, matmul, training, optimizer_step, least_squares, models)
