"""Gradient descent on the non-convex objective theta cos(4 theta) + 2 |theta| (global
minimum 0 at theta = 0, local minima beside it) from theta = 0.5 with the seed's three step
sizes 0.05, 0.07 and 0.15. Prints the grid minimum and, per step size, the final theta and
objective. (From theta = 0.5 all three settle in the local minimum near 0.684, in PyTorch
as here; try other starting points with --init.)

    python examples/nonconvex.py [--quick] [--torch] [--plot FILE.png]
"""
import argparse

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="30 iterations instead of 100")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    ap.add_argument("--plot", default=None, help="save a figure of the runs (needs matplotlib)")
    ap.add_argument("--init", type=float, default=0.5, help="starting theta (default 0.5)")
    args = ap.parse_args(argv)
    if args.torch:
        import torch
    else:
        import autograd_gpu as torch
    max_iter = 30 if args.quick else 100

    def objective(theta):
        return theta * torch.cos(4 * theta) + 2 * torch.abs(theta)

    theta = torch.linspace(-5, 5, steps=100)
    y = objective(theta)
    theta_true = float(theta[int(np.argmin(y.numpy()))])
    print(f"grid minimum: theta = {theta_true:.4f}")

    def gradient_descent(objective, step_size=0.05, max_iter=100, init=0.0):
        theta_hat = torch.tensor(init, requires_grad=True)
        theta_hat_arr = [theta_hat.detach().numpy().copy()]
        obj_arr = [objective(theta_hat).detach().numpy()]
        for i in range(max_iter):
            # Compute gradient
            if theta_hat.grad is not None:
                theta_hat.grad.zero_()
            out = objective(theta_hat)
            out.backward()
            # Update theta in-place
            with torch.no_grad():
                theta_hat -= step_size * theta_hat.grad
                theta_hat_arr.append(theta_hat.detach().numpy().copy())
                obj_arr.append(objective(theta_hat).detach().numpy())
        return np.array(theta_hat_arr), np.array(obj_arr)

    runs = {}
    # 0.05 doesn't escape, 0.07 does, 0.15 gets much closer
    for step_size in [0.05, 0.07, 0.15]:
        theta_hat_arr, obj_arr = gradient_descent(objective, step_size=step_size, init=args.init,
                                                  max_iter=max_iter)
        runs[step_size] = (theta_hat_arr, obj_arr)
        print(f"step size {step_size}: theta = {float(theta_hat_arr[-1]):.6f}, "
              f"objective = {float(obj_arr[-1]):.6f}")

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 3, figsize=(15, 4))
        vis = np.linspace(-5, 5, 200)
        for ax, (s, (ta, oa)) in zip(axes, runs.items()):
            ax.plot(vis, objective(torch.tensor(vis)).numpy(), label="Objective")
            ax.plot(ta, oa, "o-", label="Gradient steps")
            ax.axvline(theta_true, color="g", label="True theta")
            ax.set_title(f"step size {s}")
            ax.legend()
        fig.savefig(args.plot)


if __name__ == "__main__":
    main()
