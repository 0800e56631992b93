"""What every routine shares: the default device, job recording, argument checks, staging of
numpy arrays into device memory, dispatch on all eight QPUs, and small QPU-program helpers.

Every routine runs one CSD dispatch of 8 batches (`workgroups=(8, 1, 1)`, 16 lanes each), one
thread per QPU (64 registers, TMU output FIFO of 16 words), dispatched single-segment so that the
program ends at its first `thrsw` (reference 14 (b)). The QPU number is the workgroup id X,
read from the payload in rf0 (reference 15.3), not from `tidx`, so it does not depend on how
the hardware places batches.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import v3d_drm
from vc6_isa.asm import (
    L,
    R,
    b,
    mov,
    nop,
    null,
    program_end,
    shl,
    shr,
    sub,
)
from vc6_isa.asm import add as add_

#: Batches (one per QPU thread) every routine dispatches.
NUM_QPUS = 8
LANES = 16
#: TMU result words one batch may have outstanding: 16 / threads, and a dispatch without the
#: 4-way bit may put 2 threads on a QPU (reference 13.6/31; the emulator enforces this).
FIFO_WORDS = 8

#: TMU configuration bytes for general memory access (reference 12.1): per-pixel mask (bit 7),
#: op 15 "regular" (bits 6:3), type (bits 2:0). The bytes above the first are 0xff so that the
#: following lookups get the 32-bit default.
TMU_VEC4 = 0xFFFFFFFC
TMU_U8 = 0xFFFFFFFD
TMU_U16 = 0xFFFFFFFE
TMU_U32 = 0xFFFFFFFF


class KernelTypeError(TypeError):
    """An argument of the wrong type or dtype (raised before anything reaches the GPU)."""


class KernelValueError(ValueError):
    """An argument of the right type but a bad shape, layout or value (raised before submit)."""


# ------------------------------------------------------------------------------------------
# The default device (one per process) and job recording


_device_lock = threading.Lock()
_default: tuple[int, v3d_drm.Device] | None = None


def default_device() -> v3d_drm.Device:
    """The device a routine uses when it gets `device=None`, opened once per process.

    Returns:
        `v3d_drm.open()`: the Pi's GPU, or the emulator when there is none.
    """
    global _default
    with _device_lock:
        if _default is None or _default[0] != os.getpid() or _default[1].closed:
            _default = (os.getpid(), v3d_drm.open())
        return _default[1]


def resolve_device(device: v3d_drm.Device | None) -> v3d_drm.Device:
    if device is None:
        return default_device()
    if not isinstance(device, v3d_drm.Device):
        raise KernelTypeError(
            f"device must be a v3d_drm.Device or None, not {type(device).__name__}"
        )
    return device


@dataclass
class Recording:
    """The jobs dispatched inside a `record` block.

    Attributes:
        jobs: The jobs, in dispatch order; after the block each has `.stats` (on the emulator,
            modelled cycles and counts).
        perfmon: The perfmon attached to every job of the block, if one was given.
        executor_options: The emulator options given to every job of the block, if any.
    """

    jobs: list[v3d_drm.Job] = field(default_factory=list)
    perfmon: v3d_drm.Perfmon | None = None
    executor_options: Mapping[str, object] | None = None


_recordings: contextvars.ContextVar[tuple[Recording, ...]] = contextvars.ContextVar(
    "vc6_kernels_recordings", default=()
)


@contextlib.contextmanager
def record(
    *,
    perfmon: v3d_drm.Perfmon | None = None,
    executor_options: Mapping[str, object] | None = None,
    profile: bool = False,
) -> Iterator[Recording]:
    """Collect every job dispatched by any `vc6_kernels` routine inside the block.

    `with vc6_kernels.record() as rec: sgemm(a, b)`, then `rec.jobs[0].stats`. Blocks nest (an
    outer block sees the jobs of inner ones) and are per thread and per asyncio task.

    Args:
        perfmon: A perfmon to attach to every job inside (the innermost block that names one
            wins).
        executor_options: Emulator options for every job inside, such as `{"trace": True}`
            (the innermost block that gives them wins).
        profile: Profile every job inside on the emulator (adds `"profile": True` to the
            executor options): then `rec.jobs[0].profile` is a `vc6_isa.emulator.profile.Profile`.

    Yields:
        The `Recording` the jobs are added to.
    """
    if profile:
        executor_options = {**(executor_options or {}), "profile": True}
    rec = Recording(perfmon=perfmon, executor_options=executor_options)
    token = _recordings.set(_recordings.get() + (rec,))
    try:
        yield rec
    finally:
        _recordings.reset(token)


def dispatch(
    dev: v3d_drm.Device,
    program: Any,
    uniforms: Sequence[int] | np.ndarray,
    bos: Sequence[Any],
) -> v3d_drm.Job:
    """Run `program` once on all 8 QPUs (one thread each) and record the job."""
    perfmons = [r.perfmon for r in _recordings.get() if r.perfmon is not None]
    options = [
        r.executor_options for r in _recordings.get() if r.executor_options is not None
    ]
    job = dev.dispatch(
        program.words,
        np.asarray(uniforms, dtype=np.uint64).astype(np.uint32),
        workgroups=(NUM_QPUS, 1, 1),
        local_size=(LANES, 1, 1),
        single_seg=True,
        bos=list(bos),
        perfmon=perfmons[-1] if perfmons else None,
        executor_options=options[-1] if options else None,
    )
    for rec in _recordings.get():
        rec.jobs.append(job)
    return job


# ------------------------------------------------------------------------------------------
# Argument checks and staging


def is_device_array(x: Any) -> bool:
    return isinstance(x, v3d_drm.DeviceArray)


def check_array(
    x: Any,
    name: str,
    dtypes: Sequence[np.dtype] | None,
    ndim: int | tuple[int, ...] | None = None,
) -> np.ndarray:
    """`x` as an ndarray (no copy for arrays), with its dtype, rank and layout checked."""
    if not isinstance(x, np.ndarray):
        if isinstance(x, (list, tuple)) or np.isscalar(x):
            raise KernelTypeError(
                f"{name} must be a numpy array or a v3d_drm.DeviceArray, not "
                f"{type(x).__name__}; wrap it with numpy.asarray(..., dtype=...) first"
            )
        raise KernelTypeError(
            f"{name} must be a numpy array or a v3d_drm.DeviceArray, not {type(x).__name__}"
        )
    if dtypes is not None and x.dtype not in dtypes:
        names = ", ".join(str(np.dtype(d)) for d in dtypes)
        raise KernelTypeError(
            f"{name} has dtype {x.dtype}; expected one of: {names} "
            f"(convert with {name}.astype(...))"
        )
    if ndim is not None:
        ok = (ndim,) if isinstance(ndim, int) else ndim
        if x.ndim not in ok:
            want = " or ".join(f"{d}-D" for d in ok)
            raise KernelValueError(
                f"{name} must be {want}, got an array of shape {x.shape}"
            )
    if is_device_array(x) and not x.flags.c_contiguous:
        raise KernelValueError(
            f"{name} is a non-contiguous view of device memory (strides {x.strides}); "
            "pass a C-contiguous DeviceArray or a numpy array"
        )
    if not x.flags.aligned:
        raise KernelValueError(f"{name} is not aligned to its itemsize; copy it first")
    return x


@dataclass
class Staged:
    """Device arrays made for one call; closed when the call ends, whatever happens."""

    arrays: list[v3d_drm.DeviceArray] = field(default_factory=list)

    def new(self, dev: v3d_drm.Device, shape: Any, dtype: Any) -> v3d_drm.DeviceArray:
        arr = dev.array(shape, dtype)
        self.arrays.append(arr)
        return arr

    def device_copy(self, dev: v3d_drm.Device, x: np.ndarray) -> v3d_drm.DeviceArray:
        """`x` itself when it already lives in device memory, else a fresh device copy."""
        if is_device_array(x):
            return x
        arr = self.new(dev, x.shape, x.dtype)
        arr[...] = x
        return arr

    def close(self) -> None:
        while self.arrays:
            self.arrays.pop().close()


@contextlib.contextmanager
def staging() -> Iterator[Staged]:
    s = Staged()
    try:
        yield s
    finally:
        s.close()


def address_of(arr: v3d_drm.DeviceArray) -> int:
    """GPU address of element 0."""
    return int(arr.address)


# ------------------------------------------------------------------------------------------
# QPU program helpers (called inside @qpu functions)

_label_counter = 0


def fresh_label(stem: str) -> str:
    """A label name not used before in this process (macros are emitted more than once)."""
    global _label_counter
    _label_counter += 1
    return f"{stem}_{_label_counter}"


def qpu_number(dst: Any, tmp: Any) -> None:
    """`dst` = workgroup id X (bits 15:0 of payload rf0) = this batch's QPU number 0..7.

    Must run before anything writes rf0."""
    from vc6_isa.asm import rf0

    shl(tmp, rf0, -16)  # shift counts use the low 5 bits: -16 is 16 (reference 10.2)
    shr(dst, tmp, -16)


def end_program() -> None:
    """Thread end for a single-segment dispatch (reference 14 (b)): wait for TMU writes, then
    `thrsw` with two delay slots that write no register-file entry (13.5/26, 13.5/28)."""
    program_end(single_segment=True, wait_writes=True)


def branch_to(label: str, cond: str | None = None) -> None:
    """A branch followed by three `nop` delay slots."""
    if cond is None:
        b(getattr(R, label))
    else:
        b(getattr(R, label), cond=cond)
    nop()
    nop()
    nop()


def label(name: str) -> None:
    getattr(L, name)


def scalar_range(
    *,
    qpu: Any,
    lane: Any,
    n: Any,
    addrs: Sequence[Any],
    shift: int,
    regs: Sequence[Any],
    body: Any,
) -> None:
    """Loop over elements `0 .. n-1` of a range, 16 per lookup group, group g on QPU g % 8.

    `addrs` are registers holding the byte address of element 0 of each array walked (all
    with element size `1 << shift`); `n` a register with the element count (overwritten
    with the byte count); `regs` free register-file entries: an offset, a step and one
    per-lane address per array. For each group, `body(lane_addrs)` is emitted with flag A
    set exactly in the lanes whose element index is < n (the lanes a masked access must touch)
    and `lane_addrs` the per-lane element addresses. No lane outside the range touches memory,
    so any length and any element alignment work. The loop waits for each lookup (no
    prefetch): it only handles array edges and short arrays.
    """
    off, step, *lane_addrs = regs
    top, done = fresh_label("range_top"), fresh_label("range_done")
    # off = (16 * qpu + lane) << shift; lane address_k = addr_k + off
    shl(step, qpu, 4)
    add_(off, step, lane)
    shl(off, off, shift)
    shl(n, n, shift)
    for a, la in zip(addrs, lane_addrs):
        add_(la, a, off)
    # step = 128 elements (8 QPUs x 16 lanes) in bytes
    mov(step, 1)
    shl(step, step, 7 + shift)
    label(top)
    sub(null, off, n, cond="pushc")  # C: off < n as unsigned (borrow), reference 10.2
    b(getattr(R, done), cond="na0")  # lane 0 holds the smallest offset of the group
    nop()
    nop()
    nop()
    body(lane_addrs)
    b(getattr(R, top))
    add_(off, off, step)  # delay slots
    for la in lane_addrs:
        add_(la, la, step)
    for _ in range(2 - len(lane_addrs)):
        nop()
    label(done)
