"""DRM sync objects: the fences a job signals and a later job (or the CPU) waits for."""

from __future__ import annotations

import ctypes
import errno
import time
import weakref
from typing import TYPE_CHECKING

from . import uapi
from .errors import GPUTimeout, InvalidArgument

if TYPE_CHECKING:
    from .device import Device

INT64_MAX = (1 << 63) - 1
#: Longest single blocking wait ioctl. Waits are issued in slices this long, so the waiting
#: thread returns to Python (where Ctrl-C raises KeyboardInterrupt) at least this often, even
#: where the kernel restarts an interrupted wait by itself (SA_RESTART handlers).
WAIT_SLICE_SECONDS = 0.1


def _destroy(backend, handle: int) -> None:
    if not backend.closed:
        try:
            backend.ioctl(uapi.DRM_IOCTL_SYNCOBJ_DESTROY, uapi.drm_syncobj_destroy(handle=handle))
        except OSError:
            pass


def deadline_ns(timeout: float | None) -> int:
    """Absolute CLOCK_MONOTONIC deadline for a relative timeout in seconds (None = forever)."""
    if timeout is None:
        return INT64_MAX
    if timeout < 0:
        raise InvalidArgument(f"timeout must be >= 0 seconds or None, got {timeout}", value=timeout)
    return min(INT64_MAX, time.monotonic_ns() + int(timeout * 1e9))


class Syncobj:
    """One syncobj handle. `signaled=True` creates it with a signalled fence (valid as in_sync)."""

    def __init__(self, device: Device, *, signaled: bool = False) -> None:
        self.device = device
        create = uapi.drm_syncobj_create(flags=uapi.DRM_SYNCOBJ_CREATE_SIGNALED if signaled else 0)
        device.ioctl(uapi.DRM_IOCTL_SYNCOBJ_CREATE, create)
        self.handle: int = create.handle
        self._finalizer = weakref.finalize(self, _destroy, device.backend, self.handle)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive or self.device.closed

    def wait(self, timeout: float | None = None, *, description: str = "", hint: str = "") -> None:
        """Block until the fence signals; GPUTimeout after `timeout` seconds.

        WAIT_FOR_SUBMIT makes a syncobj that holds no fence yet wait for one instead of failing.
        The wait is a series of SYNCOBJ_WAITs of at most `WAIT_SLICE_SECONDS`, so Ctrl-C raises
        KeyboardInterrupt promptly on either backend.

        Args:
            timeout: seconds, or None to wait as long as it takes.
            description: names the job in the timeout message.
            hint: appended to the timeout message (what the caller can do next).

        Raises:
            GPUTimeout: the fence did not signal within `timeout`.
        """
        self._check_open()
        deadline = deadline_ns(timeout)
        handles = (ctypes.c_uint32 * 1)(self.handle)
        while True:
            slice_end = min(deadline, time.monotonic_ns() + int(WAIT_SLICE_SECONDS * 1e9))
            wait = uapi.drm_syncobj_wait(
                handles=ctypes.addressof(handles),
                timeout_nsec=slice_end,
                count_handles=1,
                flags=uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT,
            )
            try:
                self.device.backend.ioctl(uapi.DRM_IOCTL_SYNCOBJ_WAIT, wait)
                return
            except OSError as exc:
                if exc.errno not in (errno.ETIME, errno.ETIMEDOUT):
                    raise self.device.error(exc, uapi.DRM_IOCTL_SYNCOBJ_WAIT, self.handle) from None
                if slice_end < deadline:
                    continue
                raise GPUTimeout(
                    f"{description or 'syncobj ' + str(self.handle)} did not complete within {timeout} s"
                    + (f"; {hint}" if hint else ""),
                    ioctl="DRM_IOCTL_SYNCOBJ_WAIT",
                    errno=exc.errno,
                    value=timeout,
                ) from None

    def reset(self) -> None:
        """Drop the fence (back to "no fence")."""
        self._array_ioctl(uapi.DRM_IOCTL_SYNCOBJ_RESET)

    def signal(self) -> None:
        """Install an already-signalled fence."""
        self._array_ioctl(uapi.DRM_IOCTL_SYNCOBJ_SIGNAL)

    def _array_ioctl(self, request: int) -> None:
        self._check_open()
        handles = (ctypes.c_uint32 * 1)(self.handle)
        self.device.ioctl(request, uapi.drm_syncobj_array(handles=ctypes.addressof(handles), count_handles=1), value=self.handle)

    def close(self) -> None:
        self._finalizer()

    def _check_open(self) -> None:
        if self.closed:
            raise InvalidArgument(f"syncobj {self.handle} is closed", value=self.handle)

    def __repr__(self) -> str:
        return f"<Syncobj handle={self.handle}{' closed' if self.closed else ''}>"
