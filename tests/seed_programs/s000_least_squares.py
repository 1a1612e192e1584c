# Seed 000 (Aalto RL course, "Gradient calculations with PyTorch"): least squares by the
# pseudo-inverse, by hand-written autograd updates, and with optim.SGD; stop-gradient.
import numpy as np
import torch


class PinvRegressor:
    def fit(self, xs, ys):
        A = torch.stack([xs, torch.ones(xs.shape[0])], dim=1)
        self.a, self.b = (torch.pinverse(A) @ ys).tolist()


class GradientRegressor:
    def __init__(self, lr=0.1, iters=200, use_optim=False):
        self.lr, self.iters, self.use_optim = lr, iters, use_optim

    def fit(self, xs, ys):
        self.a = torch.randn(1, requires_grad=True)
        self.b = torch.randn(1, requires_grad=True)
        optimizer = torch.optim.SGD([self.a, self.b], lr=self.lr) if self.use_optim else None
        for _ in range(self.iters):
            loss = torch.mean((ys - self.a * xs - self.b) ** 2)
            loss.backward()
            if optimizer is not None:
                optimizer.step()
                optimizer.zero_grad()
            else:
                self.a.data = self.a - self.lr * self.a.grad
                self.b.data = self.b - self.lr * self.b.grad
                self.a.grad[:] = 0
                self.b.grad[:] = 0

    def eval(self, xs):
        return self.a * xs + self.b


xs = torch.linspace(-1, 1, 50)
ys = 0.7 * xs - 0.3 + 0.1 * torch.randn(50)
p = PinvRegressor()
p.fit(xs, ys)
print("pinv", round(p.a, 4), round(p.b, 4))
for use_optim in (False, True):
    r = GradientRegressor(use_optim=use_optim)
    r.fit(xs, ys)
    with torch.no_grad():
        ys_grad = r.eval(xs)
    print("gd", use_optim, r.a, r.b, ys_grad[:3])
    print(r.eval(xs).detach()[:2])

theta = torch.tensor([0.5, -1.0], requires_grad=True)
x = torch.linspace(0, 1, 4)
f_values = theta[0] * x + theta[1] * x**2
g_values = torch.exp(theta[0] * x)
torch.sum(g_values * f_values).backward()
print("no stop-gradient", theta.grad)
theta.grad = None
f_values = theta[0] * x + theta[1] * x**2
g_stopgrad = torch.exp(theta[0] * x).detach()
torch.sum(g_stopgrad * f_values).backward()
print("stop-gradient", theta.grad)
