// Optimizer updates, one parameter element per call: the parameter and every state
// buffer are read once and written once. The operation order is that of PyTorch's
// single-tensor (for-loop) implementations in torch/optim, step by step, and of the
// NumPy path (autograd_gpu/fused/_optim.py); scalars that PyTorch computes in Python
// double precision (bias corrections, 1 - beta, ...) are computed on the host too
// and arrive here already rounded to T.
#pragma once
#ifndef AG_OPTIM_CUH
#define AG_OPTIM_CUH
#include "ag_common.cuh"

namespace ag {

// torch.lerp: start + w (end - start) for |w| < 0.5, else end - (end - start)(1 - w).
template <typename T>
AG_FN T lerp(T start, T end, T w) {
    return xfabs(w) < T(0.5) ? start + w * (end - start) : end - (end - start) * (T(1) - w);
}

// SGD with momentum, dampening, nesterov, weight decay and maximize.
// On the first step with momentum the buffer starts as the gradient itself.
template <typename T>
AG_FN void sgd_step(T& p, T g, T& buf, T neg_lr, T momentum, T one_minus_dampening, T wd,
                    bool has_wd, bool has_momentum, bool nesterov, bool maximize, bool first_step) {
    if (maximize) g = -g;
    if (has_wd) g = g + wd * p;
    if (has_momentum) {
        buf = first_step ? g : buf * momentum + one_minus_dampening * g;
        g = nesterov ? g + momentum * buf : buf;
    }
    p = p + neg_lr * g;
}

// Adam and AdamW (decoupled weight decay: p *= 1 - lr wd first), with amsgrad.
// neg_step_size = -lr / (1 - beta1^step), bc2_sqrt = sqrt(1 - beta2^step).
template <typename T>
AG_FN void adam_step(T& p, T g, T& m, T& v, T& vmax, T decay, T wd, T one_minus_beta1, T beta2,
                     T one_minus_beta2, T bc2_sqrt, T neg_step_size, T eps, bool has_wd,
                     bool decoupled, bool amsgrad, bool maximize) {
    if (maximize) g = -g;
    if (has_wd) {
        if (decoupled)
            p = p * decay;
        else
            g = g + wd * p;
    }
    m = lerp(m, g, one_minus_beta1);
    v = v * beta2 + one_minus_beta2 * g * g;
    T vv = v;
    if (amsgrad) {
        vmax = nan_max(vmax, v);
        vv = vmax;
    }
    T denom = xsqrt(vv) / bc2_sqrt + eps;
    p = p + neg_step_size * m / denom;
}

// RMSprop, optionally centered and with momentum.
template <typename T>
AG_FN void rmsprop_step(T& p, T g, T& sq, T& buf, T& gavg, T neg_lr, T alpha, T one_minus_alpha,
                        T eps, T wd, T momentum, bool has_wd, bool centered, bool has_momentum,
                        bool maximize) {
    if (maximize) g = -g;
    if (has_wd) g = g + wd * p;
    sq = sq * alpha + one_minus_alpha * g * g;
    T avg;
    if (centered) {
        gavg = lerp(gavg, g, one_minus_alpha);
        avg = xsqrt(sq - gavg * gavg);
    } else {
        avg = xsqrt(sq);
    }
    avg = avg + eps;
    if (has_momentum) {
        buf = buf * momentum + g / avg;
        p = p + neg_lr * buf;
    } else {
        p = p + neg_lr * g / avg;
    }
}

// Adagrad; neg_clr = -lr / (1 + (step - 1) lr_decay).
template <typename T>
AG_FN void adagrad_step(T& p, T g, T& sum, T neg_clr, T eps, T wd, bool has_wd, bool maximize) {
    if (maximize) g = -g;
    if (has_wd) g = g + wd * p;
    sum = sum + g * g;
    T std = xsqrt(sum) + eps;
    p = p + neg_clr * g / std;
}

// Adadelta.
template <typename T>
AG_FN void adadelta_step(T& p, T g, T& sq, T& acc, T neg_lr, T rho, T one_minus_rho, T eps, T wd,
                         bool has_wd, bool maximize) {
    if (maximize) g = -g;
    if (has_wd) g = g + wd * p;
    sq = sq * rho + one_minus_rho * g * g;
    T std = xsqrt(sq + eps);
    T delta = xsqrt(acc + eps) / std * g;
    acc = acc * rho + one_minus_rho * delta * delta;
    p = p + neg_lr * delta;
}

}  // namespace ag

#endif  // AG_OPTIM_CUH
