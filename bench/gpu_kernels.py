"""GPU benchmark of the fused kernels (needs a CUDA machine; exits cleanly without one).

    python -m bench.gpu_kernels [--quick] [--dtype float32] [--out bench/results]

1. Each fused backward at 1e5..1e8 elements: effective bandwidth (bytes the kernel must
   read and write / time) against a device-to-device copy of the same number of elements,
   and the time of the unfused CuPy sequence (the same formula as separate CuPy calls).
   Goal: at least 85% of copy bandwidth from 1e7 elements on.
2. Adam over 10M parameters: the fused update against the unfused CuPy sequence
   (autograd_gpu.optim's ufunc path; goal: at least 3x faster) and against
   torch.optim.Adam(fused=True) when a CUDA build of PyTorch is importable (goal: at
   most 1.2x its time).
Times are CUDA-event times (cupyx.profiler.benchmark), median of the repeats. Results go
to bench/results/gpu_kernels-<gpu name>.json.
"""
import argparse
import datetime
import json
import os
import platform
import re
import sys

import numpy as np

SIZES = [10**5, 10**6, 10**7, 10**8]


def _gpu_or_exit():
    from autograd_gpu import backend

    if not backend.cuda_is_available():
        print(f"bench.gpu_kernels: no usable CUDA device here ({backend.cuda_unavailable_reason()});"
              " nothing measured. Run this on a CUDA machine.")
        raise SystemExit(0)
    return backend.cupy_module()


def _time(cp, fn, repeat, warmup=3):
    from cupyx.profiler import benchmark

    r = benchmark(fn, n_repeat=repeat, n_warmup=warmup)
    return float(np.median(r.gpu_times[0]))


def _backward_cases(cp, n, dtype, rng):
    """(name, fused call, unfused call, bytes moved by the fused kernel).

    The fused call is the backward formula as the ops call it (its registered kernel runs on
    CuPy arrays of one float dtype); the unfused call is the same formula's array code
    (`fn(xp, ...)`, its NumPy twin) run with CuPy's ufuncs."""
    from autograd_gpu.ops import arithmetic as A
    from autograd_gpu.ops import elementwise as E
    from autograd_gpu.ops import loss as L

    x = cp.asarray(rng.standard_normal(n, dtype=np.float32) * 3, dtype=dtype)
    g = cp.asarray(rng.standard_normal(n, dtype=np.float32), dtype=dtype)
    b = cp.asarray(rng.random(n, dtype=np.float32) + 0.5, dtype=dtype)
    pos = cp.abs(x) + 0.1
    y_t, y_s, y_e = cp.tanh(x), 1 / (1 + cp.exp(-x)), cp.exp(cp.minimum(x, 10))
    y_r = cp.maximum(x, 0)
    it = x.dtype.itemsize
    s0 = cp.asarray(1.0 / n, dtype=dtype)
    unary = [
        ("relu", y_r, ()), ("leaky_relu", x, (0.01,)), ("sigmoid", y_s, ()), ("tanh", y_t, ()),
        ("gelu", x, ()), ("gelu_tanh", x, ()), ("silu", x, ()), ("softplus", x, (1.0, 20.0)),
        ("elu", x, (1.0,)), ("exp", y_e, ()), ("log", pos, ()), ("sqrt", pos, ()),
        ("abs", x, ()), ("clamp", x, (-1.0, 1.0)),
    ]
    cases = []
    for name, v, s in unary:
        f = getattr(E, f"_{name}_backward")
        npf = getattr(E, "_np_" + name)
        cases.append((name, (lambda f=f, v=v, s=s: f(v, g, *s)),
                      (lambda npf=npf, v=v, s=s: npf(cp, v, g, *s)), 3 * n * it))
    cases += [
        ("mul (both grads)", lambda: A.mul_backward(x, b, g),
         lambda: A.mul_backward.fn(cp, x, b, g), 5 * n * it),
        ("div (both grads)", lambda: A.div_backward(x, b, g),
         lambda: A.div_backward.fn(cp, x, b, g), 5 * n * it),
        ("mse_loss (input grad)", lambda: L.mse_x_backward(x, b, s0, 2.0),
         lambda: 2.0 * (x - b) * s0, 3 * n * it),
        ("bce_with_logits (input grad)",
         lambda: L.bce_logits_grads(x, b, s0, need_t=False),
         lambda: (1 / (1 + cp.exp(-x)) - b) * s0, 3 * n * it),
    ]
    return cases


def bench_backward(cp, sizes, dtype, repeat):
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        src = cp.empty(n, dtype=dtype)
        dst = cp.empty_like(src)
        t_copy = _time(cp, lambda: cp.copyto(dst, src), repeat)
        copy_bw = 2 * n * src.dtype.itemsize / t_copy
        for name, fused, unfused, nbytes in _backward_cases(cp, n, dtype, rng):
            t_f = _time(cp, fused, repeat)
            t_u = _time(cp, unfused, repeat)
            bw = nbytes / t_f
            rows.append(dict(op=name, n=n, dtype=dtype, fused_s=t_f, unfused_s=t_u,
                             bytes=nbytes, fused_GBps=bw / 1e9, copy_GBps=copy_bw / 1e9,
                             fraction_of_copy=bw / copy_bw, speedup_vs_unfused=t_u / t_f,
                             goal_85pct=(bw / copy_bw >= 0.85) if n >= 10**7 else None))
            print(f"{name:30s} n={n:>9d}  {bw / 1e9:7.1f} GB/s  {100 * bw / copy_bw:5.1f}% of copy"
                  f"  unfused {t_u / t_f:4.1f}x slower")
        del src, dst
        cp.get_default_memory_pool().free_all_blocks()
    return rows


def bench_adam(cp, n, dtype, repeat):
    from autograd_gpu.optim import _functional as F

    rng = np.random.default_rng(1)
    p = cp.asarray(rng.standard_normal(n, dtype=np.float32), dtype=dtype)
    g = cp.asarray(rng.standard_normal(n, dtype=np.float32), dtype=dtype)
    m, v = cp.zeros_like(p), cp.zeros_like(p)
    kw = dict(step=10, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
              amsgrad=False, maximize=False, decoupled_weight_decay=False)
    # the optimizers' entry (which runs the fused kernel on CuPy arrays) against the same
    # step's array code run with CuPy ufuncs
    t_fused = _time(cp, lambda: F.adam_update(p, g, m, v, None, **kw), repeat)
    t_unfused = _time(cp, lambda: F._adam_step(cp, p, g, m, v, None, **kw), repeat)
    out = dict(n=n, dtype=dtype, fused_s=t_fused, unfused_cupy_s=t_unfused,
               speedup_vs_unfused=t_unfused / t_fused, goal_3x=t_unfused / t_fused >= 3.0)
    print(f"Adam {n} params: fused {t_fused * 1e3:.3f} ms, unfused CuPy {t_unfused * 1e3:.3f} ms"
          f" ({t_unfused / t_fused:.1f}x)")
    try:
        import torch

        if not torch.cuda.is_available():
            raise ImportError("PyTorch has no CUDA here")
        tp = torch.randn(n, device="cuda", dtype=getattr(torch, dtype), requires_grad=True)
        tp.grad = torch.randn_like(tp)
        opt = torch.optim.Adam([tp], lr=1e-3, fused=True)
        for _ in range(3):
            opt.step()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        times = []
        for _ in range(repeat):
            start.record()
            opt.step()
            end.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        t_torch = float(np.median(times))
        out.update(torch_fused_s=t_torch, ratio_vs_torch_fused=t_fused / t_torch,
                   goal_1_2x_torch=t_fused / t_torch <= 1.2, torch_version=torch.__version__)
        print(f"  torch.optim.Adam(fused=True) {t_torch * 1e3:.3f} ms (ours {t_fused / t_torch:.2f}x)")
    except Exception as e:  # noqa: BLE001 - the comparison is optional
        out.update(torch_fused_s=None, torch_skipped=f"{type(e).__name__}: {e}")
        print(f"  torch.optim.Adam(fused=True) not measured: {e}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes up to 1e7 and fewer repeats")
    ap.add_argument("--tiny", action="store_true",
                    help="sizes 1e5 and 1e6, 3 repeats: a rehearsal of the pipeline (the CuPy "
                         "stand-in runs the kernels on the CPU), not a measurement")
    ap.add_argument("--dtype", default="float32", choices=["float16", "float32", "float64"])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                  "results"))
    args = ap.parse_args(argv)
    cp = _gpu_or_exit()
    sizes = SIZES[:2] if args.tiny else SIZES[:-1] if args.quick else SIZES
    repeat = 3 if args.tiny else 20 if args.quick else 50
    props = cp.cuda.runtime.getDeviceProperties(cp.cuda.runtime.getDevice())
    gpu = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    result = dict(
        gpu=gpu,
        cuda_runtime=cp.cuda.runtime.runtimeGetVersion(),
        cupy=cp.__version__,
        python=platform.python_version(),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        backward=bench_backward(cp, sizes, args.dtype, repeat),
        adam=bench_adam(cp, sizes[-1] if args.tiny else 10**7, args.dtype, repeat),
    )
    os.makedirs(args.out, exist_ok=True)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", gpu).strip("-").lower()
    path = os.path.join(args.out, f"gpu_kernels-{slug}.json")
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
