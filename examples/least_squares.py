"""Least squares three ways: the pseudo-inverse, gradient descent with hand-written
gradients (equations 3-6 of the tutorial), and gradient descent with autograd and
optim.SGD. Fits y = a x + b to noisy samples; prints a and b from each.

    python examples/least_squares.py [--quick] [--torch]
"""
import argparse

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="200 iterations instead of 2000")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    args = ap.parse_args(argv)
    if args.torch:
        import torch
    else:
        import autograd_gpu as torch
    iters = 200 if args.quick else 2000
    lr = 0.05

    rng = np.random.default_rng(1)
    a_true, b_true = 1.7, -0.6
    xs_np = np.linspace(-2, 3, 50)
    ys_np = a_true * xs_np + b_true + 0.3 * rng.standard_normal(50)
    a0, b0 = rng.standard_normal(2)
    xs, ys = torch.tensor(xs_np), torch.tensor(ys_np)

    # 1) the pseudo-inverse: [a, b] = pinv([x 1]) y
    X = torch.stack([xs, torch.ones(len(xs), dtype=torch.float64)], 1)
    a_pinv, b_pinv = (torch.pinverse(X) @ ys).tolist()
    print(f"pseudo-inverse:      a = {a_pinv:.6f}, b = {b_pinv:.6f}")

    # 2) hand-written gradients
    a, b = float(a0), float(b0)
    for _ in range(iters):
        dlda = np.mean(2 * xs_np ** 2 * a + 2 * b * xs_np - 2 * xs_np * ys_np)
        dldb = np.mean(2 * xs_np * a + 2 * b - 2 * ys_np)
        a, b = a - lr * dlda, b - lr * dldb
    print(f"hand-written grads:  a = {a:.6f}, b = {b:.6f}")

    # 3) autograd, updating through .data, gradients zeroed by hand
    a = torch.tensor([a0], requires_grad=True)
    b = torch.tensor([b0], requires_grad=True)
    for _ in range(iters):
        loss = torch.mean((ys - a * xs - b) ** 2)
        loss.backward()
        a.data = a - lr * a.grad
        b.data = b - lr * b.grad
        a.grad[:] = 0
        b.grad[:] = 0
    print(f"autograd + .data:    a = {a.item():.6f}, b = {b.item():.6f}")

    # 4) autograd with an optimizer
    a = torch.tensor([a0], requires_grad=True)
    b = torch.tensor([b0], requires_grad=True)
    optimizer = torch.optim.SGD([a, b], lr=lr)
    for _ in range(iters):
        loss = torch.mean((ys - a * xs - b) ** 2)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    print(f"autograd + optim.SGD: a = {a.item():.6f}, b = {b.item():.6f}")
    with torch.no_grad():
        print(f"final loss: {torch.mean((ys - a * xs - b) ** 2).item():.6f}")


if __name__ == "__main__":
    main()
