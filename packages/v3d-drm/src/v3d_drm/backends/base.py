"""What a Device needs from a backend. Everything above this interface is backend-independent."""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class JobReport:
    """What the emulated backend knows about a finished job beyond its fence (None on hardware)."""

    stats: object | None
    modelled_seconds: float | None
    counters: Mapping[int, int]
    error: BaseException | None


class Backend(Protocol):
    kind: str  # "kernel" or "emulated"
    node: str  # device node path, or "emulator"
    executor_name: str | None
    closed: bool

    def ioctl(self, request: int, arg: ctypes.Structure) -> None:
        """Issue one ioctl; raise OSError with the kernel's errno on failure."""

    def mmap(self, length: int, offset: int) -> mmap.mmap:
        """Map `length` bytes of the device file at `offset` (an MMAP_BO offset), shared, RW."""

    def munmap(self, mapping: mmap.mmap) -> None:
        """Unmap (deferred to the last export if numpy arrays still use the mapping)."""

    def submit_csd(
        self, arg: ctypes.Structure, *, description: str, options: Mapping[str, object]
    ) -> None:
        """SUBMIT_CSD with what travels with this one job: its description and executor options
        (used by the emulated backend, ignored by the kernel). Safe to call from any thread."""

    def job_report(self, syncobj: int) -> JobReport | None:
        """The report of the completed job whose fence `syncobj` holds (emulated only)."""

    def job_progress(self, syncobj: int) -> float | None:
        """Fraction done of the job whose fence `syncobj` holds; None if unknown (kernel)."""

    def cancel_job(self, syncobj: int, reason: str) -> bool:
        """Ask the job whose fence `syncobj` holds to stop; False if it cannot be (kernel) or
        has already completed."""

    def close(self) -> None:
        """Close the device file; the kernel then releases every handle of it."""


def close_mapping(mapping: mmap.mmap) -> bool:
    """Close a mapping unless arrays still export it; True if it is unmapped now.

    When numpy arrays or memoryviews still use the memory, the mapping stays valid until the last
    of them is gone (the mmap object unmaps itself when freed), like a kernel mapping that outlives
    the GEM handle.
    """
    try:
        mapping.close()
    except BufferError:
        return False
    return True
