"""DistributedDataParallel: one replica of a module per process, gradients averaged.

At construction every rank checks that the replicas have the same parameters (count, shapes,
dtypes), and rank 0's parameters and buffers are broadcast to the others. The parameters
are assigned to buckets in reverse order (the order backward produces their gradients),
one dtype and device per bucket, the first up to 1 MiB and the rest up to `bucket_cap_mb`,
as PyTorch does. Each parameter has a post-accumulate-grad hook: when its gradient is in
``.grad`` it is copied into its bucket; a bucket whose gradients are all there is divided by
the world size and all-reduced asynchronously, buckets in order (every rank must post the
same collectives in the same order). When the last bucket has been posted, the hook waits for
them all and writes the averages back into the ``.grad`` of every parameter (or makes
``.grad`` a view of the bucket with ``gradient_as_bucket_view=True``).

The backward writes a hooked leaf's ``.grad`` as soon as its gradient is complete (the
engine's replay rules), so a bucket's all-reduce is posted while backward still computes the
earlier layers' gradients; after every node of that backward the oldest unfinished
all-reduce is tested (engine.call_between_nodes), which is what drives MPI's progress on a
non-blocking collective between computations.
"""
import contextlib

import numpy as np

from ... import backend
from ...autograd import engine
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...tensor import Tensor, _wrap
from ..module import Module

_MB = 1024 * 1024
_FIRST_BUCKET_BYTES = 1 * _MB  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_BROADCAST_BUCKET_BYTES = 250 * _MB


def _dist():
    from ... import distributed

    return distributed


class _Bucket:
    __slots__ = ("indices", "offsets", "flat", "views", "dtype", "device", "work", "tensor")

    def __init__(self, indices, params):
        self.indices = indices
        sizes = [params[i]._data.size for i in indices]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
        like = params[indices[0]]._data
        self.dtype = like.dtype
        self.device = params[indices[0]].device
        with backend.on_device(self.device):
            self.flat = backend.array_module(like).zeros(self.offsets[-1], like.dtype)
        self.views = [self.flat[self.offsets[k]:self.offsets[k + 1]].reshape(params[i]._data.shape)
                      for k, i in enumerate(indices)]
        self.tensor = _wrap(self.flat)
        self.work = None


def _assign_buckets(params, cap_bytes):
    """Parameter indices per bucket: reverse order, one dtype/device per bucket, the first
    bucket of each kind up to 1 MiB, the others up to `cap_bytes`."""
    open_ = {}
    closed = []
    for i in reversed(range(len(params))):
        p = params[i]
        key = (p._data.dtype.str, str(p.device))
        entry = open_.get(key)
        if entry is None:
            entry = open_[key] = {"indices": [], "bytes": 0, "first": not any(k == key for k, _ in closed)}
        entry["indices"].append(i)
        entry["bytes"] += p._data.nbytes
        limit = min(_FIRST_BUCKET_BYTES, cap_bytes) if entry["first"] else cap_bytes
        if entry["bytes"] >= limit:
            closed.append((key, entry["indices"]))
            del open_[key]
    closed += [(k, e["indices"]) for k, e in open_.items() if e["indices"]]
    # in the order backward fills them: by the latest parameter each holds
    closed.sort(key=lambda kv: -kv[1][0])
    return [ix for _, ix in closed]


def _tensors_in(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            _tensors_in(o, out)
    elif isinstance(obj, dict):
        for o in obj.values():
            _tensors_in(o, out)
    return out


def _reached_leaves(outputs):
    """The leaf tensors (by identity) whose gradient the outputs' graph feeds."""
    seen, leaves = set(), []
    stack = []
    for t in outputs:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves.append(t)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        var = getattr(node, "variable", None)
        if var is not None:
            leaves.append(var)
        for fn, _ in getattr(node, "next_functions", ()):
            if fn is not None and fn not in seen:
                stack.append(fn)
    return leaves


class DistributedDataParallel(Module):
    """``DistributedDataParallel(module, device_ids=None, broadcast_buffers=True,
    process_group=None, bucket_cap_mb=25, find_unused_parameters=False,
    gradient_as_bucket_view=False)``, as PyTorch's.

    Needs ``distributed.init_process_group`` first; every rank builds it around its own
    replica. Calling it calls the module; the next backward averages the gradients.

    Args:
        module: the replica (its parameters on one device).
        device_ids: None, or the one CUDA device of the replica (inputs are moved to it).
        output_device: accepted, changes nothing (the output stays where the module puts
            it).
        dim: accepted, changes nothing (no batch splitting: one device per process).
        broadcast_buffers: broadcast rank 0's buffers at construction and before every
            forward.
        init_sync: broadcast rank 0's parameters (and buffers) at construction.
        process_group: the group to average over (None: the default group).
        bucket_cap_mb: the bucket size in MiB (None: 25).
        find_unused_parameters: find the parameters the output does not depend on after
            each forward, so that their gradients do not hold back the all-reduce.
        check_reduction: accepted, changes nothing.
        gradient_as_bucket_view: make each ``.grad`` a view of its bucket (no copy back).
        static_graph: accepted and stored, changes nothing.
        delay_all_reduce_named_params: accepted, changes nothing.
        param_to_hook_all_reduce: accepted, changes nothing.
        mixed_precision: accepted, changes nothing.
        device_mesh: accepted, changes nothing.
        skip_all_reduce_unused_params: accepted, changes nothing.

    Shape:
        - Input and output: the module's.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0,
                 broadcast_buffers=True, init_sync=True, process_group=None,
                 bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False):
        super().__init__()
        dist = _dist()
        pg = dist._core._group(process_group)
        self.module = module
        d = self.__dict__
        d["process_group"] = pg
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have "
                               "any parameter that requires a gradient.")
        devices = {p.device for p in params}
        if len(devices) > 1:
            raise ValueError("DistributedDataParallel's input module must be on the same type of "
                             f"devices, but input module parameters locate in {devices}.")
        dev = next(iter(devices))
        if device_ids is not None and dev.type == "cpu":
            raise ValueError(
                "DistributedDataParallel device_ids and output_device arguments only work with "
                "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                f"{device_ids}, output_device {output_device}, and module parameters {devices}."
            )
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        d["device_ids"] = None if device_ids is None else [
            backend.normalize_device(i).index if not isinstance(i, int) else i for i in device_ids]
        d["device"] = dev
        d["dim"] = dim
        d["broadcast_buffers"] = broadcast_buffers
        d["find_unused_parameters"] = find_unused_parameters
        d["gradient_as_bucket_view"] = gradient_as_bucket_view
        d["static_graph"] = static_graph
        d["require_backward_grad_sync"] = True
        d["require_forward_param_sync"] = True
        d["_params"] = params
        cap = 25 if bucket_cap_mb is None else bucket_cap_mb
        d["bucket_bytes_cap"] = int(cap * _MB)

        self._verify_same_model(pg, params)
        if init_sync:
            states = params + (list(module.buffers()) if broadcast_buffers else [])
            _broadcast_coalesced(pg, states, src=0)
        d["_buckets"] = [_Bucket(ix, params) for ix in _assign_buckets(params, self.bucket_bytes_cap)]
        d["_bucket_of"] = {}
        for b, bucket in enumerate(self._buckets):
            for k, i in enumerate(bucket.indices):
                self._bucket_of[i] = (b, k)
        d["_expect_hooks"] = False
        d["_started"] = False
        d["_unused"] = ()
        self._reset_iteration()
        d["_hook_handles"] = [
            p.register_post_accumulate_grad_hook(self._make_hook(i)) for i, p in enumerate(params)
        ]
        engine.call_between_nodes(self._progress)

    # ---------------------------------------------------------------- set-up
    @staticmethod
    def _verify_same_model(pg, params):
        dist = _dist()
        mine = [[list(p.shape), p._data.dtype.str] for p in params]
        everyone = [None] * pg.size()
        dist.all_gather_object(everyone, mine, group=pg)
        me = pg.rank()
        for r, theirs in enumerate(everyone):
            if len(theirs) != len(mine):
                raise RuntimeError(
                    f"DDP expects same model across all ranks, but Rank {me} has {len(mine)} "
                    f"params, while rank {r} has inconsistent {len(theirs)} params."
                )
            for j, (a, b) in enumerate(zip(mine, theirs)):
                if a != b:
                    raise RuntimeError(
                        f"DDP expects same model across all ranks, but params[{j}] in this "
                        f"process (rank {me}) with sizes {a[0]} and dtype {np.dtype(a[1]).name} "
                        f"appears not to match sizes {b[0]} and dtype {np.dtype(b[1]).name} of the "
                        f"same param in process {r}."
                    )

    def _reset_iteration(self):
        d = self.__dict__
        d["_remaining"] = [len(b.indices) for b in self._buckets]
        d["_ready"] = [False] * len(self._params)
        d["_used"] = [False] * len(self._params)
        d["_next_bucket"] = 0
        d["_marked_unused"] = False
        for b in self._buckets:
            b.work = None

    def _make_hook(self, i):
        import weakref

        ref = weakref.ref(self)  # the parameter's hook must not keep the wrapper alive

        def hook(param):
            ddp = ref()
            if ddp is not None:
                ddp._grad_ready(i, param)
        return hook

    # ---------------------------------------------------------------- forward
    def forward(self, *inputs, **kwargs):
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync and self._started:
            self._raise_unfinished()
        if self.require_forward_param_sync and self.broadcast_buffers:
            buffers = list(self.module.buffers())
            if buffers:
                versions = [b._version[0] for b in buffers]
                _broadcast_coalesced(self.process_group, buffers, src=0)
                for b, v in zip(buffers, versions):  # a sync is not a change to autograd
                    b._version[0] = v
        if self.device_ids is not None and self.device.type == "cuda":
            inputs = tuple(x.to(self.device) if isinstance(x, Tensor) else x for x in inputs)
            kwargs = {k: v.to(self.device) if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        out = self.module(*inputs, **kwargs)
        d = self.__dict__
        if sync:
            d["require_forward_param_sync"] = True
            self._reset_iteration()
            d["_expect_hooks"] = True
            if self.find_unused_parameters:
                reached = _reached_leaves(_tensors_in(out, []))
                d["_unused"] = [i for i, p in enumerate(self._params)
                                if not any(p is leaf for leaf in reached)]
            else:
                d["_unused"] = ()
        else:
            d["require_forward_param_sync"] = False
            d["_expect_hooks"] = False  # this forward's backward accumulates locally
        return out

    def _raise_unfinished(self):
        missing = " ".join(str(i) for i, r in enumerate(self._ready) if not r)
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new "
            "one. This error indicates that your module has parameters that were not used in "
            "producing loss. You can enable unused parameter detection by passing the keyword "
            "argument `find_unused_parameters=True` to "
            "`torch.nn.parallel.DistributedDataParallel`, and by \nmaking sure all `forward` "
            "function outputs participate in calculating loss. \nIf you already have done the "
            "above, then the distributed data parallel module wasn't able to locate the output "
            "tensors in the return value of your module's `forward` function. Please include "
            "the loss function and the structure of the return value of `forward` of your "
            "module when reporting this issue (e.g. list, dict, iterable).\nParameter indices "
            f"which did not receive grad for rank {_dist().get_rank()}: {missing}\n In addition, "
            "you can set the environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or "
            "DETAIL to print out information about which particular parameters did not "
            "receive gradient on this rank as part of this error"
        )

    # ---------------------------------------------------------------- backward
    def _grad_ready(self, i, param):
        if not self._expect_hooks:
            return  # a backward not prepared by a synchronizing forward (no_sync, no_grad)
        d = self.__dict__
        if not self._marked_unused:
            d["_marked_unused"] = True
            d["_started"] = True
            for j in self._unused:
                if j != i:
                    self._mark_ready(j, None)
        if self._ready[i]:
            raise RuntimeError(
                "Expected to mark a variable ready only once. This error is caused by one of "
                "the following reasons: 1) Use of a module parameter outside the `forward` "
                "function. 2) Reused parameters in multiple reentrant backward passes. 3) "
                f"backward ran twice through the graph of one forward. Parameter index {i} "
                "(of the DDP module's parameters) was marked ready twice in this iteration."
            )
        self._used[i] = True
        self._mark_ready(i, param.grad)

    def _mark_ready(self, i, grad):
        b, k = self._bucket_of[i]
        bucket = self._buckets[b]
        view = bucket.views[k]
        if grad is None:
            view[...] = 0
        elif grad._data is not view:
            view[...] = grad._data
        self._ready[i] = True
        self._remaining[b] -= 1
        if self._remaining[b] == 0:
            self._launch_ready_buckets()

    def _progress(self):
        """Tests the oldest all-reduce still in flight (never blocks): MPI advances its
        non-blocking collectives only inside such calls. Run after every node of a backward."""
        if not self._expect_hooks or not self._next_bucket:
            return
        for bucket in self._buckets[:self._next_bucket]:
            if bucket.work is not None and not bucket.work.is_completed():
                return

    def _launch_ready_buckets(self):
        dist = _dist()
        n = self.process_group.size()
        while self._next_bucket < len(self._buckets) and self._remaining[self._next_bucket] == 0:
            bucket = self._buckets[self._next_bucket]
            bucket.flat /= n  # averaged as a sum of quotients, as PyTorch's default hook does
            bucket.work = dist._core._internal_all_reduce(self.process_group, bucket.tensor)
            self.__dict__["_next_bucket"] += 1
        if self._next_bucket == len(self._buckets):
            self._finalize()

    def _finalize(self):
        dist = _dist()
        d = self.__dict__
        d["_expect_hooks"] = False
        d["_started"] = False
        for bucket in self._buckets:
            bucket.work.wait()
        globally_used = None
        if self.find_unused_parameters:
            used = _wrap(np.array(self._used, np.int32))
            dist._core._all_reduce(self.process_group, used, dist.ReduceOp.MAX, False)
            globally_used = used._data.astype(bool).tolist()
        with no_grad():
            for i, p in enumerate(self._params):
                if globally_used is not None and not globally_used[i]:
                    continue  # no rank used it: its .grad stays as it is (PyTorch's rule)
                b, k = self._bucket_of[i]
                view = self._buckets[b].views[k]
                g = p.grad
                if self.gradient_as_bucket_view:
                    if g is None or g._data is not view:
                        p.grad = _wrap(view)
                    else:
                        g._version[0] += 1
                elif g is None:
                    p.grad = _wrap(view.copy())
                else:
                    g._data[...] = view
                    g._version[0] += 1

    # ---------------------------------------------------------------- API
    @contextlib.contextmanager
    def no_sync(self):
        """Gradients of backward passes of forwards run inside accumulate locally; the first
        synchronized backward after it averages the accumulated gradients.

        Returns:
            A context manager.
        """
        old = self.require_backward_grad_sync
        self.__dict__["require_backward_grad_sync"] = False
        try:
            yield
        finally:
            self.__dict__["require_backward_grad_sync"] = old

    def __getstate__(self):
        raise TypeError("DistributedDataParallel cannot be pickled; save module.state_dict()")


def _broadcast_coalesced(pg, tensors, src=0):
    """Broadcasts `tensors` from group rank `src`, packed per dtype and device into buffers of
    up to 250 MiB (one collective each instead of one per tensor)."""
    dist = _dist()
    groups = {}
    for t in tensors:
        groups.setdefault((t._data.dtype.str, str(t.device)), []).append(t)
    for ts in groups.values():
        chunk, size = [], 0
        for t in ts + [None]:
            if t is not None and (size + t._data.nbytes <= _BROADCAST_BUCKET_BYTES or not chunk):
                chunk.append(t)
                size += t._data.nbytes
                continue
            _broadcast_flat(pg, chunk, src, dist)
            chunk, size = ([t], t._data.nbytes) if t is not None else ([], 0)


def _broadcast_flat(pg, chunk, src, dist):
    xp = backend.array_module(chunk[0]._data)
    with backend.on_device(chunk[0].device):
        flat = xp.concatenate([t._data.reshape(-1) for t in chunk])
    buf = _wrap(flat)
    dist.broadcast(buf, src=pg._ranks[src], group=pg)
    if pg.rank() == src:
        return
    off = 0
    for t in chunk:
        n = t._data.size
        t._data[...] = flat[off:off + n].reshape(t._data.shape)
        t._version[0] += 1
        off += n
