// Host build of kernels/*.cuh for the CPU tests: the very per-element functions the GPU
// runs, called in plain loops over contiguous arrays and loaded from Python with ctypes.
// Built with -ffp-contract=off so that a * b + c is not fused into one rounding, as NumPy
// does not fuse it either (on a GPU, nvcc and NVRTC do contract by default).
#include "elementwise_grad.cuh"
#include "loss_grad.cuh"
#include "optim.cuh"

typedef long long i64;

#define H_UNARY(NAME, T, SUF)                                                         \
    extern "C" void NAME##_##SUF(const T* v, const T* g, T* out, i64 n) {             \
        for (i64 i = 0; i < n; ++i) out[i] = ag::NAME<T>(v[i], g[i]);                 \
    }

#define H_ALL(T, SUF)                                                                  \
    H_UNARY(relu_grad, T, SUF)                                                         \
    H_UNARY(sigmoid_grad, T, SUF)                                                      \
    H_UNARY(tanh_grad, T, SUF)                                                         \
    H_UNARY(gelu_grad, T, SUF)                                                         \
    H_UNARY(gelu_tanh_grad, T, SUF)                                                    \
    H_UNARY(silu_grad, T, SUF)                                                         \
    H_UNARY(exp_grad, T, SUF)                                                          \
    H_UNARY(log_grad, T, SUF)                                                          \
    H_UNARY(sqrt_grad, T, SUF)                                                         \
    H_UNARY(abs_grad, T, SUF)                                                          \
    extern "C" void leaky_relu_grad_##SUF(const T* x, const T* g, T* out, i64 n, double s) { \
        for (i64 i = 0; i < n; ++i) out[i] = ag::leaky_relu_grad<T>(x[i], g[i], (T)s);  \
    }                                                                                  \
    extern "C" void elu_grad_##SUF(const T* x, const T* g, T* out, i64 n, double a) {  \
        for (i64 i = 0; i < n; ++i) out[i] = ag::elu_grad<T>(x[i], g[i], (T)a);          \
    }                                                                                  \
    extern "C" void softplus_grad_##SUF(const T* x, const T* g, T* out, i64 n, double beta, \
                                        double th) {                                   \
        for (i64 i = 0; i < n; ++i) out[i] = ag::softplus_grad<T>(x[i], g[i], (T)beta, (T)th); \
    }                                                                                  \
    extern "C" void clamp_grad_##SUF(const T* x, const T* g, T* out, i64 n, double lo, \
                                     double hi, int has_lo, int has_hi) {              \
        for (i64 i = 0; i < n; ++i)                                                    \
            out[i] = ag::clamp_grad<T>(x[i], g[i], (T)lo, (T)hi, has_lo, has_hi);      \
    }                                                                                  \
    extern "C" void pow_base_grad_##SUF(const T* a, const T* g, T* out, i64 n, double b) { \
        for (i64 i = 0; i < n; ++i) out[i] = ag::pow_base_grad<T>(a[i], (T)b, g[i]);    \
    }                                                                                  \
    extern "C" void pow_grad_##SUF(const T* a, const T* b, const T* y, const T* g, T* ga, \
                                   T* gb, i64 n) {                                     \
        for (i64 i = 0; i < n; ++i) {                                                  \
            ga[i] = ag::pow_base_grad<T>(a[i], b[i], g[i]);                            \
            gb[i] = ag::pow_exponent_grad<T>(a[i], b[i], y[i], g[i]);                  \
        }                                                                              \
    }                                                                                  \
    extern "C" void mul_grad_##SUF(const T* a, const T* b, const T* g, T* ga, T* gb, i64 n) { \
        for (i64 i = 0; i < n; ++i) ag::mul_grad<T>(a[i], b[i], g[i], ga[i], gb[i]);    \
    }                                                                                  \
    extern "C" void div_grad_##SUF(const T* a, const T* b, const T* g, T* ga, T* gb, i64 n) { \
        for (i64 i = 0; i < n; ++i) ag::div_grad<T>(a[i], b[i], g[i], ga[i], gb[i]);    \
    }                                                                                  \
    extern "C" void mse_grad_##SUF(const T* x, const T* t, const T* g, T* gx, T* gt, i64 n, \
                                   double norm) {                                      \
        for (i64 i = 0; i < n; ++i) ag::mse_grad<T>(x[i], t[i], (T)norm, g[i], gx[i], gt[i]); \
    }                                                                                  \
    extern "C" void bce_logits_grad_##SUF(const T* x, const T* t, const T* w, const T* pw, \
                                          const T* g, T* gx, T* gt, i64 n, int has_pw) { \
        for (i64 i = 0; i < n; ++i)                                                    \
            ag::bce_logits_grad<T>(x[i], t[i], w[i], pw[i], has_pw, g[i], gx[i], gt[i]); \
    }                                                                                  \
    extern "C" void cross_entropy_grad_##SUF(const T* lp, const i64* tgt, const T* sA, \
                                             const T* b, const T* c, const T* wc, T* out, \
                                             i64 rows, i64 C) {                        \
        for (i64 r = 0; r < rows; ++r)                                                 \
            for (i64 k = 0; k < C; ++k)                                                \
                out[r * C + k] = ag::cross_entropy_grad<T>(lp[r * C + k], k == tgt[r], sA[r], \
                                                           b[r], c[r], wc[k]);         \
    }                                                                                  \
    /* optimizers: s = scalars (as the Python entry points compute them), f = flags */ \
    extern "C" void sgd_##SUF(T* p, const T* g, T* buf, i64 n, const double* s, const int* f) { \
        for (i64 i = 0; i < n; ++i)                                                    \
            ag::sgd_step<T>(p[i], g[i], buf[i], (T)s[0], (T)s[1], (T)s[2], (T)s[3], f[0], f[1], \
                            f[2], f[3], f[4]);                                         \
    }                                                                                  \
    extern "C" void adam_##SUF(T* p, const T* g, T* m, T* v, T* vmax, i64 n, const double* s, \
                               const int* f) {                                         \
        for (i64 i = 0; i < n; ++i)                                                    \
            ag::adam_step<T>(p[i], g[i], m[i], v[i], vmax[i], (T)s[0], (T)s[1], (T)s[2], \
                             (T)s[3], (T)s[4], (T)s[5], (T)s[6], (T)s[7], f[0], f[1], f[2], \
                             f[3]);                                                    \
    }                                                                                  \
    extern "C" void rmsprop_##SUF(T* p, const T* g, T* sq, T* buf, T* gavg, i64 n,     \
                                  const double* s, const int* f) {                     \
        for (i64 i = 0; i < n; ++i)                                                    \
            ag::rmsprop_step<T>(p[i], g[i], sq[i], buf[i], gavg[i], (T)s[0], (T)s[1], (T)s[2], \
                                (T)s[3], (T)s[4], (T)s[5], f[0], f[1], f[2], f[3]);    \
    }                                                                                  \
    extern "C" void adagrad_##SUF(T* p, const T* g, T* sum, i64 n, const double* s,    \
                                  const int* f) {                                      \
        for (i64 i = 0; i < n; ++i)                                                    \
            ag::adagrad_step<T>(p[i], g[i], sum[i], (T)s[0], (T)s[1], (T)s[2], f[0], f[1]); \
    }                                                                                  \
    extern "C" void adadelta_##SUF(T* p, const T* g, T* sq, T* acc, i64 n, const double* s, \
                                   const int* f) {                                     \
        for (i64 i = 0; i < n; ++i)                                                    \
            ag::adadelta_step<T>(p[i], g[i], sq[i], acc[i], (T)s[0], (T)s[1], (T)s[2], (T)s[3], \
                                 (T)s[4], f[0], f[1]);                                 \
    }

H_ALL(float, f32)
H_ALL(double, f64)
