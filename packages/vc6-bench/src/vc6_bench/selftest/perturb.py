"""Deliberately wrong emulators, to test the selftest without a Pi (and to show its report).

Each is a `v3d_drm` executor: pass one to `v3d_drm.open(executor=...)`, or name a factory
below as `module:callable` in `vc6-bench selftest --fake-hardware` (or the environment variable
`VC6_SELFTEST_FAKE_HARDWARE`), and the selftest treats that emulated device as "the hardware".

* `FlipResultBit`: the emulator, except that after each job one bit of one word the job
  wrote is flipped, as a GPU that computes one result bit differently would show it.
* `slow_memory`: the emulator with a slower memory model (TMU latency up, bus bandwidth
  down), as a GPU whose memory is slower than the cycle model says would time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from vc6_isa.emulator import CycleModel, Executor

__all__ = ["FlipResultBit", "flip_bit", "slow_memory"]


class FlipResultBit:
    """Runs each job on `inner`, then flips bit `bit` of one 32-bit word the job changed.

    The word is the `pick`-th changed word in address order (negative counts from the end;
    None: the middle one). `flipped` lists `(GPU address, bit)` of every flip made.

    Args:
        inner: The executor that computes (default: the vc6-isa emulator).
        bit: Which bit to flip (0 = least significant).
        pick: Which changed word to flip.
    """

    def __init__(self, inner: Any = None, *, bit: int = 0, pick: int | None = None) -> None:
        self.inner = inner if inner is not None else Executor()
        self.name = f"{self.inner.name} + bit {bit} flipped (perturbed)"
        self.bit, self.pick = bit, pick
        self.flipped: list[tuple[int, int]] = []

    def run_csd(self, job: Any) -> Any:
        """Run one compute job on the inner executor, then flip the bit (the executor protocol).

        Args:
            job: The job, as `v3d_drm`'s emulated backend hands it over.

        Returns:
            The inner executor's result.
        """
        regions = [(base, _words(data)) for base, data in job.memory.regions()]
        before = [words.copy() for _, words in regions]
        result = self.inner.run_csd(job)
        changed = [base + 4 * int(i) for (base, words), old in zip(regions, before)
                   for i in np.flatnonzero(words != old)]
        if changed:
            address = changed[len(changed) // 2 if self.pick is None else self.pick]
            word = job.memory.view(address, 4).view(np.uint32)
            word[0] ^= np.uint32(1 << self.bit)
            self.flipped.append((address, self.bit))
        return result


def _words(data: np.ndarray) -> np.ndarray:
    return data[: data.size // 4 * 4].view(np.uint32)


def flip_bit() -> FlipResultBit:
    """The emulator with bit 0 of the middle stored word of each job flipped (`module:callable` form).

    Returns:
        The perturbed executor.
    """
    return FlipResultBit()


def slow_memory(factor: float = 1.5) -> Executor:
    """The emulator with every memory latency of its cycle model `factor` times longer and every
    memory bandwidth `factor` times lower (a zero-argument factory for `module:callable`).

    Parameters are found by name (`*latency*` and `*cycles_per_line*` grow, `*gbps*` and
    `*bytes_per_cycle*` shrink), so this follows the cycle model as it is recalibrated.

    Args:
        factor: How many times slower the memory is.

    Returns:
        The perturbed executor (its `name` says so).
    """
    model = CycleModel()
    changes = {}
    for spec in dataclasses.fields(model):
        value = getattr(model, spec.name)
        if "latency" in spec.name or "cycles_per_line" in spec.name:
            changes[spec.name] = type(value)(round(value * factor))
        elif "bytes_per_cycle" in spec.name or "gbps" in spec.name:
            changes[spec.name] = value / factor
    executor = Executor(cycle_model=dataclasses.replace(model, **changes))
    executor.name = f"vc6-isa emulator + memory {factor:g}x slower (perturbed)"
    return executor
