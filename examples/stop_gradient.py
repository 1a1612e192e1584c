"""The stop-gradient (detach) objective of policy-gradient methods: with f and g both
computed from the same parameters theta,

    grad sum_i detach(g(x_i)) f(x_i) = sum_i g(x_i) grad f(x_i),

which differs from grad sum_i g(x_i) f(x_i). Prints both gradients and the hand-built
sum of g-weighted per-sample gradients, which equals the detached one.

    python examples/stop_gradient.py [--quick] [--torch]
"""
import argparse

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="8 samples instead of 32")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    args = ap.parse_args(argv)
    if args.torch:
        import torch
    else:
        import autograd_gpu as torch
    n = 8 if args.quick else 32
    rng = np.random.default_rng(2)
    x = torch.tensor(rng.standard_normal((n, 3)))
    theta = torch.tensor(rng.standard_normal((3, 2)), requires_grad=True)

    def f_and_g(x):
        out = torch.tanh(x @ theta)  # one network, two heads
        return out[:, 0], torch.exp(out[:, 1])  # f: "log-probability", g: "return"

    f_values, g_values = f_and_g(x)
    objective = torch.sum(g_values * f_values)
    objective.backward()
    full = theta.grad.clone()
    theta.grad = None

    f_values, g_values = f_and_g(x)
    g_stopgrad = g_values.detach()  # Same as g_values, but not parametrized by theta anymore
    objective = torch.sum(g_stopgrad * f_values)
    objective.backward()
    stopped = theta.grad.clone()

    # sum_i g(x_i) grad f(x_i), one sample at a time
    by_hand = np.zeros((3, 2))
    for i in range(n):
        theta.grad = None
        f_i, g_i = f_and_g(x[i:i + 1])
        f_i.sum().backward()
        by_hand += float(g_i.detach().sum()) * theta.grad.numpy()

    np.set_printoptions(precision=6, suppress=True)
    print("objective:", f"{objective.item():.6f}")
    print("grad of sum(g * f):\n", full.numpy())
    print("grad of sum(detach(g) * f):\n", stopped.numpy())
    print("sum of g_i * grad f_i:\n", by_hand)
    print("detached equals the weighted sum:", bool(np.allclose(stopped.numpy(), by_hand)))


if __name__ == "__main__":
    main()
