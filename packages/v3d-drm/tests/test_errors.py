"""Typed errors name the ioctl, the errno and the value, and suggest the fix."""

import errno

import numpy as np
from v3d_drm import (
    GPUTimeout,
    InvalidArgument,
    MMUFault,
    PermissionDenied,
    V3DError,
    uapi,
)
from v3d_drm.backends import kernel
from v3d_drm.clock import CLOCK_LOOP_PROGRAM
from v3d_drm.errors import from_oserror


def test_errno_mapping():
    eacces = from_oserror(OSError(errno.EACCES, "Permission denied"), "open", "/dev/dri/renderD128")
    assert isinstance(eacces, PermissionDenied) and isinstance(eacces, PermissionError)
    assert "render" in str(eacces) and "usermod" in str(eacces) and "EACCES" in str(eacces)
    einval = from_oserror(OSError(errno.EINVAL, "x"), "DRM_IOCTL_V3D_CREATE_BO", 0)
    assert isinstance(einval, InvalidArgument) and isinstance(einval, ValueError)
    assert (einval.ioctl, einval.errno, einval.value) == ("DRM_IOCTL_V3D_CREATE_BO", errno.EINVAL, 0)
    assert "DRM_IOCTL_V3D_CREATE_BO" in str(einval) and "EINVAL" in str(einval)
    assert isinstance(from_oserror(OSError(errno.ETIME, "x"), "DRM_IOCTL_SYNCOBJ_WAIT"), GPUTimeout)
    other = from_oserror(OSError(errno.EIO, "x"), "DRM_IOCTL_V3D_SUBMIT_CSD")
    assert type(other) is V3DError


def test_mmu_fault_message():
    fault = MMUFault(0x1234, 4, nearest=(0x20000, 0x1000), context="job 3")
    assert fault.address == 0x1234 and fault.nearest == (0x20000, 0x1000)
    # what broke first, then the nearest buffer, then the context, one part per line
    lines = str(fault).splitlines()
    assert lines[0] == "GPU access of 4 byte(s) at 0x00001234 is outside every buffer object"
    assert "[0x00020000, 0x00021000)" in lines[1] and lines[-1] == "job 3"


def test_ioctl_names_come_from_the_table():
    assert uapi.ioctl_name(uapi.DRM_IOCTL_V3D_SUBMIT_CSD) == "DRM_IOCTL_V3D_SUBMIT_CSD"
    assert uapi.ioctl_name(0x1234) == "ioctl 0x00001234"


def test_kernel_backend_retries_interrupted_ioctls(monkeypatch):
    calls = []

    def fake_ioctl(fd, request, arg, mutate):
        calls.append(request)
        if len(calls) == 1:
            raise InterruptedError(errno.EINTR, "interrupted")
        if len(calls) == 2:
            raise BlockingIOError(errno.EAGAIN, "again")

    backend = kernel.KernelBackend.__new__(kernel.KernelBackend)
    backend._fd, backend.closed = -1, False
    monkeypatch.setattr(kernel.fcntl, "ioctl", fake_ioctl)
    backend.ioctl(uapi.DRM_IOCTL_V3D_WAIT_BO, uapi.drm_v3d_wait_bo())
    assert calls == [uapi.DRM_IOCTL_V3D_WAIT_BO] * 3


def test_wait_bo_fallback_without_syncobjs(dev, monkeypatch):
    monkeypatch.setattr(dev, "_out_syncobj", lambda: None)
    job = dev.dispatch(np.array(CLOCK_LOOP_PROGRAM, dtype=np.uint64), [1])
    assert job.syncobj is None
    job.wait(timeout=1)
    assert job.done and job.stats is None  # without a syncobj there is no job report
