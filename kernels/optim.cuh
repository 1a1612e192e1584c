// Optimizer updates, one parameter element per call: the parameter and every state
// buffer are read once and written once. The operations and their order are those of the
// array path (autograd_gpu/optim/_functional.py), which are PyTorch's CPU implementation's
// (torch.optim's single-tensor path) rounded as its ATen kernels round them: add(alpha=),
// addcmul and lerp are fused multiply-adds there (`fmadd` below), addcdiv is
// self + (value * t1) / t2. Scalars that PyTorch computes in Python double precision (bias
// corrections, 1 - beta, -lr / c1, ...) are computed on the host too and arrive here
// already rounded to T.
//
// Subnormals: CuPy compiles with -ftz=true, under which float arithmetic takes subnormal
// operands as 0 and flushes subnormal results (tiny gradients, their squares in the second
// moments, parameters decayed towards 0). Every float operation below is therefore done by
// the helpers of ag_common.cuh (exact operands in double, one operation, one rounding to
// float: the IEEE float result, subnormals included) and comparisons and negations on exact
// values or bits. The arithmetic stays float arithmetic, operation for operation: computing
// the whole update in double would round differently from the NumPy float32 formulas (and
// torch.optim's float kernels), which the host build must match bit for bit
// (tests/test_host_optim.py); these helpers give exactly the float results wherever float
// arithmetic does not flush, and the IEEE ones where it would. For double T they are the
// plain operations, so float64 updates are unchanged.
#pragma once
#ifndef AG_OPTIM_CUH
#define AG_OPTIM_CUH
#include "ag_common.cuh"

namespace ag {

// a * b rounded on its own: NVRTC and nvcc contract a product feeding an addition into a
// fused multiply-add unless told otherwise; the host build does not (-ffp-contract=off),
// and neither does NumPy or PyTorch where these formulas multiply and add apart.
// float: the exact double product rounded once to float (mul_keep), which is rounded apart
// by construction and keeps subnormals (__fmul_rn flushes them under -ftz=true).
// (__dmul_rn exists in device code only: nvcc's host pass of these __host__ __device__
// functions takes the plain product, which the host compiler does not contract either)
AG_FN float rmul(float a, float b) { return mul_keep(a, b); }
AG_FN double rmul(double a, double b) {
#if defined(__CUDA_ARCH__)
    return __dmul_rn(a, b);
#else
    return a * b;
#endif
}

// c + a * b as PyTorch's vectorized CPU kernels compute add(alpha=), addcmul and lerp: a
// fused multiply-add. float: computed as the NumPy path computes it (the product of two
// floats is exact in double, so only the sum rounds, to double and then to float: one
// rounding but where the double sum lands exactly on a float rounding midpoint). On the
// device that is fma in double; on the host the exact double product plus c, the same value
// without a libm call per element (the host build, vectorized, never contracts it). The
// operands are widened and the sum narrowed from the bits (ag_common.cuh): the conversions
// (double)a and (float)d flush subnormals under -ftz=true.
AG_FN float fmadd(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
    return narrow(fma(widen(a), widen(b), widen(c)));
#else
    return narrow(widen(a) * widen(b) + widen(c));
#endif
}
AG_FN double fmadd(double a, double b, double c) { return rmul(a, b) + c; }

// torch.lerp with a number weight, as its vectorized CPU kernel: start + w (end - start)
// for |w| < 0.5, else end + (w - 1)(end - start), a fused multiply-add either way.
template <typename T>
AG_FN T lerp(T start, T end, T w) {
    T d = sub_keep(end, start);
    return lt_keep(fabs_keep(w), T(0.5)) ? fmadd(w, d, start) : fmadd(sub_keep(w, T(1)), d, end);
}

// SGD with momentum, dampening, nesterov, weight decay and maximize.
// On the first step with momentum the buffer starts as the gradient itself.
template <typename T>
AG_FN void sgd_step(T& p, T g, T& buf, T neg_lr, T momentum, T one_minus_dampening, T wd,
                    bool has_wd, bool has_momentum, bool nesterov, bool maximize, bool first_step) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = fmadd(p, wd, g);
    if (has_momentum) {
        buf = first_step ? g : fmadd(g, one_minus_dampening, rmul(buf, momentum));
        g = nesterov ? fmadd(buf, momentum, g) : buf;
    }
    p = fmadd(g, neg_lr, p);
}

// Adam and AdamW (decoupled weight decay: p *= 1 - lr wd first), with amsgrad.
// lerp_w = 1 - beta1, bc2_sqrt = sqrt(1 - beta2^step), neg_step_size = -lr / (1 - beta1^step).
template <typename T>
AG_FN void adam_step(T& p, T g, T& m, T& v, T& vmax, T decay, T wd, T lerp_w, T beta2,
                     T one_minus_beta2, T bc2_sqrt, T eps, T neg_step_size, bool has_wd,
                     bool decoupled, bool amsgrad, bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) {
        if (decoupled)
            p = mul_keep(p, decay);  // (double: the plain product, as before)
        else
            g = fmadd(p, wd, g);
    }
    m = lerp(m, g, lerp_w);
    v = fmadd(rmul(one_minus_beta2, g), g, rmul(v, beta2));
    T vv = v;
    if (amsgrad) {
        vmax = nan_max_keep(vmax, v);
        vv = vmax;
    }
    T denom = add_keep(div_keep(sqrt_keep(vv), bc2_sqrt), eps);
    p = add_keep(p, div_keep(rmul(neg_step_size, m), denom));
}

// RMSprop, optionally centered and with momentum.
template <typename T>
AG_FN void rmsprop_step(T& p, T g, T& sq, T& buf, T& gavg, T neg_lr, T alpha, T one_minus_alpha,
                        T eps, T wd, T momentum, bool has_wd, bool centered, bool has_momentum,
                        bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = fmadd(p, wd, g);
    sq = fmadd(rmul(one_minus_alpha, g), g, rmul(sq, alpha));
    T avg;
    if (centered) {
        gavg = lerp(gavg, g, one_minus_alpha);
        avg = sqrt_keep(fmadd(neg_keep(gavg), gavg, sq));
    } else {
        avg = sqrt_keep(sq);
    }
    avg = add_keep(avg, eps);
    if (has_momentum) {
        buf = add_keep(rmul(buf, momentum), div_keep(g, avg));
        p = fmadd(buf, neg_lr, p);
    } else {
        p = add_keep(p, div_keep(rmul(neg_lr, g), avg));
    }
}

// Adagrad; neg_clr = -lr / (1 + (step - 1) lr_decay).
template <typename T>
AG_FN void adagrad_step(T& p, T g, T& sum, T neg_clr, T eps, T wd, bool has_wd, bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = fmadd(p, wd, g);
    sum = fmadd(g, g, sum);
    T std = add_keep(sqrt_keep(sum), eps);
    p = add_keep(p, div_keep(rmul(neg_clr, g), std));
}

// Adadelta.
template <typename T>
AG_FN void adadelta_step(T& p, T g, T& sq, T& acc, T neg_lr, T rho, T one_minus_rho, T eps, T wd,
                         bool has_wd, bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = fmadd(p, wd, g);
    sq = fmadd(rmul(one_minus_rho, g), g, rmul(sq, rho));
    T std = sqrt_keep(add_keep(sq, eps));
    T delta = rmul(div_keep(sqrt_keep(add_keep(acc, eps)), std), g);
    acc = fmadd(rmul(one_minus_rho, delta), delta, rmul(acc, rho));
    p = fmadd(delta, neg_lr, p);
}

}  // namespace ag

#endif  // AG_OPTIM_CUH
