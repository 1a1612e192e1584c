# Seed 004 (Gradient methods): derivatives of f through backward, and minimization of
# x^2 + y^2 + 4 with SGD and x^6 + ... + 4 with staged Adam.
import numpy as np
import torch


def f(x):
    y = x * x + 2.0
    return y


def loss_f(x):
    z = f(x).sum()
    return z


def f_p(x):
    z = loss_f(x)
    z.backward()
    return x.grad


x = torch.linspace(-2, 2, 9, requires_grad=True)
print(f(x))
print(f_p(x))

offset = torch.Tensor([4.0]).double()


def compute_loss_error(l1, l2):
    return np.abs(l1 - l2) / np.max([l1, l2])


def minimize(power, optimizers, N=4, max_iter=2000, iter_stop=1e-10):
    def loss(in_pos):
        return in_pos.pow(power).sum() + offset

    x1 = torch.Tensor(1.5 * (np.linspace(-1, 1, N).reshape(1, N) + 0.3), device="cpu").double()
    x1.requires_grad = True
    opts = [make(x1) for make in optimizers]
    i, adj_error, last_loss = 0, 1.0, loss(x1).data.numpy()[0]
    while i <= max_iter and adj_error > iter_stop:
        opt = opts[0] if adj_error > 0.1 or len(opts) == 1 else (opts[1] if adj_error > 0.01 else opts[-1])
        opt.zero_grad()
        out = loss(x1)
        out.backward()
        opt.step()
        if i % 10 == 0:
            curr_loss = loss(x1).data.numpy()[0]
            adj_error = compute_loss_error(last_loss, curr_loss)
            last_loss = curr_loss
        i = i + 1
    return i, round(float(last_loss), 8), [round(v, 6) for v in x1.detach().numpy().ravel().tolist()]


print(minimize(2, [lambda p: torch.optim.SGD([p], lr=0.1)]))
print(minimize(2, [lambda p: torch.optim.Adam([p], lr=4.0, betas=(0.5, 0.9))], max_iter=300))
print(minimize(6, [lambda p: torch.optim.Adam([p], lr=0.04, betas=(0.5, 0.9)),
                   lambda p: torch.optim.Adam([p], lr=0.04, betas=(0.9, 0.95)),
                   lambda p: torch.optim.Adam([p], lr=0.04, betas=(0.9, 0.999))], max_iter=1500))
