"""Process groups and collectives with torch.distributed's API, on a backend (MPI or NCCL).

This module is backend-neutral: it checks arguments as PyTorch does, translates global
ranks to group ranks, hands contiguous buffers to the backend (the tensor's own array where
the backend can read it, else a contiguous or host copy that is written back when the
operation completes), and waits on the backend's non-blocking requests against the group's
timeout, so a collective that cannot complete raises instead of hanging.

Before each collective the ranks agree on a fingerprint of the call (operation, shape,
dtype, reduce op, root): ranks that call different collectives, or the same one with
different shapes, get an error naming what each rank ran, where MPI would hang or corrupt
memory (PyTorch checks this under TORCH_DISTRIBUTED_DEBUG=DETAIL). The check is one small
extra all-reduce; ``AUTOGRAD_GPU_DIST_CHECK=0`` turns it off. DDP's bucket all-reduces skip
it (their shapes are checked once, at construction).
"""
import datetime
import hashlib
import os
import time
import warnings

import numpy as np

from .. import backend
from ..tensor import Tensor, _TORCH_TYPE_NAMES, _wrap
from ._reduce_op import RedOpType, ReduceOp

default_pg_timeout = datetime.timedelta(minutes=30)


class DistError(RuntimeError):
    """Base of the errors the distributed package raises (as torch.distributed.DistError)."""


class DistBackendError(DistError):
    """The backend failed, or an operation timed out."""


class DistNetworkError(DistError):
    """A network error of the distributed store or backend (as PyTorch's)."""
    pass


class DistStoreError(DistError):
    """An error of the distributed key-value store, such as a timeout (as PyTorch's)."""
    pass


class Backend(str):
    """Backend names: ``Backend.MPI == "mpi"``, ``Backend.NCCL == "nccl"``; ``"gloo"`` is
    accepted and runs on MPI (host buffers).

    Args:
        name: ``"mpi"``, ``"nccl"`` or ``"gloo"`` (any case; anything else raises
            ValueError).
    """

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        value = name.lower()
        if value not in (cls.GLOO, cls.NCCL, cls.MPI):
            raise ValueError(f"Invalid backend: '{name}'")
        return str.__new__(cls, value)


class _NonGroupMember:
    def __repr__(self):
        return "GroupMember.NON_GROUP_MEMBER"


class _GroupMember:
    """``GroupMember.WORLD`` (the default group) and ``GroupMember.NON_GROUP_MEMBER`` (what
    new_group returns on ranks outside the group)."""

    NON_GROUP_MEMBER = _NonGroupMember()

    @property
    def WORLD(self):
        return _state.default


GroupMember = _GroupMember()
group = GroupMember  # torch.distributed.group.WORLD


class _State:
    default = None
    store = None
    groups = ()  # every live ProcessGroup, so destroy_process_group() frees them all


_state = _State()

_NOT_INITIALIZED = ("Default process group has not been initialized, please make sure to call "
                    "init_process_group.")


def _seconds(timeout):
    if timeout is None:
        return default_pg_timeout.total_seconds()
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


class ProcessGroup:
    """A set of ranks that run collectives together; ``rank()`` and ``size()`` are this
    process's place in it. Made by init_process_group (the default group) and new_group.

    Args:
        impl: the backend's communicator (internal).
        ranks: the global rank of each group rank.
        backend_name: the Backend.
        timeout: the seconds a collective may take before it raises.
    """

    def __init__(self, impl, ranks, backend_name, timeout):
        self._impl = impl
        self._ranks = list(ranks)  # global rank of each group rank
        self._backend = backend_name
        self._timeout = timeout
        self._orphans = []  # timed-out requests: kept (with their buffers) until they finish

    def rank(self):
        """This process's rank in the group.

        Returns:
            int.
        """
        return self._impl.rank

    def size(self):
        """The number of ranks in the group.

        Returns:
            int.
        """
        return self._impl.size

    def name(self):
        """The group's backend.

        Returns:
            str.
        """
        return self._backend

    def __repr__(self):
        return f"<ProcessGroup {self._backend} ranks={self._ranks} rank={self.rank()}>"


class Work:
    """What an ``async_op=True`` call returns: ``wait()`` blocks until the operation is done
    (and raises on timeout), ``is_completed()`` asks without blocking.

    Args:
        pg: the ProcessGroup the operation runs in.
        pending: the backend's request (internal).
        done: callables run once when the operation completes (internal).
        result: what ``result()`` returns.
    """

    def __init__(self, pg, pending, done=None, result=()):
        self._pg = pg
        self._pending = pending
        self._done = done  # callbacks run once on completion (write-backs, AVG's division)
        self._result = list(result)
        self._finished = False
        self._exception = None

    def _complete(self):
        if not self._finished:
            self._finished = True
            self._pending.finish()
            for fn in self._done or ():
                fn()

    def is_completed(self):
        """Whether the operation is done (never blocks).

        Returns:
            bool.
        """
        if self._finished:
            return True
        if self._pending.test():
            self._complete()
            return True
        return False

    def wait(self, timeout=None):
        """Blocks until the operation is done; raises DistBackendError after the timeout.

        Args:
            timeout: seconds or a timedelta (None: the group's timeout).

        Returns:
            bool: True.
        """
        if self._exception is not None:
            raise self._exception
        if not self._finished:
            limit = self._pg._timeout if timeout is None else _seconds(timeout)
            try:
                _wait(self._pg, self._pending, limit)
            except DistBackendError as e:
                self._exception = e
                raise
            self._complete()
        return True

    def is_success(self):
        """Whether the operation completed without error.

        Returns:
            bool.
        """
        return self._finished and self._exception is None

    def exception(self):
        """The error the operation ended with.

        Returns:
            Exception or None.
        """
        return self._exception

    def result(self):
        """The operation's output tensors.

        Returns:
            list.
        """
        return self._result

    def synchronize(self):
        """Waits for the operation (``wait()``)."""
        self.wait()

    def source_rank(self):
        """For a recv: the global rank the message came from (waits first).

        Returns:
            int.
        """
        self.wait()
        return self._pg._ranks[self._pending.source]


def _wait(pg, pending, limit):
    """Polls `pending` until it completes; after `limit` seconds, cancels what can be
    cancelled (a receive) and raises. For the first few milliseconds it polls continuously,
    yielding the core between polls (ranks may share cores), then sleeps with a growing delay
    up to 1 ms, so that a long wait costs no CPU."""
    if pending.test():
        return
    now = time.monotonic()
    deadline, spin_until = now + limit, now + 0.005
    delay = 5e-5
    while not pending.test():
        now = time.monotonic()
        if now > deadline:
            if not pending.cancel():
                pg._orphans.append(pending)  # MPI may still complete it, in order
            raise DistBackendError(
                f"[{pg._backend}] Timed out waiting {int(limit * 1000)}ms for {pending.what} "
                "operation to complete"
            )
        if now < spin_until:
            pass  # Test() itself drives MPI's progress
        else:
            time.sleep(delay)
            delay = min(delay * 2, 1e-3)


_yield = getattr(os, "sched_yield", lambda: time.sleep(0))


# ---------------------------------------------------------------- set-up


def is_available():
    """True: the distributed package is always present (its backends load at init).

    Returns:
        bool.
    """
    return True


def is_mpi_available():
    """True if mpi4py can be imported (the ``"mpi"`` and ``"gloo"`` backends).

    Returns:
        bool.
    """
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def is_nccl_available():
    """True if CuPy's NCCL bindings can be imported (the ``"nccl"`` backend).

    Returns:
        bool.
    """
    try:
        from cupy.cuda import nccl  # noqa: F401
    except Exception:
        return False
    return True


def is_gloo_available():
    """True if the ``"gloo"`` backend (run on MPI here) is available.

    Returns:
        bool.
    """
    return is_mpi_available()


def is_initialized():
    """True once init_process_group has run.

    Returns:
        bool.
    """
    return _state.default is not None


def is_torchelastic_launched():
    """True if the process was started by a torchrun-style launcher (TORCHELASTIC_RUN_ID is set).

    Returns:
        bool.
    """
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


def _env_int(name):
    v = os.environ.get(name)
    return None if v in (None, "") else int(v)


def _parse_init_method(init_method):
    """(host, port) of a tcp:// or env:// rendezvous, or None where none is given."""
    if init_method is None or init_method == "env://":
        addr, port = os.environ.get("MASTER_ADDR"), os.environ.get("MASTER_PORT")
        return (addr, int(port)) if addr and port else None
    if init_method.startswith("tcp://"):
        hostport = init_method[len("tcp://"):].split("?", 1)[0].rstrip("/")
        host, _, port = hostport.rpartition(":")
        return host.strip("[]"), int(port)
    raise ValueError(
        f"init_method {init_method!r} is not supported: use 'env://' (MASTER_ADDR, "
        "MASTER_PORT, RANK, WORLD_SIZE) or 'tcp://host:port'"
    )


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1,
                       store=None, group_name="", pg_options=None, device_id=None):
    """Joins this process to the default group.

    ``backend``: ``"mpi"`` (mpi4py; ranks started by mpirun, which gives rank and size),
    ``"nccl"`` (cupy.cuda.nccl on each rank's own GPU; the unique id is shared over MPI when
    started by mpirun, else over a TCP store at MASTER_ADDR:MASTER_PORT or init_method), or
    ``"gloo"`` (accepted for PyTorch programs; runs on MPI with host buffers). ``rank`` and
    ``world_size`` default to RANK / WORLD_SIZE, then to MPI's; ``timeout`` bounds every
    collective (default 30 minutes).

    Args:
        backend: ``"mpi"``, ``"nccl"`` or ``"gloo"`` (None: NCCL when device_id is given or
            the default device is a GPU, else MPI).
        init_method: ``"env://"`` (MASTER_ADDR, MASTER_PORT) or ``"tcp://host:port"``, the
            rendezvous of NCCL's unique id without mpirun.
        timeout: seconds or a timedelta (None: 30 minutes).
        world_size: the number of ranks (-1: WORLD_SIZE, then MPI's).
        rank: this process's rank (-1: RANK, then MPI's).
        store: a TCPStore to rendezvous on (NCCL) instead of init_method.
        group_name: accepted, not used.
        pg_options: accepted, not used.
        device_id: NCCL: this rank's GPU (an index or a device).

    Returns:
        None.
    """
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if backend is None:
        backend = Backend.NCCL if (device_id is not None or backend_is_cuda_default()) else Backend.MPI
    name = Backend(backend)
    limit = _seconds(timeout)
    rank = _env_int("RANK") if rank in (-1, None) else rank
    world_size = _env_int("WORLD_SIZE") if world_size in (-1, None) else world_size
    if name == Backend.NCCL:
        from . import _nccl

        impl, st = _nccl.init(rank, world_size, _parse_init_method(init_method), store, limit,
                              device_id)
        _state.store = st
    else:
        from . import _mpi

        impl = _mpi.init(rank, world_size, limit)
    pg = ProcessGroup(impl, range(impl.size), name, limit)
    _state.default = pg
    _state.groups = [pg]
    return None


def backend_is_cuda_default():
    # PyTorch picks NCCL where the default device is a GPU; here only when CUDA is usable
    return backend.get_default_device().type == "cuda"


def destroy_process_group(group=None):
    """Frees `group` (default: every group, after which init_process_group may run again).

    Args:
        group: the ProcessGroup to free (None: all of them and the default group).

    Returns:
        None.
    """
    if group is None or group is _state.default:
        for pg in _state.groups:
            _free(pg)
        _state.default = None
        _state.groups = ()
        if _state.store is not None:
            _state.store.close()
            _state.store = None
        return
    if group is GroupMember.NON_GROUP_MEMBER:
        return
    _free(group)
    _state.groups = [g for g in _state.groups if g is not group]


def _free(pg):
    pg._orphans = [p for p in pg._orphans if not p.test()]
    pg._impl.destroy()


def _default_group():
    if _state.default is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state.default


def _group(group):
    if group is None:
        return _default_group()
    if group is GroupMember.NON_GROUP_MEMBER:
        return group
    if not isinstance(group, ProcessGroup):
        raise ValueError(f"Expecting a ProcessGroup, but got a {type(group)}.")
    if _state.default is None:
        raise ValueError(_NOT_INITIALIZED)
    return group


def _not_member(pg, op):
    if pg is GroupMember.NON_GROUP_MEMBER:
        warnings.warn(f"Running {op} on global rank {get_rank()} which does not belong to the "
                      "given group.", stacklevel=3)
        return True
    return False


def get_rank(group=None):
    """This process's rank in `group` (the default group when None); -1 outside it.

    Args:
        group: the group (None: the default group, whose rank is the global rank).

    Returns:
        int.
    """
    pg = _group(group)
    if pg is GroupMember.NON_GROUP_MEMBER:
        return -1
    return pg._ranks[pg.rank()] if group is None else pg.rank()


def get_world_size(group=None):
    """The number of ranks in a group.

    Args:
        group: the group (None: the default group).

    Returns:
        int.
    """
    pg = _group(group)
    if pg is GroupMember.NON_GROUP_MEMBER:
        return -1
    return pg.size()


def get_backend(group=None):
    """The name of a group's backend.

    Args:
        group: the group (None: the default group).

    Returns:
        str.
    """
    pg = _group(group)
    if pg is GroupMember.NON_GROUP_MEMBER:
        raise ValueError("Invalid process group specified")
    return pg._backend


def get_process_group_ranks(group):
    """The global ranks of a group's members.

    Args:
        group: the group.

    Returns:
        list of int.
    """
    pg = _group(group)
    return list(pg._ranks)


def get_global_rank(group, group_rank):
    """The global rank of a group's rank.

    Args:
        group: the group.
        group_rank: the rank within the group.

    Returns:
        int.
    """
    pg = _group(group)
    if not 0 <= group_rank < len(pg._ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg._ranks[group_rank]


def get_group_rank(group, global_rank):
    """The rank within a group of a global rank.

    Args:
        group: the group.
        global_rank: the global rank.

    Returns:
        int.
    """
    pg = _group(group)
    if global_rank not in pg._ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg}")
    return pg._ranks.index(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None,
              use_local_synchronization=False, group_desc=None, device_id=None):
    """A group of some ranks of the default group (all of them when None). Every rank of the
    default group must call it, in the same order as the others; ranks outside `ranks` get
    ``GroupMember.NON_GROUP_MEMBER``.

    Args:
        ranks: the global ranks of the members (None: all).
        timeout: the group's collective timeout (None: the default group's).
        backend: the default group's backend (another raises ValueError; ``"gloo"`` and
            ``"mpi"`` count as one).
        pg_options: accepted, not used.
        use_local_synchronization: accepted, not used (every rank of the default group
            takes part).
        group_desc: accepted, not used.
        device_id: accepted, not used.

    Returns:
        ProcessGroup, or ``GroupMember.NON_GROUP_MEMBER`` on ranks outside it.
    """
    world = _default_group()
    n = world.size()
    ranks = list(range(n)) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError("the new group cannot have duplicate ranks")
    for r in ranks:
        if not 0 <= r < n:
            raise ValueError(f"The new group's rank should be within the world_size set by "
                             f"init_process_group, but got {r} (world size {n})")
    if backend is not None and Backend(backend) != world._backend and not (
        {Backend(backend), world._backend} <= {Backend.GLOO, Backend.MPI}
    ):
        raise ValueError(f"new_group(backend={backend!r}): a group uses its default group's "
                         f"backend ({world._backend}) here")
    impl = world._impl.split(ranks)
    if impl is None:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(impl, ranks, world._backend,
                      world._timeout if timeout is None else _seconds(timeout))
    _state.groups.append(pg)
    return pg


# ---------------------------------------------------------------- buffers


def _check_tensor(t, name):
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        f"torch.Tensor but got {type(t)} instead.")


def _check_tensor_list(ts, name):
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type "
                        "List[torch.Tensor] but got "
                        f"{type(ts)} with elements of type {[type(t) for t in ts] if isinstance(ts, (list, tuple)) else ''} instead.")


def _tname(dt):
    return _TORCH_TYPE_NAMES.get(dt.name, dt.name)


def _sizes(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")"


class _Staged:
    """A contiguous buffer the backend can use for tensor `t`: its own array when possible,
    else a contiguous copy (and, for a backend that takes host memory only, a host copy).
    ``written()`` copies a result back into the tensor and bumps its version."""

    __slots__ = ("t", "arr", "buf")

    def __init__(self, pg, t):
        arr = t._data
        self.t, self.arr = t, arr
        if pg._impl.device_buffers or not backend.is_cuda_array(arr):
            self.buf = arr if arr.flags.c_contiguous else backend.array_module(arr).ascontiguousarray(arr)
        else:
            self.buf = np.ascontiguousarray(backend.to_device(arr, backend.CPU))
        if pg._impl.needs_device_buffers and not backend.is_cuda_array(arr):
            raise ValueError(f"Tensors must be CUDA and dense for the {pg._backend} backend "
                             f"(got a tensor on {t.device})")

    def written(self):
        if self.buf is not self.arr:
            self.arr[...] = backend.to_device(self.buf, self.t.device)
        self.t._version[0] += 1


def _fingerprint_check(pg, desc):
    """All ranks of `pg` agree that they run the same call `desc`, or every rank raises with
    what each one ran."""
    if not _CHECK:
        return
    code = int.from_bytes(hashlib.blake2b(desc.encode(), digest_size=7).digest(), "little")
    pending = pg._impl.agree(code)
    _wait(pg, pending, pg._timeout)
    pending.finish()
    if pending.same:
        return
    raw = desc.encode()[:240]
    mine = np.zeros(256, np.uint8)
    mine[:len(raw)] = np.frombuffer(raw, np.uint8)
    mine[255] = len(raw)
    allb = np.zeros((pg.size(), 256), np.uint8)
    p = pg._impl.allgather(_on_object_device(pg, allb), _on_object_device(pg, mine))
    _wait(pg, p, pg._timeout)
    p.finish()
    allb = backend.to_device(p.out, backend.CPU)
    descs = [bytes(row[:row[255]]).decode(errors="replace") for row in allb]
    me = pg.rank()
    other = next(r for r in range(pg.size()) if descs[r] != descs[me])
    raise RuntimeError(
        f"Detected mismatch between collectives on ranks. Rank {pg._ranks[me]} is running "
        f"collective: {descs[me]}, but Rank {pg._ranks[other]} is running collective: "
        f"{descs[other]}."
    )


def _on_object_device(pg, host_array):
    return pg._impl.from_host(host_array)


_CHECK = os.environ.get("AUTOGRAD_GPU_DIST_CHECK", "1") != "0"


def _desc(op, t=None, **kw):
    parts = []
    if t is not None:
        parts.append(f"TensorShape=[{', '.join(str(s) for s in t.shape)}]")
        parts.append(f"TensorDtypes={_tname(t._data.dtype)}")
    parts += [f"{k}={v}" for k, v in kw.items()]
    return f"CollectiveFingerPrint(OpType={op}, " + ", ".join(parts) + ")"


def _finish(pg, pending, done, async_op, result=()):
    work = Work(pg, pending, done, result)
    if async_op:
        return work
    work.wait()
    return None


def _reduce_op(op, dt, opname):
    if not isinstance(op, RedOpType):
        try:
            op = RedOpType(int(op))
        except (TypeError, ValueError):
            raise ValueError(f"{opname}: unknown reduce op {op!r}") from None
    if op == RedOpType.AVG and dt.kind not in "fc":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_tname(dt)}")
    if op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR) and dt.kind == "f":
        raise RuntimeError(f"{opname}: Cannot use ReduceOp.{op.name} with float inputs")
    if op in (RedOpType.PREMUL_SUM, RedOpType.UNUSED):
        raise ValueError(f"{opname}: ReduceOp.{op.name} is not supported here")
    return op


def _avg(staged, n):
    def divide():
        b = staged.buf
        b /= n
    return divide


def _group_root(pg, rank, group_rank, name, opname):
    """A root given as a global rank (`rank`) or a group rank, as the group rank."""
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can't specify both group_{name} and {name}")
    if group_rank is None:
        if rank is None:
            rank = 0
        if rank not in pg._ranks:
            if pg is _state.default:
                raise RuntimeError(f"ProcessGroup{pg._impl.label}::{opname}: invalid root rank: {rank}")
            raise ValueError(f"Global rank {rank} is not part of group {pg}")
        return pg._ranks.index(rank)
    if not 0 <= group_rank < pg.size():
        raise RuntimeError(f"ProcessGroup{pg._impl.label}::{opname}: invalid root rank: {group_rank}")
    return group_rank


# ---------------------------------------------------------------- collectives


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces `tensor` over the group, in place on every rank.

    Args:
        tensor: the input and output on every rank.
        op: a ReduceOp (AVG: floating tensors only; BAND, BOR, BXOR: integer ones).
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "all_reduce"):
        return None
    op = _reduce_op(op, tensor._data.dtype, "all_reduce")
    _fingerprint_check(pg, _desc("ALLREDUCE", tensor, ReduceOp=op.name))
    return _all_reduce(pg, tensor, op, async_op, agreed=_CHECK)


def _all_reduce(pg, tensor, op, async_op, agreed=False):
    """`agreed`: every rank has entered this very call (the fingerprint check passed), so a
    synchronous one may block in the backend without a timeout."""
    s = _Staged(pg, tensor)
    pending = pg._impl.allreduce(s.buf, RedOpType.SUM if op == RedOpType.AVG else op,
                                 blocking=agreed and not async_op)
    done = [_avg(s, pg.size())] if op == RedOpType.AVG else []
    done.append(s.written)
    return _finish(pg, pending, done, async_op, [tensor])


def broadcast(tensor, src=None, group=None, async_op=False, group_src=None):
    """Copies `tensor` of rank `src` into `tensor` on every other rank.

    Args:
        tensor: the data on src, the output elsewhere.
        src: the global rank of the source (None: 0).
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.
        group_src: the source as a rank within group (not with src).

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "broadcast"):
        return None
    root = _group_root(pg, src, group_src, "src", "broadcast")
    _fingerprint_check(pg, _desc("BROADCAST", tensor, Root=root))
    s = _Staged(pg, tensor)
    pending = pg._impl.broadcast(s.buf, root, blocking=_CHECK and not async_op)
    return _finish(pg, pending, [s.written] if pg.rank() != root else [], async_op, [tensor])


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op=False, group_dst=None):
    """Reduces `tensor` over the group into `tensor` of rank `dst` (others keep theirs).

    Args:
        tensor: the input, and on dst the output.
        dst: the global rank of the destination (None: 0).
        op: a ReduceOp (AVG: floating tensors only; BAND, BOR, BXOR: integer ones).
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.
        group_dst: the destination as a rank within group (not with dst).

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "reduce"):
        return None
    root = _group_root(pg, dst, group_dst, "dst", "reduce")
    op = _reduce_op(op, tensor._data.dtype, "reduce")
    _fingerprint_check(pg, _desc("REDUCE", tensor, ReduceOp=op.name, Root=root))
    s = _Staged(pg, tensor)
    pending = pg._impl.reduce(s.buf, RedOpType.SUM if op == RedOpType.AVG else op, root)
    done = []
    if pg.rank() == root:
        if op == RedOpType.AVG:
            done.append(_avg(s, pg.size()))
        done.append(s.written)
    return _finish(pg, pending, done, async_op, [tensor])


def _gather_buffers(pg, tensors, like, opname, name):
    """Checks a list of one tensor per rank against `like` (PyTorch's messages)."""
    n = pg.size()
    if len(tensors) != n:
        raise RuntimeError(f"ProcessGroup{pg._impl.label}::{opname}: invalid {name} tensor list "
                           f"at index 0 (expected length {n}, got {len(tensors)})")
    for i, t in enumerate(tensors):
        if t._data.dtype != like._data.dtype:
            raise RuntimeError(f"ProcessGroup{pg._impl.label}::{opname}: invalid tensor type at "
                               f"index {i} (expected {_tname(like._data.dtype)}, got {_tname(t._data.dtype)})")
        if tuple(t.shape) != tuple(like.shape):
            raise RuntimeError(f"ProcessGroup{pg._impl.label}::{opname}: invalid tensor size at "
                               f"index {i} (expected {_sizes(like.shape)}, got {_sizes(t.shape)})")
        if t.device != like.device:
            raise RuntimeError(f"ProcessGroup{pg._impl.label}::{opname}: tensors must be on the "
                               f"same device (index {i} is on {t.device}, the input on {like.device})")


def _flat_out(pg, like, n):
    """A contiguous buffer for n tensors like `like`, where the backend reads it."""
    shape = (n,) + tuple(like.shape)
    arr = like._data
    xp = backend.array_module(arr) if (pg._impl.device_buffers or not backend.is_cuda_array(arr)) else np
    return xp.empty(shape, arr.dtype)


def _split_into(out, tensors, pg):
    def copy():
        for k, t in enumerate(tensors):
            t._data[...] = backend.to_device(out[k], t.device)
            t._version[0] += 1
    return copy


def all_gather(tensor_list, tensor, group=None, async_op=False):
    """``tensor_list[r]`` = `tensor` of rank r, on every rank.

    Args:
        tensor_list: one output tensor per rank, each like tensor.
        tensor: this rank's input.
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor_list(tensor_list, "tensor_list")
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "all_gather"):
        return None
    _gather_buffers(pg, tensor_list, tensor, "allgather", "output")
    _fingerprint_check(pg, _desc("ALLGATHER", tensor))
    s = _Staged(pg, tensor)
    out = _flat_out(pg, tensor, pg.size())
    pending = pg._impl.allgather(out, s.buf)
    return _finish(pg, pending, [_split_into(out, tensor_list, pg)], async_op, [tensor_list])


def all_gather_into_tensor(output_tensor, input_tensor, group=None, async_op=False):
    """`output_tensor` (world size times the input's elements: concatenated along dim 0, or
    stacked) receives every rank's `input_tensor`, in rank order.

    Args:
        output_tensor: the output, world size times input_tensor's elements, same dtype.
        input_tensor: this rank's input.
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(output_tensor, "output_tensor")
    _check_tensor(input_tensor, "input_tensor")
    pg = _group(group)
    if _not_member(pg, "all_gather_into_tensor"):
        return None
    if output_tensor.numel() != pg.size() * input_tensor.numel():
        raise RuntimeError("output tensor size must be equal to world_size times input tensor size")
    if output_tensor._data.dtype != input_tensor._data.dtype:
        raise RuntimeError("output tensor must have the same type as input tensor")
    _fingerprint_check(pg, _desc("_ALLGATHER_BASE", input_tensor))
    s_in = _Staged(pg, input_tensor)
    s_out = _Staged(pg, output_tensor)
    pending = pg._impl.allgather(s_out.buf, s_in.buf)
    return _finish(pg, pending, [s_out.written], async_op, [output_tensor])


def reduce_scatter_tensor(output, input, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces `input` (world size times `output`'s elements) over the group; rank r gets
    the r-th part in `output`.

    Args:
        output: this rank's part of the result.
        input: the input, world size times output's elements, same dtype.
        op: a ReduceOp (AVG: floating tensors only; BAND, BOR, BXOR: integer ones).
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(output, "output")
    _check_tensor(input, "input")
    pg = _group(group)
    if _not_member(pg, "reduce_scatter_tensor"):
        return None
    if input.numel() != pg.size() * output.numel():
        raise RuntimeError("input tensor must be the same size as output size times world size")
    if output._data.dtype != input._data.dtype:
        raise RuntimeError("input tensor must be the same type as the output tensor.")
    op = _reduce_op(op, output._data.dtype, "reduce_scatter_tensor")
    _fingerprint_check(pg, _desc("_REDUCE_SCATTER_BASE", output, ReduceOp=op.name))
    s_in = _Staged(pg, input)
    s_out = _Staged(pg, output)
    pending = pg._impl.reduce_scatter(s_out.buf, s_in.buf,
                                      RedOpType.SUM if op == RedOpType.AVG else op)
    done = [_avg(s_out, pg.size())] if op == RedOpType.AVG else []
    done.append(s_out.written)
    return _finish(pg, pending, done, async_op, [output])


def reduce_scatter(output, input_list, op=ReduceOp.SUM, group=None, async_op=False):
    """Reduces ``input_list[r]`` over the group into `output` of rank r.

    Args:
        output: this rank's result.
        input_list: one input per rank, each like output.
        op: a ReduceOp (AVG: floating tensors only; BAND, BOR, BXOR: integer ones).
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(output, "output")
    _check_tensor_list(input_list, "input_list")
    pg = _group(group)
    if _not_member(pg, "reduce_scatter"):
        return None
    _gather_buffers(pg, input_list, output, "reduce_scatter", "input")
    op = _reduce_op(op, output._data.dtype, "reduce_scatter")
    _fingerprint_check(pg, _desc("REDUCE_SCATTER", output, ReduceOp=op.name))
    flat = _flat_out(pg, output, pg.size())
    for k, t in enumerate(input_list):
        flat[k] = backend.to_device(t._data, backend.device_of(flat))
    s_out = _Staged(pg, output)
    pending = pg._impl.reduce_scatter(s_out.buf, flat, RedOpType.SUM if op == RedOpType.AVG else op)
    done = [_avg(s_out, pg.size())] if op == RedOpType.AVG else []
    done.append(s_out.written)
    return _finish(pg, pending, done, async_op, [output])


def gather(tensor, gather_list=None, dst=None, group=None, async_op=False, group_dst=None):
    """``gather_list[r]`` on rank `dst` = `tensor` of rank r.

    Args:
        tensor: this rank's input.
        gather_list: on dst, one output per rank, each like tensor (None elsewhere).
        dst: the global rank of the destination (None: 0).
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.
        group_dst: the destination as a rank within group (not with dst).

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "gather"):
        return None
    root = _group_root(pg, dst, group_dst, "dst", "gather")
    if pg.rank() == root:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        _check_tensor_list(gather_list, "gather_list")
        _gather_buffers(pg, gather_list, tensor, "gather", "output")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    _fingerprint_check(pg, _desc("GATHER", tensor, Root=root))
    s = _Staged(pg, tensor)
    out = _flat_out(pg, tensor, pg.size()) if pg.rank() == root else None
    pending = pg._impl.gather(s.buf, out, root)
    done = [_split_into(out, gather_list, pg)] if out is not None else []
    return _finish(pg, pending, done, async_op, [gather_list] if out is not None else [])


def scatter(tensor, scatter_list=None, src=None, group=None, async_op=False, group_src=None):
    """`tensor` of rank r = ``scatter_list[r]`` of rank `src`.

    Args:
        tensor: this rank's output.
        scatter_list: on src, one input per rank, each like tensor (None elsewhere).
        src: the global rank of the source (None: 0).
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.
        group_src: the source as a rank within group (not with src).

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "scatter"):
        return None
    root = _group_root(pg, src, group_src, "src", "scatter")
    flat = None
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        _check_tensor_list(scatter_list, "scatter_list")
        _gather_buffers(pg, scatter_list, tensor, "scatter", "input")
        flat = _flat_out(pg, tensor, pg.size())
        for k, t in enumerate(scatter_list):
            flat[k] = backend.to_device(t._data, backend.device_of(flat))
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _fingerprint_check(pg, _desc("SCATTER", tensor, Root=root))
    s = _Staged(pg, tensor)
    pending = pg._impl.scatter(s.buf, flat, root)
    return _finish(pg, pending, [s.written], async_op, [tensor])


def barrier(group=None, async_op=False, device_ids=None):
    """Returns once every rank of the group has called it.

    Args:
        group: the ProcessGroup (None: the default group).
        async_op: return a Work to wait on instead of waiting here.
        device_ids: accepted, not used.

    Returns:
        Work with async_op, else None (also None on a rank outside the group, with a
        warning).
    """
    pg = _group(group)
    if _not_member(pg, "barrier"):
        return None
    _fingerprint_check(pg, _desc("BARRIER"))
    return _finish(pg, pg._impl.barrier(), [], async_op)


def _peer(pg, rank, group_rank, name, opname):
    if rank is not None and group_rank is not None:
        raise ValueError(f"Can't specify both group_{name} and {name}")
    if group_rank is None:
        if rank is None:
            raise ValueError(f"Must specify global_rank or group_rank")
        if rank not in pg._ranks:
            raise ValueError(f"Global rank {rank} is not part of group {pg}")
        group_rank = pg._ranks.index(rank)
    if group_rank == pg.rank():
        what = "destination" if name == "dst" else "source"
        raise ValueError(f"Invalid {what} rank: {what} rank should not be the same as the rank "
                         "of the current process.")
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Invalid {name} rank {group_rank}")
    return group_rank


def isend(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Sends `tensor` to rank `dst`; returns a Work.

    Args:
        tensor: the data to send (not to be changed until the Work completes).
        dst: the global destination rank.
        group: the ProcessGroup (None: the default group).
        tag: a tag matching the receiver's.
        group_dst: the destination as a rank within group (not with dst).

    Returns:
        Work (None on a rank outside the group).
    """
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "isend"):
        return None
    peer = _peer(pg, dst, group_dst, "dst", "send")
    s = _Staged(pg, tensor)
    return Work(pg, pg._impl.send(s.buf, peer, tag), [], [tensor])


def irecv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receives into `tensor` from rank `src` (any rank when None); returns a Work.

    Args:
        tensor: the output, of the sent shape and dtype.
        src: the global source rank (None: any).
        group: the ProcessGroup (None: the default group).
        tag: a tag matching the sender's.
        group_src: the source as a rank within group (not with src).

    Returns:
        Work (None on a rank outside the group); its ``source_rank()`` is the sender.
    """
    _check_tensor(tensor, "tensor")
    pg = _group(group)
    if _not_member(pg, "irecv"):
        return None
    peer = None if src is None and group_src is None else _peer(pg, src, group_src, "src", "recv")
    s = _Staged(pg, tensor)
    return Work(pg, pg._impl.recv(s.buf, peer, tag), [s.written], [tensor])


def send(tensor, dst=None, group=None, tag=0, group_dst=None):
    """Send a tensor to rank dst (blocking).

    Args:
        tensor: the tensor to send.
        dst: the global destination rank.
        group: the group (None: the default group).
        tag: a tag matching the receiver's.
        group_dst: the destination as a rank within group.

    Returns:
        None.
    """
    w = isend(tensor, dst, group, tag, group_dst)
    if w is not None:
        w.wait()


def recv(tensor, src=None, group=None, tag=0, group_src=None):
    """Receives into `tensor`; returns the sender's rank (-1 outside the group).

    Args:
        tensor: the output, of the sent shape and dtype.
        src: the global source rank (None: any).
        group: the ProcessGroup (None: the default group).
        tag: a tag matching the sender's.
        group_src: the source as a rank within group (not with src).

    Returns:
        int: the global rank of the sender.
    """
    w = irecv(tensor, src, group, tag, group_src)
    if w is None:
        return -1
    w.wait()
    return w.source_rank()


# ---------------------------------------------------------------- objects


def _object_bytes_gather(pg, payload):
    """Every rank's bytes, in rank order (sizes first, then the padded bytes, as PyTorch)."""
    from ._objects import encode  # noqa: F401  (keeps the import lazy)

    n = pg.size()
    size = np.array([len(payload)], np.int64)
    sizes = np.zeros((n, 1), np.int64)
    p = pg._impl.allgather(pg._impl.from_host(sizes), pg._impl.from_host(size))
    _wait(pg, p, pg._timeout)
    p.finish()
    sizes = backend.to_device(p.out, backend.CPU).reshape(-1)
    width = int(sizes.max())
    mine = np.zeros(width, np.uint8)
    mine[:len(payload)] = np.frombuffer(payload, np.uint8)
    out = np.zeros((n, width), np.uint8)
    p = pg._impl.allgather(pg._impl.from_host(out), pg._impl.from_host(mine))
    _wait(pg, p, pg._timeout)
    p.finish()
    out = backend.to_device(p.out, backend.CPU)
    return [bytes(out[r, :sizes[r]]) for r in range(n)]


def all_gather_object(object_list, obj, group=None):
    """``object_list[r]`` = `obj` of rank r. Objects are data (numbers, strings, lists,
    tuples, dicts, tensors, arrays), sent as JSON and raw bytes, never pickled.

    Args:
        object_list: a list of world size entries, filled in place.
        obj: this rank's object.
        group: the ProcessGroup (None: the default group).

    Returns:
        None.
    """
    from ._objects import decode, encode

    pg = _group(group)
    if _not_member(pg, "all_gather_object"):
        return None
    if len(object_list) != pg.size():
        raise ValueError(f"all_gather_object: object_list must have one entry per rank "
                         f"({pg.size()}), got {len(object_list)}")
    _fingerprint_check(pg, _desc("ALLGATHER_OBJECT"))
    for r, data in enumerate(_object_bytes_gather(pg, encode(obj))):
        object_list[r] = decode(data)
    return None


def broadcast_object_list(object_list, src=None, group=None, device=None, group_src=None):
    """Replaces `object_list` on every rank by rank `src`'s (same length on every rank).

    Args:
        object_list: on src the objects, elsewhere a list of the same length, filled in
            place.
        src: the global rank of the source (None: 0).
        group: the ProcessGroup (None: the default group).
        device: where received tensors are put (None: the sender's device, or the CPU
            where this process has no GPU).
        group_src: the source as a rank within group (not with src).

    Returns:
        None.
    """
    from ._objects import decode, encode

    pg = _group(group)
    if _not_member(pg, "broadcast_object_list"):
        return None
    root = _group_root(pg, src, group_src, "src", "broadcast")
    _fingerprint_check(pg, _desc("BROADCAST_OBJECT_LIST", Root=root, Length=len(object_list)))
    payload = encode(list(object_list)) if pg.rank() == root else b""
    size = np.array([len(payload)], np.int64)
    p = pg._impl.broadcast(pg._impl.from_host(size), root)
    _wait(pg, p, pg._timeout)
    p.finish()
    n = int(backend.to_device(p.buf, backend.CPU)[0])
    data = np.zeros(n, np.uint8)
    if pg.rank() == root:
        data[:] = np.frombuffer(payload, np.uint8)
    p = pg._impl.broadcast(pg._impl.from_host(data), root)
    _wait(pg, p, pg._timeout)
    p.finish()
    if pg.rank() != root:
        received = decode(bytes(backend.to_device(p.buf, backend.CPU)), device)
        object_list[:] = received
    return None


def gather_object(obj, object_gather_list=None, dst=None, group=None, group_dst=None):
    """``object_gather_list[r]`` on rank `dst` = `obj` of rank r (None elsewhere).

    Args:
        obj: this rank's object.
        object_gather_list: on dst, a list of world size entries, filled in place.
        dst: the global rank of the destination (None: 0).
        group: the ProcessGroup (None: the default group).
        group_dst: the destination as a rank within group (not with dst).

    Returns:
        None.
    """
    from ._objects import decode, encode

    pg = _group(group)
    if _not_member(pg, "gather_object"):
        return None
    root = _group_root(pg, dst, group_dst, "dst", "gather")
    if pg.rank() == root and (object_gather_list is None or len(object_gather_list) != pg.size()):
        raise ValueError("Argument ``object_gather_list`` must be specified on destination rank, "
                         "with one entry per rank.")
    _fingerprint_check(pg, _desc("GATHER_OBJECT", Root=root))
    gathered = _object_bytes_gather(pg, encode(obj))
    if pg.rank() == root:
        for r, data in enumerate(gathered):
            object_gather_list[r] = decode(data)
    return None


def scatter_object_list(scatter_object_output_list, scatter_object_input_list=None, src=None,
                        group=None, group_src=None):
    """``scatter_object_output_list[0]`` on rank r = ``scatter_object_input_list[r]`` of
    rank `src`.

    Args:
        scatter_object_output_list: a list of at least one entry; its first is set.
        scatter_object_input_list: on src, one object per rank.
        src: the global rank of the source (None: 0).
        group: the ProcessGroup (None: the default group).
        group_src: the source as a rank within group (not with src).

    Returns:
        None.
    """
    pg = _group(group)
    if _not_member(pg, "scatter_object_list"):
        return None
    root = _group_root(pg, src, group_src, "src", "scatter")
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    objs = [list(scatter_object_input_list) if pg.rank() == root else None]
    broadcast_object_list(objs, src=pg._ranks[root], group=group)
    scatter_object_output_list[0] = objs[0][pg.rank()]
    return None


def _internal_all_reduce(pg, tensor, op=RedOpType.SUM, async_op=True):
    """An all-reduce without the fingerprint check (DDP's buckets, whose shapes every rank
    agreed on at construction)."""
    return _all_reduce(pg, tensor, op, async_op)
