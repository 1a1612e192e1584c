// Ahead-of-time instantiation of every per-element function, for float and double, as
// extern "C" __global__ kernels over contiguous arrays. The library itself builds its
// kernels from the headers at run time (CuPy ElementwiseKernels); this translation unit
// exists so that `nvcc -arch=sm_80` / `sm_90` check the whole source as device code
// (it is not loaded at run time).
#include "elementwise_grad.cuh"
#include "loss_grad.cuh"
#include "optim.cuh"

#define AG_LOOP for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; \
                     i += (long long)blockDim.x * gridDim.x)

#define AG_UNARY(NAME, T, SUF)                                                               \
    extern "C" __global__ void NAME##_##SUF(const T* v, const T* g, T* out, long long n) {  \
        AG_LOOP out[i] = ag::NAME<T>(v[i], g[i]);                                           \
    }

#define AG_ALL(T, SUF)                                                                       \
    AG_UNARY(relu_grad, T, SUF)                                                              \
    AG_UNARY(sigmoid_grad, T, SUF)                                                           \
    AG_UNARY(tanh_grad, T, SUF)                                                              \
    AG_UNARY(gelu_grad, T, SUF)                                                              \
    AG_UNARY(gelu_tanh_grad, T, SUF)                                                         \
    AG_UNARY(silu_grad, T, SUF)                                                              \
    AG_UNARY(exp_grad, T, SUF)                                                               \
    AG_UNARY(log_grad, T, SUF)                                                               \
    AG_UNARY(sqrt_grad, T, SUF)                                                              \
    AG_UNARY(abs_grad, T, SUF)                                                               \
    extern "C" __global__ void leaky_relu_grad_##SUF(const T* x, const T* g, T* out, T s,   \
                                                     long long n) {                          \
        AG_LOOP out[i] = ag::leaky_relu_grad<T>(x[i], g[i], s);                             \
    }                                                                                        \
    extern "C" __global__ void softplus_grad_##SUF(const T* x, const T* g, T* out, T beta,  \
                                                   T threshold, long long n) {               \
        AG_LOOP out[i] = ag::softplus_grad<T>(x[i], g[i], beta, threshold);                 \
    }                                                                                        \
    extern "C" __global__ void elu_grad_##SUF(const T* x, const T* g, T* out, T alpha,      \
                                              long long n) {                                 \
        AG_LOOP out[i] = ag::elu_grad<T>(x[i], g[i], alpha);                                \
    }                                                                                        \
    extern "C" __global__ void clamp_grad_##SUF(const T* x, const T* g, T* out, T lo, T hi, \
                                                int has_lo, int has_hi, long long n) {       \
        AG_LOOP out[i] = ag::clamp_grad<T>(x[i], g[i], lo, hi, has_lo != 0, has_hi != 0);   \
    }                                                                                        \
    extern "C" __global__ void pow_grad_##SUF(const T* a, const T* b, const T* y,           \
                                              const T* g, T* ga, T* gb, long long n) {       \
        AG_LOOP {                                                                            \
            ga[i] = ag::pow_base_grad<T>(a[i], b[i], g[i]);                                  \
            gb[i] = ag::pow_exponent_grad<T>(a[i], b[i], y[i], g[i]);                        \
        }                                                                                    \
    }                                                                                        \
    extern "C" __global__ void mul_grad_##SUF(const T* a, const T* b, const T* g, T* ga,    \
                                              T* gb, long long n) {                          \
        AG_LOOP ag::mul_grad<T>(a[i], b[i], g[i], ga[i], gb[i]);                             \
    }                                                                                        \
    extern "C" __global__ void div_grad_##SUF(const T* a, const T* b, const T* g, T* ga,    \
                                              T* gb, long long n) {                          \
        AG_LOOP ag::div_grad<T>(a[i], b[i], g[i], ga[i], gb[i]);                             \
    }                                                                                        \
    extern "C" __global__ void mse_grad_##SUF(const T* x, const T* t, const T* g, T norm,   \
                                              T* gx, T* gt, long long n) {                   \
        AG_LOOP ag::mse_grad<T>(x[i], t[i], norm, g[i], gx[i], gt[i]);                       \
    }                                                                                        \
    extern "C" __global__ void bce_logits_grad_##SUF(const T* x, const T* t, const T* w,    \
                                                     const T* pw, int has_pw, const T* g,    \
                                                     T* gx, T* gt, long long n) {            \
        AG_LOOP ag::bce_logits_grad<T>(x[i], t[i], w[i], pw[i], has_pw != 0, g[i], gx[i],   \
                                       gt[i]);                                               \
    }                                                                                        \
    /* rows of C classes, one row factor each */                                             \
    extern "C" __global__ void cross_entropy_grad_##SUF(const T* lp, const long long* tgt,  \
                                                        const T* sA, const T* b, const T* c, \
                                                        const T* wc, T* out, long long C,    \
                                                        long long n) {                       \
        AG_LOOP {                                                                            \
            long long r = i / C, k = i % C;                                                  \
            out[i] = ag::cross_entropy_grad<T>(lp[i], k == tgt[r], sA[r], b[r], c[r], wc[k]); \
        }                                                                                    \
    }                                                                                        \
    extern "C" __global__ void sgd_##SUF(T* p, const T* g, T* buf, T neg_lr, T momentum,    \
                                         T one_minus_dampening, T wd, int has_wd,            \
                                         int has_momentum, int nesterov, int maximize,       \
                                         int first_step, long long n) {                      \
        AG_LOOP ag::sgd_step<T>(p[i], g[i], buf[i], neg_lr, momentum, one_minus_dampening,  \
                                wd, has_wd, has_momentum, nesterov, maximize, first_step);   \
    }                                                                                        \
    extern "C" __global__ void adam_##SUF(T* p, const T* g, T* m, T* v, T* vmax, T decay,   \
                                          T wd, T lerp_w, T beta2, T one_minus_beta2,        \
                                          T bc2_sqrt, T eps, T neg_step_size,                \
                                          int has_wd, int decoupled, int amsgrad,            \
                                          int maximize, long long n) {                       \
        AG_LOOP {                                                                            \
            T vm = amsgrad ? vmax[i] : T(0);                                                 \
            ag::adam_step<T>(p[i], g[i], m[i], v[i], vm, decay, wd, lerp_w, beta2,           \
                             one_minus_beta2, bc2_sqrt, eps, neg_step_size, has_wd,          \
                             decoupled, amsgrad, maximize);                                  \
            if (amsgrad) vmax[i] = vm;                                                       \
        }                                                                                    \
    }                                                                                        \
    extern "C" __global__ void rmsprop_##SUF(T* p, const T* g, T* sq, T* buf, T* gavg,      \
                                             T neg_lr, T alpha, T one_minus_alpha, T eps,    \
                                             T wd, T momentum, int has_wd, int centered,     \
                                             int has_momentum, int maximize, long long n) {  \
        AG_LOOP {                                                                            \
            T b = has_momentum ? buf[i] : T(0), ga = centered ? gavg[i] : T(0);              \
            ag::rmsprop_step<T>(p[i], g[i], sq[i], b, ga, neg_lr, alpha, one_minus_alpha,    \
                                eps, wd, momentum, has_wd, centered, has_momentum, maximize); \
            if (has_momentum) buf[i] = b;                                                    \
            if (centered) gavg[i] = ga;                                                      \
        }                                                                                    \
    }                                                                                        \
    extern "C" __global__ void adagrad_##SUF(T* p, const T* g, T* sum, T neg_clr, T eps,    \
                                             T wd, int has_wd, int maximize, long long n) {  \
        AG_LOOP ag::adagrad_step<T>(p[i], g[i], sum[i], neg_clr, eps, wd, has_wd, maximize); \
    }                                                                                        \
    extern "C" __global__ void adadelta_##SUF(T* p, const T* g, T* sq, T* acc, T neg_lr,    \
                                              T rho, T one_minus_rho, T eps, T wd,           \
                                              int has_wd, int maximize, long long n) {       \
        AG_LOOP ag::adadelta_step<T>(p[i], g[i], sq[i], acc[i], neg_lr, rho, one_minus_rho,  \
                                     eps, wd, has_wd, maximize);                             \
    }

AG_ALL(float, f32)
AG_ALL(double, f64)
