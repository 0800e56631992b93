"""Measure the QPU clock from the cycle counter of a timed job, without root.

py-videocore6 reads the counter registers through /dev/mem (root only); here a DRM perfmon
counting `cycle-count` is attached to a job that spins in a counted loop (reference 5.6 A).
On hardware two loop lengths are timed and the clock is the difference of cycles over the
difference of wall time, which cancels submit/wait overheads. On the emulated device the
executor's modelled time is used instead and the result is labelled modelled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .counters import CYCLE_COUNT
from .errors import V3DError

if TYPE_CHECKING:
    from .device import Device

# The timed program. v3d-drm does not depend on vc6-isa, so the words are written out here, each
# with Mesa's V3D 4.2 disassembly. The loop count is the first uniform.
#   r0 = uniform; do { r0 -= 1 (push Z) } while (any lane has r0 != 0); then the standard
#   multi-segment program end (reference vc6-isa section 14 (a)).
CLOCK_LOOP_PROGRAM: tuple[int, ...] = (
    0x3C403186BB800000,  # nop ; nop ; ldunif              (r5 = loop count)
    0x3C003180B682D000,  # or r0, r5, r5 ; nop             (r0 = r5)
    0x3DE071803C838001,  # sub.pushz r0, r0, 1 ; nop       (loop: r0 -= 1, flag A = (r0 == 0))
    0x02FFFFDDFF001000,  # b.anyna -40                     (back to the sub: 5 instructions * 8 bytes)
    0x3C003186BB800000,  # nop ; nop                       (branch delay slot 1)
    0x3C003186BB800000,  # nop ; nop                       (branch delay slot 2)
    0x3C003186BB800000,  # nop ; nop                       (branch delay slot 3)
    0x3C203186BB800000,  # nop ; nop ; thrsw               (last-thread-switch marker, 1 of 2)
    0x3C203186BB800000,  # nop ; nop ; thrsw               (last-thread-switch marker, 2 of 2)
    0x3C003186BB800000,  # nop ; nop
    0x3C003186BB800000,  # nop ; nop
    0x3C203186BB800000,  # nop ; nop ; thrsw               (thread end)
    0x3C003186BB800000,  # nop ; nop                       (delay slot 1)
    0x3C003186BB800000,  # nop ; nop                       (delay slot 2, last instruction)
)


def clock_loop_instructions(n: int) -> int:
    """Instructions the program executes for `n` loop iterations (2 set-up, 5 per iteration, 7 end)."""
    return 2 + 5 * n + 7


EMULATED_ITERATIONS = 200
HARDWARE_ITERATIONS = 1 << 20  # ~20 cycles per iteration: ~42 ms at 500 MHz, 84 ms for twice as many


@dataclass(frozen=True)
class ClockMeasurement:
    """A QPU clock measurement.

    Attributes:
        mhz: The clock in MHz.
        modelled: True when it comes from the emulator's cycle model, not from a GPU.
        cycles: The counted cycles the figure is computed from.
        seconds: The time those cycles took (modelled on the emulator, wall time on a Pi).
    """

    mhz: float
    modelled: bool
    cycles: int
    seconds: float

    def __str__(self) -> str:
        label = "modelled (emulator cycle model)" if self.modelled else "measured"
        return f"{self.mhz:.1f} MHz, {label}: {self.cycles} cycles in {self.seconds * 1e3:.3f} ms"


def _timed_run(dev: Device, iterations: int) -> tuple[int, float, float | None]:
    """(cycles, wall seconds, modelled seconds) of one run of the loop."""
    with dev.perfmon([CYCLE_COUNT]) as pm:
        start = time.monotonic()
        job = dev.dispatch(
            np.array(CLOCK_LOOP_PROGRAM, dtype=np.uint64),
            np.array([iterations], dtype=np.uint32),
            perfmon=pm,
        )
        job.wait(timeout=10)
        cycles = next(iter(pm.values().values()))
        wall = time.monotonic() - start
    return cycles, wall, job.modelled_seconds


def gpu_clock_mhz(dev: Device, *, iterations: int | None = None) -> ClockMeasurement:
    """Measure the QPU clock, from the `cycle-count` counter over a timed loop (no root needed).

    On a Pi, two runs of different lengths are timed and their difference is used, so the
    fixed cost of a job cancels out. On the emulator the figure is the cycle model's.

    Args:
        dev: The device to measure.
        iterations: Loop iterations of the shorter run (default: enough for a stable figure).

    Returns:
        The measured (or modelled) clock.

    Raises:
        V3DError: The counts were inconsistent (try again), or the executor reported no timing.
    """
    if dev.info.backend == "emulated":
        n = iterations or EMULATED_ITERATIONS
        cycles, _, modelled_seconds = _timed_run(dev, n)
        if not modelled_seconds or not cycles:
            raise V3DError(
                f"executor {dev.info.executor!r} reported no modelled time or cycle count for the "
                "clock job, so the clock cannot be derived"
            )
        return ClockMeasurement(cycles / modelled_seconds / 1e6, True, cycles, modelled_seconds)
    n = iterations or HARDWARE_ITERATIONS
    short_cycles, short_wall, _ = _timed_run(dev, n)
    long_cycles, long_wall, _ = _timed_run(dev, 2 * n)
    cycles, seconds = long_cycles - short_cycles, long_wall - short_wall
    if cycles <= 0 or seconds <= 0:
        raise V3DError(f"clock measurement inconsistent: {cycles} cycles over {seconds:.6f} s; try again")
    return ClockMeasurement(cycles / seconds / 1e6, False, cycles, seconds)
