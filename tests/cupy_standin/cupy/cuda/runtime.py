"""cupy.cuda.runtime: the stand-in's device count, current device and properties."""
from .. import _core


class CUDARuntimeError(RuntimeError):
    pass


def getDeviceCount():
    return _core.N_DEVICES


def getDevice():
    return _core.current_device()


def setDevice(device):
    _core.set_current_device(int(device))


def deviceSynchronize():
    pass


def runtimeGetVersion():
    return 13000


def driverGetVersion():
    return 13000


def deviceCanAccessPeer(device, peer):
    return 0  # no peer access: an operand on another device is refused


def getDeviceProperties(device):
    if not 0 <= device < _core.N_DEVICES:
        raise CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {device}")
    return {"name": b"CuPy stand-in device", "totalGlobalMem": 16 << 30, "major": 9, "minor": 0,
            "multiProcessorCount": 132, "clockRate": 1_980_000, "memoryClockRate": 2_619_000,
            "memoryBusWidth": 5120, "l2CacheSize": 50 << 20}


def memGetInfo():
    return (16 << 30, 16 << 30)
