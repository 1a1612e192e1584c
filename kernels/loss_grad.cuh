// Backward of the losses, one element per call. `scale` carries the reduction
// (1/N for 'mean', 1 for 'sum' and 'none') and the incoming gradient of the loss;
// the caller computes it once on the host side.
// Every float operation keeps subnormals (the helpers of ag_common.cuh; CuPy compiles with
// -ftz=true): IEEE float + - * /, and exp/log1p in double rounded once to float.
#pragma once
#ifndef AG_LOSS_GRAD_CUH
#define AG_LOSS_GRAD_CUH
#include "ag_common.cuh"

namespace ag {

// mse_loss: d/dx = 2 (x - t) scale, and d/dt = -d/dx (PyTorch's mse_loss_backward order:
// norm * (input - target) * grad_output, with norm = 2/N or 2).
template <typename T>
AG_FN void mse_grad(T x, T t, T norm, T g, T& gx, T& gt) {
    gx = mul_keep(mul_keep(norm, sub_keep(x, t)), g);
    gt = neg_keep(gx);
}

// log(sigmoid(x)) without overflow: min(x, 0) - log1p(exp(-|x|)).
template <typename T>
AG_FN T log_sigmoid(T x) {
    return sub_keep(lt_zero(x) ? x : T(0), log1p_keep(exp_keep(neg_keep(fabs_keep(x)))));
}

// binary_cross_entropy_with_logits with pos_weight pw and weight w (1 when absent):
// loss = -w [pw t log s(x) + (1 - t) log s(-x)]
// d/dx = w ((pw t + 1 - t) s(x) - pw t) g     (= w (s(x) - t) g when pw == 1)
// d/dt = -w (pw log s(x) - log s(-x)) g       (= -w x g when pw == 1)
// g already includes the reduction's 1/N.
// Without pos_weight (has_pw false) the plain forms are used, as PyTorch does, since
// pw t + 1 - t is not exactly 1 in floating point.
template <typename T>
AG_FN void bce_logits_grad(T x, T t, T w, T pw, bool has_pw, T g, T& gx, T& gt) {
    T s = sigmoid(x);
    if (has_pw) {
        T pt = mul_keep(pw, t);
        gx = mul_keep(mul_keep(sub_keep(mul_keep(sub_keep(add_keep(pt, T(1)), t), s), pt), g), w);
        T d = sub_keep(mul_keep(pw, log_sigmoid(x)), log_sigmoid(neg_keep(x)));
        gt = mul_keep(mul_keep(neg_keep(d), g), w);
    } else {
        gx = mul_keep(mul_keep(sub_keep(s, t), g), w);
        gt = mul_keep(mul_keep(neg_keep(x), g), w);
    }
}

// Cross-entropy over classes from the saved log-probabilities lp of one row:
// d/dx_c = sA * exp(lp_c) - (hit ? b : 0) - c * w_c
// where, per row n (computed on the host from the target t_n, the class weights w,
// label smoothing eps, the reduction and the incoming gradient s_n):
//   sA = s_n ((1 - eps) w_{t_n} + eps/C sum_c w_c),  b = s_n (1 - eps) w_{t_n},  c = s_n eps / C.
// Without weights or smoothing this is s_n (softmax - onehot). Ignored rows have s_n = 0.
template <typename T>
AG_FN T cross_entropy_grad(T lp, bool hit, T sA, T b, T c, T wc) {
    T r = mul_keep(sA, exp_keep(lp));
    if (hit) r = sub_keep(r, b);
    return sub_keep(r, mul_keep(c, wc));
}

}  // namespace ag

#endif  // AG_LOSS_GRAD_CUH
