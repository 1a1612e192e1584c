"""A small CNN on synthetic images: 10 classes of 16x16 one-channel images (a fixed random
pattern per class plus noise), Conv2d-ReLU-MaxPool2d twice, then a Linear classifier,
trained with SGD (momentum 0.9) on the cross-entropy; prints the loss every 20 steps and
the training accuracy at the end.

    python examples/cnn.py            # 200 steps
    python examples/cnn.py --quick    # 30 steps, loss every 5
    python examples/cnn.py --torch    # the same program on PyTorch

Data and initial weights come from NumPy (seeded), so that --torch starts from the very
same numbers.
"""
import argparse

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="30 steps, print every 5")
    ap.add_argument("--torch", action="store_true", help="run on PyTorch instead")
    ap.add_argument("--double", action="store_true", help="float64 instead of float32")
    ap.add_argument("--steps", type=int, default=None)
    args = ap.parse_args(argv)
    if args.torch:
        import torch
    else:
        import autograd_gpu as torch
    nn = torch.nn

    steps = args.steps or (30 if args.quick else 200)
    every = 5 if args.quick else 20
    dtype = torch.float64 if args.double else torch.float32
    rng = np.random.default_rng(0)

    # N images of 1x16x16 in 10 classes: each class a fixed pattern, each image that pattern
    # plus noise
    N, classes = 128, 10
    patterns = rng.standard_normal((classes, 1, 16, 16))
    labels = rng.integers(0, classes, N)
    images = patterns[labels] + 2.0 * rng.standard_normal((N, 1, 16, 16))
    x = torch.tensor(images, dtype=dtype)
    y = torch.tensor(labels)

    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # 8 x 8 x 8
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 16 x 4 x 4
        nn.Flatten(), nn.Linear(16 * 4 * 4, classes),
    ).to(dtype)
    with torch.no_grad():  # PyTorch's default init bounds, drawn from NumPy's generator
        for layer in (model[0], model[3], model[7]):
            fan_in = layer.weight[0].numel()
            bound = 1 / np.sqrt(fan_in)
            for p in (layer.weight, layer.bias):
                p.copy_(torch.tensor(rng.uniform(-bound, bound, tuple(p.shape)), dtype=dtype))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)

    for t in range(steps):
        loss = loss_fn(model(x), y)
        if t % every == every - 1:
            print(t, loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    print("training accuracy", accuracy)


if __name__ == "__main__":
    main()
