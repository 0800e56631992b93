"""vc6-kernels: ready-made Raspberry Pi 4 GPU routines, numpy in, numpy out.

`sgemm`, `summation`, `scopy`, `memset` and `stencil` each run one QPU program (written
with the vc6_isa assembler DSL) on all 8 QPUs of the device `v3d_drm.open()` gives (the
emulator when there is no Pi). `record()` collects the jobs they dispatch.
"""

from ._common import (
    KernelTypeError,
    KernelValueError,
    Recording,
    default_device,
    record,
)
from .memset import memset
from .scopy import scopy
from .sgemm import sgemm
from .stencil import stencil
from .summation import summation

__all__ = [
    "KernelTypeError",
    "KernelValueError",
    "Recording",
    "default_device",
    "memset",
    "record",
    "scopy",
    "sgemm",
    "stencil",
    "summation",
]
