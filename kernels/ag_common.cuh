// Shared definitions for the per-element kernels.
//
// Every function in kernels/*.cuh is a `template <typename T> __host__ __device__` function
// of plain values, so the same source compiles three ways:
//   * by NVRTC, inside CuPy ElementwiseKernels (the library's runtime path on a GPU);
//   * by nvcc as device code (the sm_80 / sm_90 compile checks in the test suite);
//   * by a host C++ compiler (the tests run the math on the CPU and compare it with NumPy).
// T is the compute type: float for float16 and float32 data, double for float64 data.
#pragma once
#ifndef AG_AG_COMMON_CUH
#define AG_AG_COMMON_CUH

#if !defined(__CUDACC__)
// Plain host C++: the CUDA qualifiers mean nothing, and __forceinline__ is CUDA's (every
// call inlined: a host loop over an optimizer step then vectorizes as one body).
#define __host__
#define __device__
#define __forceinline__ inline __attribute__((always_inline))
#endif

#if !defined(__CUDACC_RTC__)
#include <math.h>
#endif

#define AG_FN __host__ __device__ __forceinline__

namespace ag {

// Math with explicit float/double overloads: one spelling for NVRTC, nvcc and host C++.
// (Under -ftz=true the float ones flush subnormal arguments and results: the kernels call
// the *_keep versions below instead.)
AG_FN float xexp(float x) { return expf(x); }
AG_FN double xexp(double x) { return exp(x); }
AG_FN float xlog(float x) { return logf(x); }
AG_FN double xlog(double x) { return log(x); }
AG_FN float xsqrt(float x) { return sqrtf(x); }
AG_FN double xsqrt(double x) { return sqrt(x); }
AG_FN float xtanh(float x) { return tanhf(x); }
AG_FN double xtanh(double x) { return tanh(x); }
AG_FN float xerf(float x) { return erff(x); }
AG_FN double xerf(double x) { return erf(x); }
AG_FN float xlog1p(float x) { return log1pf(x); }
AG_FN double xlog1p(double x) { return log1p(x); }
AG_FN float xpow(float x, float y) { return powf(x, y); }
AG_FN double xpow(double x, double y) { return pow(x, y); }
AG_FN float xfabs(float x) { return fabsf(x); }
AG_FN double xfabs(double x) { return fabs(x); }

// max(a, b) that propagates NaN from either side, as NumPy's maximum and torch.maximum do.
template <typename T>
AG_FN T nan_max(T a, T b) {
    return (a != a) ? a : ((b != b) ? b : (a > b ? a : b));
}

// sign(x) as PyTorch's sgn: -1, 0 or 1, and 0 for NaN (NumPy's sign gives NaN there).
template <typename T>
AG_FN T sgn(T x) {
    return x > T(0) ? T(1) : (x < T(0) ? T(-1) : T(0));
}

// ---------------------------------------------------------------- subnormals kept
// CuPy compiles every kernel with -ftz=true: float arithmetic and comparisons then treat a
// subnormal operand as zero and flush a subnormal result, which PyTorch's CUDA kernels and
// NumPy do not. The helpers below give IEEE float results without relying on the float
// unit for subnormals: a float is widened to double exactly from its bits (ftz touches
// float operations only, and a float's subnormals are normal doubles), one operation is
// done in double, and the double is rounded to float from its bits (one rounding of an
// exact or once-rounded double: the correctly rounded float result for + - * /). Signs,
// zeros and NaNs are tested on the bits. For double T they are the plain operations.

AG_FN unsigned int f32_bits(float x) {
#if defined(__CUDA_ARCH__)
    return __float_as_uint(x);
#else
    unsigned int u;
    __builtin_memcpy(&u, &x, sizeof u);
    return u;
#endif
}
AG_FN float f32_of_bits(unsigned int u) {
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float x;
    __builtin_memcpy(&x, &u, sizeof x);
    return x;
#endif
}
AG_FN long long f64_bits(double d) {
#if defined(__CUDA_ARCH__)
    return __double_as_longlong(d);
#else
    long long u;
    __builtin_memcpy(&u, &d, sizeof u);
    return u;
#endif
}
AG_FN double f64_of_bits(long long u) {
#if defined(__CUDA_ARCH__)
    return __longlong_as_double(u);
#else
    double d;
    __builtin_memcpy(&d, &u, sizeof d);
    return d;
#endif
}

// AG_FLOAT_IEEE, defined by a build whose float arithmetic keeps subnormals (no
// flush-to-zero mode): the float helpers below are then the plain float operations, which
// give the same bits and vectorize (the double round trip makes the host optimizer loops
// about ten times slower). kernels/host_optim.cpp defines it: the host build of the
// optimizer updates runs in the process's floating-point environment, the one the NumPy
// formulas it must match bit for bit run in. Every other build takes the helpers as
// written: NVRTC (-ftz=true), nvcc, the CuPy stand-in of the tests (which sets FTZ and DAZ)
// and the host harness of tests/kernels_host.

#if defined(AG_FLOAT_IEEE)
AG_FN double widen(float x) { return (double)x; }
AG_FN float narrow(double d) { return (float)d; }
AG_FN float mul_keep(float a, float b) { return a * b; }
AG_FN float div_keep(float a, float b) { return a / b; }
AG_FN float add_keep(float a, float b) { return a + b; }
AG_FN float sub_keep(float a, float b) { return a - b; }
AG_FN float sqrt_keep(float x) { return sqrtf(x); }
#else
// Both sides are computed and one is selected (no branch: a GPU warp does not diverge on a
// subnormal, and a host loop can still vectorize).
AG_FN double widen(float x) {
    unsigned int u = f32_bits(x);
    // zero or subnormal: mantissa * 2^-149, exactly (the conversion (double)x would flush it)
    double m = (double)(int)(u & 0x007fffffu) * 1.4012984643248171e-45;
    double small = (u >> 31) ? -m : m;
    return (u & 0x7f800000u) == 0u ? small : (double)x;
}

AG_FN float narrow(double d) {
    long long sign = f64_bits(d) & (long long)0x8000000000000000ull;
    double a = fabs(d);
    // below float's smallest normal the bits are built: a * 2^149 is exact, and adding
    // 1.5 * 2^52 rounds it to the nearest integer, ties to even, in the low bits of the sum:
    // the subnormal's mantissa (2^23 rounds up into the smallest normal's encoding). No libm
    // call (rint), so the host loops still vectorize.
    unsigned int m = (unsigned int)f64_bits(a * 7.1362384635297994e+44 + 6755399441055744.0);
    float small = f32_of_bits(m | (sign ? 0x80000000u : 0u));
    return a < 1.1754943508222875e-38 ? small : (float)d;
}

// One float operation with IEEE subnormals: the exact operands in double, the operation in
// double, one rounding to float. For + - * / and sqrt the double result is exact or rounded
// once with 53 >= 2 * 24 + 2 bits, so rounding it again to float gives the correctly
// rounded float result (double rounding is innocuous at that precision): the bits IEEE
// float arithmetic (NumPy, PyTorch's CUDA kernels) gives, subnormals included.
AG_FN float mul_keep(float a, float b) { return narrow(widen(a) * widen(b)); }
AG_FN float div_keep(float a, float b) { return narrow(widen(a) / widen(b)); }
AG_FN float add_keep(float a, float b) { return narrow(widen(a) + widen(b)); }
AG_FN float sub_keep(float a, float b) { return narrow(widen(a) - widen(b)); }
AG_FN float sqrt_keep(float x) { return narrow(sqrt(widen(x))); }
#endif  // AG_FLOAT_IEEE
AG_FN double mul_keep(double a, double b) { return a * b; }
AG_FN double div_keep(double a, double b) { return a / b; }
AG_FN double add_keep(double a, double b) { return a + b; }
AG_FN double sub_keep(double a, double b) { return a - b; }
AG_FN double sqrt_keep(double x) { return sqrt(x); }
AG_FN float neg_keep(float x) { return f32_of_bits(f32_bits(x) ^ 0x80000000u); }
AG_FN double neg_keep(double x) { return -x; }
AG_FN float fabs_keep(float x) { return f32_of_bits(f32_bits(x) & 0x7fffffffu); }
AG_FN double fabs_keep(double x) { return fabs(x); }

// exp, log, log1p, tanh, erf and pow of floats: the double function of the exact double
// operands, rounded once to float. The float functions (expf, ...) under -ftz=true take a
// subnormal argument as 0 and flush a subnormal result; double's range holds every float
// subnormal, so nothing flushes here, and a double libm value (within an ulp or two of
// double) rounds to the correctly rounded float value but in rare near-ties, never
// further off than the float functions. Overflow and the special values are the float
// functions': a result beyond float's range rounds to inf, NaN stays NaN.
AG_FN float exp_keep(float x) { return narrow(exp(widen(x))); }
AG_FN double exp_keep(double x) { return exp(x); }
AG_FN float log_keep(float x) { return narrow(log(widen(x))); }
AG_FN double log_keep(double x) { return log(x); }
AG_FN float log1p_keep(float x) { return narrow(log1p(widen(x))); }
AG_FN double log1p_keep(double x) { return log1p(x); }
AG_FN float tanh_keep(float x) { return narrow(tanh(widen(x))); }
AG_FN double tanh_keep(double x) { return tanh(x); }
AG_FN float erf_keep(float x) { return narrow(erf(widen(x))); }
AG_FN double erf_keep(double x) { return erf(x); }
AG_FN float pow_keep(float x, float y) { return narrow(pow(widen(x), widen(y))); }
AG_FN double pow_keep(double x, double y) { return pow(x, y); }

// x > 0, x < 0, x != 0 and x <= 0 as IEEE compares them (NaN: false, false, true, false)
AG_FN bool gt_zero(float x) {
    unsigned int u = f32_bits(x);
    return !(u >> 31) && u != 0u && u <= 0x7f800000u;
}
AG_FN bool gt_zero(double x) { return x > 0.0; }
AG_FN bool lt_zero(float x) {
    unsigned int u = f32_bits(x);
    return (u >> 31) && (u & 0x7fffffffu) != 0u && (u & 0x7fffffffu) <= 0x7f800000u;
}
AG_FN bool lt_zero(double x) { return x < 0.0; }
AG_FN bool nonzero(float x) { return (f32_bits(x) & 0x7fffffffu) != 0u; }
AG_FN bool nonzero(double x) { return x != 0.0; }
AG_FN bool le_zero(float x) { return !gt_zero(x) && (f32_bits(x) & 0x7fffffffu) <= 0x7f800000u; }
AG_FN bool le_zero(double x) { return x <= 0.0; }
// a >= b, a <= b, a > b and a < b for any floats, compared exactly in double
AG_FN bool ge_keep(float a, float b) { return widen(a) >= widen(b); }
AG_FN bool ge_keep(double a, double b) { return a >= b; }
AG_FN bool le_keep(float a, float b) { return widen(a) <= widen(b); }
AG_FN bool le_keep(double a, double b) { return a <= b; }
AG_FN bool gt_keep(float a, float b) { return widen(a) > widen(b); }
AG_FN bool gt_keep(double a, double b) { return a > b; }
AG_FN bool lt_keep(float a, float b) { return widen(a) < widen(b); }
AG_FN bool lt_keep(double a, double b) { return a < b; }

// c ? a : b, and c ? 1 : 0, for the masks and selections of the backward formulas. On the
// host (AG_FLOAT_IEEE) a select of the values' bits: GCC keeps a float select or a bool's
// conversion as a branch or a slow conversion, where an integer select vectorizes to a
// compare and a mask (relu's backward: 1.7 ns an element as a conversion, 0.6 as bits).
#if defined(AG_FLOAT_IEEE)
AG_FN float pick(bool c, float a, float b) {
    unsigned int m = 0u - (unsigned int)c;  // (all ones where c: a mask, no branch)
    return f32_of_bits((f32_bits(a) & m) | (f32_bits(b) & ~m));
}
AG_FN double pick(bool c, double a, double b) {
    long long m = -(long long)c;
    return f64_of_bits((f64_bits(a) & m) | (f64_bits(b) & ~m));
}
#else
AG_FN float pick(bool c, float a, float b) { return c ? a : b; }
AG_FN double pick(bool c, double a, double b) { return c ? a : b; }
#endif
template <typename T>
AG_FN T one_if(bool c) {
    return pick(c, T(1), T(0));
}

// max(a, b) that propagates NaN from either side, compared with the subnormals kept.
template <typename T>
AG_FN T nan_max_keep(T a, T b) {
    return (a != a) ? a : ((b != b) ? b : (gt_keep(a, b) ? a : b));
}

// The logistic function, 1 / (1 + exp(-x)): for very negative x, exp(-x) overflows to inf
// and the result is exactly the limit 0. Same operations, in the same order, as the NumPy
// path (ops/elementwise.py `_sigmoid`), so the two agree but for exp's last bit; subnormal
// inputs and results (x between about -87.3 and -103.3 in float) are kept.
template <typename T>
AG_FN T sigmoid(T x) {
    T t = exp_keep(neg_keep(x));
    return div_keep(T(1), add_keep(t, T(1)));
}

}  // namespace ag

#endif  // AG_AG_COMMON_CUH
