"""Run every hardware-behaviour program on the GPU and on the emulator, compare, time, report.

For each program (the cases of `vc6_isa.cases`, then the vc6-kernels routines at a small
and at the Pi-default size) with identical inputs on both devices:

1. Values: every buffer the program leaves is compared word for word (`compare`). Each
   differing word is listed with its buffer, index and lane, both values, the bits that differ,
   and the instruction behind it: the program is run once more on a tracing emulator
   (`provenance`), which names the store that wrote the word and the instruction that
   computed the stored value. The documented expectation (a case's `verify`, a routine's numpy
   reference) is checked on both sides too, so a report says which side agrees with it.
2. Timing (kernels): vc6-bench's method (`vc6_bench.method`): inputs staged once, outputs
   poisoned before every run, one warm-up run, then `repeat` timed runs with the perf counters
   attached; the median measured `compute-active-cycles` (the cycles the compute dispatcher was
   busy) is compared with the cycle model's, and the timing is flagged when they differ by more
   than `timing_tolerance`. Cases are timed too (their cycle counts are recorded, never flagged:
   a few hundred instructions are dominated by job start-up).

The result is one JSON-ready document (`run`); `render` prints it as text.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import v3d_drm
from vc6_isa.cases import CASES, Case
from vc6_isa.emulator import Executor

from .. import method
from ..platform import Platform, RealPlatform
from ..routines import ROUTINES, Problem, Routine
from .case_runs import run_case_program
from .defaults import (
    DEFAULT_MAX_LANES,
    DEFAULT_TIMING_TOLERANCE,
    DEFAULT_TRACE_LIMIT,
    FORMAT,
    SIZES,
)
from .devices import Devices
from .kernel_runs import run_kernel_program
from .ports import Port, find_ports, run_port

__all__ = ["FORMAT", "Options", "Program", "programs", "run"]



@dataclass(frozen=True)
class Program:
    """One program of the selftest: a case, a ported py-videocore6 test, or a routine at a size.

    Attributes:
        name: `"alu.float_ops"`, `"pyvc6.tmu.test_tmu_write"` or `"kernel.sgemm:small"`.
        case: The case (None otherwise).
        port: The ported test (None otherwise).
        routine: The routine (None otherwise).
        size: `"small"` or `"pi"` for a kernel.
        problem: The kernel's problem size.
    """

    name: str
    case: Case | None = None
    port: Port | None = None
    routine: Routine | None = None
    size: str | None = None
    problem: Problem | None = None


def programs(only: str | None = None, sizes: tuple[str, ...] = SIZES, ports: list[Port] | None = None) -> list[Program]:
    """The selftest's programs, in order: cases, ported tests, kernels.

    Args:
        only: Comma-separated name prefixes or globs to keep (`"alu.,kernel.*:small"`).
        sizes: Kernel sizes to include.
        ports: The ported py-videocore6 tests to include (`ports.find_ports`).

    Returns:
        The programs.

    Raises:
        ValueError: An unknown size.
    """
    found = [Program(name, case=case) for name, case in CASES.items()]
    found += [Program(port.name, port=port) for port in ports or ()]
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
    """A name matches a pattern it starts with, or a glob (`*`, `?`; brackets are literal)."""
    return name.startswith(pattern) or fnmatch.fnmatchcase(name, pattern.replace("[", "[[]"))


@dataclass
class Options:
    """How the selftest runs.

    Attributes:
        only: Comma-separated globs of program names to run (None: all).
        sizes: Kernel sizes: `"small"` (vc6-bench's warm-up size) and/or `"pi"` (its default).
        repeat: Timed runs per kernel on the hardware (None: vc6-bench's default for the device).
        timing_tolerance: Relative difference of measured and modelled cycles above which a
            kernel's timing is reported as differing.
        max_lanes: Differing words listed per program (all are counted).
        trace_limit: Thread-instructions above which a program's differences are not traced.
        ports: Directory of the ported py-videocore6 tests (None: `packages/vc6-isa/tests`
            under the current directory, if there); `""` leaves them out.
        progress: Called with a label as each step starts.
    """

    only: str | None = None
    sizes: tuple[str, ...] = SIZES
    repeat: int | None = None
    timing_tolerance: float = DEFAULT_TIMING_TOLERANCE
    max_lanes: int = DEFAULT_MAX_LANES
    trace_limit: int = DEFAULT_TRACE_LIMIT
    ports: str | None = None
    progress: Callable[[str], None] = field(default=lambda label: None)


# ---- the document ------------------------------------------------------------------------------


def run(hardware: Any, *, model: Executor | None = None, options: Options | None = None,
        platform: Platform | None = None) -> dict[str, Any]:
    """Compare `hardware` with the emulator on every selftest program; return the report.

    Args:
        hardware: The device under test: a `v3d_drm.Device` on a V3D render node (or, to test
            the selftest itself, an emulated device with a perturbed executor).
        model: The emulator executor to compare with (default: vc6-isa's, as installed).
        options: What to run and how.
        platform: vc6-bench's platform (clock, perf counters, versions, kernels).

    Returns:
        The report document (JSON-ready); see the docs page "Checking the emulator on your Pi".
    """
    options = options or Options()
    platform = platform or RealPlatform()
    ports, ports_note = select_ports(options.ports)
    if options.only and "pyvc6" not in options.only:
        ports_note = None  # the selection names no port: whether they were found does not matter
    selected = programs(options.only, options.sizes, ports)
    devices = Devices(hardware, model)
    try:
        options.progress("device identification and clocks")
        document = _header(platform, devices, options)
        clock = document["hardware"]["clock_mhz"]
        results = []
        for program in selected:
            options.progress(program.name)
            if program.case is not None:
                results.append(run_case_program(devices, program.case, options))
            elif program.port is not None:
                results.append(run_port(devices, program.port, options.max_lanes, options.trace_limit))
            else:
                results.append(run_kernel_program(platform, devices, program, options, clock))
    finally:
        devices.close()
    document["ports_note"] = ports_note
    document["programs"] = results
    document["ground_truth"] = [_ground_truth(r, document) for r in results if r.get("timing") and r["kind"] == "kernel"]
    document["summary"] = _summary(results)
    return document


def select_ports(directory: str | None) -> tuple[list[Port], str | None]:
    """The ported py-videocore6 tests `Options.ports` names, and why some are missing."""
    if directory == "":
        return [], "py-videocore6 ports left out (--ports '')"
    return find_ports(directory)


def _header(platform: Platform, devices: Devices, options: Options) -> dict[str, Any]:
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
    expectations = [r["name"] for r in results
                    if (r.get("expectation") or r.get("verification") or {}).get("sides_disagree")]
    return {
        "programs": len(results),
        "errors": failed,
        "values_differ": differing,
        "differing_words": sum(r["values"]["differing_words"] for r in results if r.get("values")),
        "timing_differs": slow,
        "expectation_differs": expectations,
        "agree": not (failed or differing or slow or expectations),
    }
