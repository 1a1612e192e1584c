"""The reduce operations (``RedOpType``, ``ReduceOp``), as torch.distributed's.

Below both the collectives (``_core``) and the backends (``_mpi``, ``_nccl``): the backends
map these to MPI's and NCCL's operations, and ``_core`` checks and passes them on.
"""
import enum


class RedOpType(enum.IntEnum):
    """The reduce operations of ReduceOp (SUM, PRODUCT, MIN, MAX, AVG, BAND, BOR, BXOR).

    Args:
        value: ``RedOpType(value)`` is the member of that int value.
        names: with module, qualname, type, start and boundary: Enum's functional API
            (making another enum), as for every IntEnum.
        module: see names.
        qualname: see names.
        type: see names.
        start: see names.
        boundary: see names.
    """
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9

    def __repr__(self):
        return f"<RedOpType.{self.name}: {self.value}>"

    __str__ = __repr__


class ReduceOp:
    """``ReduceOp.SUM``, ``PRODUCT``, ``MIN``, ``MAX``, ``AVG``, ``BAND``, ``BOR``, ``BXOR``."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    UNUSED = RedOpType.UNUSED
