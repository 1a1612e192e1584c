"""Anomaly detection: the node that returns NaN/inf is named, with its forward trace."""
import os
import warnings

import numpy as np
import pytest

import autograd_gpu as ag
from autograd_gpu.autograd.anomaly import (
    detect_anomaly, is_anomaly_enabled, set_detect_anomaly,
)
from autograd_gpu.autograd.node import Node

from conftest import to_numpy

HERE = os.path.basename(__file__)


@pytest.fixture(autouse=True)
def _mode_restored():
    assert not is_anomaly_enabled()
    yield
    assert not is_anomaly_enabled(), "anomaly mode leaked out of a test"
    Node._record_trace = False


def _torch_anomaly_message(torch, build):
    """The error torch's detect_anomaly raises for the same program."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.autograd.detect_anomaly():
            try:
                build(torch)
            except RuntimeError as e:
                return str(e)
    return None


def _sqrt_of_negative(m, device=None):
    kw = {} if device is None else {"device": device}
    x = m.tensor([-1.0, 4.0], requires_grad=True, **kw)
    y = m.sqrt(x) * 2.0
    y.sum().backward()


def test_nan_names_the_node_and_the_forward_line(device, torch):
    with np.errstate(all="ignore"), detect_anomaly():
        with pytest.raises(RuntimeError) as info:
            _sqrt_of_negative(ag, device)
    msg = str(info.value)
    assert msg.startswith("Function 'SqrtBackward0' returned nan values in its 0th output.")
    # torch's anomaly mode blames the same node with the same words
    theirs = _torch_anomaly_message(torch, _sqrt_of_negative)
    assert theirs is not None and theirs.split(".")[0] == msg.split(".")[0]
    # the trace points at the forward op's line in this file, not into the library
    assert "Traceback of forward call" in msg
    assert HERE in msg and "y = m.sqrt(x) * 2.0" in msg
    tail = msg.strip().splitlines()
    assert "m.sqrt(x)" in tail[-1]


def test_inf_is_reported_at_the_node_that_made_it(device):
    x = ag.tensor([0.0, 1.0], requires_grad=True, device=device)
    with np.errstate(all="ignore"), detect_anomaly():
        y = ag.log(x)
        with pytest.raises(RuntimeError, match=r"^Function 'LogBackward0' returned inf values in its 0th output"):
            (y * 3.0).sum().backward()


def test_second_input_index_is_named(device):
    a = ag.tensor([1.0, 2.0], device=device)  # a constant: only b's gradient is returned
    b = ag.tensor([0.0, 1.0], requires_grad=True, device=device)
    with np.errstate(all="ignore"), detect_anomaly():
        y = a / b
        with pytest.raises(RuntimeError, match="'DivBackward0' returned inf values in its 1th output"):
            y.sum().backward()


def test_off_by_default_and_nothing_recorded(device):
    assert Node._record_trace is False
    x = ag.tensor([-1.0, 4.0], requires_grad=True, device=device)
    with np.errstate(all="ignore"):
        y = ag.sqrt(x)
        assert y.grad_fn._anomaly_trace is None
        y.sum().backward()  # no error: NaN gradients pass silently, as in PyTorch
    g = to_numpy(x.grad)
    assert np.isnan(g[0]) and g[1] == pytest.approx(0.25)


def test_decorator_form(device):
    @detect_anomaly()
    def step():
        x = ag.tensor([-2.0], requires_grad=True, device=device)
        ag.sqrt(x).sum().backward()

    with np.errstate(all="ignore"), pytest.raises(RuntimeError, match="SqrtBackward0"):
        step()
    assert not is_anomaly_enabled()


def test_set_detect_anomaly_global_and_as_context(device):
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        x = ag.tensor([-2.0], requires_grad=True, device=device)
        with np.errstate(all="ignore"), pytest.raises(RuntimeError, match="SqrtBackward0"):
            ag.sqrt(x).sum().backward()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()
    with set_detect_anomaly(True):
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()


def test_mode_restored_after_an_error():
    with pytest.raises(ValueError):
        with detect_anomaly():
            raise ValueError("boom")
    assert not is_anomaly_enabled()


def test_check_nan_false_keeps_traces_without_checks(device):
    x = ag.tensor([-1.0], requires_grad=True, device=device)
    with np.errstate(all="ignore"), detect_anomaly(check_nan=False):
        y = ag.sqrt(x)
        assert HERE in y.grad_fn._anomaly_trace
        y.sum().backward()
    assert np.isnan(to_numpy(x.grad)[0])


def test_finite_backward_is_unchanged(device, torch):
    x0 = np.array([0.5, 1.5, 2.5])
    x = ag.tensor(x0, requires_grad=True, device=device)
    with detect_anomaly():
        (ag.exp(x) * ag.sin(x)).sum().backward()
    tx = torch.tensor(x0, requires_grad=True)
    (torch.exp(tx) * torch.sin(tx)).sum().backward()
    np.testing.assert_allclose(to_numpy(x.grad), tx.grad.numpy(), rtol=1e-12)


def test_create_graph_backward_is_checked_too(device):
    # second order: the first backward is finite, the NaN appears in the graph of the gradient
    x = ag.tensor([-1.0, 1.0], requires_grad=True, device=device)
    with np.errstate(all="ignore"), detect_anomaly():
        y = (x ** 3).sum()
        (g,) = ag.autograd.grad(y, x, create_graph=True)
        with pytest.raises(RuntimeError, match="returned nan values"):
            ag.sqrt(g - 4.0).sum().backward()


def test_node_created_before_enabling_says_so(device):
    x = ag.tensor([-1.0], requires_grad=True, device=device)
    with np.errstate(all="ignore"):
        y = ag.sqrt(x)
        with detect_anomaly(), pytest.raises(RuntimeError, match="created before anomaly"):
            y.sum().backward()


def test_exported_from_autograd_namespace(device):
    assert ag.autograd.detect_anomaly is detect_anomaly
    assert ag.autograd.set_detect_anomaly is set_detect_anomaly
    x = ag.tensor([-3.0], requires_grad=True, device=device)
    with np.errstate(all="ignore"), ag.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match="^Function 'SqrtBackward0' returned nan"):
            ag.sqrt(x).backward()
