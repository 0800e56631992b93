"""The emulated backend: the V3D ioctls answered in software, with the kernel's structs and errnos.

The Device above does not know which backend it talks to: it issues the same request numbers
with the same ctypes structs. BO memory lives in one memfd, and a BO is mapped exactly as on the
kernel: MMAP_BO returns an offset, and the memfd is mmapped (MAP_SHARED) at that offset. The
offset is MMAP_OFFSET_BASE + the BO's GPU address, so offsets are unique, page aligned and
>= 4 GiB like the kernel's fake offsets. Freed ranges are hole-punched, so a reused range reads
as zeros (kernel BOs start zeroed).

A SUBMIT_CSD returns at once, like the kernel's: the job (contract E: cfg, coef, a view of every
live BO, the perfmon's counter indices, its own executor options and description) is queued for
the device's worker thread, which runs jobs one at a time in submission order (the kernel's one
CSD job in flight per queue, so in-syncs on earlier jobs of this device are met by the order).
The job's fence (in its out-syncs and on every listed BO, for WAIT_BO) signals when the executor
returns, whether it raised or not; the exception is kept for Job.wait() to re-raise. Listed BOs
stay allocated while their job may run (reference 3.5). A job can be cancelled
(`cancel_job`, and every job when the device closes): the executor is asked to stop through
`CsdJob.control`.

Thread safety: every ioctl takes one lock, and blocking waits release it while they wait, so any
number of threads may share the device; nothing about a submit is kept between calls.

Behaviour follows the reference's section 9.2 (handles per fd from 1 with the lowest free reused,
size-tolerant structs, errno per ioctl as in section 2.5).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import errno
import heapq
import mmap
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from .. import uapi
from ..counters import V3D42_COUNTERS
from ..errors import JobCancelled
from ..executor import CsdJob, CsdResult, Executor, GpuMemory, JobControl
from .base import JobReport, close_mapping

PAGE_SIZE = mmap.PAGESIZE
GPU_VA_SIZE = 1 << 32
#: Alignment of GPU addresses. Kernels up to ~6.8 aligned BOs to 128 KiB (first BO at 0x20000);
#: later ones to 4 KiB. The older, coarser rule is emulated because it catches clients that
#: assume addresses (reference 9.2). Change it here.
GPU_VA_ALIGNMENT = 128 * 1024
MMAP_OFFSET_BASE = 1 << 32
#: Total BO memory the emulated device may hand out (the kernel pins shmem pages; ENOMEM beyond RAM).
MEMORY_LIMIT = 2 << 30
#: How long closing the device waits for the job in flight to stop after cancelling it (seconds).
#: The vc6-isa emulator stops within one slice (tens of ms); an executor that never looks at
#: ``CsdJob.control`` is abandoned after this (its thread finishes the job in the background).
CLOSE_JOIN_SECONDS = 2.0

#: GET_PARAM answers of a Raspberry Pi 4 (BCM2711, V3D 4.2.14) on a 6.12 kernel (reference 6.3).
PI4_PARAMS: dict[int, int] = {
    uapi.DRM_V3D_PARAM_V3D_UIFCFG: 0x00000045,
    uapi.DRM_V3D_PARAM_V3D_HUB_IDENT1: 0x000E1124,
    uapi.DRM_V3D_PARAM_V3D_HUB_IDENT2: 0x00000100,
    uapi.DRM_V3D_PARAM_V3D_HUB_IDENT3: 0x00000E00,
    uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT0: 0x04443356,
    uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT1: 0x81001422,
    uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT2: 0x40078121,
    uapi.DRM_V3D_PARAM_SUPPORTS_TFU: 1,
    uapi.DRM_V3D_PARAM_SUPPORTS_CSD: 1,
    uapi.DRM_V3D_PARAM_SUPPORTS_CACHE_FLUSH: 1,
    uapi.DRM_V3D_PARAM_SUPPORTS_PERFMON: 1,
    uapi.DRM_V3D_PARAM_SUPPORTS_MULTISYNC_EXT: 1,
    uapi.DRM_V3D_PARAM_SUPPORTS_CPU_QUEUE: 1,
    uapi.DRM_V3D_PARAM_MAX_PERF_COUNTERS: len(V3D42_COUNTERS),
}
_REGISTER_PARAMS = range(uapi.DRM_V3D_PARAM_V3D_UIFCFG, uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT2 + 1)

DRIVER_NAME, DRIVER_DATE, DRIVER_DESC = b"v3d", b"20180419", b"Broadcom V3D graphics"


def _fail(code: int) -> None:
    raise OSError(code, os.strerror(code))


def _cancelled(job: CsdJob) -> JobCancelled:
    return JobCancelled(f"{job.description} was stopped before it completed: {job.control.reason}")


def _punch_hole(fd: int, offset: int, length: int) -> bool:
    """Free (and zero) a range of the memfd; False where fallocate is unavailable."""
    libc = _libc()
    if libc is None:
        return False
    falloc_fl_keep_size, falloc_fl_punch_hole = 0x01, 0x02
    return libc.fallocate(fd, falloc_fl_keep_size | falloc_fl_punch_hole, ctypes.c_int64(offset), ctypes.c_int64(length)) == 0


_LIBC: list = []


def _libc():
    if not _LIBC:
        try:
            lib = ctypes.CDLL(None, use_errno=True)
            lib.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
            _LIBC.append(lib)
        except (OSError, AttributeError):
            _LIBC.append(None)
    return _LIBC[0]


class _IdAllocator:
    """Per-fd ids: start at 1, the lowest free value is reused (like the kernel's idr)."""

    def __init__(self) -> None:
        self._next = 1
        self._free: list[int] = []

    def take(self) -> int:
        if self._free:
            return heapq.heappop(self._free)
        self._next += 1
        return self._next - 1

    def give_back(self, value: int) -> None:
        heapq.heappush(self._free, value)


class _AddressSpace:
    """First-fit allocator of the 4 GiB GPU address space; page 0 is never handed out."""

    def __init__(self) -> None:
        self._used: list[tuple[int, int]] = []  # sorted (start, end)

    def allocate(self, size: int) -> int | None:
        cursor = GPU_VA_ALIGNMENT
        for index, (start, end) in enumerate(self._used):
            if start - cursor >= size:
                self._used.insert(index, (cursor, cursor + size))
                return cursor
            cursor = -(-end // GPU_VA_ALIGNMENT) * GPU_VA_ALIGNMENT
        if GPU_VA_SIZE - cursor >= size:
            self._used.append((cursor, cursor + size))
            return cursor
        return None

    def free(self, address: int) -> None:
        self._used = [r for r in self._used if r[0] != address]


@dataclass
class _Bo:
    address: int
    size: int
    data: np.ndarray | None  # the backend's own view, handed to executors
    mapping: mmap.mmap | None
    handle_open: bool = True
    user_mappings: int = 0
    jobs: int = 0  # queued or running jobs that listed the BO (they keep it allocated)
    fence: _Fence | None = None  # the fence of the last job that listed it (for WAIT_BO)


@dataclass
class _Fence:
    report: JobReport | None = None  # None for a stub fence (SIGNALED syncobj)
    signalled: bool = True  # False while its job is queued or running
    control: JobControl | None = None  # the job's control (None for a stub fence)


class _Inside:
    """The context manager of `EmulatedBackend._inside` (a class: cheaper than a generator)."""

    __slots__ = ("backend", "depth")

    def __init__(self, backend: EmulatedBackend) -> None:
        self.backend = backend

    def __enter__(self) -> None:
        backend = self.backend
        backend._lock.acquire()
        self.depth = getattr(backend._depth, "n", 0)
        backend._depth.n = self.depth + 1

    def __exit__(self, *exc: object) -> None:
        backend = self.backend
        try:
            backend._depth.n = self.depth
            while self.depth == 0 and backend._deferred:
                backend._deferred.popleft()()
        finally:
            backend._lock.release()


@dataclass
class _Work:
    """One submitted job waiting for (or on) the worker thread."""

    job: CsdJob
    fence: _Fence
    listed: list  # the _Bo of every listed handle, kept allocated until the job ends
    perfmon: _Perfmon | None


@dataclass
class _Syncobj:
    fence: _Fence | None = None


@dataclass
class _Perfmon:
    counters: tuple[int, ...]
    values: list[int] = field(default_factory=list)


class EmulatedBackend:
    """A software V3D 4.2 answering DRM ioctls; runs CSD jobs on an executor."""

    kind = "emulated"
    node = "emulator"

    def __init__(self, executor: Executor) -> None:
        self.executor = executor
        self.executor_name = getattr(executor, "name", type(executor).__name__)
        self.closed = False
        self._fd = os.memfd_create("v3d-emulated-bo-memory", os.MFD_CLOEXEC)
        os.ftruncate(self._fd, MMAP_OFFSET_BASE + GPU_VA_SIZE)  # sparse: costs nothing until used
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # a fence signalled, a job queued, closed
        self._queue: collections.deque[_Work] = collections.deque()
        self._running: _Work | None = None
        self._worker: threading.Thread | None = None
        self._depth = threading.local()  # how deep this thread is inside the lock
        self._deferred: collections.deque[Callable[[], None]] = collections.deque()
        self._warm_lock = threading.Lock()
        self._warm = False
        self._va = _AddressSpace()
        self._bytes_in_use = 0
        self._bos: dict[int, _Bo] = {}  # by GPU address (one object per BO, handle or not)
        self._handles: dict[int, _Bo] = {}
        self._handle_ids = _IdAllocator()
        self._syncobjs: dict[int, _Syncobj] = {}
        self._syncobj_ids = _IdAllocator()
        self._perfmons: dict[int, _Perfmon] = {}
        self._perfmon_ids = _IdAllocator()
        self._mapping_finalizers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._handlers: dict[int, tuple[int, type, Callable]] = {}
        for request, handler in self._handler_table().items():
            decoded = uapi.decode_request(request)
            struct = next(s for r, s in uapi.IOCTLS.values() if r == request)
            self._handlers[(decoded.type << 8) | decoded.nr] = (request, struct, handler)

    def _handler_table(self) -> dict[int, Callable]:
        u = uapi
        return {
            u.DRM_IOCTL_VERSION: self._version,
            u.DRM_IOCTL_GEM_CLOSE: self._gem_close,
            u.DRM_IOCTL_GET_CAP: self._get_cap,
            u.DRM_IOCTL_SYNCOBJ_CREATE: self._syncobj_create,
            u.DRM_IOCTL_SYNCOBJ_DESTROY: self._syncobj_destroy,
            u.DRM_IOCTL_SYNCOBJ_WAIT: self._syncobj_wait,
            u.DRM_IOCTL_SYNCOBJ_RESET: self._syncobj_reset,
            u.DRM_IOCTL_SYNCOBJ_SIGNAL: self._syncobj_signal,
            u.DRM_IOCTL_V3D_SUBMIT_CL: self._not_emulated,
            u.DRM_IOCTL_V3D_WAIT_BO: self._wait_bo,
            u.DRM_IOCTL_V3D_CREATE_BO: self._create_bo,
            u.DRM_IOCTL_V3D_MMAP_BO: self._mmap_bo,
            u.DRM_IOCTL_V3D_GET_PARAM: self._get_param,
            u.DRM_IOCTL_V3D_GET_BO_OFFSET: self._get_bo_offset,
            u.DRM_IOCTL_V3D_SUBMIT_TFU: self._not_emulated,
            u.DRM_IOCTL_V3D_SUBMIT_CSD: self._submit_csd,  # no description or options
            u.DRM_IOCTL_V3D_PERFMON_CREATE: self._perfmon_create,
            u.DRM_IOCTL_V3D_PERFMON_DESTROY: self._perfmon_destroy,
            u.DRM_IOCTL_V3D_PERFMON_GET_VALUES: self._perfmon_get_values,
            u.DRM_IOCTL_V3D_SUBMIT_CPU: self._not_emulated,
            u.DRM_IOCTL_V3D_PERFMON_GET_COUNTER: self._perfmon_get_counter,
        }

    # --- the Backend interface ---------------------------------------------------------------------

    def _inside(self) -> _Inside:
        """Hold the lock. Garbage collection can run a finalizer (a forgotten BO's GEM_CLOSE or
        unmap) in this very thread while it is in here, walking a dict: such calls are deferred
        to the end of the outermost section instead of changing state under that walk."""
        return _Inside(self)

    def _defer_if_inside(self, call: Callable[[], None]) -> bool:
        if getattr(self._depth, "n", 0) == 0:
            return False
        self._deferred.append(call)
        return True

    def fileno(self) -> int:
        return self._fd

    def ioctl(self, request: int, arg: ctypes.Structure) -> None:
        """Dispatch on the request's type and nr, tolerating other struct sizes like drm_ioctl()."""
        if self.closed:
            _fail(errno.EBADF)
        user = uapi.decode_request(request)
        entry = self._handlers.get((user.type << 8) | user.nr)
        if entry is None:
            _fail(errno.EINVAL if user.type == uapi.DRM_IOCTL_BASE else errno.ENOTTY)
        kernel_request, struct, handler = entry
        if self._defer_if_inside(lambda: self._quietly(request, arg)):
            return  # a finalizer's release (see _inside): done when the outer call ends
        with self._inside():
            if request == kernel_request and type(arg) is struct:
                handler(arg)
                return
            self._marshalled(user, uapi.decode_request(kernel_request), struct, handler, arg)

    def _quietly(self, request: int, arg: ctypes.Structure) -> None:
        with contextlib.suppress(OSError):  # finalizers ignore failures to release
            self.ioctl(request, arg)

    @staticmethod
    def _marshalled(user, kernel, struct, handler, arg) -> None:
        # drm_ioctl(): copy in only if both sides write, zero-fill a short struct, ignore a long
        # one's tail, copy out only if both sides read, even when the handler failed.
        if ctypes.sizeof(arg) < user.size:
            _fail(errno.EFAULT)
        karg = struct()
        n = min(user.size, ctypes.sizeof(struct))
        if user.direction & kernel.direction & uapi._IOC_WRITE:
            ctypes.memmove(ctypes.addressof(karg), ctypes.addressof(arg), n)
        try:
            handler(karg)
        finally:
            if user.direction & kernel.direction & uapi._IOC_READ:
                ctypes.memmove(ctypes.addressof(arg), ctypes.addressof(karg), n)

    def mmap(self, length: int, offset: int) -> mmap.mmap:
        with self._inside():
            bo = self._bos.get(offset - MMAP_OFFSET_BASE)
            if bo is None or length <= 0 or length > bo.size or self.closed:
                _fail(errno.EINVAL)
            mapping = mmap.mmap(
                self._fd, length, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=offset
            )
            bo.user_mappings += 1
            self._mapping_finalizers[mapping] = weakref.finalize(mapping, self._unmapped, bo)
            return mapping

    def munmap(self, mapping: mmap.mmap) -> None:
        if close_mapping(mapping):
            finalizer = self._mapping_finalizers.pop(mapping, None)
            if finalizer is not None:
                finalizer()

    def submit_csd(self, arg: uapi.drm_v3d_submit_csd, *, description: str, options: Mapping[str, object]) -> None:
        """SUBMIT_CSD carrying this job's own description and executor options."""
        if self.closed:
            _fail(errno.EBADF)
        self._warm_up()
        with self._inside():
            self._submit_csd(arg, description, options)

    def _warm_up(self) -> None:
        """Once per device, before its first job: the executor's optional ``warm_up()`` (the
        vc6-isa emulator loads or compiles its machine), here in the submitting thread, so that
        a one-time compile is not mistaken for a slow job by a wait's timeout."""
        with self._warm_lock:
            if not self._warm:
                self._warm = True
                warm_up = getattr(self.executor, "warm_up", None)
                if callable(warm_up):
                    warm_up()

    def job_report(self, syncobj: int) -> JobReport | None:
        fence = self._fence_of(syncobj)
        return fence.report if fence is not None and fence.signalled else None

    def job_progress(self, syncobj: int) -> float | None:
        """Cheap (no lock: one dict lookup and attribute reads); 1.0 once the fence signalled."""
        fence = self._fence_of(syncobj)
        if fence is None:
            return None
        if fence.signalled:
            return 1.0
        return fence.control.progress if fence.control is not None else None

    def cancel_job(self, syncobj: int, reason: str) -> bool:
        fence = self._fence_of(syncobj)
        if fence is None or fence.signalled or fence.control is None:
            return False
        fence.control.cancel(reason)
        return True

    def _fence_of(self, syncobj: int) -> _Fence | None:
        obj = self._syncobjs.get(syncobj)
        return obj.fence if obj is not None else None

    def close(self) -> None:
        """Cancel every queued and running job, wait (bounded) for the worker, release everything."""
        with self._inside():
            if self.closed:
                return
            self.closed = True
            for work in [*self._queue, *([self._running] if self._running else [])]:
                work.job.control.cancel("its device was closed")
            self._changed.notify_all()
        worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(CLOSE_JOIN_SECONDS)
        with self._inside():
            self._handles.clear()
            self._syncobjs.clear()
            self._perfmons.clear()
            for bo in list(self._bos.values()):
                bo.handle_open = False
                self._maybe_free(bo)
            os.close(self._fd)

    # --- BO lifetime -------------------------------------------------------------------------------

    def _unmapped(self, bo: _Bo) -> None:
        if self._defer_if_inside(lambda: self._unmapped(bo)):
            return
        with self._inside():
            bo.user_mappings -= 1
            self._maybe_free(bo)

    def _maybe_free(self, bo: _Bo) -> None:
        """Free a BO once it has no handle, no user mapping and no job (reference 3.6)."""
        if bo.handle_open or bo.user_mappings > 0 or bo.jobs > 0 or self._bos.get(bo.address) is not bo:
            return
        del self._bos[bo.address]
        bo.data = None
        if bo.mapping is not None:
            close_mapping(bo.mapping)  # an executor still holding a view keeps it until freed
            bo.mapping = None
        if not self.closed and not _punch_hole(self._fd, MMAP_OFFSET_BASE + bo.address, bo.size):
            os.pwrite(self._fd, bytes(bo.size), MMAP_OFFSET_BASE + bo.address)
        self._va.free(bo.address)
        self._bytes_in_use -= bo.size

    def _lookup_bo(self, handle: int, missing: int) -> _Bo:
        bo = self._handles.get(handle)
        if bo is None:
            _fail(missing)
        return bo

    # --- generic DRM ioctls ------------------------------------------------------------------------

    def _version(self, arg: uapi.drm_version) -> None:
        arg.version_major, arg.version_minor, arg.version_patchlevel = 1, 0, 0
        for text, length_field, pointer_field in (
            (DRIVER_NAME, "name_len", "name"),
            (DRIVER_DATE, "date_len", "date"),
            (DRIVER_DESC, "desc_len", "desc"),
        ):
            pointer = getattr(arg, pointer_field)
            room = getattr(arg, length_field)
            if pointer and room:
                ctypes.memmove(pointer, text, min(room, len(text)))  # no NUL, like the kernel
            setattr(arg, length_field, len(text))

    def _gem_close(self, arg: uapi.drm_gem_close) -> None:
        if arg.pad:
            _fail(errno.EINVAL)
        bo = self._lookup_bo(arg.handle, errno.EINVAL)
        del self._handles[arg.handle]
        self._handle_ids.give_back(arg.handle)
        bo.handle_open = False
        self._maybe_free(bo)

    def _get_cap(self, arg: uapi.drm_get_cap) -> None:
        caps = {uapi.DRM_CAP_PRIME: 0, uapi.DRM_CAP_SYNCOBJ: 1, uapi.DRM_CAP_SYNCOBJ_TIMELINE: 0}
        if arg.capability not in caps:
            _fail(errno.EINVAL)
        arg.value = caps[arg.capability]

    def _syncobj_create(self, arg: uapi.drm_syncobj_create) -> None:
        if arg.flags & ~uapi.DRM_SYNCOBJ_CREATE_SIGNALED:
            _fail(errno.EINVAL)
        signalled = bool(arg.flags & uapi.DRM_SYNCOBJ_CREATE_SIGNALED)
        handle = self._syncobj_ids.take()
        self._syncobjs[handle] = _Syncobj(_Fence() if signalled else None)
        arg.handle = handle

    def _syncobj_destroy(self, arg: uapi.drm_syncobj_destroy) -> None:
        if arg.pad or arg.handle not in self._syncobjs:
            _fail(errno.EINVAL)
        del self._syncobjs[arg.handle]
        self._syncobj_ids.give_back(arg.handle)

    def _syncobj_array(self, pointer: int, count: int) -> list[_Syncobj]:
        if count == 0:
            _fail(errno.EINVAL)
        if not pointer:
            _fail(errno.EFAULT)
        handles = (ctypes.c_uint32 * count).from_address(pointer)
        objs = [self._syncobjs.get(h) for h in handles]
        if any(o is None for o in objs):
            _fail(errno.ENOENT)
        return objs

    def _syncobj_wait(self, arg: uapi.drm_syncobj_wait) -> None:
        known = (
            uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL
            | uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT
            | uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_DEADLINE
        )
        if arg.flags & ~known:
            _fail(errno.EINVAL)
        objs = self._syncobj_array(arg.handles, arg.count_handles)
        for_submit = arg.flags & uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT
        if not for_submit and any(o.fence is None for o in objs):
            _fail(errno.EINVAL)
        # Blocks until the fences signal (or, with WAIT_FOR_SUBMIT, are installed and signal),
        # releasing the lock meanwhile, so other threads' ioctls and the worker go on.
        wait_all = arg.flags & uapi.DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL
        while True:
            ready = [i for i, o in enumerate(objs) if o.fence is not None and o.fence.signalled]
            if ready and (not wait_all or len(ready) == len(objs)):
                arg.first_signaled = ready[0]
                return
            self._wait_until(arg.timeout_nsec)

    def _syncobj_reset(self, arg: uapi.drm_syncobj_array) -> None:
        if arg.pad:
            _fail(errno.EINVAL)
        for obj in self._syncobj_array(arg.handles, arg.count_handles):
            obj.fence = None

    def _syncobj_signal(self, arg: uapi.drm_syncobj_array) -> None:
        if arg.pad:
            _fail(errno.EINVAL)
        for obj in self._syncobj_array(arg.handles, arg.count_handles):
            obj.fence = _Fence()
        self._changed.notify_all()

    def _wait_until(self, deadline_ns: int) -> None:
        """Wait (lock released) until something changes or the CLOCK_MONOTONIC deadline; ETIME
        once it has passed. Interruptible: Ctrl-C in the waiting thread raises KeyboardInterrupt."""
        if self.closed:
            _fail(errno.EBADF)  # closed by another thread while this one waited
        remaining = (deadline_ns - time.monotonic_ns()) / 1e9
        if remaining <= 0:
            _fail(errno.ETIME)
        self._changed.wait(min(remaining, threading.TIMEOUT_MAX))

    # --- V3D ioctls --------------------------------------------------------------------------------

    def _not_emulated(self, arg: ctypes.Structure) -> None:
        """Binner/render, TFU and CPU jobs are graphics paths this compute emulator does not run."""
        _fail(errno.EOPNOTSUPP)

    def _create_bo(self, arg: uapi.drm_v3d_create_bo) -> None:
        if arg.flags or arg.size == 0:
            _fail(errno.EINVAL)
        size = -(-arg.size // PAGE_SIZE) * PAGE_SIZE
        if self._bytes_in_use + size > MEMORY_LIMIT:
            _fail(errno.ENOMEM)
        address = self._va.allocate(size)
        if address is None:
            _fail(errno.ENOSPC)
        try:
            mapping = mmap.mmap(
                self._fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE,
                offset=MMAP_OFFSET_BASE + address,
            )
        except OSError:
            self._va.free(address)
            _fail(errno.ENOMEM)
        bo = _Bo(address, size, np.frombuffer(mapping, dtype=np.uint8), mapping)
        self._bos[address] = bo
        self._bytes_in_use += size
        handle = self._handle_ids.take()
        self._handles[handle] = bo
        arg.handle, arg.offset = handle, address

    def _mmap_bo(self, arg: uapi.drm_v3d_mmap_bo) -> None:
        if arg.flags:
            _fail(errno.EINVAL)
        arg.offset = MMAP_OFFSET_BASE + self._lookup_bo(arg.handle, errno.ENOENT).address

    def _get_bo_offset(self, arg: uapi.drm_v3d_get_bo_offset) -> None:
        arg.offset = self._lookup_bo(arg.handle, errno.ENOENT).address

    def _get_param(self, arg: uapi.drm_v3d_get_param) -> None:
        if arg.pad or arg.param not in PI4_PARAMS:
            _fail(errno.EINVAL)
        if arg.param in _REGISTER_PARAMS and arg.value:
            _fail(errno.EINVAL)
        arg.value = PI4_PARAMS[arg.param]

    def _wait_bo(self, arg: uapi.drm_v3d_wait_bo) -> None:
        if arg.pad:
            _fail(errno.EINVAL)
        bo = self._lookup_bo(arg.handle, errno.EINVAL)
        # Jobs complete in order, so the last job that listed the BO is the one to wait for.
        deadline = time.monotonic_ns() + min(arg.timeout_ns, (1 << 62))
        while bo.fence is not None and not bo.fence.signalled:
            try:
                self._wait_until(deadline)
            except OSError:
                arg.timeout_ns = 0
                raise
        arg.timeout_ns = max(0, deadline - time.monotonic_ns())

    def _submit_csd(
        self, arg: uapi.drm_v3d_submit_csd, description: str = "", options: Mapping[str, object] | None = None
    ) -> None:
        # The kernel's checks, in its order (reference 4.1 / 2.5).
        if arg.pad:
            _fail(errno.EINVAL)
        if arg.flags and not arg.flags & uapi.DRM_V3D_SUBMIT_EXTENSION:
            _fail(errno.EINVAL)
        if arg.flags & uapi.DRM_V3D_SUBMIT_EXTENSION and arg.extensions:
            in_handles, out_handles = self._multi_sync(arg.extensions)
        else:
            in_handles, out_handles = [arg.in_sync], [arg.out_sync]
        for handle in in_handles:
            obj = self._syncobjs.get(handle) if handle else None  # unknown in-syncs are ignored
            if obj is not None and obj.fence is None:
                _fail(errno.EINVAL)
        if arg.bo_handle_count == 0:
            _fail(errno.EINVAL)
        if not arg.bo_handles:
            _fail(errno.EFAULT)
        handles = (ctypes.c_uint32 * arg.bo_handle_count).from_address(arg.bo_handles)
        listed = [self._lookup_bo(h, errno.ENOENT) for h in handles]
        perfmon = None
        if arg.perfmon_id:
            perfmon = self._perfmons.get(arg.perfmon_id)
            if perfmon is None:
                _fail(errno.ENOENT)
        job = CsdJob(
            cfg=tuple(arg.cfg),
            coef=tuple(arg.coef),
            memory=GpuMemory([(bo.address, bo.data) for bo in self._bos.values() if bo.data is not None]),
            perfmon_counters=perfmon.counters if perfmon is not None else (),
            options=dict(options or {}),
            description=description or f"CSD job cfg={[hex(w) for w in arg.cfg]}",
        )
        fence = _Fence(signalled=False, control=job.control)
        listed = list({id(bo): bo for bo in listed}.values())
        for bo in listed:
            bo.jobs += 1
            bo.fence = fence
        for handle in out_handles:
            out_sync = self._syncobjs.get(handle) if handle else None  # unknown: ignored
            if out_sync is not None:
                out_sync.fence = fence
        self._queue.append(_Work(job, fence, listed, perfmon))
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="v3d-emulated-csd", daemon=True)
            self._worker.start()
        self._changed.notify_all()

    # --- the worker: the emulated GPU's CSD queue -------------------------------------------------

    def _work(self) -> None:
        """Run queued jobs in order until the device is closed and the queue is empty."""
        while True:
            with self._inside():
                while not self._queue and not self.closed:
                    self._changed.wait()
                if not self._queue:
                    return
                work = self._running = self._queue.popleft()
            report = self._run(work.job)
            with self._inside():
                self._complete(work, report)

    def _complete(self, work: _Work, report: JobReport) -> None:
        """Signal the job's fence, account its perfmon, let go of its BOs."""
        self._running = None
        if work.perfmon is not None:
            for slot, index in enumerate(work.perfmon.counters):
                work.perfmon.values[slot] += int(report.counters.get(index, 0))
        work.fence.report = report
        work.fence.signalled = True
        for bo in work.listed:
            bo.jobs -= 1
            self._maybe_free(bo)
        self._changed.notify_all()

    def _multi_sync(self, pointer: int) -> tuple[list[int], list[int]]:
        """Walk the extension chain of a submit: the in- and out-sync handles of its MULTI_SYNC.

        As in the kernel: with a multisync the plain in_sync/out_sync are ignored; in-syncs count
        only when wait_stage is V3D_CSD; every out-sync must exist; CPU-job or unknown extensions
        and a second multisync are EINVAL.
        """
        found = None
        while pointer:
            ext = uapi.drm_v3d_extension.from_address(pointer)
            if ext.id != uapi.DRM_V3D_EXT_ID_MULTI_SYNC or found is not None:
                _fail(errno.EINVAL)
            found = uapi.drm_v3d_multi_sync.from_address(pointer)
            if found.pad:
                _fail(errno.EINVAL)
            pointer = ext.next
        if found is None:
            return [], []
        if (found.in_sync_count and not found.in_syncs) or (found.out_sync_count and not found.out_syncs):
            _fail(errno.EFAULT)
        ins = (uapi.drm_v3d_sem * found.in_sync_count).from_address(found.in_syncs) if found.in_sync_count else []
        outs = (uapi.drm_v3d_sem * found.out_sync_count).from_address(found.out_syncs) if found.out_sync_count else []
        if any(sem.handle not in self._syncobjs for sem in outs):
            _fail(errno.EINVAL)
        in_handles = [sem.handle for sem in ins] if found.wait_stage == uapi.V3D_CSD else []
        return in_handles, [sem.handle for sem in outs]

    def _run(self, job: CsdJob) -> JobReport:
        """Run a job on the executor; a failure is recorded for Job.wait(), never raised here."""
        if job.control.cancelled:
            return JobReport(None, None, {}, _cancelled(job))
        try:
            result = self.executor.run_csd(job)
            if not isinstance(result, CsdResult):
                raise TypeError(
                    f"executor {self.executor_name!r} returned {type(result).__name__}, not CsdResult"
                )
        except BaseException as exc:  # noqa: BLE001 - the job "ran" and failed; Job.wait() re-raises it
            # (BaseException too: an exception that ended this thread would leave the fence unsignalled)
            return JobReport(None, None, {}, _cancelled(job) if job.control.cancelled else exc)
        return JobReport(result.stats, result.modelled_seconds, dict(result.counters), None)

    def _perfmon_create(self, arg: uapi.drm_v3d_perfmon_create) -> None:
        if not 1 <= arg.ncounters <= uapi.DRM_V3D_MAX_PERF_COUNTERS:
            _fail(errno.EINVAL)
        counters = tuple(arg.counters[: arg.ncounters])
        if any(c >= len(V3D42_COUNTERS) for c in counters):
            _fail(errno.EINVAL)
        pid = self._perfmon_ids.take()
        self._perfmons[pid] = _Perfmon(counters, [0] * len(counters))
        arg.id = pid

    def _perfmon_destroy(self, arg: uapi.drm_v3d_perfmon_destroy) -> None:
        if self._perfmons.pop(arg.id, None) is None:
            _fail(errno.EINVAL)
        self._perfmon_ids.give_back(arg.id)

    def _perfmon_get_values(self, arg: uapi.drm_v3d_perfmon_get_values) -> None:
        perfmon = self._perfmons.get(arg.id)
        if arg.pad or perfmon is None:
            _fail(errno.EINVAL)
        if not arg.values_ptr:
            _fail(errno.EFAULT)
        out = (ctypes.c_uint64 * len(perfmon.values)).from_address(arg.values_ptr)
        for i, value in enumerate(perfmon.values):
            out[i] = value & 0xFFFF_FFFF_FFFF_FFFF

    def _perfmon_get_counter(self, arg: uapi.drm_v3d_perfmon_get_counter) -> None:
        if any(arg.reserved) or arg.counter >= len(V3D42_COUNTERS):
            _fail(errno.EINVAL)
        counter = V3D42_COUNTERS[arg.counter]
        for field_name, text in (
            ("name", counter.name),
            ("category", counter.category),
            ("description", counter.description),
        ):
            target = getattr(arg, field_name)
            raw = text.encode()[: len(target) - 1] + b"\0"
            ctypes.memmove(target, raw, len(raw))
