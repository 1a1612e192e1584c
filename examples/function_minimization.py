"""Function minimization with optimizers: x^2 + y^2 + 4 with SGD and with Adam, then
x^6 + y^6 + z^6 + w^6 + 4, where plain SGD blows up to nan and Adam converges, faster
when three Adam optimizers with different betas take turns by stage (switching on the
relative change of the loss, measured every 10 iterations).

    python examples/function_minimization.py [--quick] [--torch]
"""
import argparse
import warnings

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="at most 300 iterations per run")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    args = ap.parse_args(argv)
    if args.torch:
        import torch
    else:
        import autograd_gpu as torch
    max_iter = 300 if args.quick else 5000
    iter_stop = 1e-12
    device = "cpu"
    rng = np.random.default_rng(4)
    std_val, mean_val = 1.0, 1.0

    offset = torch.Tensor([4.0]).double()

    # This computes a stopping criteria
    def compute_loss_error(l1, l2):
        return np.abs(l1 - l2) / np.max([l1, l2])

    def start(n):
        x1 = torch.Tensor(std_val * (rng.standard_normal((1, n)) + mean_val), device=device).double()
        x1.requires_grad = True
        return x1

    def minimize(loss_f, x1, pick):
        """pick(adj_error) -> the optimizer for this iteration."""
        i, adj_error = 0, 1.0
        last_loss = loss_f(x1).data.numpy()[0]
        while i <= max_iter and adj_error > iter_stop:
            optimizer = pick(adj_error)
            optimizer.zero_grad()
            loss = loss_f(x1)
            loss.backward()
            optimizer.step()
            if i % 10 == 0:
                curr_loss = loss_f(x1).data.numpy()[0]
                adj_error = compute_loss_error(last_loss, curr_loss)
                last_loss = curr_loss
            i = i + 1
        return i, float(loss_f(x1).data.numpy()[0]), x1.detach().numpy().ravel()

    def report(name, result):
        i, loss, x = result
        xs = ", ".join(f"{v:.3e}" for v in x)
        print(f"{name}: {i} iterations, loss = {loss:.10f}, x = [{xs}]")

    # This computes the loss function
    def loss_f(in_pos):
        y = in_pos.pow(2).sum() + offset
        return y

    x1 = start(2)
    sgd = torch.optim.SGD([x1], lr=0.1)
    report("x^2+y^2+4, SGD", minimize(loss_f, x1, lambda e: sgd))
    x1 = start(2)
    adam = torch.optim.Adam([x1], lr=4.0, betas=(0.5, 0.9))
    report("x^2+y^2+4, Adam", minimize(loss_f, x1, lambda e: adam))

    def loss_6(in_pos):
        return in_pos.pow(6).sum() + offset

    init = rng.standard_normal((1, 4)) * std_val + 2.0

    def start6():
        x1 = torch.Tensor(init.copy(), device=device).double()
        x1.requires_grad = True
        return x1

    x1 = start6()
    sgd = torch.optim.SGD([x1], lr=0.1)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        report("x^6+...+4, SGD", minimize(loss_6, x1, lambda e: sgd))
    x1 = start6()
    adam = torch.optim.Adam([x1], lr=0.04, betas=(0.9, 0.999))
    report("x^6+...+4, Adam", minimize(loss_6, x1, lambda e: adam))

    x1 = start6()
    optimizer = torch.optim.Adam([x1], lr=0.04, betas=(0.5, 0.9))
    optimizer2 = torch.optim.Adam([x1], lr=0.04, betas=(0.9, 0.95))
    optimizer3 = torch.optim.Adam([x1], lr=0.04, betas=(0.9, 0.999))

    def staged(adj_error):
        if adj_error > 0.1:
            return optimizer
        if adj_error > 0.01:
            return optimizer2
        return optimizer3

    report("x^6+...+4, staged Adam", minimize(loss_6, x1, staged))


if __name__ == "__main__":
    main()
