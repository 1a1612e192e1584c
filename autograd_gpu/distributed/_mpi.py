"""The MPI backend: mpi4py's non-blocking operations on contiguous buffers.

Buffers are host (NumPy) arrays; CuPy arrays are handed to MPI as they are only when MPI is
CUDA-aware (``AUTOGRAD_GPU_MPI_CUDA_AWARE=1``, or mpi4py's ``Query_cuda_support()`` says so),
after the current stream has finished writing them; otherwise the caller stages them
through the host. Every operation is posted non-blocking and returns a `_Pending`, which the
caller polls against the group's timeout; but a synchronous all-reduce or broadcast whose
ranks have all agreed on the call (the fingerprint check, itself non-blocking and timed)
runs MPI's blocking collective, whose tuned algorithms are about twice as fast as the
non-blocking schedule on large messages, and which can no longer wait for a missing rank.
Reductions use MPI's typed operations (float16, which MPI lacks, is reduced in float32);
everything else moves raw bytes.
"""
import os

import numpy as np

from .. import backend
from ._reduce_op import RedOpType

_MPI = None


def _mpi():
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except ImportError as e:
            raise RuntimeError(
                "The MPI backend needs mpi4py and an MPI library (Debian/Ubuntu: apt-get install "
                f"openmpi-bin libopenmpi-dev; then pip install mpi4py): {e}"
            ) from None
        _MPI = MPI
    return _MPI


_MAX_COUNT = 2**31 - 1  # MPI-3 counts are C ints


def _cuda_aware(MPI):
    env = os.environ.get("AUTOGRAD_GPU_MPI_CUDA_AWARE")
    if env is not None:
        return env == "1"
    query = getattr(MPI, "Query_cuda_support", None)
    try:
        return bool(query()) if query is not None else False
    except Exception:
        return False


def init(rank, world_size, timeout):
    """The default group's communicator: MPI's world, in the order of the ranks asked for."""
    MPI = _mpi()
    world = MPI.COMM_WORLD
    if world_size is not None and world_size != world.Get_size():
        hint = (" (this process is not under mpirun: start the ranks with `mpirun -np N python "
                "script.py` or `python -m autograd_gpu.distributed.run`)") if world.Get_size() == 1 else ""
        raise ValueError(f"init_process_group(backend='mpi'): world_size={world_size}, but MPI "
                         f"started {world.Get_size()} process(es){hint}")
    if rank is None or rank == world.Get_rank():
        comm = world.Dup()  # our traffic apart from the program's own use of COMM_WORLD
    else:
        if not 0 <= rank < world.Get_size():
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, "
                             f"{world.Get_size() - 1}]")
        comm = world.Split(0, rank)  # ranks renumbered as the caller numbered them
        if sorted(comm.allgather(rank)) != list(range(world.Get_size())):
            raise ValueError("init_process_group: every rank must be given a different rank in "
                             f"[0, {world.Get_size() - 1}]")
    return MPIComm(comm, _cuda_aware(MPI))


class _Pending:
    """Outstanding MPI requests; `after` runs once they complete (a float16 write-back, a
    receive's size check)."""

    __slots__ = ("reqs", "what", "after", "buf", "out", "source", "status", "cancellable", "same")

    def __init__(self, reqs, what, after=None, buf=None, out=None, status=None, cancellable=False):
        self.reqs, self.what, self.after = reqs, what, after
        self.buf, self.out, self.status, self.cancellable = buf, out, status, cancellable
        self.source = None
        self.same = None

    def test(self):
        MPI = _MPI
        try:
            if self.status is not None:
                return self.reqs[0].Test(self.status)
            return MPI.Request.Testall(self.reqs)
        except MPI.Exception as e:
            raise RuntimeError(f"MPI error in {self.what}: {e.Get_error_string()}") from None

    def cancel(self):
        if not self.cancellable:
            return False
        for r in self.reqs:
            r.Cancel()
            r.Wait()
        return True

    def finish(self):
        if self.after is not None:
            after, self.after = self.after, None
            after(self)


def _bytes(a):
    return [a.reshape(-1).view(np.uint8) if backend.array_module(a) is np
            else a.reshape(-1).view(backend.array_module(a).uint8), _MPI.BYTE]


class MPIComm:
    label = "MPI"
    needs_device_buffers = False

    def __init__(self, comm, cuda_aware):
        self.comm = comm
        self.rank = comm.Get_rank()
        self.size = comm.Get_size()
        self.device_buffers = cuda_aware
        MPI = _MPI
        self._ops = {
            RedOpType.SUM: MPI.SUM, RedOpType.PRODUCT: MPI.PROD, RedOpType.MIN: MPI.MIN,
            RedOpType.MAX: MPI.MAX, RedOpType.BAND: MPI.BAND, RedOpType.BOR: MPI.BOR,
            RedOpType.BXOR: MPI.BXOR,
        }
        self._bool_ops = {
            RedOpType.SUM: MPI.LOR, RedOpType.PRODUCT: MPI.LAND, RedOpType.MIN: MPI.LAND,
            RedOpType.MAX: MPI.LOR, RedOpType.BAND: MPI.LAND, RedOpType.BOR: MPI.LOR,
            RedOpType.BXOR: MPI.LXOR,
        }

    # -- helpers
    def _ready(self, *arrays):
        for a in arrays:
            if a is not None:
                if a.size > _MAX_COUNT:
                    raise RuntimeError(f"MPI backend: {a.size} elements exceed MPI's count limit "
                                       f"({_MAX_COUNT}); split the tensor")
                if backend.is_cuda_array(a):  # CUDA-aware MPI reads it once the stream is done
                    backend.synchronize(backend.device_of(a))

    def _typed(self, buf, op):
        """(buffer spec, MPI op, write-back) for a reduction of `buf`."""
        MPI = _MPI
        dt = buf.dtype
        if dt == np.float16:  # no half type in MPI: reduce a float32 copy
            tmp = buf.astype(np.float32)

            def back(_p, tmp=tmp):
                buf[...] = tmp
            return [tmp, MPI.FLOAT], self._ops[op], back, tmp
        if dt == np.bool_:
            return [buf, MPI.C_BOOL], self._bool_ops[op], None, buf
        return [buf, MPI._typedict[dt.char]], self._ops[op], None, buf

    # -- operations (non-blocking; blocking=True: done on return, see the module docstring)
    def allreduce(self, buf, op, blocking=False):
        self._ready(buf)
        spec, mop, back, _ = self._typed(buf, op)
        if blocking:
            self.comm.Allreduce(_MPI.IN_PLACE, spec, mop)
            return _Pending([], "allreduce", back, buf=buf)
        return _Pending([self.comm.Iallreduce(_MPI.IN_PLACE, spec, mop)], "allreduce", back, buf=buf)

    def reduce(self, buf, op, root):
        self._ready(buf)
        spec, mop, back, tmp = self._typed(buf, op)
        if self.rank == root:
            req = self.comm.Ireduce(_MPI.IN_PLACE, spec, mop, root)
        else:
            req = self.comm.Ireduce(spec, None, mop, root)
            back = None
        return _Pending([req], "reduce", back, buf=buf)

    def reduce_scatter(self, out, inp, op):
        self._ready(out, inp)
        spec_in, mop, _, _ = self._typed(inp, op)
        spec_out, _, back, _ = self._typed(out, op)
        return _Pending([self.comm.Ireduce_scatter_block(spec_in, spec_out, mop)],
                        "reduce_scatter", back, buf=out)

    def broadcast(self, buf, root, blocking=False):
        self._ready(buf)
        if blocking:
            self.comm.Bcast(_bytes(buf), root)
            return _Pending([], "broadcast", buf=buf)
        return _Pending([self.comm.Ibcast(_bytes(buf), root)], "broadcast", buf=buf)

    def allgather(self, out, inp):
        self._ready(out, inp)
        return _Pending([self.comm.Iallgather(_bytes(inp), _bytes(out))], "allgather", out=out)

    def gather(self, inp, out, root):
        self._ready(out, inp)
        recv = _bytes(out) if self.rank == root else None
        return _Pending([self.comm.Igather(_bytes(inp), recv, root)], "gather", out=out)

    def scatter(self, out, inp, root):
        self._ready(out, inp)
        send = _bytes(inp) if self.rank == root else None
        return _Pending([self.comm.Iscatter(send, _bytes(out), root)], "scatter", buf=out)

    def barrier(self):
        return _Pending([self.comm.Ibarrier()], "barrier")

    def send(self, buf, dst, tag):
        self._ready(buf)
        return _Pending([self.comm.Isend(_bytes(buf), dst, tag)], "send", buf=buf)

    def recv(self, buf, src, tag):
        self._ready(buf)
        MPI = _MPI
        status = MPI.Status()
        source = MPI.ANY_SOURCE if src is None else src

        def check(p):
            p.source = status.Get_source()
            n = status.Get_count(MPI.BYTE)
            if n != buf.nbytes:
                raise RuntimeError(f"recv: the message from rank {p.source} has {n} bytes, but the "
                                   f"tensor received into has {buf.nbytes} (shapes or dtypes "
                                   "differ between send and recv)")
        req = self.comm.Irecv(_bytes(buf), source, tag)
        return _Pending([req], "recv", check, buf=buf, status=status, cancellable=True)

    def agree(self, code):
        arr = np.array([code, -code], np.int64)

        def same(p):
            p.same = bool(arr[0] == -arr[1])  # max(code) == min(code)
        return _Pending([self.comm.Iallreduce(_MPI.IN_PLACE, [arr, _MPI.INT64_T], _MPI.MAX)],
                        "fingerprint allreduce", same, buf=arr)

    def from_host(self, a):
        return a

    def split(self, ranks):
        MPI = _MPI
        member = self.rank in ranks
        comm = self.comm.Split(0 if member else MPI.UNDEFINED,
                               ranks.index(self.rank) if member else 0)
        return MPIComm(comm, self.device_buffers) if member else None

    def destroy(self):
        if self.comm is not None and self.comm != _MPI.COMM_NULL:
            self.comm.Free()
        self.comm = None
