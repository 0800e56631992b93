"""v3d-drm: a pure-Python driver for the Raspberry Pi 4 GPU (V3D 4.2), with an emulated device.

    import v3d_drm
    with v3d_drm.open() as dev:
        print(dev.info)
"""

from .bo import BufferObject, DeviceArray
from .clock import ClockMeasurement, gpu_clock_mhz
from .counters import V3D42_COUNTERS, Counter
from .csd import CsdConfig, Job, choose_wgs_per_sg, compute_cfg
from .device import Device, DeviceInfo, open
from .errors import (
    DeviceNotFound,
    GPUTimeout,
    InvalidArgument,
    JobCancelled,
    MMUFault,
    PermissionDenied,
    V3DError,
)
from .executor import CsdJob, CsdResult, Executor, GpuMemory, JobControl
from .perfmon import Perfmon
from .sync import Syncobj

__all__ = [
    "V3D42_COUNTERS",
    "BufferObject",
    "ClockMeasurement",
    "Counter",
    "CsdConfig",
    "CsdJob",
    "CsdResult",
    "Device",
    "DeviceArray",
    "DeviceInfo",
    "DeviceNotFound",
    "Executor",
    "GPUTimeout",
    "GpuMemory",
    "InvalidArgument",
    "Job",
    "JobCancelled",
    "JobControl",
    "MMUFault",
    "Perfmon",
    "PermissionDenied",
    "Syncobj",
    "V3DError",
    "choose_wgs_per_sg",
    "compute_cfg",
    "gpu_clock_mhz",
    "open",
]
