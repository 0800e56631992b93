"""One hardware-behaviour case on both devices: its entry in the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from vc6_isa.cases import Case, run_case

from .compare import Comparison, differences
from .devices import Devices, cycle_counter, perfmon
from .entry import both_sides, origins_at, values_entry
from .provenance import Origin

if TYPE_CHECKING:
    from .runner import Options

__all__ = ["run_case_program"]


def run_case_program(devices: Devices, case: Case, options: Options) -> dict[str, Any]:
    """Run one case on both devices; its entry: values, the documented expectation, cycle counts."""
    entry: dict[str, Any] = {"kind": "case", "name": case.name, "summary": case.summary}
    program = case.program()
    gpu, model, error = both_sides(lambda: _case_side(devices.hardware, case, program),
                                   lambda: _case_side(devices.model, case, program))
    if error is not None:
        return {**entry, "error": error, "values": None, "timing": None}
    (hardware, hardware_counters), (emulated, model_counters) = gpu, model
    skip = {"out": dict(case.device_dependent)}
    comparison = differences(hardware.outputs, emulated.outputs, skip_rows=skip, limit=options.max_lanes)
    origins, note = _case_origins(devices, case, program, comparison, emulated.job, options)
    entry["values"] = values_entry(comparison, origins, note, skip)
    hardware_verdict = _verdict(case, hardware.outputs, hardware.inputs)
    emulator_verdict = _verdict(case, emulated.outputs, emulated.inputs)
    entry["expectation"] = {
        "hardware": hardware_verdict,
        "emulator": emulator_verdict,
        # e.g. the rows left out of the comparison (tidx) break an invariant on one side only
        "sides_disagree": (hardware_verdict == "passed") != (emulator_verdict == "passed"),
    }
    entry["timing"] = _case_timing(hardware_counters, emulated.job, model_counters)
    entry["error"] = None
    return entry


def _case_side(dev: Any, case: Case, program: Any) -> tuple[Any, dict[str, int]]:
    with perfmon(dev) as monitor:
        result = run_case(dev, case, perfmon=monitor, program=program)
        counters = dict(monitor.values()) if monitor is not None else {}
    return result, counters


def _case_origins(devices: Devices, case: Case, program: Any, comparison: Comparison, job: Any,
                  options: Options) -> tuple[dict[tuple[str, int], Origin], str | None]:
    if not comparison.listed:
        return {}, None
    if _too_long(job, options):
        return {}, _not_traced(job, options)
    dev, tracer = devices.traced()
    traced = run_case(dev, case, program=program)
    return origins_at(comparison.listed, traced.addresses, tracer), None


def _too_long(job: Any, options: Options) -> bool:
    stats = getattr(job, "stats", None)
    return stats is not None and int(stats.thread_instructions) > options.trace_limit


def _not_traced(job: Any, options: Options) -> str:
    return (f"not traced: the program runs {int(job.stats.thread_instructions)} thread-instructions, over the "
            f"trace limit {options.trace_limit} (--trace-limit); the small size of the same kernel is traced")


def _verdict(case: Case, outputs: Mapping[str, np.ndarray], inputs: Mapping[str, np.ndarray]) -> str | None:
    if case.verify is None:
        return None
    try:
        case.verify(outputs, inputs)
    except AssertionError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        return "FAILED: " + ("; ".join(lines[:6]) if lines else "assertion failed")
    return "passed"


def _case_timing(hardware_counters: Mapping[str, int], model_job: Any, model_counters: Mapping[str, int]) -> dict[str, Any]:
    measured = hardware_counters.get(cycle_counter([dict(hardware_counters)]))
    modelled = int(model_job.stats.cycles) if getattr(model_job, "stats", None) is not None else model_counters.get("cycle-count")
    return {
        "measured_cycles": measured,
        "modelled_cycles": modelled,
        "ratio": measured / modelled if measured and modelled else None,
        "counters": {"measured": dict(hardware_counters), "modelled": dict(model_counters)},
        "flagged": False,
        "note": "recorded, not flagged: a program this short is dominated by job start-up",
    }
