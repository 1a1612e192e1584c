"""``copy.deepcopy`` of tensors (and so of modules: TransformerEncoder clones its layer so,
as do RL target networks), as PyTorch: a leaf is copied with its data, requires_grad, grad
and attributes; its class is kept (a Parameter stays a Parameter). Pickling stays refused
(Tensor.__reduce_ex__): deepcopy looks for __deepcopy__ first."""
import copy

from .tensor import Tensor, _init

_NOT_LEAF = (
    "Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol "
    "at the moment.  If you were attempting to deepcopy a module, this may be because of a "
    "torch.nn.utils.weight_norm usage, see https://github.com/pytorch/pytorch/pull/103001"
)


def _tensor_deepcopy(self, memo):
    if self._grad_fn is not None:
        raise RuntimeError(_NOT_LEAF)
    done = memo.get(id(self))
    if done is not None:
        return done
    new = object.__new__(type(self))
    _init(new, self._data.copy())
    memo[id(self)] = new
    if self._requires_grad:
        new.requires_grad_(True)
    if self._grad is not None:
        new._grad = copy.deepcopy(self._grad, memo)
    for k, v in self.__dict__.items():
        new.__dict__[k] = copy.deepcopy(v, memo)
    return new


Tensor.__deepcopy__ = _tensor_deepcopy
