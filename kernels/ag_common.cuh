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
// Plain host C++: the CUDA qualifiers mean nothing.
#define __host__
#define __device__
#define __forceinline__ inline
#endif

#if !defined(__CUDACC_RTC__)
#include <math.h>
#endif

#define AG_FN __host__ __device__ __forceinline__

namespace ag {

// Math with explicit float/double overloads: one spelling for NVRTC, nvcc and host C++.
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

// The logistic function, 1 / (1 + exp(-x)): for very negative x, exp(-x) overflows to inf
// and the result is exactly the limit 0. Same operations, in the same order, as the NumPy
// path (ops/elementwise.py `_sigmoid`), so the two agree bit for bit.
template <typename T>
AG_FN T sigmoid(T x) {
    T t = xexp(-x);
    return T(1) / (t + T(1));
}

}  // namespace ag

#endif  // AG_AG_COMMON_CUH
