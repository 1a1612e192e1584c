# Seed 002 (Lapan; "Gradient"): leaves, requires_grad, no_grad errors, non-leaf grads,
# retain_grad, and least squares by gradient descent.
import warnings

import torch

v1 = torch.tensor([1.0, 1.0], requires_grad=True)
v2 = torch.tensor([2.0, 2.0])
v_sum = v1 + v2
v_res = (v_sum * 2).sum()
print(v_res)
print(v1.is_leaf, v2.is_leaf)
print(v_sum.is_leaf, v_res.is_leaf)
print(v1.requires_grad, v2.requires_grad, v_sum.requires_grad, v_res.requires_grad)
v_res.backward()
print(v1.grad)
print(v2.grad)

n = 5
w = torch.rand(n, requires_grad=True)
y = torch.sum(w * 3)
y.backward()
print(w.grad)

w = torch.tensor([1, 2, 3, 4], dtype=torch.float, requires_grad=True)
g = torch.tensor([5, 6, 7, 8], dtype=torch.float, requires_grad=True)
y = w @ g
y.backward()
print("omega gradient value")
print(w.grad)
print("gamma gradient value")
print(g.grad)

w = torch.rand(n, requires_grad=True)
y = torch.sum(w)
y.backward()
y = torch.sum(w)
y.backward()
print(w.grad)
with torch.no_grad():
    y = torch.sum(w)
try:
    y.backward()
except Exception as e:
    print(e)

A = torch.rand([3, 2], dtype=torch.float, requires_grad=True)
B = torch.rand([2, 1], dtype=torch.float, requires_grad=True)
temp = A @ B
temp.sum().backward()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print(temp.grad)
print(len(caught), "retain_grad" in str(caught[0].message) if caught else None)
print(A.grad)
print(B.grad)
temp = A @ B
temp.retain_grad()
temp.sum().backward()
print(temp.grad)

n_features = 2
n_objects = 300
w_true = torch.randn(n_features)
X = (torch.rand(n_objects, n_features) - 0.5) * 5
Y = X @ w_true + torch.randn(n_objects) / 2
step_size = 1e-2
w = torch.rand(X.shape[1], requires_grad=True)
for i in range(5000):
    y_pred = torch.matmul(X, w)
    MSE = torch.mean((y_pred - Y) ** 2)
    MSE.backward()
    with torch.no_grad():
        w -= w.grad * step_size
        w.grad.zero_()
print("Real coefs:", w_true.tolist())
print("Approximation coefs:", w.tolist())
