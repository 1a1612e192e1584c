"""DataParallel on one device: the module runs as it is (PyTorch's DataParallel also just
calls the module when it has a single device or none)."""
from ... import backend
from ...tensor import Tensor
from ..module import Module


class DataParallel(Module):
    """``DataParallel(module, device_ids=None, output_device=None, dim=0)``: forward passes
    the inputs (moved to the module's device) to `module`. Splitting a batch over several
    GPUs of one process is not implemented: use DistributedDataParallel, one process per
    GPU, as PyTorch recommends.

    Args:
        module: the module to run.
        device_ids: None or one device (more raise NotImplementedError).
        output_device: accepted, changes nothing.
        dim: accepted, changes nothing.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        if device_ids is not None and len(device_ids) > 1:
            raise NotImplementedError(
                "DataParallel over several devices is not implemented: run one process per GPU "
                "with DistributedDataParallel (python -m autograd_gpu.distributed.run "
                "--nproc-per-node N train.py)"
            )
        self.__dict__["device_ids"] = device_ids
        self.__dict__["dim"] = dim
        self.__dict__["output_device"] = output_device

    def forward(self, *inputs, **kwargs):
        params = list(self.module.parameters())
        if self.device_ids and params:
            dev = params[0].device
            inputs = tuple(x.to(dev) if isinstance(x, Tensor) else x for x in inputs)
            kwargs = {k: v.to(dev) if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        out = self.module(*inputs, **kwargs)
        if self.output_device is not None and isinstance(out, Tensor):
            out = out.to(backend.normalize_device(self.output_device))
        return out
