"""The executor contract: what the emulated backend hands to whatever runs a compute job.

An executor is any object with `name: str` and `run_csd(job: CsdJob) -> CsdResult`. The
vc6-isa emulator is one; v3d-drm's tests use a tiny one. Executors are found through the entry
point group `v3d_drm.executors` (each entry point is a zero-argument callable returning an
executor) or passed directly to `v3d_drm.open(executor=...)`.

The emulated backend calls `run_csd` on its own worker thread, one job at a time in submission
order (the kernel runs one CSD job per queue). An executor that works in bounded slices should
look at `job.control` between them: stop (by raising anything) once `control.cancelled` is
set, and publish `control.progress`. One that never looks still works; its jobs then cannot be
stopped before they end, only abandoned. An optional `warm_up()` is called once per device,
in the thread of its first submit (for one-time work, such as compiling, that a wait's timeout
should not count).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import MMUFault

ENTRY_POINT_GROUP = "v3d_drm.executors"
#: Entry point names tried first, in this order, before any other installed executor.
PREFERRED_EXECUTORS = ("emulator",)


class GpuMemory:
    """The emulated GPU address space: every live buffer of the device, by GPU address.

    Executors read and write buffer memory through it; the arrays are views of the buffers'
    shared memory, so a write is what the user sees through the buffer's mapping.
    """

    def __init__(self, regions: list[tuple[int, np.ndarray]]) -> None:
        """Wrap the buffers of a job.

        Args:
            regions: `(GPU address, uint8 array over the whole buffer)` for every buffer.
        """
        self._regions = sorted(regions, key=lambda r: r[0])
        self._bases = [base for base, _ in self._regions]

    def regions(self) -> list[tuple[int, np.ndarray]]:
        """Every buffer of the address space.

        Returns:
            `(GPU address, writable uint8 array over the whole buffer)` pairs, sorted by address.
        """
        return list(self._regions)

    def view(self, address: int, nbytes: int) -> np.ndarray:
        """A writable byte view of a range of GPU addresses.

        Args:
            address: First GPU address.
            nbytes: Length in bytes.

        Returns:
            A uint8 array over `[address, address + nbytes)`.

        Raises:
            MMUFault: The range is not inside one buffer.
        """
        i = bisect.bisect_right(self._bases, address) - 1
        if i >= 0 and nbytes >= 0:
            base, data = self._regions[i]
            start = address - base
            if start + nbytes <= data.size:
                return data[start : start + nbytes]
        raise MMUFault(address, nbytes, nearest=self.nearest(address))

    def nearest(self, address: int) -> tuple[int, int] | None:
        """The buffer closest to an address, for error messages.

        Args:
            address: A GPU address.

        Returns:
            `(base address, size)` of the buffer containing `address`, else of the nearest one;
            `None` if there are no buffers.
        """
        if not self._regions:
            return None

        def distance(region: tuple[int, np.ndarray]) -> int:
            base, data = region
            if address < base:
                return base - address
            return max(0, address - (base + data.size - 1))

        base, data = min(self._regions, key=distance)
        return base, data.size


class JobControl:
    """What passes between the emulated backend and an executor while a job runs (thread-safe).

    Attributes:
        progress: set by the executor: the fraction of the job done, in [0, 1] (for the vc6-isa
            emulator, batches finished / batches), or None while unknown. Read by
            `Job.progress()` from any thread.
        reason: why the job was cancelled ("" until it is).
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self.reason = ""
        self.progress: float | None = None

    @property
    def cancelled(self) -> bool:
        """True once someone asked the job to stop."""
        return self._cancelled.is_set()

    def cancel(self, reason: str) -> None:
        """Ask the job to stop (from any thread); the first reason given is kept.

        Args:
            reason: Why the job is stopped.
        """
        if not self._cancelled.is_set():
            self.reason = reason
            self._cancelled.set()


@dataclass(frozen=True)
class CsdJob:
    """One compute job, as an executor receives it.

    Attributes:
        cfg: The seven CSD cfg words, exactly as submitted.
        coef: The four coefficient words.
        memory: The GPU address space at submit time.
        perfmon_counters: Counter indices of the attached perfmon; empty if none.
        options: The `executor_options` of the dispatch.
        description: The job's name for messages.
        control: Cancel requests in, progress out (see `JobControl`).
    """

    cfg: tuple[int, ...]  # the seven CSD cfg words exactly as submitted
    coef: tuple[int, ...]  # the four coef words
    memory: GpuMemory  # the emulated GPU address space at submit time
    perfmon_counters: tuple[int, ...]  # V3D 4.2 counter indices of the attached perfmon, () if none
    options: Mapping[str, object] = field(default_factory=dict)  # executor_options of the submit
    description: str = ""  # human-readable job description for messages
    control: JobControl = field(default_factory=JobControl)  # cancel requests in, progress out


@dataclass(frozen=True)
class CsdResult:
    """What an executor reports back for one job.

    Attributes:
        counters: Counter index to value (modelled), for the attached perfmon.
        stats: Anything the executor wants users to see as `job.stats`.
        modelled_seconds: The modelled GPU time of the job, if the executor models time.
    """

    counters: Mapping[int, int] = field(default_factory=dict)  # counter index -> value (modelled)
    stats: object | None = None  # exposed to users as Job.stats
    modelled_seconds: float | None = None  # modelled GPU time of the job


@runtime_checkable
class Executor(Protocol):
    """What runs compute jobs for the emulated device.

    An executor is found through the `v3d_drm.executors` entry point (the emulator in `vc6_isa`
    is one) or passed to `v3d_drm.open(executor=...)`.

    Attributes:
        name: The executor's name, shown in `DeviceInfo.executor`.
    """

    name: str

    def run_csd(self, job: CsdJob) -> CsdResult:
        """Run one job to completion.

        Args:
            job: The job: its cfg words, memory and options.

        Returns:
            Its counters, statistics and modelled time.

        Raises:
            V3DError: The program failed; `Job.wait` re-raises this error to the user.
        """
        ...


@dataclass(frozen=True)
class ExecutorSearch:
    """The outcome of looking for an installed executor: the executor, or why there is none."""

    executor: Executor | None
    tried: tuple[str, ...]  # one line per entry point tried, with the reason it failed


def find_executor(name: str | None = None) -> ExecutorSearch:
    """Load the first working executor from the `v3d_drm.executors` entry points.

    `name` restricts the search to one entry point. Loading errors (an entry point whose
    module does not import yet, a callable that raises) are recorded, not raised, so the caller
    can explain what was tried.
    """
    points = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
    if name is not None:
        points = [p for p in points if p.name == name]
    rank = {n: i for i, n in enumerate(PREFERRED_EXECUTORS)}
    points.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    tried = []
    for point in points:
        origin = f"entry point {point.name!r} = {point.value}"
        if point.dist is not None:
            origin += f" (from {point.dist.name})"
        try:
            executor = point.load()()
        except Exception as exc:  # noqa: BLE001 - any failure of third-party code is reported, not raised
            tried.append(f"{origin}: failed to load: {type(exc).__name__}: {exc}")
            continue
        if not isinstance(executor, Executor):
            tried.append(f"{origin}: returned {type(executor).__name__}, which has no name/run_csd")
            continue
        return ExecutorSearch(executor, tuple(tried))
    if not points:
        tried.append(
            f"no entry point in group {ENTRY_POINT_GROUP!r}"
            + (f" named {name!r}" if name is not None else "")
        )
    return ExecutorSearch(None, tuple(tried))
