"""The measuring method, the same for every routine.

1. Build seeded inputs on the host and the reference result they must give (float64 where the
   routine rounds), once.
2. Stage the inputs into device arrays (timed, reported as staging, never as GPU time).
3. Warm up once (on the emulator, on a small problem: that is enough to compile its JIT).
4. Time `repeat` runs of the routine on the device-resident arrays; before each run the inputs are
   staged again and the outputs are filled with NaN, so a run that leaves stale data cannot pass.
   Every run is verified against the reference. On the emulator the GPU time is the cycle model's
   modelled time (deterministic); the emulator's own wall time is kept apart.
5. Time the dispatch overhead: submit + wait of an empty job.
6. Time numpy on this CPU doing the same work, in the same process, as the baseline.
Rates use the median run. Everything goes into one JSON-shaped dict (see tests/result.schema.json).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from vc6_isa.emulator.cycle_model import CALIBRATION_ERROR, calibration_program

from . import ceilings
from .platform import Platform
from .routines import Problem, Routine

__all__ = ["Settings", "bench_routine", "check", "failed_result", "spread"]

SEED = 0
EMULATOR_REPEAT = 1  # the modelled time is deterministic, and each emulated run is slow
HARDWARE_REPEAT = 5
MIN_OVERHEAD_RUNS = {True: 3, False: 20}  # empty jobs per measurement, emulated / hardware
REL_ERROR_DEFINITION = "max |result - reference| / max |reference| (normwise)"


@dataclass
class Settings:
    """How one routine is measured; `repeat` None means the backend's default."""

    repeat: int | None = None
    clock_mhz: float | None = None  # the device's QPU clock, to turn counted cycles into seconds
    progress: Callable[[str], None] = field(default=lambda label: None)
    watch: Callable[[list[Any]], None] = field(default=lambda jobs: None)  # the jobs of the run under way


def spread(values: list[float]) -> dict[str, float] | None:
    """min, median and max of `values` (None when there are none)."""
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "runs": len(values)}


def check(result: Any, reference: np.ndarray, tolerance: Any, exact: bool) -> dict[str, Any]:
    """Compare one result with its reference.

    Args:
        result: What the routine returned.
        reference: What it must equal (float64 where the routine is inexact).
        tolerance: The allowed error per element (an array or a number); ignored when `exact`.
        exact: Whether the result must match bit for bit.

    Returns:
        The verification record: whether it passed, the largest absolute and relative errors,
        and a message when it failed.
    """
    got = np.asarray(result)
    want = np.asarray(reference)
    if got.shape != want.shape:
        return _failed_check(exact, f"result has shape {got.shape}, expected {want.shape}")
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    diff = np.where(np.isnan(diff), np.inf, diff)
    max_abs = float(diff.max()) if diff.size else 0.0
    scale = float(np.abs(want).max()) if want.size else 0.0
    max_rel = max_abs / scale if scale > 0 else max_abs
    if exact:
        exact_match = bool(np.array_equal(got, want))
        passed, exact_match_field = exact_match, exact_match
        bound = np.zeros_like(diff)
    else:
        bound = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), diff.shape)
        passed, exact_match_field = bool(np.all(diff <= bound)), None
    message = None if passed else _worst(got, want, diff, bound, exact)
    return {
        "passed": passed,
        "exact_match": exact_match_field,
        "max_abs_error": max_abs,
        "max_rel_error": max_rel,
        "message": message,
    }


def _failed_check(exact: bool, message: str) -> dict[str, Any]:
    return {
        "passed": False,
        "exact_match": False if exact else None,
        "max_abs_error": float("inf"),
        "max_rel_error": float("inf"),
        "message": message,
    }


def _worst(got: np.ndarray, want: np.ndarray, diff: np.ndarray, bound: np.ndarray, exact: bool) -> str:
    excess = diff - bound
    index = np.unravel_index(int(np.argmax(excess)), diff.shape) if diff.ndim else ()
    wrong = int(np.count_nonzero(excess > 0))
    where = f" at {tuple(int(i) for i in index)}" if index else ""
    allowed = "exactly" if exact else f"within {float(bound[index]):.3g}"
    return (
        f"{wrong} of {diff.size} values wrong; worst{where}: got {got[index]!s}, "
        f"expected {want[index]!s} {allowed}"
    )


def _merge_checks(checks: list[dict[str, Any]]) -> dict[str, Any]:
    first_failure = next((c for c in checks if not c["passed"]), None)
    exact_values = [c["exact_match"] for c in checks if c["exact_match"] is not None]
    return {
        "passed": first_failure is None,
        "runs_checked": len(checks),
        "exact_match": all(exact_values) if exact_values else None,
        "max_abs_error": max(c["max_abs_error"] for c in checks),
        "max_rel_error": max(c["max_rel_error"] for c in checks),
        "message": first_failure["message"] if first_failure else None,
    }


# ---- one run on the device --------------------------------------------------------------------


class _Staged:
    """Device arrays for one problem: inputs staged from the host, outputs allocated; closed together."""

    def __init__(self, dev: Any, routine: Routine, problem: Problem, inputs: Mapping[str, np.ndarray]):
        self.dev, self.inputs, self.arrays = dev, inputs, {}
        try:
            for name, host in inputs.items():
                self.arrays[name] = dev.array(host.shape, host.dtype)
            for name, (shape, dtype) in routine.outputs(problem).items():
                self.arrays[name] = dev.array(shape, dtype)
            self.output_names = list(routine.outputs(problem))
        except BaseException:
            self.close()
            raise

    def refill(self) -> float:
        """Copy the inputs in again and poison the outputs with NaN; return the seconds the copy took."""
        start = time.perf_counter()
        for name, host in self.inputs.items():
            self.arrays[name][...] = host
        seconds = time.perf_counter() - start
        for name in self.output_names:
            self.arrays[name][...] = np.nan
        return seconds

    def close(self) -> None:
        for array in self.arrays.values():
            close = getattr(array, "close", None)
            if close is not None:
                close()
        self.arrays = {}


@dataclass
class _Run:
    wall_seconds: float
    readback_seconds: float
    jobs: list[Any]
    counters: dict[str, int]
    check: dict[str, Any]


def _run_once(platform: Platform, dev: Any, routine: Routine, problem: Problem, staged: _Staged,
              reference: np.ndarray, tolerance: Any, watch: Callable[[list[Any]], None]) -> _Run:
    kernels = platform.kernels()
    with kernels.record() as recording, platform.counting(dev) as counters:
        watch(recording.jobs)
        start = time.perf_counter()
        returned = routine.call(kernels, staged.arrays, problem, dev)
        wall = time.perf_counter() - start
    start = time.perf_counter()
    result = returned if returned is not None else staged.arrays[staged.output_names[0]]
    host_result = np.array(result, copy=True)
    readback = time.perf_counter() - start
    verdict = check(host_result, reference, tolerance, routine.exact)
    return _Run(wall, readback, list(recording.jobs), dict(counters), verdict)


def _work(routine: Routine, problem: Problem) -> dict[str, int]:
    """The routine's compulsory work: flops, bytes moved and the written part of them."""
    return {"flops": routine.flops(problem), "bytes": routine.bytes_moved(problem),
            "bytes_written": routine.bytes_written(problem)}


def profile_run(platform: Platform, dev: Any, routine: Routine, problem: Problem) -> list[Any]:
    """Run the routine once more on the emulator with profiling on (`executor_options={"profile":
    True}`), untimed.

    Args:
        platform: Access to the kernels.
        dev: The open (emulated) device.
        routine: The routine, from `ROUTINES`.
        problem: The problem size.

    Returns:
        The `Profile` of each job of the run, in dispatch order.
    """
    kernels = platform.kernels()
    inputs = routine.make_inputs(problem, np.random.default_rng(SEED))
    staged = _Staged(dev, routine, problem, inputs)
    try:
        staged.refill()
        with kernels.record(executor_options={"profile": True}) as recording:
            routine.call(kernels, staged.arrays, problem, dev)
        for job in recording.jobs:
            job.wait()
        return [job.profile for job in recording.jobs if job.profile is not None]
    finally:
        staged.close()


# ---- statistics of emulated jobs ---------------------------------------------------------------


def _job_totals(jobs: list[Any]) -> dict[str, Any] | None:
    """Sum the emulator stats of one run's jobs (None when no job carried stats, e.g. on hardware)."""
    stats = [job.stats for job in jobs if getattr(job, "stats", None) is not None]
    if not stats:
        return None
    cycles = sum(int(s.cycles) for s in stats)
    weights = [max(int(s.cycles), 1) for s in stats]
    return {
        "jobs": len(jobs),
        "modelled_seconds": sum(float(s.modelled_seconds) for s in stats),
        "modelled_cycles": cycles,
        "clock_mhz": float(stats[0].clock_mhz),
        "thread_instructions": sum(int(s.thread_instructions) for s in stats),
        "alu_utilisation": sum(float(s.alu_utilisation) * w for s, w in zip(stats, weights)) / sum(weights),
        "tmu_requests": sum(int(s.tmu_requests) for s in stats),
        "tmu_bytes": sum(int(s.tmu_bytes) for s in stats),
        "wall_seconds": sum(float(s.wall_seconds) for s in stats),
    }


# ---- rates -------------------------------------------------------------------------------------


def _rates(routine: Routine, problem: Problem, seconds: float | None, clock_mhz: float) -> dict[str, Any]:
    flops, nbytes = routine.flops(problem), routine.bytes_moved(problem)
    if not seconds or seconds <= 0:
        return {"gflops": None, "mb_per_s": None, "share_of_peak_flops": None, "share_of_peak_bandwidth": None}
    gflops = flops / seconds / 1e9
    bytes_per_s = nbytes / seconds
    return {
        "gflops": gflops if flops else None,
        "mb_per_s": bytes_per_s / 1e6,
        "share_of_peak_flops": (flops / seconds) / ceilings.peak_flops_at(clock_mhz) if "flops" in routine.ceilings else None,
        "share_of_peak_bandwidth": bytes_per_s / ceilings.PEAK_BYTES_PER_SECOND if "bandwidth" in routine.ceilings else None,
    }


# ---- the whole method for one routine ----------------------------------------------------------


def bench_routine(platform: Platform, dev: Any, routine: Routine, problem: Problem, settings: Settings) -> dict[str, Any]:
    """Measure one routine on one problem: warm up, time, verify, and compare with numpy.

    Args:
        platform: Access to the kernels and the clock (`RealPlatform` for the real ones).
        dev: The open device.
        routine: The routine to measure, from `ROUTINES`.
        problem: The problem size.
        settings: How many runs, the device's clock, and the progress callback.

    Returns:
        The result record, as `vc6-bench --json` prints it under `results` (GPU times labelled
        modelled on the emulator).
    """
    emulated = platform.is_emulated(dev)
    repeat = settings.repeat or (EMULATOR_REPEAT if emulated else HARDWARE_REPEAT)
    clock_mhz = ceilings.NOMINAL_CLOCK_MHZ

    settings.progress("inputs")
    inputs = routine.make_inputs(problem, np.random.default_rng(SEED))
    reference = routine.reference(inputs, problem)
    tolerance = None if routine.exact else routine.tolerance(inputs, problem, reference)

    warmup_problem = routine.warmup if emulated else problem
    checks, runs, staging = [], [], []
    settings.progress("warm-up")
    checks.append(_warm_up(platform, dev, routine, warmup_problem, problem, inputs, reference, tolerance,
                           settings.watch))
    if checks[-1]["passed"]:
        staged = _Staged(dev, routine, problem, inputs)
        try:
            for index in range(repeat):
                settings.progress(f"run {index + 1}/{repeat}")
                staging.append(staged.refill())
                run = _run_once(platform, dev, routine, problem, staged, reference, tolerance, settings.watch)
                runs.append(run)
                checks.append(run.check)
                if not run.check["passed"]:
                    break  # timing a wrong result any further tells nothing
        finally:
            staged.close()

    settings.progress("dispatch overhead")
    overhead = _dispatch_overhead(platform, dev, max(repeat, MIN_OVERHEAD_RUNS[emulated]))
    settings.progress("numpy baseline")
    baseline_seconds = _time_numpy(routine, problem, inputs, repeat)

    totals = [_job_totals(run.jobs) for run in runs]
    emulator = _emulator_section(totals, runs) if emulated else None
    if emulated and totals and totals[0] is not None:
        clock_mhz = totals[0]["clock_mhz"]
    if emulated:
        gpu_seconds = [t["modelled_seconds"] for t in totals if t is not None]
    else:
        gpu_seconds = [run.wall_seconds for run in runs]
    gpu = {
        "modelled": emulated,
        "calibration_error": CALIBRATION_ERROR if emulated else None,
        "timing": _timing_text(emulated),
        "seconds": spread(gpu_seconds),
        "jobs_per_run": len(runs[0].jobs) if runs else None,
        **_rates(routine, problem, statistics.median(gpu_seconds) if gpu_seconds else None, clock_mhz),
    }
    return {
        "routine": routine.name,
        "summary": routine.summary,
        "problem": {"label": problem.label, "dims": dict(problem.dims), "note": None},
        "method": _method_section(repeat, emulated, routine, warmup_problem, settings.repeat is None),
        "work": _work(routine, problem),
        "gpu": gpu,
        "emulator": emulator,
        "counters": _counters_section(runs, settings.clock_mhz or clock_mhz, emulated),
        "dispatch_overhead": overhead,
        "staging": {
            "to_device_seconds": spread(staging),
            "from_device_seconds": spread([run.readback_seconds for run in runs]),
        },
        "baseline": _baseline_section(routine, problem, baseline_seconds, gpu["seconds"], emulated),
        "py_videocore6": _py_videocore6_section(routine, problem, gpu["seconds"], emulated),
        "verification": {
            **_merge_checks(checks),
            "exact_expected": routine.exact,
            "tolerance": _tolerance_text(routine),
            "rel_error_definition": REL_ERROR_DEFINITION,
        },
    }


def _warm_up(platform: Platform, dev: Any, routine: Routine, warmup_problem: Problem, problem: Problem,
             inputs: Mapping[str, np.ndarray], reference: np.ndarray, tolerance: Any,
             watch: Callable[[list[Any]], None]) -> dict[str, Any]:
    """One verified run that is not timed; on a smaller problem when `warmup_problem` differs."""
    if warmup_problem != problem:
        inputs = routine.make_inputs(warmup_problem, np.random.default_rng(SEED + 1))
        reference = routine.reference(inputs, warmup_problem)
        tolerance = None if routine.exact else routine.tolerance(inputs, warmup_problem, reference)
    staged = _Staged(dev, routine, warmup_problem, inputs)
    try:
        staged.refill()
        return _run_once(platform, dev, routine, warmup_problem, staged, reference, tolerance, watch).check
    finally:
        staged.close()


def _dispatch_overhead(platform: Platform, dev: Any, runs: int) -> dict[str, Any]:
    walls, modelled = [], []
    platform.empty_job(dev)  # warm-up: first dispatch assembles the empty program
    for _ in range(runs):
        start = time.perf_counter()
        job = platform.empty_job(dev)
        walls.append(time.perf_counter() - start)
        stats = getattr(job, "stats", None)
        if stats is not None:
            modelled.append(float(stats.modelled_seconds))
    return {
        "what": "submit + wait of an empty compute job",
        "wall_seconds": spread(walls),
        "wall_is_emulator": bool(modelled),
        "modelled_seconds": statistics.median(modelled) if modelled else None,
    }


def _time_numpy(routine: Routine, problem: Problem, inputs: Mapping[str, np.ndarray], repeat: int) -> list[float]:
    routine.numpy(inputs, problem)  # warm-up
    times = []
    for _ in range(max(repeat, 3)):
        start = time.perf_counter()
        routine.numpy(inputs, problem)
        times.append(time.perf_counter() - start)
    return times


def _emulator_section(totals: list[dict[str, Any] | None], runs: list[_Run]) -> dict[str, Any] | None:
    known = [t for t in totals if t is not None]
    if not known:
        return None
    first = known[0]
    wall = [t["wall_seconds"] for t in known]
    median_wall = statistics.median(wall)
    return {
        "wall_seconds": spread(wall),
        "call_wall_seconds": spread([run.wall_seconds for run in runs]),
        "thread_instructions": first["thread_instructions"],
        "thread_instructions_per_second": first["thread_instructions"] / median_wall if median_wall > 0 else None,
        "modelled_cycles": first["modelled_cycles"],
        "modelled_clock_mhz": first["clock_mhz"],
        "alu_utilisation": first["alu_utilisation"],
        "tmu_requests": first["tmu_requests"],
        "tmu_bytes": first["tmu_bytes"],
    }


def _counters_section(runs: list[_Run], clock_mhz: float | None, emulated: bool) -> dict[str, Any] | None:
    """Median perfmon values over the timed runs, and the GPU-busy time they imply."""
    measured = [run.counters for run in runs if run.counters]
    if not measured:
        return None
    names = measured[0].keys()
    values = {name: int(statistics.median(c[name] for c in measured)) for name in names}
    active = values.get("compute-active-cycles")
    return {
        "source": "perfmon, modelled by the emulator's cycle model" if emulated else "perfmon (measured)",
        "modelled": emulated,
        "values": values,
        "compute_active_seconds": active / (clock_mhz * 1e6) if active is not None and clock_mhz else None,
    }


def _baseline_section(routine: Routine, problem: Problem, seconds: list[float], gpu: dict[str, float] | None,
                      emulated: bool) -> dict[str, Any]:
    median = statistics.median(seconds)
    rates = _rates(routine, problem, median, ceilings.NOMINAL_CLOCK_MHZ)
    speedup = median / gpu["median"] if gpu and gpu["median"] > 0 else None
    note = ("modelled Pi 4 GPU time vs numpy on this host's CPU, which is not a Pi 4 CPU" if emulated
            else "GPU wall time vs numpy on this host's CPU")
    return {
        "name": "numpy (float32, this host's CPU)",
        "seconds": spread(seconds),
        "gflops": rates["gflops"],
        "mb_per_s": rates["mb_per_s"],
        "speedup": speedup,
        "speedup_note": note,
    }


def _py_videocore6_section(routine: Routine, problem: Problem, gpu: dict[str, float] | None,
                           emulated: bool) -> dict[str, Any] | None:
    """py-videocore6's program for the same problem: its Pi 4 time and its time in the same cycle
    model, and how many times faster this routine is (modelled against modelled on the emulator,
    measured against measured on a Pi)."""
    if routine.py_videocore6 is None or routine.py_videocore6[1].dims != problem.dims:
        return None
    prog = calibration_program(routine.py_videocore6[0])
    theirs = prog.modelled_gpu_seconds if emulated else prog.measured_seconds
    return {
        "program": f"{prog.path}@{prog.commit} ({prog.name})",
        "measured_seconds": prog.measured_seconds,
        "modelled_seconds": prog.modelled_gpu_seconds,
        "speedup": theirs / gpu["median"] if gpu and gpu["median"] > 0 else None,
        "speedup_note": ("both modelled by the same calibrated cycle model" if emulated
                         else "this Pi's wall time vs py-videocore6's published Pi 4 wall time"),
    }


def _method_section(repeat: int, emulated: bool, routine: Routine, warmup_problem: Problem,
                    repeat_defaulted: bool) -> dict[str, Any]:
    if emulated and repeat_defaulted:
        repeat_note = (f"repeat lowered to {EMULATOR_REPEAT} on the emulator: the modelled time is "
                       "deterministic; pass --repeat N for more runs")
    else:
        repeat_note = None
    return {
        "warmup_runs": 1,
        "warmup_problem": warmup_problem.label,
        "repeat": repeat,
        "repeat_note": repeat_note,
        "timing": "modelled" if emulated else "wall",
        "rates_from": "median",
        "staging_excluded": True,
        "verified": "every run, against a numpy reference" + ("" if routine.exact else " in float64"),
        "outputs_poisoned": "outputs filled with NaN and inputs re-staged before every run",
        "seed": SEED,
    }


def _timing_text(emulated: bool) -> str:
    if emulated:
        return "modelled: the emulator's cycle model of a Pi 4 (sum of the jobs' modelled seconds)"
    return ("wall clock of the routine call on device-resident arrays (host wrapper + dispatch + wait, and "
            "the copy to numpy of the result that the routine returns)")


def _tolerance_text(routine: Routine) -> str:
    if routine.exact:
        return "exact"
    return routine.tolerance.__doc__.strip().splitlines()[0] if routine.tolerance.__doc__ else "bound"


def failed_result(routine: Routine, problem: Problem, repeat: int, emulated: bool, error: str) -> dict[str, Any]:
    """The result of a routine that raised instead of returning: nothing measured, verification failed."""
    return {
        "routine": routine.name,
        "summary": routine.summary,
        "problem": {"label": problem.label, "dims": dict(problem.dims), "note": None},
        "method": _method_section(repeat, emulated, routine, routine.warmup if emulated else problem, False),
        "work": _work(routine, problem),
        "error": error,
        "gpu": None,
        "emulator": None,
        "counters": None,
        "dispatch_overhead": None,
        "staging": None,
        "baseline": None,
        "py_videocore6": None,
        "verification": {
            **_failed_check(routine.exact, f"the routine raised {error}"),
            "runs_checked": 0,
            "exact_expected": routine.exact,
            "tolerance": _tolerance_text(routine),
            "rel_error_definition": REL_ERROR_DEFINITION,
        },
    }
