"""The stand-in's `cupy.cuda.runtime`: one device, named so that no result can pass for a GPU's."""


class CUDARuntimeError(RuntimeError):
    pass


def getDeviceCount():
    return 1


def getDeviceProperties(device):
    if device != 0:
        raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
    return {"name": b"CuPy stand-in on NumPy (not a GPU)", "totalGlobalMem": 0}


def runtimeGetVersion():
    return 13000
