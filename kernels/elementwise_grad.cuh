// Backward of the elementwise ops, one output element per call.
//
// Each function mirrors, operation for operation, the NumPy formula in
// autograd_gpu/ops/elementwise.py (and PyTorch's derivative formulas), so that on the same
// inputs the two agree to the last bit where no transcendental function is involved.
// Arguments: `g` is the incoming gradient; `x` the op's input, `y` its saved output.
// Conventions at kinks (PyTorch's): relu'(0) = 0, abs'(0) = 0, clamp passes the
// gradient where lo <= x <= hi.
#pragma once
#ifndef AG_ELEMENTWISE_GRAD_CUH
#define AG_ELEMENTWISE_GRAD_CUH
#include "ag_common.cuh"

namespace ag {

// Constants written out so that host C++, NVRTC and the Python side use the same bits.
#define AG_SQRT1_2 0.7071067811865476        // 1/sqrt(2)
#define AG_INV_SQRT_2PI 0.3989422804014327   // 1/sqrt(2 pi)
#define AG_SQRT_2_OVER_PI 0.7978845608028654 // sqrt(2/pi)
#define AG_GELU_KAPPA 0.044715
#define AG_GELU_3KAPPA 0.134145              // 3 * 0.044715, folded in double

// Every float operation below goes through the helpers of ag_common.cuh that keep
// subnormals (CuPy compiles with -ftz=true): each + - * / is the IEEE float operation, each
// exp/log/tanh/erf/pow the double function rounded to float, so inputs, intermediates and
// results that are subnormal keep their values, as in the NumPy formulas and PyTorch's CUDA
// kernels, which do not flush; where a float intermediate overflows, it overflows here too.
// For double T the helpers are the plain operations.

// The masks and selections below are written as the NumPy formulas compute them, one
// multiply by the selected factor (g * mask) or both sides then a select (np.where): the same
// bits and the same floating-point exceptions, and no branch, so a host loop vectorizes.

// g times the 0/1 mask, as the NumPy path computes it (a multiply is many times faster
// than np.where there): g * 1, which is g, where the mask is 1, g * 0 where it is 0, so
// an inf or NaN gradient at an inactive unit gives NaN. The saved y = max(x, 0) is 0,
// positive or NaN: y != 0 passes the gradient where x is NaN too, as PyTorch's
// threshold_backward does (NaN <= 0 is false).
template <typename T>
AG_FN T relu_grad(T y, T g) {
    return mul_keep(g, one_if<T>(nonzero(y)));
}

template <typename T>
AG_FN T leaky_relu_grad(T x, T g, T slope) {
    return pick(gt_zero(x), g, mul_keep(g, slope));
}

template <typename T>
AG_FN T sigmoid_grad(T y, T g) {
    return mul_keep(mul_keep(g, T(1) - y), y);
}

template <typename T>
AG_FN T tanh_grad(T y, T g) {
    // (apart, not one fused multiply-add as NVRTC would contract 1 - y * y: NumPy's rounding)
    return mul_keep(g, sub_keep(T(1), mul_keep(y, y)));
}

// d/dx x Phi(x) = Phi(x) + x phi(x)
template <typename T>
AG_FN T gelu_grad(T x, T g) {
    T cdf = mul_keep(T(0.5), add_keep(T(1), erf_keep(mul_keep(x, T(AG_SQRT1_2)))));
    T pdf = mul_keep(exp_keep(mul_keep(mul_keep(x, x), T(-0.5))), T(AG_INV_SQRT_2PI));
    return mul_keep(g, add_keep(cdf, mul_keep(x, pdf)));
}

// The tanh approximation 0.5 x (1 + tanh(k (x + kappa x^3))), as PyTorch differentiates it.
template <typename T>
AG_FN T gelu_tanh_grad(T x, T g) {
    T x_sq = mul_keep(x, x);
    T x_cube = mul_keep(x_sq, x);
    T inner = mul_keep(T(AG_SQRT_2_OVER_PI), add_keep(x, mul_keep(T(AG_GELU_KAPPA), x_cube)));
    T t = tanh_keep(inner);
    T left = mul_keep(T(0.5), x);
    T right = add_keep(T(1), t);
    T left_d = mul_keep(T(0.5), right);
    T right_d = sub_keep(T(1), mul_keep(t, t));
    T inner_d = mul_keep(T(AG_SQRT_2_OVER_PI), add_keep(T(1), mul_keep(T(AG_GELU_3KAPPA), x_sq)));
    return mul_keep(g, add_keep(left_d, mul_keep(mul_keep(left, right_d), inner_d)));
}

// d/dx x s(x) = s (1 + x (1 - s))
template <typename T>
AG_FN T silu_grad(T x, T g) {
    T s = sigmoid(x);
    return mul_keep(mul_keep(g, s), add_keep(T(1), mul_keep(x, sub_keep(T(1), s))));
}

// softplus(x) = log(1 + exp(beta x)) / beta, linear where beta x > threshold.
template <typename T>
AG_FN T softplus_grad(T x, T g, T beta, T threshold) {
    T bx = mul_keep(x, beta);
    return gt_keep(bx, threshold) ? g : mul_keep(g, sigmoid(bx));
}

template <typename T>
AG_FN T elu_grad(T x, T g, T alpha) {
    return le_zero(x) ? mul_keep(mul_keep(g, alpha), exp_keep(x)) : g;  // (NaN passes g, as PyTorch)
}

template <typename T>
AG_FN T exp_grad(T y, T g) {
    return mul_keep(g, y);
}

template <typename T>
AG_FN T log_grad(T x, T g) {
    return div_keep(g, x);
}

template <typename T>
AG_FN T sqrt_grad(T y, T g) {
    return div_keep(g, mul_keep(T(2), y));
}

// g * sgn(x): g * 1, g * -1, or g * 0 where x is 0 or NaN (PyTorch's sgn(NaN) is 0)
template <typename T>
AG_FN T abs_grad(T x, T g) {
    return mul_keep(g, sub_keep(one_if<T>(gt_zero(x)), one_if<T>(lt_zero(x))));  // (1 - 0, 0 - 1, 0 - 0: exact)
}

// has_lo / has_hi: clamp(x, min=None) and clamp(x, max=None) have one bound only.
template <typename T>
AG_FN T clamp_grad(T x, T g, T lo, T hi, bool has_lo, bool has_hi) {
    bool pass = (!has_lo || ge_keep(x, lo)) && (!has_hi || le_keep(x, hi));
    return mul_keep(g, one_if<T>(pass));  // a mask multiply, as relu_grad
}

// d/da a^b = b a^(b-1), taken as 0 where b == 0 (PyTorch's pow_backward).
template <typename T>
AG_FN T pow_base_grad(T a, T b, T g) {
    return !nonzero(b) ? T(0) : mul_keep(g, mul_keep(b, pow_keep(a, sub_keep(b, T(1)))));
}

// d/db a^b = a^b log(a), taken as 0 where a == 0 and b >= 0; y = a^b (the saved output).
template <typename T>
AG_FN T pow_exponent_grad(T a, T b, T y, T g) {
    return (!nonzero(a) && ge_keep(b, T(0))) ? T(0) : mul_keep(g, mul_keep(y, log_keep(a)));
}

// Joint backward of a * b: both input gradients in one pass.
template <typename T>
AG_FN void mul_grad(T a, T b, T g, T& ga, T& gb) {
    ga = mul_keep(g, b);
    gb = mul_keep(g, a);
}

// Joint backward of a / b: d/da = g / b, d/db = -g (a / b) / b (no b*b, which overflows).
template <typename T>
AG_FN void div_grad(T a, T b, T g, T& ga, T& gb) {
    ga = div_keep(g, b);
    gb = mul_keep(neg_keep(g), div_keep(div_keep(a, b), b));
}

}  // namespace ag

#endif  // AG_ELEMENTWISE_GRAD_CUH
