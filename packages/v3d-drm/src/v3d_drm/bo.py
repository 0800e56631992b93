"""Buffer objects (GPU memory) and numpy arrays that live in them.

A BufferObject is CREATE_BO + MMAP_BO + mmap of the device fd at the offset MMAP_BO returned,
exactly as the kernel documents. It is released by close(), by its context manager, by closing
its device, or by a finalizer when the last reference goes away, so nothing leaks when a user
forgets. Releasing unmaps the memory and closes the handle; if numpy arrays still use the memory,
the mapping survives until they are gone (as a kernel mapping outlives its GEM handle).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from . import uapi
from .errors import InvalidArgument

if TYPE_CHECKING:
    from .device import Device

MAX_BO_SIZE = 0xFFFF_FFFF  # drm_v3d_create_bo.size is a __u32


def _release(backend, handle: int, mapping, views: list) -> None:
    """Finalizer body: must not reference the BufferObject itself."""
    for view in views:
        try:
            view.release()
        except BufferError:
            pass  # an array made from this memoryview still exists; it keeps the mapping
    views.clear()
    if backend.closed:
        return  # closing the fd already released the handle; the mapping dies with its users
    backend.munmap(mapping)
    try:
        backend.ioctl(uapi.DRM_IOCTL_GEM_CLOSE, uapi.drm_gem_close(handle=handle))
    except OSError:
        pass  # nothing useful to do in a finalizer; the handle goes when the fd closes


class BufferObject:
    """A block of GPU memory (a DRM buffer object), mapped into this process.

    Create one with `Device.alloc(nbytes)`; most code uses `Device.array` instead, which wraps a
    buffer in a numpy array. Closing the device closes its buffers.

    Attributes:
        handle: The DRM handle.
        address: The buffer's GPU address, as the QPUs see it.
        size: Size in bytes, rounded up to the page size.
        device: The device it belongs to.
    """

    def __init__(self, device: Device, nbytes: int) -> None:
        """Allocate and map a buffer (use `Device.alloc`).

        Args:
            device: The device to allocate on.
            nbytes: Size in bytes, 1 to 2**32 - 1; rounded up to the page size.

        Raises:
            InvalidArgument: `nbytes` is not an int in range.
            V3DError: The kernel refused the allocation.
        """
        if isinstance(nbytes, bool) or not isinstance(nbytes, (int, np.integer)):
            raise InvalidArgument(f"BO size must be an int number of bytes, got {nbytes!r}", value=nbytes)
        nbytes = int(nbytes)
        if not 1 <= nbytes <= MAX_BO_SIZE:
            raise InvalidArgument(
                f"BO size must be 1..{MAX_BO_SIZE} bytes (a __u32), got {nbytes}", value=nbytes
            )
        self.device = device
        create = uapi.drm_v3d_create_bo(size=nbytes)
        device.ioctl(uapi.DRM_IOCTL_V3D_CREATE_BO, create, value=nbytes, what=f"allocating {nbytes} bytes")
        self.handle: int = create.handle
        self.address: int = create.offset
        self.size: int = -(-nbytes // device.page_size) * device.page_size
        self.nbytes_requested = nbytes
        backend = device.backend
        try:
            mmap_bo = uapi.drm_v3d_mmap_bo(handle=self.handle)
            device.ioctl(uapi.DRM_IOCTL_V3D_MMAP_BO, mmap_bo, value=self.handle)
            self._mapping = backend.mmap(self.size, mmap_bo.offset)
        except BaseException:
            backend.ioctl(uapi.DRM_IOCTL_GEM_CLOSE, uapi.drm_gem_close(handle=self.handle))
            raise
        # The CPU address of byte 0, to turn an array's data pointer into a GPU address.
        probe = np.frombuffer(self._mapping, dtype=np.uint8, count=1)
        self._cpu_base: int = probe.ctypes.data
        del probe
        self._views: list[memoryview] = []
        self._finalizer = weakref.finalize(self, _release, backend, self.handle, self._mapping, self._views)
        device._track(self)

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    @property
    def buffer(self) -> memoryview:
        """A writable memoryview of the whole BO (CPU side; uncached on a Pi, so copy in bulk)."""
        self._check_open()
        if not self._views:
            self._views.append(memoryview(self._mapping))
        return self._views[0]

    def close(self) -> None:
        """Unmap and close the handle. Idempotent."""
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def contains(self, address: int, nbytes: int = 1) -> bool:
        """Whether a range of GPU addresses lies inside this buffer.

        Args:
            address: First GPU address of the range.
            nbytes: Length of the range in bytes.

        Returns:
            True if `[address, address + nbytes)` is inside the buffer.
        """
        return self.address <= address and address + nbytes <= self.address + self.size

    def _check_open(self) -> None:
        if self.closed:
            raise InvalidArgument(f"{self!r} is closed", value=self.handle)

    def _gpu_address_of(self, cpu_pointer: int) -> int:
        return self.address + (cpu_pointer - self._cpu_base)

    def _array(self, shape: Any, dtype: Any, offset: int = 0) -> DeviceArray:
        return DeviceArray._over(self, shape, dtype, offset)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"address={self.address:#010x}"
        return f"<BufferObject handle={self.handle} size={self.size} {state}>"


class DeviceArray(np.ndarray):
    """A numpy array whose memory is a BO: `.address` (GPU address of element 0), `.addresses()`.

    Views and slices stay DeviceArrays over the same BO (address = address of their first element);
    results of computations live in ordinary memory and come back as plain ndarrays.
    """

    bo: BufferObject | None

    @classmethod
    def _over(cls, bo: BufferObject, shape: Any, dtype: Any, offset: int = 0) -> DeviceArray:
        dtype = np.dtype(dtype)
        shape = tuple(np.atleast_1d(shape).tolist()) if not isinstance(shape, tuple) else shape
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        # frombuffer holds a buffer export on the mapping for as long as any view exists, so the
        # memory cannot be unmapped under an array (np.ndarray(buffer=...) does not hold one).
        raw = np.frombuffer(bo._mapping, dtype=np.uint8, count=nbytes, offset=offset)
        array = raw.view(dtype).reshape(shape).view(cls)
        array.bo = bo
        return array

    def __array_finalize__(self, obj: Any) -> None:
        # Cheap on purpose (it runs for every view); whether the data really is inside the BO
        # (a view) or not (a copy) is checked where it matters, in _require_bo.
        self.bo = getattr(obj, "bo", None)

    def __array_wrap__(self, array, context=None, return_scalar=False):  # type: ignore[override]
        result = super().__array_wrap__(array, context, return_scalar)
        if isinstance(result, DeviceArray) and not result._in_bo():
            return result.view(np.ndarray)  # a computed result lives in ordinary memory
        return result

    def _in_bo(self) -> bool:
        bo, pointer = self.bo, self.ctypes.data
        return bo is not None and bo._cpu_base <= pointer and pointer + self.nbytes <= bo._cpu_base + bo.size

    def _require_bo(self) -> BufferObject:
        if not self._in_bo():
            raise InvalidArgument(
                "this array is not in GPU memory (it is a copy or a computed result); "
                "copy it into an array from Device.array() first"
            )
        self.bo._check_open()
        return self.bo

    @property
    def address(self) -> int:
        """GPU address of the first element."""
        return self._require_bo()._gpu_address_of(self.ctypes.data)

    def addresses(self) -> np.ndarray:
        """The GPU address of every element, for passing per-lane addresses.

        Returns:
            A uint32 array of the same shape as this one.
        """
        offsets = np.zeros(self.shape, dtype=np.int64)
        for axis, (length, stride) in enumerate(zip(self.shape, self.strides)):
            shape = [1] * self.ndim
            shape[axis] = length
            offsets += (np.arange(length, dtype=np.int64) * stride).reshape(shape)
        return (offsets + self.address).astype(np.uint32)

    def close(self) -> None:
        """Release the BO under this array (and under every view of it)."""
        if self.bo is not None:
            self.bo.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __reduce__(self):  # pickling copies the data out of GPU memory
        return np.asarray(self).copy().__reduce__()
