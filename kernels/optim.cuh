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
// float: the IEEE float result, subnormals included; fmadd below in the same way) and
// comparisons and negations on exact values or bits. The arithmetic stays float arithmetic,
// operation for operation: computing the whole update in double would round differently
// from the NumPy float32 formulas (and torch.optim's float kernels), which the host build
// must match bit for bit (tests/test_host_optim.py); these helpers give exactly the float
// results wherever float arithmetic does not flush, and the IEEE ones where it would. For
// double T they are the plain operations, so float64 updates are unchanged.
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

// c + a * b as PyTorch's vectorized CPU kernels compute add(alpha=), addcmul and lerp on
// AVX2/AVX-512 machines: a fused multiply-add, rounded once.
// float: the correctly rounded value, computed exactly in double. The product of two floats
// is exact in double; their sum s = p + c rounds, and its error e = p + c - s is exact
// (TwoSum). Rounding s to float would round the sum twice, wrong where s lands exactly on
// a float rounding midpoint that the exact sum is not on. So the sum is rounded to odd
// instead: s where it is exact or its last bit is 1, else its neighbour towards e (whose
// last bit is 1); which is s rounded towards zero, with the last bit set when inexact. A
// value rounded to odd with 53 >= 24 + 2 bits rounds to the correctly rounded float
// (Boldo and Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms
// using rounding to odd", 2008), subnormal results included (narrow). Bit operations, no
// branch: a warp does not diverge on it and a host loop vectorizes. An infinite or NaN sum
// (from an infinite or NaN operand) has a NaN e and stays as it is.
// The operands are widened and the sum narrowed from the bits (ag_common.cuh): the
// conversions (double)a and (float)d flush subnormals under -ftz=true.
AG_FN float fmadd(float a, float b, float c) {
    double p = rmul(widen(a), widen(b));  // exact
    double d = widen(c);
    double s = p + d;
    double bb = s - p;
    double e = (p - (s - bb)) + (d - bb);
    long long u = f64_bits(s), ue = f64_bits(e);
    // 1 where 0 < |e| < inf, from |e|'s bits m by two top bits (m >= 1, m < inf's bits): no
    // 64-bit compare, which SSE2 lacks (the baseline host loops would not vectorize)
    unsigned long long m = (unsigned long long)ue & 0x7fffffffffffffffull;
    long long inexact =
        (long long)(((m + 0x7fffffffffffffffull) & (m - 0x7ff0000000000000ull)) >> 63);
    // 1 where e points from s towards 0 (opposite signs): s is one ulp too far out
    long long beyond = inexact & (long long)((unsigned long long)(u ^ ue) >> 63);
    return narrow(f64_of_bits((u - beyond) | inexact));
}
// double: the product and the sum rounded apart (the NumPy float64 formulas have no wider
// type to fuse in; within an ulp of PyTorch's, whose double kernels fuse them too)
AG_FN double fmadd(double a, double b, double c) { return rmul(a, b) + c; }

// The multiply-add the steps below use, given as their last template argument: Fmadd, the
// functions above, in every build; the host build's AVX2 copy gives one that takes the FMA
// instruction for float (kernels/host_optim.cpp), the same bits in one instruction.
struct Fmadd {
    AG_FN static float fmadd(float a, float b, float c) { return ag::fmadd(a, b, c); }
    AG_FN static double fmadd(double a, double b, double c) { return ag::fmadd(a, b, c); }
};

// torch.lerp with a number weight, as its vectorized CPU kernel: start + w (end - start)
// for |w| < 0.5, else end + (w - 1)(end - start), a fused multiply-add either way: one, of
// operands computed on both paths and selected. (The compiler does not compute a float
// operation, which may trap, on a path that did not: a branch would stay in a host loop and
// keep it from vectorizing.)
template <typename T, typename Fma = Fmadd>
AG_FN T lerp(T start, T end, T w) {
    T d = sub_keep(end, start), w_minus_1 = sub_keep(w, T(1));
    bool near_start = lt_keep(fabs_keep(w), T(0.5));
    return Fma::fmadd(near_start ? w : w_minus_1, d, near_start ? start : end);
}

// SGD with momentum, dampening, nesterov, weight decay and maximize.
// On the first step with momentum the buffer starts as the gradient itself.
template <typename T, typename Fma = Fmadd>
AG_FN void sgd_step(T& p, T g, T& buf, T neg_lr, T momentum, T one_minus_dampening, T wd,
                    bool has_wd, bool has_momentum, bool nesterov, bool maximize, bool first_step) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = Fma::fmadd(p, wd, g);
    if (has_momentum) {
        buf = first_step ? g : Fma::fmadd(g, one_minus_dampening, rmul(buf, momentum));
        g = nesterov ? Fma::fmadd(buf, momentum, g) : buf;
    }
    p = Fma::fmadd(g, neg_lr, p);
}

// Adam and AdamW (decoupled weight decay: p *= 1 - lr wd first), with amsgrad.
// lerp_w = 1 - beta1, bc2_sqrt = sqrt(1 - beta2^step), neg_step_size = -lr / (1 - beta1^step).
template <typename T, typename Fma = Fmadd>
AG_FN void adam_step(T& p, T g, T& m, T& v, T& vmax, T decay, T wd, T lerp_w, T beta2,
                     T one_minus_beta2, T bc2_sqrt, T eps, T neg_step_size, bool has_wd,
                     bool decoupled, bool amsgrad, bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) {
        if (decoupled)
            p = mul_keep(p, decay);  // (double: the plain product, as before)
        else
            g = Fma::fmadd(p, wd, g);
    }
    m = lerp<T, Fma>(m, g, lerp_w);
    v = Fma::fmadd(rmul(one_minus_beta2, g), g, rmul(v, beta2));
    T vv = v;
    if (amsgrad) {
        vmax = nan_max_keep(vmax, v);
        vv = vmax;
    }
    T denom = add_keep(div_keep(sqrt_keep(vv), bc2_sqrt), eps);
    p = add_keep(p, div_keep(rmul(neg_step_size, m), denom));
}

// RMSprop, optionally centered and with momentum.
template <typename T, typename Fma = Fmadd>
AG_FN void rmsprop_step(T& p, T g, T& sq, T& buf, T& gavg, T neg_lr, T alpha, T one_minus_alpha,
                        T eps, T wd, T momentum, bool has_wd, bool centered, bool has_momentum,
                        bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = Fma::fmadd(p, wd, g);
    sq = Fma::fmadd(rmul(one_minus_alpha, g), g, rmul(sq, alpha));
    T avg;
    if (centered) {
        gavg = lerp<T, Fma>(gavg, g, one_minus_alpha);
        avg = sqrt_keep(Fma::fmadd(neg_keep(gavg), gavg, sq));
    } else {
        avg = sqrt_keep(sq);
    }
    avg = add_keep(avg, eps);
    if (has_momentum) {
        buf = add_keep(rmul(buf, momentum), div_keep(g, avg));
        p = Fma::fmadd(buf, neg_lr, p);
    } else {
        p = add_keep(p, div_keep(rmul(neg_lr, g), avg));
    }
}

// Adagrad; neg_clr = -lr / (1 + (step - 1) lr_decay).
template <typename T, typename Fma = Fmadd>
AG_FN void adagrad_step(T& p, T g, T& sum, T neg_clr, T eps, T wd, bool has_wd, bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = Fma::fmadd(p, wd, g);
    sum = Fma::fmadd(g, g, sum);
    T std = add_keep(sqrt_keep(sum), eps);
    p = add_keep(p, div_keep(rmul(neg_clr, g), std));
}

// Adadelta.
template <typename T, typename Fma = Fmadd>
AG_FN void adadelta_step(T& p, T g, T& sq, T& acc, T neg_lr, T rho, T one_minus_rho, T eps, T wd,
                         bool has_wd, bool maximize) {
    if (maximize) g = neg_keep(g);
    if (has_wd) g = Fma::fmadd(p, wd, g);
    sq = Fma::fmadd(rmul(one_minus_rho, g), g, rmul(sq, rho));
    T std = sqrt_keep(add_keep(sq, eps));
    T delta = rmul(div_keep(sqrt_keep(add_keep(acc, eps)), std), g);
    acc = Fma::fmadd(rmul(one_minus_rho, delta), delta, rmul(acc, rho));
    p = Fma::fmadd(delta, neg_lr, p);
}

}  // namespace ag

#endif  // AG_OPTIM_CUH
