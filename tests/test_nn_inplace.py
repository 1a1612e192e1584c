"""`inplace=True` of the activations and alpha dropouts, against PyTorch: the input tensor is
written and returned, gradients flow through the write as through the op, a leaf that
requires grad is refused, and the modules' reprs show the flag."""
import numpy as np
import pytest

import autograd_gpu as ag

F = ag.nn.functional

CASES = [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.5}),
         ("silu", {}), ("relu6", {}), ("hardtanh", {}), ("selu", {}), ("celu", {})]


@pytest.mark.parametrize("name,kw", CASES)
def test_functional_inplace_writes_the_input_and_matches_torch(torch, name, kw):
    x0 = np.array([-7.0, -1.0, -0.25, 0.5, 2.0, 6.5])
    w0 = np.arange(1.0, 7.0)
    a = ag.tensor(x0, requires_grad=True)
    t = torch.tensor(x0, requires_grad=True)
    b, u = a * 1.0, t * 1.0
    out, tout = getattr(F, name)(b, inplace=True, **kw), getattr(torch.nn.functional, name)(
        u, inplace=True, **kw)
    assert out is b and tout is u
    np.testing.assert_allclose(b.detach().numpy(), u.detach().numpy(), rtol=1e-15, atol=0)
    (out * ag.tensor(w0)).sum().backward()
    (tout * torch.tensor(w0)).sum().backward()
    # (PyTorch's in-place ELU-type backward works from the output, y + alpha, where the
    # out-of-place one works from exp(x): a few float64 roundings apart)
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("name,kw", CASES)
def test_inplace_on_a_leaf_that_requires_grad_is_refused_and_changes_nothing(name, kw):
    x = ag.tensor([-1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        getattr(F, name)(x, inplace=True, **kw)
    np.testing.assert_array_equal(x.detach().numpy(), [-1.0, 2.0])
    with ag.no_grad():  # allowed without recording, as PyTorch
        getattr(F, name)(x, inplace=True, **kw)
    assert x.detach().numpy()[1] != 0


@pytest.mark.parametrize("cls,args", [("ReLU", ()), ("LeakyReLU", (0.1,)), ("ELU", (0.5,)),
                                      ("SiLU", ()), ("ReLU6", ()), ("Hardtanh", ())])
def test_modules_with_inplace_write_the_input_and_print_as_torch(torch, cls, args):
    ours, theirs = getattr(ag.nn, cls)(*args, inplace=True), getattr(torch.nn, cls)(
        *args, inplace=True)
    assert repr(ours) == repr(theirs)
    x0 = np.array([-2.0, -0.5, 0.5, 3.0])
    x, tx = ag.tensor(x0), torch.tensor(x0)
    assert ours(x) is x and theirs(tx) is tx
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-15, atol=0)


def test_alpha_dropout_inplace_writes_the_input_in_training():
    ag.manual_seed(0)
    x = ag.ones(1000)
    out = ag.nn.AlphaDropout(0.5, inplace=True).train()(x)
    assert out is x and not np.all(x.numpy() == 1.0)


def test_dropout_inplace_records_the_mask_in_the_gradient():
    ag.manual_seed(0)
    a = ag.ones(1000, requires_grad=True)
    b = a * 1.0
    out = F.dropout(b, 0.5, training=True, inplace=True)
    assert out is b
    out.sum().backward()
    kept = b.detach().numpy() != 0
    np.testing.assert_array_equal(a.grad.numpy(), np.where(kept, 2.0, 0.0))
    assert 0 < kept.sum() < 1000
