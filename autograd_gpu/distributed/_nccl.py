"""The NCCL backend: cupy.cuda.nccl on each rank's own GPU.

Rank and size come from the arguments or RANK / WORLD_SIZE, else from MPI when started by
mpirun. The GPU is LOCAL_RANK modulo the visible devices (or ``device_id``). Rank 0 makes
the unique id and shares it over MPI when started by mpirun, else over a TCP store at
MASTER_ADDR:MASTER_PORT (or ``init_method="tcp://host:port"``). Each communicator has its
own stream: an operation waits for the work already queued on the caller's stream (the
gradients it reads), runs on the communication stream, and records an event; completing it
makes the caller's stream wait for that event, as PyTorch's ``Work.wait()`` does. CuPy and
NCCL are imported only here, when the backend starts.
"""
import os

import numpy as np

from .. import backend
from ._reduce_op import RedOpType


def _nccl():
    cp = backend.cupy_module()
    try:
        from cupy.cuda import nccl
    except Exception as e:
        raise RuntimeError(f"Distributed package doesn't have NCCL built in: CuPy's NCCL "
                           f"bindings failed to import ({type(e).__name__}: {e})") from None
    if not getattr(nccl, "available", True):
        raise RuntimeError("Distributed package doesn't have NCCL built in: this CuPy was built "
                           "without NCCL (install a cupy-cuda12x/13x wheel and nvidia-nccl)")
    return cp, nccl


def _mpi_world():
    if not any(k in os.environ for k in ("OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK")):
        return None
    from ._mpi import _mpi

    return _mpi().COMM_WORLD


def init(rank, world_size, rendezvous, store, timeout, device_id):
    cp, nccl = _nccl()
    world = _mpi_world()
    if rank is None or world_size is None:
        if world is None:
            raise ValueError("init_process_group(backend='nccl'): give rank and world_size (or "
                             "RANK / WORLD_SIZE, as the launcher sets), or start under mpirun")
        rank, world_size = world.Get_rank(), world.Get_size()
    local = os.environ.get("LOCAL_RANK") or os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK") or rank
    ndev = cp.cuda.runtime.getDeviceCount()
    dev = backend.normalize_device(device_id).index if device_id is not None else int(local) % ndev
    cp.cuda.Device(dev).use()
    st = None
    if rank == 0:
        uid = nccl.get_unique_id()
    if world is not None and world.Get_size() == world_size:
        uid = world.bcast(uid if rank == 0 else None, root=0)
    else:
        if store is None:
            if rendezvous is None:
                raise ValueError("init_process_group(backend='nccl'): set MASTER_ADDR and "
                                 "MASTER_PORT, or init_method='tcp://host:port', for the ranks to meet")
            from ._store import TCPStore

            store = st = TCPStore(rendezvous[0], rendezvous[1], world_size, rank == 0, timeout)
        if rank == 0:
            store.set("autograd_gpu/nccl_uid", bytes(np.array(uid, np.int8).view(np.uint8)))
        else:
            raw = store.get("autograd_gpu/nccl_uid")
            uid = tuple(np.frombuffer(raw, np.uint8).view(np.int8).tolist())
    comm = nccl.NcclCommunicator(world_size, uid, rank)
    return NCCLComm(cp, nccl, comm, rank, world_size, dev), st


class _Pending:
    __slots__ = ("event", "what", "keep", "buf", "out", "source", "same", "after", "cp")

    def __init__(self, cp, event, what, keep, buf=None, out=None, after=None):
        self.cp, self.event, self.what, self.keep = cp, event, what, keep
        self.buf, self.out, self.after = buf, out, after
        self.source = None
        self.same = None

    def test(self):
        return self.event.done

    def cancel(self):
        return False  # a queued NCCL kernel cannot be withdrawn (only the communicator aborted)

    def finish(self):
        # later work on the caller's stream sees the result
        self.cp.cuda.get_current_stream().wait_event(self.event)
        if self.after is not None:
            after, self.after = self.after, None
            after(self)
        self.keep = None


class NCCLComm:
    label = "NCCL"
    device_buffers = True
    needs_device_buffers = True

    def __init__(self, cp, nccl, comm, rank, size, dev):
        self.cp, self.nccl, self.comm = cp, nccl, comm
        self.rank, self.size, self.dev = rank, size, dev
        with cp.cuda.Device(dev):
            self.stream = cp.cuda.Stream(non_blocking=True)
        self._types = {
            np.dtype(np.float32): nccl.NCCL_FLOAT32, np.dtype(np.float64): nccl.NCCL_FLOAT64,
            np.dtype(np.float16): nccl.NCCL_FLOAT16, np.dtype(np.int32): nccl.NCCL_INT32,
            np.dtype(np.int64): nccl.NCCL_INT64, np.dtype(np.uint8): nccl.NCCL_UINT8,
            np.dtype(np.int8): nccl.NCCL_INT8, np.dtype(np.bool_): nccl.NCCL_UINT8,
        }
        self._ops = {RedOpType.SUM: nccl.NCCL_SUM, RedOpType.PRODUCT: nccl.NCCL_PROD,
                     RedOpType.MIN: nccl.NCCL_MIN, RedOpType.MAX: nccl.NCCL_MAX}

    def _type(self, a):
        t = self._types.get(a.dtype)
        if t is None:
            raise ValueError(f"the NCCL backend does not support dtype {a.dtype}")
        return t

    def _op(self, op, a):
        if a.dtype == np.bool_:  # bools as bytes: any (sum, max) or all (product, min)
            op = RedOpType.MAX if op in (RedOpType.SUM, RedOpType.MAX) else RedOpType.MIN
        if op not in self._ops:
            raise ValueError(f"the NCCL backend does not support ReduceOp.{op.name}")
        return self._ops[op]

    def _launch(self, what, fn, keep, **kw):
        """Runs fn(stream_ptr) on the communication stream after the caller's queued work."""
        cp = self.cp
        with cp.cuda.Device(self.dev):
            ready = cp.cuda.Event()
            ready.record(cp.cuda.get_current_stream())
            self.stream.wait_event(ready)
            fn(self.stream.ptr)
            done = cp.cuda.Event()
            done.record(self.stream)
        return _Pending(cp, done, what, keep, **kw)

    def allreduce(self, buf, op, blocking=False):  # (queued on the stream either way)
        t, o = self._type(buf), self._op(op, buf)
        return self._launch("allreduce", lambda s: self.comm.allReduce(
            buf.data.ptr, buf.data.ptr, buf.size, t, o, s), (buf,), buf=buf)

    def reduce(self, buf, op, root):
        t, o = self._type(buf), self._op(op, buf)
        return self._launch("reduce", lambda s: self.comm.reduce(
            buf.data.ptr, buf.data.ptr, buf.size, t, o, root, s), (buf,), buf=buf)

    def reduce_scatter(self, out, inp, op):
        t, o = self._type(out), self._op(op, out)
        return self._launch("reduce_scatter", lambda s: self.comm.reduceScatter(
            inp.data.ptr, out.data.ptr, out.size, t, o, s), (out, inp), buf=out)

    def broadcast(self, buf, root, blocking=False):
        v = buf.reshape(-1).view(self.cp.uint8)
        return self._launch("broadcast", lambda s: self.comm.broadcast(
            v.data.ptr, v.data.ptr, v.size, self.nccl.NCCL_UINT8, root, s), (buf,), buf=buf)

    def allgather(self, out, inp):
        vi = inp.reshape(-1).view(self.cp.uint8)
        return self._launch("allgather", lambda s: self.comm.allGather(
            vi.data.ptr, out.data.ptr, vi.size, self.nccl.NCCL_UINT8, s), (out, inp), out=out)

    def _grouped(self, what, pairs, keep, **kw):
        """Several sends/receives as one NCCL group (gather, scatter)."""
        nccl, u8 = self.nccl, self.nccl.NCCL_UINT8

        def run(s):
            nccl.groupStart()
            try:
                for kind, a, peer in pairs:
                    v = a.reshape(-1).view(self.cp.uint8)
                    if kind == "send":
                        self.comm.send(v.data.ptr, v.size, u8, peer, s)
                    else:
                        self.comm.recv(v.data.ptr, v.size, u8, peer, s)
            finally:
                nccl.groupEnd()
        return self._launch(what, run, keep, **kw)

    def gather(self, inp, out, root):
        if self.rank != root:
            return self._grouped("gather", [("send", inp, root)], (inp,), out=out)
        pairs = [("recv", out[r], r) for r in range(self.size) if r != root]

        def own(_p):
            out[root] = inp
        return self._grouped("gather", pairs, (inp, out), out=out, after=own)

    def scatter(self, out, inp, root):
        if self.rank != root:
            return self._grouped("scatter", [("recv", out, root)], (out,), buf=out)
        pairs = [("send", inp[r], r) for r in range(self.size) if r != root]

        def own(_p):
            out[...] = inp[root]
        return self._grouped("scatter", pairs, (out, inp), buf=out, after=own)

    def send(self, buf, dst, tag):
        return self._grouped("send", [("send", buf, dst)], (buf,), buf=buf)

    def recv(self, buf, src, tag):
        if src is None:
            raise ValueError("the NCCL backend cannot receive from any source: give src")

        def source(p):
            p.source = src
        return self._grouped("recv", [("recv", buf, src)], (buf,), buf=buf, after=source)

    def barrier(self):
        with self.cp.cuda.Device(self.dev):
            one = self.cp.ones(1, self.cp.float32)
        return self.allreduce(one, RedOpType.SUM)

    def agree(self, code):
        with self.cp.cuda.Device(self.dev):
            arr = self.cp.asarray(np.array([code, -code], np.int64))

        def same(p):
            host = arr.get()
            p.same = bool(host[0] == -host[1])
        p = self.allreduce(arr, RedOpType.MAX)
        p.after = same
        return p

    def from_host(self, a):
        with self.cp.cuda.Device(self.dev):
            return self.cp.asarray(a)

    def split(self, ranks):
        """A communicator of `ranks` (a collective of this one): the lowest member makes the
        unique id, which reaches the members over this communicator."""
        cp = self.cp
        root = ranks[0]
        uid = np.zeros(128, np.int8)
        if self.rank == root:
            uid[:] = np.array(self.nccl.get_unique_id(), np.int8)
        with cp.cuda.Device(self.dev):
            d = cp.asarray(uid)
        p = self.broadcast(d, root)
        p.event.synchronize()
        if self.rank not in ranks:
            return None
        uid = tuple(d.get().tolist())
        with cp.cuda.Device(self.dev):
            comm = self.nccl.NcclCommunicator(len(ranks), uid, ranks.index(self.rank))
        return NCCLComm(cp, self.nccl, comm, ranks.index(self.rank), len(ranks), self.dev)

    def destroy(self):
        if self.comm is not None:
            self.stream.synchronize()
            self.comm.destroy()
            self.comm = None
