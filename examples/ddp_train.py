"""Data-parallel training with DistributedDataParallel and DistributedSampler: a 20-64-1
regression network, float64, SGD with momentum, each rank training on its shard of 512
samples (global batch 64); prints the global mean loss per epoch on rank 0.

    mpirun -np 2 python examples/ddp_train.py                          # MPI backend
    python -m autograd_gpu.distributed.run --nproc-per-node 2 examples/ddp_train.py
    mpirun -np 2 python examples/ddp_train.py --torch                  # PyTorch, gloo

Data and initial weights come from NumPy (seeded) and rank 0's model is broadcast at
construction, so every rank count and both libraries print the same losses (to rounding).
Ranks are started by mpirun or the launcher: RANK / WORLD_SIZE, else MPI's variables.
"""
import argparse
import os

import numpy as np


def _rank_and_size():
    env = os.environ
    rank = env.get("RANK") or env.get("OMPI_COMM_WORLD_RANK") or env.get("PMI_RANK") or "0"
    size = env.get("WORLD_SIZE") or env.get("OMPI_COMM_WORLD_SIZE") or env.get("PMI_SIZE") or "1"
    return int(rank), int(size)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torch", action="store_true", help="run on torch.distributed (gloo)")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--port", type=int, default=int(os.environ.get("MASTER_PORT", "29511")))
    args = ap.parse_args(argv)
    rank, size = _rank_and_size()
    if args.torch:
        import torch
        import torch.distributed as dist
        from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{args.port}",
                                rank=rank, world_size=size)
    else:
        import autograd_gpu as torch
        import autograd_gpu.distributed as dist
        from autograd_gpu.utils.data import DataLoader, DistributedSampler, TensorDataset

        dist.init_process_group("mpi", rank=rank, world_size=size)
    nn = torch.nn

    rng = np.random.default_rng(0)
    X = rng.standard_normal((512, 20))
    Y = np.sin(X[:, :1] * 2) + 0.1 * rng.standard_normal((512, 1))
    data = TensorDataset(torch.tensor(X), torch.tensor(Y))
    batch = 64 // size
    sampler = DistributedSampler(data, shuffle=False)
    loader = DataLoader(data, batch_size=batch, sampler=sampler)

    model = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 1)).double()
    w_rng = np.random.default_rng(1 + rank)  # different on every rank: rank 0's wins
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(w_rng.standard_normal(tuple(p.shape)) * 0.2))
    ddp = nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.MSELoss()

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        total = torch.zeros(1, dtype=torch.float64)
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(ddp(x), y)
            loss.backward()
            opt.step()
            total += loss.detach() * x.shape[0]
        dist.all_reduce(total)
        if rank == 0:
            print(f"epoch {epoch}: loss {total.item() / len(data):.6f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
