"""One vc6-kernels routine at one size on both devices, timed by vc6-bench's method: its entry in
the report."""

from __future__ import annotations

import statistics
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import method
from ..platform import Platform
from ..routines import Problem, Routine
from .compare import Comparison, as_words, differences
from .devices import Devices, cycle_counter
from .entry import both_sides, origins_at, values_entry
from .provenance import Origin

if TYPE_CHECKING:
    from .runner import Options, Program

__all__ = ["run_kernel_program", "run_routine"]


@dataclass
class _KernelSide:
    buffers: dict[str, np.ndarray]
    addresses: dict[str, int]
    walls: list[float]
    counters: list[dict[str, int]]
    jobs: list[Any]
    check: dict[str, Any]


def run_kernel_program(platform: Platform, devices: Devices, program: Program, options: Options,
                       clock_mhz: float | None) -> dict[str, Any]:
    """Run one routine at one size on both devices (timed on the device under test); its entry.

    Args:
        platform: vc6-bench's platform (the kernels, the perf counters).
        devices: The device under test and the emulators.
        program: The routine and its problem size.
        options: The selftest's options.
        clock_mhz: The clock of the device under test, to turn its cycles into seconds.

    Returns:
        The program's entry: values, verification against numpy on each side, timing.
    """
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
    hardware, emulated, error = both_sides(
        lambda: _kernel_side(platform, devices.hardware, routine, problem, inputs, reference, tolerance, repeat),
        lambda: _kernel_side(platform, devices.model, routine, problem, inputs, reference, tolerance, 1, warmup=False))
    if error is not None:
        return {**entry, "error": error, "values": None, "timing": None}
    comparison = differences(hardware.buffers, emulated.buffers, limit=options.max_lanes)
    origins, note = _kernel_origins(platform, devices, routine, problem, inputs, comparison, emulated, options)
    entry["values"] = values_entry(comparison, origins, note, {})
    entry["verification"] = {"hardware": hardware.check, "emulator": emulated.check,
                             "sides_disagree": hardware.check["passed"] != emulated.check["passed"],
                             "against": "numpy reference" + ("" if routine.exact else " in float64, within the routine's bound")}
    entry["timing"] = _kernel_timing(hardware, emulated, repeat, hardware_emulated, clock_mhz, options)
    entry["error"] = None
    return entry


def run_routine(platform: Platform, dev: Any, routine: Routine, problem: Problem) -> _KernelSide:
    """One run of `routine` on `dev` as the selftest's modelled side makes it: vc6-bench's
    seeded inputs, no warm-up; its buffers, jobs and verification against numpy."""
    inputs = routine.make_inputs(problem, np.random.default_rng(method.SEED))
    reference = routine.reference(inputs, problem)
    tolerance = None if routine.exact else routine.tolerance(inputs, problem, reference)
    return _kernel_side(platform, dev, routine, problem, inputs, reference, tolerance, 1, warmup=False)


def _kernel_side(platform: Platform, dev: Any, routine: Routine, problem: Problem, inputs: Mapping[str, np.ndarray],
                 reference: np.ndarray, tolerance: Any, repeat: int, warmup: bool = True) -> _KernelSide:
    """vc6-bench's method on one device: stage once, (warm up,) then `repeat` runs, each with the
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


def _kernel_origins(platform: Platform, devices: Devices, routine: Routine, problem: Problem,
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
    return origins_at(comparison.listed, addresses, tracer), None


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
    counter = cycle_counter(hardware.counters)
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


def _median_counters(runs: list[dict[str, int]]) -> dict[str, int]:
    runs = [r for r in runs if r]
    if not runs:
        return {}
    return {name: int(statistics.median(r[name] for r in runs)) for name in runs[0]}
