"""Compute shader dispatch: the seven CSD cfg words, their validation, and the Job handle.

The cfg words follow Mesa's v3dv/GL drivers (reference section 4.2-4.3): pick workgroups per
supergroup so the last batch wastes the fewest lanes, count batches, pack cfg[3], cfg[4] =
batches - 1 on V3D 4.2, cfg[5] = code address | PNAN << 2 | single_seg << 1 | threading,
cfg[6] = uniforms address. The kernel checks none of it, so every field is checked here before
anything is submitted.
"""

from __future__ import annotations

import ctypes
import math
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import uapi
from .errors import GPUTimeout, InvalidArgument, JobCancelled

if TYPE_CHECKING:
    from .bo import BufferObject
    from .device import Device
    from .sync import Syncobj

U32_MAX = 0xFFFF_FFFF
MAX_WORKGROUPS_PER_DIM = 0xFFFF  # 16-bit NUM_WGS fields
MAX_WG_SIZE = 256  # invocations per workgroup (8-bit field, 256 stored as 0)
MAX_WGS_PER_SG = 16  # 4-bit field, 16 stored as 0
MAX_BATCHES_PER_SG = 256  # 8-bit "minus one" field
LANES_PER_BATCH = 16
CODE_ALIGNMENT = 8  # instructions are 64-bit; cfg[5] bits 2:0 carry flags
UNIFORMS_ALIGNMENT = 4


@dataclass(frozen=True)
class CsdConfig:
    """The cfg words of one compute dispatch and the values they were computed from.

    Attributes:
        cfg: The seven CSD cfg words, as the kernel receives them.
        workgroups: Number of workgroups in x, y, z.
        wg_size: Invocations per workgroup.
        wgs_per_sg: Workgroups per supergroup.
        batches_per_sg: Batches of 16 lanes per supergroup.
        num_batches: Batches in the whole dispatch.
        code_address: GPU address of the program.
        uniforms_address: GPU address of the uniform stream.
        threading: The program is 4-way threadable.
        single_seg: The program's first `thrsw` ends it.
        propagate_nan: Float ops propagate NaNs.
    """

    cfg: tuple[int, int, int, int, int, int, int]
    workgroups: tuple[int, int, int]
    wg_size: int
    wgs_per_sg: int
    batches_per_sg: int
    num_batches: int
    code_address: int
    uniforms_address: int
    threading: bool
    single_seg: bool
    propagate_nan: bool

    def describe(self) -> str:
        """One line naming the dispatch, used in error messages.

        Returns:
            Such as `"CSD dispatch of 1x1x1 workgroups of 16 invocations (1 batches, ...)"`.
        """
        x, y, z = self.workgroups
        return (
            f"CSD dispatch of {x}x{y}x{z} workgroups of {self.wg_size} invocations "
            f"({self.num_batches} batch{'es' if self.num_batches != 1 else ''}, "
            f"{self.wgs_per_sg} WG{'s' if self.wgs_per_sg != 1 else ''}/supergroup), "
            f"code {self.code_address:#010x}, uniforms {self.uniforms_address:#010x}"
        )


def choose_wgs_per_sg(num_wgs: int, wg_size: int) -> int:
    """Choose the workgroups per supergroup as Mesa does (for programs without barriers).

    Tries 1 to 16 workgroups per supergroup (never more than there are workgroups) and takes the
    first count that fills the last batch of 16 lanes exactly, else the first with the fewest
    idle lanes.

    Args:
        num_wgs: Number of workgroups in the dispatch.
        wg_size: Invocations per workgroup.

    Returns:
        The number of workgroups per supergroup, 1 to 16.
    """
    max_wgs = (wg_size * LANES_PER_BATCH) // wg_size  # max_batches = wg_size -> 16
    best, best_unused = 1, LANES_PER_BATCH
    for wgs in range(1, max_wgs + 1):
        if wgs > num_wgs:
            break
        unused = (LANES_PER_BATCH - (wgs * wg_size) % LANES_PER_BATCH) % LANES_PER_BATCH
        if unused == 0:
            return wgs
        if unused < best_unused:
            best, best_unused = wgs, unused
    return best


def _check_int(name: str, value: object, low: int, high: int, hint: str = "") -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise InvalidArgument(f"{name} must be an int in {low}..{high}, got {value!r}", value=value)
    value = value.__index__()
    if not low <= value <= high:
        raise InvalidArgument(f"{name} must be in {low}..{high}, got {value}{hint}", value=value)
    return value


def _triple(name: str, value: object, high: int) -> tuple[int, int, int]:
    if isinstance(value, int):
        value = (value, 1, 1)
    try:
        items = tuple(value)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidArgument(f"{name} must be up to three ints (x, y, z), got {value!r}", value=value) from None
    if not 1 <= len(items) <= 3:
        raise InvalidArgument(f"{name} must be up to three ints (x, y, z), got {value!r}", value=value)
    items = items + (1,) * (3 - len(items))
    zero_hint = " (a zero count dispatches nothing; skip the dispatch instead)"
    return tuple(  # type: ignore[return-value]
        _check_int(f"{name}[{axis}]", v, 1, high, zero_hint if v == 0 else "")
        for axis, v in zip("xyz", items)
    )


def compute_cfg(
    *,
    workgroups: object,
    local_size: object,
    code_address: int,
    uniforms_address: int,
    wgs_per_sg: int | None = None,
    batches: int | None = None,
    threading: bool = False,
    single_seg: bool = False,
    propagate_nan: bool = True,
    cfg4_is_count_minus_1: bool = True,
) -> CsdConfig:
    """Compute the seven CSD cfg words of a dispatch, checking every input.

    `Device.dispatch` calls this; the arguments mean what they mean there.

    Args:
        workgroups: Number of workgroups in x, y, z.
        local_size: Invocations per workgroup in x, y, z (at most 256 in all).
        code_address: GPU address of the program (8-byte aligned).
        uniforms_address: GPU address of the uniform stream (4-byte aligned).
        wgs_per_sg: Workgroups per supergroup, 1 to 16 (default: `choose_wgs_per_sg`).
        batches: Override the number of batches of 16 lanes.
        threading: The program is 4-way threadable.
        single_seg: The program's first `thrsw` ends it.
        propagate_nan: Float ops propagate NaNs.
        cfg4_is_count_minus_1: cfg word 4 holds the batch count minus one (every kernel since
            Linux 5.x; `DeviceInfo` says which).

    Returns:
        The cfg words with the values they were made from.

    Raises:
        InvalidArgument: An input is out of range or misaligned; the message names it.
    """
    groups = _triple("workgroups", workgroups, MAX_WORKGROUPS_PER_DIM)
    local = _triple("local_size", local_size, MAX_WG_SIZE)
    wg_size = math.prod(local)
    if wg_size > MAX_WG_SIZE:
        raise InvalidArgument(f"local_size {local} has {wg_size} invocations; at most {MAX_WG_SIZE}", value=local)
    num_wgs = math.prod(groups)
    if wgs_per_sg is None:
        wgs_per_sg = choose_wgs_per_sg(num_wgs, wg_size)
    wgs_per_sg = _check_int("wgs_per_sg", wgs_per_sg, 1, MAX_WGS_PER_SG)
    batches_per_sg = -(-wgs_per_sg * wg_size // LANES_PER_BATCH)
    whole, rest = divmod(num_wgs, wgs_per_sg)
    num_batches = batches_per_sg * whole + -(-rest * wg_size // LANES_PER_BATCH)
    if batches is not None:
        num_batches = _check_int("batches", batches, 1, 1 << 32)
    for name, flag in (("threading", threading), ("single_seg", single_seg), ("propagate_nan", propagate_nan)):
        if not isinstance(flag, bool):
            raise InvalidArgument(f"{name} must be True or False, got {flag!r}", value=flag)
    _check_address("code address", code_address, CODE_ALIGNMENT)
    _check_address("uniforms address", uniforms_address, UNIFORMS_ALIGNMENT)
    cfg = (
        groups[0] << 16,
        groups[1] << 16,
        groups[2] << 16,
        ((wgs_per_sg & 0xF) << 8) | ((batches_per_sg - 1) << 12) | (wg_size & 0xFF),
        num_batches - 1 if cfg4_is_count_minus_1 else num_batches,
        code_address | (propagate_nan << 2) | (single_seg << 1) | int(threading),
        uniforms_address,
    )
    return CsdConfig(
        cfg, groups, wg_size, wgs_per_sg, batches_per_sg, num_batches,
        code_address, uniforms_address, threading, single_seg, propagate_nan,
    )


def _check_address(name: str, address: int, alignment: int) -> None:
    _check_int(name, address, 1, U32_MAX, " (GPU addresses are nonzero 32-bit values)")
    if address % alignment:
        raise InvalidArgument(f"{name} {address:#x} is not {alignment}-byte aligned", value=address)


def decode_cfg(cfg: Sequence[int], *, cfg4_is_count_minus_1: bool = True) -> CsdConfig:
    """Check seven raw cfg words and decode them (for submit_csd and job descriptions)."""
    words = tuple(cfg)
    if len(words) != 7:
        raise InvalidArgument(f"cfg must be 7 words, got {len(words)}", value=cfg)
    words = tuple(_check_int(f"cfg[{i}]", w, 0, U32_MAX) for i, w in enumerate(words))
    groups = tuple(w >> 16 for w in words[:3])
    for axis, count in zip("xyz", groups):
        if count == 0:
            raise InvalidArgument(
                f"cfg: NUM_WGS_{axis.upper()} is 0 (bits 31:16 of cfg[{'xyz'.index(axis)}]); "
                "a zero count dispatches nothing",
                value=words,
            )
    wg_size = (words[3] & 0xFF) or 256
    wgs_per_sg = ((words[3] >> 8) & 0xF) or 16
    batches_per_sg = ((words[3] >> 12) & 0xFF) + 1
    num_batches = words[4] + 1 if cfg4_is_count_minus_1 else words[4]
    if num_batches == 0:
        raise InvalidArgument("cfg[4]: a dispatch needs at least one batch", value=words)
    code_address = words[5] & ~0x7
    _check_address("code address (cfg[5] & ~7)", code_address, CODE_ALIGNMENT)
    _check_address("uniforms address (cfg[6])", words[6], UNIFORMS_ALIGNMENT)
    return CsdConfig(
        words, groups, wg_size, wgs_per_sg, batches_per_sg, num_batches,  # type: ignore[arg-type]
        code_address, words[6], bool(words[5] & 1), bool(words[5] & 2), bool(words[5] & 4),
    )


def check_addresses_in_bos(config: CsdConfig, bos: Iterable[BufferObject], code_bytes: int = 8) -> None:
    """The code and the uniform stream must start inside BOs listed for the job."""
    bos = list(bos)
    for name, address, nbytes in (
        ("code", config.code_address, code_bytes),
        ("uniforms", config.uniforms_address, 4),
    ):
        if not any(bo.contains(address, nbytes) for bo in bos):
            listed = ", ".join(f"[{bo.address:#x}, {bo.address + bo.size:#x})" for bo in bos) or "none"
            raise InvalidArgument(
                f"{name} address {address:#010x} is not inside any BO listed for the job "
                f"(listed: {listed}); pass the BO in bos=",
                value=address,
            )


def _release_job(syncobj: Syncobj | None, staged: list) -> None:
    if syncobj is not None:
        syncobj.close()
    for bo in staged:
        bo.close()
    staged.clear()


class Job:
    """A submitted CSD job: wait for it, poll it, watch its progress, or stop it.

    The job's temporary BOs (staged code/uniforms) and its syncobj are released when it has
    completed and been waited for or polled, by `close()`, or when the Job object is garbage
    collected (the backend keeps the BOs of a running job alive by itself, so that is safe even
    before completion; dropping a Job does not stop it).

    Every method may be called from any thread.

    Attributes:
        device: the Device it was submitted on.
        description: what it is, as error messages name it.
        stats: what the executor reported (emulated device, e.g. `EmulatorStats`), else None.
        modelled_seconds: the executor's modelled GPU time, else None.
    """

    def __init__(
        self,
        device: Device,
        description: str,
        syncobj: Syncobj | None,
        bos: list[BufferObject],
        staged: list[BufferObject],
        perfmon: object | None,
    ) -> None:
        """Track a submitted job (made by `Device.dispatch` and `Device.submit_csd`).

        Args:
            device: The device it was submitted to.
            description: Its name in messages.
            syncobj: The sync object signalled when it completes (`None` without sync objects).
            bos: The buffers it uses, kept alive until it completes.
            staged: Temporary buffers to free when it completes.
            perfmon: The perfmon attached to it, if any.
        """
        self.device = device
        self.description = description
        self.stats: object | None = None
        self.modelled_seconds: float | None = None
        self._done = False
        self._lock = threading.Lock()  # completion is recorded once, whoever notices it
        self._syncobj = syncobj
        self._bos = bos  # keeps the user's BOs (and arrays' BOs) alive while the job may run
        self._perfmon = perfmon
        self._error: BaseException | None = None
        self._finalizer = weakref.finalize(self, _release_job, syncobj, staged)

    @property
    def syncobj(self) -> Syncobj | None:
        """The out-sync holding this job's fence (None once the job has been collected)."""
        return None if self._done else self._syncobj

    @property
    def profile(self) -> object | None:
        """The executor's profile of the job (the emulator's `Profile` when it ran with
        `executor_options={"profile": True}`), else None."""
        return getattr(self.stats, "profile", None)

    @property
    def done(self) -> bool:
        """True once the job has completed, successfully or not (asks the fence; never blocks or
        raises: `wait()` reports the outcome)."""
        if not self._done and not self.device.closed:
            try:
                self._block(0)
            except GPUTimeout:
                return False
            self._collect()
        return self._done

    def wait(self, timeout: float | None = None) -> Job:
        """Wait for completion and report how the job ended.

        A job that has not completed within `timeout` seconds keeps running (as on a GPU):
        wait again, poll `done`/`progress()`, or `cancel()` it. Ctrl-C during the wait
        cancels the job (emulated device) and raises KeyboardInterrupt; the device stays usable.

        Args:
            timeout: seconds, or None to wait as long as it takes.

        Returns:
            The job itself.

        Raises:
            GPUTimeout: not completed within `timeout` (the message names the job).
            JobCancelled: the job was cancelled before it completed.
            KeyboardInterrupt: Ctrl-C during the wait.
            V3DError: whatever the executor raised (e.g. `QPUError`, `MMUFault`).
        """
        if not self._done:
            if self.device.closed:
                raise InvalidArgument(f"cannot wait for {self.description}: its device is closed")
            try:
                self._block(timeout)
            except KeyboardInterrupt:
                self.cancel("Ctrl-C (KeyboardInterrupt) while waiting for it")
                raise
            self._collect()
        if self._error is not None:
            raise self._error
        return self

    def progress(self) -> float | None:
        """How far the job is, in [0, 1]; cheap, never blocks, safe from any thread.

        Returns:
            On the emulated device, the fraction of its batches finished (updated a few dozen times
            a second while it runs); on the kernel device `None` while it runs (the kernel does not
            say); 1.0 once it has completed, successfully or not.
        """
        if self._done:
            return 1.0
        syncobj = self._syncobj
        if syncobj is None or self.device.closed:
            return None
        return self.device.backend.job_progress(syncobj.handle)

    def cancel(self, reason: str = "Job.cancel() was called") -> bool:
        """Ask the job to stop; `wait()` then raises `JobCancelled`. Returns immediately.

        Args:
            reason: Why, as `JobCancelled` will say.

        Returns:
            True if a stop was requested; False if the job has already completed or cannot be
            stopped (the kernel device has no way to cancel a job: its hang check resets the GPU
            after 500 ms without progress).
        """
        syncobj = self._syncobj
        if self._done or syncobj is None or self.device.closed:
            return False
        return self.device.backend.cancel_job(syncobj.handle, reason)

    def close(self) -> None:
        """Cancel the job if it is still running and release its syncobj and staged BOs."""
        if not self.done:
            self.cancel("Job.close() was called")
            with self._lock:
                if not self._done:
                    self._done = True
                    self._error = JobCancelled(f"{self.description} was closed before it completed")
                    self._bos = []
        self._finalizer()

    def _block(self, timeout: float | None) -> None:
        """Block until the job's fence signals (GPUTimeout after `timeout` s)."""
        if self._syncobj is not None:
            self._syncobj.wait(timeout, description=self.description, hint=self._timeout_hint())
        else:
            self.device._wait_bos(self._bos, timeout, self.description)

    def _timeout_hint(self) -> str:
        if self.device.info.emulated:
            return "it is still running: wait again, poll job.done or job.progress(), or job.cancel() it"
        return "it is still running (the kernel resets a GPU that makes no progress for 500 ms)"

    def _collect(self) -> None:
        """Record the outcome of the completed job (once) and release what it held."""
        with self._lock:
            if self._done:
                return
            report = self.device.backend.job_report(self._syncobj.handle) if self._syncobj is not None else None
            if report is not None:
                self.stats, self.modelled_seconds, self._error = report.stats, report.modelled_seconds, report.error
                if self._error is not None:
                    self._error.add_note(f"while running {self.description}")
            self._done = True
            self._bos = []
        self._finalizer()

    def __repr__(self) -> str:
        return f"<Job {'done' if self._done else 'in flight'}: {self.description}>"


def submit_struct(
    cfg: Sequence[int], coef: Sequence[int], handles: ctypes.Array, in_sync: int, out_sync: int, perfmon_id: int
) -> uapi.drm_v3d_submit_csd:
    """Fill the 88-byte SUBMIT_CSD argument (`handles` is a ctypes __u32 array of BO handles)."""
    arg = uapi.drm_v3d_submit_csd()
    arg.cfg[:] = list(cfg)
    arg.coef[:] = list(coef)
    arg.bo_handles = ctypes.addressof(handles)
    arg.bo_handle_count = len(handles)
    arg.in_sync, arg.out_sync, arg.perfmon_id = in_sync, out_sync, perfmon_id
    return arg

