"""The typed errors of v3d-drm.

Every error says what went wrong, which ioctl (if any) reported it, the errno, the offending
value and, where there is one, how to fix it. Catch `V3DError` to catch them all.
"""

from __future__ import annotations

import errno as _errno
import os


class V3DError(Exception):
    """Base class of every v3d-drm error.

    Attributes: `ioctl` (C macro name or None), `errno` (int or None), `value` (the
    offending value, or None).
    """

    def __init__(
        self,
        message: str,
        *,
        ioctl: str | None = None,
        errno: int | None = None,
        value: object = None,
    ) -> None:
        self.ioctl = ioctl
        self.errno = errno
        self.value = value
        detail = []
        if ioctl:
            detail.append(ioctl)
        if errno is not None:
            detail.append(f"{_errno.errorcode.get(errno, errno)}: {os.strerror(errno)}")
        if detail:
            message = f"{message} [{', '.join(detail)}]"
        super().__init__(message)


class DeviceNotFound(V3DError):
    """No usable V3D device: no render node and no emulator executor."""


class PermissionDenied(V3DError, PermissionError):
    """The device node exists but this user may not open or use it."""


class InvalidArgument(V3DError, ValueError):
    """A bad argument, caught before it reached the GPU (or refused by the kernel with EINVAL/ENOENT)."""


class GPUTimeout(V3DError, TimeoutError):
    """A job did not complete within the requested time."""


class JobCancelled(V3DError):
    """A job was stopped before it completed: `Job.cancel()`/`Job.close()`, Ctrl-C during its
    wait, or its device closing (emulated device; the kernel cannot cancel a job)."""


class MMUFault(V3DError):
    """A GPU access outside every buffer object.

    `address` is the faulting GPU address; `nearest` the (base, size) of the closest BO, or None.
    """

    def __init__(
        self,
        address: int,
        nbytes: int = 1,
        *,
        nearest: tuple[int, int] | None = None,
        context: str = "",
    ) -> None:
        self.address = address
        self.nbytes = nbytes
        self.nearest = nearest
        # What broke first, then where (`context`: one part per line, each at most 100 columns).
        message = f"GPU access of {nbytes} byte(s) at {address:#010x} is outside every buffer object"
        if nearest is not None:
            base, size = nearest
            message += f"\n  nearest buffer: [{base:#010x}, {base + size:#010x})"
        if context:
            message += f"\n{context}"
        super().__init__(message, value=address)


_FIXES = {
    _errno.EACCES: "join the group that owns the node (usually 'render', or 'video' for card nodes): "
    "sudo usermod -aG render,video $USER, then log in again",
    _errno.EPERM: "join the group that owns the node (usually 'render'): sudo usermod -aG render $USER",
}


def from_oserror(exc: OSError, ioctl: str, value: object = None, what: str = "") -> V3DError:
    """Turn an OSError from an ioctl (or open) into the matching typed error."""
    code = exc.errno
    message = what or f"{ioctl} failed"
    if value is not None:
        message += f" (value: {value!r})"
    if code in (_errno.EACCES, _errno.EPERM):
        return PermissionDenied(f"{message}; {_FIXES[code]}", ioctl=ioctl, errno=code, value=value)
    if code in (_errno.EINVAL, _errno.ENOENT, _errno.EFAULT, _errno.ENOSPC, _errno.ENOMEM, _errno.E2BIG):
        return InvalidArgument(message, ioctl=ioctl, errno=code, value=value)
    if code in (_errno.ETIME, _errno.ETIMEDOUT):
        return GPUTimeout(message, ioctl=ioctl, errno=code, value=value)
    return V3DError(message, ioctl=ioctl, errno=code, value=value)
