# Seed 001 (Inouye, "PyTorch and Automatic Differentiation"): conversions, simple gradients,
# gradient accumulation, the non-convex objective by gradient descent, Jacobian products.
import numpy as np
import torch

x = torch.linspace(-5, 5, 10)
print(x)
print(x.dtype)
x_np = np.linspace(-5, 5, 10)
y = torch.from_numpy(x_np)
print(y)
print(y.dtype)
print(y.float().dtype)
print(x.numpy())
print(y.numpy())

x = torch.tensor(5.0)
y = 3 * x**2 + x
print(x, x.grad)
print(y)

x = torch.tensor(5.0, requires_grad=True)
c = torch.tensor(3.0)
y = c * torch.sin(x) + x + c
print(x, x.grad)
print(y)
y.backward()
print(x, x.grad)
print(y)
try:
    y.backward()
    print(x, x.grad)
    print(y)
except Exception as e:
    print(str(e).split(" (If a value")[0])

x = torch.tensor(5.0, requires_grad=True)
c = torch.tensor(3.0, requires_grad=True)
y = c * torch.sin(x) + x + c
y.backward()
print(x.grad, c.grad)

x = torch.tensor(5.0, requires_grad=True)
for i in range(2):
    y = 3 * x**2
    y.backward()
    print(x, x.grad)
    print(y)
x.grad.zero_()
print(x, x.grad)
y = 3 * x**2
y.backward()
print(x, x.grad)
print(y)

x = torch.arange(5, dtype=torch.float32).requires_grad_(True)
y = torch.mean(torch.log(x**2 + 1) + 5 * x)
y.backward()
print(y)
print(x)
print("Grad", x.grad)


def objective(theta):
    return theta * torch.cos(4 * theta) + 2 * torch.abs(theta)


theta = torch.linspace(-5, 5, steps=100)
y = objective(theta)
theta_true = float(theta[np.argmin(y)])
print(theta_true)


def gradient_descent(objective, step_size=0.05, max_iter=100, init=0):
    theta_hat = torch.tensor(init, requires_grad=True)
    theta_hat_arr = [theta_hat.detach().numpy().copy()]
    obj_arr = [objective(theta_hat).detach().numpy()]
    for i in range(max_iter):
        if theta_hat.grad is not None:
            theta_hat.grad.zero_()
        out = objective(theta_hat)
        out.backward()
        with torch.no_grad():
            theta_hat -= step_size * theta_hat.grad
            theta_hat_arr.append(theta_hat.detach().numpy().copy())
            obj_arr.append(objective(theta_hat).detach().numpy())
    return np.array(theta_hat_arr), np.array(obj_arr)


for step_size in [0.05, 0.07, 0.15]:
    theta_hat_arr, obj_arr = gradient_descent(objective, step_size=step_size, init=0.5, max_iter=100)
    print(step_size, theta_hat_arr[-1], obj_arr[-1], theta_hat_arr[:5])

rng = torch.manual_seed(42)
X_train = torch.randn(100, 5).requires_grad_(True)
y_train = torch.mean(X_train, axis=1)
theta = torch.randn(5).requires_grad_(True)
y_pred = torch.matmul(X_train, theta)
mse_train = torch.mean((y_train - y_pred) ** 2)
print(mse_train)
mse_train.backward()
print(theta.grad)
print(X_train.grad[:2])

x = (2.0 * torch.ones(5).float()).requires_grad_(True)
b = torch.arange(5).float()
y = torch.dot(b, x)
y.retain_grad()
z = torch.log(y)
z.retain_grad()
z.backward()


def print_grad(a):
    print(a, a.grad)


print_grad(y)
print_grad(x)
