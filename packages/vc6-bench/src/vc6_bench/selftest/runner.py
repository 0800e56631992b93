"""Run every hardware-behaviour program on the GPU and on the emulator, compare, time, report.

For each program (the cases of :mod:`vc6_isa.cases`, then the vc6-kernels routines at a small
and at the Pi-default size) with identical inputs on both devices:

1. Values: every buffer the program leaves is compared word for word (:mod:`.compare`). Each
   differing word is listed with its buffer, index and lane, both values, the bits that differ,
   and the instruction behind it: the program is run once more on a tracing emulator
   (:mod:`.provenance`), which names the store that wrote the word and the instruction that
   computed the stored value. The documented expectation (a case's ``verify``, a routine's numpy
   reference) is checked on both sides too, so a report says which side agrees with it.
2. Timing (kernels): vc6-bench's method (:mod:`vc6_bench.method`): inputs staged once, outputs
   poisoned before every run, one warm-up run, then ``repeat`` timed runs with the perf counters
   attached; the median measured ``compute-active-cycles`` (the cycles the compute dispatcher was
   busy) is compared with the cycle model's, and the timing is flagged when they differ by more
   than ``timing_tolerance``. Cases are timed too (their cycle counts are recorded, never flagged:
   a few hundred instructions are dominated by job start-up).

The result is one JSON-ready document (:func:`run`); :mod:`.render` prints it as text.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import v3d_drm
from vc6_isa.cases import CASES, Case, run_case
from vc6_isa.emulator import Executor

from .. import method
from ..platform import PERFMON_COUNTERS, Platform, RealPlatform
from ..routines import ROUTINES, Problem, Routine
from .compare import Comparison, Difference, as_words, differences
from .defaults import (
    DEFAULT_MAX_LANES,
    DEFAULT_TIMING_TOLERANCE,
    DEFAULT_TRACE_LIMIT,
    FORMAT,
    SIZES,
)
from .provenance import Origin, ProvenanceExecutor

__all__ = ["FORMAT", "Options", "Program", "programs", "run"]



@dataclass(frozen=True)
class Program:
    """One program of the selftest: a case, or a routine at a size.

    Attributes:
        name: ``"alu.float_ops"`` or ``"kernel.sgemm:small"``.
        case: The case (None for a kernel).
        routine: The routine (None for a case).
        size: ``"small"`` or ``"pi"`` for a kernel.
        problem: The kernel's problem size.
    """

    name: str
    case: Case | None = None
    routine: Routine | None = None
    size: str | None = None
    problem: Problem | None = None


def programs(only: str | None = None, sizes: tuple[str, ...] = SIZES) -> list[Program]:
    """The selftest's programs, in order.

    Args:
        only: Comma-separated name prefixes or globs to keep (``"alu.,kernel.*:small"``).
        sizes: Kernel sizes to include.

    Returns:
        The programs.

    Raises:
        ValueError: An unknown size.
    """
    found = [Program(name, case=case) for name, case in CASES.items()]
    for size in sizes:
        if size not in SIZES:
            raise ValueError(f"unknown size {size!r}: use {' or '.join(SIZES)}")
    for routine in ROUTINES.values():
        for size in sizes:
            problem = routine.warmup if size == "small" else routine.default
            found.append(Program(f"kernel.{routine.name}:{size}", routine=routine, size=size, problem=problem))
    if only:
        patterns = [pattern.strip() for pattern in only.split(",") if pattern.strip()]
        found = [p for p in found if any(_matches(p.name, pattern) for pattern in patterns)]
    return found


def _matches(name: str, pattern: str) -> bool:
    """A name matches a pattern it starts with, or a glob (``*``, ``?``; brackets are literal)."""
    return name.startswith(pattern) or fnmatch.fnmatchcase(name, pattern.replace("[", "[[]"))


@dataclass
class Options:
    """How the selftest runs.

    Attributes:
        only: Comma-separated globs of program names to run (None: all).
        sizes: Kernel sizes: ``"small"`` (vc6-bench's warm-up size) and/or ``"pi"`` (its default).
        repeat: Timed runs per kernel on the hardware (None: vc6-bench's default for the device).
        timing_tolerance: Relative difference of measured and modelled cycles above which a
            kernel's timing is reported as differing.
        max_lanes: Differing words listed per program (all are counted).
        trace_limit: Thread-instructions above which a program's differences are not traced.
        progress: Called with a label as each step starts.
    """

    only: str | None = None
    sizes: tuple[str, ...] = SIZES
    repeat: int | None = None
    timing_tolerance: float = DEFAULT_TIMING_TOLERANCE
    max_lanes: int = DEFAULT_MAX_LANES
    trace_limit: int = DEFAULT_TRACE_LIMIT
    progress: Callable[[str], None] = field(default=lambda label: None)


# ---- devices -----------------------------------------------------------------------------------


class _Devices:
    """The device under test, the emulator it is compared with, and (opened when first needed) a
    tracing emulator with the same cycle model."""

    def __init__(self, hardware: Any, model: Executor | None) -> None:
        self.hardware = hardware
        self.executor = model if model is not None else Executor()
        self.model = v3d_drm.open("emulator", executor=self.executor)
        self._tracer: ProvenanceExecutor | None = None
        self._traced: Any = None

    def traced(self) -> tuple[Any, ProvenanceExecutor]:
        if self._traced is None:
            inner = Executor(cycle_model=getattr(self.executor, "cycle_model", None))
            self._tracer = ProvenanceExecutor(inner)
            self._traced = v3d_drm.open("emulator", executor=self._tracer)
        assert self._tracer is not None
        self._tracer.origins.clear()
        return self._traced, self._tracer

    def close(self) -> None:
        self.model.close()
        if self._traced is not None:
            self._traced.close()


@contextmanager
def _perfmon(dev: Any) -> Iterator[Any]:
    """A perfmon over vc6-bench's counters, or None when the device has none."""
    if not dev.info.supports_perfmon:
        yield None
        return
    with dev.perfmon(list(PERFMON_COUNTERS)) as perfmon:
        yield perfmon


# ---- the document ------------------------------------------------------------------------------


def run(hardware: Any, *, model: Executor | None = None, options: Options | None = None,
        platform: Platform | None = None) -> dict[str, Any]:
    """Compare ``hardware`` with the emulator on every selftest program; return the report.

    Args:
        hardware: The device under test: a ``v3d_drm.Device`` on a V3D render node (or, to test
            the selftest itself, an emulated device with a perturbed executor).
        model: The emulator executor to compare with (default: vc6-isa's, as installed).
        options: What to run and how.
        platform: vc6-bench's platform (clock, perf counters, versions, kernels).

    Returns:
        The report document (JSON-ready); see the docs page "Checking the emulator on your Pi".
    """
    options = options or Options()
    platform = platform or RealPlatform()
    selected = programs(options.only, options.sizes)
    devices = _Devices(hardware, model)
    try:
        document = _header(platform, devices, options)
        clock = document["hardware"]["clock_mhz"]
        results = []
        for program in selected:
            options.progress(program.name)
            if program.case is not None:
                results.append(_run_case(devices, program.case, options))
            else:
                results.append(_run_kernel(platform, devices, program, options, clock))
    finally:
        devices.close()
    document["programs"] = results
    document["ground_truth"] = [_ground_truth(r, document) for r in results if r.get("timing") and r["kind"] == "kernel"]
    document["summary"] = _summary(results)
    return document


def _header(platform: Platform, devices: _Devices, options: Options) -> dict[str, Any]:
    hardware = _device(platform, devices.hardware)
    model = _device(platform, devices.model)
    cycle_model = getattr(devices.executor, "cycle_model", None)
    model["cycle_model"] = dataclasses.asdict(cycle_model) if dataclasses.is_dataclass(cycle_model) else None
    return {
        "format": FORMAT,
        "tool": "vc6-bench selftest",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "hardware": hardware,
        "model": model,
        "versions": platform.versions(),
        "settings": {
            "only": options.only,
            "sizes": list(options.sizes),
            "repeat": options.repeat or (method.EMULATOR_REPEAT if hardware["emulated"] else method.HARDWARE_REPEAT),
            "warmup_runs": 1,
            "timing_tolerance": options.timing_tolerance,
            "max_lanes": options.max_lanes,
            "trace_limit": options.trace_limit,
            "seed": method.SEED,
        },
    }


def _device(platform: Platform, dev: Any) -> dict[str, Any]:
    info = platform.device_info(dev)
    info["emulated"] = platform.is_emulated(dev)
    info["version_full"] = dev.info.version_full
    info["supports_perfmon"] = bool(dev.info.supports_perfmon)
    info["idents"] = {_PARAM_NAMES.get(k, str(k)): f"{v:#010x}" for k, v in sorted(dev.info.params.items())}
    try:
        info["clock_mhz"], info["clock_modelled"] = platform.clock(dev)
    except Exception as error:  # noqa: BLE001 - the clock is reported, never needed: say why it is missing
        info["clock_mhz"], info["clock_modelled"] = None, info["emulated"]
        info["clock_error"] = f"{type(error).__name__}: {error}"
    return info


_PARAM_NAMES = {getattr(v3d_drm.uapi, name): name.removeprefix("DRM_V3D_PARAM_").lower()
                for name in dir(v3d_drm.uapi) if name.startswith("DRM_V3D_PARAM_")}


# ---- cases -------------------------------------------------------------------------------------


def _run_case(devices: _Devices, case: Case, options: Options) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": "case", "name": case.name, "summary": case.summary}
    program = case.program()
    try:
        hardware, hardware_counters = _case_side(devices.hardware, case, program)
        emulated, model_counters = _case_side(devices.model, case, program)
    except Exception as error:  # noqa: BLE001 - a program that fails on one side is a finding
        return {**entry, "error": f"{type(error).__name__}: {error}", "values": None, "timing": None}
    skip = {"out": dict(case.device_dependent)}
    comparison = differences(hardware.outputs, emulated.outputs, skip_rows=skip, limit=options.max_lanes)
    origins, note = _case_origins(devices, case, program, comparison, emulated.job, options)
    entry["values"] = _values(comparison, origins, note, skip)
    entry["expectation"] = {
        "hardware": _verdict(case, hardware.outputs, hardware.inputs),
        "emulator": _verdict(case, emulated.outputs, emulated.inputs),
    }
    entry["timing"] = _case_timing(hardware_counters, emulated.job, model_counters)
    entry["error"] = None
    return entry


def _case_side(dev: Any, case: Case, program: Any) -> tuple[Any, dict[str, int]]:
    with _perfmon(dev) as perfmon:
        result = run_case(dev, case, perfmon=perfmon, program=program)
        counters = dict(perfmon.values()) if perfmon is not None else {}
    return result, counters


def _case_origins(devices: _Devices, case: Case, program: Any, comparison: Comparison, job: Any,
                  options: Options) -> tuple[dict[tuple[str, int], Origin], str | None]:
    if not comparison.listed:
        return {}, None
    if _too_long(job, options):
        return {}, _not_traced(job, options)
    dev, tracer = devices.traced()
    traced = run_case(dev, case, program=program)
    return _origins_at(comparison.listed, traced.addresses, tracer), None


def _origins_at(listed: list[Difference], addresses: Mapping[str, int],
                tracer: ProvenanceExecutor) -> dict[tuple[str, int], Origin]:
    found = {}
    for diff in listed:
        base = addresses.get(diff.buffer)
        origin = tracer.origins.get(base + diff.nbytes * diff.flat // 4 * 4) if base is not None else None
        if origin is not None:
            found[(diff.buffer, diff.flat)] = origin
    return found


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
    measured = hardware_counters.get(_cycle_counter([dict(hardware_counters)]))
    modelled = int(model_job.stats.cycles) if getattr(model_job, "stats", None) is not None else model_counters.get("cycle-count")
    return {
        "measured_cycles": measured,
        "modelled_cycles": modelled,
        "ratio": measured / modelled if measured and modelled else None,
        "counters": {"measured": dict(hardware_counters), "modelled": dict(model_counters)},
        "flagged": False,
        "note": "recorded, not flagged: a program this short is dominated by job start-up",
    }


def _values(comparison: Comparison, origins: Mapping[tuple[str, int], Origin], note: str | None,
            skip: Mapping[str, Mapping[int, str]]) -> dict[str, Any]:
    return {
        "compared_words": comparison.compared,
        "differing_words": comparison.differing,
        "listed": len(comparison.listed),
        "skipped": {f"{name}[{row}]": why for name, rows in skip.items() for row, why in rows.items()},
        "provenance": note or ("traced on the emulator" if comparison.listed else None),
        "differences": [_lane(diff, origins.get((diff.buffer, diff.flat))) for diff in comparison.listed],
    }


def _lane(diff: Difference, origin: Origin | None) -> dict[str, Any]:
    width = 2 * diff.nbytes
    lane = origin.lane if origin is not None and origin.lane is not None else None
    if lane is None and len(diff.index) == 2 and diff.buffer == "out":
        lane = diff.index[1]  # a probe row: the column is the lane
    return {
        "buffer": diff.buffer,
        "index": list(diff.index),
        "lane": lane,
        "hardware": f"{diff.hardware:#0{width + 2}x}",
        "emulator": f"{diff.emulator:#0{width + 2}x}",
        "bits": f"{diff.bits:#0{width + 2}x}",
        "instruction": origin.produced_by.as_dict() if origin is not None and origin.produced_by is not None else None,
        "stored_by": origin.stored_by.as_dict() if origin is not None else None,
    }


# ---- kernels -----------------------------------------------------------------------------------


@dataclass
class _KernelSide:
    buffers: dict[str, np.ndarray]
    addresses: dict[str, int]
    walls: list[float]
    counters: list[dict[str, int]]
    jobs: list[Any]
    check: dict[str, Any]


def _run_kernel(platform: Platform, devices: _Devices, program: Program, options: Options,
                clock_mhz: float | None) -> dict[str, Any]:
    routine, problem = program.routine, program.problem
    assert routine is not None and problem is not None
    entry: dict[str, Any] = {
        "kind": "kernel", "name": program.name, "summary": routine.summary, "routine": routine.name,
        "size": program.size, "problem": {"label": problem.label, "dims": dict(problem.dims)},
    }
    inputs = routine.make_inputs(problem, np.random.default_rng(method.SEED))
    reference = routine.reference(inputs, problem)
    tolerance = None if routine.exact else routine.tolerance(inputs, problem, reference)
    hardware_emulated = platform.is_emulated(devices.hardware)
    repeat = options.repeat or (method.EMULATOR_REPEAT if hardware_emulated else method.HARDWARE_REPEAT)
    try:
        hardware = _kernel_side(platform, devices.hardware, routine, problem, inputs, reference, tolerance, repeat)
        emulated = _kernel_side(platform, devices.model, routine, problem, inputs, reference, tolerance, 1, warmup=False)
    except Exception as error:  # noqa: BLE001 - a program that fails on one side is a finding
        return {**entry, "error": f"{type(error).__name__}: {error}", "values": None, "timing": None}
    comparison = differences(hardware.buffers, emulated.buffers, limit=options.max_lanes)
    origins, note = _kernel_origins(platform, devices, routine, problem, inputs, comparison, emulated, options)
    entry["values"] = _values(comparison, origins, note, {})
    entry["verification"] = {"hardware": hardware.check, "emulator": emulated.check,
                             "against": "numpy reference" + ("" if routine.exact else " in float64, within the routine's bound")}
    entry["timing"] = _kernel_timing(hardware, emulated, repeat, hardware_emulated, clock_mhz, options)
    entry["error"] = None
    return entry


def _kernel_side(platform: Platform, dev: Any, routine: Routine, problem: Problem, inputs: Mapping[str, np.ndarray],
                 reference: np.ndarray, tolerance: Any, repeat: int, warmup: bool = True) -> _KernelSide:
    """vc6-bench's method on one device: stage once, (warm up,) then ``repeat`` runs, each with the
    inputs re-staged, the outputs poisoned and the perf counters attached; keeps the last result."""
    kernels = platform.kernels()
    staged = method._Staged(dev, routine, problem, inputs)
    try:
        for _ in range(1 if warmup else 0):
            staged.refill()
            routine.call(kernels, staged.arrays, problem, dev)
        walls, counters, jobs = [], [], []
        for _ in range(repeat):
            staged.refill()
            with kernels.record() as recording, platform.counting(dev) as values:
                start = time.perf_counter()
                returned = routine.call(kernels, staged.arrays, problem, dev)
                walls.append(time.perf_counter() - start)
            counters.append(dict(values))
            jobs = list(recording.jobs)
        buffers, addresses = _kernel_buffers(staged, returned)
        result = returned if returned is not None else staged.arrays[staged.output_names[0]]
        with np.errstate(invalid="ignore", over="ignore"):  # a wrong result may hold NaN or inf
            check = method.check(np.array(result, copy=True), reference, tolerance, routine.exact)
    finally:
        staged.close()
    return _KernelSide(buffers, addresses, walls, counters, jobs, check)


def _kernel_buffers(staged: Any, returned: Any) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The routine's output arrays (they have GPU addresses), else the value it returned."""
    if staged.output_names:
        names = staged.output_names
        return ({name: np.array(staged.arrays[name], copy=True) for name in names},
                {name: int(staged.arrays[name].address) for name in names})
    return {"result": np.array(returned, copy=True)}, {}


def _kernel_origins(platform: Platform, devices: _Devices, routine: Routine, problem: Problem,
                    inputs: Mapping[str, np.ndarray], comparison: Comparison, emulated: _KernelSide,
                    options: Options) -> tuple[dict[tuple[str, int], Origin], str | None]:
    if not comparison.listed:
        return {}, None
    instructions = sum(int(job.stats.thread_instructions) for job in emulated.jobs if job.stats is not None)
    if instructions > options.trace_limit:
        return {}, (f"not traced: the program runs {instructions} thread-instructions, over the trace limit "
                    f"{options.trace_limit} (--trace-limit); the small size of the same kernel is traced")
    dev, tracer = devices.traced()
    addresses = _traced_kernel(platform, dev, routine, problem, inputs)
    if "result" in emulated.buffers:  # a copy of a buffer the routine allocated: find it by its contents
        base = tracer.locate(as_words(emulated.buffers["result"]))
        if base is None:
            return {}, ("not traced: the routine computes its result on the host from the GPU's buffers, "
                        "so no GPU word holds the compared value")
        addresses = {"result": base}
    return _origins_at(comparison.listed, addresses, tracer), None


def _traced_kernel(platform: Platform, dev: Any, routine: Routine, problem: Problem,
                   inputs: Mapping[str, np.ndarray]) -> dict[str, int]:
    """Run the routine once on the tracing emulator; return its output arrays' GPU addresses."""
    staged = method._Staged(dev, routine, problem, inputs)
    try:
        staged.refill()
        routine.call(platform.kernels(), staged.arrays, problem, dev)
        return {name: int(staged.arrays[name].address) for name in staged.output_names}
    finally:
        staged.close()


def _kernel_timing(hardware: _KernelSide, emulated: _KernelSide, repeat: int, hardware_emulated: bool,
                   clock_mhz: float | None, options: Options) -> dict[str, Any]:
    stats = [job.stats for job in emulated.jobs if getattr(job, "stats", None) is not None]
    modelled_cycles = sum(int(s.cycles) for s in stats) if stats else None
    modelled_seconds = sum(float(s.modelled_seconds) for s in stats) if stats else None
    counter = _cycle_counter(hardware.counters)
    cycles = [c[counter] for c in hardware.counters if counter in c]
    measured_cycles = statistics.median(cycles) if cycles else None
    wall = statistics.median(hardware.walls) if hardware.walls else None
    measured_seconds = measured_cycles / (clock_mhz * 1e6) if measured_cycles and clock_mhz else None
    if measured_cycles and modelled_cycles:
        ratio, basis = measured_cycles / modelled_cycles, "cycles"
    elif wall and modelled_seconds:
        ratio, basis = wall / modelled_seconds, "wall"
    else:
        ratio, basis = None, None
    medians = _median_counters(hardware.counters)
    model_counters = emulated.counters[-1] if emulated.counters else {}
    return {
        "repeat": repeat,
        "warmup_runs": 1,
        "measured": {
            "source": "emulated device under test (perf counters modelled by its executor)" if hardware_emulated
                      else "perf counters and wall clock of the GPU",
            "cycles": method.spread([float(c) for c in cycles]),
            "cycles_counter": counter if cycles else None,
            "seconds": measured_seconds,
            "clock_mhz": clock_mhz,
            "wall_seconds": method.spread(hardware.walls),
            "wall_note": "wall clock of the routine call: host wrapper, dispatch, wait, result copy",
            "counters": medians,
        },
        "modelled": {
            "cycles": modelled_cycles,
            "seconds": modelled_seconds,
            "clock_mhz": float(stats[0].clock_mhz) if stats else None,
            "thread_instructions": sum(int(s.thread_instructions) for s in stats) if stats else None,
            "counters": model_counters,
        },
        "ratio": ratio,
        "ratio_basis": basis,
        "wall_ratio": wall / modelled_seconds if wall and modelled_seconds else None,
        "counter_ratios": {name: medians[name] / model_counters[name] for name in medians
                           if model_counters.get(name)},
        "tolerance": options.timing_tolerance,
        "flagged": ratio is not None and abs(ratio - 1) > options.timing_tolerance,
    }


def _cycle_counter(runs: list[dict[str, int]]) -> str:
    """The perf counter a job's duration is read from: ``compute-active-cycles`` counts only while
    the CSD is busy; ``cycle-count`` also counts from the job's end until the perfmon is read
    (the read stops it, uapi reference 5.6), so it is the fallback."""
    return "compute-active-cycles" if any("compute-active-cycles" in r for r in runs) else "cycle-count"


def _median_counters(runs: list[dict[str, int]]) -> dict[str, int]:
    runs = [r for r in runs if r]
    if not runs:
        return {}
    return {name: int(statistics.median(r[name] for r in runs)) for name in runs[0]}


def _ground_truth(entry: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    """One measured kernel time in the form benchmarks/calibrate.py accepts as extra ground truth."""
    timing = entry["timing"]
    hardware = document["hardware"]
    return {
        "program": f"vc6_kernels.{entry['routine']}",
        "problem": entry["problem"],
        "from_hardware": not hardware["emulated"],
        "clock_mhz": timing["measured"]["clock_mhz"],
        "measured_cycles": (timing["measured"]["cycles"] or {}).get("median"),
        "measured_seconds": timing["measured"]["seconds"],
        "wall_seconds": (timing["measured"]["wall_seconds"] or {}).get("median"),
        "counters": timing["measured"]["counters"],
        "modelled_cycles": timing["modelled"]["cycles"],
        "modelled_seconds": timing["modelled"]["seconds"],
        "values_match": entry["values"]["differing_words"] == 0,
    }


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    failed = [r["name"] for r in results if r.get("error")]
    differing = [r["name"] for r in results if r.get("values") and r["values"]["differing_words"]]
    slow = [r["name"] for r in results if r.get("timing") and r["timing"].get("flagged")]
    return {
        "programs": len(results),
        "errors": failed,
        "values_differ": differing,
        "differing_words": sum(r["values"]["differing_words"] for r in results if r.get("values")),
        "timing_differs": slow,
        "agree": not (failed or differing or slow),
    }
