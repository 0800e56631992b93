"""The real backend: the V3D DRM node, driven with fcntl.ioctl and mmap.

Finding the node needs no root: every /dev/dri node is asked for its DRM driver name
(DRM_IOCTL_VERSION) and the first one called "v3d" wins, render nodes first (they allow every
V3D ioctl without DRM authentication); no card number is assumed.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import glob
import mmap
import os
from collections.abc import Mapping

from .. import uapi
from .base import JobReport, close_mapping

DRI_DIR = "/dev/dri"
V3D_DRIVER_NAME = "v3d"


def driver_name(fd: int) -> str:
    """The DRM driver name of an open DRM fd (DRM_IOCTL_VERSION, one call with a 64-byte buffer)."""
    buf = ctypes.create_string_buffer(64)
    version = uapi.drm_version(name_len=len(buf), name=ctypes.addressof(buf))
    fcntl.ioctl(fd, uapi.DRM_IOCTL_VERSION, version, True)
    return buf.raw[: min(version.name_len, len(buf))].decode("ascii", "replace")


def candidate_nodes(dri_dir: str = DRI_DIR) -> list[str]:
    """Render nodes first, then card nodes, each in numeric order."""

    def number(path: str) -> int:
        digits = "".join(ch for ch in os.path.basename(path) if ch.isdigit())
        return int(digits or 0)

    render = sorted(glob.glob(os.path.join(dri_dir, "renderD*")), key=number)
    card = sorted(glob.glob(os.path.join(dri_dir, "card*")), key=number)
    return render + card


def find_v3d_node(dri_dir: str = DRI_DIR) -> tuple[str | None, list[str]]:
    """The first V3D node, plus one line per node tried saying why it was not taken."""
    tried = []
    nodes = candidate_nodes(dri_dir)
    if not nodes:
        tried.append(f"no DRM nodes in {dri_dir}")
    for path in nodes:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            tried.append(f"{path}: cannot open ({errno.errorcode.get(exc.errno, exc.errno)}: {exc.strerror})")
            continue
        try:
            name = driver_name(fd)
        except OSError as exc:
            tried.append(f"{path}: DRM_IOCTL_VERSION failed ({exc.strerror})")
            continue
        finally:
            os.close(fd)
        if name == V3D_DRIVER_NAME:
            return path, tried
        tried.append(f"{path}: driver {name!r}, not {V3D_DRIVER_NAME!r}")
    return None, tried


class KernelBackend:
    """An open V3D DRM node."""

    kind = "kernel"
    executor_name = None

    def __init__(self, path: str) -> None:
        self.node = path
        self.closed = True
        self._fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        self.closed = False
        try:
            name = driver_name(self._fd)
        except OSError:
            self.close()
            raise
        if name != V3D_DRIVER_NAME:
            self.close()
            raise OSError(errno.ENODEV, f"{path} is driven by {name!r}, not {V3D_DRIVER_NAME!r}")

    def fileno(self) -> int:
        return self._fd

    def ioctl(self, request: int, arg: ctypes.Structure) -> None:
        # libdrm's drmIoctl rule: retry on EINTR/EAGAIN with the struct the kernel wrote back
        # (WAIT_BO decrements timeout_ns in place, so the retry waits only for the remainder).
        while True:
            try:
                fcntl.ioctl(self._fd, request, arg, True)
                return
            except (InterruptedError, BlockingIOError):
                continue

    def mmap(self, length: int, offset: int) -> mmap.mmap:
        return mmap.mmap(self._fd, length, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=offset)

    def munmap(self, mapping: mmap.mmap) -> None:
        close_mapping(mapping)

    def submit_csd(
        self, arg: ctypes.Structure, *, description: str, options: Mapping[str, object]
    ) -> None:
        """The plain ioctl: the hardware has no use for a description or executor options."""
        self.ioctl(uapi.DRM_IOCTL_V3D_SUBMIT_CSD, arg)

    def job_report(self, syncobj: int) -> JobReport | None:
        return None

    def job_progress(self, syncobj: int) -> float | None:
        return None  # the kernel does not expose a job's progress

    def cancel_job(self, syncobj: int, reason: str) -> bool:
        return False  # no ioctl cancels a job; the kernel resets a GPU that stops progressing

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._fd)
