"""The three devices of a selftest: the device under test, the emulator it is compared with, and
(opened when a difference needs explaining) a tracing emulator with the same cycle model."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import v3d_drm
from vc6_isa.emulator import Executor

from ..platform import PERFMON_COUNTERS
from .provenance import ProvenanceExecutor

__all__ = ["Devices", "cycle_counter", "perfmon"]


class Devices:
    """The device under test, the emulator it is compared with, and (opened when first needed) a
    tracing emulator with the same cycle model."""

    def __init__(self, hardware: Any, model: Executor | None) -> None:
        self.hardware = hardware
        self.executor = model if model is not None else Executor()
        self.model = v3d_drm.open("emulator", executor=self.executor)
        self._tracer: ProvenanceExecutor | None = None
        self._traced: Any = None

    def traced(self) -> tuple[Any, ProvenanceExecutor]:
        """The tracing emulator device and its executor, with the origins of any earlier run cleared."""
        if self._traced is None:
            inner = Executor(cycle_model=getattr(self.executor, "cycle_model", None))
            self._tracer = ProvenanceExecutor(inner)
            self._traced = v3d_drm.open("emulator", executor=self._tracer)
        assert self._tracer is not None
        self._tracer.origins.clear()
        return self._traced, self._tracer

    def close(self) -> None:
        """Close the emulators this object opened (the device under test belongs to the caller)."""
        self.model.close()
        if self._traced is not None:
            self._traced.close()


@contextmanager
def perfmon(dev: Any) -> Iterator[Any]:
    """A perfmon over vc6-bench's counters, or None when the device has none."""
    if not dev.info.supports_perfmon:
        yield None
        return
    with dev.perfmon(list(PERFMON_COUNTERS)) as monitor:
        yield monitor


def cycle_counter(runs: list[dict[str, int]]) -> str:
    """The perf counter a job's duration is read from: `compute-active-cycles` counts only while
    the CSD is busy; `cycle-count` also counts from the job's end until the perfmon is read
    (the read stops it, uapi reference 5.6), so it is the fallback."""
    return "compute-active-cycles" if any("compute-active-cycles" in r for r in runs) else "cycle-count"
