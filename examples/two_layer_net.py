"""The two-layer network trained with Adam (PyTorch's "two_layer_net_optim" tutorial):
N=64, 1000-100-10, MSELoss(reduction='sum'), Adam lr 1e-4, 500 steps; prints the loss
every 100 steps.

    python examples/two_layer_net.py            # as the tutorial
    python examples/two_layer_net.py --quick    # 50 steps, loss every 10
    python examples/two_layer_net.py --torch    # the same program on PyTorch

Data and initial weights come from NumPy (seeded), so that --torch starts from the very
same numbers.
"""
import argparse

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="50 steps, print every 10")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    ap.add_argument("--double", action="store_true", help="float64 instead of float32")
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args(argv)
    if args.torch:
        import torch
    else:
        import autograd_gpu as torch

    steps = args.steps or (50 if args.quick else 500)
    every = 10 if args.quick else 100
    dtype = torch.float64 if args.double else torch.float32
    rng = np.random.default_rng(0)

    # N is batch size; D_in is input dimension; H is hidden dimension; D_out is output dimension.
    N, D_in, H, D_out = 64, 1000, 100, 10
    x = torch.tensor(rng.standard_normal((N, D_in)), dtype=dtype)
    y = torch.tensor(rng.standard_normal((N, D_out)), dtype=dtype)

    model = torch.nn.Sequential(
        torch.nn.Linear(D_in, H),
        torch.nn.ReLU(),
        torch.nn.Linear(H, D_out),
    ).to(dtype)
    with torch.no_grad():  # PyTorch's default init bounds, drawn from NumPy's generator
        for layer in (model[0], model[2]):
            bound = 1 / np.sqrt(layer.in_features)
            for p in (layer.weight, layer.bias):
                p.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(p.shape)), dtype=dtype))
    loss_fn = torch.nn.MSELoss(reduction="sum")

    learning_rate = 1e-4
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    for t in range(steps):
        # Forward pass: compute predicted y by passing x to the model
        y_pred = model(x)
        loss = loss_fn(y_pred, y)
        if t % every == every - 1:
            print(t, loss.item())
        # Zero the gradients, backpropagate, and let the optimizer update the weights
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


if __name__ == "__main__":
    main()
