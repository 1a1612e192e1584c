"""The compatibility survey: which of the PyTorch names everyday programs use
(tests/compat_names.py) exist here, and for each existing one with a sample call in SAMPLES
below, that the call gives PyTorch's result (values, shapes and dtypes; float64 inputs,
rtol 1e-6). The names without a sample call are checked for existence only, and the table
says so.

    AUTOGRAD_GPU_COMPAT_TABLE=docs/compat.md pytest tests/test_compat.py

writes the table as Markdown to that path. The test fails when a name listed as present
goes missing (KNOWN_MISSING is the measured gap) or a sample call stops matching PyTorch.
"""
import functools
import os

import numpy as np
import pytest

import autograd_gpu as ag
import autograd_gpu.nn.functional  # noqa: F401
from compat_names import NAMES

A = np.array([[0.25, 0.5, 0.75], [0.4, 0.6, 0.3]])
B = np.array([[0.5, 0.2, 0.9], [0.7, 0.35, 0.45]])
SQ = np.array([[2.0, 0.5], [0.25, 3.0]])


def _x(M, a=A):
    return M.tensor(a, dtype=M.float64)


def _(s):
    return s.split()


SAMPLES = {}


def sample(key):
    def deco(f):
        SAMPLES[key] = f
        return f
    return deco


for _n in _("""abs sign sqrt rsqrt exp exp2 expm1 log log2 log10 log1p sin cos tan asin acos
        atan sinh cosh tanh asinh atanh sigmoid logit erf erfc erfinv floor ceil round trunc
        frac reciprocal square nan_to_num neg isnan isinf isfinite isposinf isneginf
        logical_not relu t flatten fliplr flipud tril triu trace msort sum mean prod std var
        max min amax amin argmax argmin norm all any count_nonzero nansum nanmean median
        nanmedian clone unbind aminmax std_mean var_mean nonzero argwhere unique
        is_floating_point numel"""):
    if _n.endswith("_"):
        continue
    SAMPLES["torch." + _n] = (lambda n: lambda M: getattr(M, n)(_x(M)))(_n)
for _n in _("""add sub mul div true_divide floor_divide remainder fmod pow atan2 maximum
        minimum hypot logaddexp xlogy copysign heaviside eq ne lt le gt ge equal allclose
        isclose logical_and logical_or logical_xor dist"""):
    SAMPLES["torch." + _n] = (lambda n: lambda M: getattr(M, n)(_x(M), _x(M, B)))(_n)
for _n in _("""sum mean prod std var max min amax amin argmax argmin logsumexp norm all any
        cumsum cumprod cummax cummin logcumsumexp sort argsort softmax log_softmax
        count_nonzero nansum nanmean median nanmedian mode squeeze unsqueeze roll unbind"""):
    SAMPLES[f"torch.{_n}(dim)"] = (lambda n: lambda M: getattr(M, n)(_x(M), 1))(_n)
SAMPLES.update({
    "torch.tensor": lambda M: M.tensor([[1, 2], [3, 4]]),
    "torch.as_tensor": lambda M: M.as_tensor([1.5, 2.5]),
    "torch.from_numpy": lambda M: M.from_numpy(np.arange(3.0)),
    "torch.zeros": lambda M: M.zeros(2, 3),
    "torch.ones": lambda M: M.ones((2, 1), dtype=M.int64),
    "torch.empty": lambda M: M.empty(2, 3).shape,
    "torch.full": lambda M: M.full((2, 2), 7.0),
    "torch.eye": lambda M: M.eye(3, 2),
    "torch.arange": lambda M: M.arange(1, 10, 3),
    "torch.linspace": lambda M: M.linspace(0, 1, 5),
    "torch.logspace": lambda M: M.logspace(0, 2, 3),
    "torch.zeros_like": lambda M: M.zeros_like(_x(M)),
    "torch.ones_like": lambda M: M.ones_like(_x(M)),
    "torch.full_like": lambda M: M.full_like(_x(M), 2.0),
    "torch.empty_like": lambda M: M.empty_like(_x(M)).shape,
    "torch.rand": lambda M: M.rand(2, 3).shape,
    "torch.randn": lambda M: M.randn(4).dtype == M.float32,
    "torch.randint": lambda M: M.randint(0, 5, (3,)).dtype == M.int64,
    "torch.randperm": lambda M: M.sort(M.randperm(5)).values,
    "torch.get_default_dtype": lambda M: str(M.get_default_dtype()).split(".")[1],
    "torch.is_tensor": lambda M: (M.is_tensor(_x(M)), M.is_tensor(1.0)),
    "torch.cat": lambda M: M.cat([_x(M), _x(M, B)], 1),
    "torch.concat": lambda M: M.concat([_x(M), _x(M, B)]),
    "torch.concatenate": lambda M: M.concatenate([_x(M), _x(M, B)], 0),
    "torch.stack": lambda M: M.stack([_x(M), _x(M, B)], 1),
    "torch.hstack": lambda M: M.hstack([_x(M), _x(M, B)]),
    "torch.vstack": lambda M: M.vstack([_x(M), _x(M, B)]),
    "torch.dstack": lambda M: M.dstack([_x(M), _x(M, B)]),
    "torch.column_stack": lambda M: M.column_stack([_x(M), _x(M, B)]),
    "torch.split": lambda M: M.split(_x(M), [1, 2], 1),
    "torch.chunk": lambda M: M.chunk(_x(M), 2, 1),
    "torch.tensor_split": lambda M: M.tensor_split(_x(M), 3, 1),
    "torch.reshape": lambda M: M.reshape(_x(M), (3, 2)),
    "torch.unflatten": lambda M: M.unflatten(_x(M).flatten(), 0, (3, 2)),
    "torch.transpose": lambda M: M.transpose(_x(M), 0, 1),
    "torch.swapaxes": lambda M: M.swapaxes(_x(M), 0, 1),
    "torch.permute": lambda M: M.permute(_x(M), (1, 0)),
    "torch.movedim": lambda M: M.movedim(_x(M), 0, 1),
    "torch.flip": lambda M: M.flip(_x(M), (0, 1)),
    "torch.rot90": lambda M: M.rot90(_x(M)),
    "torch.narrow": lambda M: M.narrow(_x(M), 1, 1, 2),
    "torch.select": lambda M: M.select(_x(M), 1, 2),
    "torch.gather": lambda M: M.gather(_x(M), 1, M.tensor([[2, 0], [1, 1]])),
    "torch.scatter": lambda M: M.scatter(_x(M), 1, M.tensor([[2], [0]]), _x(M, B)),
    "torch.scatter_add": lambda M: M.scatter_add(_x(M), 1, M.tensor([[2, 2], [0, 1]]), _x(M, B)),
    "torch.index_select": lambda M: M.index_select(_x(M), 1, M.tensor([2, 0])),
    "torch.masked_select": lambda M: M.masked_select(_x(M), _x(M) > 0.4),
    "torch.masked_fill": lambda M: M.masked_fill(_x(M), _x(M) > 0.4, -1.0),
    "torch.take": lambda M: M.take(_x(M), M.tensor([0, 5])),
    "torch.take_along_dim": lambda M: M.take_along_dim(_x(M), M.tensor([[2], [0]]), 1),
    "torch.where": lambda M: M.where(_x(M) > 0.4, _x(M), _x(M, B)),
    "torch.tile": lambda M: M.tile(_x(M), (2, 1)),
    "torch.repeat_interleave": lambda M: M.repeat_interleave(_x(M), 2, 0),
    "torch.broadcast_to": lambda M: M.broadcast_to(_x(M)[0], (2, 2, 3)),
    "torch.broadcast_tensors": lambda M: M.broadcast_tensors(_x(M)[0], _x(M)[:, :1]),
    "torch.meshgrid": lambda M: M.meshgrid(M.arange(2), M.arange(3), indexing="ij"),
    "torch.diagonal": lambda M: M.diagonal(_x(M), 1),
    "torch.diag_embed": lambda M: M.diag_embed(_x(M)),
    "torch.block_diag": lambda M: M.block_diag(_x(M), _x(M, SQ)),
    "torch.cartesian_prod": lambda M: M.cartesian_prod(M.arange(2), M.arange(3)),
    "torch.combinations": lambda M: M.combinations(_x(M)[0]),
    "torch.diag": lambda M: M.diag(_x(M)[0]),
    "torch.clamp": lambda M: M.clamp(_x(M), 0.3, 0.6),
    "torch.clip": lambda M: M.clip(_x(M), max=0.5),
    "torch.lerp": lambda M: M.lerp(_x(M), _x(M, B), 0.3),
    "torch.addcmul": lambda M: M.addcmul(_x(M), _x(M), _x(M, B), value=2),
    "torch.addcdiv": lambda M: M.addcdiv(_x(M), _x(M), _x(M, B), value=2),
    "torch.topk": lambda M: M.topk(_x(M), 2),
    "torch.kthvalue": lambda M: M.kthvalue(_x(M), 2),
    "torch.quantile": lambda M: M.quantile(_x(M), 0.3, dim=1),
    "torch.nanquantile": lambda M: M.nanquantile(_x(M), 0.3),
    "torch.unique_consecutive": lambda M: M.unique_consecutive(M.tensor([1, 1, 2, 2, 1])),
    "torch.searchsorted": lambda M: M.searchsorted(M.tensor([0.1, 0.5, 0.9]), _x(M)),
    "torch.bucketize": lambda M: M.bucketize(_x(M), M.tensor([0.1, 0.5, 0.9])),
    "torch.histc": lambda M: M.histc(_x(M), 4, 0, 1),
    "torch.bincount": lambda M: M.bincount(M.tensor([0, 2, 2, 3])),
    "torch.bincount(weights)": lambda M: M.bincount(M.tensor([0, 2, 2]), _x(M)[0], minlength=5),
    "torch.histc(range)": lambda M: M.histc(_x(M), 3),
    "torch.matmul": lambda M: M.matmul(_x(M), _x(M, B).T),
    "torch.mm": lambda M: M.mm(_x(M), _x(M, B).T),
    "torch.bmm": lambda M: M.bmm(_x(M)[None], _x(M, B).T[None]),
    "torch.mv": lambda M: M.mv(_x(M), _x(M, B)[0]),
    "torch.dot": lambda M: M.dot(_x(M)[0], _x(M, B)[0]),
    "torch.outer": lambda M: M.outer(_x(M)[0], _x(M, B)[1]),
    "torch.inner": lambda M: M.inner(_x(M)[0], _x(M, B)[1]),
    "torch.einsum": lambda M: M.einsum("ij,kj->ik", _x(M), _x(M, B)),
    "torch.tensordot": lambda M: M.tensordot(_x(M), _x(M, B), ([1], [1])),
    "torch.kron": lambda M: M.kron(_x(M), _x(M, SQ)),
    "torch.cross": lambda M: M.cross(_x(M), _x(M, B), dim=1),
    "torch.addmm": lambda M: M.addmm(_x(M, SQ), _x(M), _x(M, B).T),
    "torch.addmv": lambda M: M.addmv(_x(M)[:, 0], _x(M), _x(M, B)[0]),
    "torch.baddbmm": lambda M: M.baddbmm(_x(M, SQ)[None], _x(M)[None], _x(M, B).T[None]),
    "torch.addbmm": lambda M: M.addbmm(_x(M, SQ), _x(M)[None], _x(M, B).T[None]),
    "torch.inverse": lambda M: M.inverse(_x(M, SQ)),
    "torch.det": lambda M: M.det(_x(M, SQ)),
    "torch.logdet": lambda M: M.logdet(_x(M, SQ)),
    "torch.slogdet": lambda M: M.slogdet(_x(M, SQ)),
    "torch.pinverse": lambda M: M.pinverse(_x(M)),
    "torch.matrix_power": lambda M: M.matrix_power(_x(M, SQ), 3),
    "torch.cdist": lambda M: M.cdist(_x(M), _x(M, B)),
    "torch.cholesky": lambda M: M.cholesky(_x(M, SQ) @ _x(M, SQ).T),
    "torch.is_grad_enabled": lambda M: M.is_grad_enabled(),
    "torch.pi": lambda M: M.pi, "torch.e": lambda M: M.e, "torch.inf": lambda M: M.inf,
    "torch.finfo": lambda M: (M.finfo(M.float32).eps, M.finfo(M.float64).max),
    "torch.iinfo": lambda M: (M.iinfo(M.int32).max, M.iinfo(M.int8).min),
    "torch.Size": lambda M: tuple(M.Size([2, 3])),
})

for _n in _("""abs sqrt exp log sin cos tanh sigmoid relu floor ceil round sign reciprocal
        square neg sum mean prod std var max min amax amin argmax argmin norm all any
        clone t isnan isinf isfinite tolist numel dim float double long int bool
        contiguous is_contiguous is_floating_point flatten"""):
    SAMPLES["Tensor." + _n] = (lambda n: lambda M: getattr(_x(M), n)())(_n)
for _n in _("add sub mul div pow eq ne lt le gt ge allclose equal"):
    SAMPLES["Tensor." + _n] = (lambda n: lambda M: getattr(_x(M), n)(_x(M, B)))(_n)
for _n in _("add_ sub_ mul_ div_ pow_ copy_"):
    SAMPLES["Tensor." + _n] = (lambda n: lambda M: getattr(_x(M), n)(_x(M, B)))(_n)
SAMPLES.update({
    "Tensor.item": lambda M: _x(M)[1, 2].item(), "Tensor.matmul": lambda M: _x(M).matmul(_x(M, B).T),
    "Tensor.shape": lambda M: tuple(_x(M).shape), "Tensor.size": lambda M: _x(M).size(1),
    "Tensor.ndim": lambda M: _x(M).ndim, "Tensor.T": lambda M: _x(M).T,
    "Tensor.mT": lambda M: _x(M)[None].mT, "Tensor.dtype": lambda M: str(_x(M).dtype).split(".")[1],
    "Tensor.view": lambda M: _x(M).view(3, 2), "Tensor.reshape": lambda M: _x(M).reshape(-1),
    "Tensor.view_as": lambda M: _x(M).view_as(_x(M).T), "Tensor.reshape_as": lambda M: _x(M).reshape_as(_x(M).T),
    "Tensor.unflatten": lambda M: _x(M).unflatten(1, (3, 1)),
    "Tensor.squeeze": lambda M: _x(M)[None].squeeze(0), "Tensor.unsqueeze": lambda M: _x(M).unsqueeze(1),
    "Tensor.transpose": lambda M: _x(M).transpose(0, 1), "Tensor.permute": lambda M: _x(M).permute(1, 0),
    "Tensor.expand": lambda M: _x(M)[:1].expand(3, 3), "Tensor.expand_as": lambda M: _x(M)[:1].expand_as(_x(M)),
    "Tensor.repeat": lambda M: _x(M).repeat(2, 2), "Tensor.flip": lambda M: _x(M).flip(0),
    "Tensor.roll": lambda M: _x(M).roll(1, 1), "Tensor.chunk": lambda M: _x(M).chunk(3, 1),
    "Tensor.split": lambda M: _x(M).split(1, 1), "Tensor.unbind": lambda M: _x(M).unbind(1),
    "Tensor.narrow": lambda M: _x(M).narrow(1, 0, 2), "Tensor.select": lambda M: _x(M).select(1, 0),
    "Tensor.gather": lambda M: _x(M).gather(1, M.tensor([[1], [2]])),
    "Tensor.scatter": lambda M: _x(M).scatter(1, M.tensor([[1], [2]]), 5.0),
    "Tensor.scatter_": lambda M: _x(M).scatter_(1, M.tensor([[1], [2]]), 5.0),
    "Tensor.scatter_add": lambda M: _x(M).scatter_add(1, M.tensor([[1], [1]]), _x(M, B)),
    "Tensor.index_select": lambda M: _x(M).index_select(1, M.tensor([2, 0])),
    "Tensor.masked_fill": lambda M: _x(M).masked_fill(_x(M) > 0.4, 0.0),
    "Tensor.masked_fill_": lambda M: _x(M).masked_fill_(_x(M) > 0.4, 0.0),
    "Tensor.index_fill": lambda M: _x(M).index_fill(1, M.tensor([0]), -1.0),
    "Tensor.index_add": lambda M: _x(M).index_add(0, M.tensor([1, 1]), _x(M, B)),
    "Tensor.index_copy": lambda M: _x(M).index_copy(0, M.tensor([1, 0]), _x(M, B)),
    "Tensor.clamp": lambda M: _x(M).clamp(0.3, 0.6), "Tensor.clamp_": lambda M: _x(M).clamp_(max=0.5),
    "Tensor.clamp_min": lambda M: _x(M).clamp_min(0.4), "Tensor.clamp_max": lambda M: _x(M).clamp_max(0.4),
    "Tensor.zero_": lambda M: _x(M).zero_(), "Tensor.fill_": lambda M: _x(M).fill_(3.0),
    "Tensor.logsumexp": lambda M: _x(M).logsumexp(1), "Tensor.softmax": lambda M: _x(M).softmax(1),
    "Tensor.log_softmax": lambda M: _x(M).log_softmax(0), "Tensor.cumsum": lambda M: _x(M).cumsum(1),
    "Tensor.cumprod": lambda M: _x(M).cumprod(0), "Tensor.sort": lambda M: _x(M).sort(1),
    "Tensor.argsort": lambda M: _x(M).argsort(1), "Tensor.topk": lambda M: _x(M).topk(2),
    "Tensor.mm": lambda M: _x(M).mm(_x(M, B).T), "Tensor.bmm": lambda M: _x(M)[None].bmm(_x(M, B).T[None]),
    "Tensor.mv": lambda M: _x(M).mv(_x(M, B)[0]), "Tensor.dot": lambda M: _x(M)[0].dot(_x(M, B)[0]),
    "Tensor.outer": lambda M: _x(M)[0].outer(_x(M, B)[0]),
    "Tensor.new_zeros": lambda M: _x(M).new_zeros(2), "Tensor.new_ones": lambda M: _x(M).new_ones((1, 2)),
    "Tensor.new_full": lambda M: _x(M).new_full((2,), 4.0), "Tensor.new_tensor": lambda M: _x(M).new_tensor([1, 2]),
    "Tensor.new_empty": lambda M: tuple(_x(M).new_empty(3).shape),
    "Tensor.type_as": lambda M: _x(M).type_as(M.tensor([1])), "Tensor.element_size": lambda M: _x(M).element_size(),
    "Tensor.nbytes": lambda M: _x(M).nbytes, "Tensor.itemsize": lambda M: _x(M).itemsize,
    "Tensor.stride": lambda M: _x(M).stride(), "Tensor.storage_offset": lambda M: _x(M)[1].storage_offset(),
    "Tensor.is_cuda": lambda M: _x(M).is_cuda, "Tensor.requires_grad": lambda M: _x(M).requires_grad,
    "Tensor.is_leaf": lambda M: _x(M).is_leaf, "Tensor.detach": lambda M: _x(M).detach(),
    "Tensor.to": lambda M: _x(M).to(M.float32), "Tensor.cpu": lambda M: _x(M).cpu(),
    "Tensor.type": lambda M: _x(M).type(), "Tensor.half": lambda M: _x(M).half(),
    "Tensor.numpy": lambda M: _x(M).numpy(), "Tensor.data": lambda M: _x(M).data,
    "Tensor.grad": lambda M: _backward(M)[0], "Tensor.backward": lambda M: _backward(M)[0],
    "Tensor.grad_fn": lambda M: type(_x(M).requires_grad_().exp().grad_fn).__name__ if M is not ag
    else _x(M).requires_grad_().exp().grad_fn.name(),
    "Tensor.retain_grad": lambda M: _backward(M, retain=True)[1],
    "Tensor.register_hook": lambda M: _backward(M, hook=True)[0],
    "Tensor.requires_grad_": lambda M: _x(M).requires_grad_().requires_grad,
})


def _backward(M, retain=False, hook=False):
    x = _x(M).requires_grad_()
    y = x.exp()
    if retain:
        y.retain_grad()
    if hook:
        x.register_hook(lambda g: g * 2)
    (y * _x(M, B)).sum().backward()
    return x.grad, (y.grad if retain else None)


for _n in _("""ReLU LeakyReLU ELU SELU GELU SiLU Mish Sigmoid Tanh Softplus Hardtanh ReLU6
        Softsign Tanhshrink Hardswish Hardsigmoid Identity Flatten"""):
    SAMPLES["nn." + _n] = (lambda n: lambda M: getattr(M.nn, n)()(_x(M)))(_n)
for _n in _("Softmax LogSoftmax"):
    SAMPLES["nn." + _n] = (lambda n: lambda M: getattr(M.nn, n)(dim=1)(_x(M)))(_n)
for _n in _("MSELoss L1Loss SmoothL1Loss HuberLoss BCELoss BCEWithLogitsLoss KLDivLoss"):
    SAMPLES["nn." + _n] = (lambda n: lambda M: getattr(M.nn, n)()(_x(M), _x(M, B)))(_n)
SAMPLES.update({
    "nn.CrossEntropyLoss": lambda M: M.nn.CrossEntropyLoss()(_x(M), M.tensor([2, 0])),
    "nn.NLLLoss": lambda M: M.nn.NLLLoss()(_x(M), M.tensor([2, 0])),
    "nn.CosineSimilarity": lambda M: M.nn.CosineSimilarity()(_x(M), _x(M, B)),
    "nn.PairwiseDistance": lambda M: M.nn.PairwiseDistance()(_x(M), _x(M, B)),
    "nn.Unflatten": lambda M: M.nn.Unflatten(1, (3, 1))(_x(M)),
    "nn.MaxPool1d": lambda M: M.nn.MaxPool1d(2)(_x(M)[None]),
    "nn.AvgPool1d": lambda M: M.nn.AvgPool1d(2)(_x(M)[None]),
    "nn.AdaptiveAvgPool1d": lambda M: M.nn.AdaptiveAvgPool1d(2)(_x(M)[None]),
    "nn.MaxPool2d": lambda M: M.nn.MaxPool2d(2, 1)(_x(M)[None]),
    "nn.AvgPool2d": lambda M: M.nn.AvgPool2d(2, 1)(_x(M)[None]),
    "nn.AdaptiveAvgPool2d": lambda M: M.nn.AdaptiveAvgPool2d(1)(_x(M)[None]),
    "nn.AdaptiveMaxPool2d": lambda M: M.nn.AdaptiveMaxPool2d(1)(_x(M)[None]),
    "nn.Dropout": lambda M: M.nn.Dropout(0.0)(_x(M)),
    "nn.ZeroPad2d": lambda M: M.nn.ZeroPad2d(1)(_x(M)[None]),
    "nn.ConstantPad1d": lambda M: M.nn.ConstantPad1d(1, 2.0)(_x(M)),
    "nn.ReflectionPad2d": lambda M: M.nn.ReflectionPad2d(1)(_x(M)[None]),
    "nn.PixelShuffle": lambda M: M.nn.PixelShuffle(2)(M.arange(8.0).reshape(1, 4, 1, 2)),
    "nn.Upsample": lambda M: M.nn.Upsample(scale_factor=2)(_x(M)[None]),
    "nn.MarginRankingLoss": lambda M: M.nn.MarginRankingLoss()(_x(M)[0], _x(M, B)[0], M.tensor([1.0, -1.0, 1.0])),
})
for _n in _("""relu relu6 leaky_relu elu selu gelu silu mish sigmoid tanh softplus softsign
        hardtanh hardswish hardsigmoid logsigmoid"""):
    SAMPLES["nn.functional." + _n] = (lambda n: lambda M: getattr(M.nn.functional, n)(_x(M)))(_n)
for _n in _("""mse_loss l1_loss smooth_l1_loss huber_loss binary_cross_entropy
        binary_cross_entropy_with_logits kl_div cosine_similarity pairwise_distance"""):
    SAMPLES["nn.functional." + _n] = (lambda n: lambda M: getattr(M.nn.functional, n)(_x(M), _x(M, B)))(_n)
SAMPLES.update({
    "nn.functional.softmax": lambda M: M.nn.functional.softmax(_x(M), 1),
    "nn.functional.log_softmax": lambda M: M.nn.functional.log_softmax(_x(M), 0),
    "nn.functional.linear": lambda M: M.nn.functional.linear(_x(M), _x(M, B), _x(M)[0, :2]),
    "nn.functional.cross_entropy": lambda M: M.nn.functional.cross_entropy(_x(M), M.tensor([2, 0])),
    "nn.functional.nll_loss": lambda M: M.nn.functional.nll_loss(_x(M), M.tensor([1, 0])),
    "nn.functional.one_hot": lambda M: M.nn.functional.one_hot(M.tensor([0, 2]), 3),
    "nn.functional.pad": lambda M: M.nn.functional.pad(_x(M), (1, 2)),
    "nn.functional.normalize": lambda M: M.nn.functional.normalize(_x(M)),
    "nn.functional.dropout": lambda M: M.nn.functional.dropout(_x(M), 0.0),
    "nn.functional.glu": lambda M: M.nn.functional.glu(M.cat([_x(M), _x(M, B)], 1)),
    "nn.functional.layer_norm": lambda M: M.nn.functional.layer_norm(_x(M), (3,)),
    "nn.functional.group_norm": lambda M: M.nn.functional.group_norm(_x(M)[None], 1),
    "nn.functional.batch_norm": lambda M: M.nn.functional.batch_norm(_x(M), None, None, training=True),
    "nn.functional.embedding": lambda M: M.nn.functional.embedding(M.tensor([1, 0]), _x(M)),
    "nn.functional.conv1d": lambda M: M.nn.functional.conv1d(_x(M)[None], _x(M, B)[None, :, :2]),
    "nn.functional.conv2d": lambda M: M.nn.functional.conv2d(_x(M)[None, None], _x(M, SQ)[None, None]),
    "nn.functional.max_pool2d": lambda M: M.nn.functional.max_pool2d(_x(M)[None], 2, 1),
    "nn.functional.avg_pool2d": lambda M: M.nn.functional.avg_pool2d(_x(M)[None], 2, 1),
    "nn.functional.adaptive_avg_pool2d": lambda M: M.nn.functional.adaptive_avg_pool2d(_x(M)[None], 1),
    "nn.functional.interpolate": lambda M: M.nn.functional.interpolate(_x(M)[None], scale_factor=2),
    "nn.functional.scaled_dot_product_attention": lambda M: M.nn.functional.scaled_dot_product_attention(
        _x(M)[None], _x(M, B)[None], _x(M)[None]),
    "nn.functional.triplet_margin_loss": lambda M: M.nn.functional.triplet_margin_loss(_x(M), _x(M, B), _x(M).flip(0)),
    "autograd.grad": lambda M: _grad(M),
    "autograd.functional.jacobian": lambda M: M.autograd.functional.jacobian(lambda v: v.exp() * v, _x(M)[0]),
    "autograd.functional.hessian": lambda M: M.autograd.functional.hessian(lambda v: (v ** 3).sum(), _x(M)[0]),
    "autograd.functional.vjp": lambda M: M.autograd.functional.vjp(lambda v: v.sin(), _x(M)[0], _x(M, B)[0]),
    "autograd.functional.jvp": lambda M: M.autograd.functional.jvp(lambda v: v.sin(), _x(M)[0], _x(M, B)[0]),
    "autograd.functional.hvp": lambda M: M.autograd.functional.hvp(lambda v: (v ** 3).sum(), _x(M)[0], _x(M, B)[0]),
    "autograd.functional.vhp": lambda M: M.autograd.functional.vhp(lambda v: (v ** 3).sum(), _x(M)[0], _x(M, B)[0]),
    "utils.data.TensorDataset": lambda M: M.utils.data.TensorDataset(_x(M), _x(M, B))[1],
    "utils.data.DataLoader": lambda M: list(M.utils.data.DataLoader(M.utils.data.TensorDataset(_x(M)), batch_size=1))[1],
    "utils.data.default_collate": lambda M: M.utils.data.default_collate([(1, _x(M)[0]), (2, _x(M)[1])]),
    "utils.data.SequentialSampler": lambda M: list(M.utils.data.SequentialSampler(range(4))),
    "utils.data.BatchSampler": lambda M: list(M.utils.data.BatchSampler(range(5), 2, False)),
    "utils.data.Subset": lambda M: M.utils.data.Subset(M.utils.data.TensorDataset(_x(M)), [1])[0],
    "utils.data.ConcatDataset": lambda M: len(M.utils.data.ConcatDataset([range(2), range(3)])),
    "linalg.norm": lambda M: M.linalg.norm(_x(M)), "linalg.vector_norm": lambda M: M.linalg.vector_norm(_x(M), 3),
    "linalg.matrix_norm": lambda M: M.linalg.matrix_norm(_x(M, SQ)), "linalg.inv": lambda M: M.linalg.inv(_x(M, SQ)),
    "linalg.det": lambda M: M.linalg.det(_x(M, SQ)), "linalg.slogdet": lambda M: M.linalg.slogdet(_x(M, SQ)),
    "linalg.solve": lambda M: M.linalg.solve(_x(M, SQ), _x(M, SQ)[0]),
    "linalg.cholesky": lambda M: M.linalg.cholesky(_x(M, SQ) @ _x(M, SQ).T),
    "linalg.eigvalsh": lambda M: M.linalg.eigvalsh(_x(M, SQ) + _x(M, SQ).T),
    "linalg.svdvals": lambda M: M.linalg.svdvals(_x(M)), "linalg.pinv": lambda M: M.linalg.pinv(_x(M)),
    "linalg.matrix_rank": lambda M: M.linalg.matrix_rank(_x(M)),
    "linalg.matrix_power": lambda M: M.linalg.matrix_power(_x(M, SQ), 2),
    "linalg.cross": lambda M: M.linalg.cross(_x(M), _x(M, B)),
    "linalg.multi_dot": lambda M: M.linalg.multi_dot([_x(M), _x(M, B).T, _x(M, SQ)]),
    "distributions.Normal": lambda M: M.distributions.Normal(_x(M), _x(M, B)).log_prob(_x(M, B)),
    "distributions.Uniform": lambda M: M.distributions.Uniform(0.0, 2.0).log_prob(_x(M)),
    "distributions.Bernoulli": lambda M: M.distributions.Bernoulli(_x(M)).log_prob(M.ones(2, 3, dtype=M.float64)),
    "distributions.Categorical": lambda M: M.distributions.Categorical(probs=_x(M)).log_prob(M.tensor([0, 2])),
    "distributions.Exponential": lambda M: M.distributions.Exponential(_x(M)).log_prob(_x(M, B)),
    "distributions.Laplace": lambda M: M.distributions.Laplace(_x(M), _x(M, B)).log_prob(_x(M)),
    "distributions.Beta": lambda M: M.distributions.Beta(_x(M), _x(M, B)).log_prob(_x(M)),
    "distributions.Gamma": lambda M: M.distributions.Gamma(_x(M), _x(M, B)).log_prob(_x(M)),
    "optim.SGD": lambda M: _opt(M, lambda p: M.optim.SGD(p, lr=0.1, momentum=0.9)),
    "optim.Adam": lambda M: _opt(M, lambda p: M.optim.Adam(p, lr=0.1)),
    "optim.AdamW": lambda M: _opt(M, lambda p: M.optim.AdamW(p, lr=0.1)),
    "optim.RMSprop": lambda M: _opt(M, lambda p: M.optim.RMSprop(p, lr=0.1)),
    "optim.Adagrad": lambda M: _opt(M, lambda p: M.optim.Adagrad(p, lr=0.1)),
    "optim.lr_scheduler.StepLR": lambda M: _sched(M, lambda o: M.optim.lr_scheduler.StepLR(o, 2, 0.5)),
    "optim.lr_scheduler.ExponentialLR": lambda M: _sched(M, lambda o: M.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    "optim.lr_scheduler.CosineAnnealingLR": lambda M: _sched(M, lambda o: M.optim.lr_scheduler.CosineAnnealingLR(o, 5)),
    "optim.lr_scheduler.MultiStepLR": lambda M: _sched(M, lambda o: M.optim.lr_scheduler.MultiStepLR(o, [1, 3])),
    "optim.lr_scheduler.LambdaLR": lambda M: _sched(M, lambda o: M.optim.lr_scheduler.LambdaLR(o, lambda e: 1 / (e + 1))),
})


def _grad(M):
    x = _x(M).requires_grad_()
    return M.autograd.grad((x ** 3).sum(), x)


def _opt(M, make):
    p = _x(M).requires_grad_()
    opt = make([p])
    for _step in range(3):
        opt.zero_grad()
        ((p - _x(M, B)) ** 2).sum().backward()
        opt.step()
    return p.detach()


def _sched(M, make):
    p = _x(M).requires_grad_()
    opt = M.optim.SGD([p], lr=1.0)
    s = make(opt)
    lrs = []
    for _step in range(4):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


# ---------------------------------------------------------------- the survey

# what the survey measured as missing here (the gap; a name listed as present that goes
# missing fails the test, one that arrives is reported)
KNOWN_MISSING = set(_("""
    torch.cholesky torch.set_printoptions linalg.eig
    nn.Bilinear nn.Conv3d nn.EmbeddingBag nn.PixelShuffle
    nn.functional.affine_grid nn.functional.bilinear nn.functional.conv3d nn.functional.fold
    nn.functional.grid_sample nn.functional.pixel_shuffle nn.functional.unfold
    distributions.Binomial distributions.Dirichlet distributions.Exponential
    distributions.Laplace distributions.LogNormal distributions.Poisson
"""))


def _resolve(root, ns, name):
    obj = root
    if ns != "torch":
        for part in ("Tensor",) if ns == "Tensor" else ns.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return False, None
    return hasattr(obj, name), obj


def _plain(v):
    """Results as comparable Python/NumPy values."""
    if isinstance(v, ag.Tensor):
        return ("tensor", str(v.dtype).split(".")[1], v.detach().cpu().numpy())
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a torch tensor
        return ("tensor", str(v.dtype).split(".")[1], v.detach().numpy())
    if isinstance(v, (tuple, list)):
        return tuple(_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return ("ndarray", v.dtype.name, v)
    return v


def _same(a, b):
    if isinstance(a, tuple) and a and a[0] in ("tensor", "ndarray") and len(a) == 3:
        if not (isinstance(b, tuple) and len(b) == 3 and b[0] == a[0]):
            return False
        if a[1] != b[1] or a[2].shape != b[2].shape:
            return False
        if a[2].dtype.kind in "iub":
            return np.array_equal(a[2], b[2])
        return np.allclose(a[2], b[2], rtol=1e-6, atol=1e-9, equal_nan=True)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return np.isclose(a, b, rtol=1e-6, equal_nan=True)
    return a == b


def _run(key, lib):
    lib.manual_seed(0)
    return SAMPLES[key](lib)


@functools.lru_cache(maxsize=None)
def survey():
    """{namespace: [(name, present, verdict)]}: verdict 'same', 'differs: ...', or None
    (existence only)."""
    import torch

    out = {}
    for ns, names in NAMES.items():
        rows = []
        for name in names:
            present, _obj = _resolve(ag, ns, name)
            keys = [k for k in SAMPLES if k == f"{ns}.{name}" or k.startswith(f"{ns}.{name}(")]
            verdict = None
            if present and keys:
                bad = []
                for k in keys:
                    try:
                        ours = _plain(_run(k, ag))
                    except Exception as e:  # noqa: BLE001  (reported, and fails the test)
                        bad.append(f"{k}: raised {type(e).__name__}: {str(e)[:80]}")
                        continue
                    theirs = _plain(_run(k, torch))
                    if not _same(ours, theirs):
                        bad.append(f"{k}: result differs")
                verdict = "same" if not bad else "differs: " + "; ".join(bad)
            rows.append((name, present, verdict))
        out[ns] = rows
    return out


def table_markdown(result):
    total = sum(len(r) for r in result.values())
    present = sum(p for r in result.values() for _, p, _v in r)
    sampled = sum(v is not None for r in result.values() for _, _p, v in r)
    same = sum(v == "same" for r in result.values() for _, _p, v in r)
    lines = [
        "# PyTorch API coverage",
        "",
        "Written by `AUTOGRAD_GPU_COMPAT_TABLE=docs/compat.md pytest tests/test_compat.py`: the "
        "PyTorch names everyday programs use (tests/compat_names.py), whether each exists "
        "here, and for those with a sample call (tests/test_compat.py) whether it gives "
        "PyTorch's result (values, shape and dtype; float64, rtol 1e-6). \"exists\" means "
        "checked for existence only.",
        "",
        f"**{present} of {total} names exist ({100 * present / total:.0f}%); {sampled} of them "
        f"are checked on a sample call against PyTorch 2.13, {same} give its result; the other "
        f"{present - sampled} are checked for existence only.**",
        "",
        "| namespace | names | exist | sample call = PyTorch's | existence only | missing |",
        "|---|---|---|---|---|---|",
    ]
    for ns, rows in result.items():
        n = len(rows)
        p = sum(r[1] for r in rows)
        s = sum(r[2] == "same" for r in rows)
        e = sum(r[1] and r[2] is None for r in rows)
        lines.append(f"| `{_prefix(ns)}` | {n} | {p} | {s} | {e} | {n - p} |")
    for ns, rows in result.items():
        lines += ["", f"## `{_prefix(ns)}`", "", "| name | here | on a sample call |", "|---|---|---|"]
        for name, p, v in rows:
            here = "yes" if p else "**missing**"
            call = "" if not p else "exists" if v is None else "= PyTorch" if v == "same" else v
            lines.append(f"| `{name}` | {here} | {call} |")
    return "\n".join(lines) + "\n"


def _prefix(ns):
    return "torch" if ns == "torch" else "torch.Tensor" if ns == "Tensor" else "torch." + ns


PARAMS = [pytest.param(k, id=k) for k in SAMPLES]


@pytest.mark.parametrize("key", PARAMS)
def test_sample_call_matches_pytorch(key, torch):
    ns, _, name = key.partition("(")[0].rpartition(".")
    present, _obj = _resolve(ag, ns, name)
    if not present:
        pytest.skip(f"{key}: not here (counted as missing in the survey)")
    theirs = _plain(_run(key, torch))
    ours = _plain(_run(key, ag))
    assert _same(ours, theirs), f"{key}: {ours!r} != PyTorch's {theirs!r}"


def test_sample_calls_name_listed_names():
    listed = {f"{ns}.{n}" for ns, names in NAMES.items() for n in names}
    stray = [k for k in SAMPLES if k.partition("(")[0] not in listed]
    assert not stray, stray


def test_survey_and_table(torch):
    result = survey()
    missing = {f"{ns}.{n}" for ns, rows in result.items() for n, p, _v in rows if not p}
    regressed = sorted(missing - KNOWN_MISSING)
    assert not regressed, f"names that went missing: {regressed}"
    total = sum(len(r) for r in result.values())
    assert total > 400  # (a guard against an empty list)
    path = os.environ.get("AUTOGRAD_GPU_COMPAT_TABLE")
    if path:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w") as f:
            f.write(table_markdown(result))
