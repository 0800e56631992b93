"""Read selftest reports as ground truth for the cycle model's calibration.

Each report's `ground_truth` list holds one measured kernel time per timed program. For the
calibration only entries measured on a GPU (`from_hardware`) whose values matched the emulator
(the GPU ran the same computation) count; `load_ground_truth` keeps exactly those.

    from vc6_bench.selftest.truth import load_ground_truth
    for truth in load_ground_truth(["pi4-a.json", "pi4-b.json"]):
        print(truth.program, truth.problem["dims"], truth.measured_cycles, truth.modelled_cycles)
        print("today's model:", model_cycles(truth))

`model_cycles` runs an entry's program again (the same routine, problem size and seeded
inputs as the selftest's kernel run) on an emulator with a given cycle model, so a changed model
can be checked against every report ever made (`benchmarks/calibrate.py --report`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .defaults import FORMAT

if TYPE_CHECKING:
    from vc6_isa.emulator import CycleModel

__all__ = ["GroundTruth", "ReportError", "load_ground_truth", "model_cycles"]


class ReportError(ValueError):
    """A file that is not a selftest report of a format this code reads."""


@dataclass(frozen=True)
class GroundTruth:
    """One kernel time measured on a Pi 4's GPU.

    Attributes:
        program: `"vc6_kernels.sgemm"` and so on.
        problem: `{"label": ..., "dims": {...}}` as vc6-bench names the size.
        clock_mhz: The QPU clock measured on that Pi.
        measured_cycles: Median busy cycles of the job(s) (perf counter `cycles_counter`).
        cycles_counter: `"compute-active-cycles"` (or `"cycle-count"` where absent).
        measured_seconds: `measured_cycles` at `clock_mhz`.
        wall_seconds: Median wall time of the routine call (host work included).
        counters: Median value of every perf counter read.
        modelled_cycles: What the cycle model of that report's version predicted.
        source: The report's path, and the device that ran it.
        from_hardware: False for a report whose "hardware" was an emulated device (kept only by
            `load_ground_truth(..., include_emulated=True)`, to test the calibration's plumbing).
    """

    program: str
    problem: dict[str, Any]
    clock_mhz: float | None
    measured_cycles: float
    cycles_counter: str | None
    measured_seconds: float | None
    wall_seconds: float | None
    counters: dict[str, int]
    modelled_cycles: int | None
    source: str
    from_hardware: bool = True


def load_ground_truth(paths: Iterable[str | Path], include_emulated: bool = False) -> list[GroundTruth]:
    """The usable ground truth of every report in `paths`.

    Args:
        paths: Selftest JSON reports.
        include_emulated: Also keep entries "measured" on an emulated device under test
            (`vc6-bench selftest --fake-hardware`): never evidence about a Pi, but they exercise
            the calibration's code without one.

    Returns:
        Entries measured on a GPU (or, with `include_emulated`, on any device under test) whose
        values matched the emulator, in file order.

    Raises:
        ReportError: A file that is not a selftest report of format `vc6-bench-selftest/1`.
    """
    found = []
    for path in paths:
        document = _read(Path(path))
        device = document["hardware"]
        source = f"{path} ({device.get('node')}, V3D {device.get('version_full')})"
        timings = {(p.get("routine"), (p.get("problem") or {}).get("label")): p.get("timing")
                   for p in document["programs"] if p.get("kind") == "kernel"}
        for entry in document["ground_truth"]:
            if not ((entry["from_hardware"] or include_emulated) and entry["values_match"] and entry["measured_cycles"]):
                continue
            timing = timings.get((entry["program"].split(".")[-1], entry["problem"]["label"])) or {}
            found.append(GroundTruth(
                program=entry["program"], problem=entry["problem"], clock_mhz=entry["clock_mhz"],
                measured_cycles=float(entry["measured_cycles"]),
                cycles_counter=(timing.get("measured") or {}).get("cycles_counter"),
                measured_seconds=entry["measured_seconds"], wall_seconds=entry["wall_seconds"],
                counters=dict(entry["counters"]), modelled_cycles=entry["modelled_cycles"], source=source,
                from_hardware=bool(entry["from_hardware"]),
            ))
    return found


def model_cycles(truth: GroundTruth, model: CycleModel | None = None) -> int:
    """The cycles `model` gives the program of `truth`, run as the selftest runs its kernels.

    The routine, the problem size and the seeded inputs are the selftest's (one run on a fresh
    emulator, no warm-up, as its modelled side); the result is verified against numpy first.

    Args:
        truth: An entry of `load_ground_truth`.
        model: The cycle model (default: today's, `CycleModel()`).

    Returns:
        The modelled cycles of the run's jobs, summed.

    Raises:
        ReportError: The entry names a routine or problem this version does not have.
        AssertionError: The emulated run computed a wrong result.
    """
    import v3d_drm
    from vc6_isa.emulator import CycleModel, Executor

    from ..platform import RealPlatform
    from ..routines import ROUTINES, Problem
    from .kernel_runs import run_routine

    routine = ROUTINES.get(truth.program.removeprefix("vc6_kernels."))
    dims = truth.problem.get("dims")
    if routine is None or not isinstance(dims, dict):
        raise ReportError(f"{truth.source}: {truth.program} {truth.problem.get('label')}: no such routine or "
                          f"problem in this version (routines: {', '.join(ROUTINES)})")
    problem = Problem(dims={k: int(v) for k, v in dims.items()}, label=str(truth.problem.get("label")))
    with v3d_drm.open("emulator", executor=Executor(cycle_model=model or CycleModel())) as dev:
        side = run_routine(RealPlatform(), dev, routine, problem)
    if not side.check["passed"]:
        raise AssertionError(f"{truth.program} {problem.label} computed a wrong result on the emulator: "
                             f"{side.check.get('message')}")
    return sum(int(job.stats.cycles) for job in side.jobs)


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: cannot read a selftest report: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        got = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ReportError(f"{path}: format {got!r} is not {FORMAT!r}: make the report with `vc6-bench selftest` "
                          "of a matching version")
    return document
