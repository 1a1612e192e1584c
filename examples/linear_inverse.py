"""A linear inverse problem A x = b solved by gradient descent on the mean squared
residual (with SGD and with Adam, each under a cosine learning-rate schedule), checked
against the direct solve.

    python examples/linear_inverse.py [--quick] [--torch]
"""
import argparse

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 iterations instead of 3000")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    args = ap.parse_args(argv)
    if args.torch:
        import torch

        solve = torch.linalg.solve
    else:
        import autograd_gpu as torch

        solve = torch.solve
    iters = 300 if args.quick else 3000
    n = 20
    rng = np.random.default_rng(5)
    A_np = np.eye(n) * 3 + 0.3 * rng.standard_normal((n, n))  # well conditioned
    x_true = rng.standard_normal(n)
    A = torch.tensor(A_np)
    b = A @ torch.tensor(x_true)

    x_direct = solve(A, b)
    print(f"direct solve: |x - x_true| = {float((x_direct - torch.tensor(x_true)).norm()):.3e}")

    for name, make in [
        ("SGD", lambda p: torch.optim.SGD([p], lr=0.5, momentum=0.5)),
        ("Adam", lambda p: torch.optim.Adam([p], lr=0.05)),
    ]:
        x = torch.zeros(n, dtype=torch.float64, requires_grad=True)
        optimizer = make(x)
        # a constant step keeps Adam circling the minimum; annealing the rate settles it
        schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=iters)
        for i in range(iters):
            optimizer.zero_grad()
            loss = torch.mean((A @ x - b) ** 2)
            loss.backward()
            optimizer.step()
            schedule.step()
        with torch.no_grad():
            err = float((x - x_direct).norm() / x_direct.norm())
            res = float(torch.mean((A @ x - b) ** 2))
        print(f"{name}: loss = {res:.6e}, relative distance to solve = {err:.6e}")


if __name__ == "__main__":
    main()
