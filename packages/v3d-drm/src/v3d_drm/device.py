"""Opening a V3D device and using it: BOs, arrays, dispatch, perfmons.

The Device talks to its backend only through `backend.ioctl(request, struct)` and mmap, so the
same code drives the real render node and the emulated device.
"""

from __future__ import annotations

import ctypes
import errno
import importlib
import os
import threading
import time
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

import numpy as np

from . import uapi
from .backends.emulated import EmulatedBackend
from .backends.kernel import KernelBackend, find_v3d_node
from .bo import BufferObject, DeviceArray
from .counters import V3D42_COUNTERS, Counter
from .csd import (
    CsdConfig,
    Job,
    check_addresses_in_bos,
    compute_cfg,
    decode_cfg,
    submit_struct,
)
from .errors import (
    DeviceNotFound,
    GPUTimeout,
    InvalidArgument,
    PermissionDenied,
    V3DError,
    from_oserror,
)
from .executor import ENTRY_POINT_GROUP, Executor, find_executor
from .install_hint import emulator_install_command
from .perfmon import Perfmon
from .sync import WAIT_SLICE_SECONDS, Syncobj, deadline_ns

EMULATOR = "emulator"


def _install_hint() -> str:
    return (
        f"install the emulator, which registers the entry point group {ENTRY_POINT_GROUP!r}:\n"
        f"  {emulator_install_command()}\nor pass open(executor=...)"
    )


@dataclass(frozen=True)
class DeviceInfo:
    """What the GPU says about itself (the kernel's GET_PARAM answers, decoded), and where it is.

    Attributes:
        version: The V3D version, `"4.2"` on a Pi 4.
        version_full: The full version with revision, such as `"4.2.14.0"`.
        ver: The kernel driver's version number, 42 for V3D 4.2.
        cores: Number of V3D cores (1 on a Pi 4).
        slices: Number of slices (2 on a Pi 4).
        qpus_per_slice: QPUs in each slice (4 on a Pi 4).
        qpus: QPUs in all (8 on a Pi 4).
        tmus: Texture and memory units.
        backend: `"kernel"` (a real GPU) or `"emulated"`.
        node: The device node, such as `"/dev/dri/renderD128"`, or `"emulator"`.
        executor: The executor's name on the emulated device, else `None`.
        supports_perfmon: Whether performance counters can be read.
        max_perf_counters: How many counters one perfmon can hold.
        params: Every raw GET_PARAM answer, parameter number to value.
    """

    version: str  # "4.2"
    version_full: str  # "4.2.14.0"
    ver: int  # 42: the kernel's internal version number
    cores: int
    slices: int
    qpus_per_slice: int
    qpus: int
    tmus: int
    backend: str  # "kernel" or "emulated"
    node: str  # "/dev/dri/renderD128" or "emulator"
    executor: str | None  # executor name on the emulated device
    supports_perfmon: bool
    max_perf_counters: int
    params: Mapping[int, int] = field(repr=False)

    @property
    def emulated(self) -> bool:
        """Whether this is the emulated device (`backend == "emulated"`)."""
        return self.backend == "emulated"

    @property
    def cfg4_is_count_minus_1(self) -> bool:
        """CSD cfg[4] holds batches-1 before V3D 7.1.6, the batch count from then on."""
        rev = (self.params.get(uapi.DRM_V3D_PARAM_V3D_HUB_IDENT3, 0) >> 8) & 0xFF
        return self.ver < 71 or (self.ver == 71 and rev < 6)

    def __str__(self) -> str:
        where = (
            f"EMULATED device (software, executor {self.executor!r}); not a real GPU"
            if self.emulated
            else f"kernel device {self.node}"
        )
        return "\n".join(
            [
                f"V3D {self.version} (full version {self.version_full})",
                f"  backend:        {where}",
                f"  cores:          {self.cores}",
                f"  slices:         {self.slices}",
                f"  QPUs per slice: {self.qpus_per_slice}",
                f"  QPUs:           {self.qpus}",
                f"  TMUs:           {self.tmus}",
                f"  perf counters:  {self.max_perf_counters}"
                + ("" if self.supports_perfmon else " (perfmon not supported)"),
            ]
        )


def decode_info(params: Mapping[int, int], backend: str, node: str, executor: str | None) -> DeviceInfo:
    p = params.get
    ident0, ident1 = p(uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT0, 0), p(uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT1, 0)
    hub1, hub3 = p(uapi.DRM_V3D_PARAM_V3D_HUB_IDENT1, 0), p(uapi.DRM_V3D_PARAM_V3D_HUB_IDENT3, 0)
    major, minor = ident0 >> 24, ident1 & 0xF
    slices, qpus_per_slice, tmus_per_slice = (ident1 >> 4) & 0xF, (ident1 >> 8) & 0xF, (ident1 >> 12) & 0xF
    supports_perfmon = bool(p(uapi.DRM_V3D_PARAM_SUPPORTS_PERFMON, 0))
    max_counters = p(uapi.DRM_V3D_PARAM_MAX_PERF_COUNTERS) or (
        len(V3D42_COUNTERS) if supports_perfmon and major * 10 + minor == 42 else 0
    )
    return DeviceInfo(
        version=f"{major}.{minor}",
        version_full=f"{major}.{minor}.{(hub3 >> 8) & 0xFF}.{hub3 & 0xFF}",
        ver=major * 10 + minor,
        cores=(hub1 >> 8) & 0xF,
        slices=slices,
        qpus_per_slice=qpus_per_slice,
        qpus=slices * qpus_per_slice,
        tmus=slices * tmus_per_slice,
        backend=backend,
        node=node,
        executor=executor,
        supports_perfmon=supports_perfmon,
        max_perf_counters=max_counters,
        params=dict(params),
    )


# --- opening -----------------------------------------------------------------------------------


def _load_executor(spec: str | None, tried: list[str]) -> Executor:
    """An executor from an entry point name, a "module:callable" spec, or the installed default."""
    if spec is not None and ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attr)()
        except Exception as exc:  # noqa: BLE001 - third-party code: report, do not crash
            raise DeviceNotFound(
                f"executor {spec!r} failed to load: {type(exc).__name__}: {exc}", value=spec
            ) from None
    search = find_executor(spec)
    if search.executor is None:
        lines = "\n  ".join(tried + list(search.tried))
        fix = _install_hint()
        if any("failed to load" in line for line in search.tried):
            fix = ("an executor is installed but does not load (see above): update or reinstall the "
                   "package that provides it, or pass open(executor=...)")
        raise DeviceNotFound(f"no V3D device available. Tried:\n  {lines}\nTo fix: {fix}", value=spec)
    return search.executor


def _emulated(executor: Executor | str | None, tried: list[str]) -> EmulatedBackend:
    if executor is None or isinstance(executor, str):
        spec = executor if executor is not None else os.environ.get("V3D_EXECUTOR") or None
        executor = _load_executor(spec, tried)
    if not isinstance(executor, Executor):
        raise InvalidArgument(
            f"executor must have a name and run_csd(job), got {type(executor).__name__}", value=executor
        )
    return EmulatedBackend(executor)


def _kernel(path: str, origin: str = "") -> KernelBackend:
    """Open the render node `path`; `origin` names where the path came from, for messages."""
    named = f"{origin}={path}: " if origin else ""
    fix = (f"; set {origin} to {EMULATOR!r} or a V3D render node such as /dev/dri/renderD128, or unset it"
           if origin else "")
    try:
        return KernelBackend(path)
    except PermissionError as exc:
        raise from_oserror(exc, "open", path, f"{named}cannot open {path}") from None
    except FileNotFoundError:
        raise DeviceNotFound(f"{named}{path} does not exist{fix}", value=path) from None
    except OSError as exc:
        raise DeviceNotFound(
            f"{named}{path} is not a V3D device: {exc.strerror or exc}{fix}", errno=exc.errno, value=path
        ) from None


def open(device: str | None = None, *, executor: Executor | str | None = None) -> Device:
    """Open a V3D device: the Pi's GPU, or the emulator.

    Args:
        device: `None` picks the V3D render node if there is one (found by asking each DRM node
            for its driver name), else the emulator if one is installed; `"emulator"` forces the
            emulator; a path such as `"/dev/dri/renderD128"` forces that node. Left out, the
            environment variable `V3D_DEVICE` has the same meaning.
        executor: For the emulated device: an executor object, an entry point name, or a
            `"module:callable"` spec (default: env `V3D_EXECUTOR`, else the installed entry
            points). Passing an executor without a device selects the emulated device.

    Returns:
        The open device; use it as a context manager or call `close()`.

    Raises:
        DeviceNotFound: No V3D node and no emulator were found (the message lists what was tried).
        PermissionDenied: The node exists but the user may not open it (join the `render` group).
        InvalidArgument: `executor` was given together with a device node.
    """
    origin = ""
    if device is None and os.environ.get("V3D_DEVICE"):
        device, origin = os.environ["V3D_DEVICE"], "V3D_DEVICE"
    if device == EMULATOR or (device is None and executor is not None):
        return Device(_emulated(executor, [f"device {EMULATOR!r} requested"] if device else []))
    if device is not None:
        if executor is not None:
            raise InvalidArgument(f"executor= only applies to the emulated device, not {device}", value=device)
        return Device(_kernel(device, origin))
    node, tried = find_v3d_node()
    if node is not None:
        return Device(_kernel(node))
    dev = Device(_emulated(None, tried))
    denied = [line for line in tried if "EACCES" in line or "EPERM" in line]
    if denied:
        warnings.warn(
            f"using the EMULATED V3D: {'; '.join(denied)}. If this is a Raspberry Pi, join the "
            "'render' group (sudo usermod -aG render $USER) and log in again",
            RuntimeWarning,
            stacklevel=2,
        )
    return dev


# --- the device ----------------------------------------------------------------------------------


def _as_bo(device: Device, item: Any, role: str) -> BufferObject:
    bo = item.bo if isinstance(item, DeviceArray) else item
    if not isinstance(bo, BufferObject):
        raise InvalidArgument(f"{role} must be BufferObjects or DeviceArrays, got {type(item).__name__}", value=item)
    if bo.device is not device:
        raise InvalidArgument(f"{role}: {bo!r} belongs to another device", value=bo)
    bo._check_open()
    return bo


class Device:
    """An open V3D device, kernel or emulated.

    Use it as a context manager (`with v3d_drm.open() as dev:`) or call `close()`: closing
    releases every buffer, perfmon and job of the device. Make one with `v3d_drm.open()`.

    Threads may share a device: allocating and freeing BOs, perfmons and syncobjs, dispatching
    (each submit carries its own `executor_options` and description), waiting for and
    cancelling jobs, and reading `Job.progress()` are safe from any thread. Not safe: closing
    the device, or one of its BOs, while another thread still uses it; writing the same array
    from two threads (numpy's rule). On the emulated device jobs run on one worker thread, one at
    a time in submission order, like the kernel's CSD queue.

    Attributes:
        info: The `DeviceInfo` of the GPU.
        backend: The backend answering the ioctls (the kernel's render node, or the emulator).
        page_size: The host's page size; buffers are rounded up to it.
    """

    def __init__(self, backend: Any) -> None:
        """Wrap an open backend and read the GPU's parameters (use `v3d_drm.open`).

        Args:
            backend: The kernel or emulated backend.

        Raises:
            DeviceNotFound: The GPU has no compute shader dispatch.
        """
        self.backend = backend
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self._objects: weakref.WeakSet = weakref.WeakSet()  # BOs, perfmons, jobs to release at close
        self._objects_lock = threading.Lock()  # WeakSet is not safe to change while close() walks it
        self._counter_table: tuple[Counter, ...] | None = None
        try:
            self.info = decode_info(self._read_params(), backend.kind, backend.node, backend.executor_name)
        except BaseException:
            backend.close()
            raise
        self._finalizer = weakref.finalize(self, backend.close)

    # --- plumbing ----------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self.backend.closed

    def ioctl(self, request: int, arg: ctypes.Structure, *, value: object = None, what: str = "") -> None:
        """Issue an ioctl, turning a failure into a typed error that names the ioctl and the value.

        Args:
            request: The ioctl request number.
            arg: The ctypes structure passed and filled in.
            value: The value to name in an error message (a handle, a size).
            what: What was being done, for the error message.

        Raises:
            V3DError: The subclass that fits the errno (`PermissionDenied`, `InvalidArgument`, ...).
        """
        if self.closed:
            raise InvalidArgument(f"{self!r} is closed; open a new device", ioctl=uapi.ioctl_name(request))
        try:
            self.backend.ioctl(request, arg)
        except OSError as exc:
            raise self.error(exc, request, value, what) from None

    def error(self, exc: OSError, request: int, value: object = None, what: str = "") -> V3DError:
        """The typed error for a failed ioctl.

        Args:
            exc: The `OSError` the ioctl raised.
            request: The ioctl request number.
            value: The value to name in the message.
            what: What was being done.

        Returns:
            The `V3DError` subclass that fits the errno, with a message saying how to fix it.
        """
        return from_oserror(exc, uapi.ioctl_name(request), value, what)

    def _track(self, obj: object) -> None:
        with self._objects_lock:
            self._objects.add(obj)

    def _read_params(self) -> dict[int, int]:
        params = {}
        for param in range(uapi.DRM_V3D_PARAM_MAX_PERF_COUNTERS + 1):
            arg = uapi.drm_v3d_get_param(param=param)
            try:
                self.backend.ioctl(uapi.DRM_IOCTL_V3D_GET_PARAM, arg)
            except OSError as exc:
                if exc.errno == errno.EINVAL and param > uapi.DRM_V3D_PARAM_V3D_CORE0_IDENT2:
                    continue  # a parameter newer than this kernel: unsupported (reference 6.1)
                raise from_oserror(exc, "DRM_IOCTL_V3D_GET_PARAM", param) from None
            params[param] = arg.value
        if not params.get(uapi.DRM_V3D_PARAM_SUPPORTS_CSD):
            raise DeviceNotFound(f"{self.backend.node}: this V3D has no compute shader dispatch (CSD)")
        return params

    # --- memory ------------------------------------------------------------------------------------

    def alloc(self, nbytes: int) -> BufferObject:
        """Allocate a zero-filled buffer object.

        Args:
            nbytes: Size in bytes; rounded up to the page size.

        Returns:
            The new buffer, mapped into this process.

        Raises:
            InvalidArgument: `nbytes` is not a positive int, or the device is closed.
        """
        return BufferObject(self, nbytes)

    def array(self, shape: Any, dtype: Any = np.float32) -> DeviceArray:
        """Allocate a zero-filled numpy array in GPU memory (its own buffer object).

        Args:
            shape: The array's shape, as for `numpy.zeros`.
            dtype: The element type (default float32, the QPU's float).

        Returns:
            The array; `.address` is its GPU address, to pass as a uniform.
        """
        dtype = np.dtype(dtype)
        if dtype.hasobject:
            raise InvalidArgument(f"dtype {dtype} cannot live in GPU memory", value=dtype)
        try:
            nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        except (TypeError, ValueError):
            raise InvalidArgument(f"bad shape {shape!r}", value=shape) from None
        if nbytes < 0:
            raise InvalidArgument(f"bad shape {shape!r}", value=shape)
        bo = self.alloc(max(nbytes, 1))  # the kernel has no empty BOs
        try:
            return bo._array(shape, dtype)
        except (TypeError, ValueError) as exc:
            bo.close()
            raise InvalidArgument(f"bad shape {shape!r}: {exc}", value=shape) from None

    def asarray(self, data: Any, dtype: Any = None) -> DeviceArray:
        """Copy data into a new array in GPU memory.

        Args:
            data: Anything `numpy.asarray` accepts.
            dtype: The element type (default: `data`'s own).

        Returns:
            The new array, holding a copy of `data`.
        """
        source = np.asarray(data, dtype=dtype)
        out = self.array(source.shape, source.dtype)
        out[...] = source
        return out

    # --- sync and perfmon --------------------------------------------------------------------------

    def syncobj(self, *, signaled: bool = False) -> Syncobj:
        """Create a DRM sync object, to order jobs or wait for them.

        Args:
            signaled: Create it already signaled.

        Returns:
            The sync object.
        """
        return Syncobj(self, signaled=signaled)

    def counter_table(self) -> tuple[Counter, ...]:
        """The performance counters of this GPU (built in for V3D 4.2, else asked of the kernel).

        Returns:
            One `Counter` (index, name, description) per hardware counter.
        """
        if self._counter_table is None:
            if self.info.ver == 42:
                self._counter_table = V3D42_COUNTERS
            else:
                table = []
                for index in range(self.info.max_perf_counters):
                    arg = uapi.drm_v3d_perfmon_get_counter(counter=index)
                    self.ioctl(uapi.DRM_IOCTL_V3D_PERFMON_GET_COUNTER, arg, value=index)
                    table.append(Counter(index, uapi.c_string(arg.category), uapi.c_string(arg.name),
                                         uapi.c_string(arg.description)))
                self._counter_table = tuple(table)
        return self._counter_table

    def perfmon(self, names: Iterable[str | int]) -> Perfmon:
        """Create a performance monitor over some counters.

        Args:
            names: Counter names as the kernel spells them (such as `"cycle-count"`) or their
                indices; see `counter_table()`.

        Returns:
            The perfmon; pass it to `dispatch(..., perfmon=...)` and read `.values()` after the job.

        Raises:
            InvalidArgument: An unknown counter, or more than the GPU can count at once.
        """
        if not self.info.supports_perfmon:
            raise V3DError("this kernel has no perfmon ioctls (needs Linux 5.15+)")
        pm = Perfmon(self, names)
        self._track(pm)
        return pm

    # --- dispatch ----------------------------------------------------------------------------------

    def submit_csd(
        self,
        cfg: Sequence[int],
        *,
        bos: Iterable[Any],
        coef: Sequence[int] = (0, 0, 0, 0),
        perfmon: Perfmon | None = None,
        in_sync: Job | Syncobj | None = None,
        executor_options: Mapping[str, object] | None = None,
        description: str | None = None,
        _staged: Sequence[BufferObject] = (),
        _code_bytes: int = 8,
    ) -> Job:
        """Submit a compute job from seven raw cfg words (for callers that build them themselves).

        `dispatch` computes the words for you; use this to replay a job exactly.

        Args:
            cfg: The seven CSD cfg words (or a `CsdConfig`); checked for counts, alignment, and code
                and uniforms lying inside `bos`.
            bos: Every buffer object or `DeviceArray` the job touches (at least one).
            coef: The four CSD coefficient words (0 for compute programs).
            perfmon: A perfmon of this device to attach to the job.
            in_sync: A job or sync object this job waits for before it starts.
            executor_options: Options for the emulator's executor (see the emulator reference);
                ignored by a real GPU.
            description: The job's name in error messages (default: made from `cfg`).

        Returns:
            The submitted job; `job.wait()` waits for it.

        Raises:
            InvalidArgument: A cfg word, `coef`, `bos`, `perfmon` or `in_sync` is not acceptable; the
                message names it.
            V3DError: The kernel refused the submission.
        """
        staged = list(_staged)
        try:
            return self._submit(cfg, bos, coef, perfmon, in_sync, executor_options, description, staged, _code_bytes)
        except BaseException:
            for bo in staged:
                bo.close()
            raise

    def _submit(self, cfg, bos, coef, perfmon, in_sync, executor_options, description, staged, code_bytes) -> Job:
        if self.closed:
            raise InvalidArgument(f"{self!r} is closed; open a new device")
        config = cfg if isinstance(cfg, CsdConfig) else decode_cfg(cfg, cfg4_is_count_minus_1=self.info.cfg4_is_count_minus_1)
        coef = tuple(coef)
        if len(coef) != 4 or any(isinstance(c, bool) or not isinstance(c, (int, np.integer)) or not 0 <= c <= 0xFFFF_FFFF for c in coef):
            raise InvalidArgument(f"coef must be four 32-bit unsigned ints, got {coef!r}", value=coef)
        listed: dict[int, BufferObject] = {}
        for item in list(staged) + list(bos):
            bo = _as_bo(self, item, "bos")
            listed.setdefault(bo.handle, bo)
        if not listed:
            raise InvalidArgument("a job must list at least one BO (bos=...): the kernel requires it")
        check_addresses_in_bos(config, listed.values(), code_bytes)
        perfmon_id = 0
        if perfmon is not None:
            if not isinstance(perfmon, Perfmon) or perfmon.device is not self:
                raise InvalidArgument(f"perfmon {perfmon!r} is not a perfmon of this device", value=perfmon)
            perfmon._check_open()
            perfmon_id = perfmon.id
        in_handle = self._in_sync_handle(in_sync)
        options = dict(executor_options or {})
        description = description or config.describe()
        out = self._out_syncobj()
        handles = (ctypes.c_uint32 * len(listed))(*listed)
        arg = submit_struct(config.cfg, coef, handles, in_handle, out.handle if out else 0, perfmon_id)
        try:
            self.backend.submit_csd(arg, description=description, options=options)
        except OSError as exc:
            if out is not None:
                out.close()
            raise self._submit_error(exc, in_handle) from None
        job = Job(self, description, out, list(listed.values()), staged, perfmon)
        self._track(job)
        return job

    def _in_sync_handle(self, in_sync: Job | Syncobj | None) -> int:
        if in_sync is None:
            return 0
        if isinstance(in_sync, Job):
            if in_sync.device is not self:
                raise InvalidArgument("in_sync is a job of another device (syncobjs are per device)", value=in_sync)
            return in_sync.syncobj.handle if in_sync.syncobj is not None else 0  # done: nothing to wait for
        if isinstance(in_sync, Syncobj):
            if in_sync.device is not self:
                raise InvalidArgument("in_sync is a syncobj of another device", value=in_sync)
            in_sync._check_open()
            return in_sync.handle
        raise InvalidArgument(f"in_sync must be a Job, a Syncobj or None, got {type(in_sync).__name__}", value=in_sync)

    def _out_syncobj(self) -> Syncobj | None:
        try:
            return Syncobj(self)
        except V3DError as exc:
            if exc.errno in (errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTTY):
                return None  # no syncobj support: jobs are waited for with WAIT_BO
            raise

    def _submit_error(self, exc: OSError, in_handle: int) -> V3DError:
        if exc.errno == errno.EINVAL and in_handle:
            return InvalidArgument(
                f"SUBMIT_CSD refused in_sync syncobj {in_handle}: it holds no fence. Pass a submitted "
                "job, or a syncobj created with signaled=True",
                ioctl="DRM_IOCTL_V3D_SUBMIT_CSD", errno=exc.errno, value=in_handle,
            )
        if exc.errno == errno.EACCES:
            return PermissionDenied(
                "SUBMIT_CSD needs DRM authentication on a card node; open the render node "
                "(/dev/dri/renderD*) instead", ioctl="DRM_IOCTL_V3D_SUBMIT_CSD", errno=exc.errno,
            )
        return self.error(exc, uapi.DRM_IOCTL_V3D_SUBMIT_CSD)

    def dispatch(
        self,
        code: Any,
        uniforms: Any,
        *,
        workgroups: Any = (1, 1, 1),
        local_size: Any = (16, 1, 1),
        wgs_per_sg: int | None = None,
        batches: int | None = None,
        threading: bool = False,
        single_seg: bool = False,
        propagate_nan: bool = True,
        bos: Iterable[Any] = (),
        perfmon: Perfmon | None = None,
        in_sync: Job | Syncobj | None = None,
        executor_options: Mapping[str, object] | None = None,
    ) -> Job:
        """Run a QPU program as a compute job.

        Computes and checks the CSD cfg words (Mesa's rules), copies code and uniforms given as host
        data into a temporary buffer freed with the job, and submits it. Nothing reaches the GPU
        unless every argument is valid.

        Args:
            code: The program: a `DeviceArray` of uint64 words, or words as an array-like or an
                object with `.words` (such as an assembled `Program`).
            uniforms: The uniform stream: a `DeviceArray` of uint32, or an array-like of
                uint32/int32/float32 values.
            workgroups: Number of workgroups in x, y, z.
            local_size: Invocations per workgroup in x, y, z (at most 256 in all); 16 invocations
                make one batch of 16 lanes.
            wgs_per_sg: Workgroups per supergroup, 1 to 16 (default: chosen as Mesa does).
            batches: Override the number of batches of 16 lanes (default: what `workgroups` and
                `local_size` need). py-videocore6's `thread=` is this.
            threading: The program is 4-way threadable: it uses only `rf0`-`rf31`, so each QPU
                may run four batches at once (otherwise at most two).
            single_seg: The program has no thread switches before its end: its first `thrsw` ends it.
            propagate_nan: Float ops propagate NaNs (Mesa always sets this).
            bos: Every other buffer object or `DeviceArray` the program reads or writes.
            perfmon: A perfmon of this device to count the job's events.
            in_sync: A job or sync object to wait for before this job starts.
            executor_options: Options for the emulator, such as `{"trace": True}` or
                `{"strict": False}`; see the emulator reference. A real GPU ignores them.

        Returns:
            The job. `job.wait()` waits for it and raises what went wrong (on the emulator, a
            `QPUError` naming the broken hazard rule).

        Raises:
            InvalidArgument: A bad shape, count, address or buffer; the message names it.
            V3DError: The kernel refused the job.
        """
        if self.closed:
            raise InvalidArgument(f"{self!r} is closed; open a new device")
        code_array = _words(getattr(code, "words", code), np.uint64, "code")
        uniform_array = _words(uniforms, np.uint32, "uniforms")
        if code_array is not None and code_array.size == 0:
            raise InvalidArgument("code is empty")
        staged_bo, code_address, uniforms_address = self._stage(code, code_array, uniforms, uniform_array)
        staged = [staged_bo] if staged_bo is not None else []
        try:
            config = compute_cfg(
                workgroups=workgroups, local_size=local_size, code_address=code_address,
                uniforms_address=uniforms_address, wgs_per_sg=wgs_per_sg, batches=batches,
                threading=threading, single_seg=single_seg, propagate_nan=propagate_nan,
                cfg4_is_count_minus_1=self.info.cfg4_is_count_minus_1,
            )
            user_bos = list(bos) + [a for a in (code, uniforms) if isinstance(a, DeviceArray)]
        except BaseException:
            for bo in staged:
                bo.close()
            raise
        code_bytes = (code_array.nbytes if code_array is not None else code.nbytes)
        return self.submit_csd(
            config, bos=user_bos, perfmon=perfmon, in_sync=in_sync, executor_options=executor_options,
            _staged=staged, _code_bytes=code_bytes,
        )

    def _stage(self, code, code_array, uniforms, uniform_array) -> tuple[BufferObject | None, int, int]:
        """Copy code and/or uniforms given as host data into one temporary BO."""
        code_nbytes = code_array.nbytes if code_array is not None else 0
        uniform_offset = -(-code_nbytes // 8) * 8
        uniform_nbytes = uniform_array.nbytes if uniform_array is not None else 0
        if code_array is None and uniform_array is None:
            return None, _device_address(code, "code", 8), _device_address(uniforms, "uniforms", 4)
        bo = self.alloc(max(uniform_offset + uniform_nbytes, 8))
        memory = np.frombuffer(bo.buffer, dtype=np.uint8)
        if code_array is not None:
            memory[:code_nbytes] = code_array.view(np.uint8)
            code_address = bo.address
        else:
            code_address = _device_address(code, "code", 8)
        if uniform_array is not None:
            memory[uniform_offset : uniform_offset + uniform_nbytes] = uniform_array.view(np.uint8)
            uniforms_address = bo.address + uniform_offset
        else:
            uniforms_address = _device_address(uniforms, "uniforms", 4)
        del memory
        return bo, code_address, uniforms_address

    def wait(self, *jobs: Job, timeout: float | None = None) -> None:
        """Wait for several jobs of this device.

        Args:
            *jobs: The jobs to wait for.
            timeout: Seconds to wait for all of them together (default: no limit).

        Raises:
            InvalidArgument: A job belongs to another device.
            GPUTimeout: The jobs did not all finish in time.
        """
        for job in jobs:
            if not isinstance(job, Job) or job.device is not self:
                raise InvalidArgument(f"{job!r} is not a job of this device", value=job)
        deadline = None if timeout is None else time.monotonic() + timeout
        for job in jobs:
            job.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))

    def _wait_bos(self, bos: Sequence[BufferObject], timeout: float | None, description: str) -> None:
        """WAIT_BO on every BO of a job (the fallback without syncobjs), in slices of at most
        `WAIT_SLICE_SECONDS` so that Ctrl-C is seen even if the kernel restarts the wait."""
        deadline = deadline_ns(timeout)
        for bo in bos:
            while True:
                left = max(0, deadline - time.monotonic_ns())
                arg = uapi.drm_v3d_wait_bo(handle=bo.handle, timeout_ns=min(left, int(WAIT_SLICE_SECONDS * 1e9)))
                try:
                    self.backend.ioctl(uapi.DRM_IOCTL_V3D_WAIT_BO, arg)
                    break
                except OSError as exc:
                    if exc.errno in (errno.ETIME, errno.ETIMEDOUT) and time.monotonic_ns() < deadline:
                        continue
                    error = self.error(exc, uapi.DRM_IOCTL_V3D_WAIT_BO, bo.handle, f"waiting for {description}")
                    if isinstance(error, GPUTimeout):
                        raise GPUTimeout(f"{description} did not complete within {timeout} s",
                                         ioctl=error.ioctl, errno=error.errno, value=timeout) from None
                    raise error from None

    # --- lifetime ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Release every BO, perfmon and job of the device, then close it. Idempotent."""
        if self.closed:
            return
        with self._objects_lock:
            objects = list(self._objects)
        for obj in objects:
            finalizer = getattr(obj, "_finalizer", None)
            if finalizer is not None:
                finalizer()
        self._finalizer()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("emulated" if self.info.emulated else self.backend.node)
        return f"<v3d_drm.Device V3D {self.info.version} {state}>"


def _words(data: Any, dtype: type, role: str) -> np.ndarray | None:
    """Host data as a flat array of `dtype` words, or None for a DeviceArray (used in place).

    Integers must fit the word (negative values are taken as two's complement); float32 data
    is accepted as uniforms and passed bit for bit.
    """
    if isinstance(data, DeviceArray):
        return None
    try:
        array = np.asarray(data)
    except (TypeError, ValueError, OverflowError):
        raise InvalidArgument(f"{role} must be a DeviceArray or an array of words", value=data) from None
    if dtype is np.uint32 and array.dtype == np.float32:
        return np.ascontiguousarray(array.reshape(-1)).view(np.uint32)
    if array.size == 0:
        return np.zeros(0, dtype)
    if array.dtype == object:  # Python ints beyond int64, e.g. 64-bit instruction words
        try:
            array = np.array([int(v) for v in array.reshape(-1)], dtype=object)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{role} must hold integer words", value=data) from None
    elif array.dtype.kind not in "iu":
        raise InvalidArgument(
            f"{role} must hold integer words{' (or float32 values)' if dtype is np.uint32 else ''}, "
            f"got dtype {array.dtype}",
            value=data,
        )
    bits = 8 * np.dtype(dtype).itemsize
    low, high = int(array.min()), int(array.max())
    if low < -(1 << (bits - 1)) or high >= 1 << bits:
        raise InvalidArgument(f"{role} words must fit in {bits} bits (got {low}..{high})", value=data)
    if array.dtype == object:
        return np.array([v & ((1 << bits) - 1) for v in array], dtype=dtype)
    return array.reshape(-1).astype(dtype)


def _device_address(array: DeviceArray, role: str, alignment: int) -> int:
    if not array.flags.c_contiguous:
        raise InvalidArgument(f"{role} DeviceArray must be contiguous", value=array)
    address = array.address
    if address % alignment:
        raise InvalidArgument(f"{role} at {address:#x} is not {alignment}-byte aligned", value=address)
    return address
