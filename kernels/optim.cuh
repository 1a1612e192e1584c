// Optimizer updates, one parameter element per call: the parameter and every state
// buffer are read once and written once. The operation order is that of the array path
// (autograd_gpu/optim/_functional.py), which is PyTorch's single-tensor (for-loop) order
// except where that would cost the array path an extra pass (Adam's bias corrections, a
// scaling after a division: a few ulp apart); scalars that PyTorch computes in Python
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
// With c1 = 1 - beta1^step and c2 = sqrt(1 - beta2^step): eps_c2 = eps c2 and
// step_c2 = lr c2 / c1, so that p -= m / (sqrt(v) + eps_c2) * step_c2 equals PyTorch's
// p -= lr / c1 * m / (sqrt(v) / c2 + eps) to a few ulp, in one pass fewer on the host.
template <typename T>
AG_FN void adam_step(T& p, T g, T& m, T& v, T& vmax, T decay, T wd, T one_minus_beta1, T beta2,
                     T one_minus_beta2, T eps_c2, T step_c2, bool has_wd,
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
    p = p - m / (xsqrt(vv) + eps_c2) * step_c2;
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
        p = p + g / avg * neg_lr;
    }
}

// Adagrad; neg_clr = -lr / (1 + (step - 1) lr_decay).
template <typename T>
AG_FN void adagrad_step(T& p, T g, T& sum, T neg_clr, T eps, T wd, bool has_wd, bool maximize) {
    if (maximize) g = -g;
    if (has_wd) g = g + wd * p;
    sum = sum + g * g;
    T std = xsqrt(sum) + eps;
    p = p + g / std * neg_clr;
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
