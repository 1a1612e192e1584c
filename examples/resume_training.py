"""Training that survives a kill: checkpoints every k steps, resumes bit for bit.

A small regression net (Linear -> ReLU -> Dropout -> Linear) trained with Adam, a StepLR
schedule stepped once per epoch, and a shuffling DataLoader. Every `--every` steps it saves
one checkpoint with everything the rest of the run depends on: the model's, the optimizer's
and the scheduler's state_dict, the random state (the stream dropout draws its masks from),
the random state the current epoch's shuffle was drawn from, and where in the epoch it is.
Run it again with the same arguments after a kill (SIGKILL, a power cut) and it carries on
from its last checkpoint; the final parameters equal those of a run that was never stopped,
bit for bit.

    python examples/resume_training.py --checkpoint ck.pt --final final.pt
    python examples/resume_training.py --checkpoint ck.pt --final final.pt   # (after a kill)

The checkpoint is written with autograd_gpu.save, which is atomic: a kill during a save
leaves the previous checkpoint whole. It prints "step N" after each step (the resume test
kills it at one of them) and "resumed at step N" when it starts from a checkpoint; with
--lockstep it waits for a line on stdin after each step (so the test chooses the step).
"""
import argparse
import os
import sys

import numpy as np

import autograd_gpu as ag
from autograd_gpu import nn, optim
from autograd_gpu.utils.data import DataLoader, TensorDataset


def make_data(n=40, features=4):
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((n, features)).astype(np.float32)
    y = (np.sin(x.sum(axis=1, keepdims=True)) + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    return ag.tensor(x), ag.tensor(y)


def checkpoint_state(model, opt, sched, epoch, batches_done, step, epoch_rng, device):
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(),
             "scheduler": sched.state_dict(), "epoch": epoch, "batches_done": batches_done,
             "step": step, "epoch_rng": epoch_rng, "rng": ag.get_rng_state()}
    if device.startswith("cuda"):
        state["cuda_rng"] = ag.cuda.get_rng_state_all()
    return state


def train(checkpoint, final, epochs=6, every=4, batch_size=8, device="cpu", seed=0,
          lockstep=False):
    ag.manual_seed(seed)
    x, y = make_data()
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 1)).to(device)
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    loss_fn = nn.MSELoss()

    start_epoch, skip, step, saved = 0, 0, 0, None
    if checkpoint and os.path.exists(checkpoint):
        saved = ag.load(checkpoint)
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        start_epoch, skip, step = saved["epoch"], saved["batches_done"], saved["step"]
        print(f"resumed at step {step}", flush=True)

    for epoch in range(start_epoch, epochs):
        model.train()
        if saved is not None and epoch == start_epoch:
            # replay the epoch's shuffle: the same state, the same order; skip what was done
            epoch_rng = saved["epoch_rng"]
            ag.set_rng_state(epoch_rng)
            batches = iter(loader)
            for _ in range(skip):
                next(batches)
            # then the stream where the checkpoint left it (the next dropout masks)
            ag.set_rng_state(saved["rng"])
            if "cuda_rng" in saved:
                ag.cuda.set_rng_state_all(saved["cuda_rng"])
        else:
            epoch_rng = ag.get_rng_state()  # (the shuffle is drawn from it at the first batch)
            batches = iter(loader)
            skip = 0
        for batches_done, (xb, yb) in enumerate(batches, start=skip + 1):
            xb, yb = xb.to(device), yb.to(device)
            opt.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            step += 1
            if checkpoint and step % every == 0:
                ag.save(checkpoint_state(model, opt, sched, epoch, batches_done, step, epoch_rng,
                                         device), checkpoint)
            print(f"step {step} loss {loss.item():.6f}", flush=True)
            if lockstep:
                sys.stdin.readline()
        sched.step()
    if final:
        ag.save({k: v.cpu() for k, v in model.state_dict().items()}, final)
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default="resume_checkpoint.pt",
                    help="the checkpoint file (resumed from when it exists; '' for none)")
    ap.add_argument("--final", default=None, help="where to save the final state_dict")
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--every", type=int, default=4, help="checkpoint every this many steps")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--lockstep", action="store_true",
                    help="after each step, wait for a line on stdin (for the resume test)")
    args = ap.parse_args(argv)
    train(args.checkpoint, args.final, epochs=args.epochs, every=args.every, device=args.device,
          lockstep=args.lockstep)


if __name__ == "__main__":
    main()
