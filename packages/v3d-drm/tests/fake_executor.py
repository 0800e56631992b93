"""A tiny executor for v3d-drm's own tests: interprets nothing, so vc6-isa is not needed.

It records each job, optionally writes a 32-bit marker at ``options["marker_address"]`` through
GpuMemory (so an address outside every BO raises MMUFault, like the real emulator), raises
``options["raise"]`` if given, and models time from the clock-loop program's shape: the first
uniform is taken as the loop count, 4 cycles per instruction at ``clock_mhz``. With
``options["spin"]`` (seconds) it first works that long in 1 ms slices the way an interruptible
executor should: publishing ``job.control.progress`` and stopping once ``job.control`` is
cancelled. Its stats echo the job's options and description, so tests can see which job got what.
"""

from __future__ import annotations

import time

import numpy as np
from v3d_drm import CsdJob, CsdResult
from v3d_drm.clock import clock_loop_instructions
from v3d_drm.counters import CYCLE_COUNT

MARKER = 0x600DCAFE


class FakeExecutor:
    name = "fake"

    def __init__(self, clock_mhz: float = 500.0) -> None:
        self.clock_mhz = clock_mhz
        self.jobs: list[CsdJob] = []
        self.code_seen: list[np.ndarray] = []  # copies of what was at the code/uniform addresses,
        self.uniforms_seen: list[np.ndarray] = []  # taken while the job ran (staged BOs go after)

    def run_csd(self, job: CsdJob) -> CsdResult:
        self.jobs.append(job)
        self.code_seen.append(self._copy_to_bo_end(job, job.cfg[5] & ~7).view(np.uint64))
        self.uniforms_seen.append(self._copy_to_bo_end(job, job.cfg[6]).view(np.uint32))
        if "marker_address" in job.options:
            marker = np.array([job.options.get("marker", MARKER)], dtype=np.uint32)
            job.memory.view(int(job.options["marker_address"]), 4)[:] = marker.view(np.uint8)
        if "raise" in job.options:
            raise job.options["raise"]  # type: ignore[misc]
        self._spin(job, float(job.options.get("spin", 0)))  # type: ignore[arg-type]
        loop_count = int(job.memory.view(job.cfg[6], 4).view(np.uint32)[0])
        cycles = 4 * clock_loop_instructions(loop_count)
        counters = {i: (cycles if i == CYCLE_COUNT else 1000 + i) for i in job.perfmon_counters}
        return CsdResult(
            counters=counters,
            stats={"loop_count": loop_count, "cycles": cycles, "options": dict(job.options),
                   "description": job.description},
            modelled_seconds=cycles / (self.clock_mhz * 1e6),
        )

    @staticmethod
    def _spin(job: CsdJob, seconds: float) -> None:
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < seconds:
            if job.control.cancelled:
                raise RuntimeError("stopped")  # the backend reports JobCancelled
            job.control.progress = elapsed / seconds
            time.sleep(0.001)

    @staticmethod
    def _copy_to_bo_end(job: CsdJob, address: int) -> np.ndarray:
        base, size = job.memory.nearest(address)
        return job.memory.view(address, (base + size - address) & ~7).copy()


def make() -> FakeExecutor:
    """Zero-argument factory, usable as V3D_EXECUTOR=fake_executor:make."""
    return FakeExecutor()
