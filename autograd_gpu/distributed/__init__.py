"""Data-parallel communication with torch.distributed's API, on MPI (mpi4py) or NCCL
(cupy.cuda.nccl).

    import autograd_gpu.distributed as dist
    dist.init_process_group("mpi")            # under `mpirun -np N python train.py`
    dist.all_reduce(t, op=dist.ReduceOp.SUM)  # in place, on every rank

Importing this package loads neither mpi4py nor CuPy: a backend is loaded by
init_process_group. The launcher is ``python -m autograd_gpu.distributed.run``.
"""
from ._core import (
    Backend, DistBackendError, DistError, DistNetworkError, DistStoreError, GroupMember,
    ProcessGroup, RedOpType, ReduceOp, Work, all_gather, all_gather_into_tensor,
    all_gather_object, all_reduce, barrier, broadcast, broadcast_object_list, default_pg_timeout,
    destroy_process_group, gather, gather_object, get_backend, get_global_rank, get_group_rank,
    get_process_group_ranks, get_rank, get_world_size, group, init_process_group, irecv,
    is_available, is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
    is_torchelastic_launched, isend, new_group, recv, reduce, reduce_scatter,
    reduce_scatter_tensor, scatter, scatter_object_list, send,
)
from ._store import TCPStore

__all__ = [
    "Backend", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError",
    "GroupMember", "ProcessGroup", "RedOpType", "ReduceOp", "TCPStore", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier", "broadcast",
    "broadcast_object_list", "default_pg_timeout", "destroy_process_group", "gather",
    "gather_object", "get_backend", "get_global_rank", "get_group_rank",
    "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group",
    "irecv", "is_available", "is_gloo_available", "is_initialized", "is_mpi_available",
    "is_nccl_available", "is_torchelastic_launched", "isend", "new_group", "recv", "reduce",
    "reduce_scatter", "reduce_scatter_tensor", "scatter", "scatter_object_list", "send",
]
