"""floor, ceil, round (with decimals) and trunc against PyTorch: values, dtypes, grad_fn
names, and the zero gradient of every order (they used to have no backward at all)."""
import numpy as np
import pytest

import autograd_gpu as ag

VALUES = np.array([-2.5, -1.5, -0.5, -0.49, 0.0, 0.5, 1.5, 2.5, 1.55, 1e20, -7.25])


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_values_names_and_zero_gradients_match_torch(torch, name):
    x = ag.tensor(VALUES, requires_grad=True)
    t = torch.tensor(VALUES, requires_grad=True)
    y, u = getattr(ag, name)(x), getattr(torch, name)(t)
    np.testing.assert_array_equal(y.detach().numpy(), u.detach().numpy())
    assert y.grad_fn.name() == u.grad_fn.name()
    (g,) = ag.autograd.grad((y * 3).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((u * 3).sum(), t, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), tg.detach().numpy())
    assert np.all(g.detach().numpy() == 0)


@pytest.mark.parametrize("decimals", [1, 2, -1])
def test_round_to_decimals_matches_torch(torch, decimals):
    x = ag.tensor(VALUES * 1.37, requires_grad=True)
    t = torch.tensor(VALUES * 1.37, requires_grad=True)
    y, u = ag.round(x, decimals=decimals), torch.round(t, decimals=decimals)
    np.testing.assert_allclose(y.detach().numpy(), u.detach().numpy(), rtol=1e-15)
    assert y.grad_fn.name() == u.grad_fn.name() == "RoundBackward1"
    y.sum().backward()
    assert np.all(x.grad.numpy() == 0)


@pytest.mark.parametrize("name", ["floor", "ceil", "round", "trunc"])
def test_integer_inputs_keep_their_dtype(torch, name):
    a = getattr(ag, name)(ag.tensor([-3, 2, 7]))
    b = getattr(torch, name)(torch.tensor([-3, 2, 7]))
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
