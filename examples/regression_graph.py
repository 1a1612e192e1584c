"""The backward graph of a linear-regression error, drawn with make_dot (as torchviz
draws PyTorch's): X_train (100x5), theta (5,), mse = mean((y - X theta)^2).

    python examples/regression_graph.py [--quick] [--out FILE]   # DOT source to stdout or FILE
"""
import argparse


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="(the same: the graph is small)")
    ap.add_argument("--inputs-require-grad", action="store_true",
                    help="also differentiate with respect to X_train (adversarial-example style)")
    ap.add_argument("--out", default=None, help="write the DOT source here")
    args = ap.parse_args(argv)
    import autograd_gpu as torch
    from autograd_gpu.viz import make_dot

    # Data
    torch.manual_seed(42)
    X_train = torch.randn(100, 5)
    if args.inputs_require_grad:
        X_train.requires_grad_(True)
    y_train = torch.mean(X_train, axis=1)
    # Model
    theta = torch.randn(5).requires_grad_(True)
    y_pred = torch.matmul(X_train, theta)
    # Error
    mse_train = torch.mean((y_train - y_pred) ** 2)
    print(mse_train)
    dot = make_dot(mse_train, dict(X_train=X_train, mse_train=mse_train, theta=theta),
                   show_attrs=True, show_saved=True)
    src = dot if isinstance(dot, str) else dot.source
    if args.out:
        with open(args.out, "w") as f:
            f.write(src)
    else:
        print(src)


if __name__ == "__main__":
    main()
